"""The composition root: a scenario's typed specs -> hardware models -> a network in a simulation.

Presets and overrides become hardware models (idealised where the scenario switches physics
off), the topology becomes a ``networkx`` graph of registered link models, and the network layer
is built on them. Nothing here runs the simulation (:mod:`qstack.runner` does) or reports.
"""

from __future__ import annotations

import dataclasses

import networkx as nx

from qstack.engine import Simulation
from qstack.hardware import load_preset
from qstack.metrics import bell_fidelity
from qstack.network import Network, PurificationPolicy
from qstack.physical import HeraldedLink, NodeHardware
from qstack.protocols import GateNoise
from qstack.scenario import Scenario, ScenarioError
from qstack.scheduling import mean_heralded_state, route_state


def _overrides_for(role: str, overrides: dict[str, float]) -> dict[str, float]:
    prefix = role + "."
    return {k[len(prefix):]: v for k, v in overrides.items() if k.startswith(prefix)}


def _preset(role: str, name: str, overrides: dict[str, float]):
    try:
        return load_preset(name, _overrides_for(role, overrides))
    except ValueError as exc:
        raise ScenarioError(f"hardware.{role}: {exc}") from exc


def idealized(obj, idealize: tuple[str, ...]):
    """The same device with the named physics switched off (for the uninformed baseline)."""
    if obj is None:
        return None
    names = {f.name for f in dataclasses.fields(obj)}
    changes = {}
    if "loss" in idealize:
        for name in ("emission_probability", "collection_efficiency", "conversion_efficiency", "efficiency",
                     "write_efficiency", "read_efficiency", "pointing_efficiency"):
            if name in names:
                changes[name] = 1.0
        for name in ("attenuation_db_per_km", "atmospheric_attenuation_db_per_km"):
            if name in names:
                changes[name] = 0.0
    if "gate_noise" in idealize:
        for name in ("emitted_state_fidelity", "photon_indistinguishability", "single_qubit_gate_fidelity",
                     "two_qubit_gate_fidelity", "measurement_fidelity"):
            if name in names:
                changes[name] = 1.0
        if "dark_count_probability" in names:
            changes["dark_count_probability"] = 0.0
    return dataclasses.replace(obj, **changes) if changes else obj


def _preset_with_sections(role: str, where: str, name: str, overrides: dict[str, float]):
    """Preset ``name`` with the ``role`` overrides whose section it has (per-node and per-edge
    presets share the role's overrides; a preset without the section ignores them)."""
    try:
        sections = set(load_preset(name).sections)
        mine = {k: v for k, v in _overrides_for(role, overrides).items() if k.split(".")[0] in sections}
        return load_preset(name, mine)
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc


def _check_role_overrides(role: str, presets: list, overrides: dict[str, float]) -> None:
    """Every ``role`` override must reach a section of at least one preset of that role."""
    sections = {section for preset in presets for section in preset.sections}
    for key in _overrides_for(role, overrides):
        section = key.split(".")[0]
        if section not in sections:
            raise ScenarioError(
                f"hardware.overrides.{role}.{key}: no {role} preset in use has a [{section}] section; "
                f"sections: {', '.join(sorted(sections)) or '(none)'}"
            )


def _idealized_device(obj, idealize: tuple[str, ...]):
    """:func:`idealized` plus the fields of transducers and free-space links."""
    obj = idealized(obj, idealize)
    if obj is None:
        return None
    names = {f.name for f in dataclasses.fields(obj)}
    changes = {}
    if "loss" in idealize:
        changes.update({k: v for k, v in (("zenith_transmittance", 1.0), ("pointing_jitter_rad", 0.0)) if k in names})
    if "gate_noise" in idealize:
        changes.update({k: 0.0 for k in ("added_noise_photons", "background_count_rate_hz") if k in names})
    return dataclasses.replace(obj, **changes) if changes else obj


def _channel_from(preset, where: str, idealize: tuple[str, ...]):
    channel = preset.fiber or preset.free_space
    if channel is None:
        raise ScenarioError(f"{where}: preset {preset.name!r} has no fiber or free-space channel")
    return _idealized_device(channel, idealize)


