"""Bounds on what a scenario may ask for, checked before anything is allocated.

Every bound is explicit here, so hostile or mistaken input ends in a one-line
:class:`~qstack.scenario.ScenarioError` naming the key and the bound instead of a traceback, a
hang or runaway memory. Two kinds:

**Raisable** (the fields of :class:`Limits`), set in the scenario's ``[limits]`` table or with
``--set limits.<name>=N`` (the file size only from ``--set`` or the ``settings`` argument of
:func:`~qstack.scenario.load_scenario`: a file cannot raise the bound it is read under):

==================  ==========  ====================================================================
key                 default     bounds
==================  ==========  ====================================================================
``file_bytes``      8 MiB       size of the scenario file, checked before it is read
``nodes``           100,000     nodes of the topology (``network.nodes``, grid rows x columns, ...)
``links``           200,000     links of the topology (custom edges, chain lengths)
``requests``        10,000      ``[[requests]]`` entries
``arrivals``        1,000,000   expected arrivals of one request within the run,
                                ``min(arrivals, 1 + arrival_rate_hz * max_time_s)``
``stations``        10,000      ``link.stations`` of an all-photonic chain (a loop per station)
``tree_photons``    100,000     photons per tree, the product of ``link.tree_branching``
``multiplexing``    100,000     ``link.multiplexing`` (modes per attempt)
==================  ==========  ====================================================================

**Fixed** (no scenario needs more; they keep the TOML parser linear and the stack safe):
nesting of arrays and tables ``MAX_DEPTH`` = 32, parts of one dotted key ``MAX_KEY_PARTS`` = 16,
length of one key ``MAX_KEY_CHARS`` = 1,024, every integer at most ``MAX_INTEGER`` = 2**63 - 1.
Error messages show at most ``SHOW_CHARS`` characters of an offending value.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

MAX_DEPTH = 32
MAX_KEY_PARTS = 16
MAX_KEY_CHARS = 1024
MAX_INTEGER = 2**63 - 1
SHOW_CHARS = 60


class LimitError(ValueError):
    """A bound of this module exceeded (turned into a ScenarioError by the loader)."""


@dataclass(frozen=True)
class Limits:
    """The raisable bounds (see the module docstring for what each one bounds)."""

    file_bytes: int = 8 * 2**20
    nodes: int = 100_000
    links: int = 200_000
    requests: int = 10_000
    arrivals: int = 1_000_000
    stations: int = 10_000
    tree_photons: int = 100_000
    multiplexing: int = 100_000

    @classmethod
    def of(cls, table: dict[str, int]) -> "Limits":
        return cls(**table)

    def changed(self) -> dict[str, int]:
        """The bounds that differ from the defaults (what a report's scenario shows)."""
        default = Limits()
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}


_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = SHOW_CHARS, SHOW_CHARS, 40
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 6
_SHORT.maxlevel = 3


