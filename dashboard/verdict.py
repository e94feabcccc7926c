"""Which model is best on a set, by one stated rule, and where every model stands
between the gray and ground-truth rows on each metric. Plain pandas, no Streamlit."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .labels import LABELS, REWARDS
from .loaders import FRECHET_COLUMN, GRAY, GROUND_TRUTH, HIGHER_BETTER, REFERENCE_ROWS, SEMANTIC_COLUMN

# The metrics the verdict counts: those with a better direction that score quality
# (the evaluation's seconds per image is a shared-CPU timing, not a quality).
QUALITY = ("psnr", "ssim", "auc", "auc_rebal", "delta_cf", SEMANTIC_COLUMN, FRECHET_COLUMN)
RULE = ("Rule: each model is ranked among the models on each of the {n} quality metrics below (ties share "
        "the mean rank); the best model has the lowest sum of ranks, ties broken by semantic agreement. "
        "Speed is not counted.")


def _quality(df: pd.DataFrame) -> list[str]:
    return [c for c in QUALITY if c in df.columns and pd.to_numeric(df[c], errors="coerce").notna().any()]


def _models(df: pd.DataFrame) -> pd.DataFrame:
    return df[~df["model"].isin(REFERENCE_ROWS)].set_index("model")


def ranks(df: pd.DataFrame) -> pd.DataFrame:
    """model x quality metric ranks (1 = best among the models), with 'rank sum',
    best first."""
    m = _models(df)
    cols = _quality(df)
    out = pd.DataFrame(index=m.index)
    for c in cols:
        v = pd.to_numeric(m[c], errors="coerce")
        out[c] = v.rank(ascending=c not in HIGHER_BETTER, method="average", na_option="bottom")
    out["rank sum"] = out[cols].sum(axis=1)
    tie = -pd.to_numeric(m[SEMANTIC_COLUMN], errors="coerce").fillna(-np.inf) if SEMANTIC_COLUMN in m else 0
    return out.assign(_tie=tie).sort_values(["rank sum", "_tie"]).drop(columns="_tie")


def _ref(df: pd.DataFrame, row: str, c: str) -> float:
    v = pd.to_numeric(df.loc[df["model"] == row, c], errors="coerce")
    return float(v.iloc[0]) if len(v) else math.nan


def standings(df: pd.DataFrame) -> pd.DataFrame:
    """model x metric: how far each model got from gray (0) towards the ground truth
    (1). PSNR, whose ground truth is infinite, is the dB gained over gray instead;
    colourfulness is the share of the truth's. Negative: worse than gray."""
    m = _models(df)
    out = pd.DataFrame(index=m.index)
    for c in _quality(df) + [c for c in ("colorfulness",) if c in df.columns]:
        v = pd.to_numeric(m[c], errors="coerce")
        gray, truth = _ref(df, GRAY, c), _ref(df, GROUND_TRUTH, c)
        if not math.isfinite(gray):
            continue
        if not math.isfinite(truth) or truth == gray:
            out[c] = v - gray  # PSNR: dB over gray
        else:
            out[c] = (v - gray) / (truth - gray)
    return out.reindex(ranks(df).index)


def is_gap(df: pd.DataFrame, column: str) -> bool:
    """Whether standings() gives a share of the gray-to-truth gap (else a difference)."""
    gray, truth = _ref(df, GRAY, column), _ref(df, GROUND_TRUTH, column)
    return math.isfinite(gray) and math.isfinite(truth) and truth != gray


def gray_beats(df: pd.DataFrame) -> dict[str, int]:
    """metric -> how many models score worse than gray on it."""
    s = standings(df)
    return {c: int((s[c] < 0).sum()) for c in s.columns if c in QUALITY}


def _names(cols) -> str:
    names = [LABELS.get(c, c) for c in cols]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def summary(df: pd.DataFrame, set_name: str, primary: bool) -> list[str] | None:
    """Markdown lines: the winner and why, then one line per metric where gray beats
    at least half of the models. None when no model was scored."""
    r = ranks(df)
    if r.empty:
        return None
    cols = [c for c in r.columns if c != "rank sum"]
    best = r.index[0]
    s = standings(df).loc[best]
    wins = [c for c in cols if r.loc[best, c] == r[c].min()]
    above = [c for c in cols if c in s.index and s[c] > 0]
    which = "the primary set" if primary else "not the primary set"
    line = f"**{best}** is the best model on `{set_name}` ({which}): rank sum {r.loc[best, 'rank sum']:g}"
    if len(r) > 1:
        line += f", next {r.index[1]} with {r.iloc[1]['rank sum']:g}"
    line += f". It is best of {len(r)} on {_names(wins) if wins else 'no single metric'}"
    line += f" and better than gray on {len(above)} of {len(cols)}."
    lines = [line]
    for c, n in gray_beats(df).items():
        if n and n * 2 >= len(r):
            lines.append(f"Gray beats {n} of {len(r)} models on {LABELS.get(c, c)}. {REWARDS[c]}")
    return lines


