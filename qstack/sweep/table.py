"""A sweep as a flat table: one row per point, one column per metric (``--table FILE``).

Column names are dotted paths of plain words: every report key is cleaned to letters, digits
and ``_`` (``"link n0-n1 attempt (measured)"`` becomes ``link_n0_n1_attempt_measured``), so a
column reads ``pos.link_n0_n1_attempt_measured``. Per row:

* ``point``, ``seed``, ``status``, ``wall_time_s``, ``error`` (None for a point that ran);
* ``params.<swept key>``: the swept value; a list (``network.link_lengths_km = [5.0, 10.0]``)
  becomes its JSON text ``"[5.0, 10.0]"``, so ``frame.groupby("params.network.link_lengths_km")``
  works;
* the report flattened: nested objects by dots (``fidelity.mean``, ``latency_s.p95``), lists of
  objects by index (``requests.0.delivered``, ``links.1.scheme``), lists of plain values as
  their JSON text (``scenario.idealize``).

A column whose values are of different kinds across rows (a number in one, text in another)
holds the JSON text of each, so the frame writes to Parquet. Needs pandas (and pyarrow for
Parquet): ``pip install "qstack[data]"``.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from qstack.sweep.grid import SweepError
from qstack.sweep.store import load_results

#: Table formats by file suffix.
TABLE_SUFFIXES = (".parquet", ".csv")

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def column_part(key: Any) -> str:
    """One part of a column name: runs of anything but letters, digits and ``_`` become one
    ``_`` (``"link n0-n1 attempt (measured)"`` -> ``"link_n0_n1_attempt_measured"``)."""
    return _UNSAFE.sub("_", str(key)).strip("_") or "_"


def flat_row(record: dict) -> dict[str, Any]:
    """One ``results.jsonl`` record as a flat row (see the module docstring for the columns)."""
    row: dict[str, Any] = {
        "point": record["point"],
        "seed": record["seed"],
        "status": record["status"],
        "wall_time_s": record.get("wall_time_s"),
        "error": record.get("error"),
    }
    for key, value in record["params"].items():
        row[_column(["params", *str(key).split(".")], row)] = _cell(value)
    report: dict[str, Any] = {}
    _flatten(record.get("report") or {}, "", report)
    for name, value in report.items():
        if name in row and row[name] == value:  # the report's own seed is the record's: one column
            continue
        row[name if name not in row else _column(name.split("."), row)] = value
    return row


def to_frame(out_dir: str | Path):
    """The results of the sweep in ``out_dir`` as a flat ``pandas.DataFrame``, one row per point.

    Columns (module docstring): ``point``, ``seed``, ``status``, ``wall_time_s``, ``error``,
    ``params.<swept key>`` (lists as JSON text) and the report flattened into dotted names
    without spaces (``fidelity.mean``, ``latency_s.p95``, ``pos.link_n0_n1_attempt``,
    ``requests.0.delivered``). Needs pandas (``pip install "qstack[data]"``). Example::

        frame = qstack.sweep.to_frame("sweep-chain")
        frame.groupby("params.link.bright_state_population")["fidelity.mean"].mean()
    """
    pandas = _pandas("to_frame")
    frame = pandas.DataFrame([flat_row(record) for record in load_results(out_dir)])
    for name in frame.columns:
        kinds = {_kind(v) for v in frame[name] if v is not None and v == v}  # v == v: not NaN
        if len(kinds) > 1:
            frame[name] = [v if v is None or v != v else json.dumps(v) for v in frame[name]]
    return frame


def check_table_path(path: str | Path) -> Path:
    """``path`` if its suffix is a table format (:data:`TABLE_SUFFIXES`) and the libraries that
    write it are installed, else :class:`SweepError` (checked before a sweep runs)."""
    path = Path(path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise SweepError(f"--table {path}: the file must end in {' or '.join(TABLE_SUFFIXES)}")
    needed = ("pandas", "pyarrow") if path.suffix.lower() == ".parquet" else ("pandas",)
    for module in needed:
        if importlib.util.find_spec(module) is None:
            raise SweepError(f"--table {path}: needs {module}, which qstack does not depend on: pip install \"qstack[data]\"")
    return path


def write_table(out_dir: str | Path, path: str | Path) -> Path:
    """Write :func:`to_frame` of ``out_dir`` to ``path`` (``.parquet`` or ``.csv``); returns it."""
    path = check_table_path(path)
    frame = to_frame(out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        try:
            frame.to_parquet(path, index=False)
        except ImportError as exc:
            raise ImportError(f"--table {path}: Parquet needs pyarrow: pip install \"qstack[data]\"") from exc
    else:
        frame.to_csv(path, index=False)
    return path


def _flatten(node: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            _flatten(value, f"{prefix}.{column_part(key)}" if prefix else column_part(key), out)
    elif isinstance(node, list) and node and all(isinstance(item, dict) for item in node):
        for index, item in enumerate(node):
            _flatten(item, f"{prefix}.{index}" if prefix else str(index), out)
    else:
        out[_column(prefix.split("."), out)] = _cell(node)


def _column(parts: list[str], row: dict) -> str:
    """The cleaned dotted name; a name two keys clean to alike gets ``_2``, ``_3``, ..."""
    name = ".".join(column_part(p) for p in parts)
    candidate, n = name, 1
    while candidate in row:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def _cell(value: Any) -> Any:
    """A table cell: lists and (empty) objects as their JSON text, everything else as is."""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _pandas(what: str):
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(f"{what} needs pandas, which qstack does not depend on: pip install \"qstack[data]\" "
                          "(or pandas), or use load_results()") from exc
    return pandas


__all__ = ["TABLE_SUFFIXES", "check_table_path", "column_part", "flat_row", "to_frame", "write_table"]
