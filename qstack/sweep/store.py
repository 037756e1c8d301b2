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

Files in ``out_dir`` are opened without following symbolic links (``O_NOFOLLOW``): a link
planted there is refused with a one-line :class:`SweepError`, never followed or replaced.
``sweep.json`` and a compacted ``results.jsonl`` are written to a private temporary file
(``mkstemp``: a new name, mode 0600) and renamed over the old one, so a crash leaves the old
or the new file whole. A ``sweep.json`` that cannot be read (cut short, say) is rebuilt from
``results.jsonl`` when every finished point there has this sweep's resolved scenario.

On (re)start, :func:`prepare` refuses a directory holding a sweep of another scenario or other
fixed settings, then compacts ``results.jsonl``: points of the grid that finished ``ok`` are
kept byte for byte and never recomputed; failed points of the grid and a last line cut short
by a kill go, so they run again.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
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


def _open_flags(flags: int) -> int:
    return flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def open_nofollow(path: Path, mode: str) -> IO[str]:
    """``open(path, mode)`` for ``"r"`` or ``"a"``, refusing a symbolic link at ``path``."""
    flags = os.O_RDONLY if mode == "r" else os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        fd = os.open(path, _open_flags(flags), 0o644)
    except OSError as exc:
        if path.is_symlink():
            raise SweepError(f"{path}: a symbolic link; a sweep never follows links in its directory") from exc
        raise
    return os.fdopen(fd, mode, encoding="utf-8")


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise SweepError(f"{path}: a symbolic link; a sweep never follows or replaces links in its directory")


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` so that a crash leaves either the old or the new file.

    Written to a private temporary file in the same directory (``mkstemp``: a fresh name, mode
    0600, never an existing file or link), then renamed over ``path``; a link at ``path`` is
    refused, not replaced."""
    _refuse_link(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_text(path: Path) -> str | None:
    """The text of ``path`` (None when there is none), never through a link."""
    try:
        with open_nofollow(path, "r") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def read_lines(path: Path) -> list[StoredLine]:
    """Every complete line that holds a record; a line cut short by a kill is not a record."""
    text = _read_text(path)
    if text is None:
        return []
    out = []
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "point" in record and "status" in record:
            out.append(StoredLine(line, record))
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
    old = _read_text(path)
    if old is not None and old != text:
        write_atomic(path, text)
    return {line.point_id: line.record for line in keep if line.point_id in wanted and line.ok}


def prepare(out: Path, sweep: Sweep) -> dict[str, dict]:
    """Make ``out`` (locked by the caller) ready for ``sweep``; return its finished points.

    Raises :class:`SweepError` if ``out`` holds a sweep of another scenario or settings.
    """
    for name in (SWEEP_FILE, RESULTS_FILE):
        _refuse_link(out / name)
    if (out / SWEEP_FILE).is_file():
        try:
            previous = load_sweep(out)
        except SweepError:  # cut short or garbled: the results decide, point by point
            _check_results_belong(out / RESULTS_FILE, sweep)
        else:
            if previous.get("scenario_sha256") != sweep.digest:
                raise SweepError(
                    f"--out {out}: holds a sweep of another scenario or other --set settings; choose another directory"
                )
    done = compact(out / RESULTS_FILE, {p.point_id for p in sweep.points()})
    write_atomic(out / SWEEP_FILE, json.dumps(sweep.describe(), indent=1) + "\n")
    return done


def _check_results_belong(path: Path, sweep: Sweep) -> None:
    """With ``sweep.json`` unreadable: every finished point of the grid in ``results.jsonl`` must
    report the scenario this sweep resolves for it (its settings and seed), else the directory
    holds another sweep."""
    from qstack.scenario import ScenarioError, load_scenario

    points = {p.point_id: p for p in sweep.points()}
    for line in read_lines(path):
        point = points.get(line.point_id)
        if point is None or not line.ok:
            continue
        try:
            expected = load_scenario(sweep.table, settings=point.settings, seed=point.seed).to_dict()
        except ScenarioError:
            expected = None
        report = line.record.get("report")
        if not isinstance(report, dict) or report.get("scenario") != json.loads(json.dumps(expected)):
            raise SweepError(
                f"--out {path.parent}: {SWEEP_FILE} is unreadable and {RESULTS_FILE} holds points of another "
                "scenario or settings; choose another directory"
            )


class ResultsLog:
    """``results.jsonl`` opened for appending; every record is on disk when :meth:`append` returns."""

    def __init__(self, handle: IO[str]):
        self._handle = handle

    @classmethod
    @contextlib.contextmanager
    def open(cls, out: Path) -> Iterator["ResultsLog"]:
        with open_nofollow(out / RESULTS_FILE, "a") as handle:
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
    path = out_dir / ".lock"
    try:
        fd = os.open(path, _open_flags(os.O_WRONLY | os.O_CREAT), 0o600)
    except OSError as exc:
        if path.is_symlink():
            raise SweepError(f"{path}: a symbolic link; a sweep never follows links in its directory") from exc
        raise SweepError(f"--out {out_dir}: cannot create its lock ({exc.strerror})") from exc
    with os.fdopen(fd, "w") as handle:
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
    text = _read_text(path)
    if text is None:
        raise SweepError(f"{path}: no sweep here")
    try:
        table = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SweepError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(table, dict):
        raise SweepError(f"{path}: not a sweep description")
    return table
