"""The run's figures: what each draws from the report and the recorded occupancy."""

import numpy as np
import pytest

from qstack.engine.trace import Occupancy, Recorder
from qstack.html import capture_run
from qstack.html.figures import _bin_max, fidelity_figure, latency_figure, occupancy_figure, topology_figure
from qstack.scenario import load_scenario


@pytest.fixture(scope="module")
def capture():
    return capture_run(load_scenario("scenarios/chain_3_short_memory.toml", settings={"requests.0.pairs": 3}))


def test_topology_lays_a_chain_on_a_line_with_its_route(capture):
    view = capture.topology
    assert [(n.name, n.x, n.y) for n in view.nodes] == [("n0", 0.0, 0.0), ("n1", 1.0, 0.0), ("n2", 2.0, 0.0)]
    assert list(view.routes.values()) == [("n0", "n1", "n2")]
    assert {n.hardware for n in view.nodes} == {"trapped_ion"}
    pairs = {row.link: row.pairs for row in capture.report.links}
    for link in view.links:
        assert link.rate_hz == pytest.approx(pairs[link.name] / capture.report.sim_time_s)
        assert 0.5 < link.heralded_fidelity < 1
    figure = topology_figure(view, "fidelity")
    assert {t.name for t in figure.data} >= {"trapped_ion", "route r0:n0->n2"}


def test_latency_parts_add_up_to_the_mean_latency_from_request(capture):
    figure = latency_figure(capture.report)
    total = sum(trace.y[0] for trace in figure.data)
    assert total == pytest.approx(capture.report.latency_from_request_s.mean, rel=1e-9)


def test_fidelity_histogram_counts_every_pair(capture):
    figure = fidelity_figure(capture.report, capture.topology.min_fidelity)
    assert sum(sum(trace.y) for trace in figure.data) == capture.report.delivered


def test_occupancy_thinned_to_window_maxima_keeps_every_peak():
    times = np.array([0.0, 1.0, 1.001, 5.0, 5.0005, 9.0])
    used = np.array([0.0, 3.0, 1.0, 2.0, 0.0, 1.0])
    edges, top = _bin_max(times, used, 10.0, 5)
    assert list(edges) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert list(top) == [3.0, 1.0, 2.0, 0.0, 1.0, 1.0]  # peaks kept; a level held into a window counts there
    recorder = Recorder()
    recorder.occupancy.extend(Occupancy(t * 1e-3, "a", "slots", t % 3, 2) for t in range(50))
    figure, thinned = occupancy_figure(recorder, 0.05, ["a"], max_points=10)
    assert thinned and max(figure.data[0].y) == 2
