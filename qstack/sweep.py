"""Distributed sweeps: a grid of scenario settings x seeds, run anywhere, saved as it goes.

A sweep takes one scenario, a list of values for each swept key (dotted keys, as
``qstack run --set``) and a list of seeds; its points are the Cartesian product of the values
times the seeds. Every point runs from its own seed, so its report does not depend on where it
ran: in this process (``executor="inprocess"``), on a local process pool (``"process"``, the
default) or on a Dask cluster (``"dask"`` with a scheduler address or a ``distributed.Client``).
Every point is validated with :func:`qstack.scenario.load_scenario` before anything runs.

Output, in ``out_dir``:

* ``results.jsonl``: one JSON object per finished point, appended (flushed and fsynced) the
  moment it finishes, so a killed sweep loses nothing it finished::

      {"point": "3f1c...", "params": {"link.bright_state_population": 0.1}, "seed": 2026,
       "status": "ok", "wall_time_s": 0.21, "report": {...}}

  ``point`` is a stable hash of ``params`` and ``seed``; ``report`` is
  ``Report.to_dict()`` without ``wall_time_s``, which moves to the top level (it is the only
  part that differs between two runs of the same point). A point that raised has
  ``"status": "error"`` and a one-line ``"error"`` instead of ``report``.
* ``sweep.json``: the grid (scenario table, fixed settings, swept values, seeds, point ids).

Running the same sweep again resumes it: points already in ``results.jsonl`` with status
``ok`` are skipped (never recomputed), failed and missing points run. The directory is
refused if it holds a sweep of another scenario or other fixed settings; adding values or
seeds to the grid is fine.

Reading the results::

    import pandas
    frame = pandas.read_json("DIR/results.jsonl", lines=True)   # one row per point
    frame = qstack.sweep.to_frame("DIR")   # report flattened: "fidelity.mean", "pos.<...>", ...

or without pandas, :func:`load_results`. :func:`plot_sweep` draws one metric against the
swept values (``qstack sweep ... --plot fidelity.mean``).

Threads: each worker process runs one point at a time, so its numerical libraries should not
start threads of their own. Pool workers are started with ``OPENBLAS_NUM_THREADS=1``,
``OMP_NUM_THREADS=1`` (one Aer thread) and ``MKL_NUM_THREADS=1`` in their environment, before
numpy is imported; with default threading and the other core busy, the small matrix products
of the state engine ran 4x slower on the 2-core development machines. Dask workers started by
a nanny (``dask worker``, ``LocalCluster``) get the same variables from Dask's default
``distributed.nanny.pre-spawn-environ``; the task function sets them again for libraries
loaded later.

The process pool starts workers with the ``spawn`` method, which imports the calling script
again in every worker: a script that calls :func:`run_sweep` with the process pool (or starts
a ``LocalCluster``) must keep its work under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import math
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

RESULTS_FILE = "results.jsonl"
SWEEP_FILE = "sweep.json"
EXECUTORS = ("process", "inprocess", "dask")
FORMAT = "qstack-sweep/1"

# Environment for worker processes: one thread per numerical library.
SINGLE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class SweepError(ValueError):
    """A sweep that cannot start: a bad swept key or value, an ``out_dir`` holding another
    sweep, an unreachable scheduler. The message is one line naming what is wrong."""


@dataclass(frozen=True)
class SweepPoint:
    """One point of the grid: the swept settings (in the order of the sweep) and the seed."""

    params: tuple[tuple[str, Any], ...]
    seed: int

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def point_id(self) -> str:
        return point_id(self.settings, self.seed)


def point_id(params: dict[str, Any], seed: int) -> str:
    """Stable id of a point: the first 16 hex digits of the SHA-256 of its canonical JSON."""
    canonical = json.dumps({"params": params, "seed": seed}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Sweep:
    """A validated grid: a scenario table, fixed settings, swept values and seeds.

    ``table`` is the scenario as read from its file with the fixed ``settings`` applied; it
    travels to the workers, so they need no access to the file.
    """

    source: str
    table: dict
    settings: dict[str, Any]
    params: dict[str, tuple[Any, ...]]
    seeds: tuple[int, ...]

    @classmethod
    def create(
        cls,
        scenario: str | Path | dict | None,
        params: dict[str, Sequence[Any]],
        seeds: Sequence[int] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> "Sweep":
        """Read the scenario and validate every point (raises :class:`SweepError`).

        ``scenario`` is a path, a raw table or None for the bundled default; ``params`` maps
        dotted keys to their values; ``seeds`` defaults to the scenario's own seed;
        ``settings`` are fixed overrides applied to every point (as ``--set``).
        """
        from qstack.scenario import ScenarioError, apply_setting, load_scenario

        settings = dict(settings or {})
        try:
            base = load_scenario(scenario, settings=settings)
        except ScenarioError as exc:
            raise SweepError(str(exc)) from exc
        table = scenario_table(scenario)
        for key, value in settings.items():  # already checked by load_scenario above
            apply_setting(table, key, value)
        swept: dict[str, tuple[Any, ...]] = {}
        for key, values in params.items():
            if key == "seed":
                raise SweepError("--param seed: sweep seeds with --seeds N or --seed-list")
            if key in settings:
                raise SweepError(f"--param {key}: also given as a fixed setting (--set)")
            values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
            if not values:
                raise SweepError(f"--param {key}: no values")
            ids = [_canonical(v) for v in values]
            for i, ident in enumerate(ids):
                if ident in ids[:i]:
                    raise SweepError(f"--param {key}: value {values[i]!r} given twice")
            for value in values:  # one key at a time, so an error names the --param at fault
                try:
                    load_scenario(table, settings={key: value}, seed=base.seed)
                except ScenarioError as exc:
                    raise SweepError(f"--param {key}={_canonical(value)}: {exc}") from exc
            swept[key] = values
        seeds = (base.seed,) if seeds is None else tuple(seeds)
        if not seeds:
            raise SweepError("seeds: at least one seed is needed")
        for seed in seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise SweepError(f"seeds: must be integers >= 0, got {seed!r}")
        if len(set(seeds)) != len(seeds):
            raise SweepError(f"seeds: {sorted(s for s in seeds if seeds.count(s) > 1)[0]} given twice")
        sweep = cls(source=base.source, table=table, settings=settings, params=swept, seeds=seeds)
        for combo in sweep.combinations():  # values that are fine alone may clash together
            try:
                load_scenario(table, settings=combo, seed=seeds[0])
            except ScenarioError as exc:
                where = ", ".join(f"{k}={_canonical(v)}" for k, v in combo.items())
                raise SweepError(f"point {where}: {exc}") from exc
        return sweep

    def combinations(self) -> list[dict[str, Any]]:
        """Every combination of the swept values, the first key varying slowest."""
        keys = list(self.params)
        return [dict(zip(keys, values)) for values in itertools.product(*self.params.values())]

    def points(self) -> list[SweepPoint]:
        """The grid: combinations x seeds, seeds varying fastest."""
        return [SweepPoint(tuple(combo.items()), seed) for combo in self.combinations() for seed in self.seeds]

    @property
    def digest(self) -> str:
        """Identity of what every point shares: the scenario table with the fixed settings.

        The table's ``seed`` is left out: every point runs from its own seed.
        """
        shared = {k: v for k, v in self.table.items() if k != "seed"}
        canonical = json.dumps(shared, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def describe(self) -> dict:
        """The JSON form written to ``sweep.json``."""
        return {
            "format": FORMAT,
            "scenario": self.source,
            "scenario_sha256": self.digest,
            "settings": self.settings,
            "params": {k: list(v) for k, v in self.params.items()},
            "seeds": list(self.seeds),
            "points": [{"point": p.point_id, "params": p.settings, "seed": p.seed} for p in self.points()],
            "scenario_table": self.table,
        }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def scenario_table(scenario: str | Path | dict | None) -> dict:
    """The raw table of an already validated scenario source (what workers are sent)."""
    import tomllib  # Python >= 3.11 (the sweep's worker protocol needs nothing older)

    from qstack.scenario import default_scenario_text

    if scenario is None:
        return tomllib.loads(default_scenario_text())
    if isinstance(scenario, dict):
        return copy.deepcopy(scenario)
    return tomllib.loads(Path(scenario).read_text())


def split_values(text: str) -> list[str]:
    """Split ``--param`` values at top-level commas: ``"[5.0],[10.0, 2.0]"`` -> two items.

    Commas inside brackets, braces or quotes belong to the value.
    """
    items, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            if char == quote and text[i - 1] != "\\":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    items.append(text[start:].strip())
    return items


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"key.path=v1,v2"`` -> ``("key.path", [v1, v2])``, each value parsed as a ``--set`` value."""
    from qstack.scenario import parse_value

    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SweepError(f"--param {text!r}: expected key.path=v1,v2,...")
    items = split_values(values)
    if any(not item for item in items):
        raise SweepError(f"--param {key}: empty value in {values!r}")
    return key, [parse_value(item) for item in items]