# --------------------------------------------------------------------------
# Colour hints (results/hints/, issue 20's targets)

# (hint count, PSNR gain over no hints in dB, whether the gain may equal it)
HINT_TARGETS = ((1, 0.0, False), (10, 1.5, True))
LEAK_TARGET = 0.10  # the edge check's leak must stay below this share
MET, MISSED, UNMEASURED = "met", "missed", "not measured"


def _status(value: float, ok: bool) -> str:
    return UNMEASURED if not math.isfinite(value) else MET if ok else MISSED


def leak_status(leak: float) -> str:
    """One edge scene (or a model's worst) against LEAK_TARGET."""
    return _status(leak, leak < LEAK_TARGET)


def hint_targets(curve: pd.DataFrame, edges: pd.DataFrame | None) -> pd.DataFrame:
    """One row per (model, target): what it asks, what was measured, met / missed /
    not measured (a count that was not scored, or no edges.csv)."""
    models = list(dict.fromkeys([*curve["model"], *(edges["model"] if edges is not None else [])]))
    rows = []
    for model in models:
        gains = curve.loc[curve["model"] == model].set_index("hints")["psnr_gain"]
        for n, least, inclusive in HINT_TARGETS:
            g = float(gains.get(n, math.nan))
            ask = (f"PSNR with {n} hint{'s' if n > 1 else ''} "
                   + (f"≥ {least:g} dB above no hints" if inclusive else "above no hints"))
            rows.append({"model": model, "target": ask, "measured": f"{g:+.2f} dB" if math.isfinite(g) else "–",
                         "status": _status(g, g >= least if inclusive else g > least)})
        leak = edges.loc[edges["model"] == model, "leak"].dropna() if edges is not None else pd.Series(dtype=float)
        worst = float(leak.max()) if len(leak) else math.nan
        scenes = f" (worst of {len(leak)} scenes)" if len(leak) else ""
        rows.append({"model": model, "target": f"edge leak < {LEAK_TARGET:.0%}{scenes}",
                     "measured": f"{worst:.1%}" if math.isfinite(worst) else "–",
                     "status": leak_status(worst)})
    return pd.DataFrame(rows, columns=["model", "target", "measured", "status"])


def hint_gains(per_image: pd.DataFrame, n: int) -> pd.DataFrame:
    """model, image, psnr_gain: each photo's PSNR with n hints minus with none."""
    p = per_image.pivot_table(index=["model", "image"], columns="hints", values="psnr", aggfunc="mean")
    if 0 not in p.columns or n not in p.columns:
        return pd.DataFrame(columns=["model", "image", "psnr_gain"])
    return (p[n] - p[0]).rename("psnr_gain").dropna().reset_index()


def gain_spread(gains: pd.DataFrame) -> pd.DataFrame:
    """Per model: photos, median and 10th-percentile gain, the share that got worse."""
    g = gains.groupby("model", sort=False)["psnr_gain"]
    return pd.DataFrame({"images": g.size(), "median_gain": g.median(), "p10_gain": g.quantile(0.1),
                         "share_worse": g.apply(lambda v: float((v < 0).mean()))}).reset_index()


def hint_summary(targets: pd.DataFrame) -> list[str]:
    """Markdown, one line per model: all targets met, or which were missed / not measured."""
    lines = []
    for model, t in targets.groupby("model", sort=False):
        met = int((t["status"] == MET).sum())
        line = f"**{model}**: " + (f":green[**all {met} targets met**]" if met == len(t) else
                                   f"{met} of {len(t)} targets met")
        for status, colour in ((MISSED, "red"), (UNMEASURED, "gray")):
            rows = t[t["status"] == status]
            if len(rows):
                line += f"; :{colour}[**{status}**]: " + "; ".join(f"{r.target} ({r.measured})"
                                                                   for r in rows.itertuples())
        lines.append(line + ".")
    return lines
