"""Tree-encoded photons: the VBR recursion against an exact enumeration of loss patterns."""

import itertools
import math

import pytest

from qstack.hardware import TreeCode, best_branching


def _tree(branching):
    """Children lists of an explicit tree: node 0 is the root, photons are 1..N."""
    children, level, next_id = {0: []}, [0], 1
    for b in branching:
        new_level = []
        for parent in level:
            for _ in range(b):
                children[parent].append(next_id)
                children[next_id] = []
                new_level.append(next_id)
                next_id += 1
        level = new_level
    return children, next_id - 1


def _enumerated_logical_transmission(branching, eta):
    """Sum over every loss pattern of the photons of its probability times whether the encoded
    qubit can be measured by the counterfactual rule, written out as predicates on the pattern:
    a qubit's Z value is known if it arrived or, indirectly, if one of its children arrived (to
    be measured in X) and all that child's children have known Z values; the encoded qubit is
    measured if every first-level qubit is measured (directly, or indirectly in Z) and the first
    arrived first-level qubit has all its children's Z values known."""
    children, n = _tree(branching)
    total = 0.0
    for pattern in itertools.product((False, True), repeat=n):
        arrived = dict(zip(range(1, n + 1), pattern))

        def indirect(q):
            return any(arrived[c] and all(z_known(g) for g in children[c]) for c in children[q])

        def z_known(q):
            return arrived[q] or indirect(q)

        first = children[0]
        measured = all(arrived[q] or indirect(q) for q in first)
        direct = [q for q in first if arrived[q]]
        ok = measured and bool(direct) and all(z_known(g) for g in children[direct[0]])
        if ok:
            k = sum(pattern)
            total += eta**k * (1 - eta) ** (n - k)
    return total


@pytest.mark.parametrize("branching", [(1,), (3,), (2, 2), (3, 2), (1, 3), (2, 1, 2), (1, 2, 2), (2, 2, 1, 1)])
@pytest.mark.parametrize("eta", [0.3, 0.6, 0.85, 0.97])
def test_logical_transmission_equals_exact_enumeration_of_loss_patterns(branching, eta):
    code = TreeCode(branching)
    _, n = _tree(branching)
    assert code.photon_count == n
    assert code.logical_transmission(eta) == pytest.approx(_enumerated_logical_transmission(branching, eta), abs=1e-12)


@pytest.mark.parametrize("eta", [0.0, 0.25, 0.7, 1.0])
def test_depth_zero_tree_is_a_bare_photon(eta):
    bare = TreeCode(())
    assert bare.depth == 0 and bare.photon_count == 1
    assert bare.logical_transmission(eta) == eta
    assert bare.generation_time_s(2e-9) == pytest.approx(2e-9)


def _enumerated_indirect_z(branching, level, eta):
    """Probability that a qubit at ``level`` can be measured in Z indirectly, by the same
    predicate as above, summed over every loss pattern of the subtree below it."""
    children, n = _tree(branching[level:])  # node 0 stands for the qubit itself

    total = 0.0
    for pattern in itertools.product((False, True), repeat=n):
        arrived = dict(zip(range(1, n + 1), pattern))

        def z_known(q):
            return arrived[q] or indirect(q)

        def indirect(q):
            return any(arrived[c] and all(z_known(g) for g in children[c]) for c in children[q])

        if indirect(0):
            k = sum(pattern)
            total += eta**k * (1 - eta) ** (n - k)
    return total


@pytest.mark.parametrize("branching", [(2, 3, 4), (3, 2, 2, 1)])
@pytest.mark.parametrize("eta", [0.5, 0.8])
def test_indirect_z_probability_equals_exact_enumeration_at_every_level(branching, eta):
    code = TreeCode(branching)
    for level in range(1, len(branching) + 1):
        expected = _enumerated_indirect_z(branching, level, eta)
        assert code.indirect_z_probability(level, eta) == pytest.approx(expected, abs=1e-12)
    # level d-1 qubits need any one of their b_{d-1} leaf children; leaves have no children
    assert code.indirect_z_probability(len(branching) - 1, eta) == pytest.approx(1 - (1 - eta) ** branching[-1], rel=1e-12)
    assert code.indirect_z_probability(len(branching), eta) == 0.0


@pytest.mark.parametrize("branching, photons", [((2,), 2), ((2, 3), 8), ((3, 4, 2), 39), ((4, 14, 4), 284)])
def test_photon_count_and_generation_time_grow_as_the_tree(branching, photons):
    code = TreeCode(branching)
    assert code.photon_count == photons == sum(math.prod(branching[: k + 1]) for k in range(len(branching)))
    assert code.generation_time_s(1e-9) == pytest.approx(photons * 1e-9, rel=1e-12)
    deeper = TreeCode(branching + (2,))
    assert deeper.photon_count == photons + 2 * math.prod(branching)
    assert deeper.generation_time_s(1e-9) > code.generation_time_s(1e-9)


def test_larger_trees_tolerate_more_loss_below_the_fifty_percent_threshold():
    small, large = TreeCode((2, 2)), TreeCode((4, 14, 4))
    assert large.logical_transmission(0.7) > small.logical_transmission(0.7) > 0.0
    assert large.logical_transmission(0.7) > 0.7  # beats a bare photon
    assert large.logical_transmission(0.9) > 0.999
    assert TreeCode((3,)).logical_transmission(0.9) == pytest.approx(0.9**3)  # depth 1: no tolerance


def test_best_branching_maximises_transmission_through_hops_per_photon():
    eta, hops = 0.88, 30
    code = best_branching(eta, max_photons=120, hops=hops)
    score = code.logical_transmission(eta) ** hops / code.photon_count
    assert code.photon_count <= 120 and code.depth >= 2
    for other in [(), (2, 2), (3, 4, 2), (3, 6, 3)]:
        candidate = TreeCode(other)
        if candidate.photon_count <= 120:
            assert score >= candidate.logical_transmission(eta) ** hops / candidate.photon_count


@pytest.mark.parametrize("branching, match", [((0,), r"branching\[0\]"), ((2, -1), r"branching\[1\]"),
                                              ((2.5,), r"branching\[0\]"), ("23", "branching must be a sequence"), (3, "branching must be a sequence")])
def test_bad_branching_vectors_are_rejected(branching, match):
    with pytest.raises(ValueError, match=rf"TreeCode\.{match}"):
        TreeCode(branching)


def test_transmission_is_checked():
    with pytest.raises(ValueError, match=r"TreeCode\.transmission must be in \[0, 1\]"):
        TreeCode((2, 2)).logical_transmission(1.5)


def test_tree_code_is_frozen_and_normalises_to_a_tuple_of_ints():
    code = TreeCode([2, 3.0])
    assert code.branching == (2, 3) and all(type(b) is int for b in code.branching)
    with pytest.raises(AttributeError):
        code.branching = (1,)  # type: ignore[misc]
