"""Link layer: an entanglement generation service between two neighbouring nodes.

- :mod:`~qstack.link.memory`: a node's memory (:class:`MemoryBank`: storage slots and
  communication qubits shared by all its links) and the operations that hold communication
  qubits (:func:`take_communication`, :func:`operate`).
- :mod:`~qstack.link.service`: :class:`LinkService`, the fast-forwarded generation of heralded
  pairs into memory slots (:class:`LinkPair`).
- :mod:`~qstack.link.dephasing`: how many attempts of a generation dephase a stored nuclear spin.
"""

from .dephasing import attempts_while_stored
from .memory import MemoryBank, give_communication, operate, take_communication
from .service import LinkPair, LinkService

__all__ = ["LinkPair", "LinkService", "MemoryBank", "attempts_while_stored", "give_communication", "operate",
           "take_communication"]
