"""Sections -> one self-contained HTML page: plotly.js inlined once, every figure a div that uses it, no URL
outside the file (no CDN, no MathJax, no fonts to fetch)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import plotly.graph_objects as go

PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f7fa;color:#222}
header{background:#1f2d3d;color:#fff;padding:16px 28px}header h1{margin:0;font-size:1.5em}
header p{margin:4px 0 0;opacity:.8}main{padding:8px 28px 40px}
section{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:18px 0;padding:12px 18px}
section h2{margin:4px 0 6px;font-size:1.15em}.desc{color:#555;margin:0 0 8px;font-size:.9em}
.missing{background:#fff4e5;border-left:4px solid #f0a030;padding:10px 14px;font-family:monospace}
.source{color:#888;font-size:.8em;margin-top:4px}
"""


@dataclass
class Section:
    """One block of the page: its chart, or the notes that say why there is none (`not built yet: run ...`)."""

    key: str
    title: str
    description: str
    figure: go.Figure | None = None
    missing: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def rendered(self) -> bool:
        return self.figure is not None


def _section_html(section: Section) -> str:
    parts = [
        f'<section id="{section.key}" class="dash-section" data-section="{section.key}" '
        f'data-rendered="{str(section.rendered).lower()}">',
        f"<h2>{html.escape(section.title)}</h2>",
        f'<p class="desc">{html.escape(section.description)}</p>',
    ]
    if section.figure is not None:
        parts.append(
            section.figure.to_html(
                full_html=False,
                include_plotlyjs=False,
                include_mathjax=False,
                div_id=f"fig-{section.key}",
                config=PLOT_CONFIG,
            )
        )
    parts += [f'<div class="missing">{html.escape(note)}</div>' for note in section.missing]
    if section.sources:
        parts.append(f'<div class="source">read: {html.escape("; ".join(section.sources))}</div>')
    parts.append("</section>")
    return "\n".join(parts)


def render_page(sections: list[Section], *, title: str, subtitle: str) -> str:
    """The whole page: the plotly.js bundle once in the head, then every section."""
    from plotly.offline import get_plotlyjs

    body = "\n".join(_section_html(s) for s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head>\n<body>'
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>\n<main>\n{body}\n</main>"
        "</body></html>\n"
    )
