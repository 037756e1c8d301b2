"""The README's Python examples run as written."""

import pathlib

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    text = README.read_text()
    return [block.split("```")[0] for block in text.split("```python")[1:]]


def test_readme_python_examples_run(capsys):
    blocks = _python_blocks()
    assert blocks, "the README shows how to compose a stack in code"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    printed = capsys.readouterr().out.split()
    assert printed, "the example prints delivered pairs"


def test_readme_first_screen_has_the_two_setup_commands():
    first_screen = "\n".join(README.read_text().splitlines()[:30])
    assert "pip install . && qstack run" in first_screen
    assert 'pip install -e ".[dev]" && python -m pytest' in first_screen
