"""What the command line shows while it works: log messages and progress bars, on stderr.

The library never prints: its modules log through ``logging.getLogger(__name__)`` under the
``qstack`` logger, and long loops (a sweep's points, an optimisation's objective calls, a run's
deliveries) take a ``progress`` callback. The CLI wires both to stderr here:

* :func:`configure_logging`: ``qstack`` messages at WARNING by default, INFO with ``-v``, DEBUG
  with ``-vv``, only errors with ``--quiet``; one plain line each (``qstack: message``).
* :class:`ProgressBar`: a `rich <https://rich.readthedocs.io>`_ progress bar with a count and an
  ETA, shown only when stderr is a terminal and not ``--quiet``, and only once the work has
  run for ``delay_s`` (a run that ends in a second shows nothing).

stdout keeps the results (a report, a table, JSON), so ``qstack ... --json | jq`` is never
mixed with progress.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import IO

#: The logger every qstack module's ``logging.getLogger(__name__)`` sits under.
LOGGER = "qstack"


def configure_logging(verbosity: int = 0, quiet: bool = False, stream: IO[str] | None = None) -> logging.Logger:
    """Send ``qstack`` log messages to ``stream`` (stderr): errors only when ``quiet``, else
    WARNING, INFO (``verbosity`` 1) or DEBUG (2 and more). Replaces a handler an earlier call set."""
    logger = logging.getLogger(LOGGER)
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    handler = _StderrHandler(stream)
    handler.setFormatter(logging.Formatter("qstack: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    if quiet:
        logger.setLevel(logging.ERROR)
    else:
        logger.setLevel((logging.WARNING, logging.INFO)[min(verbosity, 1)] if verbosity < 2 else logging.DEBUG)
    return logger


class _StderrHandler(logging.StreamHandler):
    """Writes to ``stream``, or to whatever ``sys.stderr`` is at the time of each message (a
    test's capture, a redirected stderr) when none was given."""

    def __init__(self, stream: IO[str] | None = None):
        super().__init__(stream)  # sets self.stream (sys.stderr when None) ...
        self._fixed = stream  # ... but None stays "the stderr of the moment"

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: IO[str] | None) -> None:
        self._fixed = value


def shows_progress(quiet: bool, stream: IO[str] | None = None) -> bool:
    """True when progress may be drawn: not ``quiet`` and ``stream`` (stderr) is a terminal."""
    stream = stream if stream is not None else sys.stderr
    try:
        return not quiet and stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


class ProgressBar:
    """A progress bar on stderr for ``total`` steps (None: a count without a total).

    ``update(done, total=None, note="")`` sets the count. Nothing is drawn when
    :func:`shows_progress` is False, nor before ``delay_s`` of wall time has passed. Use as a
    context manager; leaving it removes the bar.
    """

    def __init__(self, description: str, total: int | None = None, *, quiet: bool = False, delay_s: float = 2.0,
                 stream: IO[str] | None = None):
        self.description, self.total, self.delay_s = description, total, delay_s
        self._enabled = shows_progress(quiet, stream)
        self._stream = stream if stream is not None else sys.stderr
        self._start = time.monotonic()
        self._progress = None
        self._task = None
        self._done = 0
        self._note = ""

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        """The work has ``done`` steps of ``total`` (kept from before when None)."""
        self._done, self._note = done, note
        if total is not None:
            self.total = total
        if not self._enabled:
            return
        if self._progress is None:
            if time.monotonic() - self._start < self.delay_s:
                return
            self._open()
        self._progress.update(self._task, completed=done, total=self.total, note=note)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _open(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[note]}"),
            console=Console(file=self._stream), transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=self.total, completed=self._done, note=self._note)


__all__ = ["LOGGER", "ProgressBar", "configure_logging", "shows_progress"]
