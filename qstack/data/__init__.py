"""Where qstack's bundled data lives, installed or in a source checkout, and how TOML is read.

Bundled folders (each a folder of ``*.toml`` files):

- ``scenarios``: the example scenarios of the repository's top-level ``scenarios/`` folder
  (``qstack run chain_9``, ``qstack scenarios``);
- ``validation``: the experiment files of the top-level ``validation/`` folder, when the
  checkout has one;
- ``presets``: the hardware presets (``qstack/hardware/presets``).

The top-level folders are installed inside the package, as ``qstack/data/<folder>/`` (see
``setup.py``). An editable install (``pip install -e .``) leaves them where they are: setuptools'
editable finder cannot map a folder without ``__init__.py`` into a package, so :func:`path`
falls back to the checkout the package was imported from (the folder next to ``qstack/`` that
holds ``pyproject.toml``). Both give real files on disk.

``tomllib`` is the standard library's TOML reader (Python >= 3.11) or its backport ``tomli``
(Python 3.10, a dependency there); read TOML with ``from qstack.data import tomllib``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10
    import tomli as tomllib

__all__ = ["FOLDERS", "path", "tomllib", "toml_files"]

_PACKAGE = Path(__file__).resolve().parent  # .../qstack/data
_IN_PACKAGE = {"presets": _PACKAGE.parent / "hardware" / "presets"}
_TOP_LEVEL = ("scenarios", "validation")

FOLDERS = (*_TOP_LEVEL, *_IN_PACKAGE)
"""Names of the bundled folders :func:`path` resolves."""


def _checkout() -> Path | None:
    """The source checkout the package was imported from, or None when it is installed."""
    root = _PACKAGE.parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def path(name: str) -> Path:
    """The file or folder ``name`` of the bundled data, e.g. ``"scenarios"`` or
    ``"scenarios/chain_9.toml"``; its first part is one of :data:`FOLDERS`.

    Raises:
        FileNotFoundError: ``name`` is not bundled with this installation (the message says
            which folders are).
    """
    folder, _, rest = name.replace("\\", "/").strip("/").partition("/")
    if folder not in FOLDERS:
        raise FileNotFoundError(f"{name!r}: not bundled data; bundled folders: {', '.join(FOLDERS)}")
    if folder in _IN_PACKAGE:
        candidates = [_IN_PACKAGE[folder]]
    else:
        checkout = _checkout()
        candidates = [_PACKAGE / folder] + ([checkout / folder] if checkout else [])
    for base in candidates:
        if base.is_dir():
            target = base / rest if rest else base
            if target.exists():
                return target
            raise FileNotFoundError(f"{name!r}: no such bundled file in {base}")
    raise FileNotFoundError(f"{name!r}: this installation has no bundled {folder!r} folder")


def toml_files(folder: str) -> dict[str, Path]:
    """``{stem: path}`` of the ``*.toml`` files of a bundled folder, sorted by name; empty when
    the installation has no such folder."""
    try:
        base = path(folder)
    except FileNotFoundError:
        if folder not in FOLDERS:
            raise
        return {}
    return {p.stem: p for p in sorted(base.glob("*.toml"))}
