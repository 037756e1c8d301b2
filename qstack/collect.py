"""Reading a finished run into its typed :class:`~qstack.report.Report`.

Every figure is counted in the run: link attempts and successes, swaps and purifications that
failed, cut-off discards, storage times and slot use of each memory, and the delivered records.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

from qstack.engine import Simulation
from qstack.metrics import PairsSummary, RecordSummary
from qstack.network import Network
from qstack.report import USEFUL_FIDELITY, LinkRow, MemoryQuality, Report, RequestRow


def collect_report(sim: Simulation, network: Network, *, seed: int, scenario: dict | None = None,
                   application=None, dispatcher=None, wall_start: float | None = None,
                   interrupted: bool = False) -> Report:
    """The report of a run that has ended (``sim`` at its final time; ``interrupted``: stopped
    by Ctrl-C, the report holds what was delivered until then)."""
    sim_time_s = float(sim.env.now)
    pairs = sorted((r for stats in network.stats for r in stats.records), key=lambda p: (p.delivered_s, p.request))
    summaries = [stats.records for stats in network.stats if isinstance(stats.records, RecordSummary)]
    summary = PairsSummary.of(summaries) if summaries else None  # report.records = "summary"
    scheduling = None if dispatcher is None else dispatcher.report(sim_time_s)
    requests = _request_rows(network)
    if scheduling is not None:  # every arrival's pairs, not one job's
        requests = [_with_requested(row, user.pairs_requested) for row, user in zip(requests, scheduling.users)]
    wall = 0.0 if wall_start is None else time.perf_counter() - wall_start
    return Report(
        seed=seed,
        sim_time_s=sim_time_s,
        wall_time_s=wall,
        pairs=tuple(pairs),
        pos=_pos(network),
        qomq=tuple(_memory_quality(network)),
        scenario=scenario or {},
        links=tuple(_link_row(network, service) for service in network.services),
        requests=tuple(requests),
        application=None if application is None else application.result(sim_time_s),
        scheduling=scheduling,
        summary=summary,
        interrupted=interrupted,
    )


def _pos(network: Network) -> dict[str, float]:
    """Probability of success per component, from the link models and counted events."""
    pos: dict[str, float] = {}
    for service in network.services:
        prefix = f"link {service.name}"
        pos[f"{prefix} attempt"] = service.success_probability
        pos[f"{prefix} attempt (measured)"] = service.measured_success_probability()
        pos[f"{prefix} attempt_time_s"] = service.link.attempt_time_s
        pos[f"{prefix} mode"] = service.link.success_probability_per_mode
    if network.swaps:
        pos["swap (measured)"] = 1 - network.swap_failures / network.swaps
    if network.purifications:
        pos["purification (measured)"] = 1 - network.purification_failures / network.purifications
    for stats in network.stats:
        label, delivered = stats.request.label, len(stats.records)
        generated = delivered + stats.cutoff_discards + stats.extraction_failures
        pos[f"request {label} cutoff survival"] = (
            (delivered + stats.extraction_failures) / generated if generated else math.nan
        )
        pos[f"request {label} extraction"] = (
            delivered / (delivered + stats.extraction_failures) if delivered or stats.extraction_failures else math.nan
        )
    return pos


def _link_row(network: Network, service) -> LinkRow:
    link = service.link
    return LinkRow(
        link=service.name,
        length_km=network.graph.edges[service.banks[0].name, service.banks[1].name].get("length_km"),
        scheme=link.scheme,
        multiplexing=link.multiplexing,
        p_attempt=service.success_probability,
        attempt_time_s=link.attempt_time_s,
        heralding_time_s=link.heralding_time_s,
        channel=link.channel_kind,
        photons_per_encoded_qubit=link.photons_per_qubit,
        logical_transmission=link.logical_transmission,
        transducer_efficiency=tuple(link.interface_efficiencies),
        stations=link.stations,
        attempts=service.attempts,
        pairs=service.successes,
        mean_attempts_per_pair=service.attempts / service.successes if service.successes else None,
    )


def _request_rows(network: Network) -> list[RequestRow]:
    rows = []
    for stats in network.stats:
        request, records = stats.request, stats.records
        if isinstance(records, RecordSummary):
            mean = records.fidelity_mean if records.count else None
            meeting, low = records.meeting, records.at_or_below_useful
        else:
            fidelities = [r.fidelity for r in records]
            mean = sum(fidelities) / len(fidelities) if fidelities else None
            meeting = sum(f >= request.min_fidelity for f in fidelities)
            low = sum(f <= USEFUL_FIDELITY for f in fidelities)
        rows.append(RequestRow(
            request=request.label,
            pairs_requested=request.pairs,
            delivered=len(records),
            complete=stats.finished_s is not None,
            finished_s=stats.finished_s,
            mean_fidelity=mean,
            meeting_min_fidelity=meeting,
            cutoff_discards=stats.cutoff_discards,
            extraction_failures=stats.extraction_failures,
            pairs_at_or_below_half=low,
        ))
    return rows


def _with_requested(row: RequestRow, pairs_requested: int) -> RequestRow:
    return replace(row, pairs_requested=pairs_requested)


def _memory_quality(network: Network) -> list[MemoryQuality]:
    rows = []
    for name, bank in network.banks.items():
        node = bank.node
        rows.append(MemoryQuality(
            node=name,
            absorption_efficiency=node.memory.write_efficiency,
            extraction_efficiency=node.memory.read_efficiency,
            t1_s=node.storage_t1_s,
            t2_s=node.storage_t2_s,
            capacity=bank.capacity,
            mean_storage_s=bank.mean_storage_s,
            max_slots_used=bank.max_used,
            communication_qubits=bank.communication_qubits,
            communication_utilisation=bank.communication_utilisation(float(network.sim.env.now)),
        ))
    return rows
