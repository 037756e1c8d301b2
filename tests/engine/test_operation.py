"""The compiled instrument of an Operation (qstack.engine.operation)."""

import numpy as np
from qiskit.quantum_info import random_density_matrix

from qstack.engine.operation import _BLAS_ONE_THREAD_ELEMENTS
from qstack.protocols import GateNoise, swap_operation


def test_flattened_swap_map_runs_as_single_threaded_blocks_with_the_whole_maps_result():
    """A swap's 16 x 256 branch maps reach OpenBLAS's threading size, so they are applied as
    row blocks below it; every branch gives the product of the whole matrix, and the blocks
    are the matrix."""
    op = swap_operation(GateNoise(two_qubit_depolarizing=0.01))
    flat = op.flat
    rho = np.kron(random_density_matrix(4, seed=2).data, random_density_matrix(4, seed=1).data)
    vec = rho.reshape(-1)
    for blocked, whole in zip(flat.maps + (flat.traces,), op.maps + (op.trace_functionals,)):
        matrix = whole.reshape(blocked.shape)
        assert all(block.size < _BLAS_ONE_THREAD_ELEMENTS for block in blocked.blocks)
        assert np.array_equal(blocked.toarray(), matrix)
        np.testing.assert_allclose(blocked @ vec, matrix @ vec, rtol=0, atol=1e-14)
    assert len(flat.maps[0].blocks) > 1


def test_stacked_row_blocks_give_each_blocks_product_bit_for_bit():
    """The map's blocks stacked into one matmul call give exactly the per-block products (the
    same single-threaded dot products), so reports do not change with the stacking."""
    op = swap_operation(GateNoise(two_qubit_depolarizing=0.01, measurement_flip=0.01))
    rng = np.random.default_rng(7)
    for blocked in op.flat.maps:
        assert blocked.stack is not None and blocked.stack.shape[0] == len(blocked.blocks)
        for _ in range(50):
            vec = rng.normal(size=256) + 1j * rng.normal(size=256)
            per_block = np.concatenate([block @ vec for block in blocked.blocks])
            assert np.array_equal(blocked @ vec, per_block)
