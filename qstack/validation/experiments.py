"""Published experiments as typed records: ``validation/*.toml`` -> :class:`Experiment`.

One file per experiment. Its ``[scenario]`` table is a qstack scenario that holds the structure
(topology, scheme, presets, application) and the run's statistics (pairs, time limit); every
physical number the experiment fixes is a ``[parameters]`` entry, keyed by the scenario path it
sets (as ``qstack run --set``), with its value and a source a reader can follow to the page::

    [parameters."network.link_lengths_km"]
    value = [1.3]
    source = "Hensen et al., Nature 526, 682 (2015), abstract, p. 682: spins 1.3 km apart"
    assumption = false

A parameter the paper does not give is marked ``assumption = true`` and says why its value was
chosen. Each ``[[quantities]]`` entry is one measured result: its value and error bar (symmetric,
or ``[minus, plus]``), the source, the registered metric that reads the simulated value off a
run (:data:`qstack.validation.quantities.METRICS`), optional ``settings`` (a variant of the
scenario, e.g. another bright-state population) and ``gap``: the physical effect qstack does not
model that keeps the two apart, when one is known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from qstack import data
from qstack.data import tomllib


class ExperimentError(ValueError):
    """An experiment file that cannot be used; the message names the file and the key."""


def experiments_dir() -> Path:
    """The folder of experiment files: the top-level ``validation/`` of the checkout, or its copy
    bundled in an installed wheel (:func:`qstack.data.path`).

    The one place that says where the files live.
    """
    return data.path("validation")


@dataclass(frozen=True)
class Parameter:
    """One device or set-up number: the scenario path it sets, its value and its source.

    ``uncertainty``: the value's standard uncertainty where its source gives one (same unit; 0
    where none is given). The comparison carries it into the simulated value's uncertainty.
    """

    key: str
    value: Any
    source: str
    assumption: bool = False
    uncertainty: float = 0.0


@dataclass(frozen=True)
class Quantity:
    """One measured result and how to read its simulated counterpart off a run.

    ``error``: ``(minus, plus)``, one standard deviation as the paper quotes it.
    ``settings``: scenario paths -> values for this quantity's variant of the scenario.
    """

    name: str
    unit: str
    measured: float
    error: tuple[float, float]
    source: str
    metric: str
    settings: Mapping[str, Any]
    gap: str | None = None

    @property
    def symmetric(self) -> bool:
        return self.error[0] == self.error[1]


@dataclass(frozen=True)
class Statistics:
    """Seeds of the full run and of the reduced run the tests use, and the fraction of each
    request's pairs the reduced run asks for."""

    seeds: tuple[int, ...]
    reduced_seeds: tuple[int, ...]
    reduced_pairs_fraction: float


@dataclass(frozen=True)
class Experiment:
    """A published experiment: its scenario, its sourced parameters, its measured results."""

    name: str
    title: str
    reference: str
    summary: str
    scenario: Mapping[str, Any]
    parameters: tuple[Parameter, ...]
    quantities: tuple[Quantity, ...]
    statistics: Statistics
    path: Path

    @property
    def assumptions(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.assumption)

    def settings(self, quantity: Quantity | None = None) -> dict[str, Any]:
        """Scenario path -> value: every parameter, then the quantity's variant on top."""
        out = {p.key: p.value for p in self.parameters}
        if quantity is not None:
            out.update(quantity.settings)
        return out


_TOP = {"name", "title", "reference", "summary", "scenario", "parameters", "quantities", "statistics"}
_PARAMETER = {"value", "source", "assumption", "uncertainty"}
_QUANTITY = {"name", "unit", "measured", "error", "source", "metric", "settings", "gap"}
_STATISTICS = {"seeds", "reduced_seeds", "reduced_pairs_fraction"}


def _fail(where: str, message: str) -> ExperimentError:
    return ExperimentError(f"{where}: {message}")


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"must be a non-empty string, got {value!r}")
    return value


