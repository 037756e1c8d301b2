"""The heralded link's shared parts: identical hardware shares one outcome table."""

import dataclasses

from qstack.hardware import Detector, Emitter, Fiber, Memory
from qstack.physical import HeraldedLink, NodeHardware


def _link(a: str, b: str, length_km: float = 10.0, multiplexing: int = 1) -> HeraldedLink:
    memory, emitter = Memory(t1_s=1.0, t2_s=1.0, capacity=4), Emitter(emission_time_s=3.8e-6)
    half = Fiber(length_km / 2)
    return HeraldedLink(NodeHardware(memory, emitter, name=a), NodeHardware(memory, emitter, name=b), half, half,
                        Detector(efficiency=0.9), multiplexing=multiplexing, name=f"{a}-{b}")


def test_links_of_the_same_hardware_between_other_nodes_share_one_outcome_table():
    first, second = _link("n0", "n1"), _link("n7", "n8", multiplexing=3)
    assert first.heralded_states is second.heralded_states  # computed once, whatever the node names
    assert first.hardware_key == second.hardware_key and first.hardware_key.end_a.name == ""
    longer = _link("n0", "n1", length_km=20.0)
    assert longer.heralded_states is not first.heralded_states
    assert longer.success_probability_per_mode < first.success_probability_per_mode
    renamed = dataclasses.replace(first.end_a, name="elsewhere")
    assert renamed != first.end_a  # node names still tell nodes apart everywhere else