def show(value: Any) -> str:
    """A value for a message, cut short (:mod:`reprlib`), so a message never echoes a huge value."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    return _SHORT.repr(value)


def short(text: str) -> str:
    """A key or name for a message, unquoted, cut to :data:`SHOW_CHARS` characters."""
    text = str(text)
    return text if len(text) <= SHOW_CHARS else f"{text[:SHOW_CHARS - 3]}...({len(text)} characters)"


def names_list(names: list[str] | tuple[str, ...], most: int = 8) -> str:
    """``"n0, n1, ..., n9 (10 in all)"``: a list for a message, cut when long."""
    if len(names) <= most:
        return ", ".join(short(n) for n in names)
    head = ", ".join(short(n) for n in names[: most - 1])
    return f"{head}, ..., {short(names[-1])} ({len(names)} in all)"


def read_text(path: Path, file_bytes: int) -> str:
    """The text of a scenario file: at most ``file_bytes`` bytes, UTF-8 with or without a BOM.

    Raises :class:`LimitError` naming the file for a file too large or not UTF-8.
    """
    size = path.stat().st_size
    if size > file_bytes:
        raise LimitError(f"scenario {path}: {size} bytes, more than limits.file_bytes = {file_bytes} "
                         f"(raise it with --set limits.file_bytes=N)")
    with open(path, "rb") as handle:
        data = handle.read(file_bytes + 1)  # a file that grew after stat() is still bounded
    if len(data) > file_bytes:
        raise LimitError(f"scenario {path}: more than limits.file_bytes = {file_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LimitError(f"scenario {path}: not UTF-8 (byte {exc.start}, line {line})") from None
    return text[1:] if text.startswith("\ufeff") else text


def scan_toml(text: str, where: str) -> None:
    """Refuse, before parsing, TOML whose nesting or dotted keys exceed the fixed bounds.

    A linear scan over strings, comments, brackets and keys; it does not validate TOML (the
    parser does), it only bounds what the parser would do: ``tomllib`` recurses once per level
    of nesting and its memory grows with the square of a dotted key's parts.
    """
    depth = 0
    stack: list[str] = []  # "[" (array or header) / "{" (inline table)
    key_context = True  # at the start of a line (or after "{" / "," in an inline table)
    parts, key_chars = 1, 0
    line = 1
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
            if not stack or stack[-1] == "header":
                stack = [s for s in stack if s != "header"]
                key_context, parts, key_chars = True, 1, 0
            i += 1
            continue
        if char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if char in "\"'":
            triple = text.startswith(char * 3, i)
            close = char * 3 if triple else char
            j = i + len(close)
            while True:
                k = text.find(close, j)
                if k < 0:
                    return  # unterminated: the parser reports it
                if char == '"' and _escaped(text, k):
                    j = k + 1
                    continue
                break
            if not triple:
                if "\n" in text[i:k]:
                    return  # a newline in a one-line string: the parser reports it
            else:
                line += text.count("\n", i, k)
                while text.startswith(close[0], k + len(close)):
                    k += 1  # up to two quotes may close a multi-line string
            if key_context:
                key_chars += k - i
                _check_key(parts, key_chars, where, line)
            i = k + len(close)
            continue
        if key_context:
            if char == ".":
                parts += 1
                _check_key(parts, key_chars, where, line)
            elif char == "=":
                key_context = False
            elif char == "[" and (not stack or stack[-1] == "header") and depth == 0:
                stack.append("header")  # a table header: its name is a key
            elif char == "]" and stack and stack[-1] == "header":
                pass
            elif char == "}" and stack and stack[-1] == "{":
                stack.pop()
                depth -= 1
                key_context = False
            elif not char.isspace():
                key_chars += 1
                _check_key(parts, key_chars, where, line)
            i += 1
            continue
        if char in "[{":
            stack.append(char)
            depth += 1
            if depth > MAX_DEPTH:
                raise LimitError(f"{where}: line {line}: arrays and tables nested more than {MAX_DEPTH} deep")
            if char == "{":
                key_context, parts, key_chars = True, 1, 0
        elif char in "]}":
            if stack and stack[-1] in "[{":
                stack.pop()
                depth -= 1
        elif char == "," and stack and stack[-1] == "{":
            key_context, parts, key_chars = True, 1, 0
        i += 1


def _escaped(text: str, k: int) -> bool:
    """Whether the quote at ``k`` is escaped (an odd number of backslashes before it)."""
    count = 0
    while k - 1 - count >= 0 and text[k - 1 - count] == "\\":
        count += 1
    return count % 2 == 1


def _check_key(parts: int, chars: int, where: str, line: int) -> None:
    if parts > MAX_KEY_PARTS:
        raise LimitError(f"{where}: line {line}: a dotted key of more than {MAX_KEY_PARTS} parts")
    if chars > MAX_KEY_CHARS:
        raise LimitError(f"{where}: line {line}: a key of more than {MAX_KEY_CHARS} characters")
