"""MkDocs hooks: the pages generated at build time from the code and the repository itself, so
they cannot drift from it (``mkdocs.yml`` names this file under ``hooks``).

- the user guide and the architecture are the repository's README.md and ARCHITECTURE.md;
- the scenario-key reference is ``qstack.scenario.reference.markdown()`` (read from the schema);
- the bundled scenarios, the hardware presets (every parameter, unit and source) and the
  command line (``--help`` of every subcommand) are read from the installed package;
- one API page per public module or package of ``qstack`` (mkdocstrings renders the docstrings);
- one page per tutorial (``tutorials/NN_*.py``, jupytext percent format) with its figure.
  The figure is ``tutorials/<name>.png``; a missing or stale one (older than its script) is
  made by running the tutorial, as the test suite does (``.ci/run`` has the test suite leave
  its figures there, so the docs build runs none).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from mkdocs.structure.files import File

REPO = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((REPO / "tutorials").glob("[0-9]*.py"))
log = logging.getLogger("mkdocs.hooks.qstack")


def _api_modules() -> list[str]:
    """Public modules and packages directly under ``qstack/`` (no leading underscore)."""
    names = []
    for entry in sorted((REPO / "qstack").iterdir()):
        if entry.name.startswith("_"):
            continue
        if entry.is_dir() and (entry / "__init__.py").is_file():
            names.append(entry.name)
        elif entry.suffix == ".py":
            names.append(entry.stem)
    return names


def _tutorial_title(script: Path) -> str:
    match = re.search(r"^# # (.+)$", script.read_text(), flags=re.MULTILINE)
    return match.group(1).strip() if match else script.stem


def on_config(config):
    """The navigation, from the same lists the pages are generated from."""
    config["nav"] = [
        {"Home": "index.md"},
        {"User guide": "guide.md"},
        {"Architecture": "architecture.md"},
        {"Tutorials": [{_tutorial_title(s): f"tutorials/{s.stem}.md"} for s in TUTORIALS]},
        {
            "Reference": [
                {"Scenario keys": "reference/scenario-keys.md"},
                {"Bundled scenarios": "reference/scenarios.md"},
                {"Hardware presets": "reference/presets.md"},
                {"Command line": "reference/cli.md"},
                {"API": [{f"qstack.{name}": f"api/{name}.md"} for name in ["__init__", *_api_modules()]]},
            ]
        },
    ]
    return config


def _page(files, config, uri: str, content: str) -> None:
    files.append(File.generated(config, uri, content=content))


def on_files(files, config):
    links = {"ARCHITECTURE.md": "architecture.md", "README.md": "guide.md", "docs/index.md": "index.md"}

    def repo_page(name: str, title: str) -> str:
        text = (REPO / name).read_text()
        text = re.sub(r"^# .*$", f"# {title}", text, count=1, flags=re.MULTILINE)
        for target, page in links.items():
            text = text.replace(f"]({target})", f"]({page})")
        return text.replace("](docs/", "](")  # files in docs/ (figures) sit beside the generated pages

    _page(files, config, "guide.md", repo_page("README.md", "User guide"))
    _page(files, config, "architecture.md", repo_page("ARCHITECTURE.md", "Architecture"))
    _page(files, config, "reference/scenario-keys.md", _scenario_keys())
    _page(files, config, "reference/scenarios.md", _bundled_scenarios())
    _page(files, config, "reference/presets.md", _presets())
    _page(files, config, "reference/cli.md", _cli())
    _page(files, config, "api/__init__.md", "# qstack\n\n::: qstack\n    options:\n      show_submodules: false\n")
    for name in _api_modules():
        _page(files, config, f"api/{name}.md", f"# qstack.{name}\n\n::: qstack.{name}\n")
    for script in TUTORIALS:
        figure = _figure(script)
        _page(files, config, f"tutorials/{script.stem}.md", _tutorial(script, figure.name))
        files.append(File.generated(config, f"tutorials/{figure.name}", abs_src_path=str(figure)))
    return files


def _scenario_keys() -> str:
    from qstack.scenario.reference import markdown

    return (
        "# Scenario keys\n\n"
        "Every key a scenario file accepts, generated from the schema (`qstack/scenario/schema.py`) when "
        "these pages are built: *accepts* is the schema's own check's words, so this page cannot drift "
        "from validation. An unknown key or a value outside *accepts* stops a run with exit code 2 and a "
        "one-line message naming the key. Choices that plugins can extend (link schemes, routing, "
        "purification schemes, schedulers, applications, topologies) list the built-in names; "
        "`qstack plugins` lists what an installation has. Hardware keys name presets "
        "([Hardware presets](presets.md), `qstack presets`); override keys are "
        "`role.section.field` with a role of node, channel, detector, source, interface or station.\n\n"
        + markdown()
    )


def _bundled_scenarios() -> str:
    from qstack.scenario import bundled_scenarios, scenario_summary

    lines = ["# Bundled scenarios", "",
             "Installed with qstack; `qstack scenarios` lists them and `qstack run NAME` runs one "
             "(`qstack run` alone runs the bundled default, two NV-centre nodes 10 km apart).", ""]
    for name, path in bundled_scenarios().items():
        lines += [f"## {name}", "", scenario_summary(path) + ".", "", "```toml", path.read_text().rstrip(), "```", ""]
    return "\n".join(lines)


def _presets() -> str:
    from qstack.hardware import list_presets, load_preset

    lines = ["# Hardware presets", "",
             "Every parameter of every bundled preset, with its unit and its source "
             "(`qstack presets NAME` prints the same). A source starting with `derived:` says what the "
             "value is derived from, `estimate:` marks an order of magnitude rather than a quoted value.", ""]
    for name in list_presets():
        preset = load_preset(name)
        lines += [f"## {name}", "", f"*{preset.kind}*: {' '.join(preset.description.split())}", "",
                  "| parameter | value | unit | source |", "| --- | --- | --- | --- |"]
        for p in preset.parameters():
            value = f"{p.value:.6g}" if isinstance(p.value, float) else str(p.value)
            lines.append(f"| `{p.key}` | {value} | {p.unit} | {p.source.replace('|', '/')} |")
        lines.append("")
    return "\n".join(lines)


def _cli() -> str:
    from qstack.cli import build_parser

    os.environ.setdefault("COLUMNS", "100")  # argparse wraps help to the terminal width
    parser = build_parser()
    lines = ["# Command line", "", "`qstack --help` and the help of every subcommand, generated from the parser.", "",
             "```text", parser.format_help().rstrip(), "```", ""]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        lines += [f"## qstack {name}", "", "```text", command.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


def _figure(script: Path) -> Path:
    """The tutorial's figure, made by running the tutorial when missing or older than the script."""
    figure = script.with_suffix(".png")
    if figure.is_file() and figure.stat().st_mtime >= script.stat().st_mtime:
        return figure
    log.info("running %s for its figure", script.name)
    env = dict(os.environ, QSTACK_TUTORIAL_OUT=str(figure), MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, str(script.relative_to(REPO))], cwd=REPO, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0 or not figure.is_file():
        raise RuntimeError(f"{script.name} failed to make its figure:\n{result.stderr[-2000:]}")
    return figure


def _tutorial(script: Path, figure: str) -> str:
    """The tutorial as a page: its markdown cells as prose, its code cells as code, its figure
    after the cell that saves it."""
    import jupytext

    notebook = jupytext.read(script)
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        elif cell.source.strip():
            parts.append(f"```python\n{cell.source.rstrip()}\n```")
            if "savefig(" in cell.source:
                parts.append(f"![Figure of {script.stem}]({figure})")
    source = f"`tutorials/{script.name}`: run it with `python tutorials/{script.name}` or open it as a notebook with jupytext."
    return "\n\n".join([parts[0], source, *parts[1:]]) + "\n"
