"""The event recorder: off changes nothing, on it counts what the report counts, and its trace
is valid Chrome trace-event JSON."""

import json
import math
from collections import Counter

import pytest

from qstack.cli import main
from qstack.engine.trace import EVENT_KINDS, Recorder, TraceEvent, chrome_trace
from qstack.runner import run_scenario
from qstack.scenario import load_scenario

CUTOFF_SETTINGS = {"link.cutoff_s": 0.02, "purification.scope": "link", "purification.rounds": 1}


def _run(source=None, settings=None, recorder=None):
    return run_scenario(load_scenario(source, settings=settings), recorder)


def _same_report(a, b) -> bool:
    da, db = a.to_dict(), b.to_dict()
    da.pop("wall_time_s"), db.pop("wall_time_s")
    return da == db


@pytest.fixture(scope="module")
def default_run():
    recorder = Recorder()
    return _run(recorder=recorder), recorder


@pytest.fixture(scope="module")
def cutoff_run():
    """Three trapped ions, link purification and a cut-off: swaps, rounds and discards happen."""
    recorder = Recorder()
    return _run("scenarios/chain_3_short_memory.toml", CUTOFF_SETTINGS, recorder), recorder


def test_recording_leaves_the_report_unchanged(default_run, cutoff_run):
    assert _same_report(default_run[0], _run())
    assert _same_report(cutoff_run[0], _run("scenarios/chain_3_short_memory.toml", CUTOFF_SETTINGS))


def test_generations_and_heralds_count_the_links_attempts_and_pairs(default_run):
    report, recorder = default_run
    kinds = Counter(e.kind for e in recorder.events)
    (link,) = report.links
    assert kinds["herald"] == kinds["generation"] == kinds["stored"] == link.pairs
    assert sum(e.count for e in recorder.events if e.kind == "generation") == link.attempts
    assert sum(e.count for e in recorder.events if e.kind == "herald") == link.attempts
    for event in recorder.events:
        assert event.kind in EVENT_KINDS and event.duration_s >= 0


def test_a_generation_spans_its_attempts_and_ends_at_its_herald(default_run):
    report, recorder = default_run
    attempt_time_s = report.links[0].attempt_time_s
    generations = [e for e in recorder.events if e.kind == "generation"]
    heralds = [e for e in recorder.events if e.kind == "herald"]
    for generation, herald in zip(generations, heralds):
        assert generation.duration_s == pytest.approx(generation.count * attempt_time_s, rel=1e-12)
        assert herald.time_s == pytest.approx(generation.end_s, rel=1e-12)
        assert herald.count == generation.count


def test_deliveries_carry_the_reported_fidelities_and_latencies(default_run):
    report, recorder = default_run
    deliveries = [e for e in recorder.events if e.kind == "delivery"]
    assert [e.value for e in deliveries] == [p.fidelity for p in report.pairs]
    assert [e.time_s for e in deliveries] == [p.delivered_s for p in report.pairs]
    assert [float(e.extra) for e in deliveries] == [p.latency_s for p in report.pairs]


def test_every_stored_qubit_is_held_until_freed_and_moved_first(default_run):
    report, recorder = default_run
    stored = [e for e in recorder.events if e.kind == "stored"]
    held = [e for e in recorder.events if e.kind == "held"]
    moves = [e for e in recorder.events if e.kind == "move"]
    assert len(held) == len(moves) == 2 * len(stored)  # NV centres: both ends move into a nuclear spin
    by_number = {e.count: e.time_s for e in stored}
    for span in held:
        assert span.time_s == by_number[span.count]
        assert span.value == pytest.approx(span.duration_s) and span.duration_s >= 0
    storage = report.scenario["requests"][0]["storage_time_s"]
    assert min(span.duration_s for span in held) >= storage * (1 - 1e-9)  # held at least the storage time


