"""Scenario files: TOML -> validated, resolved objects.

A scenario names the network, the hardware (presets plus overrides), the protocol choices, the
requests, the engine, the seed, and ``idealize = [...]`` for the physics-uninformed baseline.
Every key is checked: an unknown key, a wrong type or a value out of range raises
:class:`ScenarioError`, whose one-line message names the key and the allowed values.

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

from __future__ import annotations

import copy
import math
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from qstack.engine import ENGINES
from qstack.network import (
    PURIFICATION_METHODS,
    PURIFICATION_SCHEMES,
    PURIFICATION_SCOPES,
    ROUTING_COSTS,
    SWAPPING_POLICIES,
)
from qstack.physical import SCHEMES
from qstack.protocols.swapping import BELL_MEASUREMENTS
from qstack.scheduling import SCHEDULERS

IDEALIZATIONS = ("decoherence", "loss", "probabilistic_generation", "gate_noise", "bsm")
TOPOLOGIES = ("chain", "star", "grid", "custom")
SCHEDULING_POLICIES = ("none",) + SCHEDULERS


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message names the key and what is allowed."""


@dataclass(frozen=True)
class _Field:
    check: Callable[[str, Any], Any]
    default: Any = None
    required: bool = False


def _integer(minimum: int) -> Callable[[str, Any], int]:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ScenarioError(f"{key}: must be an integer >= {minimum}, got {value!r}")
        return value

    return check


def _number(low: float = -math.inf, high: float = math.inf, low_open: bool = False) -> Callable[[str, Any], float]:
    def check(key: str, value: Any) -> float:
        bracket = "(" if low_open else "["
        allowed = f"{bracket}{low:g}, {high:g}]"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ScenarioError(f"{key}: must be a number in {allowed}, got {value!r}")
        if value < low or value > high or (low_open and value == low):
            raise ScenarioError(f"{key}: must be in {allowed}, got {value!r}")
        return float(value)

    return check


def _choice(options: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(key: str, value: Any) -> str:
        if value not in options:
            raise ScenarioError(f"{key}: must be one of {', '.join(options)}; got {value!r}")
        return value

    return check


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{key}: must be a non-empty string, got {value!r}")
    return value


def _idealize(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ScenarioError(f"{key}: must be a list drawn from {', '.join(IDEALIZATIONS + ('all',))}; got {value!r}")
    out = []
    for item in value:
        if item == "all":
            out.extend(IDEALIZATIONS)
        elif item in IDEALIZATIONS:
            out.append(item)
        else:
            raise ScenarioError(f"{key}: unknown item {item!r}; allowed: {', '.join(IDEALIZATIONS + ('all',))}")
    return tuple(dict.fromkeys(out))


def _lengths(key: str, value: Any) -> tuple[float, ...]:
    values = value if isinstance(value, list) else [value]
    check = _number(0.0)
    return tuple(check(f"{key}[{i}]", v) for i, v in enumerate(values))


def _grid(key: str, value: Any) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)
        or value[0] * value[1] < 2
    ):
        raise ScenarioError(f"{key}: must be [rows, columns] of integers >= 1 with at least 2 nodes, got {value!r}")
    return tuple(value)


def _overrides(key: str, value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{key}: must be a table of 'role.section.field' = number")
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
                f"{key}.{path}: override keys are '{'|'.join(OVERRIDE_ROLES)}.<section>.<field>', got {path!r}"
            )
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ScenarioError(f"{key}.{path}: must be a number, got {v!r}")
    return flat


OVERRIDE_ROLES = ("node", "channel", "detector", "source", "interface", "station")
LINK_SCHEMES = SCHEMES + ("all_photonic",)


def _branching(key: str, value: Any) -> tuple[int, ...]:
    """A tree's branching vector: a non-empty list of integers >= 1 (omit the key for bare
    photons)."""
    if (
        not isinstance(value, list)
        or not value
        or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in value)
    ):
        raise ScenarioError(
            f"{key}: must be a non-empty list of integers >= 1 (omit it for bare photons), got {value!r}"
        )
    return tuple(value)


