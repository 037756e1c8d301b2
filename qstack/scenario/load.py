"""Reading scenarios: TOML files (or tables), ``--set`` settings, plugins, validation."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

from qstack import data
from qstack.data import tomllib
from qstack.registry import load_plugins

from .limits import Limits, LimitError, read_text, scan_toml, show
from .schema import ScenarioError
from .spec import Scenario


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as a TOML value (number, bool, string, array); else a string.

    A value nested deeper or with longer dotted keys than :mod:`.limits` allows is refused."""
    try:
        return parse_toml(f"v = {text}", "--set value")["v"]
    except ScenarioError as exc:
        if isinstance(exc.__cause__, LimitError):
            raise
        return text


def parse_toml(text: str, where: str) -> dict:
    """``tomllib.loads`` behind the fixed bounds of :func:`.limits.scan_toml`; every failure is a
    one-line :class:`ScenarioError` naming ``where``."""
    try:
        scan_toml(text, where)
    except LimitError as exc:
        raise ScenarioError(str(exc)) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where}: not valid TOML ({exc})") from exc
    except (RecursionError, ValueError) as exc:  # deep nesting missed by the scan; an integer of > 4300 digits
        raise ScenarioError(f"{where}: not valid TOML ({type(exc).__name__})") from exc


def _drop_nested(table: dict, parts: list[str]) -> None:
    """Remove ``parts`` spelled as nested tables (and the tables it leaves empty)."""
    if len(parts) == 1:
        table.pop(parts[0], None)
        return
    sub = table.get(parts[0])
    if isinstance(sub, dict):
        _drop_nested(sub, parts[1:])
        if not sub:
            del table[parts[0]]


def apply_setting(data: dict, path: str, value: Any) -> None:
    """Set ``a.b.c = value`` in a raw scenario table; ``requests.0.pairs`` indexes arrays."""
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise ScenarioError(f"--set {path!r}: expected key.path=value")
    if parts[:2] == ["hardware", "overrides"] and len(parts) > 3:
        # Override keys are dotted names ('node.memory.t2_s'); a file may write them quoted (flat)
        # or as nested tables. Replace both spellings, so the value set here is the one used.
        overrides = data.setdefault("hardware", {}).setdefault("overrides", {})
        if not isinstance(overrides, dict):
            raise ScenarioError(f"--set {path}: hardware.overrides is not a table")
        name = ".".join(parts[2:])
        _drop_nested(overrides, parts[2:])
        overrides[name] = value
        return
    target: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(target, list):
            if not part.isdigit() or int(part) >= len(target):
                raise ScenarioError(f"--set {path}: index {part!r} out of range")
            target = target[int(part)]
        else:
            target = target.setdefault(part, {} if not parts[i + 1].isdigit() else [])
    last = parts[-1]
    if isinstance(target, list):
        if not last.isdigit() or int(last) >= len(target):
            raise ScenarioError(f"--set {path}: index {last!r} out of range")
        target[int(last)] = value
    elif isinstance(target, dict):
        target[last] = value
    else:
        raise ScenarioError(f"--set {path}: {'.'.join(parts[:-1])} is not a table")


def file_bytes_bound(settings: dict[str, Any]) -> int:
    """The file-size bound: ``limits.file_bytes`` from the settings, else the default."""
    value = settings.get("limits.file_bytes", Limits().file_bytes)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError(f"limits.file_bytes: must be an integer >= 1, got {show(value)}")
    return value


def read_scenario_file(path: Path, file_bytes: int) -> dict:
    """The raw table of a scenario file read within the bounds (a one-line error naming the file)."""
    if not path.is_file():
        raise ScenarioError(f"scenario: no such file {str(path)!r}")
    try:
        text = read_text(path, file_bytes)
    except LimitError as exc:
        raise ScenarioError(str(exc)) from exc
    except OSError as exc:
        raise ScenarioError(f"scenario {path}: cannot read ({exc.strerror})") from exc
    raw = parse_toml(text, f"scenario {path}")
    limits = raw.get("limits")
    if isinstance(limits, dict) and "file_bytes" in limits:
        raise ScenarioError("limits.file_bytes: a file cannot raise the bound it is read under; "
                            "use --set limits.file_bytes=N")
    return raw


def default_scenario_text() -> str:
    return resources.files("qstack").joinpath("scenarios/default.toml").read_text()


def bundled_scenarios() -> dict[str, Path]:
    """``{name: path}`` of the example scenarios installed with qstack (``qstack scenarios``)."""
    return data.toml_files("scenarios")


def scenario_path(source: str | Path) -> Path:
    """The file of a scenario given by path, or by the name of a bundled scenario (``"chain_9"``).

    A file that exists wins over a bundled scenario of the same name.
    """
    path = Path(source)
    if path.is_file():
        return path
    bundled = bundled_scenarios()
    name = path.name[: -len(".toml")] if path.suffix == ".toml" else path.name
    if path.parent == Path(".") and name in bundled:
        return bundled[name]
    raise ScenarioError(
        f"scenario: no such file {str(path)!r}, nor a bundled scenario of that name "
        f"({', '.join(bundled) or 'none installed'}; see `qstack scenarios`)"
    )


def scenario_summary(path: Path) -> str:
    """A scenario file's one-line description: the first sentence of its leading comment, cut
    to at most 100 characters at a clause boundary."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if not text:
            break
        lines.append(text)
    paragraph = " ".join(lines)
    end = paragraph.find(". ")
    sentence = paragraph if end < 0 else paragraph[: end + 1]
    if len(sentence) > 100:  # keep whole clauses: cut at the last ": ", "; ", ", " or " (" that fits
        cut = max(sentence.rfind(mark, 0, 100) for mark in (": ", "; ", ", ", " ("))
        sentence = sentence[:cut] if cut > 0 else sentence[:97].rsplit(" ", 1)[0] + "..."
    return sentence


def load_scenario(
    source: str | Path | dict | None = None,
    settings: dict[str, Any] | None = None,
    seed: int | None = None,
) -> Scenario:
    """Read, override and validate a scenario.

    ``source`` is a path, the name of a bundled scenario (``"chain_9"``), a raw table, or None
    for the bundled default; ``settings`` maps dotted keys to values (as ``--set``); ``seed``
    replaces the scenario's seed. A file is read within the bounds of
    :mod:`qstack.scenario.limits` (its size up to ``limits.file_bytes``, raised by
    ``settings={"limits.file_bytes": N}``); UTF-8 with or without a byte-order mark.
    """
    if source is None:
        raw, name = tomllib.loads(default_scenario_text()), "default"
    elif isinstance(source, dict):
        raw, name = copy.deepcopy(source), "<dict>"
    else:
        path = scenario_path(source)
        name = str(path)
        raw = read_scenario_file(path, file_bytes_bound(settings or {}))
    for key, value in (settings or {}).items():
        apply_setting(raw, key, copy.deepcopy(value))  # never alias the caller's tables
    if seed is not None:
        raw["seed"] = seed
    plugins = raw.get("plugins", []) if isinstance(raw, dict) else []
    if isinstance(plugins, list):  # a wrong type is reported by the schema
        try:
            load_plugins(plugins)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from exc
    return Scenario.from_table(raw, source=name)
