"""GHZ states from a star of Bell pairs: ideal fusion, Werner pairs, noise, the engines agreeing."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from qiskit.quantum_info import DensityMatrix, random_density_matrix

from qstack.engine import StateRegistry, permute_qubits
from qstack.protocols import GateNoise, distribute_ghz, ghz_fidelity, ghz_fusion_operation, ghz_operation, ghz_state

from protocol_states import PHI_PLUS, gate_noise, projector, random_rho, registry_mean, werner


def werner_ghz_fidelity(w, nodes):
    """Ideal fusion of nodes - 1 Werner pairs: (w^(k-1) + ((1 + w)/2)^(k-1)) / 2."""
    return (w ** (nodes - 1) + ((1 + w) / 2) ** (nodes - 1)) / 2


def _kron_pairs(pairs):
    rho = pairs[0]
    for pair in pairs[1:]:
        rho = np.kron(pair, rho)
    return rho


# --------------------------------------------------------------------------- ideal closed forms
@pytest.mark.parametrize("nodes", [2, 3, 4, 5, 6])
def test_ideal_pairs_fuse_into_the_ghz_state_exactly(nodes):
    out = distribute_ghz([DensityMatrix(PHI_PLUS)] * (nodes - 1))
    assert out.num_qubits == nodes
    np.testing.assert_allclose(out.data, ghz_state(nodes).data, atol=1e-12)
    assert ghz_fidelity(out) == pytest.approx(1.0, abs=1e-12)


def test_every_fusion_outcome_is_equally_likely_and_corrected():
    registry = StateRegistry(np.random.default_rng(0))
    qubits = registry.new_qubits(["h1", "l1", "h2", "l2"], rho=np.kron(projector(PHI_PLUS), projector(PHI_PLUS)))
    table = registry.outcome_table(ghz_fusion_operation(), [qubits[0], qubits[2], qubits[3]])
    assert sorted(o for o, _, _ in table) == [(0,), (1,)]
    for _, probability, rho in table:
        assert probability == pytest.approx(0.5, abs=1e-12)
        assert ghz_fidelity(rho) == pytest.approx(1.0, abs=1e-12)  # a permutation of GHZ is GHZ


@pytest.mark.parametrize("nodes", [3])  # 4 nodes compile a 2^24-entry instrument: seconds
def test_the_whole_star_operation_gives_ghz_for_every_outcome(nodes):
    registry = StateRegistry(np.random.default_rng(0))
    qubits = registry.new_qubits([f"q{i}" for i in range(2 * nodes - 2)], rho=_kron_pairs([projector(PHI_PLUS)] * (nodes - 1)))
    table = registry.outcome_table(ghz_operation(nodes), qubits)
    assert len(table) == 2 ** (nodes - 2)
    for _, probability, rho in table:
        assert probability == pytest.approx(0.5 ** (nodes - 2), abs=1e-12)
        np.testing.assert_allclose(rho, ghz_state(nodes).data, atol=1e-12)


@pytest.mark.parametrize("nodes", [2, 3, 4, 5])
@pytest.mark.parametrize("w", [0.95, 0.8, 0.5, 0.0])
def test_werner_pairs_give_strictly_lower_fidelity_by_the_closed_form(nodes, w):
    fidelity = ghz_fidelity(distribute_ghz([werner(w)] * (nodes - 1)))
    assert fidelity == pytest.approx(werner_ghz_fidelity(w, nodes), abs=1e-12)
    assert fidelity < 1.0 - 1e-3


def test_two_nodes_are_just_the_pair():
    rho = random_rho(3)
    np.testing.assert_allclose(distribute_ghz([rho]).data, rho, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=4))
def test_unequal_werner_pairs_give_half_the_coherent_plus_half_the_diagonal_weight(ws):
    # Each pair keeps its correlation with probability w; a depolarized one randomises its leaf
    # (the all-equal diagonal keeps (1 + w)/2) and kills the |0..0><1..1| coherence.
    expected = (np.prod(ws) + np.prod([(1 + w) / 2 for w in ws])) / 2
    out = distribute_ghz([werner(w) for w in ws])
    assert out.num_qubits == len(ws) + 1
    assert ghz_fidelity(out) == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------- noise
@settings(max_examples=15, deadline=None)
@given(gate_noise())
def test_noisy_fusion_lowers_the_fidelity_and_stays_physical(noise):
    # The fusion has no one-qubit gate: one-qubit noise alone changes nothing.
    assume(noise.two_qubit_depolarizing > 0 or noise.measurement_flip > 0)
    for pairs in ([projector(PHI_PLUS)] * 3, [werner(0.9)] * 3):
        ideal = ghz_fidelity(distribute_ghz(pairs))
        noisy = distribute_ghz(pairs, noise)
        assert ghz_fidelity(noisy) < ideal - 1e-9
        assert np.linalg.eigvalsh(noisy.data)[0] > -1e-10
        assert np.trace(noisy.data).real == pytest.approx(1.0, abs=1e-12)


def test_a_readout_flip_leaves_that_leaf_flipped():
    # Flip f on the readout of h_2: leaf 2 gets the wrong X, GHZ -> (|0 0 1> + |1 1 0>)/sqrt2.
    f = 0.1
    out = distribute_ghz([projector(PHI_PLUS)] * 2, measurement_flip=f)
    flipped = np.zeros(8)
    flipped[0b100] = flipped[0b011] = 1 / np.sqrt(2)
    np.testing.assert_allclose(out.data, (1 - f) * ghz_state(3).data + f * np.outer(flipped, flipped), atol=1e-12)


# --------------------------------------------------------------------------- engines
@pytest.mark.parametrize("seed", range(3))
def test_fast_and_aer_engines_agree_on_the_fusion(seed):
    operation = ghz_fusion_operation(GateNoise(0.05, 0.0, 0.03))
    rho = random_density_matrix(8, seed=seed).data
    aer = StateRegistry(np.random.default_rng(seed), engine="aer")
    qa = aer.new_qubits(["h", "hj", "lj"], rho=rho)
    outcome = aer.apply(operation, qa)
    fast = StateRegistry(np.random.default_rng(seed), engine="fast")
    qf = fast.new_qubits(["h", "hj", "lj"], rho=rho)
    assert fast.apply(operation, qf, outcome=outcome) == outcome
    np.testing.assert_allclose(fast.density_matrix([qf[0], qf[2]]), aer.density_matrix([qa[0], qa[2]]), atol=1e-9)


@pytest.mark.parametrize("seed", range(2))
def test_fast_and_aer_engines_agree_on_a_three_node_star(seed):
    operation = ghz_operation(3, GateNoise(0.05, 0.0, 0.03))
    rho = np.kron(random_rho(seed), random_rho(10 + seed))
    aer = StateRegistry(np.random.default_rng(seed), engine="aer")
    qa = aer.new_qubits(["h1", "l1", "h2", "l2"], rho=rho)
    outcome = aer.apply(operation, qa)
    fast = StateRegistry(np.random.default_rng(seed), engine="fast")
    qf = fast.new_qubits(["h1", "l1", "h2", "l2"], rho=rho)
    assert fast.apply(operation, qf, outcome=outcome) == outcome
    kept_a, kept_f = [qa[0], qa[1], qa[3]], [qf[0], qf[1], qf[3]]
    np.testing.assert_allclose(fast.density_matrix(kept_f), aer.density_matrix(kept_a), atol=1e-9)


def test_sequential_fusion_equals_the_whole_star_operation_averaged():
    noise = GateNoise(0.05, 0.0, 0.03)
    pairs = [random_rho(1), random_rho(2)]
    registry = StateRegistry(np.random.default_rng(0))
    qubits = registry.new_qubits(["h1", "l1", "h2", "l2"], rho=_kron_pairs(pairs))
    star = sum(p * rho for _, p, rho in registry.outcome_table(ghz_operation(3, noise), qubits))
    np.testing.assert_allclose(distribute_ghz(pairs, noise).data, star, atol=1e-12)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: distribute_ghz([]), "pairs"),
        (lambda: distribute_ghz([np.eye(2) / 2]), r"pairs\[0\]"),
        (lambda: distribute_ghz([werner(0.9), np.eye(4)]), r"pairs\[1\].*trace"),
        (lambda: distribute_ghz([werner(0.9)], measurement_flip=2.0), "measurement_flip"),
        (lambda: ghz_operation(1), "nodes"),
        (lambda: ghz_fusion_operation(0.1), "noise"),
        (lambda: ghz_fidelity(np.eye(3) / 3), "rho"),
    ],
)
def test_bad_input_is_refused_naming_it(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_one_qubit_noise_does_not_touch_the_fusion():
    pairs = [werner(0.9)] * 2
    np.testing.assert_allclose(
        distribute_ghz(pairs, single_qubit_depolarizing=0.2).data, distribute_ghz(pairs).data, atol=1e-14
    )


# --------------------------------------------------------------------------- exact outcomes
NOISY = GateNoise(0.02, 0.01, 0.015)


@pytest.mark.parametrize("seed", [1, 2])
def test_two_random_pairs_fuse_as_the_whole_star_operation_says(seed):
    """distribute_ghz (one fusion through qstack.engine.outcomes) equals the 3-node star
    operation run in a registry on (h1, l1, h2, l2): an independent circuit and bookkeeping."""
    pairs = [random_rho(seed), random_rho(seed + 100)]
    groups = [(["h1", "l1"], pairs[0]), (["h2", "l2"], pairs[1])]
    expected = registry_mean(ghz_operation(3, NOISY), groups, ["h1", "l1", "h2", "l2"])
    np.testing.assert_allclose(distribute_ghz(pairs, NOISY).data, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("seed", [1, 2])
def test_three_random_pairs_fuse_as_fusions_in_a_registry_say(seed):
    """Each fusion on (hub, h_j, l_j) of the state so far and the new pair, done in a registry
    (two groups, merged by it) and the new leaf moved last: distribute_ghz's numbers."""
    pairs = [random_rho(seed), random_rho(seed + 100), random_rho(seed + 200)]
    rho = pairs[0]
    for index, pair in enumerate(pairs[1:], start=2):
        old = [f"q{i}" for i in range(index)]
        total = registry_mean(ghz_fusion_operation(NOISY), [(old, rho), (["h", "l"], pair)], ["q0", "h", "l"])
        # Kept (q0, l) first, then q1 .. q_{index-1}: the new leaf goes last.
        rho = permute_qubits(total, [0] + list(range(2, index + 1)) + [1])
    np.testing.assert_allclose(distribute_ghz(pairs, NOISY).data, rho, atol=1e-12, rtol=0)