def _preset_table(key: str, value: Any) -> dict[str, str]:
    """``node name = "preset name"`` (per-node hardware or interfaces)."""
    if not isinstance(value, dict) or any(not isinstance(v, str) or not v for v in value.values()):
        raise ScenarioError(f"{key}: must be a table of node = \"preset name\", got {value!r}")
    return dict(value)


SCHEMA: dict[str, Any] = {
    "seed": _Field(_integer(0), 1),
    "engine": _Field(_choice(ENGINES), "fast"),
    "idealize": _Field(_idealize, ()),
    "max_time_s": _Field(_number(0.0, low_open=True), 3600.0),
    "network": {
        "topology": _Field(_choice(TOPOLOGIES), "chain"),
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
        "routing": _Field(_choice(ROUTING_COSTS), "hops"),
        "bsm": _Field(_choice(BELL_MEASUREMENTS), "deterministic"),
        "swapping": _Field(_choice(SWAPPING_POLICIES), "asap"),
    },
    "purification": {
        "scope": _Field(_choice(PURIFICATION_SCOPES), "none"),
        "method": _Field(_choice(PURIFICATION_METHODS), "dejmps"),
        "scheme": _Field(_choice(PURIFICATION_SCHEMES), "recurrence"),
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
    },
    "link": {
        "scheme": _Field(_choice(LINK_SCHEMES), "single_click"),
        "bright_state_population": _Field(_number(0.0, 1.0, low_open=True), 0.05),
        "multiplexing": _Field(_integer(1), 1),
        "cutoff_s": _Field(_number(0.0, low_open=True), math.inf),
        "tree_branching": _Field(_branching, None),
        "stations": _Field(_integer(0), 0),
    },
    "application": {
        "kind": _Field(_choice(("none", "qkd", "teleportation", "ghz")), "none"),
        "request": _Field(_integer(0), 0),
        "z_probability": _Field(_number(0.0, 1.0), 0.5),
    },
    "scheduling": {
        "policy": _Field(_choice(SCHEDULING_POLICIES), "none"),
        "max_pairs_in_flight": _Field(_integer(0), 0),
    },
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


def _validate(schema: dict, data: Any, prefix: str) -> dict:
    if not isinstance(data, dict):
        raise ScenarioError(f"{prefix or 'scenario'}: must be a table")
    unknown = sorted(set(data) - set(schema))
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ScenarioError(f"{where}{unknown[0]}: unknown key; allowed here: {', '.join(schema)}")
    out = {}
    for name, spec in schema.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(spec, dict):
            out[name] = _validate(spec, data.get(name, {}), key)
        elif isinstance(spec, list):
            items = data.get(name, [])
            if not isinstance(items, list):
                raise ScenarioError(f"{key}: must be an array of tables")
            out[name] = [_validate(spec[0], item, f"{key}[{i}]") for i, item in enumerate(items)]
        elif name in data:
            out[name] = spec.check(key, data[name])
        elif spec.required:
            raise ScenarioError(f"{key}: required")
        else:
            out[name] = copy.deepcopy(spec.default)
    return out


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. ``data`` is the resolved table, with every default filled in."""

    data: dict = field(repr=False)
    source: str = "<dict>"

    def __post_init__(self) -> None:
        network = self.data["network"]
        topology = network["topology"]
        if topology == "chain":
            links = network["nodes"] - 1
            lengths = network["link_lengths_km"]
            if len(lengths) == 1 and links > 1:
                network["link_lengths_km"] = lengths * links
            elif len(lengths) != links:
                raise ScenarioError(
                    f"network.link_lengths_km: a chain of {network['nodes']} nodes needs {links} lengths (or one), got {len(lengths)}"
                )
        elif topology == "star":
            network["link_lengths_km"] = network["link_lengths_km"][:1] * (network["nodes"] - 1)
        elif topology == "grid" and network["grid"] is None:
            raise ScenarioError("network.grid: topology 'grid' needs grid = [rows, columns]")
        elif topology == "custom" and not network["edges"]:
            raise ScenarioError("network.edges: topology 'custom' needs [[network.edges]] with a, b, length_km")
        purification = self.data["purification"]
        if purification["scope"] == "none" and (purification["rounds"] or purification["target_fidelity"] is not None):
            raise ScenarioError("purification.scope: set 'link' or 'end_to_end' to purify (rounds or target_fidelity given)")
        if purification["rounds"] > 10:
            raise ScenarioError(f"purification.rounds: must be in [0, 10], got {purification['rounds']}")
        if purification["rounds"] and purification["target_fidelity"] is not None:
            raise ScenarioError("purification.target_fidelity: give either rounds or target_fidelity, not both")
        application = self.data["application"]
        if application["kind"] in ("qkd", "teleportation") and application["request"] >= len(self.data["requests"]):
            raise ScenarioError(
                f"application.request: must index one of the {len(self.data['requests'])} requests, got {application['request']}"
            )
        if application["kind"] == "ghz":
            hubs = {r["src"] for r in self.data["requests"]}
            if len(self.data["requests"]) < 2 or len(hubs) != 1:
                raise ScenarioError("application.kind 'ghz': needs two or more requests from one hub (the same src)")
        names = self.node_names
        self._check_hardware_keys(names)
        if not self.data["requests"]:
            raise ScenarioError("requests: at least one request is needed")
        for i, request in enumerate(self.data["requests"]):
            for end in ("src", "dst"):
                if request[end] not in names:
                    raise ScenarioError(f"requests[{i}].{end}: unknown node {request[end]!r}; nodes are {', '.join(names)}")
            if request["src"] == request["dst"]:
                raise ScenarioError(f"requests[{i}]: src and dst must differ")
            if request["arrivals"] > 1 and request["arrival_rate_hz"] <= 0:
                raise ScenarioError(f"requests[{i}].arrival_rate_hz: must be > 0 for {request['arrivals']} Poisson arrivals")
            if self.data["scheduling"]["policy"] == "none":
                for key, default in (("arrivals", 1), ("arrival_s", 0.0), ("deadline_s", math.inf), ("arrival_rate_hz", 0.0)):
                    if request[key] != default:
                        raise ScenarioError(
                            f"requests[{i}].{key}: arrivals over time and deadlines need scheduling.policy "
                            f"(one of {', '.join(SCHEDULING_POLICIES[1:])})"
                        )
        users = [r["user"] for r in self.data["requests"] if r["user"] is not None]
        if len(users) != len(set(users)):
            raise ScenarioError("requests.user: user names must be unique")

    def _check_hardware_keys(self, names: list[str]) -> None:
        """Per-node tables name existing nodes; tree encoding and stations need all_photonic."""
        hardware, link = self.data["hardware"], self.data["link"]
        for table in ("nodes", "interfaces"):
            for node in hardware[table]:
                if node not in names:
                    raise ScenarioError(f"hardware.{table}.{node}: unknown node; nodes are {', '.join(names)}")
        if link["scheme"] != "all_photonic":
            for key, default in (("tree_branching", None), ("stations", 0)):
                if link[key] != default:
                    raise ScenarioError(f"link.{key}: only used by link.scheme 'all_photonic' (memory-less chains)")
            if hardware["station"] is not None:
                raise ScenarioError("hardware.station: only used by link.scheme 'all_photonic'")

    @property
    def node_names(self) -> list[str]:
        network = self.data["network"]
        if network["topology"] == "grid":
            rows, cols = network["grid"]
            return [f"n{r}_{c}" for r in range(rows) for c in range(cols)]
        if network["topology"] == "custom":
            return list(dict.fromkeys(name for e in network["edges"] for name in (e["a"], e["b"])))
        return [f"n{i}" for i in range(network["nodes"])]

    def edges(self) -> list[tuple[str, str, float]]:
        """``(a, b, length_km)`` for every link of the topology."""
        network = self.data["network"]
        if network["topology"] == "custom":
            return [(e["a"], e["b"], e["length_km"]) for e in network["edges"]]
        if network["topology"] == "star":
            names = self.node_names
            return [(names[0], leaf, length) for leaf, length in zip(names[1:], network["link_lengths_km"])]
        if network["topology"] == "grid":
            rows, cols = network["grid"]
            length = network["link_lengths_km"][0]
            out = []
            for r in range(rows):
                for c in range(cols):
                    if c + 1 < cols:
                        out.append((f"n{r}_{c}", f"n{r}_{c + 1}", length))
                    if r + 1 < rows:
                        out.append((f"n{r}_{c}", f"n{r + 1}_{c}", length))
            return out
        names = self.node_names
        return [(names[i], names[i + 1], length) for i, length in enumerate(network["link_lengths_km"])]

    @property
    def seed(self) -> int:
        return self.data["seed"]

    @property
    def idealize(self) -> tuple[str, ...]:
        return tuple(self.data["idealize"])

    def to_dict(self) -> dict:
        """JSON-ready copy (infinite cut-off written as null)."""

        def clean(v):
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            if isinstance(v, float) and math.isinf(v):
                return None
            return v

        return clean(self.data)


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as a TOML value (number, bool, string, array); else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _drop_nested(table: dict, parts: list[str]) -> None:
    """Remove ``parts`` spelled as nested tables (and the tables it leaves empty)."""
    if len(parts) == 1:
        table.pop(parts[0], None)
        return
    sub = table.get(parts[0])
    if isinstance(sub, dict):
        _drop_nested(sub, parts[1:])
        if not sub:
            del table[parts[0]]


def apply_setting(data: dict, path: str, value: Any) -> None:
    """Set ``a.b.c = value`` in a raw scenario table; ``requests.0.pairs`` indexes arrays."""
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise ScenarioError(f"--set {path!r}: expected key.path=value")
    if parts[:2] == ["hardware", "overrides"] and len(parts) > 3:
        # Override keys are dotted names ('node.memory.t2_s'); a file may write them quoted (flat)
        # or as nested tables. Replace both spellings, so the value set here is the one used.
        overrides = data.setdefault("hardware", {}).setdefault("overrides", {})
        if not isinstance(overrides, dict):
            raise ScenarioError(f"--set {path}: hardware.overrides is not a table")
        name = ".".join(parts[2:])
        _drop_nested(overrides, parts[2:])
        overrides[name] = value
        return
    target: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(target, list):
            if not part.isdigit() or int(part) >= len(target):
                raise ScenarioError(f"--set {path}: index {part!r} out of range")
            target = target[int(part)]
        else:
            target = target.setdefault(part, {} if not parts[i + 1].isdigit() else [])
    last = parts[-1]
    if isinstance(target, list):
        if not last.isdigit() or int(last) >= len(target):
            raise ScenarioError(f"--set {path}: index {last!r} out of range")
        target[int(last)] = value
    elif isinstance(target, dict):
        target[last] = value
    else:
        raise ScenarioError(f"--set {path}: {'.'.join(parts[:-1])} is not a table")


def default_scenario_text() -> str:
    return resources.files("qstack").joinpath("scenarios/default.toml").read_text()


def load_scenario(
    source: str | Path | dict | None = None,
    settings: dict[str, Any] | None = None,
    seed: int | None = None,
) -> Scenario:
    """Read, override and validate a scenario.

    ``source`` is a path, a raw table, or None for the bundled default; ``settings`` maps dotted
    keys to values (as ``--set``); ``seed`` replaces the scenario's seed.
    """
    if source is None:
        raw, name = tomllib.loads(default_scenario_text()), "default"
    elif isinstance(source, dict):
        raw, name = copy.deepcopy(source), "<dict>"
    else:
        path = Path(source)
        if not path.is_file():
            raise ScenarioError(f"scenario: no such file {str(path)!r}")
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"scenario {path}: not valid TOML ({exc})") from exc
        name = str(path)
    for key, value in (settings or {}).items():
        apply_setting(raw, key, value)
    if seed is not None:
        raw["seed"] = seed
    return Scenario(_validate(SCHEMA, raw, ""), source=name)
