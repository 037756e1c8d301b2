"""Sweeps: the same reports on every executor, resume after a kill, failing points, bad input."""

import json
import signal
import subprocess
import sys
import time

import pytest

from qstack.cli import main
from qstack.sweep import (
    RESULTS_FILE,
    SweepError,
    load_results,
    load_sweep,
    metric_value,
    plot_sweep,
    run_sweep,
    split_values,
    to_frame,
)

FIXED = {"requests.0.pairs": 2}
PARAMS = {"link.bright_state_population": [0.05, 0.1], "network.link_lengths_km": [[5.0], [10.0]]}
SEEDS = [3, 4]
CLI_GRID = [
    "--set", "requests.0.pairs=2",
    "--param", "link.bright_state_population=0.05,0.1",
    "--param", "network.link_lengths_km=[5.0],[10.0]",
    "--seed-list", "3,4",
]


def _reports(records):
    """point id -> report as canonical JSON (wall time is not in the report)."""
    return {r["point"]: json.dumps(r["report"], sort_keys=True) for r in records}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The grid run in this process: 2 x 2 values x 2 seeds."""
    out = tmp_path_factory.mktemp("inprocess")
    records = run_sweep(None, PARAMS, SEEDS, executor="inprocess", out_dir=out, settings=FIXED)
    return out, records


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


def test_a_point_reproduces_qstack_run_with_the_same_settings_and_seed(reference, capsys):
    _, records = reference
    point = records[-1]
    assert main(["run", "--json", "--seed", str(point["seed"]), "--set", "requests.0.pairs=2",
                 "--set", "link.bright_state_population=0.1", "--set", "network.link_lengths_km=[10.0]"]) == 0
    report = json.loads(capsys.readouterr().out)
    report.pop("wall_time_s")
    assert json.dumps(report, sort_keys=True) == json.dumps(point["report"], sort_keys=True)


def test_process_pool_gives_bit_identical_reports_and_plots(reference, tmp_path):
    out = tmp_path / "pool"
    assert main(["sweep", *CLI_GRID, "--workers", "2", "--out", str(out), "--plot", "fidelity.mean"]) == 0
    assert _reports(load_results(out)) == _reports(reference[1])
    figure = out / "fidelity.mean.png"
    assert figure.is_file() and figure.stat().st_size > 0


def test_dask_cluster_gives_bit_identical_reports(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        records = run_sweep(None, PARAMS, SEEDS, executor="dask", scheduler=cluster.scheduler_address,
                            out_dir=tmp_path, settings=FIXED)
    assert _reports(records) == _reports(reference[1])
    assert [r["point"] for r in records] == [r["point"] for r in reference[1]]


def test_killed_sweep_resumes_without_recomputing_finished_points(tmp_path):
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "qstack.cli", "sweep", "--set", "requests.0.pairs=2",
               "--param", "link.bright_state_population=0.05,0.1", "--seeds", "5", "--in-process", "--out", str(out)]
    results = out / RESULTS_FILE
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if results.is_file() and results.read_text().count("\n") >= 1:
                break
            time.sleep(0.02)
        assert process.poll() is None, f"the sweep ended before it could be killed: {process.stderr.read()}"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    before = [line for line in results.read_text().splitlines(keepends=True) if line.endswith("\n")]
    assert 1 <= len(before) < 10, "killed too late to test resuming"

    rerun = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(before)} already finished" in rerun.stdout
    after = results.read_text().splitlines(keepends=True)
    assert len(after) == 10
    assert after[: len(before)] == before  # finished lines untouched, and not written again
    assert len({json.loads(line)["point"] for line in after}) == 10
    assert all(json.loads(line)["status"] == "ok" for line in after)

    third = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert third.returncode == 0 and "running 0" in third.stdout
    assert results.read_text().splitlines(keepends=True) == after


def test_a_line_cut_short_by_a_kill_is_dropped_on_resume(reference, tmp_path):
    out, records = reference
    copy = tmp_path / "cut"
    copy.mkdir()
    lines = (out / RESULTS_FILE).read_text().splitlines(keepends=True)
    (copy / RESULTS_FILE).write_text("".join(lines[:7]) + lines[7][:40])
    (copy / "sweep.json").write_text((out / "sweep.json").read_text())
    resumed = run_sweep(None, PARAMS, SEEDS, executor="inprocess", out_dir=copy, settings=FIXED)
    assert _reports(resumed) == _reports(records)
    text = (copy / RESULTS_FILE).read_text()
    assert text.startswith("".join(lines[:7])) and text.count("\n") == 8


def test_failing_point_is_recorded_and_the_others_finish_exit_1(tmp_path, capsys):
    out = tmp_path / "failing"
    # capacity 0 passes the scenario schema but no memory can be built with it: a run-time error
    code = main(["sweep", "--set", "requests.0.pairs=2", "--param", "hardware.overrides.node.memory.capacity=0,10",
                 "--seed-list", "1,2", "--in-process", "--out", str(out)])
    assert code == 1
    records = {(r["params"]["hardware.overrides.node.memory.capacity"], r["seed"]): r for r in load_results(out)}
    assert len(records) == 4
    for seed in (1, 2):
        failed, fine = records[0, seed], records[10, seed]
        assert failed["status"] == "error" and "report" not in failed
        assert "capacity" in failed["error"] and "\n" not in failed["error"]
        assert fine["status"] == "ok" and fine["report"]["delivered"] == 2
    assert "FAILED" in capsys.readouterr().out

    # a re-run tries the failed points again (and only those), replacing their lines
    ok_lines = [line for line in (out / RESULTS_FILE).read_text().splitlines() if '"status": "ok"' in line]
    assert main(["sweep", "--set", "requests.0.pairs=2", "--param", "hardware.overrides.node.memory.capacity=0,10",
                 "--seed-list", "1,2", "--in-process", "--out", str(out)]) == 1
    lines = (out / RESULTS_FILE).read_text().splitlines()
    assert lines[:2] == ok_lines and len(lines) == 4


@pytest.mark.parametrize(
    "param,named",
    [
        ("link.colour=1,2", "link.colour"),
        ("link.bright_state_population=0.1,1.5", "link.bright_state_population"),
        ("requests.0.dst=\"n1\",\"n9\"", "requests.0.dst"),
        ("link.multiplexing=1,1", "link.multiplexing"),
        ("seed=1,2", "seed"),
        ("no_equals_sign", "no_equals_sign"),
    ],
)
def test_bad_param_exits_2_with_one_line_naming_the_key_before_anything_runs(tmp_path, capsys, param, named):
    out = tmp_path / "bad"
    assert main(["sweep", "--param", param, "--in-process", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]
    assert not (out / RESULTS_FILE).exists()


def test_an_out_dir_holding_another_scenario_is_refused(reference, capsys):
    out, _ = reference
    assert main(["sweep", "--set", "requests.0.pairs=3", "--param", "link.bright_state_population=0.05",
                 "--in-process", "--out", str(out)]) == 2
    assert "another scenario" in capsys.readouterr().err


def test_values_split_at_top_level_commas_only():
    assert split_values("0.05,0.1") == ["0.05", "0.1"]
    assert split_values("[5.0],[10.0, 20.0]") == ["[5.0]", "[10.0, 20.0]"]
    assert split_values('"a,b",c') == ['"a,b"', "c"]


def test_metrics_are_read_by_dotted_paths(reference):
    record = reference[1][0]
    assert metric_value(record, "fidelity.mean") == record["report"]["fidelity"]["mean"]
    assert metric_value(record, "pos.link n0-n1 attempt") == record["report"]["pos"]["link n0-n1 attempt"]
    assert metric_value(record, "requests.0.delivered") == 2
    assert metric_value(record, "wall_time_s") == record["wall_time_s"]
    with pytest.raises(KeyError):
        metric_value(record, "fidelity.median")


def test_plot_of_a_metric_nobody_has_is_an_error(reference):
    with pytest.raises(SweepError, match="no finished point"):
        plot_sweep(reference[0], "fidelity.median")
    assert plot_sweep(reference[0], "throughput_hz").name == "throughput_hz.png"


def test_results_load_into_pandas_in_one_line(reference):
    pandas = pytest.importorskip("pandas")
    out, records = reference
    frame = pandas.read_json(out / RESULTS_FILE, lines=True)
    assert len(frame) == 8 and set(frame["status"]) == {"ok"}
    flat = to_frame(out)
    assert len(flat) == 8
    assert list(flat["fidelity.mean"]) == [r["report"]["fidelity"]["mean"] for r in records]
    assert "link.bright_state_population" in flat.columns


def test_to_frame_without_pandas_says_how_to_get_it(reference, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails, installed or not
    with pytest.raises(ImportError, match="pip install pandas"):
        to_frame(reference[0])
