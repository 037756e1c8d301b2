"""The scenario schema: every key, its type, its range or choices, and its default.

Choices that the stack can extend (link schemes, routing, purification schemes, schedulers,
applications, topologies) are the names registered in :mod:`qstack.registry`, read when a
scenario is validated, so a plugin's names are accepted like the built-ins.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable

from qstack import registry
from qstack.engine import ENGINES
from qstack.network import PURIFICATION_METHODS, PURIFICATION_SCOPES, SWAPPING_POLICIES
from qstack.physical import PAIR_STORAGES
from qstack.protocols.swapping import BELL_MEASUREMENTS

from .limits import MAX_INTEGER, Limits, short, show

IDEALIZATIONS = ("decoherence", "loss", "probabilistic_generation", "gate_noise", "bsm")
OVERRIDE_ROLES = ("node", "channel", "detector", "source", "interface", "station")


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message names the key and what is allowed."""


@dataclass(frozen=True)
class _Field:
    check: Callable[[str, Any], Any]
    default: Any = None
    required: bool = False


def _integer(minimum: int, maximum: int = MAX_INTEGER) -> Callable[[str, Any], int]:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ScenarioError(f"{key}: must be an integer >= {minimum}, got {show(value)}")
        if value > maximum:
            raise ScenarioError(f"{key}: must be an integer <= {maximum}, got {show(value)}")
        return value

    return check


def _number(low: float = -math.inf, high: float = math.inf, low_open: bool = False) -> Callable[[str, Any], float]:
    def check(key: str, value: Any) -> float:
        bracket = "(" if low_open else "["
        allowed = f"{bracket}{low:g}, {high:g}]"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ScenarioError(f"{key}: must be a number in {allowed}, got {show(value)}")
        if isinstance(value, int) and value.bit_length() > 1000:  # beyond any float
            raise ScenarioError(f"{key}: must be in {allowed}, got {show(value)}")
        if value < low or value > high or (low_open and value == low):
            raise ScenarioError(f"{key}: must be in {allowed}, got {show(value)}")
        return float(value)

    return check


def _choice(options: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(key: str, value: Any) -> str:
        if value not in options:
            raise ScenarioError(f"{key}: must be one of {', '.join(options)}; got {show(value)}")
        return value

    return check


def _registered(kind: str, extra: tuple[str, ...] = ()) -> Callable[[str, Any], str]:
    """A choice among the names registered in ``kind`` (read at validation time) and ``extra``."""

    def check(key: str, value: Any) -> str:
        options = extra + registry.names(kind)
        if not options:
            raise ScenarioError(f"{key}: must be a name registered as {kind!r} (qstack.register({kind!r}, name) in a "
                                f"module named by the scenario's plugins); none is registered; got {show(value)}")
        return _choice(options)(key, value)

    return check


def scheduling_policies() -> tuple[str, ...]:
    """``"none"`` (requests served at once) and every registered scheduler."""
    return ("none",) + registry.names("scheduler")


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{key}: must be a non-empty string, got {show(value)}")
    return value


def _idealize(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ScenarioError(f"{key}: must be a list drawn from {', '.join(IDEALIZATIONS + ('all',))}; got {show(value)}")
    out = []
    for item in value:
        if item == "all":
            out.extend(IDEALIZATIONS)
        elif item in IDEALIZATIONS:
            out.append(item)
        else:
            raise ScenarioError(f"{key}: unknown item {show(item)}; allowed: {', '.join(IDEALIZATIONS + ('all',))}")
    return tuple(dict.fromkeys(out))


def _lengths(key: str, value: Any) -> tuple[float, ...]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ScenarioError(f"{key}: must be a length >= 0 or a non-empty list of them, got []")
    check = _number(0.0)
    return tuple(check(f"{key}[{i}]", v) for i, v in enumerate(values))


def _grid(key: str, value: Any) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)
        or value[0] * value[1] < 2
    ):
        raise ScenarioError(f"{key}: must be [rows, columns] of integers >= 1 with at least 2 nodes, got {show(value)}")
    return tuple(value)


