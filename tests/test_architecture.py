"""The architecture as ARCHITECTURE.md states it: layers checked by import-linter, every module
on the map, no module too long to hold in one's head."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p for p in (ROOT / "qstack").rglob("*.py"))


def test_import_linter_contracts_are_kept():
    lint = pytest.importorskip("importlinter.cli", reason="import-linter is in the dev extra")
    assert lint.lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True) == 0


def test_no_module_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in MODULES if (n := len(p.read_text().splitlines())) > 600}
    assert not long


def test_every_module_is_on_the_map():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    missing = []
    for path in MODULES:
        if path.name == "__init__.py":
            continue
        if path.name not in text:
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"modules missing from ARCHITECTURE.md: {missing}"
