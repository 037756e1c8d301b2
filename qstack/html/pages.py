"""The three pages: one run (``qstack run --html``), physical against idealised
(``qstack compare --html``) and a sweep (``qstack sweep --html``)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

import qstack
from qstack.report import Report
from qstack.sweep import load_results, load_sweep, metric_value

from .capture import RunCapture
from .figures import colour, fidelity_figure, latency_figure, occupancy_figure, throughput_figure, topology_figure
from .page import Page
from .timeline import timeline

#: Metrics a sweep page draws unless told otherwise.
SWEEP_METRICS = ("throughput_hz", "fidelity.mean", "latency_s.mean")


# ---------------------------------------------------------------------- one run
def run_page(capture: RunCapture) -> Page:
    """Every part of one run: summary, topology, timeline, per-request figures, occupancy,
    PoS and QoMQ tables, and the scenario with its overrides, seed, version and wall time."""
    page = Page(f"qstack run: {capture.scenario.source}")
    report = capture.report
    page.section("summary")
    _warnings(page, report)
    page.table(["", "value"], _summary_rows(report))
    _topology(page, [capture])
    _timeline(page, capture)
    page.section("requests")
    page.figure(latency_figure(report))
    page.side_by_side(fidelity_figure(report, capture.topology.min_fidelity), throughput_figure(report))
    _request_table(page, report)
    _occupancy(page, capture)
    _tables(page, report)
    _scenario(page, capture)
    return page


def _warnings(page: Page, report: Report) -> None:
    if not report.complete:
        page.note(f"INCOMPLETE: {report.delivered} of {report.pairs_requested} requested pairs delivered"
                  + (f" (the run stopped at max_time_s, {report.sim_time_s:.4g} s)" if report.stopped_at_max_time else ""),
                  warn=True)
    low = sum(row.pairs_at_or_below_half for row in report.requests)
    if low:
        page.note(f"WARNING: {low} pairs at fidelity <= 1/2 (no better than classical for teleportation)", warn=True)


def _summary_rows(report: Report) -> list[tuple]:
    fid, lat = report.fidelity, report.latency_s
    return [
        ("delivered pairs", f"{report.delivered} of {report.pairs_requested}"),
        ("throughput [pairs/s]", report.throughput_hz),
        ("fidelity mean / std / min", f"{_n(fid.mean)} / {_n(fid.std)} / {_n(fid.min)}"),
        ("latency mean / p50 / p95 [s]", f"{_n(lat.mean)} / {_n(lat.p50)} / {_n(lat.p95)}"),
        ("simulated time [s]", report.sim_time_s),
        ("wall time [s]", report.wall_time_s),
        ("seed", report.seed),
        ("qstack version", qstack.__version__),
    ]


def _n(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.4g}"


def _topology(page: Page, captures: Sequence[RunCapture]) -> None:
    page.section("topology")
    page.note("Nodes by hardware preset; links coloured by the run's rate of stored pairs (left) and by their "
              "model's mean heralded fidelity (right); each request's route dashed. Hover for values.")
    for capture in captures:
        if len(captures) > 1:
            page.note(capture.label)
        page.side_by_side(topology_figure(capture.topology, "rate"), topology_figure(capture.topology, "fidelity"),
                          height_px=420)


def _timeline(page: Page, capture: RunCapture, heading: str = "timeline") -> None:
    page.section(heading)
    view = capture.topology
    shown = timeline(capture.recorder, [k.name for k in view.links], [n.name for n in view.nodes], list(view.routes))
    page.note("Per link: attempts (one span per generation, fast-forwarded), heralds and stored pairs; per node: "
              "stored qubits with their age (one lane per slot in use), cut-off discards, moves, swaps and "
              "purification rounds; per request: deliveries coloured by fidelity. Legend entries toggle.")
    if shown.note:
        page.note(shown.note, warn=True)
    page.figure(shown.figure)


def _request_table(page: Page, report: Report) -> None:
    headers = ["request", "delivered", "requested", "mean F", ">= min F", "cut-off discards", "extraction failures",
               "finished [s]"]
    page.table(headers, [(r.request, r.delivered, r.pairs_requested, r.mean_fidelity, r.meeting_min_fidelity,
                          r.cutoff_discards, r.extraction_failures, r.finished_s) for r in report.requests])


def _occupancy(page: Page, capture: RunCapture) -> None:
    page.section("occupancy")
    figure, thinned = occupancy_figure(capture.recorder, capture.report.sim_time_s,
                                       [n.name for n in capture.topology.nodes])
    if thinned:
        page.note("Long curves are drawn from per-window maxima (the most in use in each window).", warn=True)
    page.figure(figure, height_px=520)


def _tables(page: Page, report: Report) -> None:
    page.section("probability of success (PoS)")
    page.table(["component", "value"], list(report.pos.items()))
    page.section("quality of matter qubits (QoMQ)")
    rows = [asdict(q) for q in report.qomq]
    if rows:
        page.table(list(rows[0]), [list(row.values()) for row in rows])
    page.section("links")
    links = [asdict(row) for row in report.links]
    if links:
        page.table(list(links[0]), [list(row.values()) for row in links])


def _scenario(page: Page, capture: RunCapture) -> None:
    page.section("scenario")
    report = capture.report
    page.table(["", "value"], [("source", capture.scenario.source), ("seed", report.seed),
                               ("qstack version", qstack.__version__), ("wall time [s]", report.wall_time_s),
                               ("simulated time [s]", report.sim_time_s),
                               ("idealised", ", ".join(capture.scenario.idealize) or "nothing")])
    overrides = dict(report.scenario.get("hardware", {}).get("overrides", {}))
    if capture.settings:
        page.table(["--set key", "value"], sorted((k, repr(v)) for k, v in capture.settings.items()),
                   caption="settings given on the command line")
    page.table(["hardware override", "value"], sorted((k, repr(v)) for k, v in overrides.items()) or [("none", "")],
               caption="hardware overrides of the scenario")
    page.note("The resolved scenario, every key (the same as the JSON report's \"scenario\"):")
    page.json_block(dict(report.scenario))


# ---------------------------------------------------------------------- physical against idealised
def compare_page(physical: RunCapture, idealized: RunCapture, comparison: dict | None = None) -> Page:
    """Physical and idealised runs side by side; ``comparison``: ``IdealizedComparison.to_dict()``
    for the one-assumption-at-a-time columns."""
    page = Page(f"qstack compare: {physical.scenario.source}")
    page.section("summary")
    page.note(f"The idealised run switches off: {', '.join(idealized.scenario.idealize)}.")
    each = (comparison or {}).get("each") or {}
    headers = ["", physical.label, idealized.label, "idealised / physical", *each]
    rows = []
    for key, label in (("throughput_hz", "throughput [pairs/s]"), ("fidelity.mean", "fidelity (mean)"),
                       ("latency_s.mean", "latency (mean) [s]"), ("delivered", "delivered pairs")):
        real, ideal = _metric(physical.report, key), _metric(idealized.report, key)
        ratio = ideal / real if real not in (None, 0) and ideal is not None else None
        rows.append((label, real, ideal, ratio, *[_each(run, key) for run in each.values()]))
    page.table(headers, rows)
    if each:
        page.note("The last columns switch off one assumption at a time.")
    _topology(page, [physical, idealized])
    for capture in (physical, idealized):
        _timeline(page, capture, heading=f"timeline: {capture.label}")
    page.section("requests, side by side")
    for make in (latency_figure, throughput_figure):
        page.side_by_side(*[_titled(make(c.report), c.label) for c in (physical, idealized)])
    page.side_by_side(*[_titled(fidelity_figure(c.report, c.topology.min_fidelity), c.label)
                        for c in (physical, idealized)])
    page.section("occupancy, side by side")
    figures = [occupancy_figure(c.recorder, c.report.sim_time_s, [n.name for n in c.topology.nodes])[0]
               for c in (physical, idealized)]
    page.side_by_side(*[_titled(f, c.label) for f, c in zip(figures, (physical, idealized))], height_px=520)
    page.section("PoS and QoMQ, side by side")
    keys = list(dict.fromkeys([*physical.report.pos, *idealized.report.pos]))
    page.table(["component", physical.label, idealized.label],
               [(k, physical.report.pos.get(k), idealized.report.pos.get(k)) for k in keys])
    for capture in (physical, idealized):
        rows = [asdict(q) for q in capture.report.qomq]
        page.table(list(rows[0]), [list(r.values()) for r in rows], caption=f"QoMQ: {capture.label}")
    _scenario(page, physical)
    page.note(f"Idealised run: the same scenario with idealize = {list(idealized.scenario.idealize)}.")
    return page


def _metric(report: Report, key: str):
    value = {"throughput_hz": report.throughput_hz, "fidelity.mean": report.fidelity.mean,
             "latency_s.mean": report.latency_s.mean, "delivered": report.delivered}[key]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _each(run: dict, key: str):
    return run.get(key.split(".")[0])


def _titled(figure: go.Figure, label: str) -> go.Figure:
    title = figure.layout.title.text or ""
    return figure.update_layout(title=f"{label}: {title}")


# ---------------------------------------------------------------------- a sweep
def sweep_page(out_dir: str | Path, metrics: Sequence[str] = SWEEP_METRICS) -> Page:
    """Each metric against each swept parameter: the mean over seeds with error bars (the
    standard error of the mean, ``std / sqrt(n)``, ``n`` the seeds of the point), one curve per
    setting of the other parameters."""
    sweep = load_sweep(out_dir)
    records = load_results(out_dir)
    params = sweep["params"]
    page = Page(f"qstack sweep: {sweep.get('scenario', out_dir)}")
    page.section("sweep")
    ok = [r for r in records if r["status"] == "ok"]
    page.table(["", "value"], [("scenario", sweep.get("scenario")), ("parameters", ", ".join(params)),
                               ("seeds", ", ".join(map(str, sweep.get("seeds", [])))),
                               ("points run", len(records)), ("failed", len(records) - len(ok)),
                               ("qstack version", qstack.__version__)])
    if sweep.get("settings"):
        page.table(["--set key", "value"], sorted((k, repr(v)) for k, v in sweep["settings"].items()))
    for metric in metrics:
        page.section(metric)
        figures = [_sweep_figure(ok, params, key, metric) for key in params]
        page.side_by_side(*figures, height_px=420)
    return page


def _sweep_figure(records: list[dict], params: dict, key: str, metric: str) -> go.Figure:
    others = [k for k in params if k != key]
    groups = defaultdict(lambda: defaultdict(list))  # other settings -> value -> metric over seeds
    for record in records:
        try:
            value = metric_value(record, metric)
        except KeyError:
            continue
        if value is None:
            continue
        rest = tuple((k, _label(record["params"].get(k))) for k in others)
        groups[rest][_label(record["params"].get(key))].append(float(value))
    order = [_label(v) for v in params[key]]
    fig = go.Figure()
    for i, (rest, by_value) in enumerate(groups.items()):
        xs = [v for v in order if v in by_value]
        means = [float(np.mean(by_value[v])) for v in xs]
        errors = [float(np.std(by_value[v], ddof=1) / math.sqrt(len(by_value[v]))) if len(by_value[v]) > 1 else 0.0
                  for v in xs]
        counts = [len(by_value[v]) for v in xs]
        name = ", ".join(f"{k}={v}" for k, v in rest) or metric
        fig.add_trace(go.Scatter(x=xs, y=means, mode="lines+markers", name=name, line=dict(color=colour(i)),
                                 error_y=dict(type="data", array=errors, visible=True), customdata=counts,
                                 hovertemplate=f"{key}=%{{x}}<br>{metric} %{{y:.4g}} ± %{{error_y.array:.2g}}"
                                               "<br>%{customdata} seeds<extra></extra>"))
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in params[key])
    fig.update_xaxes(title_text=key, type="linear" if numeric else "category")
    fig.update_layout(title=f"{metric} against {key} (mean ± s.e. over seeds)", yaxis_title=metric)
    return fig


def _label(value):
    """A parameter value as an axis position: numbers as they are, anything else as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value)
