"""``link.storage``: a heralded NV pair kept in the electron (no move, the electron's T1/T2), or
refused where it cannot act."""

from __future__ import annotations

import pytest

from qstack.runner import run_scenario
from qstack.scenario import ScenarioError, load_scenario

# One NV link of 10 m, every attempt succeeding (fast), three pairs each stored 10 ms.
_BASE = {"link.scheme": "double_click", "network.link_lengths_km": [0.01], "requests.0.pairs": 3,
         "idealize": ["probabilistic_generation"]}


def _run(**settings):
    return run_scenario(load_scenario(None, {**_BASE, **settings}))


def test_a_pair_kept_on_the_electron_is_not_moved_and_skips_the_moves_gate_noise():
    kept, moved = _run(**{"link.storage": "communication_qubit"}), _run()
    assert all(p.breakdown.moves_s == 0.0 for p in kept.pairs)
    assert all(p.breakdown.moves_s > 0.0 for p in moved.pairs)
    # three CNOTs at 0.99 on each end no longer act: the kept pairs are better
    assert kept.fidelity.mean > moved.fidelity.mean + 0.02


def test_a_pair_kept_on_the_electron_relaxes_with_the_electrons_t2():
    kept = _run(**{"link.storage": "communication_qubit"})
    short = _run(**{"link.storage": "communication_qubit", "hardware.overrides.node.memory.t2_s": 1e-3})
    # 10 ms of storage at T2 = 1 ms leaves the phase of the pair nearly random: F -> ~1/2
    assert short.fidelity.mean < kept.fidelity.mean - 0.2


@pytest.mark.parametrize(("settings", "message"), [
    ({"hardware.node": "trapped_ion"}, "link.storage: 'communication_qubit' keeps pairs out of a nuclear-spin register"),
    ({"hardware.overrides.node.nuclear_spin.t2_s": 1.0}, "no nuclear spin is used"),
    ({"hardware.overrides.node.nuclear_spin.reset_time_constant_s": 1e-6}, "no nuclear spin is used"),
    ({"hardware.overrides.node.memory.capacity": 2}, "override node.memory.communication_qubits"),
])
def test_storage_in_the_communication_qubit_refuses_what_it_makes_inert(settings, message):
    with pytest.raises(ScenarioError, match=message):
        _run(**{"link.storage": "communication_qubit", **settings})


def test_an_unknown_storage_is_refused_naming_the_key():
    with pytest.raises(ScenarioError, match="link.storage"):
        load_scenario(None, {"link.storage": "carbon"})
