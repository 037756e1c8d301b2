"""The report: the fidelity convention and the report's arithmetic, by attribute and as JSON."""

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, Statevector, random_density_matrix, state_fidelity

from qstack.metrics import DelayBreakdown, PairRecord, bell_fidelity
from qstack.report import Report, RequestRow


@pytest.mark.parametrize("seed", range(5))
def test_bell_fidelity_is_qiskits_state_fidelity_to_phi_plus(seed):
    rho = random_density_matrix(4, seed=seed)
    phi_plus = Statevector(np.array([1, 0, 0, 1]) / np.sqrt(2))
    assert bell_fidelity(rho.data) == pytest.approx(state_fidelity(DensityMatrix(rho), phi_plus), abs=1e-12)


def test_report_summaries_and_breakdown():
    records = [
        PairRecord("r", 0.0, 2.0, 0.9, 3, DelayBreakdown(emission_wait_s=1.5, heralding_s=0.5)),
        PairRecord("r", 1.0, 5.0, 0.7, 5, DelayBreakdown(emission_wait_s=3.0, storage_s=1.0)),
    ]
    typed = Report(seed=1, sim_time_s=10.0, wall_time_s=0.1, pairs=tuple(records), pos={}, qomq=())
    assert typed.fidelity.mean == pytest.approx(0.8) and typed.latency_s.p50 == pytest.approx(3.0)
    report = typed.to_dict()
    assert report["delivered"] == 2 and report["throughput_hz"] == pytest.approx(0.2)
    assert report["fidelity"] == pytest.approx({"mean": 0.8, "std": 0.1, "min": 0.7})
    assert report["latency_s"]["mean"] == pytest.approx(3.0)
    assert sum(report["delay_breakdown_s"].values()) == pytest.approx(report["latency_s"]["mean"])


def _row(name: str, requested: int, fidelities: list[float], complete: bool = True) -> RequestRow:
    return RequestRow(
        request=name, pairs_requested=requested, delivered=len(fidelities), complete=complete,
        finished_s=1.0 if complete else None, mean_fidelity=sum(fidelities) / len(fidelities) if fidelities else None,
        meeting_min_fidelity=len(fidelities), cutoff_discards=0, extraction_failures=0,
        pairs_at_or_below_half=sum(f <= 0.5 for f in fidelities),
    )


def _records(name: str, fidelities: list[float]) -> tuple[PairRecord, ...]:
    return tuple(PairRecord(name, 0.0, 1.0, f, 1, DelayBreakdown(emission_wait_s=1.0)) for f in fidelities)


def test_a_run_stopped_at_max_time_says_so_in_json_and_table():
    rows = (_row("a", 5, [0.9, 0.8]), _row("b", 4, [0.7], complete=False))
    report = Report(seed=1, sim_time_s=30.0, wall_time_s=0.0, pairs=_records("a", [0.9, 0.8]) + _records("b", [0.7]),
                    pos={}, qomq=(), requests=rows)
    d = report.to_dict()
    assert d["complete"] is False and d["stopped_at_max_time"] is True
    assert d["pairs_requested"] == 9 and d["delivered"] == 3
    assert [r["complete"] for r in d["requests"]] == [True, False]  # the per-request keys stay
    incomplete = [line for line in report.table().splitlines() if line.startswith("INCOMPLETE")]
    assert len(incomplete) == 1 and "3 of 9" in incomplete[0] and "max_time_s" in incomplete[0] and "b 1/4" in incomplete[0]


def test_a_finished_run_that_got_fewer_pairs_than_asked_is_incomplete_but_not_stopped():
    # A scheduler may drop jobs: every request finished, one with fewer pairs than requested.
    report = Report(seed=1, sim_time_s=3.0, wall_time_s=0.0, pairs=_records("a", [0.9]), pos={}, qomq=(),
                    requests=(_row("a", 2, [0.9]),))
    assert not report.complete and not report.stopped_at_max_time
    assert "not served in full" in report.table()


def test_a_complete_run_shows_no_warning_and_an_empty_one_is_complete():
    report = Report(seed=1, sim_time_s=3.0, wall_time_s=0.0, pairs=_records("a", [0.9, 0.51]), pos={}, qomq=(),
                    requests=(_row("a", 2, [0.9, 0.51]),))
    assert report.complete and report.to_dict()["complete"] is True
    assert not any(line.startswith(("INCOMPLETE", "WARNING")) for line in report.table().splitlines())
    assert Report(seed=1, sim_time_s=0.0, wall_time_s=0.0, pairs=(), pos={}, qomq=()).complete


def test_pairs_at_or_below_half_are_flagged_per_request():
    rows = (_row("a", 3, [0.5, 0.49, 0.5000001]), _row("b", 1, [0.95]))
    report = Report(seed=1, sim_time_s=3.0, wall_time_s=0.0, pairs=(), pos={}, qomq=(), requests=rows)
    assert [r["pairs_at_or_below_half"] for r in report.to_dict()["requests"]] == [2, 0]
    warning = [line for line in report.table().splitlines() if line.startswith("WARNING")]
    assert len(warning) == 1 and "2 pairs" in warning[0] and "a 2" in warning[0] and "b " not in warning[0]