def _overrides(key: str, value: Any) -> dict[str, float | bool]:
    """``role.section.field = value``: a number, or true/false for a flag (``detector.number_resolving``);
    the device model checks that the type fits its field."""
    if not isinstance(value, dict):
        raise ScenarioError(f"{key}: must be a table of 'role.section.field' = number (or true/false for a flag)")
    flat: dict[str, Any] = {}

    def walk(prefix: str, table: dict) -> None:
        for k, v in table.items():
            path = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                walk(path, v)
            else:
                flat[path] = v

    walk("", value)
    for path, v in flat.items():
        if path.split(".")[0] not in OVERRIDE_ROLES or path.count(".") != 2:
            raise ScenarioError(
                f"{short(key + '.' + path)}: override keys are '{'|'.join(OVERRIDE_ROLES)}.<section>.<field>', got {show(path)}"
            )
        if isinstance(v, bool):
            continue  # a flag's value; a numeric field refuses it in its device model
        if not isinstance(v, (int, float)):
            raise ScenarioError(f"{short(key + '.' + path)}: must be a number (or true/false for a flag), got {show(v)}")
        if isinstance(v, int) and v.bit_length() > 1000:
            raise ScenarioError(f"{short(key + '.' + path)}: must be a number that fits a float, got {show(v)}")
    return flat




def _branching(key: str, value: Any) -> tuple[int, ...]:
    """A tree's branching vector: a non-empty list of integers >= 1 (omit the key for bare
    photons)."""
    if (
        not isinstance(value, list)
        or not value
        or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in value)
    ):
        raise ScenarioError(
            f"{key}: must be a non-empty list of integers >= 1 (omit it for bare photons), got {show(value)}"
        )
    return tuple(value)


def _preset_table(key: str, value: Any) -> dict[str, str]:
    """``node name = "preset name"`` (per-node hardware or interfaces)."""
    if not isinstance(value, dict) or any(not isinstance(v, str) or not v for v in value.values()):
        raise ScenarioError(f"{key}: must be a table of node = \"preset name\", got {show(value)}")
    return dict(value)


