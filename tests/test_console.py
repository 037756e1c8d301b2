"""Progress and log messages on stderr: drawn on a terminal, silent otherwise or with --quiet."""

import io
import logging

from qstack.console import ProgressBar, configure_logging, shows_progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_bar_is_drawn_on_a_terminal_and_never_when_quiet_or_not_a_terminal():
    for stream, quiet, drawn in ((_Terminal(), False, True), (_Terminal(), True, False), (io.StringIO(), False, False)):
        with ProgressBar("sweep", 4, quiet=quiet, delay_s=0.0, stream=stream) as bar:
            for done in range(1, 5):
                bar.update(done)
        assert bool(stream.getvalue()) is drawn
        assert shows_progress(quiet, stream) is drawn


def test_a_bar_waits_for_its_delay_before_drawing():
    stream = _Terminal()
    with ProgressBar("run", quiet=False, delay_s=3600.0, stream=stream) as bar:
        bar.update(10)
    assert stream.getvalue() == ""


def test_library_messages_reach_stderr_by_level():
    for verbosity, quiet, shown in ((0, False, {"warning"}), (1, False, {"warning", "info"}),
                                    (2, False, {"warning", "info", "debug"}), (2, True, set())):
        stream = io.StringIO()
        configure_logging(verbosity, quiet, stream)
        log = logging.getLogger("qstack.sweep.run")
        log.debug("debug")
        log.info("info")
        log.warning("warning")
        assert {line.removeprefix("qstack: ") for line in stream.getvalue().splitlines()} == shown
    configure_logging(0, False)