def build_network(scenario: Scenario, sim: Simulation) -> Network:
    """The topology and devices of ``scenario`` inside ``sim``.

    Every node gets ``hardware.node`` or its own preset from ``[hardware.nodes]``, and the
    interface of ``hardware.interface`` / ``[hardware.interfaces]``; every edge the channel
    ``hardware.channel`` or its own ``channel``. ``link.scheme = "all_photonic"`` makes each
    edge an :class:`~qstack.all_photonic.AllPhotonicChain`.
    """
    from qstack.all_photonic import AllPhotonicChain
    from qstack.hardware import TreeCode

    hw = scenario.hardware
    overrides = hw.overrides
    idealize = scenario.idealize
    node_presets = {hw.node: _preset_with_sections("node", "hardware.node", hw.node, overrides)}
    for node_name, preset_name in hw.nodes.items():
        if preset_name not in node_presets:
            node_presets[preset_name] = _preset_with_sections("node", f"hardware.nodes.{node_name}", preset_name, overrides)
    for preset_name, preset in node_presets.items():
        if preset.memory is None:
            raise ScenarioError(f"hardware.node: preset {preset_name!r} has no memory; choose a node preset")
    node_preset = node_presets[hw.node]
    _check_role_overrides("node", list(node_presets.values()), overrides)
    interfaces = {}
    interface_presets = []
    for name in scenario.node_names:
        interface_name = hw.interfaces.get(name, hw.interface)
        if interface_name is None or interface_name == "none":
            interfaces[name] = None
            continue
        key = f"hardware.interfaces.{name}" if name in hw.interfaces else "hardware.interface"
        preset = _preset_with_sections("interface", key, interface_name, overrides)
        if preset.transducer is None:
            raise ScenarioError(f"{key}: preset {interface_name!r} has no transducer; choose an interface preset")
        interface_presets.append(preset)
        interfaces[name] = _idealized_device(preset.transducer, idealize)
    _check_role_overrides("interface", interface_presets, overrides)
    station_preset = None
    if hw.station is not None:
        station_preset = _preset("station", hw.station, overrides)
        if station_preset.emitter is None:
            raise ScenarioError(f"hardware.station: preset {hw['station']!r} has no emitter to generate trees")
    # The stations' detectors measure the tree photons of an all-photonic chain.
    detector = station_preset.detector if station_preset is not None and station_preset.detector else node_preset.detector
    if hw.detector is not None:
        detector = _preset("detector", hw.detector, overrides).detector
    if detector is None:
        raise ScenarioError("hardware.detector: the node preset has no detector; name a preset that has one")
    detector = _idealized_device(detector, idealize)
    channel_preset = _preset_with_sections("channel", "hardware.channel", hw.channel, overrides)
    channel = _channel_from(channel_preset, "hardware.channel", idealize)
    channel_presets = [channel_preset]
    edge_channels = {}
    for i, edge in enumerate(scenario.network.edges if scenario.network.topology == "custom" else []):
        if edge.channel is not None:
            where = f"network.edges[{i}].channel"
            channel_presets.append(_preset_with_sections("channel", where, edge.channel, overrides))
            edge_channels[edge.a, edge.b] = _channel_from(channel_presets[-1], where, idealize)
    _check_role_overrides("channel", channel_presets, overrides)
    pair_source = None
    link_cfg = scenario.link
    if link_cfg.scheme == "midpoint_source":
        if hw.source is None:
            raise ScenarioError("hardware.source: scheme 'midpoint_source' needs a pair-source preset (e.g. spdc_source)")
        pair_source = idealized(_preset("source", hw.source, overrides).pair_source, idealize)
    graph = nx.Graph()
    for name in scenario.node_names:
        preset_name = hw.nodes.get(name, hw.node)
        preset = node_presets[preset_name]
        graph.add_node(
            name,
            hardware=NodeHardware(
                memory=idealized(preset.memory, idealize),
                emitter=idealized(preset.emitter, idealize),
                nuclear_spin=preset.nuclear_spin,
                name=name,
                interface=interfaces[name],
            ),
        )
    for a, b, length_km in scenario.edges():
        edge_channel = edge_channels.get((a, b), channel)
        try:
            if link_cfg.scheme == "all_photonic":
                station_emitter = None if station_preset is None else idealized(station_preset.emitter, idealize)
                link = AllPhotonicChain(
                    end_a=graph.nodes[a]["hardware"],
                    end_b=graph.nodes[b]["hardware"],
                    channel=edge_channel.with_length(length_km),
                    detector=detector,
                    code=TreeCode(link_cfg.tree_branching or ()),
                    stations=link_cfg.stations,
                    station_emitter=station_emitter,
                    multiplexing=link_cfg.multiplexing,
                    name=f"{a}-{b}",
                )
            else:
                half = edge_channel.with_length(length_km / 2)
                link = HeraldedLink(
                    end_a=graph.nodes[a]["hardware"],
                    end_b=graph.nodes[b]["hardware"],
                    channel_a=half,
                    channel_b=half,
                    detector=detector,
                    scheme=link_cfg.scheme,
                    bright_state_population=link_cfg.bright_state_population,
                    multiplexing=link_cfg.multiplexing,
                    pair_source=pair_source,
                    name=f"{a}-{b}",
                )
        except ValueError as exc:
            raise ScenarioError(str(exc)) from exc
        graph.add_edge(a, b, link=link, length_km=length_km)
    policy = purification_policy(scenario, graph)
    try:
        return Network(
            sim,
            graph,
            swapping=scenario.network.swapping,
            purification=policy,
            cutoff_s=link_cfg.cutoff_s,
            decoherence="decoherence" not in idealize,
            probabilistic="probabilistic_generation" not in idealize,
            gate_noise="gate_noise" not in idealize,
            bsm="deterministic" if "bsm" in idealize else scenario.network.bsm,
            routing=scenario.network.routing,
        )
    except ValueError as exc:
        raise ScenarioError(str(exc)) from exc


