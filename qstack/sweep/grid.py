"""The grid of a sweep: swept values x seeds, validated before anything runs.

A point is identified by :func:`point_id`, a hash of its swept settings and its seed; the id is
what ``results.jsonl`` records and what a resumed sweep matches, so it must never change for
the same settings and seed (an old sweep directory would otherwise run everything again).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

FORMAT = "qstack-sweep/1"


class SweepError(ValueError):
    """A sweep that cannot start: a bad swept key or value, an ``out_dir`` holding another
    sweep, an unreachable scheduler. The message is one line naming what is wrong."""


@dataclass(frozen=True)
class SweepPoint:
    """One point of the grid: the swept settings (in the order of the sweep) and the seed."""

    params: tuple[tuple[str, Any], ...]
    seed: int

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def point_id(self) -> str:
        return point_id(self.settings, self.seed)


def point_id(params: dict[str, Any], seed: int) -> str:
    """Stable id of a point: the first 16 hex digits of the SHA-256 of its canonical JSON."""
    canonical_json = json.dumps({"params": params, "seed": seed}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical_json.encode()).hexdigest()[:16]


def canonical(value: Any) -> str:
    """A value as canonical JSON: equal values give equal text (used to compare swept values)."""
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class Sweep:
    """A validated grid: a scenario table, fixed settings, swept values and seeds.

    ``table`` is the scenario as read from its file with the fixed ``settings`` applied; it
    travels to the workers, so they need no access to the file.
    """

    source: str
    table: dict
    settings: dict[str, Any]
    params: dict[str, tuple[Any, ...]]
    seeds: tuple[int, ...]

    @classmethod
    def create(
        cls,
        scenario: str | Path | dict | None,
        params: dict[str, Sequence[Any]],
        seeds: Sequence[int] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> "Sweep":
        """Read the scenario and validate every point (raises :class:`SweepError`).

        ``scenario`` is a path, a raw table or None for the bundled default; ``params`` maps
        dotted keys to their values; ``seeds`` defaults to the scenario's own seed;
        ``settings`` are fixed overrides applied to every point (as ``--set``).
        """
        from qstack.scenario import ScenarioError, apply_setting, load_scenario

        settings = dict(settings or {})
        try:
            base = load_scenario(scenario, settings=settings)
        except ScenarioError as exc:
            raise SweepError(str(exc)) from exc
        table = scenario_table(scenario, settings)
        for key, value in settings.items():  # already checked by load_scenario above
            apply_setting(table, key, value)
        swept = {key: _swept_values(table, settings, key, values, base.seed) for key, values in params.items()}
        seeds = _checked_seeds((base.seed,) if seeds is None else tuple(seeds))
        sweep = cls(source=base.source, table=table, settings=settings, params=swept, seeds=seeds)
        for combo in sweep.combinations():  # values that are fine alone may clash together
            try:
                load_scenario(table, settings=combo, seed=seeds[0])
            except ScenarioError as exc:
                where = ", ".join(f"{k}={canonical(v)}" for k, v in combo.items())
                raise SweepError(f"point {where}: {exc}") from exc
        return sweep

    def combinations(self) -> list[dict[str, Any]]:
        """Every combination of the swept values, the first key varying slowest."""
        keys = list(self.params)
        return [dict(zip(keys, values)) for values in itertools.product(*self.params.values())]

    def points(self) -> list[SweepPoint]:
        """The grid: combinations x seeds, seeds varying fastest."""
        return [SweepPoint(tuple(combo.items()), seed) for combo in self.combinations() for seed in self.seeds]

    @property
    def digest(self) -> str:
        """Identity of what every point shares: the scenario table with the fixed settings.

        The table's ``seed`` is left out: every point runs from its own seed.
        """
        shared = {k: v for k, v in self.table.items() if k != "seed"}
        return hashlib.sha256(json.dumps(shared, sort_keys=True, default=str).encode()).hexdigest()

    def describe(self) -> dict:
        """The JSON form written to ``sweep.json``."""
        return {
            "format": FORMAT,
            "scenario": self.source,
            "scenario_sha256": self.digest,
            "settings": self.settings,
            "params": {k: list(v) for k, v in self.params.items()},
            "seeds": list(self.seeds),
            "points": [{"point": p.point_id, "params": p.settings, "seed": p.seed} for p in self.points()],
            "scenario_table": self.table,
        }


def _swept_values(table: dict, settings: dict[str, Any], key: str, values: Any, seed: int) -> tuple[Any, ...]:
    """The values of one ``--param``, each checked alone, so an error names the key at fault."""
    from qstack.scenario import ScenarioError, load_scenario

    if key == "seed":
        raise SweepError("--param seed: sweep seeds with --seeds N or --seed-list")
    if key in settings:
        raise SweepError(f"--param {key}: also given as a fixed setting (--set)")
    values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
    if not values:
        raise SweepError(f"--param {key}: no values")
    ids = [canonical(v) for v in values]
    for i, ident in enumerate(ids):
        if ident in ids[:i]:
            raise SweepError(f"--param {key}: value {values[i]!r} given twice")
    for value in values:
        try:
            load_scenario(table, settings={key: value}, seed=seed)
        except ScenarioError as exc:
            raise SweepError(f"--param {key}={canonical(value)}: {exc}") from exc
    return values


def _checked_seeds(seeds: tuple[Any, ...]) -> tuple[int, ...]:
    if not seeds:
        raise SweepError("seeds: at least one seed is needed")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SweepError(f"seeds: must be integers >= 0, got {seed!r}")
    if len(set(seeds)) != len(seeds):
        raise SweepError(f"seeds: {sorted(s for s in seeds if seeds.count(s) > 1)[0]} given twice")
    return seeds


def scenario_table(scenario: str | Path | dict | None, settings: dict[str, Any] | None = None) -> dict:
    """The raw table of an already validated scenario source (what workers are sent), read
    within the same bounds as :func:`qstack.scenario.load_scenario` (``settings`` may raise
    ``limits.file_bytes``)."""
    from qstack.data import tomllib
    from qstack.scenario import default_scenario_text, scenario_path
    from qstack.scenario.load import file_bytes_bound, read_scenario_file

    if scenario is None:
        return tomllib.loads(default_scenario_text())
    if isinstance(scenario, dict):
        return copy.deepcopy(scenario)
    return read_scenario_file(scenario_path(scenario), file_bytes_bound(settings or {}))


def split_values(text: str) -> list[str]:
    """Split ``--param`` values at top-level commas: ``"[5.0],[10.0, 2.0]"`` -> two items.

    Commas inside brackets, braces or quotes belong to the value.
    """
    items, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            if char == quote and text[i - 1] != "\\":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    items.append(text[start:].strip())
    return items


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"key.path=v1,v2"`` -> ``("key.path", [v1, v2])``, each value parsed as a ``--set`` value."""
    from qstack.scenario import parse_value

    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SweepError(f"--param {text!r}: expected key.path=v1,v2,...")
    items = split_values(values)
    if any(not item for item in items):
        raise SweepError(f"--param {key}: empty value in {values!r}")
    return key, [parse_value(item) for item in items]
