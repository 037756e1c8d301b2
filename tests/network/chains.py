"""Small repeater chains built from explicit numbers, for the network layer's tests."""

import math

import networkx as nx

from qstack.engine import Simulation
from qstack.hardware import Detector, Emitter, Fiber, Memory, PairSource
from qstack.network import Network
from qstack.physical import HeraldedLink, NodeHardware


def chain(n_links, seed=1, scheme="double_click", capacity=2, source_fidelity=None, emission_probability=0.3,
          memory=None, **network_kwargs):
    """``n_links`` links of 10 km between nodes ``n0..nk``: Barrett-Kok with emitters, or a
    midpoint pair source of fidelity ``source_fidelity``; perfect memories by default."""
    memory = memory or Memory(t1_s=math.inf, t2_s=math.inf, capacity=capacity)
    if source_fidelity is None:
        node = NodeHardware(memory=memory, emitter=Emitter(emission_time_s=5e-6, emission_probability=emission_probability))
        kw = {}
    else:
        node = NodeHardware(memory=memory)
        kw = {"pair_source": PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=source_fidelity)}
        scheme = "midpoint_source"
    half = Fiber(5.0)
    graph = nx.Graph()
    names = [f"n{i}" for i in range(n_links + 1)]
    for name in names:
        graph.add_node(name, hardware=node)
    for a, b in zip(names, names[1:]):
        graph.add_edge(a, b, link=HeraldedLink(node, node, half, half, Detector(), scheme=scheme, **kw))
    sim = Simulation(seed)
    return sim, Network(sim, graph, **network_kwargs), names


def werner(f):
    """Bell-diagonal (Phi+, Psi-, Psi+, Phi-) weights of the Werner state of fidelity ``f``."""
    return (f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3)


def dejmps(first, second):
    """DEJMPS on Bell-diagonal (A, B, C, D) = (Phi+, Psi-, Psi+, Phi-) coefficients."""
    a1, b1, c1, d1 = first
    a2, b2, c2, d2 = second
    n = (a1 + b1) * (a2 + b2) + (c1 + d1) * (c2 + d2)
    return (a1 * a2 + b1 * b2) / n, (c1 * d2 + d1 * c2) / n, (c1 * c2 + d1 * d2) / n, (a1 * b2 + b1 * a2) / n
