"""Tree-encoded photonic qubits: loss tolerance by counterfactual (indirect) measurement.

A tree graph state encodes one logical qubit in many photons (Varnava, Browne & Rudolph,
PRL 97, 120501 (2006), arXiv:quant-ph/0507036; "VBR" below). The tree has a root (the logical
qubit, level 0) with ``b_0`` children at level 1, each with ``b_1`` children at level 2, and so
on down to the leaves at level ``d``; the branching vector ``b = (b_0, ..., b_{d-1})`` fixes it.
The photons are the non-root qubits:

    ``N = b_0 + b_0 b_1 + ... + b_0 b_1 ... b_{d-1}``   [photons].

Each photon is lost independently with probability ``eps = 1 - eta`` (``eta`` the per-photon
transmission: source, channel, detector). A lost qubit's Z value can still be inferred
("indirect Z measurement"): measure one of its children in X and all of that child's children in
Z (directly, or indirectly themselves). Its success probability for a qubit at level ``k`` is
the VBR recursion, written (VBR-1) here,

    ``R_k = 1 - [1 - (1 - eps) (1 - eps + eps R_{k+2})^{b_{k+1}}]^{b_k}``,
    with ``b_d = 0`` and ``R_d = R_{d+1} = 0`` (leaves cannot be measured indirectly),

and the probability of measuring the encoded qubit in an arbitrary basis, (VBR-2),

    ``P = [(1 - eps + eps R_1)^{b_0} - (eps R_1)^{b_0}] (1 - eps + eps R_2)^{b_1}``:

every first-level qubit must be measured (directly, or indirectly in Z), at least one of them
must have arrived to be measured directly in the wanted basis, and all of that one's children
must be measured in Z. (The labels (VBR-1), (VBR-2) are ours: the two displayed results of the
paper's loss analysis; the published equation numbers were not checked here.) ``P`` is what we
call the tree's *logical transmission*: the probability that the encoded qubit survives the
loss, the counterpart of ``eta`` for a bare photon. A tree of depth 0 (empty branching vector)
is one bare photon: ``N = 1``, ``P = eta``.

Generating a tree from a single quantum emitter (Buterakos, Barnes & Economou, PRX 7, 041023
(2017)) emits its photons one after another, so the generation time is ``N`` emissions:
``t_gen = N * emission_time_s`` [s]. An emission that does not put a photon into the mode
(``photon_efficiency < 1``) is a lost photon, which is what the code tolerates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from ._validation import count, positive, probability


@dataclass(frozen=True)
class TreeCode:
    """A tree graph-state encoding of one photonic qubit.

    Args:
        branching: the branching vector ``(b_0, ..., b_{d-1})`` of integers >= 1; the empty
            tuple is depth 0, a bare photon. Given as any sequence; stored as a tuple.
    """

    branching: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        owner = type(self).__name__
        if isinstance(self.branching, (str, bytes)) or not hasattr(self.branching, "__iter__"):
            raise ValueError(f"{owner}.branching must be a sequence of integers >= 1, got {self.branching!r}")
        values = tuple(count(owner, f"branching[{i}]", b, 1) for i, b in enumerate(self.branching))
        object.__setattr__(self, "branching", values)

    @property
    def depth(self) -> int:
        """Number of levels below the root, ``d = len(branching)``."""
        return len(self.branching)

    @cached_property
    def photon_count(self) -> int:
        """``N = sum_k prod_{i <= k} b_i`` [photons]; 1 for depth 0 (the bare photon)."""
        if not self.branching:
            return 1
        total, level = 0, 1
        for b in self.branching:
            level *= b
            total += level
        return total

    def indirect_z_probability(self, level: int, transmission: float) -> float:
        """``R_level`` of (VBR-1): success probability of an indirect Z measurement on a qubit
        at ``level`` (1 .. d; 0 beyond the leaves) [dimensionless]."""
        eta = probability(type(self).__name__, "transmission", transmission)
        values = self._indirect(eta)
        return values[level] if 0 <= level < len(values) else 0.0

    def _indirect(self, eta: float) -> list[float]:
        """``[R_0, R_1, ..., R_{d+1}]`` for per-photon transmission ``eta``."""
        eps = 1.0 - eta
        d = self.depth
        b = list(self.branching) + [0, 0]  # b_d = 0 (leaves), padded for k + 1 <= d + 1
        r = [0.0] * (d + 3)  # R_d = R_{d+1} = R_{d+2} = 0
        for k in range(d - 1, -1, -1):
            inner = (1.0 - eps) * (1.0 - eps + eps * r[k + 2]) ** b[k + 1]
            r[k] = 1.0 - (1.0 - inner) ** b[k]
        return r

    def logical_transmission(self, transmission: float) -> float:
        """``P`` of (VBR-2): probability that the encoded qubit can be measured in any basis when
        each photon arrives with probability ``transmission`` in ``[0, 1]`` [dimensionless]."""
        eta = probability(type(self).__name__, "transmission", transmission)
        if not self.branching:
            return eta
        eps = 1.0 - eta
        r = self._indirect(eta)
        b0 = self.branching[0]
        b1 = self.branching[1] if self.depth > 1 else 0
        first = (1.0 - eps + eps * r[1]) ** b0 - (eps * r[1]) ** b0
        return float(first * (1.0 - eps + eps * r[2]) ** b1)

    def generation_time_s(self, emission_time_s: float) -> float:
        """``t_gen = N * emission_time_s`` [s]: the photons of one tree emitted one by one."""
        t = positive(type(self).__name__, "emission_time_s", emission_time_s)
        return float(self.photon_count * t)

    def describe(self) -> str:
        """``"tree (2, 3): 8 photons"`` or ``"bare photon"``."""
        if not self.branching:
            return "bare photon"
        return f"tree {self.branching}: {self.photon_count} photons"


def best_branching(
    transmission: float, max_photons: int, hops: int = 1, depth_max: int = 3, branch_max: int = 12
) -> TreeCode:
    """The tree of at most ``max_photons`` photons that maximises ``P**hops / N``: the logical
    transmission through ``hops`` successive hops per photon sent, at per-photon
    ``transmission`` (exhaustive search over depths 0 to ``depth_max`` and branchings 1 to
    ``branch_max``; a design helper for choosing a branching vector, not used by the models)."""
    eta = probability("best_branching", "transmission", transmission)
    limit = count("best_branching", "max_photons", max_photons, 1)
    n_hops = count("best_branching", "hops", hops, 1)
    best, best_score = TreeCode(()), eta**n_hops

    def grow(prefix: tuple[int, ...], photons: int, level: int) -> None:
        nonlocal best, best_score
        if prefix:
            code = TreeCode(prefix)
            score = code.logical_transmission(eta) ** n_hops / code.photon_count
            if score > best_score or math.isclose(score, best_score) and code.photon_count < best.photon_count:
                best, best_score = code, score
        if len(prefix) == depth_max:
            return
        for b in range(1, branch_max + 1):
            added = level * b
            if photons + added > limit:
                break
            grow(prefix + (b,), photons + added, added)

    grow((), 0, 1)
    return best
