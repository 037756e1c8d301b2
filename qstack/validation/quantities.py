"""How a measured quantity is read off a finished run: the metrics an experiment file may name.

Each metric is a function of the run's :class:`~qstack.report.Report` returning a float (``nan``
when the run holds nothing to read, e.g. no pair delivered). The CHSH value is computed from the
delivered states' exact error rates in Z and X, readout noise included (the QKD application's
``qber_z_exact``, ``qber_x_exact``): for a state corrected to Phi+ and the CHSH settings of the
experiments (Alice Z, X; Bob (Z +- X)/sqrt2),

    S = sqrt2 (E_ZZ + E_XX) = 2 sqrt2 (1 - e_Z - e_X),   E = 1 - 2 e,

which is exact for any state whose Y correlation does not enter, as in these settings.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Callable

from qstack.report import Report


def _application(report: Report, key: str) -> float:
    app = report.application.to_dict() if report.application is not None else {}
    value = app.get(key)
    if isinstance(value, dict):
        value = value.get("mean")
    return float("nan") if value is None else float(value)


def chsh_value(report: Report) -> float:
    """``2 sqrt2 (1 - e_Z - e_X)`` from the exact error rates of the delivered pairs."""
    e_z, e_x = _application(report, "qber_z_exact"), _application(report, "qber_x_exact")
    return 2.0 * math.sqrt(2.0) * (1.0 - e_z - e_x)


def mean_qber(report: Report) -> float:
    """``(e_Z + e_X) / 2``, the exact error rates of the delivered pairs."""
    return 0.5 * (_application(report, "qber_z_exact") + _application(report, "qber_x_exact"))


def pair_fidelity(report: Report) -> float:
    """Mean Bell fidelity of the delivered pairs."""
    mean = report.fidelity.mean
    return float("nan") if mean is None else float(mean)


def link_success_probability(report: Report) -> float:
    """Per-attempt success probability of the first link (exact, from the heralding model)."""
    return float(report.links[0].p_attempt)


def attempt_rate_hz(report: Report) -> float:
    """Pairs per second of attempting: ``p_attempt / attempt_time_s`` of the first link."""
    row = report.links[0]
    return float(row.p_attempt / row.attempt_time_s)


METRICS: MappingProxyType[str, Callable[[Report], float]] = MappingProxyType({
    "fidelity": pair_fidelity,
    "chsh": chsh_value,
    "qber": mean_qber,
    "p_attempt": link_success_probability,
    "heralding_rate_hz": attempt_rate_hz,
    "throughput_hz": lambda report: float(report.throughput_hz),
    "secret_key_rate_hz": lambda report: _application(report, "secret_key_rate_hz"),
    "ghz_fidelity": lambda report: _application(report, "ghz_fidelity"),
    "teleportation_fidelity": lambda report: _application(report, "teleportation_fidelity"),
})
"""Metric name -> reader of the simulated value."""