# --- running one point -----------------------------------------------------------------------


def run_point(table: dict, settings: dict[str, Any], seed: int) -> dict:
    """Run one point; never raises. Returns ``status``, ``wall_time_s`` and ``report`` or ``error``."""
    start = time.perf_counter()
    try:
        from qstack.runner import run_scenario
        from qstack.scenario import load_scenario

        report = run_scenario(load_scenario(table, settings=settings, seed=seed)).to_dict()
    except Exception as exc:  # a failing point is a result, not the end of the sweep
        return {"status": "error", "wall_time_s": time.perf_counter() - start, "error": _one_line(exc)}
    wall_time_s = report.pop("wall_time_s")
    return {"status": "ok", "wall_time_s": wall_time_s, "report": report}


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _init_worker() -> None:
    """Process-pool initializer: one thread per numerical library (see the module docstring)."""
    os.environ.update(SINGLE_THREAD_ENV)


def _run_point_on_dask_worker(table: dict, settings: dict[str, Any], seed: int) -> dict:
    # Libraries imported from here on (the first point on a worker imports qiskit and Aer)
    # start single-threaded; a nanny has normally set these before the worker started.
    os.environ.update(SINGLE_THREAD_ENV)
    return run_point(table, settings, seed)


@contextlib.contextmanager
def _single_threaded_environment() -> Iterator[None]:
    """Set the worker environment in this process while pool workers are spawned.

    A spawned worker inherits the environment when it starts, so its libraries see the limits
    before its first import; the initializer alone would run after the worker re-imported the
    calling script (and numpy with it).
    """
    saved = {name: os.environ.get(name) for name in SINGLE_THREAD_ENV}
    os.environ.update(SINGLE_THREAD_ENV)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