def _number(where: str, value: Any, low: float = -math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < low:
        raise _fail(where, f"must be a finite number >= {low:g}, got {value!r}")
    return float(value)


def _unknown(where: str, table: Mapping, allowed: set[str]) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise _fail(f"{where}.{extra[0]}", f"unknown key; allowed: {', '.join(sorted(allowed))}")


def _parameter(where: str, key: str, table: Any) -> Parameter:
    if not isinstance(table, dict):
        raise _fail(where, "must be a table with value, source (and assumption)")
    _unknown(where, table, _PARAMETER)
    if "value" not in table:
        raise _fail(f"{where}.value", "required")
    assumption = table.get("assumption", False)
    if not isinstance(assumption, bool):
        raise _fail(f"{where}.assumption", f"must be true or false, got {assumption!r}")
    uncertainty = 0.0
    if "uncertainty" in table:
        value = table["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(f"{where}.uncertainty", f"only a number can carry an uncertainty; the value is {value!r}")
        uncertainty = _number(f"{where}.uncertainty", table["uncertainty"], 0.0)
    return Parameter(key, table["value"], _text(f"{where}.source", table.get("source")), assumption, uncertainty)


def _error(where: str, value: Any) -> tuple[float, float]:
    if isinstance(value, list):
        if len(value) != 2:
            raise _fail(where, f"must be a number or [minus, plus], got {value!r}")
        return (_number(where, value[0], 0.0), _number(where, value[1], 0.0))
    e = _number(where, value, 0.0)
    return (e, e)


def _quantity(where: str, table: Any) -> Quantity:
    from .quantities import METRICS

    if not isinstance(table, dict):
        raise _fail(where, "must be a table")
    _unknown(where, table, _QUANTITY)
    metric = _text(f"{where}.metric", table.get("metric"))
    if metric not in METRICS:
        raise _fail(f"{where}.metric", f"must be one of {', '.join(METRICS)}; got {metric!r}")
    error = _error(f"{where}.error", table.get("error"))
    if error[0] + error[1] <= 0:
        raise _fail(f"{where}.error", "a measured value without an error bar cannot be compared")
    settings = table.get("settings", {})
    if not isinstance(settings, dict):
        raise _fail(f"{where}.settings", "must be a table of scenario path = value")
    gap = table.get("gap")
    return Quantity(
        name=_text(f"{where}.name", table.get("name")),
        unit=table.get("unit", "") if isinstance(table.get("unit", ""), str) else _text(f"{where}.unit", None),
        measured=_number(f"{where}.measured", table.get("measured")),
        error=error,
        source=_text(f"{where}.source", table.get("source")),
        metric=metric,
        settings=MappingProxyType(dict(settings)),
        gap=None if gap is None else _text(f"{where}.gap", gap),
    )


def _seeds(where: str, value: Any) -> tuple[int, ...]:
    if (not isinstance(value, list) or not value
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in value)):
        raise _fail(where, f"must be a non-empty list of integers >= 0, got {value!r}")
    return tuple(value)


def _statistics(where: str, table: Any) -> Statistics:
    if not isinstance(table, dict):
        raise _fail(where, "must be a table with seeds, reduced_seeds, reduced_pairs_fraction")
    _unknown(where, table, _STATISTICS)
    fraction = _number(f"{where}.reduced_pairs_fraction", table.get("reduced_pairs_fraction"), 0.0)
    if not 0 < fraction <= 1:
        raise _fail(f"{where}.reduced_pairs_fraction", f"must be in (0, 1], got {fraction}")
    return Statistics(_seeds(f"{where}.seeds", table.get("seeds")),
                      _seeds(f"{where}.reduced_seeds", table.get("reduced_seeds")), fraction)


def load_experiment(path: str | Path) -> Experiment:
    """Read and check one experiment file."""
    path = Path(path)
    where = path.name
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise _fail(where, f"cannot read ({exc})") from exc
    _unknown(where, raw, _TOP)
    name = _text(f"{where}: name", raw.get("name"))
    if name != path.stem:
        raise _fail(f"{where}: name", f"must equal the file name {path.stem!r}, got {name!r}")
    scenario = raw.get("scenario")
    if not isinstance(scenario, dict):
        raise _fail(f"{where}: scenario", "must be a table (a qstack scenario)")
    parameters = raw.get("parameters", {})
    if not isinstance(parameters, dict) or not parameters:
        raise _fail(f"{where}: parameters", "must be a non-empty table of scenario path = {value, source}")
    quantities = raw.get("quantities")
    if not isinstance(quantities, list) or not quantities:
        raise _fail(f"{where}: quantities", "must be a non-empty array of tables")
    return Experiment(
        name=name,
        title=_text(f"{where}: title", raw.get("title")),
        reference=_text(f"{where}: reference", raw.get("reference")),
        summary=_text(f"{where}: summary", raw.get("summary")),
        scenario=MappingProxyType(scenario),
        parameters=tuple(_parameter(f"{where}: parameters.{k}", k, v) for k, v in parameters.items()),
        quantities=tuple(_quantity(f"{where}: quantities[{i}]", q) for i, q in enumerate(quantities)),
        statistics=_statistics(f"{where}: statistics", raw.get("statistics")),
        path=path,
    )


def list_experiments(directory: Path | None = None) -> tuple[str, ...]:
    """The experiment names (file stems), sorted."""
    directory = experiments_dir() if directory is None else directory
    return tuple(sorted(p.stem for p in directory.glob("*.toml")))


def load_experiments(names: tuple[str, ...] | list[str] = (), directory: Path | None = None) -> tuple[Experiment, ...]:
    """The named experiments (all when ``names`` is empty), in the order given or sorted."""
    directory = experiments_dir() if directory is None else directory
    known = list_experiments(directory)
    if not known:
        raise ExperimentError(f"validation: no experiment files in {directory}")
    for name in names:
        if name not in known:
            raise ExperimentError(f"validate: unknown experiment {name!r}; known: {', '.join(known)}")
    return tuple(load_experiment(directory / f"{name}.toml") for name in (names or known))
