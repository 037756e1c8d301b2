"""The link-model interface and the link-scheme registry."""

import dataclasses
import math

import numpy as np
import pytest

import qstack
from qstack import registry
from qstack.all_photonic import AllPhotonicChain
from qstack.hardware import Detector, Emitter, Fiber, Memory, PairSource, TreeCode
from qstack.physical import SCHEMES, DoubleClick, HeraldedLink, HeraldedState, LinkModel, NodeHardware, SingleClick

NODE = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4),
                    emitter=Emitter(emission_time_s=5e-6, emission_probability=0.5))
HALF = Fiber(5.0)
SOURCE = PairSource(pair_probability=0.1, repetition_rate_hz=1e6)


def _every_link():
    links = [HeraldedLink(NODE, NODE, HALF, HALF, Detector(), scheme=s, pair_source=SOURCE) for s in SCHEMES]
    return links + [AllPhotonicChain(NODE, NODE, Fiber(10.0), Detector(), TreeCode((2,)))]


def test_every_registered_scheme_is_a_link_model_under_its_name():
    links = _every_link()
    assert [link.scheme for link in links] == list(registry.names("link_scheme"))
    for link in links:
        assert isinstance(link, LinkModel)
        assert registry.registered("link_scheme")[link.scheme] is type(link)
        assert link.success_probability == pytest.approx(1 - (1 - link.success_probability_per_mode) ** link.multiplexing)
        assert link.attempt_time_s == pytest.approx(link.emission_time_s + link.heralding_time_s)
        assert sum(h.probability for h in link.heralded_states) == pytest.approx(link.success_probability_per_mode)
        assert any(link.sample_heralded_state(np.random.default_rng(1)) is h for h in link.heralded_states)


def test_heralded_link_builds_the_class_registered_for_its_scheme():
    assert SCHEMES == ("single_click", "double_click", "midpoint_source", "node_sources", "polarisation_photons")
    link = HeraldedLink(NODE, NODE, HALF, HALF, Detector(), "double_click")
    assert type(link) is DoubleClick and link.scheme == "double_click"
    assert type(dataclasses.replace(link, multiplexing=2)) is DoubleClick
    assert DoubleClick(NODE, NODE, HALF, HALF, Detector()) == link
    assert type(HeraldedLink(NODE, NODE, HALF, HALF, Detector())) is SingleClick  # the default scheme
    with pytest.raises(ValueError, match="link.scheme must be one of single_click, double_click, midpoint_source, node_sources, polarisation_photons"):
        HeraldedLink(NODE, NODE, HALF, HALF, Detector(), scheme="teleport")
    with pytest.raises(ValueError, match="link.scheme must be 'double_click'"):
        DoubleClick(NODE, NODE, HALF, HALF, Detector(), scheme="single_click")


@pytest.fixture
def perfect_scheme():
    """A plugin's scheme: every attempt heralds |Phi+> after the emission time."""

    @qstack.register("link_scheme", "test_perfect")
    @dataclasses.dataclass(frozen=True)
    class Perfect(SingleClick):
        scheme: str = "test_perfect"
        SCHEME = "test_perfect"

        def _outcome_table(self):
            phi = np.zeros((4, 4), dtype=complex)
            phi[0, 0] = phi[0, 3] = phi[3, 0] = phi[3, 3] = 0.5
            return (HeraldedState(1.0, phi, "perfect"),)

    yield Perfect
    registry._entries["link_scheme"].pop("test_perfect")


def test_a_plugin_adds_a_heralding_scheme_without_touching_the_stack(perfect_scheme):
    from qstack.physical import SCHEMES as schemes_now

    assert "test_perfect" in schemes_now
    link = HeraldedLink(NODE, NODE, HALF, HALF, Detector(), scheme="test_perfect", multiplexing=3)
    assert type(link) is perfect_scheme and isinstance(link, LinkModel)
    assert link.success_probability == 1.0
    assert link.attempt_time_s == pytest.approx(5e-6 + 2 * HALF.delay_s)
    assert math.isclose(link.heralded_states[0].rho[0, 3].real, 0.5)
