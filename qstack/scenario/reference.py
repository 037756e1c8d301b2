"""The scenario-key reference, generated from :data:`~qstack.scenario.schema.SCHEMA` itself.

Every key the schema accepts becomes one row: its dotted name (``network.edges[].length_km``
for a key of each table in an array), what it accepts and its default. What a key accepts is the
schema's own check, asked about a value no check accepts: its error message (minus the key and
the offending value) is the allowed range, so the reference cannot drift from validation. The
documentation site builds its "Scenario keys" page from :func:`markdown`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .schema import SCHEMA, ScenarioError


@dataclass(frozen=True)
class KeyDoc:
    """One scenario key: dotted name, the table it sits in, what it accepts, its default."""

    key: str
    table: str
    allowed: str
    default: Any
    required: bool


class _Unacceptable:
    """A value no schema check accepts (not a number, string, list or table)."""

    def __repr__(self) -> str:
        return "<probe>"


_GOT = re.compile(r"[,;]?\s*got <probe>.*$")


def _allowed(key: str, check: Any) -> str:
    """The check's own words for what it accepts."""
    try:
        check(key, _Unacceptable())
    except ScenarioError as exc:
        where, _, message = str(exc).partition(": ")
        message = _GOT.sub("", message).strip()
        message = message[len("must be "):] if message.startswith("must be ") else message
        if where != key and where.startswith(key):  # the check names an item: link_lengths_km[0]
            message = f"{message} (each item)"
        return message
    return "any value"  # pragma: no cover - every check refuses the probe


def keys(schema: dict | None = None, prefix: str = "", table: str = "") -> list[KeyDoc]:
    """Every key of ``schema`` (default: the scenario schema) in schema order, a table's own keys
    before its sub-tables."""
    schema = SCHEMA if schema is None else schema
    out: list[KeyDoc] = []
    nested: list[KeyDoc] = []  # a table's own keys first, then its sub-tables
    for name, spec in schema.items():
        dotted = f"{prefix}.{name}" if prefix else name
        if isinstance(spec, dict):
            nested.extend(keys(spec, dotted, dotted))
        elif isinstance(spec, list):
            nested.extend(keys(spec[0], f"{dotted}[]", f"{dotted}[]"))
        else:
            out.append(KeyDoc(dotted, table, _allowed(dotted, spec.check), spec.default, spec.required))
    return out + nested


def _toml(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _heading(table: str) -> str:
    if not table:
        return "Top level"
    if table.endswith("[]"):
        return f"`[[{table[:-2]}]]` (an array of tables)"
    return f"`[{table}]`"


def markdown() -> str:
    """The reference as Markdown: one table of keys per scenario table."""
    lines = []
    current = None
    for doc in keys():
        if doc.table != current:
            current = doc.table
            lines += ["", f"## {_heading(current)}", "", "| key | accepts | default |", "| --- | --- | --- |"]
        default = "**required**" if doc.required else f"`{_toml(doc.default)}`"
        allowed = doc.allowed.replace("|", "\\|")
        lines.append(f"| `{doc.key}` | {allowed} | {default} |")
    return "\n".join(lines).lstrip() + "\n"
