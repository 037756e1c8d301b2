"""The timeline of a run: one row per link, two per node, one per request, from recorded events.

Rows, top to bottom: each link (its generations, as spans over the fast-forwarded attempts, with
heralds and stored pairs marked), each node's memory (every stored qubit as a span from its
storing to its release, in lanes, one per slot in use at once, with cut-off discards marked)
and operations (moves into storage, swaps and purification rounds, failed ones apart), and each
request (deliveries, coloured by fidelity). Spans are drawn as line segments, several thousand
to a trace, so a long run stays light; zoom in to one pair.

Past ``max_events`` the timeline shows a window from the start of the run holding that many
events, and says so (:class:`Timeline`).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass

import plotly.graph_objects as go

from qstack.engine.trace import Recorder, TraceEvent

#: Events drawn at most; past this the timeline keeps a window from the start of the run.
MAX_TIMELINE_EVENTS = 20_000

# kind -> (label, colour, line width) for spans; (label, colour, symbol) for instants
_SPANS = {
    "generation": ("attempts (generation)", "#1f77b4", 10),
    "held": ("stored qubit (age)", "#2ca02c", 3),
    "move": ("move into storage", "#9467bd", 10),
    "swap": ("swap", "#ff7f0e", 10),
    "swap failed": ("swap (failed)", "#7f3f00", 10),
    "purification": ("purification round", "#17becf", 10),
    "purification failed": ("purification (failed)", "#d62728", 10),
}
_INSTANTS = {
    "herald": ("herald", "#1f77b4", "diamond"),
    "stored": ("pair stored", "#2ca02c", "circle-open"),
    "cutoff": ("cut-off discard", "#d62728", "x"),
}


@dataclass(frozen=True)
class Timeline:
    """The timeline figure and what it shows: ``shown`` of ``total`` events, up to ``window_end_s``
    (None: the whole run), and events the recorder itself left out (``recorder_dropped``)."""

    figure: go.Figure
    shown: int
    total: int
    window_end_s: float | None
    recorder_dropped: int

    @property
    def note(self) -> str:
        parts = []
        if self.window_end_s is not None:
            parts.append(f"The timeline shows the first {self.window_end_s:.4g} s of the run: {self.shown} of "
                         f"{self.total} recorded events (bound {MAX_TIMELINE_EVENTS}); --trace FILE writes them all.")
        if self.recorder_dropped:
            parts.append(f"The recorder kept its first events and left out {self.recorder_dropped} more "
                         "(events and occupancy samples past its bound).")
        return " ".join(parts)


def window(events: list[TraceEvent], max_events: int) -> tuple[list[TraceEvent], float | None]:
    """The events beginning before the ``max_events``-th one by start time, and that time
    (None when all are kept)."""
    if len(events) <= max_events:
        return events, None
    ordered = sorted(events, key=lambda e: e.time_s)
    end_s = ordered[max_events].time_s
    return [e for e in ordered if e.time_s < end_s], end_s


def timeline(recorder: Recorder, links: list[str], nodes: list[str], requests: list[str],
             max_events: int = MAX_TIMELINE_EVENTS) -> Timeline:
    events, end_s = window(recorder.events, max_events)
    rows: dict[str, int] = {}
    for link in links:
        rows[f"link {link}"] = len(rows)
    for node in nodes:
        rows[f"{node} memory"] = len(rows)
        rows[f"{node} operations"] = len(rows)
    for request in requests:
        rows[f"request {request}"] = len(rows)
    spans = defaultdict(lambda: ([], [], []))  # kind -> x, y, hover text
    instants = defaultdict(lambda: ([], [], []))
    deliveries = ([], [], [], [])  # x, y, fidelity, hover
    lanes = _lanes([e for e in events if e.kind == "held"])
    for event in events:
        kind = event.kind
        if kind == "delivery":
            row = rows.setdefault(f"request {event.where}", len(rows))
            deliveries[0].append(event.time_s)
            deliveries[1].append(row)
            deliveries[2].append(event.value)
            deliveries[3].append(f"request {event.where}<br>t {event.time_s:.6g} s<br>fidelity {event.value:.4f}"
                                 f"<br>latency {float(event.extra):.4g} s")
            continue
        if kind in ("generation", "herald", "stored"):
            row = rows.setdefault(f"link {event.where}", len(rows))
        elif kind in ("held", "cutoff"):
            row = rows.setdefault(f"{event.where} memory", len(rows))
        else:
            row = rows.setdefault(f"{event.where} operations", len(rows))
        text = _hover(event)
        if kind in _INSTANTS:
            xs, ys, texts = instants[kind]
            xs.append(event.time_s)
            ys.append(row)
            texts.append(text)
            continue
        if kind == "held":
            lane, width = lanes[id(event)]
            y = row - 0.4 + 0.8 * (lane + 0.5) / width
        else:
            y = row
        key = kind if event.ok else f"{kind} failed"
        xs, ys, texts = spans[key]
        xs += [event.time_s, event.end_s, None]
        ys += [y, y, None]
        texts += [text, text, None]
    fig = go.Figure()
    for key, (label, colour, width) in _SPANS.items():
        if key in spans:
            xs, ys, texts = spans[key]
            # markers at the ends keep spans far shorter than a pixel visible before zooming in
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=label, line=dict(color=colour, width=width),
                                     marker=dict(size=4, color=colour),
                                     text=texts, hovertemplate="%{text}<extra></extra>", connectgaps=False))
    for key, (label, colour, symbol) in _INSTANTS.items():
        if key in instants:
            xs, ys, texts = instants[key]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=label,
                                     marker=dict(color=colour, symbol=symbol, size=9 if key == "cutoff" else 7),
                                     text=texts, hovertemplate="%{text}<extra></extra>"))
    if deliveries[0]:
        fig.add_trace(go.Scatter(
            x=deliveries[0], y=deliveries[1], mode="markers", name="delivery (colour: fidelity)", text=deliveries[3],
            hovertemplate="%{text}<extra></extra>",
            marker=dict(size=10, symbol="star", color=deliveries[2], colorscale="RdYlGn", cmin=0.5, cmax=1.0,
                        showscale=True, colorbar=dict(title="fidelity", len=0.5, y=0.2)),
        ))
    names = sorted(rows, key=rows.get)
    fig.update_yaxes(tickvals=list(range(len(names))), ticktext=names, autorange="reversed", showgrid=True,
                     zeroline=False)
    fig.update_xaxes(title_text="time [s]", exponentformat="SI")
    fig.update_layout(title="timeline (drag to zoom, double-click to reset)",
                      legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0), height=max(380, 28 * len(rows) + 220),
                      margin=dict(l=60, r=30, t=110, b=50),
                      hovermode="closest")
    return Timeline(fig, len(events), len(recorder.events), end_s, recorder.dropped)


def _lanes(held: list[TraceEvent]) -> dict[int, tuple[int, int]]:
    """A lane for each stored qubit of a node, so that qubits held at once never share one
    (lowest free lane first); ``id(event) -> (lane, lanes the node uses)``."""
    by_node = defaultdict(list)
    for event in held:
        by_node[event.where].append(event)
    out = {}
    for events in by_node.values():
        free: list[int] = []
        busy: list[tuple[float, int]] = []  # (end, lane)
        used = 0
        placed = []
        for event in sorted(events, key=lambda e: (e.time_s, e.end_s)):
            while busy and busy[0][0] <= event.time_s:
                heapq.heappush(free, heapq.heappop(busy)[1])
            if free:
                lane = heapq.heappop(free)
            else:
                lane, used = used, used + 1
            heapq.heappush(busy, (event.end_s, lane))
            placed.append((event, lane))
        for event, lane in placed:
            out[id(event)] = (lane, max(used, 1))
    return out


def _hover(event: TraceEvent) -> str:
    head = f"{event.kind} at {event.where}<br>t {event.time_s:.6g} s"
    if event.duration_s > 0:
        head += f" for {event.duration_s:.4g} s"
    if event.kind in ("generation", "herald"):
        head += f"<br>{event.count} attempts"
    if event.kind in ("stored", "held", "move"):
        head += f"<br>pair #{event.count}"
    if event.kind in ("held", "cutoff"):
        head += f"<br>age {event.value:.4g} s"
    if event.kind in ("swap", "purification"):
        head += "<br>" + ("succeeded" if event.ok else "failed")
    if event.extra and event.kind != "delivery":
        head += f"<br>{event.extra}"
    return head
