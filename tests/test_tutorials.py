"""Tutorials: every ``tutorials/*.py`` runs as a script, writes its figure and opens as a notebook."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((REPO / "tutorials").glob("[0-9]*.py"))


def test_there_is_at_least_one_tutorial():
    assert TUTORIALS, "no tutorials/*.py found"


@pytest.mark.parametrize("script", TUTORIALS, ids=[path.stem for path in TUTORIALS])
def test_tutorial_runs_from_the_repository_root_and_writes_its_figure(script, tmp_path):
    figure = tmp_path / f"{script.stem}.png"
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