def predicted_fidelity(graph: nx.Graph, path: list, policy: PurificationPolicy, noise: GateNoise) -> float:
    """Fidelity a purification policy should reach on ``path``, ignoring decoherence.

    A design-time estimate (what an operator computes to choose the number of rounds): the
    link's mean heralded state, purified per link and/or swapped along the path with the
    protocols' circuits and the nodes' gate noise. Reported results never use it.
    """
    states = [mean_heralded_state(graph.edges[u, v]["link"]) for u, v in zip(path, path[1:])]
    rho = route_state(states, [noise] * (len(states) - 1), policy, noise)
    return bell_fidelity(rho)


def purification_policy(scenario: Scenario, graph: nx.Graph) -> PurificationPolicy:
    """The scenario's purification; with ``target_fidelity``, the fewest rounds predicted to
    reach it on every request's route (ideal-memory estimate, see :func:`predicted_fidelity`)."""
    cfg = scenario.purification
    base = dict(scope=cfg.scope, method=cfg.method, scheme=cfg.scheme)
    try:
        if cfg.target_fidelity is None:
            return PurificationPolicy(rounds=cfg.rounds, **base)
        target = cfg.target_fidelity
        noise = GateNoise() if "gate_noise" in scenario.idealize else GateNoise.from_memory(
            next(iter(graph.nodes.values()))["hardware"].memory
        )
        paths = [nx.shortest_path(graph, r.src, r.dst) for r in scenario.requests]
        best = 0.0
        for rounds in range(0, 7):
            policy = PurificationPolicy(rounds=rounds, **base)
            worst = min(predicted_fidelity(graph, path, policy, noise) for path in paths)
            best = max(best, worst)
            if worst >= target:
                return policy
    except (ValueError, nx.NetworkXNoPath) as exc:
        raise ScenarioError(f"purification: {exc}") from exc
    raise ScenarioError(
        f"purification.target_fidelity: {target} is out of reach; at most {best:.4f} is predicted with up to 6 rounds"
    )


