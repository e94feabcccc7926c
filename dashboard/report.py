"""The comparison on the metrics page as one self-contained HTML file: text, tables
and Plotly figures with plotly.js inlined, so that it opens offline (nothing is
fetched: no CDN, no MathJax, no fonts). No Streamlit."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pandas as pd
import plotly.graph_objects as go

from .labels import rename

# Each figure draws at its column's width as its script runs, before the next one is
# in the page: a grid's auto-fill columns exist from the start (a flex row would give
# the first figure the whole row).
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px;
       padding: 0 1rem; color: #222; }
h1 { font-size: 1.7rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.caption { color: #666; font-size: 0.85rem; } code { background: #f3f3f3; padding: 0 0.2rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1rem; }
.figures > div { min-width: 0; }
"""


def inline_markdown(text: str) -> str:
    """The little markdown the pages use (**bold**, `code`), as HTML."""
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def table_html(table) -> str:
    """A DataFrame (its columns labelled here) or a labelled pandas Styler (its
    formats and colours kept) as an HTML table."""
    if isinstance(table, pd.DataFrame):
        return rename(table).to_html(index=False, na_rep="–", border=0)
    return table.hide(axis="index").to_html()


def figure_html(fig: go.Figure) -> str:
    # The figure fills its column (a fixed width would overflow it), at its own height.
    return fig.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False, default_width="100%",
                       default_height=f"{fig.layout.height or 450}px",
                       config={"displaylogo": False, "responsive": True})


def build(title: str, sections: list[dict]) -> str:
    """sections: dicts with 'heading' and any of 'lines' (markdown), 'table' (a
    DataFrame or Styler), 'caption' (markdown), 'figures' (Plotly figures)."""
    from plotly.offline import get_plotlyjs

    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p class='caption'>Exported from the colorcore dashboard, "
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.</p>"]
    for s in sections:
        body.append(f"<h2>{html.escape(s['heading'])}</h2>")
        body += [f"<p>{inline_markdown(line)}</p>" for line in s.get("lines", [])]
        if s.get("table") is not None:
            body.append(table_html(s["table"]))
        if s.get("caption"):
            body.append(f"<p class='caption'>{inline_markdown(s['caption'])}</p>")
        if s.get("figures"):
            body.append("<div class='figures'>" + "".join(f"<div>{figure_html(f)}</div>" for f in s["figures"])
                        + "</div>")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style><script type='text/javascript'>{get_plotlyjs()}</script></head>"
            f"<body>{''.join(body)}</body></html>\n")
