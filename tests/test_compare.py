"""Comparisons: the physics-versus-idealised runs and one scenario under several schedulers."""

import json
from pathlib import Path

import pytest

from qstack.cli import main
from qstack.compare import compare_idealized, compare_schedulers

STAR = Path(__file__).resolve().parents[1] / "scenarios" / "star_schedulers.toml"


def test_compare_shows_the_idealised_prediction_against_the_physical_result_on_the_default_chain():
    result = compare_idealized(None, each=False)
    physical, ideal = result.physical, result.idealized
    assert physical["delivered"] == ideal["delivered"] == 20
    assert ideal["throughput_hz"] > 100 * physical["throughput_hz"]  # certain, lossless generation
    assert ideal["fidelity"] > physical["fidelity"] + 0.1
    assert ideal["latency_s"] < physical["latency_s"] / 100
    table = result.table()
    for label in ("rate [pairs/s]", "fidelity (mean)", "latency (mean) [s]"):
        assert label in table


def test_each_idealisation_alone_moves_only_its_own_physics():
    result = compare_idealized(None, ("decoherence", "probabilistic_generation"))
    physical = result.physical
    # Certain generation changes the rate; never-decaying memories alone do not.
    assert result.each["probabilistic_generation"]["throughput_hz"] > 10 * physical["throughput_hz"]
    assert result.each["decoherence"]["throughput_hz"] == pytest.approx(physical["throughput_hz"])
    assert result.each["decoherence"]["fidelity"] >= physical["fidelity"]


def test_compare_cli_prints_both_runs_and_run_accepts_compare_idealized(capsys):
    assert main(["compare", "--no-each", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["physical"]["throughput_hz"] < out["idealized"]["throughput_hz"]
    assert main(["run", "--compare-idealized", "--set", "requests.0.pairs=3"]) == 0
    assert "idealised" in capsys.readouterr().out
    assert main(["compare", "--idealize", "memory"]) == 2


def test_compare_schedulers_runs_each_policy_on_the_same_scenario():
    result = compare_schedulers(STAR, ("fifo", "edf"), settings={"requests.0.pairs": 5})
    assert set(result.reports) == {"fifo", "edf"}
    assert all(r["jobs"] == 25 for r in result.reports.values())
    assert "edf" in result.table()
