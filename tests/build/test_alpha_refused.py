"""``link.bright_state_population`` is read by ``single_click`` only: every other scheme refuses it."""

import pytest

from qstack.runner import run_scenario
from qstack.scenario import ScenarioError, load_scenario
from qstack.validation import load_experiments


@pytest.mark.parametrize(("experiment", "scheme"), [("liu2021", "node_sources"), ("yin2017", "midpoint_source"),
                                                    ("krutyanskiy2023", "polarisation_photons")])
def test_a_scheme_without_a_set_bright_state_refuses_the_setting(experiment, scheme):
    e = load_experiments([experiment])[0]
    with pytest.raises(ScenarioError, match=f"link.bright_state_population: cannot act here: scheme '{scheme}'"):
        run_scenario(load_scenario(dict(e.scenario), settings={**e.settings(), "link.bright_state_population": 0.21},
                                   seed=1))


def test_single_click_reads_it():
    e = load_experiments(["hermans2022"])[0]
    settings = {**e.settings(), "requests.0.pairs": 2}
    low = run_scenario(load_scenario(dict(e.scenario), settings={**settings, "link.bright_state_population": 0.03}, seed=1))
    high = run_scenario(load_scenario(dict(e.scenario), settings={**settings, "link.bright_state_population": 0.2}, seed=1))
    assert low.to_dict()["pos"] != high.to_dict()["pos"]
