"""A parameter's sourced uncertainty is carried into the simulated value's uncertainty."""

import dataclasses
import math

import pytest

from qstack.scenario import ScenarioError
from qstack.validation import comparison, load_experiments
from qstack.validation.experiments import ExperimentError, Parameter, load_experiment

KEY = "hardware.overrides.node.emitter.emitted_state_fidelity"


def _fake(monkeypatch, f, allowed_max=1.0):
    """Runs whose metric is ``f(value of KEY)``; values above ``allowed_max`` are refused."""

    def run_variant(experiment, quantity, seed, reduced=False, moved=None):
        value = {**experiment.settings(quantity), **(moved or {})}[KEY]
        if value > allowed_max:
            raise ScenarioError(f"{KEY} must be <= {allowed_max}")
        return {"value": f(value) + 1e-3 * seed}

    monkeypatch.setattr(comparison, "run_variant", run_variant)
    monkeypatch.setattr(comparison, "METRICS", {"fidelity": lambda report: report["value"]})


def _experiment(value, uncertainty):
    experiment = next(e for e in load_experiments(["krutyanskiy2023"]))
    parameters = tuple(dataclasses.replace(p, value=value, uncertainty=uncertainty) if p.key == KEY else p
                       for p in experiment.parameters)
    return dataclasses.replace(experiment, parameters=parameters)


def test_central_difference_over_plus_minus_one_uncertainty(monkeypatch):
    f = lambda x: 3 * x**2  # central difference of a quadratic is its derivative times u, exactly
    _fake(monkeypatch, f)
    (c,) = comparison.compare_experiment(_experiment(0.9, 0.02))
    assert c.parameter_error == pytest.approx(6 * 0.9 * 0.02, rel=1e-12)
    stat = c.statistical_error
    assert c.simulated_error == pytest.approx(math.hypot(stat, 6 * 0.9 * 0.02), rel=1e-12)


def test_one_sided_where_the_other_side_leaves_the_allowed_range(monkeypatch):
    f = lambda x: 3 * x**2
    _fake(monkeypatch, f, allowed_max=0.995)
    (c,) = comparison.compare_experiment(_experiment(0.99, 0.01))
    assert c.parameter_error == pytest.approx(f(0.99) - f(0.98), rel=1e-9)


def test_no_uncertainty_no_parameter_part(monkeypatch):
    _fake(monkeypatch, lambda x: x)
    (c,) = comparison.compare_experiment(_experiment(0.9, 0.0))
    assert c.parameter_error == 0.0


def test_the_real_ion_link_moves_with_its_ion_photon_fidelity():
    # polarisation_photons: two Werner spin-photon states of parameter w swap into w^2, so the
    # pair's fidelity moves by about 2 w u (u = 0.01, w = 0.893): ~0.018 (less with loss and
    # dark counts); the reduced run is enough, the sensitivity is exact per state.
    (c,) = comparison.compare_experiment(load_experiments(["krutyanskiy2023"])[0], reduced=True)
    assert 0.012 < c.parameter_error < 0.02


def test_an_uncertainty_needs_a_number(tmp_path):
    text = (load_experiments(["krutyanskiy2023"])[0].path.read_text()
            .replace('value = [0.52]\n', 'value = [0.52]\nuncertainty = 0.002\n', 1))
    (tmp_path / "krutyanskiy2023.toml").write_text(text)
    with pytest.raises(ExperimentError, match="uncertainty: only a number can carry an uncertainty"):
        load_experiment(tmp_path / "krutyanskiy2023.toml")
    assert Parameter("k", 1.0, "s").uncertainty == 0.0