Emit = Callable[[SweepPoint, dict], None]


def _execute_inprocess(table: dict, pending: list[SweepPoint], emit: Emit) -> None:
    for point in pending:
        emit(point, run_point(table, point.settings, point.seed))


def _execute_process_pool(table: dict, pending: list[SweepPoint], emit: Emit, workers: int) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: a forked child would inherit numpy's thread pool and any lock held by
    # another thread of this process (a Dask client, a GUI) at the moment of the fork.
    context = multiprocessing.get_context("spawn")
    with _single_threaded_environment():
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=context, initializer=_init_worker)
        # Python starts spawn workers on demand inside submit(), so all of them start here.
        futures = {pool.submit(run_point, table, p.settings, p.seed): p for p in pending}
    try:
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died (BrokenProcessPool) or could not unpickle
                outcome = {"status": "error", "wall_time_s": 0.0, "error": _one_line(exc)}
            emit(futures[future], outcome)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


@contextlib.contextmanager
def _dask_client(scheduler: Any) -> Iterator[Any]:
    """A client of ``scheduler`` (an address, closed at the end, or a client, left open)."""
    from distributed import Client

    if isinstance(scheduler, Client):
        yield scheduler
        return
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"--scheduler {scheduler}: cannot connect ({_one_line(exc)})") from exc
    try:
        yield client
    finally:
        client.close()


