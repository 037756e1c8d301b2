"""Which hardware overrides can act in a scenario; one that cannot is refused, never ignored.

An override ``role.section.field`` acts when some device of that role in use has the section and
the run reads the field where the physics puts it. It cannot act when the role is unused (a
pair-source override without a midpoint source), when the field only documents the preset (a
wavelength: the channel's attenuation sets the loss), when the scenario sets the quantity
itself (a channel's length), or when no operation of this scenario reads it: gate fidelities and
durations act through swaps, purification and applications; a memory's absorption through
schemes whose memories absorb photons; a memory's capacity only where the memory is the storage
stage; a nuclear spin's reset time only where a stored spin sees another link's attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from qstack.scenario import SCHEMA, Scenario, ScenarioError


@dataclass(frozen=True)
class Usage:
    """What a built scenario does, as far as overrides care.

    ``swapping_presets``: node presets of nodes that swap (inner nodes of a request's route);
    ``purifies``: purification rounds run (their gates take the nodes' durations); ``gates``:
    purification or an application runs gates and readouts at the end nodes;
    ``absorbing``: memories absorb photons (midpoint-source links; ``node_sources`` links store
    their sources' photons but their state is post-selected on recall, so not); ``detecting``:
    a station's detectors herald; ``counting``: some link's heralds read whether its detectors
    resolve photon numbers (``READS_PHOTON_NUMBER``: not a midpoint source's absorption, not the
    all-photonic chain's loss-only stations); ``emitting``: the nodes' emitters make the photons;
    ``register_presets``: node presets storing in a nuclear-spin register
    (``communication_presets``: those whose pairs ``link.storage`` keeps in the communication
    qubits instead); ``register_sees_attempts``: some node with a
    register stores a spin while another attempt runs there (two links, or several pairs at once).
    """

    swapping_presets: frozenset[str]
    purifies: bool
    gates: bool
    absorbing: bool
    register_presets: frozenset[str]
    register_sees_attempts: bool
    roles: frozenset[str]
    dead_time_binds: bool
    shared_nodes: bool
    communication_presets: frozenset[str] = frozenset()
    detecting: bool = True
    emitting: bool = True
    counting: bool = True


def usage_of(scenario: Scenario, devices, network) -> Usage:
    """Read the usage off a built network (routes through :meth:`Network.route`)."""
    swapping = set()
    for request in scenario.requests:
        for node in network.route(request.src, request.dst)[1:-1]:
            swapping.add(devices.node_preset[node])
    registers = {name for name, preset in devices.node_presets.items() if preset.nuclear_spin is not None}
    kept = frozenset(registers) if scenario.link.storage == "communication_qubit" else frozenset()
    registers -= kept
    register_nodes = [n for n in scenario.node_names if devices.node_preset[n] in registers]
    several = scenario.scheduling.policy != "none" or len(scenario.requests) > 1
    links = [service.link for service in network.services]
    # A link model whose station detects nothing (DETECTS false) is heralded by its memories' absorption.
    absorbing = any(getattr(link, "ABSORBS", not getattr(link, "DETECTS", True)) for link in links)
    detecting = any(getattr(link, "DETECTS", True) for link in links)
    emitting = any(getattr(link, "EMITS", True) for link in links)
    counting = any(getattr(link, "READS_PHOTON_NUMBER", getattr(link, "DETECTS", True)) for link in links)
    sourced = any(getattr(link, "PAIR_SOURCE", not getattr(link, "DETECTS", True)) for link in links)
    dead_time_binds = any(
        getattr(link, "DETECTS", True) and link.detector.dead_time_s >= link.emission_time_s + link.heralding_time_s
        for link in links
    )
    roles = {"node", "channel"}
    if any(t is not None for t in devices.interfaces.values()):
        roles.add("interface")
    if scenario.hardware.detector is not None:
        roles.add("detector")
    if devices.pair_source is not None and sourced:
        roles.add("source")
    if devices.station_preset is not None and any(link.stations > 0 for link in links):
        roles.add("station")
    return Usage(
        swapping_presets=frozenset(swapping),
        purifies=scenario.purification.scope != "none",
        gates=scenario.purification.scope != "none" or scenario.application.kind != "none",
        absorbing=absorbing,
        detecting=detecting,
        emitting=emitting,
        counting=counting,
        register_presets=frozenset(registers),
        register_sees_attempts=any(network.graph.degree(n) > 1 for n in register_nodes) or several,
        roles=frozenset(roles),
        dead_time_binds=dead_time_binds,
        shared_nodes=any(network.graph.degree(n) > 1 for n in scenario.node_names),
        communication_presets=kept,
    )


# field -> reason it cannot act (for the presets of a role), given the usage; None: it acts.
Rule = Callable[[Usage, frozenset], "str | None"]

_DOCUMENTS = "documents the preset; the channel's attenuation (and a transducer) set the loss"
_GATES = ("no operation of this scenario uses a node's gates or readout: no swap, purification "
          "or application (request a route through a repeater, purify, or run an application)")


def _gates(usage: Usage, presets: frozenset) -> str | None:
    return None if usage.gates or usage.swapping_presets & presets else _GATES


def _swap_timing(usage: Usage, presets: frozenset) -> str | None:
    return None if usage.swapping_presets & presets or usage.purifies else (
        "gate and readout durations act through swaps and purification rounds; no node with this preset "
        "swaps and nothing is purified in this scenario")


def _two_qubit_gates(usage: Usage, presets: frozenset) -> str | None:
    return None if usage.register_presets & presets else _gates(usage, presets)


def _absorption(usage: Usage, presets: frozenset) -> str | None:
    return None if usage.absorbing else "only memories that absorb photons (link.scheme 'midpoint_source') read it"


def _memory_capacity(usage: Usage, presets: frozenset) -> str | None:
    if presets <= usage.register_presets:
        return "pairs are stored in the nuclear-spin register: override node.nuclear_spin.capacity"
    if presets <= usage.communication_presets:
        return ("link.storage 'communication_qubit' keeps the pairs in the communication qubits: "
                "override node.memory.communication_qubits")
    return None


def _nuclear_spin(usage: Usage, presets: frozenset) -> str | None:
    if presets and presets <= usage.communication_presets:
        return "link.storage 'communication_qubit' keeps every pair in the communication qubit; no nuclear spin is used"
    return None


def _emitter(usage: Usage, presets: frozenset) -> str | None:
    return None if usage.emitting else "the link's photons come from a pair source; the node's emitter is unused"


def _reset_time(usage: Usage, presets: frozenset) -> str | None:
    return _nuclear_spin(usage, presets) or (None if usage.register_sees_attempts else (
        "no stored nuclear spin sees another attempt in this scenario (one link per node, one pair at a time)"))


def _detector(usage: Usage, presets: frozenset) -> str | None:
    return None if usage.detecting else "the memories' absorption heralds midpoint-source pairs; no detector is read"


def _dead_time(usage: Usage, presets: frozenset) -> str | None:
    return _detector(usage, presets) or (None if usage.dead_time_binds else (
        "every attempt lasts longer than the detectors' dead time, so they recover before the next "
        "attempt's photons (a dead time longer than an attempt would bound the attempt period)"))


def _number_resolving(usage: Usage, presets: frozenset) -> str | None:
    return _detector(usage, presets) or (None if usage.counting else (
        "the all-photonic chain's stations are modelled by their tree photons' loss and detection efficiency; "
        "no photon counts are modelled there"))


def _communication(usage: Usage, presets: frozenset) -> str | None:
    return None if usage.shared_nodes or presets & usage.communication_presets else (
        "a node with one link runs one generation at a time, so a second communication qubit is never used "
        "(no node here has two links)")


def _always(reason: str) -> Rule:
    return lambda usage, presets: reason


RULES: dict[str, Rule] = {
    "emitter.wavelength_nm": _always(_DOCUMENTS),
    "pair_source.wavelength_nm": _always(_DOCUMENTS),
    "transducer.input_wavelength_nm": _always(_DOCUMENTS),
    "transducer.output_wavelength_nm": _always(_DOCUMENTS),
    "fiber.length_km": _always("set by the scenario: network.link_lengths_km or the edges' length_km"),
    "free_space.length_km": _always("set by the scenario: network.link_lengths_km or the edges' length_km"),
    "memory.write_efficiency": _absorption,
    "memory.capacity": _memory_capacity,
    "memory.single_qubit_gate_fidelity": _gates,
    "memory.two_qubit_gate_fidelity": _two_qubit_gates,
    "memory.measurement_fidelity": _gates,
    "memory.single_qubit_gate_time_s": _swap_timing,
    "memory.two_qubit_gate_time_s": _swap_timing,
    "memory.measurement_time_s": _swap_timing,
    "nuclear_spin.reset_time_constant_s": _reset_time,
    "detector.dead_time_s": _dead_time,
    "detector.number_resolving": _number_resolving,
    "memory.communication_qubits": _communication,
}
_SECTION_RULES: dict[str, Rule] = {"emitter": _emitter, "detector": _detector, "nuclear_spin": _nuclear_spin}

# The stations of an all-photonic chain (role ``station``): what the chain's model reads.
_STATION = "the all-photonic chain's stations are modelled by their tree photons' loss and detection"
STATION_RULES: dict[str, Rule] = {
    "emitter.emission_time_s": _always("stations prepare their trees while the photon travels; the sender's tree "
                                       "sets the attempt time (override node.emitter.emission_time_s)"),
    "emitter.photon_indistinguishability": _always(_STATION + " efficiency; no two-photon interference is modelled"),
    "detector.dark_count_probability": _always(_STATION + " efficiency; dark counts are not modelled there"),
    "detector.number_resolving": _always(_STATION + " efficiency; no photon counts are modelled there"),
}


def check_link_keys_act(scenario: Scenario, network) -> None:
    """Raise ScenarioError for a ``link`` key the scheme does not read: a bright-state population
    other than the default where the scheme fixes its own (``double_click``: 1/2) or has none
    (the source schemes, all-photonic), an optical
    phase noise where the heralded state does not carry the arms' phase."""
    spec, links = scenario.link, [service.link for service in network.services]
    default_alpha = SCHEMA["link"]["bright_state_population"].default
    fixed = {getattr(link, "BRIGHT_STATE_POPULATION", None) for link in links} - {None}
    if fixed and spec.bright_state_population != default_alpha:
        raise ScenarioError(f"link.bright_state_population: cannot act here: scheme {spec.scheme!r} prepares its spins at "
                            f"alpha = {', '.join(f'{a:g}' for a in sorted(fixed))} whatever the setting")
    if spec.bright_state_population != default_alpha and not any(getattr(link, "ALPHA_FROM_SETTING", False)
                                                                 for link in links):
        raise ScenarioError(f"link.bright_state_population: cannot act here: scheme {spec.scheme!r} excites no spin at a "
                            "set bright-state population (what a stored spin feels per attempt comes from its own "
                            "photons; only 'single_click' reads the setting)")
    if spec.optical_phase_std_rad and not all(getattr(link, "PHASE_SENSITIVE", False) for link in links):
        raise ScenarioError(f"link.optical_phase_std_rad: cannot act here: scheme {spec.scheme!r} does not carry the arms' "
                            "optical phase into its heralded state (only 'single_click' does)")


def check_overrides_act(scenario: Scenario, devices, network) -> None:
    """Raise ScenarioError (one line naming the key and why) for an override, a pair source or a
    user's ``hardware.gate_noise`` that cannot act."""
    check_link_keys_act(scenario, network)
    overrides = scenario.hardware.overrides
    if not overrides and scenario.hardware.source is None and scenario.hardware.gate_noise is None:
        return
    usage = usage_of(scenario, devices, network)
    if scenario.hardware.gate_noise is not None:
        reason = _two_qubit_gates(usage, frozenset(devices.node_preset[n] for n in scenario.node_names))
        if reason is not None:
            raise ScenarioError(f"hardware.gate_noise: cannot act here: {reason}")
    if scenario.hardware.source is not None and "source" not in usage.roles:
        raise ScenarioError("hardware.source: only link.schemes 'midpoint_source' and 'node_sources' use a pair source")
    for key in overrides:
        role, section, field = key.split(".")
        where = f"hardware.overrides.{key}"
        if role not in usage.roles:
            raise ScenarioError(f"{where}: no {role} device is used in this scenario")
        presets = _presets_with(devices, role, section)
        rule = (STATION_RULES.get(f"{section}.{field}") if role == "station" else None) or RULES.get(f"{section}.{field}")
        if rule is None and role in ("node", "detector"):
            rule = _SECTION_RULES.get(section)
        reason = rule(usage, presets) if rule is not None else None
        if reason is not None:
            raise ScenarioError(f"{where}: cannot act here: {reason}")


def _presets_with(devices, role: str, section: str) -> frozenset:
    if role != "node":
        return frozenset()
    return frozenset(name for name, p in devices.node_presets.items() if getattr(p, section, None) is not None)
