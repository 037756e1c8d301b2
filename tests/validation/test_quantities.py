"""Metrics read off a run, against closed forms."""

import math
from types import SimpleNamespace

import pytest

from qstack.validation.quantities import METRICS, chsh_value


def _report(qber_z, qber_x):
    app = SimpleNamespace(to_dict=lambda: {"qber_z_exact": qber_z, "qber_x_exact": qber_x})
    return SimpleNamespace(application=app)


@pytest.mark.parametrize("fidelity", [1.0, 0.92, 0.75])
def test_chsh_of_a_werner_pair_is_2_sqrt2_times_its_werner_parameter(fidelity):
    # A Werner pair of fidelity F errs in Z and X with e = 2(1 - F)/3 (Bell-diagonal weights);
    # its CHSH value at the optimal settings is 2 sqrt2 w with w = (4F - 1)/3 (Horodecki).
    e = 2 * (1 - fidelity) / 3
    assert math.isclose(chsh_value(_report(e, e)), 2 * math.sqrt(2) * (4 * fidelity - 1) / 3)


def test_a_run_without_an_application_reads_as_nan():
    assert math.isnan(METRICS["chsh"](SimpleNamespace(application=None)))
