"""Ctrl-C (SIGINT) stops a command cleanly: one line on stderr, no traceback, what finished kept."""

import json
import signal
import subprocess
import sys
import time

import pytest

from qstack.sweep import RESULTS_FILE

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a subprocess")


def _as_in_a_terminal():
    """The child's SIGINT as a terminal's foreground job has it: a job started in the background
    of a non-interactive shell (as some CI runners and task tools start the tests) inherits SIGINT
    ignored, and Python then never installs its KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_when(process, ready, timeout_s=90.0):
    """Send SIGINT once ``ready()`` holds (the command is at work), then wait for the exit."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert process.poll() is None, f"the command ended before it could be interrupted: {process.communicate()}"
        assert time.monotonic() < deadline, "the command never got to work"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=120)


def test_ctrl_c_in_run_prints_a_partial_report_marked_interrupted(tmp_path):
    started = tmp_path / "stderr"
    command = [sys.executable, "-m", "qstack.cli", "run", "--json", "-vv",
               "--set", "requests.0.pairs=1000000", "--set", "max_time_s=1e9"]
    with open(started, "w+") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True, cwd=tmp_path,
                                   preexec_fn=_as_in_a_terminal)
        # -vv logs "running ..." when the simulation starts; then let it deliver for a moment
        out, _ = _interrupt_when(process, lambda: "running" in started.read_text() and time.sleep(1.0) is None)
        err.seek(0)
        stderr = err.read()
    assert process.returncode == 130
    report = json.loads(out)
    assert report["interrupted"] is True and 0 < report["delivered"] < 1000000 and not report["complete"]
    assert "Traceback" not in stderr
    assert stderr.count("qstack run: interrupted") == 1


def test_ctrl_c_in_sweep_keeps_the_finished_points_and_their_table(tmp_path):
    pytest.importorskip("pandas")
    out, table = tmp_path / "out", tmp_path / "runs.csv"
    command = [sys.executable, "-m", "qstack.cli", "sweep", "--set", "requests.0.pairs=20", "--seeds", "200",
               "--in-process", "--out", str(out), "--table", str(table)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               preexec_fn=_as_in_a_terminal)
    results = out / RESULTS_FILE
    _, stderr = _interrupt_when(process, lambda: results.is_file() and results.read_text().count("\n") >= 2)
    assert process.returncode == 130
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1 and "interrupted" in stderr
    finished = [line for line in results.read_text().splitlines() if line]
    assert 2 <= len(finished) < 200
    assert table.read_text().count("\n") == len(finished) + 1  # the header and one row per finished point


def test_a_non_terminal_stderr_gets_no_progress_and_quiet_nothing(tmp_path):
    command = [sys.executable, "-m", "qstack.cli", "sweep", "--set", "requests.0.pairs=2", "--seeds", "2",
               "--in-process", "--out", str(tmp_path / "o")]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0 and done.stderr == ""  # stderr is a pipe: no bar
    assert "[1/2]" not in done.stdout  # the old hand-written lines are gone
    quiet = subprocess.run([*command[:3], "run", "--quiet", "--set", "requests.0.pairs=2"], capture_output=True,
                           text=True, cwd=tmp_path, timeout=300)
    assert quiet.returncode == 0 and quiet.stderr == "" and "delivered pairs" in quiet.stdout
