"""Typed scenario: the resolved TOML table parsed once into frozen specs.

Nothing downstream reads the table: the composition root (:mod:`qstack.build`) and the runner
read these specs. :meth:`Scenario.to_dict` gives the resolved table back (the report's
``scenario`` key).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import Any, Mapping

from qstack import registry
from qstack.applications import ApplicationSpec
from qstack.metrics import clean
from qstack.topology import Topology

from .schema import ScenarioError, scheduling_policies, validate


@dataclass(frozen=True)
class EdgeSpec:
    """One ``[[network.edges]]`` entry of a custom topology."""

    a: str
    b: str
    length_km: float
    channel: str | None = None


@dataclass(frozen=True)
class NetworkSpec:
    topology: str
    nodes: int
    link_lengths_km: tuple[float, ...]
    grid: tuple[int, int] | None
    edges: tuple[EdgeSpec, ...]
    routing: str
    bsm: str
    swapping: str


@dataclass(frozen=True)
class PurificationSpec:
    scope: str
    method: str
    scheme: str
    rounds: int
    target_fidelity: float | None


@dataclass(frozen=True)
class HardwareSpec:
    """Preset names per role and the overrides ``role.section.field = value``."""

    node: str
    channel: str
    detector: str | None
    source: str | None
    station: str | None
    interface: str | None
    nodes: Mapping[str, str]
    interfaces: Mapping[str, str]
    overrides: Mapping[str, float]


@dataclass(frozen=True)
class LinkSpec:
    scheme: str
    bright_state_population: float
    multiplexing: int
    cutoff_s: float
    tree_branching: tuple[int, ...] | None
    stations: int


@dataclass(frozen=True)
class SchedulingSpec:
    policy: str
    max_pairs_in_flight: int


@dataclass(frozen=True)
class RequestSpec:
    """One ``[[requests]]`` entry: a user's pairs between two nodes and its requirements."""

    src: str
    dst: str
    pairs: int
    min_fidelity: float
    storage_time_s: float
    user: str | None
    arrival_s: float
    deadline_s: float
    priority: float
    min_rate_hz: float
    arrivals: int
    arrival_rate_hz: float


@dataclass(frozen=True)
class Scenario:
    """A validated scenario, every default filled in. Build with :func:`load_scenario` or
    :meth:`from_table`."""

    plugins: tuple[str, ...]
    seed: int
    engine: str
    idealize: tuple[str, ...]
    max_time_s: float
    network: NetworkSpec
    purification: PurificationSpec
    hardware: HardwareSpec
    link: LinkSpec
    application: ApplicationSpec
    scheduling: SchedulingSpec
    requests: tuple[RequestSpec, ...]
    source: str = field(default="<dict>", compare=False)

    @classmethod
    def from_table(cls, raw: Mapping[str, Any], source: str = "<dict>") -> "Scenario":
        """Validate a raw table (plugins already imported) and build the typed scenario."""
        table = validate(raw)
        net = table["network"]
        network = NetworkSpec(**{**net, "edges": tuple(EdgeSpec(**e) for e in net["edges"])})
        scenario = cls(
            plugins=table["plugins"], seed=table["seed"], engine=table["engine"], idealize=table["idealize"],
            max_time_s=table["max_time_s"], network=network,
            purification=PurificationSpec(**table["purification"]), hardware=HardwareSpec(**table["hardware"]),
            link=LinkSpec(**table["link"]), application=ApplicationSpec(**table["application"]),
            scheduling=SchedulingSpec(**table["scheduling"]),
            requests=tuple(RequestSpec(**r) for r in table["requests"]), source=source,
        )
        if scenario.topology.link_lengths_km is not None:
            scenario = replace(scenario, network=replace(network, link_lengths_km=scenario.topology.link_lengths_km))
        scenario.check()
        return scenario

    @cached_property
    def topology(self) -> Topology:
        """Nodes and links, from the registered builder of ``network.topology``."""
        builder = registry.lookup("topology", self.network.topology, "network.topology")
        try:
            return builder(self.network)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from exc

    @property
    def node_names(self) -> list[str]:
        return list(self.topology.nodes)

    def edges(self) -> list[tuple[str, str, float]]:
        """``(a, b, length_km)`` for every link of the topology."""
        return list(self.topology.edges)

    def to_dict(self) -> dict:
        """The resolved table, JSON-ready (an infinite cut-off written as null)."""
        table = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "source"}
        if not self.plugins:
            del table["plugins"]  # reports of scenarios without plugins keep their keys
        return clean(table)

    def check(self) -> None:
        """Cross-key rules no single key can check (one-line ScenarioError naming the key)."""
        _check_purification(self.purification)
        _check_application(self.application, self.requests)
        _check_hardware_keys(self)
        _check_requests(self)


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _check_purification(p: PurificationSpec) -> None:
    if p.scope == "none" and (p.rounds or p.target_fidelity is not None):
        raise ScenarioError("purification.scope: set 'link' or 'end_to_end' to purify (rounds or target_fidelity given)")
    if p.rounds > 10:
        raise ScenarioError(f"purification.rounds: must be in [0, 10], got {p.rounds}")
    if p.rounds and p.target_fidelity is not None:
        raise ScenarioError("purification.target_fidelity: give either rounds or target_fidelity, not both")