def test_swaps_rounds_and_cutoff_discards_match_the_report(cutoff_run):
    report, recorder = cutoff_run
    kinds = Counter(e.kind for e in recorder.events)
    assert kinds["cutoff"] > 0 and kinds["purification"] > 0 and kinds["swap"] > 0
    # a discard is marked at both ends of the discarded pair
    assert kinds["cutoff"] == 2 * sum(row.cutoff_discards for row in report.requests)
    assert {e.where for e in recorder.events if e.kind == "swap"} == {"n1"}
    rounds = [e for e in recorder.events if e.kind == "purification"]
    succeeded = sum(e.ok for e in rounds) / len(rounds)
    assert succeeded == pytest.approx(report.pos["purification (measured)"], rel=1e-12)
    for event in rounds + [e for e in recorder.events if e.kind == "cutoff"]:
        assert event.where in {"n0", "n1", "n2"}


def test_occupancy_stays_within_capacity_and_ends_empty(cutoff_run):
    report, recorder = cutoff_run
    last = {}
    for sample in recorder.occupancy:
        assert 0 <= sample.used <= sample.capacity
        last[sample.node, sample.resource] = sample.used
    assert set(last) == {(n, r) for n in ("n0", "n1", "n2") for r in ("slots", "communication")}
    assert all(used == 0 for used in last.values())
    peak = {n: max(s.used for s in recorder.occupancy if s.node == n and s.resource == "slots") for n in ("n0", "n1", "n2")}
    assert peak == {q.node: q.max_slots_used for q in report.qomq}


def test_the_recorder_keeps_its_first_events_and_counts_the_rest():
    recorder = Recorder(max_events=50)
    _run(recorder=recorder)
    assert len(recorder.events) == 50 and len(recorder.occupancy) == 50
    assert recorder.dropped > 0 and recorder.truncated
    with pytest.raises(ValueError, match="max_events"):
        Recorder(max_events=0)


def test_chrome_trace_has_the_trace_event_format(cutoff_run):
    _, recorder = cutoff_run
    trace = json.loads(json.dumps(chrome_trace(recorder)))
    events = trace["traceEvents"]
    assert trace["displayTimeUnit"] == "ms"
    for item in events:
        assert {"name", "ph", "ts", "pid", "tid"} <= set(item)
        assert item["ph"] in {"X", "i", "C", "M"}
        assert isinstance(item["ts"], (int, float)) and math.isfinite(item["ts"]) and item["ts"] >= 0
        assert isinstance(item["pid"], int) and isinstance(item["tid"], int)
        if item["ph"] == "X":
            assert item["dur"] >= 0
        if item["ph"] == "i":
            assert item["s"] in {"g", "p", "t"}
        if item["ph"] == "M":
            assert item["name"] in {"process_name", "thread_name"} and item["args"]["name"]
    spans = [e for e in recorder.events if e.duration_s > 0]
    complete = [e for e in events if e["ph"] == "X"]
    assert len(complete) == len(spans)
    # microseconds: the first span's start and length, times 1e6
    assert complete[0]["ts"] == spans[0].time_s * 1e6 and complete[0]["dur"] == spans[0].duration_s * 1e6
    # every (pid, tid) used by an event is named by a thread_name metadata event
    named = {(e["pid"], e["tid"]) for e in events if e["name"] == "thread_name"}
    assert {(e["pid"], e["tid"]) for e in events if e["ph"] != "M"} <= named
    assert sum(e["ph"] == "C" for e in events) == len(recorder.occupancy)


def test_failed_operations_say_so_in_the_trace():
    recorder = Recorder()
    recorder.events.append(TraceEvent(1e-3, "swap", "n1", 2e-6, ok=False))
    (item,) = [e for e in chrome_trace(recorder)["traceEvents"] if e["name"] == "swap"]
    assert item["args"] == {"ok": False} and item["ts"] == 1e3 and item["dur"] == 2.0


def test_cli_writes_the_trace(tmp_path, capsys):
    path = tmp_path / "run.json"
    assert main(["run", "--trace", str(path), "--set", "requests.0.pairs=3"]) == 0
    trace = json.loads(path.read_text())
    assert {e["name"] for e in trace["traceEvents"]} >= {"generation", "herald", "held", "delivery"}
    assert "trace written" in capsys.readouterr().err
