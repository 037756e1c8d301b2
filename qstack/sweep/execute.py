"""Running points: one point (:func:`run_point`) and the backends that run many of them.

Every point runs from its own seed, so its outcome does not depend on the backend. A backend
is a function ``backend(table, pending, emit, *, workers, client)`` registered in
:data:`BACKENDS` under its executor name; it runs every pending point and calls
``emit(point, outcome)`` once per point, in the order they finish.

Threads: each worker process runs one point at a time, so its numerical libraries should not
start threads of their own. Pool workers are started with ``OPENBLAS_NUM_THREADS=1``,
``OMP_NUM_THREADS=1`` (one Aer thread) and ``MKL_NUM_THREADS=1`` in their environment, before
numpy is imported; with default threading and the other core busy, the small matrix products
of the state engine ran 4x slower on the 2-core development machines. Dask workers started by
a nanny (``dask worker``, ``LocalCluster``) get the same variables from Dask's default
``distributed.nanny.pre-spawn-environ``; the task function sets them again for libraries
loaded later.

The process pool starts workers with the ``spawn`` method, which imports the calling script
again in every worker: a script that calls ``run_sweep`` with the process pool (or starts a
``LocalCluster``) must keep its work under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import contextlib
import os
import time
import types
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from qstack.sweep.grid import SweepError, SweepPoint

# Environment for worker processes: one thread per numerical library.
SINGLE_THREAD_ENV = types.MappingProxyType(
    {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
)


@dataclass(frozen=True)
class Outcome:
    """What running one point gave: ``report`` (``Report.to_dict()`` without its wall time)
    when ``status`` is ``"ok"``, a one-line ``error`` when it is ``"error"``."""

    status: str
    wall_time_s: float
    report: dict | None = None
    error: str | None = None

    @classmethod
    def failure(cls, exc: BaseException, wall_time_s: float = 0.0) -> "Outcome":
        return cls("error", wall_time_s, error=one_line(exc))

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        """The JSON form: ``status``, ``wall_time_s``, then ``report`` or ``error``."""
        detail = {"report": self.report} if self.ok else {"error": self.error}
        return {"status": self.status, "wall_time_s": self.wall_time_s, **detail}

    def record(self, point: SweepPoint) -> dict:
        """The line of ``results.jsonl`` for ``point`` (keys in this order, as written since v1)."""
        return {"point": point.point_id, "params": point.settings, "seed": point.seed, **self.to_dict()}


def run_outcome(table: dict, settings: dict[str, Any], seed: int) -> Outcome:
    """Run one point; never raises (a failing point is a result, not the end of the sweep)."""
    start = time.perf_counter()
    try:
        from qstack.runner import run_scenario
        from qstack.scenario import load_scenario

        report = run_scenario(load_scenario(table, settings=settings, seed=seed)).to_dict()
    except Exception as exc:
        return Outcome.failure(exc, time.perf_counter() - start)
    wall_time_s = report.pop("wall_time_s")  # the only part that differs between two runs
    return Outcome("ok", wall_time_s, report=report)


def run_point(table: dict, settings: dict[str, Any], seed: int) -> dict:
    """Run one point; never raises. Returns ``status``, ``wall_time_s`` and ``report`` or ``error``."""
    return run_outcome(table, settings, seed).to_dict()


def one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


Emit = Callable[[SweepPoint, Outcome], None]


def execute_inprocess(table: dict, pending: list[SweepPoint], emit: Emit, *, workers: int, client: Any) -> None:
    """Run the points one after the other in this process."""
    for point in pending:
        emit(point, run_outcome(table, point.settings, point.seed))


def _init_worker() -> None:
    """Process-pool initializer: one thread per numerical library (see the module docstring)."""
    os.environ.update(SINGLE_THREAD_ENV)


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


def execute_process_pool(table: dict, pending: list[SweepPoint], emit: Emit, *, workers: int, client: Any) -> None:
    """Run the points on a local pool of ``workers`` spawned processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: a forked child would inherit numpy's thread pool and any lock held by
    # another thread of this process (a Dask client, a GUI) at the moment of the fork.
    context = multiprocessing.get_context("spawn")
    with _single_threaded_environment():
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=context, initializer=_init_worker)
        # Python starts spawn workers on demand inside submit(), so all of them start here.
        futures = {pool.submit(run_outcome, table, p.settings, p.seed): p for p in pending}
    try:
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died (BrokenProcessPool) or could not unpickle
                outcome = Outcome.failure(exc)
            emit(futures[future], outcome)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


@contextlib.contextmanager
def dask_client(scheduler: Any) -> Iterator[Any]:
    """A client of ``scheduler`` (an address, closed at the end, or a client, left open)."""
    from distributed import Client

    if isinstance(scheduler, Client):
        yield scheduler
        return
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"--scheduler {scheduler}: cannot connect ({one_line(exc)})") from exc
    try:
        yield client
    finally:
        client.close()


def _run_on_dask_worker(table: dict, settings: dict[str, Any], seed: int) -> Outcome:
    # Libraries imported from here on (the first point on a worker imports qiskit and Aer)
    # start single-threaded; a nanny has normally set these before the worker started.
    os.environ.update(SINGLE_THREAD_ENV)
    return run_outcome(table, settings, seed)


def execute_dask(table: dict, pending: list[SweepPoint], emit: Emit, *, workers: int, client: Any) -> None:
    """Run the points on the Dask cluster behind ``client``."""
    from distributed import as_completed

    # Unique keys: a scheduler shared by two sweeps must not take one's point for the other's.
    token = uuid.uuid4().hex[:8]
    futures = {}
    try:
        for p in pending:
            future = client.submit(
                _run_on_dask_worker, table, p.settings, p.seed, key=f"qstack-point-{p.point_id}-{token}", pure=False
            )
            futures[future.key] = (future, p)
        for future in as_completed([f for f, _ in futures.values()]):
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died more often than Dask retries (KilledWorker)
                outcome = Outcome.failure(exc)
            emit(futures[future.key][1], outcome)
            future.release()
    except BaseException:
        client.cancel([f for f, _ in futures.values()])
        raise


Backend = Callable[..., None]

# Executor name -> backend; the order is the one error messages list them in.
BACKENDS: types.MappingProxyType[str, Backend] = types.MappingProxyType(
    {"process": execute_process_pool, "inprocess": execute_inprocess, "dask": execute_dask}
)
EXECUTORS = tuple(BACKENDS)
