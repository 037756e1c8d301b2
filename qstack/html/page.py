"""One self-contained HTML page: headings, notes, tables and Plotly figures, every script inlined.

The page holds plotly.js once, inlined in a ``<script>`` element, and each figure as a ``<div>``
drawn by its own inline script (``Plotly.newPlot``), so the file opens offline and makes no
network request. Figure ids are numbered in order, so the same figures give the same page.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from qstack.metrics import num

#: Figure options: no Plotly logo or cloud links (nothing on the page points off the page).
FIGURE_CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False}

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1280px;
       padding: 0 1.2em 3em; color: #222; }
h1 { font-size: 1.5em; margin-top: 1em; } h2 { font-size: 1.2em; margin-top: 1.8em;
     border-bottom: 1px solid #ddd; padding-bottom: .2em; }
nav a { margin-right: 1em; } .note { color: #555; font-size: .92em; } .warn { color: #a40; font-weight: 600; }
table { border-collapse: collapse; font-size: .88em; margin: .5em 0; }
th, td { border: 1px solid #ddd; padding: .2em .6em; text-align: right; } th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
pre { background: #f7f7f7; padding: .8em; overflow: auto; font-size: .85em; max-height: 36em; }
.row { display: grid; gap: 1em; }
.row > div { min-width: 0; }
.figure { margin: .4em 0 1em; }
"""


@dataclass
class Page:
    """A page built in order; :meth:`render` gives the HTML text, :meth:`write` the file."""

    title: str
    parts: list[str] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)  # (anchor, heading) for the contents
    figures: int = 0

    def section(self, heading: str) -> None:
        anchor = f"s{len(self.sections) + 1}"
        self.sections.append((anchor, heading))
        self.parts.append(f'<h2 id="{anchor}">{html.escape(heading)}</h2>')

    def note(self, text: str, warn: bool = False) -> None:
        self.parts.append(f'<p class="{"warn" if warn else "note"}">{html.escape(text)}</p>')

    def figure_html(self, figure: go.Figure, height_px: int | None = None) -> str:
        """One figure's ``<div>`` and inline drawing script (counted in :attr:`figures`)."""
        self.figures += 1
        if height_px is not None:
            figure.update_layout(height=height_px)
        figure.update_layout(template="plotly_white")
        if figure.layout.margin.t is None:
            figure.update_layout(margin=dict(l=60, r=30, t=50, b=50))
        body = figure.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False,
                              div_id=f"figure-{self.figures}", config=FIGURE_CONFIG)
        return f'<div class="figure">{body}</div>'

    def figure(self, figure: go.Figure, height_px: int | None = None) -> None:
        self.parts.append(self.figure_html(figure, height_px))

    def side_by_side(self, *figures: go.Figure, height_px: int | None = None) -> None:
        # The columns are fixed before the cells are parsed: each figure is drawn by its inline
        # script as soon as it is read, at the width its cell has then.
        cells = "".join(f"<div>{self.figure_html(f, height_px)}</div>" for f in figures)
        self.parts.append(f'<div class="row" style="grid-template-columns: repeat({len(figures)}, minmax(0, 1fr))">'
                          f'{cells}</div>')

    def table(self, headers: Sequence[str], rows: Sequence[Sequence], caption: str | None = None) -> None:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows)
        title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self.parts.append(f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def json_block(self, value) -> None:
        self.parts.append(f"<pre>{html.escape(json.dumps(value, indent=2, default=str))}</pre>")

    def render(self) -> str:
        contents = "".join(f'<a href="#{a}">{html.escape(h)}</a>' for a, h in self.sections)
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style>"
            f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
            f"<h1>{html.escape(self.title)}</h1><nav>{contents}</nav>" + "\n".join(self.parts) + "</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the page to ``path`` (parent folders created); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render(), encoding="utf-8")
        return path


def _cell(value) -> str:
    if isinstance(value, bool) or value is None:
        return "n/a" if value is None else str(value)
    if isinstance(value, float):
        return num(value)
    return str(value)
