"""The experiment files: every number sourced, assumptions marked, bad files refused by name."""

import math

import pytest

from qstack.validation import ExperimentError, experiments_dir, list_experiments, load_experiment, load_experiments

EXPERIMENTS = load_experiments()


def test_there_are_at_least_six_experiments_across_schemes():
    assert len(EXPERIMENTS) >= 6
    schemes = {e.scenario["link"]["scheme"] for e in EXPERIMENTS}
    assert {"single_click", "double_click", "midpoint_source"} <= schemes


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.name)
def test_every_parameter_and_result_has_a_source_naming_a_paper_and_place(experiment):
    for p in experiment.parameters:
        assert len(p.source) > 40, (p.key, p.source)
        if p.assumption:
            assert "assumption" in p.source or p.source.startswith("derived"), (p.key, p.source)
    for q in experiment.quantities:
        assert any(word in q.source for word in ("abstract", "p. ", "Fig.", "Table")), q.source
        assert q.error[0] > 0 and q.error[1] > 0


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.name)
def test_the_scenario_section_holds_no_device_number(experiment):
    """Physical numbers live in [parameters] (with sources); the scenario only structure and
    statistics (seed, time limit, pair counts)."""
    def numbers(table, path=""):
        for key, value in table.items():
            where = f"{path}.{key}" if path else key
            if isinstance(value, dict):
                yield from numbers(value, where)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        yield from numbers(item, f"{where}.{i}")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                yield where

    allowed = {"seed", "max_time_s", "network.nodes", "application.z_probability"}
    found = {w for w in numbers(dict(experiment.scenario)) if not w.endswith(".pairs")}
    assert found <= allowed, found - allowed


def test_files_are_found_through_one_function():
    assert experiments_dir().is_dir()
    assert list_experiments() == tuple(e.name for e in EXPERIMENTS)


def test_an_unknown_experiment_is_refused_by_name():
    with pytest.raises(ExperimentError, match="unknown experiment 'nope'"):
        load_experiments(["nope"])


@pytest.mark.parametrize("text, message", [
    ('name = "bad"\ntitle = "t"\nreference = "r"\nsummary = "s"\nextra = 1\n', "extra: unknown key"),
    ('name = "other"\n', "must equal the file name"),
])
def test_a_bad_file_is_refused_naming_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ExperimentError, match=message):
        load_experiment(path)


def test_a_result_without_an_error_bar_is_refused(tmp_path):
    source = (experiments_dir() / "yin2017.toml").read_text().replace("error = 0.09", "error = 0.0")
    path = tmp_path / "yin2017.toml"
    path.write_text(source)
    with pytest.raises(ExperimentError, match=r"quantities\[0\].error: a measured value without an error bar"):
        load_experiment(path)


def test_asymmetric_error_bars_are_read_as_minus_plus():
    (quantity,) = load_experiment(experiments_dir() / "krutyanskiy2023.toml").quantities
    assert quantity.error == (0.060, 0.023) and not quantity.symmetric
    assert math.isclose(quantity.measured, 0.882)
