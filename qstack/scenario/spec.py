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

from .limits import Limits, names_list, short, show
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
    """Preset names per role, the overrides ``role.section.field = value``, and the registered
    ``gate_noise`` that gives every node's gate and readout noise (None: the memory's fidelities)."""

    node: str
    channel: str
    detector: str | None
    source: str | None
    station: str | None
    interface: str | None
    nodes: Mapping[str, str]
    interfaces: Mapping[str, str]
    overrides: Mapping[str, float]
    gate_noise: str | None = None


@dataclass(frozen=True)
class LinkSpec:
    scheme: str
    bright_state_population: float
    multiplexing: int
    cutoff_s: float
    tree_branching: tuple[int, ...] | None
    stations: int
    storage: str = "register"
    optical_phase_std_rad: float = 0.0


@dataclass(frozen=True)
class SchedulingSpec:
    policy: str
    max_pairs_in_flight: int


@dataclass(frozen=True)
class ReportSpec:
    """``[report]``: ``records = "full"`` keeps every pair's record, ``"summary"`` streams the
    statistics with a bounded reservoir per request (:class:`qstack.metrics.RecordSummary`)."""

    records: str = "full"


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
    report: ReportSpec = ReportSpec()
    limits: Limits = Limits()
    source: str = field(default="<dict>", compare=False)

    @classmethod
    def from_table(cls, raw: Mapping[str, Any], source: str = "<dict>") -> "Scenario":
        """Validate a raw table (plugins already imported) and build the typed scenario."""
        table = validate(raw)
        limits = Limits.of(table["limits"])
        check_sizes(table, limits)  # before the topology (or anything sized by the table) is built
        net = table["network"]
        network = NetworkSpec(**{**net, "edges": tuple(EdgeSpec(**e) for e in net["edges"])})
        scenario = cls(
            plugins=table["plugins"], seed=table["seed"], engine=table["engine"], idealize=table["idealize"],
            max_time_s=table["max_time_s"], network=network,
            purification=PurificationSpec(**table["purification"]), hardware=HardwareSpec(**table["hardware"]),
            link=LinkSpec(**table["link"]), application=ApplicationSpec(**table["application"]),
            scheduling=SchedulingSpec(**table["scheduling"]),
            requests=tuple(RequestSpec(**r) for r in table["requests"]), report=ReportSpec(**table["report"]),
            limits=limits, source=source,
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
            topology = builder(self.network)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from exc
        for what, count in (("nodes", len(topology.nodes)), ("links", len(topology.edges))):
            _within(f"network.topology: {count} {what}", count, what, getattr(self.limits, what))
        return topology

    @property
    def node_names(self) -> list[str]:
        return list(self.topology.nodes)

    def edges(self) -> list[tuple[str, str, float]]:
        """``(a, b, length_km)`` for every link of the topology."""
        return list(self.topology.edges)

    def to_dict(self) -> dict:
        """The resolved table, JSON-ready (an infinite cut-off written as null)."""
        table = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name not in ("source", "limits")}
        if not self.plugins:
            del table["plugins"]  # reports of scenarios without plugins keep their keys
        if self.report == ReportSpec():
            del table["report"]  # default reports keep their keys
        if self.limits.changed():
            table["limits"] = self.limits.changed()  # raised bounds only: default reports keep their keys
        return clean(table)

    def check(self) -> None:
        """Cross-key rules no single key can check (one-line ScenarioError naming the key)."""
        _check_purification(self.purification)
        _check_application(self.application, self.requests)
        _check_hardware_keys(self)
        _check_requests(self)


def _within(what: str, count: int, key: str, bound: int) -> None:
    if count > bound:
        raise ScenarioError(f"{what}, more than limits.{key} = {bound} (raise it in [limits] or with --set limits.{key}=N)")


def check_sizes(table: dict, limits: Limits) -> None:
    """The raisable bounds of :mod:`.limits` on a validated table, before anything is built from it."""
    net, link = table["network"], table["link"]
    _within(f"network.nodes: {net['nodes']} nodes", net["nodes"], "nodes", limits.nodes)
    if net["grid"] is not None:
        rows, cols = net["grid"]
        _within(f"network.grid: {rows} x {cols} nodes", rows * cols, "nodes", limits.nodes)
    for key in ("edges", "link_lengths_km"):
        _within(f"network.{key}: {len(net[key])} links", len(net[key]), "links", limits.links)
    _within(f"requests: {len(table['requests'])} requests", len(table["requests"]), "requests", limits.requests)
    _within(f"link.stations: {link['stations']} stations", link["stations"], "stations", limits.stations)
    _within(f"link.multiplexing: {link['multiplexing']} modes", link["multiplexing"], "multiplexing", limits.multiplexing)
    photons, level = 0, 1
    for branches in link["tree_branching"] or ():  # N = sum_k prod_{i <= k} b_i, stopped once too many
        level *= branches
        photons += level
        _within(f"link.tree_branching: more than {min(photons, limits.tree_photons)} photons per tree", photons,
                "tree_photons", limits.tree_photons)
    for i, r in enumerate(table["requests"]):
        expected = r["arrivals"] if r["arrivals"] == 1 else min(r["arrivals"], 1 + r["arrival_rate_hz"] * table["max_time_s"])
        _within(f"requests[{i}].arrivals: {show(expected)} expected arrivals within max_time_s", expected, "arrivals",
                limits.arrivals)


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
                raise ScenarioError(f"hardware.{table}.{short(node)}: unknown node; nodes are {names_list(names)}")
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
                raise ScenarioError(f"requests[{i}].{end}: unknown node {show(getattr(request, end))}; nodes are {names_list(names)}")
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
    "ReportSpec", "RequestSpec", "Scenario", "SchedulingSpec",
]
