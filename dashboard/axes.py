"""Axis helpers for the Plotly figures: readable log-scale ticks and a value axis
zoomed to the data. No Streamlit."""
from __future__ import annotations

import math

import numpy as np


def tick_text(v: float) -> str:
    """0.5, 0.05, 20, 1000 as written; very small or large values as 1e−6."""
    if 1e-3 <= abs(v) < 1e5:
        return f"{v:g}"
    mantissa, exp = f"{v:.0e}".split("e")
    return f"{mantissa}e{'−' if exp.startswith('-') else ''}{int(exp[1:])}"


def log_ticks(lo: float, hi: float, max_ticks: int = 9) -> tuple[list[float], list[str]]:
    """Tick values and labels for a log axis over [lo, hi]: the finest of 1-1.5-2-3-
    4-5-6-8, 1-2-5, 1-3 or decade steps that gives at most max_ticks (Plotly's own
    minor labels read "5, 2" for 0.5 and 0.02)."""
    if not (lo > 0 and hi > 0 and math.isfinite(lo) and math.isfinite(hi)):
        return [], []
    lo, hi = min(lo, hi), max(lo, hi)
    values: list[float] = []
    for steps in ((1, 1.5, 2, 3, 4, 5, 6, 8), (1, 2, 5), (1, 3), (1,)):
        values = [m * 10.0 ** e for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
                  for m in steps if lo <= m * 10.0 ** e <= hi]
        if len(values) <= max_ticks:
            break
    if len(values) > max_ticks:  # many decades: every k-th one
        k = math.ceil(len(values) / max_ticks)
        values = values[::k]
    if len(values) < 2:  # a narrow span with no step in it: three inside it, to three digits
        values = [float(f"{v:.3g}") for v in np.geomspace(lo, hi, 5)[1:-1]]
    values = [float(f"{v:.12g}") for v in values]
    return values, [tick_text(v) for v in values]


def positive_span(values) -> tuple[float, float] | None:
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    return (float(v.min()), float(v.max())) if v.size else None


def apply_log_ticks(fig, values, axis: str = "y", pad: float = 1.25, **selector) -> None:
    """Put a log axis over the positive values with readable ticks."""
    span = positive_span(values)
    if span is None:
        return
    lo, hi = span[0] / pad, span[1] * pad
    vals, text = log_ticks(lo, hi)
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(type="log", range=[math.log10(lo), math.log10(hi)], tickvals=vals, ticktext=text, **selector)


def zoomed_range(values, pad: float = 0.12, head: float = 0.18) -> list[float] | None:
    """A value axis over the data, not from 0 (so that bars of 23.5 and 24.2 dB look
    different): pad below, more room above for the bars' labels."""
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    v = v[np.isfinite(v)]
    if not v.size:
        return None
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo or abs(hi) * 0.05 or 1.0
    return [lo - pad * span, hi + head * span]
