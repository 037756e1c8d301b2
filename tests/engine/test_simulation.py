"""One run's simulation: the same seed gives the same report with the fast and the Aer engine."""

import numpy as np
import pytest

from qstack.engine import Simulation
from qstack.runner import run_scenario
from qstack.scenario import load_scenario

# Three trapped-ion nodes, 3 km links, one recurrence round per link and a swap in the middle:
# the purification outcomes decide which pairs are kept, so a different draw would show.
SMALL_CHAIN = {
    "network.nodes": 3,
    "network.link_lengths_km": [3.0],
    "hardware.node": "trapped_ion",
    "hardware.overrides": {"node.memory.t2_s": 0.35},
    "link.bright_state_population": 0.08,
    "purification.scope": "link",
    "purification.rounds": 1,
    "requests.0.src": "n0",
    "requests.0.dst": "n2",
    "requests.0.pairs": 4,
    "requests.0.min_fidelity": 0.0,
}


def _report(engine: str, seed: int) -> dict:
    settings = {**SMALL_CHAIN, "engine": engine}
    report = run_scenario(load_scenario(None, settings=settings, seed=seed)).to_dict()
    report.pop("wall_time_s")
    report["scenario"].pop("engine")
    return report


def _differences(fast, aer, path=""):
    """(path, fast value, aer value) for every leaf that differs."""
    if isinstance(fast, dict):
        assert fast.keys() == aer.keys(), path
        return [d for key in fast for d in _differences(fast[key], aer[key], f"{path}.{key}")]
    if isinstance(fast, list):
        assert len(fast) == len(aer), path
        return [d for i, (f, a) in enumerate(zip(fast, aer)) for d in _differences(f, a, f"{path}[{i}]")]
    return [] if fast == aer or (fast != fast and aer != aer) else [(path, fast, aer)]


@pytest.mark.parametrize("seed", [4, 31])
def test_fast_and_aer_engines_give_the_same_report_for_the_same_seed(seed):
    fast, aer = _report("fast", seed), _report("aer", seed)
    assert fast["delivered"] == 4
    assert fast["pos"]["purification (measured)"] < 1  # rounds failed: the outcomes mattered
    differences = _differences(fast, aer)
    # Only values computed from the states may differ, and only by rounding.
    for path, f, a in differences:
        assert "fidelity" in path or "qomq" in path, path
        assert isinstance(f, float) and f == pytest.approx(a, abs=1e-9), path


def test_the_aer_engine_seeds_its_simulator_from_a_stream_of_its_own():
    fast, aer = Simulation(77, engine="fast"), Simulation(77, engine="aer")
    aer_seeds = aer.registry._aer._rng.integers(2**31 - 1, size=5)
    # The run's generator is untouched by the Aer stream: both runs draw the same numbers.
    np.testing.assert_array_equal(fast.rng.random(8), aer.rng.random(8))
    expected = np.random.default_rng(np.random.SeedSequence(77).spawn(1)[0]).integers(2**31 - 1, size=5)
    np.testing.assert_array_equal(aer_seeds, expected)