def _execute_dask(table: dict, pending: list[SweepPoint], emit: Emit, client: Any) -> None:
    from distributed import as_completed

    # Unique keys: a scheduler shared by two sweeps must not take one's point for the other's.
    token = uuid.uuid4().hex[:8]
    futures = {}
    try:
        for p in pending:
            future = client.submit(
                _run_point_on_dask_worker, table, p.settings, p.seed, key=f"qstack-point-{p.point_id}-{token}", pure=False
            )
            futures[future.key] = (future, p)
        for future in as_completed([f for f, _ in futures.values()]):
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died more often than Dask retries (KilledWorker)
                outcome = {"status": "error", "wall_time_s": 0.0, "error": _one_line(exc)}
            emit(futures[future.key][1], outcome)
            future.release()
    except BaseException:
        client.cancel([f for f, _ in futures.values()])
        raise


# --- the output directory --------------------------------------------------------------------


def _write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` so that a crash leaves either the old or the new file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _read_records(path: Path) -> list[tuple[str, dict]]:
    """``(line, record)`` for every complete line; a line cut short by a kill is not a record."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines(keepends=True):
        if not line.endswith("\n"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "point" in record and "status" in record:
            out.append((line, record))
    return out


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
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
    for _, record in _read_records(Path(out_dir) / RESULTS_FILE):
        latest[record["point"]] = record
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


@dataclass(frozen=True)
class Progress:
    """Where a sweep stands; passed to ``run_sweep(progress=...)`` at the start and per point."""

    total: int  # points in the grid
    resumed: int  # points found finished in out_dir, not run again
    finished: int  # points finished in this call so far
    failed: int  # of those, how many raised
    record: dict | None  # the point just finished; None for the call at the start


def run_sweep(
    scenario: str | Path | dict | None,
    params: dict[str, Sequence[Any]],
    seeds: Sequence[int] | None = None,
    executor: str = "process",
    workers: int | None = None,
    scheduler: Any = None,
    out_dir: str | Path | None = None,
    *,
    settings: dict[str, Any] | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> list[dict]:
    """Run (or resume) a sweep and return one record per point of the grid, in grid order.

    ``executor`` is ``"process"`` (a local pool of ``workers`` processes, default
    ``os.cpu_count()``), ``"inprocess"``, or ``"dask"`` with ``scheduler`` an address such as
    ``"tcp://host:8786"`` or a connected ``distributed.Client``. ``out_dir`` is required; see
    the module docstring for what is written there. Raises :class:`SweepError` on bad input.
    """
    if executor not in EXECUTORS:
        raise SweepError(f"executor: must be one of {', '.join(EXECUTORS)}; got {executor!r}")
    if executor == "dask" and scheduler is None:
        raise SweepError("executor 'dask' needs a scheduler address or a distributed.Client")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise SweepError(f"--workers: must be an integer >= 1, got {workers!r}")
    if out_dir is None:
        raise SweepError("out_dir: a directory for results.jsonl is required")
    sweep = Sweep.create(scenario, params, seeds, settings)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SweepError(f"--out {out}: not a directory")
    with contextlib.ExitStack() as stack:
        # Connect first: an unreachable scheduler is bad input, found before out_dir is touched.
        client = stack.enter_context(_dask_client(scheduler)) if executor == "dask" else None
        out.mkdir(parents=True, exist_ok=True)
        stack.enter_context(_locked(out))
        return _run_grid(sweep, out, executor, workers, client, progress)


def _run_grid(
    sweep: Sweep,
    out: Path,
    executor: str,
    workers: int | None,
    client: Any,
    progress: Callable[[Progress], None] | None,
) -> list[dict]:
    """Run the points of ``sweep`` not yet finished in ``out`` (locked by the caller)."""
    if (out / SWEEP_FILE).is_file():
        previous = load_sweep(out)
        if previous.get("scenario_sha256") != sweep.digest:
            raise SweepError(
                f"--out {out}: holds a sweep of another scenario or other --set settings; choose another directory"
            )
    points = sweep.points()
    wanted = {p.point_id for p in points}
    done = _compact(out / RESULTS_FILE, wanted)
    _write_atomic(out / SWEEP_FILE, json.dumps(sweep.describe(), indent=1) + "\n")
    pending = [p for p in points if p.point_id not in done]
    state = {"finished": 0, "failed": 0}
    resumed = len(points) - len(pending)
    if progress:
        progress(Progress(len(points), resumed, 0, 0, None))

    with open(out / RESULTS_FILE, "a") as results:

        def emit(point: SweepPoint, outcome: dict) -> None:
            record = {"point": point.point_id, "params": point.settings, "seed": point.seed, **outcome}
            results.write(json.dumps(record) + "\n")
            results.flush()
            os.fsync(results.fileno())
            done[point.point_id] = record
            state["finished"] += 1
            state["failed"] += record["status"] != "ok"
            if progress:
                progress(Progress(len(points), resumed, state["finished"], state["failed"], record))

        if pending:
            if executor == "inprocess":
                _execute_inprocess(sweep.table, pending, emit)
            elif executor == "process":
                _execute_process_pool(sweep.table, pending, emit, workers or os.cpu_count() or 1)
            else:
                _execute_dask(sweep.table, pending, emit, client)
    return [done[p.point_id] for p in points]


def _compact(path: Path, wanted: set[str]) -> dict[str, dict]:
    """Prepare ``results.jsonl`` for a (re)run; return the finished points of the grid.

    Keeps, byte for byte, the latest line of every point that finished ``ok`` and of every
    point outside the grid; drops failed points of the grid (they run again), superseded lines
    and a last line cut short by a kill. Rewritten atomically, and only when something goes.
    """
    entries = _read_records(path)
    latest: dict[str, tuple[str, dict]] = {}
    for line, record in entries:
        latest.pop(record["point"], None)  # re-insert, so the file keeps completion order
        latest[record["point"]] = (line, record)
    keep = {pid: (line, rec) for pid, (line, rec) in latest.items() if rec["status"] == "ok" or pid not in wanted}
    text = "".join(line for line, _ in keep.values())
    if path.is_file() and path.read_text() != text:
        _write_atomic(path, text)
    return {pid: rec for pid, (_, rec) in keep.items() if pid in wanted and rec["status"] == "ok"}


# --- analysis --------------------------------------------------------------------------------


def metric_value(record: dict, metric: str) -> Any:
    """A dotted metric of a record: ``fidelity.mean``, ``throughput_hz``, ``pos.<key>``,
    ``requests.0.delivered``, or a top-level field such as ``wall_time_s``.

    Report keys may themselves hold dots; the longest key that matches is taken. Raises
    ``KeyError`` if the record has no such metric.
    """
    report = record.get("report") or {}
    for root in (report, record):
        try:
            return _lookup(root, metric)
        except KeyError:
            continue
    raise KeyError(metric)


def _lookup(node: Any, path: str) -> Any:
    if path == "":
        return node
    if isinstance(node, list):
        head, _, rest = path.partition(".")
        if head.isdigit() and int(head) < len(node):
            return _lookup(node[int(head)], rest)
        raise KeyError(path)
    if isinstance(node, dict):
        for key in sorted((k for k in node if path == k or path.startswith(k + ".")), key=len, reverse=True):
            try:
                return _lookup(node[key], path[len(key) + 1:])
            except KeyError:
                continue
    raise KeyError(path)


def _flatten(node: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = node


def to_frame(out_dir: str | Path):
    """The results as a ``pandas.DataFrame``, one row per point (needs pandas).

    Columns: ``point``, ``seed``, ``status``, ``wall_time_s``, ``error``, one column per swept
    key (``link.bright_state_population``), and the report flattened with dots
    (``fidelity.mean``, ``latency_s.p95``, ``pos.link n0-n1 attempt``, ``scenario.link.scheme``);
    lists (``links``, ``requests``) stay lists.
    """
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            "to_frame needs pandas, which qstack does not depend on: pip install pandas, or use load_results()"
        ) from exc
    rows = []
    for record in load_results(out_dir):
        row = {
            "point": record["point"],
            "seed": record["seed"],
            "status": record["status"],
            "wall_time_s": record.get("wall_time_s"),
            "error": record.get("error"),
        }
        row.update(record["params"])
        _flatten(record.get("report") or {}, "", row)
        rows.append(row)
    return pandas.DataFrame(rows)


def _axis_value(value: Any) -> Any:
    """A swept value as a number on the x axis where it is one (``[5.0]`` counts as 5.0)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _file_name(metric: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", metric).strip("_") or "metric"


def plot_sweep(out_dir: str | Path, metric: str, path: str | Path | None = None) -> Path:
    """Draw ``metric`` (mean +- sample std over seeds) against the first swept key.

    One line per value of the other swept keys. Failed points and points without the metric
    (``fidelity.mean`` is null when nothing was delivered) are left out. Saved with the Agg
    backend to ``path`` (default ``out_dir/METRIC.png``); returns the path. Raises
    :class:`SweepError` if no finished point has the metric.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(out_dir)
    grid = load_sweep(out)
    keys = list(grid["params"])
    records = [r for r in load_results(out) if r["status"] == "ok" and list(r["params"]) == keys]
    values: dict[tuple[str, ...], list[float]] = {}
    for record in records:
        try:
            value = metric_value(record, metric)
        except KeyError:
            continue
        if _finite(value):
            values.setdefault(tuple(_canonical(record["params"][k]) for k in keys), []).append(float(value))
    if not values:
        raise SweepError(f"--plot {metric}: no finished point of {out} has this metric (try fidelity.mean, throughput_hz)")

    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    if not keys:  # nothing swept: one point, the spread over seeds
        samples = values[()]
        ax.errorbar([0], [np.mean(samples)], yerr=[np.std(samples, ddof=1) if len(samples) > 1 else 0.0], fmt="o", capsize=3)
        ax.set_xticks([0], [grid["scenario"]])
    else:
        x_key, line_keys = keys[0], keys[1:]
        x_values = [_canonical(v) for v in grid["params"][x_key]]
        numeric = [_axis_value(json.loads(v)) for v in x_values]
        categorical = any(v is None for v in numeric)
        positions = list(range(len(x_values))) if categorical else numeric
        line_combos = itertools.product(*([_canonical(v) for v in grid["params"][k]] for k in line_keys))
        for combo in line_combos:
            xs, means, stds = [], [], []
            for x_text, x in zip(x_values, positions):
                samples = values.get((x_text, *combo))
                if samples:
                    xs.append(x)
                    means.append(np.mean(samples))
                    stds.append(np.std(samples, ddof=1) if len(samples) > 1 else 0.0)
            if not xs:
                continue
            label = ", ".join(f"{k} = {json.loads(v)}" for k, v in zip(line_keys, combo)) or None
            ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=label)
        if categorical:
            ax.set_xticks(positions, [str(json.loads(v)) for v in x_values])
        elif min(positions) > 0 and max(positions) / min(positions) > 100:
            ax.set_xscale("log")
        ax.set_xlabel(x_key)
        if line_keys:
            ax.legend(fontsize=8)
    all_values = [v for samples in values.values() for v in samples]
    if min(all_values) > 0 and max(all_values) / min(all_values) > 100:
        ax.set_yscale("log")
    ax.set_ylabel(metric)
    seeds = len(grid["seeds"])
    ax.set_title(f"{grid['scenario']}: {metric}, mean and std over {seeds} seed{'s' if seeds != 1 else ''}", fontsize=10)
    target = Path(path) if path is not None else out / f"{_file_name(metric)}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=110)
    return target
