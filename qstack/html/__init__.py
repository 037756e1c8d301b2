"""Self-contained HTML reports of runs, comparisons and sweeps (``--html FILE``).

One file per page, every script and style inlined, so it opens offline: plotly.js is embedded
once and each figure (zoom, pan, hover values) is drawn by an inline script. Built with Plotly
(``pip install qstack[html]``): its figures are plain JSON specs built in Python, its
``to_html`` and bundled plotly.js make a page without a server or a build step, and zoom and
hover need no code of ours.

- :mod:`.capture`: a run with its recorder and a view of its topology (:class:`RunCapture`);
- :mod:`.figures`: topology, latency breakdown, fidelity histogram, throughput, occupancy;
- :mod:`.timeline`: the per-node and per-link timeline, bounded for long runs;
- :mod:`.page`: the page (inlined plotly.js, sections, tables, figures);
- :mod:`.pages`: the run, compare and sweep pages.
"""

from .capture import LinkView, NodeView, RunCapture, TopologyView, capture_run
from .page import Page
from .pages import SWEEP_METRICS, compare_page, run_page, sweep_page
from .timeline import MAX_TIMELINE_EVENTS, Timeline, timeline

__all__ = [
    "LinkView", "MAX_TIMELINE_EVENTS", "NodeView", "Page", "RunCapture", "SWEEP_METRICS", "Timeline",
    "TopologyView", "capture_run", "compare_page", "run_page", "sweep_page", "timeline",
]
