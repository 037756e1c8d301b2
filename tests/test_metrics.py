"""``report.records = "summary"``: streamed statistics equal the full records' where every
record fits the reservoir, and memory stays bounded where they do not."""

import functools
import math

import pytest

from qstack.metrics import RecordSummary
from qstack.runner import run_scenario
from qstack.scenario import load_scenario

SETTINGS = {"requests.0.pairs": 300, "max_time_s": 1e6}


def _both(**settings):
    full = run_scenario(load_scenario(None, settings={**SETTINGS, **settings})).to_dict()
    summary = run_scenario(load_scenario(None, settings={**SETTINGS, **settings, "report.records": "summary"})).to_dict()
    return full, summary


def _close(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _close(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
    elif isinstance(a, float) and isinstance(b, float):
        assert b == pytest.approx(a, rel=1e-12, abs=1e-15)
    else:
        assert a == b


def test_summary_matches_the_full_records_when_every_record_fits():
    full, summary = _both()
    assert full["delivered"] == summary["delivered"] == 300
    assert summary.pop("records") == {"mode": "summary", "reservoir_per_request": 10_000, "exact_percentiles": True}
    assert summary["scenario"].pop("report") == {"records": "summary"}
    for key in ("wall_time_s",):
        full.pop(key), summary.pop(key)
    assert summary["latency_s"]["p95"] == full["latency_s"]["p95"]  # percentiles of the same values: exact
    _close(full, summary)  # sums streamed in another order: equal to rounding


def test_beyond_the_reservoir_counts_and_means_stay_exact_and_memory_bounded(monkeypatch):
    monkeypatch.setattr("qstack.runner.RecordSummary", functools.partial(RecordSummary, capacity=40))
    kept = []
    real = RecordSummary.append

    def spy(self, record):
        real(self, record)
        kept.append(len(self.kept))

    monkeypatch.setattr(RecordSummary, "append", spy)
    full, summary = _both()
    assert max(kept) == 40 and summary["records"]["exact_percentiles"] is False
    assert summary["delivered"] == full["delivered"]
    assert summary["fidelity"]["mean"] == pytest.approx(full["fidelity"]["mean"], rel=1e-12)
    assert summary["fidelity"]["min"] == full["fidelity"]["min"]
    assert summary["latency_s"]["mean"] == pytest.approx(full["latency_s"]["mean"], rel=1e-12)
    # percentiles are estimates from 40 of 300 latencies: within the sample's spread
    assert math.isfinite(summary["latency_s"]["p50"]) and summary["latency_s"]["p50"] > 0


def test_a_record_summary_is_list_like_where_the_stack_reads_records():
    from qstack.metrics import DelayBreakdown, PairRecord

    records = RecordSummary(min_fidelity=0.79, capacity=3)
    for i in range(10):
        records.append(PairRecord("r", 0.0, 1.0 + i, 0.5 + 0.05 * i, 1, DelayBreakdown(emission_wait_s=1.0 + i)))
    assert len(records) == 10 and records[-1].delivered_s == 10.0 and len(list(records)) == 3
    assert records.meeting == 4 and records.at_or_below_useful == 1
    assert records.fidelity_mean == pytest.approx(0.725) and records.fidelity_min == 0.5
    assert records.fidelity_std == pytest.approx(0.05 * math.sqrt(99 / 12))
