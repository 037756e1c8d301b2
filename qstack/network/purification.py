"""Purification in the network: the policy (where, how, how many rounds) and its schemes.

A scheme is registered under kind ``"purification"`` as a :class:`PurificationScheme` subclass.
It says which held pair a new pair is purified with (:meth:`~PurificationScheme.partner_level`),
how many pairs it holds at once, and what state its rounds give (:meth:`~PurificationScheme.predict`),
so the network's simulation (:func:`purified`) and a planner's prediction share one definition::

    import qstack
    from qstack.network import PurificationScheme

    @qstack.register("purification", "pumping_from_best")
    class PumpingFromBest(PurificationScheme):
        def partner_level(self, level, held):
            return max(held, default=None)
        ...

The circuits of a round (DEJMPS, BBPSSW) are :mod:`qstack.protocols.purification`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Mapping

from qiskit.quantum_info import DensityMatrix

from qstack.link import give_communication, operate, take_communication
from qstack.protocols import GateNoise, purification_succeeded
from qstack.protocols.purification import METHODS, pump, purify_rounds
from qstack.registry import lookup, register

PURIFICATION_SCOPES = ("none", "link", "end_to_end")
#: The built-in schemes (the registry holds these and any a plugin adds).
PURIFICATION_SCHEMES = ("recurrence", "pumping")
#: The round's circuits, as the protocols define them.
PURIFICATION_METHODS = METHODS


class PurificationScheme:
    """How rounds are chained. Subclasses implement the three methods below."""

    def held_pairs(self, rounds: int) -> int:
        """Pairs held at once (per pair end) to deliver a pair that survived ``rounds`` rounds."""
        raise NotImplementedError

    def partner_level(self, level: int, held: Mapping[int, object]) -> int | None:
        """The level (rounds survived) of the held pair a pair of ``level`` is purified with next,
        or None to hold the pair and wait. ``held`` maps levels to the pairs held."""
        raise NotImplementedError

    def predict(self, rho, rounds: int, method: str = "dejmps", noise: GateNoise = GateNoise()) -> DensityMatrix:
        """The state delivered after ``rounds`` successful rounds on pairs in state ``rho``
        (4x4, qubit 0 at the first node), with gate noise ``noise`` on every round."""
        raise NotImplementedError


@register("purification", "recurrence")
class Recurrence(PurificationScheme):
    """Two pairs that survived the same number of rounds are purified together (a binary counter
    over levels): ``rounds + 1`` pairs held, ``2**rounds`` consumed per delivered pair."""

    def held_pairs(self, rounds: int) -> int:
        return rounds + 1 if rounds else 1

    def partner_level(self, level: int, held: Mapping[int, object]) -> int | None:
        return level

    def predict(self, rho, rounds: int, method: str = "dejmps", noise: GateNoise = GateNoise()) -> DensityMatrix:
        return purify_rounds(rho, rounds, method, noise)[0]


@register("purification", "pumping")
class Pumping(PurificationScheme):
    """The kept pair is purified with each fresh pair: 2 pairs held, ``rounds + 1`` consumed."""

    def held_pairs(self, rounds: int) -> int:
        return 2 if rounds else 1

    def partner_level(self, level: int, held: Mapping[int, object]) -> int | None:
        return next(iter(held), None)  # the kept pair, whatever its level

    def predict(self, rho, rounds: int, method: str = "dejmps", noise: GateNoise = GateNoise()) -> DensityMatrix:
        return pump(rho, rho, rounds, method, noise)[0]


@dataclass(frozen=True)
class PurificationPolicy:
    """Where and how pairs are purified.

    scope: ``"none"``, ``"link"`` (every elementary pair before swapping) or ``"end_to_end"``.
    method: ``"dejmps"`` or ``"bbpssw"``.
    scheme: a registered :class:`PurificationScheme`: ``"recurrence"`` (pairs of equal rounds
        purified together; holds ``rounds + 1`` pairs) or ``"pumping"`` (the kept pair purified
        with each fresh pair; holds 2 pairs).
    rounds: rounds each delivered pair has survived.
    """

    scope: str = "none"
    method: str = "dejmps"
    scheme: str = "recurrence"
    rounds: int = 0

    def __post_init__(self) -> None:
        for name, value, allowed in (("scope", self.scope, PURIFICATION_SCOPES), ("method", self.method, PURIFICATION_METHODS)):
            if value not in allowed:
                raise ValueError(f"purification.{name} must be one of {', '.join(allowed)}, got {value!r}")
        lookup("purification", self.scheme, "purification.scheme")
        if isinstance(self.rounds, bool) or not isinstance(self.rounds, int) or not 0 <= self.rounds <= 10:
            raise ValueError(f"purification.rounds must be an integer in [0, 10], got {self.rounds!r}")
        if self.scope == "none" and self.rounds:
            raise ValueError("purification.rounds needs purification.scope 'link' or 'end_to_end'")

    @property
    def link_rounds(self) -> int:
        """Rounds every link pair survives before it is swapped (``rounds`` for scope
        ``"link"``, else 0)."""
        return self.rounds if self.scope == "link" else 0

    @property
    def end_to_end_rounds(self) -> int:
        """Rounds every end-to-end pair survives after the swaps (``rounds`` for scope
        ``"end_to_end"``, else 0)."""
        return self.rounds if self.scope == "end_to_end" else 0

    @cached_property
    def strategy(self) -> PurificationScheme:
        """The registered scheme named ``scheme``."""
        return lookup("purification", self.scheme, "purification.scheme")()

    @property
    def held_pairs(self) -> int:
        """Pairs held at once while purifying (slots per pair end)."""
        return self.strategy.held_pairs(self.rounds)

    def predict(self, rho, noise: GateNoise = GateNoise()) -> DensityMatrix:
        """The state this policy's rounds make of pairs in state ``rho`` (``rounds`` of ``scheme``
        with ``method`` and gate noise ``noise``): what planners predict, with the network's
        own scheme. Its scope is the caller's to apply (per link or end to end)."""
        return self.strategy.predict(rho, self.rounds, self.method, noise)