def _plugins(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or any(not isinstance(v, str) or not v for v in value):
        raise ScenarioError(f"{key}: must be a list of module names, got {show(value)}")
    return tuple(value)


SCHEMA: dict[str, Any] = {
    "plugins": _Field(_plugins, ()),
    "seed": _Field(_integer(0), 1),
    "engine": _Field(_choice(ENGINES), "fast"),
    "idealize": _Field(_idealize, ()),
    "max_time_s": _Field(_number(0.0, low_open=True), 3600.0),
    "network": {
        "topology": _Field(_registered("topology"), "chain"),
        "nodes": _Field(_integer(2), 2),
        "link_lengths_km": _Field(_lengths, (10.0,)),
        "grid": _Field(_grid, None),
        "edges": [
            {
                "a": _Field(_string, required=True),
                "b": _Field(_string, required=True),
                "length_km": _Field(_number(0.0), required=True),
                "channel": _Field(_string, None),
            }
        ],
        "routing": _Field(_registered("routing"), "hops"),
        "bsm": _Field(_choice(BELL_MEASUREMENTS), "deterministic"),
        "swapping": _Field(_choice(SWAPPING_POLICIES), "asap"),
    },
    "purification": {
        "scope": _Field(_choice(PURIFICATION_SCOPES), "none"),
        "method": _Field(_choice(PURIFICATION_METHODS), "dejmps"),
        "scheme": _Field(_registered("purification"), "recurrence"),
        "rounds": _Field(_integer(0), 0),
        "target_fidelity": _Field(_number(0.25, 1.0), None),
    },
    "hardware": {
        "node": _Field(_string, "nv_centre"),
        "channel": _Field(_string, "telecom_fiber"),
        "detector": _Field(_string, None),
        "source": _Field(_string, None),
        "station": _Field(_string, None),
        "interface": _Field(_string, None),
        "nodes": _Field(_preset_table, {}),
        "interfaces": _Field(_preset_table, {}),
        "overrides": _Field(_overrides, {}),
        # a user's gate and readout noise per node, from its memory (registry kind gate_noise)
        "gate_noise": _Field(_registered("gate_noise"), None),
    },
    "link": {
        "scheme": _Field(_registered("link_scheme"), "single_click"),
        "bright_state_population": _Field(_number(0.0, 1.0, low_open=True), 0.05),
        "multiplexing": _Field(_integer(1), 1),
        "cutoff_s": _Field(_number(0.0, low_open=True), math.inf),
        "tree_branching": _Field(_branching, None),
        "stations": _Field(_integer(0), 0),
        # where a node with a nuclear-spin register keeps a heralded pair (qstack.physical.node)
        "storage": _Field(_choice(PAIR_STORAGES), "register"),
        # std of the optical phase between a single-click link's arms (qstack.physical.optics)
        "optical_phase_std_rad": _Field(_number(0.0), 0.0),
    },
    "application": {
        "kind": _Field(_registered("application", ("none",)), "none"),
        "request": _Field(_integer(0), 0),
        "z_probability": _Field(_number(0.0, 1.0), 0.5),
    },
    "scheduling": {
        "policy": _Field(_registered("scheduler", ("none",)), "none"),
        "max_pairs_in_flight": _Field(_integer(0), 0),
    },
    "report": {
        # "summary": streamed statistics and a bounded reservoir of records per request (flat memory)
        "records": _Field(_choice(("full", "summary")), "full"),
    },
    # Raisable bounds (qstack.scenario.limits); file_bytes only from settings (--set).
    "limits": {name: _Field(_integer(1), default) for name, default in vars(Limits()).items()},
    "requests": [
        {
            "src": _Field(_string, required=True),
            "dst": _Field(_string, required=True),
            "pairs": _Field(_integer(1), 1),
            "min_fidelity": _Field(_number(0.0, 1.0), 0.0),
            "storage_time_s": _Field(_number(0.0), 0.0),
            "user": _Field(_string, None),
            "arrival_s": _Field(_number(0.0), 0.0),
            "deadline_s": _Field(_number(0.0, low_open=True), math.inf),
            "priority": _Field(_number(0.0, 1e9, low_open=True), 1.0),
            "min_rate_hz": _Field(_number(0.0, 1e12), 0.0),
            "arrivals": _Field(_integer(1), 1),
            "arrival_rate_hz": _Field(_number(0.0), 0.0),
        }
    ],
}


def validate(data: Any, schema: dict | None = None, prefix: str = "") -> dict:
    """The resolved table: every key checked, every default filled in (a new dict)."""
    if schema is None:
        schema = SCHEMA
    if not isinstance(data, dict):
        raise ScenarioError(f"{prefix or 'scenario'}: must be a table")
    unknown = sorted((set(data) - set(schema)), key=str)
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ScenarioError(f"{where}{short(unknown[0])}: unknown key; allowed here: {', '.join(schema)}")
    out = {}
    for name, spec in schema.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(spec, dict):
            out[name] = validate(data.get(name, {}), spec, key)
        elif isinstance(spec, list):
            items = data.get(name, [])
            if not isinstance(items, list):
                raise ScenarioError(f"{key}: must be an array of tables")
            out[name] = [validate(item, spec[0], f"{key}[{i}]") for i, item in enumerate(items)]
        elif name in data:
            out[name] = spec.check(key, data[name])
        elif spec.required:
            raise ScenarioError(f"{key}: required")
        else:
            out[name] = copy.deepcopy(spec.default)
    return out


