"""The network of a scenario: nodes with their hardware, links of the registered scheme, and the
network layer on top, inside a simulation."""

from __future__ import annotations

import networkx as nx

from qstack.engine import Simulation
from qstack.network import Network
from qstack import registry
from qstack.physical import LinkSetting, NodeHardware
from qstack.scenario import Scenario, ScenarioError

from .devices import Devices, idealized, resolve_devices
from .purification import purification_policy
from .usage import check_overrides_act


def build_network(scenario: Scenario, sim: Simulation) -> Network:
    """The topology and devices of ``scenario`` inside ``sim``; every override is checked to act."""
    devices = resolve_devices(scenario)
    graph = build_graph(scenario, devices)
    idealize = scenario.idealize

    def network_in(sim: Simulation, purification) -> Network:
        return Network(
            sim,
            graph,
            swapping=scenario.network.swapping,
            purification=purification,
            cutoff_s=scenario.link.cutoff_s,
            decoherence="decoherence" not in idealize,
            probabilistic="probabilistic_generation" not in idealize,
            gate_noise="gate_noise" not in idealize,
            bsm="deterministic" if "bsm" in idealize else scenario.network.bsm,
            routing=scenario.network.routing,
        )

    try:
        # target_fidelity: rounds predicted on networks built apart (never run, own simulation)
        policy = purification_policy(scenario, lambda candidate: network_in(Simulation(scenario.seed), candidate))
        network = network_in(sim, policy)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from exc
    check_overrides_act(scenario, devices, network)
    return network


def build_graph(scenario: Scenario, devices: Devices) -> nx.Graph:
    """A ``networkx`` graph: nodes carry ``hardware`` (:class:`NodeHardware`), edges ``link`` and
    ``length_km``."""
    graph = nx.Graph()
    storage = scenario.link.storage
    if storage != "register" and not any(devices.node_presets[devices.node_preset[n]].nuclear_spin for n in scenario.node_names):
        raise ScenarioError(f"link.storage: {storage!r} keeps pairs out of a nuclear-spin register, but no node preset "
                            "in use has one (their communication qubits store the pairs anyway)")
    user_noise = _user_gate_noise(scenario)
    for name in scenario.node_names:
        preset = devices.node_presets[devices.node_preset[name]]
        memory = idealized(preset.memory, scenario.idealize)
        try:
            hardware = NodeHardware(
                memory=memory,
                emitter=idealized(preset.emitter, scenario.idealize),
                nuclear_spin=preset.nuclear_spin,
                name=name,
                interface=devices.interfaces[name],
                noise=None if user_noise is None else user_noise(memory),
                pair_storage=storage if preset.nuclear_spin is not None else "register",
            )
        except ValueError as exc:
            if user_noise is None:
                raise
            raise ScenarioError(f"hardware.gate_noise: {scenario.hardware.gate_noise!r} at node {name}: {exc}") from exc
        graph.add_node(name, hardware=hardware)
    for a, b, length_km in scenario.edges():
        channel = devices.edge_channels.get((a, b), devices.channel)
        try:
            link = _link(scenario, devices, graph.nodes[a]["hardware"], graph.nodes[b]["hardware"], channel, length_km)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from exc
        graph.add_edge(a, b, link=link, length_km=length_km)
    return graph


def _user_gate_noise(scenario: Scenario):
    """The registered ``hardware.gate_noise`` factory ``f(memory) -> GateNoise | NoiseModel``,
    or None: every node's gates then carry its memory's fidelities."""
    name = scenario.hardware.gate_noise
    if name is None:
        return None
    try:
        return registry.lookup("gate_noise", name, "hardware.gate_noise")
    except ValueError as exc:
        raise ScenarioError(str(exc)) from exc


def _link(scenario: Scenario, devices: Devices, end_a, end_b, channel, length_km: float):
    """The registered scheme ``link.scheme`` builds the link from the scenario's setting."""
    spec = scenario.link
    scheme = registry.lookup("link_scheme", spec.scheme, "link.scheme")
    return scheme.from_setting(LinkSetting(
        end_a=end_a, end_b=end_b, channel=channel, length_km=length_km, detector=devices.detector,
        name=f"{end_a.name}-{end_b.name}", multiplexing=spec.multiplexing,
        bright_state_population=spec.bright_state_population, pair_source=devices.pair_source,
        tree_branching=spec.tree_branching, stations=spec.stations, station_emitter=devices.station_emitter,
        optical_phase_std_rad=spec.optical_phase_std_rad,
    ))
