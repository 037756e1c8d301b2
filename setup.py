"""The one part of the build that ``pyproject.toml`` cannot state: the repository's top-level data
folders (``scenarios/``, and ``validation/`` when the checkout has one) are installed inside the
package as ``qstack/data/<folder>/*.toml``, found at run time by ``qstack.data.path``.

Everything else (metadata, dependencies, extras, scripts) is in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOT = Path(__file__).resolve().parent
# The data folders that exist in this checkout, each installed as package qstack.data.<folder>.
DATA = {f"qstack.data.{folder}": folder for folder in ("scenarios", "validation") if (ROOT / folder).is_dir()}

setup(
    packages=find_namespace_packages(include=["qstack", "qstack.*"]) + sorted(DATA),
    package_dir=DATA,
    package_data={
        "qstack": ["py.typed"],
        "qstack.scenarios": ["*.toml"],
        "qstack.hardware.presets": ["*.toml"],
        **{package: ["*.toml"] for package in DATA},
    },
)
