"""A run captured for a page: its report, its recorded events and a view of its topology."""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from qstack.build import build_network, resolve_devices
from qstack.engine import Simulation
from qstack.engine.trace import Recorder
from qstack.physics.states import bell_fidelity, mean_heralded_state
from qstack.report import Report
from qstack.runner import run_scenario, scenario_requests
from qstack.scenario import Scenario


@dataclass(frozen=True)
class NodeView:
    """A node as drawn: its hardware preset, position and resources."""

    name: str
    hardware: str
    x: float
    y: float
    slots: int
    communication_qubits: int


@dataclass(frozen=True)
class LinkView:
    """A link as drawn: ends, length [km], per-attempt success, the model's mean heralded
    fidelity and the run's rate of stored pairs [1/s]."""

    name: str
    u: str
    v: str
    length_km: float | None
    p_attempt: float
    heralded_fidelity: float
    rate_hz: float


@dataclass(frozen=True)
class TopologyView:
    nodes: tuple[NodeView, ...]
    links: tuple[LinkView, ...]
    routes: dict = field(default_factory=dict)  # request label -> tuple of node names
    min_fidelity: dict = field(default_factory=dict)  # request label -> its min_fidelity

    def position(self, node: str) -> tuple[float, float]:
        for view in self.nodes:
            if view.name == node:
                return view.x, view.y
        raise KeyError(node)


@dataclass(frozen=True)
class RunCapture:
    """One run for a page: the scenario, its report, its events and its topology.

    ``settings``: the ``--set`` overrides given on the command line (already in ``scenario``).
    """

    scenario: Scenario
    report: Report
    recorder: Recorder
    topology: TopologyView
    settings: dict = field(default_factory=dict)
    label: str = "run"


def capture_run(scenario: Scenario, settings: dict | None = None, label: str = "run",
                recorder: Recorder | None = None) -> RunCapture:
    """Run ``scenario`` with a recorder and describe its topology (from a network built apart,
    in its own simulation, never run: the run itself is untouched)."""
    recorder = Recorder() if recorder is None else recorder
    report = run_scenario(scenario, recorder)
    return RunCapture(scenario, report, recorder, topology_view(scenario, report), dict(settings or {}), label)


def topology_view(scenario: Scenario, report: Report) -> TopologyView:
    network = build_network(scenario, Simulation(scenario.seed))
    graph = network.graph
    presets = resolve_devices(scenario).node_preset
    positions = _layout(graph)
    nodes = tuple(
        NodeView(str(n), str(presets.get(n, "?")), float(positions[n][0]), float(positions[n][1]),
                 network.banks[n].capacity, network.banks[n].communication_qubits)
        for n in graph.nodes
    )
    pairs = {row.link: row.pairs for row in report.links}
    run_s = report.sim_time_s
    links = tuple(
        LinkView(service.name, service.banks[0].name, service.banks[1].name,
                 graph.edges[service.banks[0].name, service.banks[1].name].get("length_km"),
                 service.success_probability, bell_fidelity(mean_heralded_state(service.link.heralded_states)),
                 pairs.get(service.name, 0) / run_s if run_s > 0 else 0.0)
        for service in network.services
    )
    requests = scenario_requests(scenario)
    routes = {r.label: tuple(network.route(r.src, r.dst)) for r in requests}
    return TopologyView(nodes, links, routes, {r.label: r.min_fidelity for r in requests})


def _layout(graph: nx.Graph) -> dict:
    """A chain on a line; anything else by Kamada-Kawai (deterministic, no random start)."""
    if len(graph) <= 2 or (nx.is_tree(graph) and max(d for _, d in graph.degree) <= 2):
        ends = [n for n, d in graph.degree if d <= 1]
        order = list(nx.dfs_preorder_nodes(graph, ends[0])) if ends else list(graph)
        return {n: (float(i), 0.0) for i, n in enumerate(order)}
    return nx.kamada_kawai_layout(graph)
