"""run_sweep: the grid in grid order, one line per point, progress at the start and per point."""

import json

import pytest

from qstack.sweep import RESULTS_FILE, Progress, SweepError, load_sweep, run_sweep
from qstack.sweep.execute import Outcome

from .conftest import FIXED, PARAMS, SEEDS


def test_a_sweep_is_the_grid_of_values_times_seeds_and_writes_one_line_per_point(reference):
    out, records = reference
    assert len(records) == 8 and all(r["status"] == "ok" for r in records)
    assert [(r["params"]["link.bright_state_population"], r["params"]["network.link_lengths_km"], r["seed"])
            for r in records[:3]] == [(0.05, [5.0], 3), (0.05, [5.0], 4), (0.05, [10.0], 3)]
    lines = (out / RESULTS_FILE).read_text().splitlines()
    assert len(lines) == 8
    first = json.loads(lines[0])
    assert set(first) == {"point", "params", "seed", "status", "wall_time_s", "report"}
    assert "wall_time_s" not in first["report"] and first["wall_time_s"] > 0
    assert first["report"]["delivered"] == 2 and first["report"]["seed"] == first["seed"]
    assert first["report"]["scenario"]["link"]["bright_state_population"] == first["params"]["link.bright_state_population"]
    assert len({r["point"] for r in records}) == 8
    grid = load_sweep(out)
    assert grid["params"] == PARAMS and grid["seeds"] == SEEDS and len(grid["points"]) == 8
    assert grid["settings"] == FIXED


def test_progress_counts_resumed_finished_and_failed_points(tmp_path, monkeypatch):
    def fake_run(table, settings, seed):
        if seed == 2:
            return Outcome("error", 0.1, error="RuntimeError: seed 2")
        return Outcome("ok", 0.1, report={"seed": seed})

    monkeypatch.setattr("qstack.sweep.execute.run_outcome", fake_run)
    grid = {"link.bright_state_population": [0.05, 0.1]}
    seen: list[Progress] = []
    run_sweep(None, grid, [1, 2], executor="inprocess", out_dir=tmp_path, progress=seen.append)
    assert [(p.total, p.resumed, p.finished, p.failed) for p in seen] == [
        (4, 0, 0, 0), (4, 0, 1, 0), (4, 0, 2, 1), (4, 0, 3, 1), (4, 0, 4, 2)]
    assert seen[0].record is None and seen[2].record["error"] == "RuntimeError: seed 2"

    seen.clear()  # again: the two ok points are resumed, the two failed ones run again
    records = run_sweep(None, grid, [1, 2], executor="inprocess", out_dir=tmp_path, progress=seen.append)
    assert [(p.resumed, p.finished, p.failed) for p in seen] == [(2, 0, 0), (2, 1, 1), (2, 2, 2)]
    assert [r["seed"] for r in records] == [1, 2, 1, 2]


@pytest.mark.parametrize(
    "options,message",
    [
        ({"executor": "threads"}, "must be one of process, inprocess, dask"),
        ({"executor": "dask"}, "needs a scheduler"),
        ({"workers": 0}, "--workers"),
        ({"out_dir": None}, "out_dir"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(tmp_path, options, message):
    kwargs = {"executor": "inprocess", "out_dir": tmp_path / "out", **options}
    with pytest.raises(SweepError, match=message):
        run_sweep(None, {"link.bright_state_population": [0.1]}, [1], **kwargs)
    assert not (tmp_path / "out").exists()
