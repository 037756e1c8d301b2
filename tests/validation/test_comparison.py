"""Agreement within the combined uncertainty, and the JSON objects of ``qstack validate``."""

import math

import pytest

from qstack.validation import COVERAGE_FACTOR, Comparison


def _c(measured, error, simulated, simulated_error):
    return Comparison("e", "src", "q", "", measured, error, simulated, simulated_error, None)


def test_agreement_uses_the_measured_error_on_the_side_of_the_simulation():
    # measured 0.882 -0.060/+0.023: a simulated value above uses 0.023, one below uses 0.060.
    above = _c(0.882, (0.060, 0.023), 0.882 + 0.04, 0.0)
    below = _c(0.882, (0.060, 0.023), 0.882 - 0.04, 0.0)
    assert math.isclose(above.deviation, 0.04 / 0.023) and above.agrees
    assert math.isclose(below.deviation, -0.04 / 0.060) and below.agrees
    assert not _c(0.882, (0.060, 0.023), 0.882 + 0.047, 0.0).agrees


def test_errors_combine_in_quadrature_at_the_coverage_factor():
    edge = COVERAGE_FACTOR * math.hypot(0.03, 0.04)
    assert _c(1.0, (0.03, 0.03), 1.0 + 0.999 * edge, 0.04).agrees
    assert not _c(1.0, (0.03, 0.03), 1.0 + 1.001 * edge, 0.04).agrees


def test_nothing_simulated_never_agrees():
    assert not _c(1.0, (0.1, 0.1), float("nan"), float("nan")).agrees


def test_json_object_has_exactly_the_named_keys():
    d = _c(0.882, (0.060, 0.023), 0.9, 0.01).to_dict()
    assert list(d) == ["experiment", "source", "quantity", "unit", "measured", "measured_error", "simulated",
                       "simulated_error", "simulated_error_parts", "agrees", "gap"]
    assert d["simulated_error_parts"] == {"statistical": 0.01, "parameters": 0.0}
    assert d["measured_error"] == [0.060, 0.023]
    assert _c(1.0, (0.1, 0.1), 1.0, 0.0).to_dict()["measured_error"] == 0.1


def test_the_simulated_error_adds_the_parameters_part_in_quadrature():
    c = Comparison("e", "src", "q", "", 1.0, (0.1, 0.1), 1.2, 0.03, None, parameter_error=0.04)
    assert c.simulated_error == pytest.approx(0.05)
    assert c.deviation == pytest.approx(0.2 / math.hypot(0.1, 0.05))
    assert c.to_dict()["simulated_error_parts"] == {"statistical": 0.03, "parameters": 0.04}
