"""``detector.number_resolving`` in a scenario: it changes the report where a station's detectors
herald, and is refused in one line where nothing counts photons (midpoint source, all-photonic
chain)."""

from __future__ import annotations


import pytest

from cli_runs import run_with  # tests/helpers

_COMMON = {"hardware.overrides": {}, "max_time_s": 2000.0, "requests.0.pairs": 3}
_MIDPOINT = {"hardware.node": "rare_earth_multimode", "link.scheme": "midpoint_source", "hardware.source": "spdc_source"}
_CHAIN = {"hardware.node": "trapped_ion", "link.scheme": "all_photonic", "link.stations": 3}


def _run(settings: dict, capsys):
    return run_with({**_COMMON, **settings}, capsys)


def test_single_click_with_number_resolving_detectors_rejects_bunched_pairs(capsys):
    """A bright emitter over a short link, at a large bright-state population: the bunched pairs
    (both spins bright) are a visible part of the threshold heralds; number-resolving detectors
    reject them: higher fidelity."""
    base = {"link.bright_state_population": 0.3, "network.link_lengths_km": [1.0],
            "hardware.overrides.node.emitter.emission_probability": 1.0,
            "hardware.overrides.node.emitter.collection_efficiency": 1.0}
    code, threshold = _run(base, capsys)
    assert code == 0, threshold
    code, resolving = _run({**base, "hardware.overrides.node.detector.number_resolving": True}, capsys)
    assert code == 0, resolving
    assert resolving != threshold
    assert resolving["fidelity"]["mean"] > threshold["fidelity"]["mean"] + 0.01


def test_node_sources_read_the_setting(capsys):
    base = {**_MIDPOINT, "link.scheme": "node_sources", "link.multiplexing": 1}
    code, threshold = _run(base, capsys)
    assert code == 0, threshold
    code, resolving = _run({**base, "hardware.overrides.node.detector.number_resolving": True}, capsys)
    assert code == 0, resolving
    assert resolving != threshold


@pytest.mark.parametrize(("base", "key"), [
    (_MIDPOINT, "node.detector.number_resolving"),
    (_CHAIN, "node.detector.number_resolving"),
    ({**_CHAIN, "hardware.station": "tree_photon_source"}, "station.detector.number_resolving"),
])
@pytest.mark.parametrize("value", [True, False])
def test_it_is_refused_in_one_line_where_no_herald_counts_photons(base, key, value, capsys):
    code, message = _run({**base, f"hardware.overrides.{key}": value}, capsys)
    assert code == 2, message
    assert len(message.splitlines()) == 1
    assert "number_resolving: cannot act here" in message


@pytest.mark.parametrize(("key", "value", "words"), [
    ("node.detector.number_resolving", 1, "must be true or false"),
    ("node.detector.efficiency", True, "must be a real number"),
    ("node.detector.number_resolving", "yes", "must be a number (or true/false for a flag)"),
])
def test_a_flag_takes_true_or_false_and_a_number_field_refuses_them(key, value, words, capsys):
    code, message = _run({f"hardware.overrides.{key}": value}, capsys)
    assert code == 2 and words in message and len(message.splitlines()) == 1, message
