"""Scenario files: TOML -> validated, typed specs.

A scenario names the network, the hardware (presets plus overrides), the protocol choices, the
requests, the engine, the seed, and ``idealize = [...]`` for the physics-uninformed baseline.
Every key is checked: an unknown key, a wrong type or a value out of range raises
:class:`ScenarioError`, whose one-line message names the key and the allowed values. Choices the
stack can extend are read from :mod:`qstack.registry`; a top-level ``plugins = ["module"]``
imports modules that register more before the scenario is validated.

Heterogeneous hardware: ``hardware.node`` is every node's preset unless ``[hardware.nodes]``
names another for a node (``n0 = "trapped_ion"``); ``hardware.interface`` puts a transducer or
frequency converter (a preset of kind ``interface``) at every node, ``[hardware.interfaces]``
per node (``"none"`` for none); a ``[[network.edges]]`` entry may name its own ``channel``
preset (fibre or free space), otherwise ``hardware.channel`` is used. ``link.scheme =
"all_photonic"`` makes every edge a memory-less one-way chain of ``link.stations`` repeater
stations carrying photons encoded in a tree of branching vector ``link.tree_branching`` (omit
it for bare photons), generated at the stations by ``hardware.station`` (a preset with an
emitter; default the node's). Override roles: ``node``, ``channel``, ``detector``, ``source``,
``interface``, ``station``; node, channel and interface overrides apply to every preset of
that role that has the section.
"""

from .load import (
    apply_setting,
    bundled_scenarios,
    default_scenario_text,
    load_scenario,
    parse_value,
    scenario_path,
    scenario_summary,
)
from .schema import IDEALIZATIONS, OVERRIDE_ROLES, SCHEMA, ScenarioError, scheduling_policies
from .spec import (
    ApplicationSpec,
    EdgeSpec,
    HardwareSpec,
    LinkSpec,
    NetworkSpec,
    PurificationSpec,
    RequestSpec,
    Scenario,
    SchedulingSpec,
)

__all__ = [
    "ApplicationSpec", "EdgeSpec", "HardwareSpec", "IDEALIZATIONS", "LinkSpec", "NetworkSpec", "OVERRIDE_ROLES",
    "PurificationSpec", "RequestSpec", "SCHEMA", "Scenario", "ScenarioError", "SchedulingSpec", "apply_setting",
    "bundled_scenarios", "default_scenario_text", "load_scenario", "parse_value", "scenario_path", "scenario_summary",
    "scheduling_policies",
]
