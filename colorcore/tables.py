"""Numbers as text, in one place: the CSV cells of results/, the figures in the
model cards, and the aligned tables the commands print. No torch here."""
from __future__ import annotations

import math


def csv_value(v) -> str:
    """A results CSV cell: floats to 6 significant digits, NaN empty, infinities spelled."""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.6g}"
    return str(v)


def display_number(v) -> str:
    """A figure for people (cards): 3 decimals under 10, 2 above; '-' for nothing."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v) if v not in (None, "") else "-"
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.2f}"


def text_table(columns: list[str], rows: list[list]) -> str:
    """Columns padded to their widest cell, two spaces apart; cells given as text,
    or as numbers (4 significant digits)."""
    cells = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)