def _check_application(application: ApplicationSpec, requests: tuple[RequestSpec, ...]) -> None:
    """The registered application's own check of its spec against the requests."""
    if application.kind == "none":
        return
    app = registry.lookup("application", application.kind, "application.kind")
    try:
        app.check_spec(application, requests)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from exc


def _check_hardware_keys(scenario: Scenario) -> None:
    """Per-node tables name existing nodes; tree encoding and stations need all_photonic."""
    names = scenario.node_names
    hardware, link = scenario.hardware, scenario.link
    for table in ("nodes", "interfaces"):
        for node in getattr(hardware, table):
            if node not in names:
                raise ScenarioError(f"hardware.{table}.{node}: unknown node; nodes are {', '.join(names)}")
    if link.scheme != "all_photonic":
        for key, default in (("tree_branching", None), ("stations", 0)):
            if getattr(link, key) != default:
                raise ScenarioError(f"link.{key}: only used by link.scheme 'all_photonic' (memory-less chains)")
        if hardware.station is not None:
            raise ScenarioError("hardware.station: only used by link.scheme 'all_photonic'")


def _check_requests(scenario: Scenario) -> None:
    names = scenario.node_names
    if not scenario.requests:
        raise ScenarioError("requests: at least one request is needed")
    for i, request in enumerate(scenario.requests):
        for end in ("src", "dst"):
            if getattr(request, end) not in names:
                raise ScenarioError(f"requests[{i}].{end}: unknown node {getattr(request, end)!r}; nodes are {', '.join(names)}")
        if request.src == request.dst:
            raise ScenarioError(f"requests[{i}]: src and dst must differ")
        if request.arrivals > 1 and request.arrival_rate_hz <= 0:
            raise ScenarioError(f"requests[{i}].arrival_rate_hz: must be > 0 for {request.arrivals} Poisson arrivals")
        if scenario.scheduling.policy == "none":
            for key, default in (("arrivals", 1), ("arrival_s", 0.0), ("deadline_s", math.inf), ("arrival_rate_hz", 0.0)):
                if getattr(request, key) != default:
                    raise ScenarioError(
                        f"requests[{i}].{key}: arrivals over time and deadlines need scheduling.policy "
                        f"(one of {', '.join(scheduling_policies()[1:])})"
                    )
    users = [r.user for r in scenario.requests if r.user is not None]
    if len(users) != len(set(users)):
        raise ScenarioError("requests.user: user names must be unique")


__all__ = [
    "ApplicationSpec", "EdgeSpec", "HardwareSpec", "LinkSpec", "NetworkSpec", "PurificationSpec",
    "RequestSpec", "Scenario", "SchedulingSpec",
]
