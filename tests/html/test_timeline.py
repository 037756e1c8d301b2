"""The timeline: its rows, lanes that never overlap, and the bound past which it keeps a window."""

from qstack.engine.trace import Recorder, TraceEvent
from qstack.html.timeline import _lanes, timeline, window


def _recorder(events):
    recorder = Recorder()
    recorder.events.extend(events)
    return recorder


def test_window_keeps_the_events_before_the_bound_and_says_so():
    events = [TraceEvent(t * 1e-3, "herald", "a-b", count=1) for t in range(100)]
    kept, end_s = window(events, 40)
    assert len(kept) == 40 and end_s == 40e-3 and all(e.time_s < end_s for e in kept)
    assert window(events, 100) == (events, None)
    shown = timeline(_recorder(events), ["a-b"], ["a", "b"], [], max_events=40)
    assert (shown.shown, shown.total, shown.window_end_s) == (40, 100, 40e-3)
    assert "first 0.04 s of the run: 40 of 100 recorded events" in shown.note
    assert timeline(_recorder(events), ["a-b"], ["a", "b"], []).note == ""


def test_qubits_held_at_once_never_share_a_lane():
    held = [TraceEvent(s, "held", "a", d) for s, d in [(0, 5), (1, 1), (2, 5), (3, 1), (6, 1), (2.5, 0.1)]]
    lanes = _lanes(held)
    for x in held:
        for y in held:
            if x is not y and x.time_s < y.end_s and y.time_s < x.end_s:
                assert lanes[id(x)][0] != lanes[id(y)][0]
    assert {width for _, width in lanes.values()} == {3}  # at most three held at once


def test_rows_are_links_node_memories_and_operations_and_requests():
    events = [TraceEvent(0.0, "generation", "a-b", 1.0, 5), TraceEvent(1.0, "herald", "a-b", count=5),
              TraceEvent(1.0, "held", "a", 0.5, 1, 0.5), TraceEvent(1.2, "swap", "b", 0.1, ok=False),
              TraceEvent(1.5, "cutoff", "a", value=0.5), TraceEvent(2.0, "delivery", "r0", value=0.9, extra="2.0")]
    figure = timeline(_recorder(events), ["a-b"], ["a", "b"], ["r0"]).figure
    assert list(figure.layout.yaxis.ticktext) == ["link a-b", "a memory", "a operations", "b memory",
                                                  "b operations", "request r0"]
    names = {trace.name for trace in figure.data}
    assert names == {"attempts (generation)", "stored qubit (age)", "swap (failed)", "herald", "cut-off discard",
                     "delivery (colour: fidelity)"}
