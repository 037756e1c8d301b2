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

Workers end with the sweep, even when it is killed with SIGKILL: each asks the kernel for
SIGKILL when its parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``) and, everywhere, a daemon
thread checks every :data:`PARENT_CHECK_S` seconds that its parent is still the sweep and
ends the worker when it is not. Once the workers are gone, ``multiprocessing``'s resource
tracker sees its last client leave and ends too.

A point may be given a wall-clock limit (``point_timeout_s``, ``qstack sweep --point-timeout``):
in the process running it, an interval timer (``setitimer(ITIMER_REAL)``) raises
:class:`PointTimeout` inside the point, which becomes that point's one-line error; the other
points go on. It acts between Python bytecodes, so a point blocked inside one long native call
ends when that call returns.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
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


class PointTimeout(Exception):
    """A point ran longer than its wall-clock limit."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`PointTimeout` in this (main) thread after ``seconds`` of wall time."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise PointTimeout(f"the point ran longer than --point-timeout {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_outcome(table: dict, settings: dict[str, Any], seed: int, timeout_s: float | None = None) -> Outcome:
    """Run one point; never raises (a failing point is a result, not the end of the sweep).

    ``timeout_s``: wall-clock limit of the point (None: none); see the module docstring."""
    start = time.perf_counter()
    try:
        from qstack.runner import run_scenario
        from qstack.scenario import load_scenario

        with _time_limit(timeout_s):
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


def execute_inprocess(table: dict, pending: list[SweepPoint], emit: Emit, *, workers: int, client: Any,
                      timeout_s: float | None = None) -> None:
    """Run the points one after the other in this process."""
    limit = () if timeout_s is None else (timeout_s,)  # the three-argument call when there is no limit
    for point in pending:
        emit(point, run_outcome(table, point.settings, point.seed, *limit))


#: How often a pool worker checks that the sweep that started it is alive [s].
PARENT_CHECK_S = 0.5


def _init_worker(parent_pid: int | None = None) -> None:
    """Process-pool initializer: one thread per numerical library (see the module docstring),
    and the worker ends when the sweep (``parent_pid``) does."""
    os.environ.update(SINGLE_THREAD_ENV)
    if parent_pid is not None:
        end_with_parent(parent_pid)


def end_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` is no longer its parent (it died, even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):  # no libc or no prctl: the watcher below still acts
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="qstack-parent-watch", daemon=True).start()


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


def execute_process_pool(table: dict, pending: list[SweepPoint], emit: Emit, *, workers: int, client: Any,
                         timeout_s: float | None = None) -> None:
    """Run the points on a local pool of ``workers`` spawned processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: a forked child would inherit numpy's thread pool and any lock held by
    # another thread of this process (a Dask client, a GUI) at the moment of the fork.
    context = multiprocessing.get_context("spawn")
    with _single_threaded_environment():
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=context, initializer=_init_worker,
                                   initargs=(os.getpid(),))
        # Python starts spawn workers on demand inside submit(), so all of them start here.
        futures = {pool.submit(run_outcome, table, p.settings, p.seed, timeout_s): p for p in pending}
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


def execute_dask(table: dict, pending: list[SweepPoint], emit: Emit, *, workers: int, client: Any,
                 timeout_s: float | None = None) -> None:
    """Run the points on the Dask cluster behind ``client`` (Dask runs tasks in worker threads,
    where no timer can interrupt them: ``timeout_s`` is refused before the sweep starts)."""
    from distributed import as_completed

    if timeout_s is not None:
        raise SweepError("--point-timeout: not available on a Dask cluster (its tasks run in threads)")

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
