"""Running points: one point equals `qstack run`, every backend gives the same reports, failures are results."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from qstack.cli import main
from qstack.sweep import RESULTS_FILE, load_results, run_point, run_sweep, scenario_table
from qstack.sweep.execute import BACKENDS, Outcome
from qstack.sweep.grid import SweepPoint

from .conftest import CLI_GRID, FIXED, PARAMS, SEEDS, reports


def test_a_point_reproduces_qstack_run_with_the_same_settings_and_seed(reference, capsys):
    _, records = reference
    point = records[-1]
    assert main(["run", "--json", "--seed", str(point["seed"]), "--set", "requests.0.pairs=2",
                 "--set", "link.bright_state_population=0.1", "--set", "network.link_lengths_km=[10.0]"]) == 0
    report = json.loads(capsys.readouterr().out)
    report.pop("wall_time_s")
    assert json.dumps(report, sort_keys=True) == json.dumps(point["report"], sort_keys=True)


def test_a_failing_point_returns_a_one_line_error_and_never_raises():
    outcome = run_point(scenario_table(None), {"hardware.overrides.node.nuclear_spin.capacity": 0}, 1)
    assert list(outcome) == ["status", "wall_time_s", "error"]
    assert outcome["status"] == "error" and "capacity" in outcome["error"] and "\n" not in outcome["error"]


def test_an_outcome_becomes_the_results_line_in_the_order_written_since_version_1():
    point = SweepPoint((("link.bright_state_population", 0.1),), 5)
    ok = Outcome("ok", 0.5, report={"delivered": 2}).record(point)
    assert list(ok) == ["point", "params", "seed", "status", "wall_time_s", "report"]
    assert ok["point"] == point.point_id and ok["params"] == {"link.bright_state_population": 0.1}
    failed = Outcome.failure(RuntimeError("boom\nmore")).record(point)
    assert list(failed)[3:] == ["status", "wall_time_s", "error"] and failed["error"] == "RuntimeError: boom"


def test_the_executors_are_the_registered_backends():
    assert list(BACKENDS) == ["process", "inprocess", "dask"]


def test_process_pool_gives_bit_identical_reports_and_plots(reference, tmp_path):
    out = tmp_path / "pool"
    assert main(["sweep", *CLI_GRID, "--workers", "2", "--out", str(out), "--plot", "fidelity.mean"]) == 0
    assert reports(load_results(out)) == reports(reference[1])
    figure = out / "fidelity.mean.png"
    assert figure.is_file() and figure.stat().st_size > 0


def test_dask_cluster_gives_bit_identical_reports(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        records = run_sweep(None, PARAMS, SEEDS, executor="dask", scheduler=cluster.scheduler_address,
                            out_dir=tmp_path, settings=FIXED)
    assert reports(records) == reports(reference[1])
    assert [r["point"] for r in records] == [r["point"] for r in reference[1]]


def test_failing_point_is_recorded_and_the_others_finish_exit_1(tmp_path, capsys):
    out = tmp_path / "failing"
    # capacity 0 passes the scenario schema but no memory can be built with it: a run-time error
    code = main(["sweep", "--set", "requests.0.pairs=2", "--param", "hardware.overrides.node.nuclear_spin.capacity=0,9",
                 "--seed-list", "1,2", "--in-process", "--out", str(out)])
    assert code == 1
    records = {(r["params"]["hardware.overrides.node.nuclear_spin.capacity"], r["seed"]): r for r in load_results(out)}
    assert len(records) == 4
    for seed in (1, 2):
        failed, fine = records[0, seed], records[9, seed]
        assert failed["status"] == "error" and "report" not in failed
        assert "capacity" in failed["error"] and "\n" not in failed["error"]
        assert fine["status"] == "ok" and fine["report"]["delivered"] == 2
    assert "FAILED" in capsys.readouterr().err  # failures are logged on stderr

    # a re-run tries the failed points again (and only those), replacing their lines
    ok_lines = [line for line in (out / RESULTS_FILE).read_text().splitlines() if '"status": "ok"' in line]
    assert main(["sweep", "--set", "requests.0.pairs=2", "--param", "hardware.overrides.node.nuclear_spin.capacity=0,9",
                 "--seed-list", "1,2", "--in-process", "--out", str(out)]) == 1
    lines = (out / RESULTS_FILE).read_text().splitlines()
    assert lines[:2] == ok_lines and len(lines) == 4


def test_a_point_over_its_time_limit_is_a_one_line_error():
    from qstack.sweep.execute import run_outcome

    outcome = run_outcome(scenario_table(None), {"requests.0.pairs": 10**6, "max_time_s": 1e9}, 1, timeout_s=0.2)
    assert outcome.status == "error" and outcome.error.startswith("PointTimeout: ")
    assert "--point-timeout 0.2 s" in outcome.error and outcome.wall_time_s < 5


def _session_members(sid: int) -> list[int]:
    """Processes (not zombies) whose session is ``sid``, read from /proc."""
    from pathlib import Path

    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_after_a_sigkill_of_the_sweep_no_process_of_it_is_alive_5_s_later(tmp_path):
    command = [sys.executable, "-m", "qstack.cli", "sweep", "--set", "requests.0.pairs=1000000", "--set", "max_time_s=1e9",
               "--param", "link.bright_state_population=0.05,0.1", "--workers", "2", "--out", str(tmp_path / "out")]
    # its own session, so every process it starts (workers, resource tracker) can be found by it
    sweep = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             start_new_session=True)
    try:
        assert "running 2" in sweep.stdout.readline()  # printed just before the workers start
        deadline = time.monotonic() + 60
        while len(_session_members(sweep.pid)) < 3 and time.monotonic() < deadline:  # sweep + 2 workers
            time.sleep(0.1)
        assert len(_session_members(sweep.pid)) >= 3
        time.sleep(1.0)  # the workers are past their initializer, running points
        sweep.send_signal(signal.SIGKILL)
        sweep.wait(timeout=10)
        time.sleep(5)
        assert _session_members(sweep.pid) == []
    finally:
        for pid in _session_members(sweep.pid):
            os.kill(pid, signal.SIGKILL)
