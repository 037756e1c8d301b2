"""The sweep directory: a finished point survives a kill and is never computed again."""

import json
import signal
import subprocess
import sys
import time

import pytest

from qstack.cli import main
from qstack.sweep import RESULTS_FILE, SWEEP_FILE, Sweep, SweepError, load_results, run_sweep
from qstack.sweep.execute import Outcome
from qstack.sweep.store import ResultsLog, compact, locked, prepare

from .conftest import FIXED, PARAMS, SEEDS, reports

GRID = {"link.bright_state_population": [0.05, 0.1]}


def test_a_point_written_before_a_kill_is_not_recomputed_on_resume(tmp_path, monkeypatch):
    sweep = Sweep.create(None, GRID, [1, 2])
    first, second, *_ = sweep.points()
    # The state a kill leaves: sweep.json, one finished point, one failed point, a cut line,
    # and no compaction yet.
    prepare(tmp_path, sweep)
    with ResultsLog.open(tmp_path) as log:
        log.append(Outcome("ok", 0.3, report={"delivered": 1}).record(first))
        log.append(Outcome("error", 0.1, error="RuntimeError: boom").record(second))
    finished_line, failed_line = (tmp_path / RESULTS_FILE).read_text().splitlines(keepends=True)
    with open(tmp_path / RESULTS_FILE, "a") as handle:
        handle.write('{"point": "cut short by the ki')

    computed = []

    def fake_run(table, settings, seed):
        computed.append((settings["link.bright_state_population"], seed))
        return Outcome("ok", 0.2, report={"delivered": 2})

    # the in-process backend looks run_outcome up in qstack.sweep.execute, so that is where it is patched
    monkeypatch.setattr("qstack.sweep.execute.run_outcome", fake_run)
    records = run_sweep(None, GRID, [1, 2], executor="inprocess", out_dir=tmp_path)

    assert computed == [(0.05, 2), (0.1, 1), (0.1, 2)]  # everything but the finished point
    assert records[0]["report"] == {"delivered": 1} and all(r["status"] == "ok" for r in records)
    lines = (tmp_path / RESULTS_FILE).read_text().splitlines(keepends=True)
    assert lines[0] == finished_line and failed_line not in lines and len(lines) == 4


def test_compaction_keeps_the_latest_line_of_each_point_and_points_outside_the_grid(tmp_path):
    path = tmp_path / RESULTS_FILE
    lines = [
        json.dumps({"point": "a", "status": "error", "error": "x"}) + "\n",
        json.dumps({"point": "outside", "status": "error", "error": "y"}) + "\n",
        json.dumps({"point": "a", "status": "ok", "report": {}}) + "\n",
        json.dumps({"point": "b", "status": "error", "error": "z"}) + "\n",
        "not json\n",
    ]
    path.write_text("".join(lines))
    done = compact(path, {"a", "b"})
    assert list(done) == ["a"]
    assert path.read_text() == lines[1] + lines[2]
    assert [r["point"] for r in load_results(tmp_path)] == ["outside", "a"]


def test_a_second_sweep_in_the_same_directory_is_refused(tmp_path):
    with locked(tmp_path):
        with pytest.raises(SweepError, match="another sweep is running"):
            run_sweep(None, GRID, [1], executor="inprocess", out_dir=tmp_path)


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
    (copy / SWEEP_FILE).write_text((out / SWEEP_FILE).read_text())
    resumed = run_sweep(None, PARAMS, SEEDS, executor="inprocess", out_dir=copy, settings=FIXED)
    assert reports(resumed) == reports(records)
    text = (copy / RESULTS_FILE).read_text()
    assert text.startswith("".join(lines[:7])) and text.count("\n") == 8


def test_an_out_dir_holding_another_scenario_is_refused(reference, capsys):
    out, _ = reference
    assert main(["sweep", "--set", "requests.0.pairs=3", "--param", "link.bright_state_population=0.05",
                 "--in-process", "--out", str(out)]) == 2
    assert "another scenario" in capsys.readouterr().err


@pytest.mark.parametrize("name", [".lock", SWEEP_FILE, RESULTS_FILE])
def test_a_symlink_planted_in_the_output_folder_is_neither_followed_nor_replaced(tmp_path, name):
    out, target = tmp_path / "out", tmp_path / "precious.txt"
    out.mkdir()
    target.write_text("keep me\n")
    (out / name).symlink_to(target)
    with pytest.raises(SweepError, match="symbolic link"):
        run_sweep(None, GRID, [1], executor="inprocess", out_dir=out)
    assert target.read_text() == "keep me\n"
    assert (out / name).is_symlink() and (out / name).resolve() == target
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_sweep_json_is_replaced_through_a_private_temporary_file(tmp_path, monkeypatch):
    from qstack.sweep import store

    decoy = tmp_path / f"{SWEEP_FILE}.tmp"  # the fixed name the old code wrote through
    decoy.symlink_to(tmp_path / "elsewhere")
    seen = []
    real_replace = store.os.replace
    monkeypatch.setattr(store.os, "replace", lambda src, dst: (seen.append(src), real_replace(src, dst)))
    store.write_atomic(tmp_path / SWEEP_FILE, "{}\n")
    assert (tmp_path / SWEEP_FILE).read_text() == "{}\n" and not (tmp_path / "elsewhere").exists()
    (tmp) = seen[0]
    assert str(tmp) != str(decoy) and not store.Path(tmp).exists()
    assert oct((tmp_path / SWEEP_FILE).stat().st_mode & 0o777) == "0o644"


def test_a_truncated_sweep_json_is_recovered_from_the_results_file(reference, tmp_path, monkeypatch):
    out, records = reference
    copy = tmp_path / "truncated"
    copy.mkdir()
    (copy / RESULTS_FILE).write_text((out / RESULTS_FILE).read_text())
    (copy / SWEEP_FILE).write_text((out / SWEEP_FILE).read_text()[:100])  # cut short
    monkeypatch.setattr("qstack.sweep.execute.run_outcome", lambda *a: pytest.fail("a finished point ran again"))
    resumed = run_sweep(None, PARAMS, SEEDS, executor="inprocess", out_dir=copy, settings=FIXED)
    assert reports(resumed) == reports(records)
    assert json.loads((copy / SWEEP_FILE).read_text()) == json.loads((out / SWEEP_FILE).read_text())


def test_a_truncated_sweep_json_with_results_of_another_scenario_is_refused(reference, tmp_path):
    out, _ = reference
    copy = tmp_path / "other"
    copy.mkdir()
    (copy / RESULTS_FILE).write_text((out / RESULTS_FILE).read_text())
    (copy / SWEEP_FILE).write_text("{")
    other = {**FIXED, "requests.0.min_fidelity": 0.6}  # same point ids, another scenario
    with pytest.raises(SweepError, match="unreadable .* another scenario"):
        run_sweep(None, PARAMS, SEEDS, executor="inprocess", out_dir=copy, settings=other)
