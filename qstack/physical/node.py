"""A network node's devices, and where it holds a heralded pair: its storage stages.

A heralded pair lives in a node in up to two stages (SquidASM/NetSquid name the electron and the
carbon apart in the same way):

1. **communication**: from its creation (the photon's emission, or its absorption) the pair is
   held by the communication qubit, the node's :class:`~qstack.hardware.Memory` (an NV centre's
   electron spin, an ion, a rare-earth ensemble), which relaxes with the memory's T1/T2 while the
   photon flies to the station and the herald returns;
2. **storage**: where the node has a :class:`~qstack.hardware.NuclearSpinRegister`, the state is
   then moved into a fresh nuclear spin (a SWAP of three electron-nuclear CNOTs, each the
   memory's two-qubit gate with its depolarizing error, lasting ``3 / (2 coupling_hz)``); the
   electron keeps relaxing until the move is done, and the nuclear spin relaxes with the
   register's T1/T2 afterwards, dephasing further with every optical attempt of the electron.
   Without a register the memory is also the storage stage and nothing moves.

A node with a register may keep its pairs in the communication qubit instead
(``pair_storage = "communication_qubit"``): nothing moves, the electron's T1/T2 apply until the
pair is used, the register's spins hold nothing (no dephasing per attempt) and the node stores
as many pairs as it has communication qubits.

:class:`Storage` says all of this for one node; the link layer reads nothing else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property

from qiskit import QuantumCircuit
from qiskit_aer.noise import NoiseModel, QuantumError

from qstack.engine import Operation, noisy
from qstack.hardware import Emitter, Memory, NuclearSpinRegister, Transducer
from qstack.physics import Relaxation, depolarizing_error_for_fidelity
from qstack.protocols import GateNoise
from qstack.protocols.aer_noise import gate_noise_from_model, noise_model

#: The move into a nuclear spin: three electron-nuclear CNOTs (a SWAP).
MOVE_GATES = 3

#: Where a node with a nuclear-spin register keeps a heralded pair (``link.storage``):
#: ``register`` moves it into a nuclear spin, ``communication_qubit`` keeps it in the emitter's
#: spin (an experiment that reads the electrons out at once, e.g. Hensen et al. 2015).
PAIR_STORAGES = ("register", "communication_qubit")


@dataclass(frozen=True)
class Storage:
    """Where a node holds one qubit of a heralded pair, stage by stage (see the module docstring).

    Parameters
    ----------
    communication:
        Relaxation of the qubit that holds the pair from its creation until the move (the
        memory's T1/T2).
    storage:
        Relaxation of the qubit that holds it after the move (the register's T1/T2, or the
        memory's when there is no register: then the two stages are one).
    capacity:
        Storage qubits (slots) of the storage stage.
    move_time_s:
        Duration of the move into the storage stage [s] (0: nothing moves).
    move_gate_fidelity:
        Fidelity of each of the move's two-qubit gates (None: nothing moves).
    register:
        The nuclear-spin register whose stored spins each optical attempt dephases (None
        without one).
    move_noise:
        A user's gate noise whose two-qubit error the move's gates carry instead of the
        depolarizing error of ``move_gate_fidelity`` (None: that one).
    device:
        The :class:`NodeHardware` field of the storage stage (``"nuclear_spin"`` or
        ``"memory"``): the devices whose T1/T2 each stage reads are named apart in reports.
    """

    communication: Relaxation
    storage: Relaxation
    capacity: int
    move_time_s: float = 0.0
    move_gate_fidelity: float | None = None
    register: NuclearSpinRegister | None = None
    device: str = "memory"
    move_noise: GateNoise | None = None

    @property
    def moves(self) -> bool:
        """True when a heralded state is moved out of the communication qubit."""
        return self.move_gate_fidelity is not None

    def move_operation(self, gate_noise: bool = True) -> Operation | None:
        """The move (electron 0 -> fresh storage qubit 1, electron discarded) with the gates'
        depolarizing errors (ideal gates when ``gate_noise`` is False); None without a move."""
        if not self.moves:
            return None
        if gate_noise and self.move_noise is not None:
            return _move_operation(None, self.move_noise)
        return _move_operation(self.move_gate_fidelity if gate_noise else None)

    def attempt_dephasing(self, attempts: int, bright_state_population: float) -> QuantumError | None:
        """The dephasing of a stored qubit by ``attempts`` optical attempts at bright-state
        population ``alpha`` (:meth:`NuclearSpinRegister.dephasing_error`); None when stored
        qubits do not feel the attempts (no register)."""
        if self.register is None:
            return None
        return self.register.dephasing_error(attempts, bright_state_population)


@functools.lru_cache(maxsize=64)
def _move_operation(two_qubit_gate_fidelity: float | None, noise: GateNoise | None = None) -> Operation:
    """Move an electron-spin state into a fresh nuclear spin: a SWAP of three CNOTs, each followed
    by the two-qubit depolarizing error of its fidelity (none for ``None``), or by ``noise``'s
    two-qubit error when given. Shared by every node with the same gates, so it compiles once."""
    if noise is not None:
        error = noise.two_qubit_error()
    else:
        error = None if two_qubit_gate_fidelity is None else depolarizing_error_for_fidelity(two_qubit_gate_fidelity, 2)
    qc = QuantumCircuit(2, name="move_to_nuclear_spin")
    for control, target in ((0, 1), (1, 0), (0, 1)):
        qc.cx(control, target)
        if error is not None:
            qc.append(noisy(error), [0, 1])
    return Operation(qc, discard=(0,), name="move_to_nuclear_spin")


@dataclass(frozen=True)
class NodeHardware:
    """The devices of one network node: its optical interface and its memory.

    ``emitter`` is the spin-photon interface (None for a node that only absorbs photons from a
    pair source); ``nuclear_spin`` is an optional long-lived register (NV centres) into which
    heralded states are moved; ``interface`` is an optional transducer or frequency converter
    between the node and the channel (both directions: emitted photons leave through it,
    absorbed photons arrive through it). :attr:`storage` says which qubit holds a pair when.

    ``noise`` is a user's noise for the node's gates and readout, in place of the depolarizing
    channels of the memory's fidelities: a :class:`~qstack.protocols.GateNoise` (e.g.
    ``GateNoise.from_memory(memory).with_errors(GateErrors(two_qubit=my_error))``) or a Qiskit
    Aer ``NoiseModel`` (read by :func:`~qstack.protocols.aer_noise.gate_noise_from_model`). The
    network's swaps and purification rounds at this node, the applications' gates here and the
    move into the nuclear spin (its two-qubit error) then carry it. :meth:`noise_model` gives
    the node's noise back as a ``NoiseModel``.

    ``pair_storage`` (one of :data:`PAIR_STORAGES`) says where a node with a register keeps its
    heralded pairs: ``"register"`` (moved into a nuclear spin) or ``"communication_qubit"`` (kept
    in the emitter's spin); a node without a register refuses the second (it changes nothing).
    """

    memory: Memory
    emitter: Emitter | None = None
    nuclear_spin: NuclearSpinRegister | None = None
    name: str = ""
    interface: Transducer | None = None
    noise: GateNoise | NoiseModel | None = None
    pair_storage: str = "register"

    def __post_init__(self) -> None:
        if self.pair_storage not in PAIR_STORAGES:
            raise ValueError(f"NodeHardware.pair_storage must be one of {', '.join(PAIR_STORAGES)}, got {self.pair_storage!r}")
        if self.pair_storage == "communication_qubit" and self.nuclear_spin is None:
            raise ValueError("NodeHardware.pair_storage 'communication_qubit' needs a nuclear-spin register to keep the "
                             "pair out of: without one the communication qubit stores the pair anyway")
        if isinstance(self.noise, NoiseModel):
            object.__setattr__(self, "noise", gate_noise_from_model(self.noise))
        elif self.noise is not None and not isinstance(self.noise, GateNoise):
            raise ValueError("NodeHardware.noise must be a qstack.protocols.GateNoise, a qiskit_aer NoiseModel or None, "
                             f"got {type(self.noise).__name__}")

    @property
    def gate_noise(self) -> GateNoise:
        """The noise of the node's gates and readout: the user's ``noise``, else
        :meth:`GateNoise.from_memory` of the memory's fidelities."""
        return self.noise if self.noise is not None else GateNoise.from_memory(self.memory)

    def noise_model(self, idle: bool = True) -> NoiseModel:
        """The node's gate, readout and (with ``idle``) idle noise as a Qiskit Aer ``NoiseModel``.

        :func:`qstack.protocols.aer_noise.noise_model` of :attr:`gate_noise`: the two-qubit error
        on ``cx``, the one-qubit error on ``h`` and ``rx``, the readout error on every
        measurement, and with ``idle`` the T1/T2 relaxation of the qubits that hold the node's
        pairs (:attr:`storage`'s storage stage) for each gate's duration (the memory's
        ``two_qubit_gate_time_s``, ``single_qubit_gate_time_s``, ``measurement_time_s``) after
        the gate's error and before each readout.
        """
        memory = self.memory
        return noise_model(
            self.gate_noise,
            self.storage.storage if idle else None,
            single_qubit_gate_time_s=memory.single_qubit_gate_time_s,
            two_qubit_gate_time_s=memory.two_qubit_gate_time_s,
            measurement_time_s=memory.measurement_time_s,
        )

    @cached_property
    def storage(self) -> Storage:
        """The node's storage stages: the memory, then the nuclear-spin register if any (and
        if ``pair_storage`` moves pairs there; otherwise the communication qubits hold them)."""
        memory, register = self.memory, self.nuclear_spin
        if register is None:
            return Storage(memory.relaxation, memory.relaxation, memory.capacity)
        if self.pair_storage == "communication_qubit":
            return Storage(memory.relaxation, memory.relaxation, memory.communication_qubits)
        return Storage(
            communication=memory.relaxation,
            storage=register.relaxation,
            capacity=register.capacity,
            move_time_s=MOVE_GATES * register.gate_time_s,
            move_gate_fidelity=memory.two_qubit_gate_fidelity,
            register=register,
            device="nuclear_spin",
            move_noise=self.noise,
        )

    @property
    def storage_t1_s(self) -> float:
        """T1 of the qubits that store heralded pairs [s] (the register's, else the memory's)."""
        return self.storage.storage.t1_s

    @property
    def storage_t2_s(self) -> float:
        """T2 of the qubits that store heralded pairs [s] (the register's, else the memory's)."""
        return self.storage.storage.t2_s

    @property
    def storage_capacity(self) -> int:
        """Storage slots for heralded pairs (the register's qubits, else the memory's)."""
        return self.storage.capacity

    @property
    def communication_qubits(self) -> int:
        """Qubits with an optical interface (:attr:`Memory.communication_qubits`): each link
        attempt, and each move into the storage stage, holds one of them."""
        return self.memory.communication_qubits

    @property
    def interface_efficiency(self) -> float:
        """Efficiency of the node's interface (1 without one)."""
        return 1.0 if self.interface is None else self.interface.efficiency

    @property
    def interface_noise_probability(self) -> float:
        """Probability of a noise photon out of the interface per mode (0 without one)."""
        return 0.0 if self.interface is None else self.interface.noise_probability

    @property
    def minimum_attempt_time_s(self) -> float:
        """Shortest attempt the interface's bandwidth allows [s] (0 without one)."""
        return 0.0 if self.interface is None else self.interface.minimum_attempt_time_s
