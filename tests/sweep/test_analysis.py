"""Reading a sweep: metrics by dotted path, a plot."""

import json
import sys

import pytest

from qstack.sweep import RESULTS_FILE, SWEEP_FILE, SweepError, metric_value, plot_sweep


def test_metrics_are_read_by_dotted_paths(reference):
    record = reference[1][0]
    assert metric_value(record, "fidelity.mean") == record["report"]["fidelity"]["mean"]
    assert metric_value(record, "pos.link n0-n1 attempt") == record["report"]["pos"]["link n0-n1 attempt"]
    assert metric_value(record, "requests.0.delivered") == 2
    assert metric_value(record, "wall_time_s") == record["wall_time_s"]
    with pytest.raises(KeyError):
        metric_value(record, "fidelity.median")


def test_a_key_holding_dots_wins_over_a_shorter_key_and_the_report_over_the_record():
    record = {"wall_time_s": 1.0, "seed": 3,
              "report": {"a": {"b": 1}, "a.b": 2, "seed": 4, "items": [{"x": 5}], "key.with": {"dots": 6}}}
    assert metric_value(record, "a.b") == 2
    assert metric_value(record, "seed") == 4
    assert metric_value(record, "items.0.x") == 5
    assert metric_value(record, "key.with.dots") == 6
    with pytest.raises(KeyError):
        metric_value(record, "items.1.x")


def test_plot_of_a_metric_nobody_has_is_an_error(reference):
    with pytest.raises(SweepError, match="no finished point"):
        plot_sweep(reference[0], "fidelity.median")
    assert plot_sweep(reference[0], "throughput_hz").name == "throughput_hz.png"


def test_a_plot_leaves_out_failed_points_and_needs_one_with_the_metric(tmp_path):
    grid = {"scenario": "hand", "params": {"x": [1, 2]}, "seeds": [1]}
    (tmp_path / SWEEP_FILE).write_text(json.dumps(grid))
    lines = [{"point": "p1", "params": {"x": 1}, "seed": 1, "status": "error", "wall_time_s": 0.1, "error": "E"},
             {"point": "p2", "params": {"x": 2}, "seed": 1, "status": "ok", "wall_time_s": 0.1, "report": {"m": None}}]
    (tmp_path / RESULTS_FILE).write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(SweepError, match="no finished point"):
        plot_sweep(tmp_path, "m")
    target = plot_sweep(tmp_path, "wall_time_s", tmp_path / "plots" / "w.png")
    assert target == tmp_path / "plots" / "w.png" and target.stat().st_size > 0
