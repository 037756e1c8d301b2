"""Hardware of a scenario: presets with their overrides become (idealised) device models.

Every node gets ``hardware.node`` or its own preset from ``[hardware.nodes]``, and the interface
of ``hardware.interface`` / ``[hardware.interfaces]``; every edge the channel
``hardware.channel`` or its own ``channel``. Overrides ``role.section.field`` are applied to
every preset of the role that has the section; one that reaches no preset in use is refused.
"""

from __future__ import annotations

import dataclasses

from dataclasses import dataclass
from typing import Any, Mapping

from qstack.hardware import load_preset
from qstack.scenario import Scenario, ScenarioError


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


@dataclass(frozen=True)
class Devices:
    """The device models of a scenario, overrides applied and idealised as it asks.

    ``node_presets``: preset name -> preset (overrides applied, not idealised); ``node_preset``:
    node -> its preset's name; ``interfaces``: node -> transducer or None; ``channel`` the default
    channel, ``edge_channels`` per custom edge; ``station_emitter`` for all-photonic chains.
    """

    node_presets: Mapping[str, Any]
    node_preset: Mapping[str, str]
    interfaces: Mapping[str, Any]
    detector: Any
    channel: Any
    edge_channels: Mapping[tuple[str, str], Any]
    pair_source: Any
    station_preset: Any
    station_emitter: Any


def resolve_devices(scenario: Scenario) -> Devices:
    """Load every preset the scenario names, apply its overrides, idealise, and check roles."""
    hw, idealize = scenario.hardware, scenario.idealize
    node_presets = _node_presets(scenario)
    node_preset = node_presets[hw.node]
    station_preset = None
    if hw.station is not None:
        station_preset = _preset("station", hw.station, hw.overrides)
        if station_preset.emitter is None:
            raise ScenarioError(f"hardware.station: preset {hw.station!r} has no emitter to generate trees")
    channel, edge_channels = _channels(scenario)
    pair_source = None
    if hw.source is not None:
        pair_source = idealized(_preset("source", hw.source, hw.overrides).pair_source, idealize)
    return Devices(
        node_presets=node_presets,
        node_preset={name: hw.nodes.get(name, hw.node) for name in scenario.node_names},
        interfaces=_interfaces(scenario),
        detector=_detector(scenario, node_preset, station_preset),
        channel=channel,
        edge_channels=edge_channels,
        pair_source=pair_source,
        station_preset=station_preset,
        station_emitter=None if station_preset is None else idealized(station_preset.emitter, idealize),
    )


def _node_presets(scenario: Scenario) -> dict:
    hw = scenario.hardware
    presets = {hw.node: _preset_with_sections("node", "hardware.node", hw.node, hw.overrides)}
    for node_name, preset_name in hw.nodes.items():
        if preset_name not in presets:
            presets[preset_name] = _preset_with_sections("node", f"hardware.nodes.{node_name}", preset_name, hw.overrides)
    for preset_name, preset in presets.items():
        if preset.memory is None:
            raise ScenarioError(f"hardware.node: preset {preset_name!r} has no memory; choose a node preset")
    _check_role_overrides("node", list(presets.values()), hw.overrides)
    return presets


def _interfaces(scenario: Scenario) -> dict:
    hw = scenario.hardware
    interfaces, presets = {}, []
    for name in scenario.node_names:
        interface_name = hw.interfaces.get(name, hw.interface)
        if interface_name is None or interface_name == "none":
            interfaces[name] = None
            continue
        key = f"hardware.interfaces.{name}" if name in hw.interfaces else "hardware.interface"
        preset = _preset_with_sections("interface", key, interface_name, hw.overrides)
        if preset.transducer is None:
            raise ScenarioError(f"{key}: preset {interface_name!r} has no transducer; choose an interface preset")
        presets.append(preset)
        interfaces[name] = _idealized_device(preset.transducer, scenario.idealize)
    _check_role_overrides("interface", presets, hw.overrides)
    return interfaces


def _detector(scenario: Scenario, node_preset, station_preset):
    """The stations' detector (an all-photonic chain's measure tree photons), else the node's,
    unless ``hardware.detector`` names one."""
    hw = scenario.hardware
    detector = station_preset.detector if station_preset is not None and station_preset.detector else node_preset.detector
    if hw.detector is not None:
        detector = _preset("detector", hw.detector, hw.overrides).detector
    if detector is None:
        raise ScenarioError("hardware.detector: the node preset has no detector; name a preset that has one")
    return _idealized_device(detector, scenario.idealize)


def _channels(scenario: Scenario):
    hw, idealize = scenario.hardware, scenario.idealize
    channel_preset = _preset_with_sections("channel", "hardware.channel", hw.channel, hw.overrides)
    channel = _channel_from(channel_preset, "hardware.channel", idealize)
    presets, edge_channels = [channel_preset], {}
    for i, edge in enumerate(scenario.network.edges if scenario.network.topology == "custom" else ()):
        if edge.channel is not None:
            where = f"network.edges[{i}].channel"
            presets.append(_preset_with_sections("channel", where, edge.channel, hw.overrides))
            edge_channels[edge.a, edge.b] = _channel_from(presets[-1], where, idealize)
    _check_role_overrides("channel", presets, hw.overrides)
    return channel, edge_channels
