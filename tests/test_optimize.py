"""Control optimisation: the search meets a fidelity target the default misses, confirmed on
fresh seeds; penalties rank infeasible settings last; controls are validated by name."""

import json
import math
from pathlib import Path

import pytest

from qstack.cli import main
from qstack.optimize import Control, Estimate, optimize, penalized_cost

# Three trapped-ion nodes, 2 km links, memory T2 = 0.2 s: the default (no cut-off, no
# purification) delivers pairs of mean fidelity about 0.78, and no cut-off alone passes 0.80.
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "chain_3_short_memory.toml"
TARGET = 0.85
CONTROLS = ["link.cutoff_s=1e-3:1:log", "purification.rounds=0:2:int"]
LINK_PURIFICATION = {"purification.scope": "link"}


@pytest.fixture(scope="module")
def result():
    return optimize(SCENARIO, CONTROLS, min_fidelity=TARGET, seeds=3, budget=24, confirm_seeds=6,
                    settings=LINK_PURIFICATION, rng_seed=0)


def test_default_setting_misses_the_fidelity_target(result):
    assert result.default.setting == ()
    assert result.default.worst_fidelity.mean < TARGET
    assert result.default.worst_fidelity.ci_high < TARGET
    assert not result.default.met


def test_optimiser_finds_a_cutoff_and_purification_that_meet_the_target_on_fresh_seeds(result):
    best = dict(result.best.setting)
    assert 1e-3 <= best["link.cutoff_s"] < 1.0
    assert best["purification.rounds"] >= 1
    assert result.best.feasible and result.best.worst_fidelity >= TARGET
    confirmed = result.confirmed
    assert confirmed.setting == result.best.setting
    assert confirmed.worst_fidelity.n == len(result.confirm_seeds) == 6
    assert confirmed.worst_fidelity.mean >= TARGET
    assert confirmed.met and result.target_met
    assert confirmed.objective.ci_low <= confirmed.objective.mean <= confirmed.objective.ci_high
    assert confirmed.objective.mean > 0
    assert not set(result.search_seeds) & set(result.confirm_seeds)
    assert result.evaluations <= result.objective_calls <= 24


def test_result_is_json_ready_and_prints_a_table(result):
    data = json.loads(json.dumps(result.to_dict()))
    assert data["confirmed"]["target_met"] is True
    assert data["default"]["target_met"] is False
    assert set(data["best"]["setting"]) == {"link.cutoff_s", "purification.rounds"}
    table = result.table()
    for text in ("best setting", "default", "met", "missed", "link.cutoff_s="):
        assert text in table


def test_same_rng_seed_gives_the_same_result():
    def run():
        out = optimize(SCENARIO, CONTROLS, min_fidelity=TARGET, seeds=1, budget=8, confirm_seeds=2,
                       settings=LINK_PURIFICATION, rng_seed=3).to_dict()
        out.pop("wall_time_s")
        return out

    assert run() == run()


def test_override_controls_change_the_hardware():
    # A longer memory T2 can only raise the fidelity; the default's 0.2 s starts the search.
    result = optimize(SCENARIO, [Control("override:node.memory.t2_s", 0.2, 20.0, log=True)],
                      objective="fidelity.mean", seeds=1, budget=5, confirm_seeds=2)
    assert result.controls[0].key == "hardware.overrides.node.memory.t2_s"
    assert dict(result.best.setting)["hardware.overrides.node.memory.t2_s"] > 0.2
    assert result.confirmed.objective.mean > result.default.objective.mean


def test_failing_settings_are_infeasible_not_crashes():
    # Each bound is valid alone, but T2 > 2 T1 together is refused when the run is built.
    controls = [Control("override:node.memory.t1_s", 1.0, 3600.0, log=True),
                Control("override:node.memory.t2_s", 1.0, 3000.0, log=True)]
    result = optimize(None, controls, seeds=1, budget=10, confirm_seeds=1, settings={"requests.0.pairs": 2})
    assert result.evaluations > result.feasible_evaluations >= 1
    assert "t2_s" in result.first_error
    best = dict(result.best.setting)
    assert best["hardware.overrides.node.memory.t2_s"] <= 2 * best["hardware.overrides.node.memory.t1_s"]


