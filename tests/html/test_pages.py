"""The HTML pages, opened offline in headless Chromium: no console message, every figure drawn,
every part of the issue present; screenshots saved in the test's temporary folder."""

import html
import re

import pytest

from qstack.cli import main
from qstack.html import capture_run, compare_page
from qstack.scenario import load_scenario

RUN_TITLES = ("topology: links by rate of stored pairs", "topology: links by mean heralded fidelity", "timeline",
              "latency breakdown per request", "delivered fidelity against min_fidelity", "throughput over time",
              "occupancy per node", "memory slots in use", "communication qubits in use")
RUN_SECTIONS = ("summary", "topology", "timeline", "requests", "occupancy", "probability of success (PoS)",
                "quality of matter qubits (QoMQ)", "scenario")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The four kinds of page, made as a user makes them (the CLI), the compare page from the API."""
    out = tmp_path_factory.mktemp("pages")
    made = {"run": out / "run.html", "star": out / "star.html", "sweep": out / "sweep.html",
            "compare": out / "compare.html"}
    assert main(["run", "--html", str(made["run"]), "--set", "requests.0.pairs=8"]) == 0
    assert main(["run", "scenarios/star_schedulers.toml", "--html", str(made["star"])]) == 0
    assert main(["sweep", "--param", "link.bright_state_population=0.05,0.1", "--seeds", "2", "--in-process",
                 "--set", "requests.0.pairs=3", "--out", str(out / "sweep"), "--html", str(made["sweep"])]) == 0
    settings = {"requests.0.pairs": 5}
    physical = capture_run(load_scenario(None, settings=settings), settings, label="physical")
    ideal = capture_run(load_scenario(None, settings={**settings, "idealize": ["decoherence", "loss"]}), settings,
                        label="idealised")
    compare_page(physical, ideal).write(made["compare"])
    return made


def _figures(dom: str) -> list[str]:
    """Each figure's part of the DOM, from its div to the next figure's."""
    starts = [m.start() for m in re.finditer(r'<div id="figure-\d+"', dom)]
    return [dom[a:b] for a, b in zip(starts, starts[1:] + [len(dom)])]


def _check_drawn(loaded, figures: int) -> None:
    assert loaded.console == []
    parts = _figures(loaded.dom)
    assert len(parts) == figures
    for part in parts:
        assert "js-plotly-plot" in part.split(">", 1)[0]  # Plotly took the div
        assert 'class="main-svg"' in part  # and drew its SVG
        assert re.search(r'class="(trace|bars|scatterlayer)', part)
    assert loaded.screenshot.stat().st_size > 20_000


@pytest.mark.parametrize("name", ["run", "star", "sweep", "compare"])
def test_pages_are_self_contained(pages, name):
    text = pages[name].read_text()
    assert not re.search(r"<script[^>]+src=", text)  # every script inlined (plotly.js among them)
    markup = re.sub(r"<script\b.*?</script>", "", text, flags=re.S)  # plotly.js holds links it never follows
    assert not re.search(r"<link\b|<iframe|<img\b", markup)
    assert not re.search(r'(src|href)="(https?:)?//', markup)
    assert text.count("<script") >= 2


def test_run_pages_draw_every_part_without_console_errors(pages, browser):
    for name in ("run", "star"):
        loaded = browser(pages[name])
        _check_drawn(loaded, figures=7)
        for title in RUN_TITLES:
            assert title in loaded.dom, title
        for section in RUN_SECTIONS:
            assert f">{html.escape(section)}</h2>" in loaded.dom, section
    star = loaded.dom
    for row in ("link n0-n1", "n0 memory", "n0 operations", "request qkd", "route qkd", "trapped_ion"):
        assert row in star, row
    assert "swap" in star and "delivery (colour: fidelity)" in star
    assert "INCOMPLETE" in star  # the scenario stops at max_time_s with pairs missing, and the page says so


def test_compare_page_shows_both_runs(pages, browser):
    loaded = browser(pages["compare"])
    _check_drawn(loaded, figures=4 + 2 + 2 * 3 + 2)  # topology x2 each, two timelines, 3 pairs, occupancy
    assert "physical: latency breakdown" in loaded.dom and "idealised: latency breakdown" in loaded.dom
    assert "timeline: physical" in loaded.dom and "timeline: idealised" in loaded.dom


def test_sweep_page_draws_each_metric_against_each_parameter(pages, browser):
    loaded = browser(pages["sweep"])
    _check_drawn(loaded, figures=3)
    assert "throughput_hz against link.bright_state_population" in loaded.dom
    assert 'class="errorbars"' in loaded.dom or "errorbar" in loaded.dom
