"""Opening pages in headless Chromium (Debian's ``chromium``) from its command line.

``open_page(path, screenshot)`` loads a file with the network unreachable, lets its scripts run,
and returns the DOM after they ran and every console message the page produced (Chromium logs
them to stderr as ``CONSOLE`` lines with ``--enable-logging=stderr``; it does not say which
are errors, so the tests allow none). Tests using it are skipped, saying why, where no Chromium
is installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
_CONSOLE = re.compile(r":CONSOLE[:(].*")


@dataclass(frozen=True)
class Loaded:
    dom: str
    console: list[str]
    screenshot: Path


def open_page(path: Path, screenshot: Path, profile: Path, height_px: int = 3200) -> Loaded:
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
        # offline: every host unresolvable and every request sent to a closed port
        "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", f"--window-size=1280,{height_px}",
        "--dump-dom", f"--screenshot={screenshot}", path.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return Loaded(done.stdout, [m.group(0) for m in map(_CONSOLE.search, done.stderr.splitlines()) if m], screenshot)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("no headless Chromium on PATH (apt-get install chromium; .ci/run installs it)")
    shots = tmp_path_factory.mktemp("screenshots")

    def load(path: Path) -> Loaded:
        return open_page(path, shots / f"{path.stem}.png", tmp_path_factory.mktemp("profile"))

    return load