def test_bad_popsize_is_refused_before_any_run(monkeypatch):
    def no_run(*args):
        raise AssertionError("a run started before the arguments were checked")

    monkeypatch.setattr("qstack.optimize.search.run_point", no_run)
    with pytest.raises(ValueError, match="popsize"):
        optimize(SCENARIO, CONTROLS, settings=LINK_PURIFICATION, popsize=0)


def test_penalty_ranks_every_infeasible_candidate_below_every_feasible_one():
    objectives = [-1e12, -3.0, 0.0, 1e-9, 0.5, 7.0, 250.0, 1e6, 1e12]
    shortfalls = [0.0, 1e-9, 0.01, 0.3, 1.0, 5.0]
    for maximize in (True, False):
        feasible = [penalized_cost(v, 0.0, True, maximize) for v in objectives]
        infeasible = [penalized_cost(v, s, False, maximize) for v in objectives for s in shortfalls]
        assert max(feasible) < min(infeasible)
        ranked = feasible if not maximize else feasible[::-1]
        assert ranked == sorted(ranked), "a better objective costs less"
    by_shortfall = [penalized_cost(100.0, s, False) for s in shortfalls[:5]]
    assert by_shortfall == sorted(by_shortfall) and len(set(by_shortfall)) == 5
    assert penalized_cost(math.nan, 0.0, True) > max(infeasible)


def test_student_t_interval():
    estimate = Estimate.of([1.0, 2.0, 3.0])
    # t_{0.975, 2} = 4.303, s = 1, n = 3
    assert estimate.mean == 2.0
    assert estimate.ci_high - estimate.mean == pytest.approx(4.3027 / math.sqrt(3), rel=1e-4)
    assert Estimate.of([5.0]).ci_low is None and Estimate.of([]).mean is None


def test_control_text_is_parsed():
    control = Control.parse("link.cutoff_s=1e-3:1:log")
    assert (control.key, control.low, control.high, control.log, control.integer) == ("link.cutoff_s", 1e-3, 1.0, True, False)
    rounds = Control.parse("purification.rounds=0:2:int")
    assert rounds.integer and rounds.value(1.6) == 2 and rounds.value(7.0) == 2
    assert control.value(math.log10(0.0123456)) == 0.01235


@pytest.mark.parametrize(
    "text,named",
    [
        ("link.cutoff_s=1:0.5", "link.cutoff_s"),
        ("link.cutoff_s=0:1:log", "link.cutoff_s"),
        ("purification.rounds=0:2.5:int", "purification.rounds"),
        ("link.cutoff_s=a:b", "link.cutoff_s"),
        ("link.cutoff_s=1:2:cubic", "link.cutoff_s"),
        ("link.colour=0:1", "link.colour"),
        ("purification.rounds=0:2:int", "purification.rounds"),  # the scenario's scope is none
        ("override:node.memory.t9_s=0.1:1", "node.memory.t9_s"),
        ("override:nodes.memory.t2_s=0.1:1", "nodes.memory.t2_s"),
    ],
)
def test_bad_control_exits_2_with_one_line_naming_it(capsys, text, named):
    assert main(["optimize", str(SCENARIO), "--control", text, "--budget", "5", "--seeds", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]


def test_optimize_without_controls_exits_2(capsys):
    assert main(["optimize", str(SCENARIO)]) == 2
    assert "--control" in capsys.readouterr().err


def test_cli_prints_json(capsys):
    code = main(["optimize", str(SCENARIO), "--control", "link.cutoff_s=1e-3:1:log", "--budget", "5",
                 "--seeds", "1", "--confirm-seeds", "2", "--min-fidelity", "0.75", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["search_seeds"] == [1] and data["confirm_seeds"] == [2, 3]
    assert data["optimizer"] == "scipy.optimize.differential_evolution"
    assert data["evaluations"] <= 5
