"""Tutorials: every ``tutorials/*.py`` runs as a script, writes its figure and opens as a notebook."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((REPO / "tutorials").glob("[0-9]*.py"))


def _numbers(stdout: str, prefix: str) -> dict[str, float]:
    """The ``name=value`` pairs of the printed line that starts with ``prefix``."""
    line = next((line for line in stdout.splitlines() if line.startswith(prefix)), None)
    assert line is not None, f"no line starting with {prefix!r} in the output"
    return {name: float(value) for name, value in re.findall(r"(\w+)=(-?[\d.]+)", line)}


def _check_07_scheduling(stdout: str) -> None:
    met = _numbers(stdout, "requirements met:")
    assert set(met) == {"fifo", "edf", "fair_share", "physics_informed", "idealized_informed"}
    others = {name: value for name, value in met.items() if name != "physics_informed"}
    assert met["physics_informed"] > max(others.values()), met
    assert met["idealized_informed"] < min(met[name] for name in ("fifo", "edf", "fair_share")), met
    replay = _numbers(stdout, "edf replay")
    assert replay["scheduler"] == replay["environment"], replay
    returns = _numbers(stdout, "returns:")
    assert returns["earliest_deadline_idle"] > returns["earliest_deadline"] > returns["random"], returns


# What a tutorial's printed numbers must show, beyond running (by script stem).
OUTPUT_CHECKS = {"07_scheduling": _check_07_scheduling}


def test_there_is_at_least_one_tutorial():
    assert TUTORIALS, "no tutorials/*.py found"


@pytest.mark.parametrize("script", TUTORIALS, ids=[path.stem for path in TUTORIALS])
def test_tutorial_runs_from_the_repository_root_and_writes_its_figure(script, tmp_path):
    # .ci/run keeps the figures (QSTACK_TUTORIAL_FIGURES=tutorials) for the docs build.
    figure = Path(os.environ.get("QSTACK_TUTORIAL_FIGURES") or tmp_path) / f"{script.stem}.png"
    env = dict(os.environ, QSTACK_TUTORIAL_OUT=str(figure), MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, str(script.relative_to(REPO))],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert figure.is_file(), f"{script.name} wrote no figure to QSTACK_TUTORIAL_OUT"
    assert figure.stat().st_size > 0
    if script.stem in OUTPUT_CHECKS:
        OUTPUT_CHECKS[script.stem](result.stdout)


@pytest.mark.parametrize("script", TUTORIALS, ids=[path.stem for path in TUTORIALS])
def test_tutorial_opens_as_a_notebook_with_prose_and_code(script):
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    notebook = jupytext.read(script)
    nbformat.validate(notebook)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds.count("markdown") >= 2, f"{script.name}: expected markdown cells explaining the physics"
    assert kinds.count("code") >= 2
    assert all(cell.source.strip() for cell in notebook.cells), f"{script.name}: empty cell"
