"""Reading a finished (or running) sweep: metrics by dotted path, plots (the flat data frame is
:mod:`qstack.sweep.table`'s)."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

from qstack.sweep.grid import SweepError, canonical
from qstack.sweep.store import load_results, load_sweep


def metric_value(record: dict, metric: str) -> Any:
    """A dotted metric of a record: ``fidelity.mean``, ``throughput_hz``, ``pos.<key>``,
    ``requests.0.delivered``, or a top-level field such as ``wall_time_s``.

    Report keys may themselves hold dots; the longest key that matches is taken. Raises
    ``KeyError`` if the record has no such metric.
    """
    report = record.get("report") or {}
    for root in (report, record):
        try:
            return _lookup(root, metric)
        except KeyError:
            continue
    raise KeyError(metric)


def _lookup(node: Any, path: str) -> Any:
    if path == "":
        return node
    if isinstance(node, list):
        head, _, rest = path.partition(".")
        if head.isdigit() and int(head) < len(node):
            return _lookup(node[int(head)], rest)
        raise KeyError(path)
    if isinstance(node, dict):
        for key in sorted((k for k in node if path == k or path.startswith(k + ".")), key=len, reverse=True):
            try:
                return _lookup(node[key], path[len(key) + 1:])
            except KeyError:
                continue
    raise KeyError(path)


def _axis_value(value: Any) -> Any:
    """A swept value as a number on the x axis where it is one (``[5.0]`` counts as 5.0)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _file_name(metric: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", metric).strip("_") or "metric"


def _spread(samples: list[float]) -> float:
    """Sample standard deviation (ddof 1) of the seeds of a point; 0 for a single seed."""
    import numpy as np

    return np.std(samples, ddof=1) if len(samples) > 1 else 0.0


def _wide_range(values: list[float]) -> bool:
    """Positive values spanning more than two decades: drawn on a log axis."""
    return min(values) > 0 and max(values) / min(values) > 100


def _samples(out: Path, keys: list[str], metric: str) -> dict[tuple[str, ...], list[float]]:
    """The finite values of ``metric`` over seeds, per combination of swept values (as canonical JSON)."""
    values: dict[tuple[str, ...], list[float]] = {}
    for record in load_results(out):
        if record["status"] != "ok" or list(record["params"]) != keys:
            continue
        try:
            value = metric_value(record, metric)
        except KeyError:
            continue
        if _finite(value):
            values.setdefault(tuple(canonical(record["params"][k]) for k in keys), []).append(float(value))
    return values


def _draw_lines(ax: Any, grid: dict, keys: list[str], values: dict[tuple[str, ...], list[float]]) -> None:
    """One line against the first swept key per combination of the other keys."""
    import numpy as np

    x_key, line_keys = keys[0], keys[1:]
    x_values = [canonical(v) for v in grid["params"][x_key]]
    numeric = [_axis_value(json.loads(v)) for v in x_values]
    categorical = any(v is None for v in numeric)
    positions = list(range(len(x_values))) if categorical else numeric
    for combo in itertools.product(*([canonical(v) for v in grid["params"][k]] for k in line_keys)):
        drawn = [(x, values[(x_text, *combo)]) for x_text, x in zip(x_values, positions) if values.get((x_text, *combo))]
        if not drawn:
            continue
        label = ", ".join(f"{k} = {json.loads(v)}" for k, v in zip(line_keys, combo)) or None
        ax.errorbar([x for x, _ in drawn], [np.mean(s) for _, s in drawn], yerr=[_spread(s) for _, s in drawn],
                    marker="o", capsize=3, label=label)
    if categorical:
        ax.set_xticks(positions, [str(json.loads(v)) for v in x_values])
    elif _wide_range(positions):
        ax.set_xscale("log")
    ax.set_xlabel(x_key)
    if line_keys:
        ax.legend(fontsize=8)


def plot_sweep(out_dir: str | Path, metric: str, path: str | Path | None = None) -> Path:
    """Draw ``metric`` (mean +- sample std over seeds) against the first swept key.

    One line per value of the other swept keys. Failed points and points without the metric
    (``fidelity.mean`` is null when nothing was delivered) are left out. Saved with the Agg
    backend to ``path`` (default ``out_dir/METRIC.png``); returns the path. Raises
    :class:`SweepError` if no finished point has the metric.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(out_dir)
    grid = load_sweep(out)
    keys = list(grid["params"])
    values = _samples(out, keys, metric)
    if not values:
        raise SweepError(f"--plot {metric}: no finished point of {out} has this metric (try fidelity.mean, throughput_hz)")

    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    if keys:
        _draw_lines(ax, grid, keys, values)
    else:  # nothing swept: one point, the spread over seeds
        samples = values[()]
        ax.errorbar([0], [np.mean(samples)], yerr=[_spread(samples)], fmt="o", capsize=3)
        ax.set_xticks([0], [grid["scenario"]])
    if _wide_range([v for samples in values.values() for v in samples]):
        ax.set_yscale("log")
    ax.set_ylabel(metric)
    seeds = len(grid["seeds"])
    ax.set_title(f"{grid['scenario']}: {metric}, mean and std over {seeds} seed{'s' if seeds != 1 else ''}", fontsize=10)
    target = Path(path) if path is not None else out / f"{_file_name(metric)}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=110)
    return target
