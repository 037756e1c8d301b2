"""Build the stack a scenario describes, run it, and report.

``run_scenario`` is what ``qstack run`` calls: presets and overrides become hardware models,
the chain becomes a ``networkx`` topology of heralded links, the requests are served in one
SimPy run, and every metric is read off that run.
"""

from __future__ import annotations

import dataclasses
import time

import networkx as nx
import numpy as np

from qstack.engine import Simulation, StateRegistry
from qstack.hardware import load_preset
from qstack.metrics import MemoryQuality, Report, bell_fidelity
from qstack.network import Network, PurificationPolicy, Request
from qstack.protocols import GateNoise
from qstack.protocols.ghz import distribute_ghz, ghz_fidelity
from qstack.protocols.qkd import bbm92
from qstack.protocols.teleportation import teleport
from qstack.physical import HeraldedLink, NodeHardware
from qstack.scenario import Scenario, ScenarioError
from qstack.scheduling import Dispatcher, make_scheduler, mean_heralded_state, poisson_arrivals, route_state


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

    data = scenario.data
    hw = data["hardware"]
    overrides = hw["overrides"]
    idealize = scenario.idealize
    node_presets = {hw["node"]: _preset_with_sections("node", "hardware.node", hw["node"], overrides)}
    for node_name, preset_name in hw["nodes"].items():
        if preset_name not in node_presets:
            node_presets[preset_name] = _preset_with_sections("node", f"hardware.nodes.{node_name}", preset_name, overrides)
    for preset_name, preset in node_presets.items():
        if preset.memory is None:
            raise ScenarioError(f"hardware.node: preset {preset_name!r} has no memory; choose a node preset")
    node_preset = node_presets[hw["node"]]
    _check_role_overrides("node", list(node_presets.values()), overrides)
    interfaces = {}
    interface_presets = []
    for name in scenario.node_names:
        interface_name = hw["interfaces"].get(name, hw["interface"])
        if interface_name is None or interface_name == "none":
            interfaces[name] = None
            continue
        key = f"hardware.interfaces.{name}" if name in hw["interfaces"] else "hardware.interface"
        preset = _preset_with_sections("interface", key, interface_name, overrides)
        if preset.transducer is None:
            raise ScenarioError(f"{key}: preset {interface_name!r} has no transducer; choose an interface preset")
        interface_presets.append(preset)
        interfaces[name] = _idealized_device(preset.transducer, idealize)
    _check_role_overrides("interface", interface_presets, overrides)
    station_preset = None
    if hw["station"] is not None:
        station_preset = _preset("station", hw["station"], overrides)
        if station_preset.emitter is None:
            raise ScenarioError(f"hardware.station: preset {hw['station']!r} has no emitter to generate trees")
    # The stations' detectors measure the tree photons of an all-photonic chain.
    detector = station_preset.detector if station_preset is not None and station_preset.detector else node_preset.detector
    if hw["detector"] is not None:
        detector = _preset("detector", hw["detector"], overrides).detector
    if detector is None:
        raise ScenarioError("hardware.detector: the node preset has no detector; name a preset that has one")
    detector = _idealized_device(detector, idealize)
    channel_preset = _preset_with_sections("channel", "hardware.channel", hw["channel"], overrides)
    channel = _channel_from(channel_preset, "hardware.channel", idealize)
    channel_presets = [channel_preset]
    edge_channels = {}
    for i, edge in enumerate(data["network"]["edges"] if data["network"]["topology"] == "custom" else []):
        if edge["channel"] is not None:
            where = f"network.edges[{i}].channel"
            channel_presets.append(_preset_with_sections("channel", where, edge["channel"], overrides))
            edge_channels[edge["a"], edge["b"]] = _channel_from(channel_presets[-1], where, idealize)
    _check_role_overrides("channel", channel_presets, overrides)
    pair_source = None
    link_cfg = data["link"]
    if link_cfg["scheme"] == "midpoint_source":
        if hw["source"] is None:
            raise ScenarioError("hardware.source: scheme 'midpoint_source' needs a pair-source preset (e.g. spdc_source)")
        pair_source = idealized(_preset("source", hw["source"], overrides).pair_source, idealize)
    graph = nx.Graph()
    for name in scenario.node_names:
        preset_name = hw["nodes"].get(name, hw["node"])
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
            if link_cfg["scheme"] == "all_photonic":
                station_emitter = None if station_preset is None else idealized(station_preset.emitter, idealize)
                link = AllPhotonicChain(
                    end_a=graph.nodes[a]["hardware"],
                    end_b=graph.nodes[b]["hardware"],
                    channel=edge_channel.with_length(length_km),
                    detector=detector,
                    code=TreeCode(link_cfg["tree_branching"] or ()),
                    stations=link_cfg["stations"],
                    station_emitter=station_emitter,
                    multiplexing=link_cfg["multiplexing"],
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
                    scheme=link_cfg["scheme"],
                    bright_state_population=link_cfg["bright_state_population"],
                    multiplexing=link_cfg["multiplexing"],
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
            swapping=data["network"]["swapping"],
            purification=policy,
            cutoff_s=link_cfg["cutoff_s"],
            decoherence="decoherence" not in idealize,
            probabilistic="probabilistic_generation" not in idealize,
            gate_noise="gate_noise" not in idealize,
            bsm="deterministic" if "bsm" in idealize else data["network"]["bsm"],
            routing=data["network"]["routing"],
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
    cfg = scenario.data["purification"]
    base = dict(scope=cfg["scope"], method=cfg["method"], scheme=cfg["scheme"])
    try:
        if cfg["target_fidelity"] is None:
            return PurificationPolicy(rounds=cfg["rounds"], **base)
        target = cfg["target_fidelity"]
        noise = GateNoise() if "gate_noise" in scenario.idealize else GateNoise.from_memory(
            next(iter(graph.nodes.values()))["hardware"].memory
        )
        paths = [nx.shortest_path(graph, r["src"], r["dst"]) for r in scenario.data["requests"]]
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


class ScenarioApplication:
    """The scenario's ``[application]``: consumes delivered pairs' real states as they arrive.

    * ``qkd``: BBM92 on every pair of one request, each side measuring with its node's readout
      noise; reports sampled and exact QBER in Z and X, the key fraction and the key rate.
    * ``teleportation``: teleports a Haar-random qubit state through every pair of one request
      with the sender's gate noise; reports the fidelity of each received state to the input.
    * ``ghz``: fuses one pair of each request (all from one hub) into a GHZ state per round.

    Measurement choices and input states come from a generator of their own (seeded from the
    scenario's seed), so running an application does not change the network's run.
    """

    def __init__(self, scenario: Scenario, network: Network, requests: list[Request]):
        cfg = scenario.data["application"]
        self.kind = cfg["kind"]
        self.z_probability = cfg["z_probability"]
        self.network = network
        self.rng = np.random.default_rng([scenario.seed, 0xA9])
        self.requests = requests if self.kind == "ghz" else [requests[cfg["request"]]]
        self.states: dict[str, list[np.ndarray]] = {r.label: [] for r in self.requests}
        self.times: dict[str, list[float]] = {r.label: [] for r in self.requests}
        if self.kind != "none":
            network.delivery_hooks.append(self._collect)

    def _collect(self, request: Request, record, rho) -> None:
        if request.label in self.states:
            self.states[request.label].append(np.array(rho, dtype=complex))
            self.times[request.label].append(record.delivered_s)

    def _aged(self, request: Request, rho: np.ndarray, since_s: float, until_s: float) -> np.ndarray:
        """The pair after waiting in its two memories from ``since_s`` to ``until_s``."""
        clock = [since_s]
        registry = StateRegistry(self.rng, clock=lambda: clock[0])
        idle = [self.network.banks[request.src].idle_model, self.network.banks[request.dst].idle_model]
        qubits = registry.new_qubits(["hub", "leaf"], idle=idle, rho=rho)
        clock[0] = until_s
        return registry.density_matrix(qubits)

    def _noise(self, node: str) -> GateNoise:
        return GateNoise.from_memory(self.network.graph.nodes[node]["hardware"].memory)

    def result(self, sim_time_s: float) -> dict | None:
        if self.kind == "none":
            return None
        if self.kind == "ghz":
            hub = self.requests[0].src
            rounds = min(len(v) for v in self.states.values())
            noise = self._noise(hub) if self.network.gate_noise else GateNoise()
            fidelities = []
            for i in range(rounds):
                # The hub fuses when the round's last pair arrives; the others wait in memory.
                fuse_at = max(self.times[r.label][i] for r in self.requests)
                pairs = [self._aged(r, self.states[r.label][i], self.times[r.label][i], fuse_at) for r in self.requests]
                fidelities.append(ghz_fidelity(distribute_ghz(pairs, noise)))
            return {
                "kind": "ghz",
                "hub": hub,
                "parties": len(self.requests) + 1,
                "states": rounds,
                "ghz_fidelity": _stats(fidelities),
                "rate_hz": rounds / sim_time_s if sim_time_s > 0 else None,
            }
        request = self.requests[0]
        states = self.states[request.label]
        if not states:
            return {"kind": self.kind, "request": request.label, "pairs_used": 0}
        noise_a = self._noise(request.src) if self.network.gate_noise else GateNoise()
        noise_b = self._noise(request.dst) if self.network.gate_noise else GateNoise()
        if self.kind == "qkd":
            sampled = bbm92(states, self.rng, self.z_probability, noise_a, noise_b)
            exact = bbm92(states, None, self.z_probability, noise_a, noise_b)
            pair_rate = len(states) / sim_time_s if sim_time_s > 0 else 0.0
            return {
                "kind": "qkd",
                "protocol": "BBM92",
                "request": request.label,
                "pairs_used": len(states),
                "z_probability": self.z_probability,
                "qber_z": sampled.qber_z,
                "qber_x": sampled.qber_x,
                "qber_z_exact": exact.qber_z,
                "qber_x_exact": exact.qber_x,
                "sifted": sampled.counts.sifted_z + sampled.counts.sifted_x,
                "key_fraction": exact.key_fraction,
                "secret_key_rate_hz": exact.key_rate_hz(pair_rate),
            }
        fidelities = []
        for rho in states:
            vector = self.rng.normal(size=2) + 1j * self.rng.normal(size=2)
            vector /= np.linalg.norm(vector)
            received = teleport(vector, rho, noise_a).data
            fidelities.append(float(np.real(vector.conj() @ received @ vector)))
        return {
            "kind": "teleportation",
            "request": request.label,
            "pairs_used": len(states),
            "teleportation_fidelity": _stats(fidelities),
        }


def _stats(values: list[float]) -> dict:
    if not values:
        return {"mean": None, "min": None}
    return {"mean": float(np.mean(values)), "min": float(np.min(values))}


def scenario_requests(scenario: Scenario) -> list[Request]:
    """The scenario's requests (one per user), named by ``user`` or ``r<i>:src->dst``."""
    requests = []
    for i, r in enumerate(scenario.data["requests"]):
        requests.append(Request(
            r["src"], r["dst"], r["pairs"], r["min_fidelity"], r["storage_time_s"],
            name=r["user"] or f"r{i}:{r['src']}->{r['dst']}",
            arrival_s=r["arrival_s"], deadline_s=r["deadline_s"], priority=r["priority"], min_rate_hz=r["min_rate_hz"],
        ))
    return requests


def add_scenario_users(dispatcher: Dispatcher, scenario: Scenario, requests: list[Request] | None = None,
                       seed: int | None = None) -> None:
    """Give ``dispatcher`` the scenario's users, each arriving at its ``arrival_s`` and then as
    a Poisson process (arrival times from a generator of their own, seeded by ``seed``, the
    scenario's seed by default)."""
    if requests is None:
        requests = scenario_requests(scenario)
    arrivals_rng = np.random.default_rng([scenario.seed if seed is None else seed, 0xA771])
    for i, (request, r) in enumerate(zip(requests, scenario.data["requests"])):
        times = poisson_arrivals(arrivals_rng, r["arrival_s"], r["arrivals"], r["arrival_rate_hz"])
        try:
            dispatcher.add_user(request, times)
        except ValueError as exc:
            raise ScenarioError(f"requests[{i}]: {exc}") from exc


def run_scenario(scenario: Scenario) -> Report:
    """Run ``scenario`` to completion (or to ``max_time_s`` of simulated time) and report."""
    wall_start = time.perf_counter()
    sim = Simulation(scenario.seed, engine=scenario.data["engine"])
    network = build_network(scenario, sim)
    requests = scenario_requests(scenario)
    policy = scenario.data["scheduling"]["policy"]
    dispatcher = None
    if policy == "none":
        processes = []
        for i, request in enumerate(requests):
            try:
                processes.append(network.submit(request))
            except ValueError as exc:
                raise ScenarioError(f"requests[{i}]: {exc}") from exc
        done = sim.env.all_of(processes)
    else:
        dispatcher = Dispatcher(network, make_scheduler(policy), seed=scenario.seed,
                                max_in_flight=scenario.data["scheduling"]["max_pairs_in_flight"])
        add_scenario_users(dispatcher, scenario, requests)
        done = dispatcher.done
    application = ScenarioApplication(scenario, network, requests)
    sim.env.run(until=sim.env.any_of([done, sim.env.timeout(scenario.data["max_time_s"])]))
    report = _report(scenario, sim, network, 0.0)
    report.application = application.result(report.sim_time_s)
    if dispatcher is not None:
        report.scheduling = dispatcher.report(report.sim_time_s).to_dict()
        for row, user in zip(report.requests, report.scheduling["users"]):
            row["pairs_requested"] = user["pairs_requested"]  # every arrival's pairs, not one job's
    report.wall_time_s = time.perf_counter() - wall_start
    return report


def _report(scenario: Scenario, sim: Simulation, network: Network, wall_time_s: float) -> Report:
    pairs = [record for stats in network.stats for record in stats.records]
    pairs.sort(key=lambda p: (p.delivered_s, p.request))
    pos: dict[str, float] = {}
    links = []
    for service in network.services:
        link = service.link
        prefix = f"link {service.name}"
        pos[f"{prefix} attempt"] = service.success_probability
        pos[f"{prefix} attempt (measured)"] = service.measured_success_probability()
        pos[f"{prefix} attempt_time_s"] = link.attempt_time_s
        pos[f"{prefix} mode"] = link.success_probability_per_mode
        links.append(
            {
                "link": service.name,
                "length_km": network.graph.edges[service.banks[0].name, service.banks[1].name]["length_km"],
                "scheme": link.scheme,
                "multiplexing": link.multiplexing,
                "p_attempt": service.success_probability,
                "attempt_time_s": link.attempt_time_s,
                "heralding_time_s": link.heralding_time_s,
                "channel": link.channel_kind,
                "photons_per_encoded_qubit": link.photons_per_qubit,
                "logical_transmission": link.logical_transmission,
                "transducer_efficiency": list(link.interface_efficiencies),
                "stations": getattr(link, "stations", 0),
                "attempts": service.attempts,
                "pairs": service.successes,
                "mean_attempts_per_pair": service.attempts / service.successes if service.successes else None,
            }
        )
    if network.swaps:
        pos["swap (measured)"] = 1 - network.swap_failures / network.swaps
    if network.purifications:
        pos["purification (measured)"] = 1 - network.purification_failures / network.purifications
    requests = []
    for stats in network.stats:
        request = stats.request
        fidelities = [r.fidelity for r in stats.records]
        generated = len(stats.records) + stats.cutoff_discards + stats.extraction_failures
        pos[f"request {request.label} cutoff survival"] = (
            (len(stats.records) + stats.extraction_failures) / generated if generated else float("nan")
        )
        pos[f"request {request.label} extraction"] = (
            len(stats.records) / (len(stats.records) + stats.extraction_failures)
            if stats.records or stats.extraction_failures
            else float("nan")
        )
        requests.append(
            {
                "request": request.label,
                "pairs_requested": request.pairs,
                "delivered": len(stats.records),
                "complete": stats.finished_s is not None,
                "finished_s": stats.finished_s,
                "mean_fidelity": sum(fidelities) / len(fidelities) if fidelities else None,
                "meeting_min_fidelity": sum(f >= request.min_fidelity for f in fidelities),
                "cutoff_discards": stats.cutoff_discards,
                "extraction_failures": stats.extraction_failures,
            }
        )
    qomq = []
    for name, bank in network.banks.items():
        storage = bank.node.nuclear_spin or bank.node.memory
        qomq.append(
            MemoryQuality(
                node=name,
                absorption_efficiency=bank.node.memory.write_efficiency,
                extraction_efficiency=bank.node.memory.read_efficiency,
                t1_s=storage.t1_s,
                t2_s=storage.t2_s,
                capacity=bank.capacity,
                mean_storage_s=bank.mean_storage_s,
                max_slots_used=bank.max_used,
            )
        )
    return Report(
        seed=scenario.seed,
        sim_time_s=float(sim.env.now),
        wall_time_s=wall_time_s,
        pairs=pairs,
        pos=pos,
        qomq=qomq,
        scenario=scenario.to_dict(),
        links=links,
        requests=requests,
    )
