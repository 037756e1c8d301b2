"""The figures of a run: topology, per-request latency, fidelity and throughput, occupancy.

Each function returns a ``plotly.graph_objects.Figure`` built from a run's report, its topology
view and its recorded occupancy; nothing here runs a simulation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import fields

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale
from plotly.subplots import make_subplots

from qstack.engine.trace import Recorder
from qstack.metrics import DelayBreakdown
from qstack.report import Report

from .capture import TopologyView

#: Past this many changes a node's occupancy curve is drawn from per-bin maxima.
MAX_OCCUPANCY_POINTS = 4000
#: Bins of the throughput-over-time curve and of the fidelity histogram.
THROUGHPUT_BINS = 40
FIDELITY_BINS = 50
_COLOURS = qualitative.Plotly
_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "hexagon", "star", "pentagon", "cross")


def colour(i: int) -> str:
    return _COLOURS[i % len(_COLOURS)]


# ---------------------------------------------------------------------- topology
def topology_figure(view: TopologyView, colour_by: str = "rate") -> go.Figure:
    """Nodes by hardware preset, links coloured by their rate of stored pairs [1/s] (``"rate"``)
    or their model's mean heralded fidelity (``"fidelity"``), each request's route dashed."""
    if colour_by not in ("rate", "fidelity"):
        raise ValueError(f"colour_by must be 'rate' or 'fidelity', got {colour_by!r}")
    fig = go.Figure()
    values = [link.rate_hz if colour_by == "rate" else link.heralded_fidelity for link in view.links]
    if colour_by == "rate":  # relative: the slowest to the fastest link
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        scale = "Viridis"
    else:  # absolute: 1/2 (no entanglement for a Werner pair) to 1
        low, high = 0.5, 1.0
        scale = "RdYlGn"
    for link, value in zip(view.links, values):
        t = 0.5 if high == low else min(max((value - low) / (high - low), 0.0), 1.0)
        (x0, y0), (x1, y1) = view.position(link.u), view.position(link.v)
        fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", showlegend=False, hoverinfo="skip",
                                 line=dict(width=7, color=sample_colorscale(scale, [t])[0])))
    title = "rate of stored pairs [1/s]" if colour_by == "rate" else "mean heralded fidelity"
    fig.add_trace(go.Scatter(
        x=[(view.position(k.u)[0] + view.position(k.v)[0]) / 2 for k in view.links],
        y=[(view.position(k.u)[1] + view.position(k.v)[1]) / 2 for k in view.links],
        mode="markers", name="links", showlegend=False,
        marker=dict(size=9, color=values, colorscale=scale, cmin=low, cmax=high if high > low else low + 1e-12,
                    showscale=bool(view.links), colorbar=dict(title=title, len=0.8, tickformat=".4g"), line=dict(width=1, color="#333")),
        text=[f"link {k.name}<br>{_km(k.length_km)}p/attempt {k.p_attempt:.3g}<br>heralded F {k.heralded_fidelity:.4f}"
              f"<br>rate {k.rate_hz:.4g} /s" for k in view.links],
        hovertemplate="%{text}<extra></extra>",
    ))
    for i, (request, route) in enumerate(view.routes.items()):
        offset = 0.06 * (i + 1)
        fig.add_trace(go.Scatter(
            x=[view.position(n)[0] for n in route], y=[view.position(n)[1] + offset for n in route],
            mode="lines", name=f"route {request}", line=dict(dash="dash", width=2, color=colour(i + 3)),
            hovertemplate=f"{request}: {' → '.join(route)}<extra></extra>",
        ))
    for i, hardware in enumerate(sorted({n.hardware for n in view.nodes})):
        nodes = [n for n in view.nodes if n.hardware == hardware]
        fig.add_trace(go.Scatter(
            x=[n.x for n in nodes], y=[n.y for n in nodes], mode="markers+text", name=hardware,
            text=[n.name for n in nodes], textposition="top center",
            marker=dict(size=20, symbol=_SYMBOLS[i % len(_SYMBOLS)], color=colour(i), line=dict(width=1, color="#222")),
            customdata=[[n.slots, n.communication_qubits] for n in nodes],
            hovertemplate=f"%{{text}} ({hardware})<br>slots %{{customdata[0]}}<br>communication qubits "
                          "%{customdata[1]}<extra></extra>",
        ))
    fig.update_layout(title=f"topology: links by {title}", legend=dict(orientation="h", y=-0.05))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    return fig


def _km(length_km) -> str:
    return "" if length_km is None else f"{length_km:.4g} km<br>"


# ---------------------------------------------------------------------- per request
def _by_request(report: Report) -> dict:
    groups = defaultdict(list)
    for pair in report.pairs:
        groups[pair.request].append(pair)
    return groups


def latency_figure(report: Report) -> go.Figure:
    """Per request, the mean time per delivered pair from each source of delay, stacked [s]:
    the parts add up to the mean latency from the request."""
    groups = _by_request(report)
    names = list(groups)
    fig = go.Figure()
    for i, part in enumerate(f.name for f in fields(DelayBreakdown)):
        means = [float(np.mean([getattr(p.breakdown, part) for p in groups[r]])) for r in names]
        fig.add_trace(go.Bar(x=names, y=means, name=part.removesuffix("_s"), marker_color=colour(i),
                             hovertemplate="%{x}: %{y:.4g} s<extra>" + part + "</extra>"))
    fig.update_layout(barmode="stack", title="latency breakdown per request (mean per delivered pair)",
                      yaxis_title="time [s]", xaxis_title="request")
    return fig


def fidelity_figure(report: Report, min_fidelity: dict, bins: int = FIDELITY_BINS) -> go.Figure:
    """Histogram of delivered fidelities per request, each against its ``min_fidelity`` (dashed):
    ``bins`` equal bins from just below the lowest fidelity or floor shown up to 1."""
    groups = _by_request(report)
    low = min([p.fidelity for p in report.pairs] + [f for r, f in min_fidelity.items() if r in groups], default=0.5)
    edges = np.linspace(max(0.0, math.floor(low * 100) / 100 - 0.01), 1.0, bins + 1)
    fig = go.Figure()
    for i, (request, pairs) in enumerate(groups.items()):
        counts, _ = np.histogram([p.fidelity for p in pairs], bins=edges)
        fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=edges[1] - edges[0], name=request,
                             opacity=0.65, marker_color=colour(i),
                             hovertemplate="F %{x:.4f}: %{y} pairs<extra>" + request + "</extra>"))
        floor = min_fidelity.get(request)
        if floor is not None:
            fig.add_vline(x=floor, line=dict(dash="dash", color=colour(i), width=2),
                          annotation_text=f"min F {request}", annotation_position="top")
    fig.update_layout(barmode="overlay", title="delivered fidelity against min_fidelity",
                      xaxis_title="fidelity", yaxis_title="pairs", bargap=0)
    fig.update_xaxes(range=[edges[0], 1.0])
    return fig


def throughput_figure(report: Report, bins: int = THROUGHPUT_BINS) -> go.Figure:
    """Delivered pairs per second in ``bins`` equal windows of the run, per request and in all."""
    end_s = report.sim_time_s if report.sim_time_s > 0 else 1.0
    edges = np.linspace(0.0, end_s, bins + 1)
    width = edges[1] - edges[0]
    fig = go.Figure()
    series = list(_by_request(report).items())
    if len(series) > 1:
        series.append(("all requests", list(report.pairs)))
    for i, (request, pairs) in enumerate(series):
        counts, _ = np.histogram([p.delivered_s for p in pairs], bins=edges)
        fig.add_trace(go.Scatter(x=edges, y=np.append(counts / width, counts[-1] / width), mode="lines",
                                 line_shape="hv", name=request,
                                 line=dict(color="#222" if request == "all requests" else colour(i), width=2),
                                 hovertemplate="from %{x:.4g} s: %{y:.4g} pairs/s<extra>" + request + "</extra>"))
    fig.update_layout(title=f"throughput over time ({width:.3g} s windows)", xaxis_title="time [s]",
                      yaxis_title="delivered pairs / s")
    return fig


# ---------------------------------------------------------------------- occupancy
def occupancy_figure(recorder: Recorder, end_s: float, nodes: list[str],
                     max_points: int = MAX_OCCUPANCY_POINTS) -> tuple[go.Figure, bool]:
    """Memory slots and communication qubits in use per node over the run (steps), and whether
    any curve was thinned to per-bin maxima (more than ``max_points`` changes)."""
    series = defaultdict(list)
    capacity = {}
    for sample in recorder.occupancy:
        series[sample.node, sample.resource].append((sample.time_s, sample.used))
        capacity[sample.node, sample.resource] = sample.capacity
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("memory slots in use", "communication qubits in use"))
    thinned = False
    for i, node in enumerate(nodes):
        for row, resource in enumerate(("slots", "communication"), start=1):
            points = series.get((node, resource))
            if not points:
                continue
            times, used = _steps(points, end_s)
            if len(times) > max_points:
                times, used = _bin_max(times, used, end_s, max_points)
                thinned = True
            fig.add_trace(go.Scatter(
                x=times, y=used, mode="lines", line_shape="hv", name=node, legendgroup=node, showlegend=row == 1,
                line=dict(color=colour(i)),
                hovertemplate=f"{node}: %{{y}} of {capacity[node, resource]} from %{{x:.4g}} s<extra>{resource}</extra>",
            ), row=row, col=1)
    fig.update_xaxes(title_text="time [s]", row=2, col=1)
    fig.update_layout(title="occupancy per node")
    return fig, thinned


def _steps(points: list, end_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The level after the last change at each time, held to ``end_s``."""
    last = {}
    for time_s, used in points:
        last[time_s] = used  # several changes at one instant: the last is the level from then on
    times = np.fromiter(last, float)
    used = np.fromiter(last.values(), float)
    return np.append(times, max(end_s, times[-1])), np.append(used, used[-1])


def _bin_max(times: np.ndarray, used: np.ndarray, end_s: float, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Per equal window of the run, the most in use during it: the larger of the level at the
    window's start and every level set inside it."""
    edges = np.linspace(0.0, max(end_s, times[-1]), bins + 1)
    index = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, bins - 1)
    top = np.zeros(bins)
    np.maximum.at(top, index, used)
    before = np.searchsorted(times, edges[:-1], side="right") - 1
    top = np.maximum(top, np.where(before >= 0, used[np.clip(before, 0, None)], 0.0))
    return edges, np.append(top, top[-1])
