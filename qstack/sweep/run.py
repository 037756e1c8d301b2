"""Running (or resuming) a sweep: the grid, a backend and the sweep directory put together."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from qstack.sweep.execute import BACKENDS, EXECUTORS, Outcome, dask_client
from qstack.sweep.grid import Sweep, SweepError, SweepPoint
from qstack.sweep.store import ResultsLog, locked, prepare


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
    point_timeout_s: float | None = None,
) -> list[dict]:
    """Run (or resume) a sweep and return one record per point of the grid, in grid order.

    ``executor`` is ``"process"`` (a local pool of ``workers`` processes, default
    ``os.cpu_count()``), ``"inprocess"``, or ``"dask"`` with ``scheduler`` an address such as
    ``"tcp://host:8786"`` or a connected ``distributed.Client``. ``out_dir`` is required; see
    :mod:`qstack.sweep.store` for what is written there. ``point_timeout_s``: wall-clock limit
    of each point, whose overrun is that point's error (not with Dask). Raises
    :class:`SweepError` on bad input.
    """
    _check_options(executor, workers, scheduler, out_dir)
    if point_timeout_s is not None and (not isinstance(point_timeout_s, (int, float)) or not 0 < point_timeout_s < 1e9):
        raise SweepError(f"--point-timeout: must be a number of seconds in (0, 1e9), got {point_timeout_s!r:.40}")
    if point_timeout_s is not None and executor == "dask":
        raise SweepError("--point-timeout: not available on a Dask cluster (its tasks run in threads)")
    sweep = Sweep.create(scenario, params, seeds, settings)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SweepError(f"--out {out}: not a directory")
    with contextlib.ExitStack() as stack:
        # Connect first: an unreachable scheduler is bad input, found before out_dir is touched.
        client = stack.enter_context(dask_client(scheduler)) if executor == "dask" else None
        out.mkdir(parents=True, exist_ok=True)
        stack.enter_context(locked(out))
        return _run_grid(sweep, out, executor, workers or os.cpu_count() or 1, client, progress, point_timeout_s)


def _check_options(executor: str, workers: int | None, scheduler: Any, out_dir: str | Path | None) -> None:
    if executor not in EXECUTORS:
        raise SweepError(f"executor: must be one of {', '.join(EXECUTORS)}; got {executor!r}")
    if executor == "dask" and scheduler is None:
        raise SweepError("executor 'dask' needs a scheduler address or a distributed.Client")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise SweepError(f"--workers: must be an integer >= 1, got {workers!r}")
    if out_dir is None:
        raise SweepError("out_dir: a directory for results.jsonl is required")


def _run_grid(
    sweep: Sweep,
    out: Path,
    executor: str,
    workers: int,
    client: Any,
    progress: Callable[[Progress], None] | None,
    point_timeout_s: float | None = None,
) -> list[dict]:
    """Run the points of ``sweep`` not yet finished in ``out`` (locked by the caller)."""
    points = sweep.points()
    done = prepare(out, sweep)
    pending = [p for p in points if p.point_id not in done]
    state = Progress(len(points), len(points) - len(pending), 0, 0, None)
    if progress:
        progress(state)

    with ResultsLog.open(out) as log:

        def emit(point: SweepPoint, outcome: Outcome) -> None:
            nonlocal state
            record = outcome.record(point)
            log.append(record)
            done[point.point_id] = record
            state = dataclasses.replace(
                state, finished=state.finished + 1, failed=state.failed + (not outcome.ok), record=record
            )
            if progress:
                progress(state)

        if pending:
            BACKENDS[executor](sweep.table, pending, emit, workers=workers, client=client, timeout_s=point_timeout_s)
    return [done[p.point_id] for p in points]
