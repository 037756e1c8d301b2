"""The cut-off's oldest-segment lookup (a heap) gives what a scan of all segments gives."""

import math
import random

import pytest

from qstack.network import Request
from qstack.network.path import Segment, SegmentAges

from .chains import chain


def _segment(left: int, right: int, oldest_s: float) -> Segment:
    return Segment(left, right, (), None, None, oldest_s, 1)


@pytest.mark.parametrize("seed", range(5))
def test_the_heap_gives_the_linear_min_over_random_segment_sets(seed):
    rng = random.Random(seed)
    held: dict = {}
    ages = SegmentAges(held)
    assert ages.oldest_s() == math.inf
    for _ in range(3000):
        if held and rng.random() < 0.45:  # a swap or a drop: segments stop being held
            del held[rng.choice(list(held))]
        else:
            left = rng.randrange(64)
            if left in held:
                continue
            # ties are common: link pairs heralded in one period share their age
            segment = _segment(left, left + 1, rng.choice([rng.random(), 0.5, 0.25]))
            held[left] = segment
            ages.add(segment)
        expected = min([s.oldest_s for s in held.values()]) if held else math.inf
        assert ages.oldest_s() == expected
    assert len(ages.heap) <= 2 * len(held) + 33  # entries of segments gone are dropped


def test_a_segment_replaced_at_the_same_position_is_not_mistaken_for_the_old_one():
    held: dict = {}
    ages = SegmentAges(held)
    old = held[3] = _segment(3, 4, 0.1)
    ages.add(old)
    new = held[3] = _segment(3, 5, 0.7)  # the old one swapped away, a new one starts at 3
    ages.add(new)
    assert ages.oldest_s() == 0.7


def _linear(self):
    return min([s.oldest_s for s in self.held.values()]) if self.held else math.inf


@pytest.mark.parametrize("swapping", ["asap", "nested"])
def test_chains_whose_segments_reach_the_cutoff_run_as_with_a_scan_of_all_segments(monkeypatch, swapping):
    def run():
        sim, network, names = chain(8, seed=3, cutoff_s=6e-3, swapping=swapping)
        network.submit(Request(names[0], names[-1], pairs=10**9))
        sim.env.run(until=0.15)
        stats = network.stats[0]
        return [(r.fidelity, r.latency_s, r.attempts) for r in stats.records], stats.cutoff_discards, network.swaps

    fast = run()
    monkeypatch.setattr(SegmentAges, "oldest_s", _linear)
    assert run() == fast
    records, discards, _ = fast
    assert records and discards > 10  # both deliveries and cut-off drops happen
