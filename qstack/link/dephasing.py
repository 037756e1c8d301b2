"""The attempts of a generation that dephase a qubit stored in a nuclear-spin register.

Every optical attempt of an NV centre's electron dephases the nuclear spins stored at its node
while it is made (:meth:`~qstack.hardware.NuclearSpinRegister.dephasing_error`). The attempts of
a fast-forwarded generation begin at ``start + j T`` (``j = 0 .. k-1``); a spin stored at ``s``
feels those that begin at or after ``s``.
"""

from __future__ import annotations

import functools
import math

from qiskit import QuantumCircuit

from qstack.engine import Operation, noisy
from qstack.hardware import NuclearSpinRegister


def attempts_while_stored(started_s: float, attempts: int, attempt_time_s: float, stored_s: float) -> int:
    """Of ``attempts`` attempts beginning at ``started_s + j attempt_time_s`` (``j = 0 ..
    attempts-1``), how many begin at or after ``stored_s``:
    ``attempts - max(0, ceil((stored_s - started_s) / attempt_time_s))``, at least 0.

    A storing that coincides with an attempt's start within rounding (``1e-9`` of an attempt)
    counts that attempt: event times are sums of floats.
    """
    if stored_s <= started_s:
        return attempts
    if attempt_time_s <= 0.0:  # every attempt began at ``started_s``, before the storing
        return 0
    before = math.ceil((stored_s - started_s) / attempt_time_s - 1e-9)
    return max(attempts - before, 0)


@functools.lru_cache(maxsize=1024)
def attempt_dephasing(register: NuclearSpinRegister, attempts: int, bright_state_population: float) -> Operation:
    """The dephasing of a stored nuclear spin by ``attempts`` attempts (compiled once per count)."""
    qc = QuantumCircuit(1, name="channel")
    qc.append(noisy(register.dephasing_error(attempts, bright_state_population)), [0])
    return Operation(qc, name="attempt_dephasing")
