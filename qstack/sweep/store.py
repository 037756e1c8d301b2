"""The sweep directory: what a sweep writes, how it survives a kill, how it resumes.

In ``out_dir``:

* ``results.jsonl``: one JSON object per finished point, appended (flushed and fsynced) the
  moment it finishes, so a killed sweep loses nothing it finished::

      {"point": "3f1c...", "params": {"link.bright_state_population": 0.1}, "seed": 2026,
       "status": "ok", "wall_time_s": 0.21, "report": {...}}

  ``point`` is :func:`qstack.sweep.grid.point_id` of ``params`` and ``seed``; a point that
  raised has ``"status": "error"`` and a one-line ``"error"`` instead of ``report``.
* ``sweep.json``: the grid (:meth:`qstack.sweep.grid.Sweep.describe`).
* ``.lock``: held (``flock``) while a sweep runs, so two sweeps never append to one file.

On (re)start, :func:`prepare` refuses a directory holding a sweep of another scenario or other
fixed settings, then compacts ``results.jsonl``: points of the grid that finished ``ok`` are
kept byte for byte and never recomputed; failed points of the grid and a last line cut short
by a kill go, so they run again.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from qstack.sweep.grid import Sweep, SweepError

RESULTS_FILE = "results.jsonl"
SWEEP_FILE = "sweep.json"


@dataclass(frozen=True)
class StoredLine:
    """One complete line of ``results.jsonl``: its exact text and the record it holds."""

    text: str
    record: dict

    @property
    def point_id(self) -> str:
        return self.record["point"]

    @property
    def ok(self) -> bool:
        return self.record["status"] == "ok"


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` so that a crash leaves either the old or the new file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_lines(path: Path) -> list[StoredLine]:
    """Every complete line that holds a record; a line cut short by a kill is not a record."""
    if not path.is_file():
        return []
    out = []
    for text in path.read_text().splitlines(keepends=True):
        if not text.endswith("\n"):
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "point" in record and "status" in record:
            out.append(StoredLine(text, record))
    return out


def _latest(lines: list[StoredLine]) -> dict[str, StoredLine]:
    """The last line of every point, in the order the points last finished."""
    latest: dict[str, StoredLine] = {}
    for line in lines:
        latest.pop(line.point_id, None)  # re-insert, so the file keeps completion order
        latest[line.point_id] = line
    return latest


def compact(path: Path, wanted: set[str]) -> dict[str, dict]:
    """Prepare ``results.jsonl`` for a (re)run; return the finished points of the grid.

    Keeps, byte for byte, the latest line of every point that finished ``ok`` and of every
    point outside the grid; drops failed points of the grid (they run again), superseded lines
    and a last line cut short by a kill. Rewritten atomically, and only when something goes.
    """
    keep = [line for line in _latest(read_lines(path)).values() if line.ok or line.point_id not in wanted]
    text = "".join(line.text for line in keep)
    if path.is_file() and path.read_text() != text:
        write_atomic(path, text)
    return {line.point_id: line.record for line in keep if line.point_id in wanted and line.ok}


def prepare(out: Path, sweep: Sweep) -> dict[str, dict]:
    """Make ``out`` (locked by the caller) ready for ``sweep``; return its finished points.

    Raises :class:`SweepError` if ``out`` holds a sweep of another scenario or settings.
    """
    if (out / SWEEP_FILE).is_file():
        previous = load_sweep(out)
        if previous.get("scenario_sha256") != sweep.digest:
            raise SweepError(
                f"--out {out}: holds a sweep of another scenario or other --set settings; choose another directory"
            )
    done = compact(out / RESULTS_FILE, {p.point_id for p in sweep.points()})
    write_atomic(out / SWEEP_FILE, json.dumps(sweep.describe(), indent=1) + "\n")
    return done


class ResultsLog:
    """``results.jsonl`` opened for appending; every record is on disk when :meth:`append` returns."""

    def __init__(self, handle: IO[str]):
        self._handle = handle

    @classmethod
    @contextlib.contextmanager
    def open(cls, out: Path) -> Iterator["ResultsLog"]:
        with open(out / RESULTS_FILE, "a") as handle:
            yield cls(handle)

    def append(self, record: dict) -> None:
        self._handle.write(json.dumps(record) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())


@contextlib.contextmanager
def locked(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.lock`` so two sweeps never append to one results file."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    with open(out_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise SweepError(f"--out {out_dir}: another sweep is running in this directory") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_results(out_dir: str | Path) -> list[dict]:
    """The records of ``out_dir/results.jsonl``, one per point (the latest if a point appears twice)."""
    latest: dict[str, dict] = {}
    for line in read_lines(Path(out_dir) / RESULTS_FILE):
        latest[line.point_id] = line.record
    return list(latest.values())


def load_sweep(out_dir: str | Path) -> dict:
    """The grid description ``out_dir/sweep.json``."""
    path = Path(out_dir) / SWEEP_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise SweepError(f"{path}: no sweep here") from exc
    except json.JSONDecodeError as exc:
        raise SweepError(f"{path}: not valid JSON ({exc})") from exc
