"""The report: the fidelity convention and the report's arithmetic, by attribute and as JSON."""

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, Statevector, random_density_matrix, state_fidelity

from qstack.metrics import DelayBreakdown, PairRecord, bell_fidelity
from qstack.report import Report


@pytest.mark.parametrize("seed", range(5))
def test_bell_fidelity_is_qiskits_state_fidelity_to_phi_plus(seed):
    rho = random_density_matrix(4, seed=seed)
    phi_plus = Statevector(np.array([1, 0, 0, 1]) / np.sqrt(2))
    assert bell_fidelity(rho.data) == pytest.approx(state_fidelity(DensityMatrix(rho), phi_plus), abs=1e-12)


def test_report_summaries_and_breakdown():
    records = [
        PairRecord("r", 0.0, 2.0, 0.9, 3, DelayBreakdown(emission_wait_s=1.5, heralding_s=0.5)),
        PairRecord("r", 1.0, 5.0, 0.7, 5, DelayBreakdown(emission_wait_s=3.0, storage_s=1.0)),
    ]
    typed = Report(seed=1, sim_time_s=10.0, wall_time_s=0.1, pairs=tuple(records), pos={}, qomq=())
    assert typed.fidelity.mean == pytest.approx(0.8) and typed.latency_s.p50 == pytest.approx(3.0)
    report = typed.to_dict()
    assert report["delivered"] == 2 and report["throughput_hz"] == pytest.approx(0.2)
    assert report["fidelity"] == pytest.approx({"mean": 0.8, "std": 0.1, "min": 0.7})
    assert report["latency_s"]["mean"] == pytest.approx(3.0)
    assert sum(report["delay_breakdown_s"].values()) == pytest.approx(report["latency_s"]["mean"])