def emitted_s(pair) -> float:
    """When a link pair's older qubit began to wait: its emission [s]."""
    return pair.heralded_s - pair.heralding_s


def purified(network, source: Callable, release: Callable, oldest: Callable, nodes: tuple, delay_s: float,
             rounds: int, stats, timing):
    """SimPy generator: draw pairs from ``source()`` (a generator returning a pair or None) and
    return one that survived ``rounds`` rounds of ``network.purification``'s scheme.

    A failed round frees both pairs; a held pair older than ``stats.cutoff_s`` (``oldest(pair)``
    is when it began to wait) is freed before use. A round's gates and readout hold a
    communication qubit at each node (waiting for one a link is attempting through) for that
    node's gate time; the round takes the slower node's, then ``delay_s``, the one-way
    classical delay between ``nodes``, to compare the outcomes.
    ``timing.purification_s`` becomes the time from the first pair to the purified one.
    """
    env = network.sim.env
    if rounds == 0:
        while True:
            pair = yield from source()
            if pair is not None:
                return pair
    scheme = network.purification.strategy
    operation = network.purification_operation(*nodes)
    # Each side's gates and readout hold its node's communication qubit for the node's gate time.
    gates = {network.banks[node]: network.swap_time_s(node) for node in nodes}
    apply = network.sim.registry.apply
    held: dict[int, object] = {}
    first_ready = None
    while True:
        pair = yield from source()
        if pair is None:
            continue
        if first_ready is None:
            first_ready = env.now
        level = 0
        while level < rounds:
            partner = scheme.partner_level(level, held)
            kept = None if partner is None else held.pop(partner, None)
            if kept is None:
                break
            expired = env.now >= oldest(kept) + stats.cutoff_s
            if not expired:
                yield from take_communication(gates)  # a link may be attempting through one
                expired = env.now >= oldest(kept) + stats.cutoff_s
                if expired:
                    give_communication(gates)
            if expired:
                release(kept)
                stats.cutoff_discards += 1
                if (rec := network.sim.recorder) is not None: rec.cutoff(nodes, env.now - oldest(kept))
                break  # the new pair is held at its level
            yield from operate(env, gates)
            outcome = apply(operation, [kept.qubits[0], kept.qubits[1], pair.qubits[0], pair.qubits[1]])
            release(pair)  # the sacrificed pair's slots
            yield env.timeout(delay_s)  # the two sides compare outcomes; the kept pair waits
            network.purifications += 1
            if (rec := network.sim.recorder) is not None: rec.purification(nodes, max(gates.values()) + delay_s, purification_succeeded(outcome))
            if not purification_succeeded(outcome):
                network.purification_failures += 1
                release(kept)
                pair = None
                break
            pair, level = kept, partner + 1
        if pair is None:
            continue
        if level >= rounds:
            timing.purification_s = max(timing.purification_s, env.now - first_ready)
            return pair
        held[level] = pair
