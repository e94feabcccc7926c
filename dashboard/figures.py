"""Figures and tables for the dashboard: plain numpy / pandas / Plotly, no Streamlit.

ab histograms are indexed [a bin, b bin] (as colorcore.evaluate writes them); the
figures draw a on the x axis and b on the y axis, so images are built as [b, a].
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from .axes import apply_log_ticks, tick_text, zoomed_range
from .labels import label
from .loaders import FRECHET_COLUMN, GRAY, GROUND_TRUTH, HIGHER_BETTER, LOWER_BETTER, REFERENCE_ROWS, SEMANTIC_COLUMN

PLANE_L = 65.0  # the lightness at which the ab plane's colours are drawn
BACKGROUND = (17, 17, 17)  # where a histogram has no mass
DENSITY_FLOOR = 1e-6  # log-density scale: from this share of pixels per cell to the maximum
# Distinct hues first (a run and its model share one); more models wrap around.
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22",
           "#7f7f7f"] + qualitative.Dark2
REFERENCE_COLOURS = {GROUND_TRUTH: "#111111", GRAY: "#9a9a9a"}


def chart_title(text: str, height: int) -> dict:
    """A left-aligned title placed under the chart toolbar that Streamlit draws at
    the top right of every Plotly chart (so that narrow charts keep it readable)."""
    return dict(text=text, x=0.01, xanchor="left", xref="container", y=1 - 34 / height, yref="container",
                yanchor="top", font=dict(size=14))


def colour_map(names) -> dict[str, str]:
    """A fixed colour per model (sorted names take the palette in turn) and fixed
    colours for the ground truth and the gray rows, so that pages agree."""
    models = sorted({str(n) for n in names} - set(REFERENCE_ROWS))
    out = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(models)}
    out.update(REFERENCE_COLOURS)
    return out


def base_model(label: str) -> str:
    """'lite0-unet (in progress)' -> 'lite0-unet'."""
    return label.split(" (")[0]


# --------------------------------------------------------------------------
# The ab plane

def ab_plane_rgb(centres: np.ndarray, L: float = PLANE_L) -> np.ndarray:
    """uint8 (n, n, 3): the sRGB colour of each ab cell at lightness L, indexed
    [b, a] (clipped into sRGB where (L, a, b) is outside it)."""
    import torch

    from colorcore.color import lab_to_rgb

    c = torch.as_tensor(np.asarray(centres, dtype=np.float64))
    b, a = torch.meshgrid(c, c, indexing="ij")
    lab = torch.stack([torch.full_like(a, float(L)), a, b])[None]
    rgb = lab_to_rgb(lab)[0].permute(1, 2, 0).numpy()
    return np.round(rgb * 255).astype(np.uint8)


def log_alpha(p: np.ndarray, floor: float = DENSITY_FLOOR, top: float | None = None) -> np.ndarray:
    """Opacity from log density: 0 where p == 0, from 0.15 (at or below floor) to
    1 (at top, default the maximum) in log10 steps elsewhere."""
    p = np.asarray(p, dtype=np.float64)
    out = np.zeros_like(p)
    pos = p > 0
    if not pos.any():
        return out
    hi = math.log10(max(p.max() if top is None else top, floor * 10))
    lo = math.log10(floor)
    out[pos] = 0.15 + 0.85 * np.clip((np.log10(p[pos]) - lo) / (hi - lo), 0, 1)
    return out


def density_image(hist2d: np.ndarray, plane: np.ndarray, floor: float = DENSITY_FLOOR,
                  background=BACKGROUND, top: float | None = None) -> np.ndarray:
    """uint8 (n, n, 3) indexed [b, a]: each cell in its own ab colour, as opaque as
    its log density; empty cells show the background."""
    alpha = log_alpha(np.asarray(hist2d).T, floor, top)[..., None]
    bg = np.asarray(background, dtype=np.float64)
    return np.round(alpha * plane + (1 - alpha) * bg).astype(np.uint8)


def _image_trace(img: np.ndarray, centres: np.ndarray, hist2d: np.ndarray | None = None, name: str = ""):
    step = float(centres[1] - centres[0]) if len(centres) > 1 else 1.0
    kwargs = {}
    if hist2d is not None:
        p = np.asarray(hist2d, dtype=np.float64).T
        with np.errstate(divide="ignore"):
            kwargs["customdata"] = np.where(p > 0, np.log10(np.where(p > 0, p, 1)), np.nan)[..., None]
        kwargs["hovertemplate"] = (f"{name}<br>a %{{x:.0f}}, b %{{y:.0f}}<br>log10 share %{{customdata[0]:.2f}}"
                                   "<extra></extra>")
    else:
        kwargs["hovertemplate"] = "a %{x:.0f}, b %{y:.0f}<extra></extra>"
    return go.Image(z=img, x0=float(centres[0]), dx=step, y0=float(centres[0]), dy=step, name=name, **kwargs)


def ab_extent(hists, centres: np.ndarray, floor: float = DENSITY_FLOOR, margin: float = 10.0,
              minimum: float = 40.0) -> float:
    """Half-width of a square view that holds every cell with a share above floor
    in any of the histograms, rounded up to 10 (at most the grid's own extent)."""
    c = np.asarray(centres, dtype=np.float64)
    top = float(np.abs(c).max()) + 0.5 * (float(c[1] - c[0]) if len(c) > 1 else 1.0)
    reach = 0.0
    for h in hists:
        a_idx, b_idx = np.nonzero(np.asarray(h) > floor)
        if len(a_idx):
            reach = max(reach, float(np.abs(c[a_idx]).max()), float(np.abs(c[b_idx]).max()))
    return float(min(top, max(minimum, 10 * math.ceil((reach + margin) / 10))))


def density_scale(floor: float, top: float, plane: np.ndarray, x: float = 1.02) -> go.Scatter:
    """An invisible trace that draws the colour bar of density_image: the opacity of
    a cell's own colour (here the neutral one) against the share of pixels in it."""
    mid = plane[plane.shape[0] // 2, plane.shape[1] // 2].astype(np.float64)
    bg = np.asarray(BACKGROUND, dtype=np.float64)
    stops = [(i / 4, 0.15 + 0.85 * i / 4) for i in range(5)]
    scale = [[t, "rgb(%d,%d,%d)" % tuple(np.round(a * mid + (1 - a) * bg))] for t, a in stops]
    lo, hi = math.log10(floor), math.log10(max(top, floor * 10))
    decades = list(range(math.ceil(lo), math.floor(hi) + 1))
    return go.Scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                      marker=dict(colorscale=scale, cmin=lo, cmax=hi, color=[lo], showscale=True,
                                  colorbar=dict(title=dict(text="share of<br>pixels<br>per cell", side="top"),
                                                tickvals=decades, ticktext=[tick_text(10.0 ** d) for d in decades],
                                                x=x, len=0.9, thickness=14)))


def _ab_axes(fig: go.Figure, n_cols: int, extent: float) -> None:
    for i in range(1, n_cols + 1):
        fig.update_xaxes(title_text="a  (green ← → red)", range=[-extent, extent], row=1, col=i,
                         zeroline=False, showgrid=False)
        fig.update_yaxes(title_text="b  (blue ← → yellow)" if i == 1 else None, range=[-extent, extent],
                         autorange=False, row=1, col=i, zeroline=False, showgrid=False,
                         scaleanchor=f"x{i if i > 1 else ''}", scaleratio=1)


def ab_histograms_figure(hists: dict[str, np.ndarray], centres: np.ndarray, plane: np.ndarray | None = None,
                         floor: float = DENSITY_FLOOR, extent: float | None = None) -> go.Figure:
    """Side by side, one panel per named 2-D ab histogram: each cell drawn in the
    colour it stands for, opacity = log10 density (floor .. max); black = no pixel."""
    plane = ab_plane_rgb(centres) if plane is None else plane
    names = list(hists)
    extent = ab_extent(hists.values(), centres, floor) if extent is None else extent
    # One opacity scale for all panels, so that one colour bar reads them all.
    top = max((float(np.max(h)) for h in hists.values()), default=1.0)
    fig = make_subplots(rows=1, cols=max(1, len(names)), subplot_titles=names, horizontal_spacing=0.06)
    fig.update_annotations(yshift=12, font=dict(size=15))
    for i, name in enumerate(names, start=1):
        fig.add_trace(_image_trace(density_image(hists[name], plane, floor, top=top), centres, hists[name], name),
                      row=1, col=i)
    fig.add_trace(density_scale(floor, top, plane), row=1, col=1)
    _ab_axes(fig, max(1, len(names)), extent)
    fig.update_layout(height=480, margin=dict(l=60, r=90, t=60, b=50), plot_bgcolor="rgb(%d,%d,%d)" % BACKGROUND)
    return fig


def ab_key_strip(centres: np.ndarray, axis: str, L: float = PLANE_L) -> np.ndarray:
    """uint8 (1, n, 3): the colours along the a axis (b = 0) or the b axis (a = 0)."""
    plane = ab_plane_rgb(centres, L)
    mid = int(np.argmin(np.abs(np.asarray(centres))))
    return plane[mid:mid + 1, :] if axis == "a" else plane[:, mid:mid + 1].transpose(1, 0, 2)


def marginals_figure(marginals: dict[str, tuple[np.ndarray, np.ndarray]], centres: np.ndarray,
                     colours: dict[str, str] | None = None, log_y: bool = True) -> go.Figure:
    """The a and b marginals of several rows overlaid (a left, b right), with a
    strip of the colours each axis stands for under it."""
    colours = colours or colour_map(marginals)
    fig = make_subplots(rows=2, cols=2, row_heights=[0.9, 0.1], shared_xaxes=True, vertical_spacing=0.02,
                        horizontal_spacing=0.08, subplot_titles=("a marginal", "b marginal", "", ""))
    for name, (a, b) in marginals.items():
        ref = name in REFERENCE_ROWS
        line = dict(color=colours.get(name), width=3 if name == GROUND_TRUTH else 1.8,
                    dash="dot" if name == GRAY else None)
        for col, values in ((1, a), (2, b)):
            fig.add_trace(go.Scatter(x=centres, y=values, name=name, legendgroup=name, showlegend=col == 1,
                                     mode="lines", line=line, opacity=1.0 if ref else 0.9,
                                     hovertemplate=f"{name}: %{{y:.2e}} at {'ab'[col - 1]} %{{x:.0f}}<extra></extra>"),
                          row=1, col=col)
    step = float(centres[1] - centres[0]) if len(centres) > 1 else 1.0
    for col, axis in ((1, "a"), (2, "b")):
        fig.add_trace(go.Image(z=np.repeat(ab_key_strip(centres, axis), 6, axis=0), x0=float(centres[0]), dx=step,
                               y0=0, dy=1, hoverinfo="skip"), row=2, col=col)
        fig.update_yaxes(title_text="share of pixels" if col == 1 else None, row=1, col=col)
        if log_y:
            apply_log_ticks(fig, np.concatenate([np.asarray(m[col - 1], dtype=np.float64)
                                                 for m in marginals.values()]), row=1, col=col)
        fig.update_yaxes(visible=False, row=2, col=col)
        fig.update_xaxes(title_text=f"{axis}", row=2, col=col)
    fig.update_layout(height=430, margin=dict(l=60, r=20, t=40, b=40), legend=dict(orientation="h", y=-0.22))
    return fig


# --------------------------------------------------------------------------
# Where the ground truth has colour and a model never does

def pool(hist2d: np.ndarray, cell: int) -> np.ndarray:
    """Sum cell x cell blocks (zero-padded at the far edges) of a 2-D histogram."""
    h = np.asarray(hist2d, dtype=np.float64)
    if cell <= 1:
        return h
    n0, n1 = (-(-s // cell) * cell for s in h.shape)
    padded = np.zeros((n0, n1))
    padded[:h.shape[0], :h.shape[1]] = h
    return padded.reshape(n0 // cell, cell, n1 // cell, cell).sum((1, 3))


def never_mask(model_hist: np.ndarray, threshold: float = 0.0, cell: int = 1) -> np.ndarray:
    """Boolean mask on the full grid: cells whose (pooled) model share is <= threshold."""
    h = np.asarray(model_hist, dtype=np.float64)
    low = pool(h, cell) <= threshold
    if cell > 1:
        low = np.repeat(np.repeat(low, cell, 0), cell, 1)[:h.shape[0], :h.shape[1]]
    return low


def uncovered_share(gt_hist: np.ndarray, model_hist: np.ndarray, threshold: float = 0.0, cell: int = 1) -> float:
    """Share of the ground truth's ab mass in cells where the model's share is <=
    threshold (cells of cell x cell one-unit bins): colours the model never makes."""
    gt = np.asarray(gt_hist, dtype=np.float64)
    total = gt.sum()
    if total <= 0:
        return float("nan")
    return float(gt[never_mask(model_hist, threshold, cell)].sum() / total)


def uncovered_bar_figure(shares: dict[str, float], colours: dict[str, str] | None = None) -> go.Figure:
    colours = colours or colour_map(shares)
    names = sorted(shares, key=lambda n: shares[n])  # the model that misses least on top
    fig = go.Figure(go.Bar(x=[shares[n] for n in names], y=names, orientation="h",
                           marker_color=[colours.get(n, "#777") for n in names],
                           text=[f"{100 * shares[n]:.1f}%" for n in names], textposition="auto",
                           hovertemplate="%{y}: %{x:.2%} of the ground truth's ab mass<extra></extra>"))
    fig.update_layout(height=max(220, 60 + 34 * len(names)), margin=dict(l=10, r=20, t=30, b=40),
                      yaxis=dict(autorange="reversed"),
                      xaxis=dict(title=label("gt_mass_never_reached"), tickformat=".0%",
                                 range=[0, max(0.05, min(1.0, max(shares.values(), default=0) * 1.15))]))
    return fig


def uncovered_map_figure(gt_hist: np.ndarray, model_hist: np.ndarray, centres: np.ndarray, name: str,
                         threshold: float = 0.0, cell: int = 1, plane: np.ndarray | None = None,
                         extent: float | None = None) -> go.Figure:
    """The ground truth's ab mass in the cells the model never reaches, drawn in its
    colours (log density); the model's own support in dark gray."""
    plane = ab_plane_rgb(centres) if plane is None else plane
    gt = np.asarray(gt_hist, dtype=np.float64)
    never = never_mask(model_hist, threshold, cell)
    extent = ab_extent([gt, model_hist], centres) if extent is None else extent
    top = float(gt.max()) if gt.size else 1.0
    img = density_image(np.where(never, gt, 0.0), plane, top=top)
    support = (~never).T
    img[support] = (70, 70, 70)
    fig = go.Figure(_image_trace(img, centres, np.where(never, gt, 0.0), f"ground truth where {name} never goes"))
    fig.add_trace(density_scale(DENSITY_FLOOR, top, plane))
    fig.update_xaxes(title_text="a  (green ← → red)", range=[-extent, extent], showgrid=False, zeroline=False)
    fig.update_yaxes(title_text="b  (blue ← → yellow)", range=[-extent, extent], autorange=False, showgrid=False,
                     zeroline=False, scaleanchor="x", scaleratio=1)
    share = uncovered_share(gt, model_hist, threshold, cell)
    text = (f"{name}: {100 * share:.1f}% of the ground truth's ab mass is where it never goes<br><sup>colour: those "
            "ground-truth cells (log density); gray: where the model does put colour</sup>")
    fig.update_layout(title=chart_title(text, 500), height=500, margin=dict(l=60, r=90, t=90, b=50))
    return fig


def ab_stats(hists: dict[str, np.ndarray], centres: np.ndarray, threshold: float = 0.0, cell: int = 1) -> pd.DataFrame:
    """Per row: mean a, mean b (a sepia bias shows as b > 0 with small a), mean chroma
    (desaturation shows as a small one), histogram intersection with the ground
    truth, and the share of the ground truth's mass where the row never goes."""
    c = np.asarray(centres, dtype=np.float64)
    A, B = np.meshgrid(c, c, indexing="ij")
    chroma = np.hypot(A, B)
    gt = hists.get(GROUND_TRUTH)
    rows = []
    for name, h in hists.items():
        h = np.asarray(h, dtype=np.float64)
        s = h.sum() or 1.0
        row = {"row": name, "mean_a": float((h * A).sum() / s), "mean_b": float((h * B).sum() / s),
               "mean_chroma": float((h * chroma).sum() / s)}
        if gt is not None:
            row["intersection_with_gt"] = float(np.minimum(h / s, gt / (gt.sum() or 1.0)).sum())
            row["gt_mass_never_reached"] = uncovered_share(gt, h, threshold, cell)
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# Training curves

def smooth(values, weight: float) -> np.ndarray:
    """TensorBoard-style exponential moving average, debiased at the start, that
    skips missing values (they stay missing). weight 0 = raw."""
    v = np.asarray(values, dtype=np.float64)
    if weight <= 0:
        return v.copy()
    out = np.full_like(v, np.nan)
    acc, norm = 0.0, 0.0
    for i, x in enumerate(v):
        if not np.isfinite(x):
            continue
        acc = weight * acc + (1 - weight) * x
        norm = weight * norm + (1 - weight)
        out[i] = acc / norm
    return out


X_AXES = {"step": "step", "wall_s": "wall time (hours)", "images": "images seen"}


def x_values(df: pd.DataFrame, x: str) -> pd.Series:
    if x == "wall_s" and "wall_s" in df:
        return df["wall_s"] / 3600
    return df["step"]


def legend_below(fig: go.Figure, entries: int, height: int, per_row: int = 3, top: int = 64) -> None:
    """The legend at the bottom of the figure, under the x-axis title rather than on
    it: the bottom margin (and the height) grow with the legend's rows."""
    rows = max(1, math.ceil(entries / per_row))
    legend_px = 22 * rows
    fig.update_layout(height=height + legend_px, margin=dict(l=60, r=20, t=top, b=58 + legend_px),
                      legend=dict(orientation="h", yref="container", y=0.005, yanchor="bottom", x=0, xanchor="left"))
    fig.update_layout(title=chart_title(fig.layout.title.text or "", height + legend_px))


def curves_figure(logs: dict[str, pd.DataFrame], column: str, smoothing: float = 0.0, x: str = "step",
                  colours: dict[str, str] | None = None, log_y: bool = False, markers: bool = False,
                  title: str | None = None) -> go.Figure:
    """One column (a loss term or a validation metric) of several runs overlaid;
    with smoothing, the raw values faint behind the smoothed line."""
    colours = colours or colour_map(base_model(k) for k in logs)
    fig = go.Figure()
    for run, df in logs.items():
        if column not in df or not df[column].notna().any():
            continue
        d = df[df[column].notna()]
        xs, ys = x_values(d, x), d[column].to_numpy(dtype=np.float64)
        colour = colours.get(run) or colours.get(base_model(run), "#444")
        dash = "dot" if "(" in run else None
        mode = "lines+markers" if markers else "lines"
        if smoothing > 0 and len(d) > 2:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode=mode, line=dict(color=colour, width=1), opacity=0.25,
                                     legendgroup=run, showlegend=False, hoverinfo="skip"))
            ys = smooth(ys, smoothing)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode=mode, name=run, legendgroup=run,
                                 line=dict(color=colour, width=2, dash=dash),
                                 hovertemplate=f"{run}<br>%{{x}}: %{{y:.4g}}<extra></extra>"))
    ytitle = title or label(column)
    fig.update_layout(title=dict(text=ytitle), xaxis_title=X_AXES.get(x, x), yaxis_title=ytitle,
                      hovermode="x unified")
    legend_below(fig, sum(1 for t in fig.data if t.showlegend is not False), 340)
    if log_y:
        apply_log_ticks(fig, [v for t in fig.data for v in (t.y if t.y is not None else [])])
    return fig


def run_terms_figure(df: pd.DataFrame, terms: list[str], name: str, smoothing: float = 0.0, x: str = "step",
                     normalise: bool = True) -> go.Figure:
    """All loss terms of one run on one axis; normalise divides each by its first
    value, so terms of different scale can be compared."""
    fig = go.Figure()
    for i, term in enumerate(terms):
        d = df[df[term].notna()]
        if d.empty:
            continue
        ys = d[term].to_numpy(dtype=np.float64)
        if normalise and np.isfinite(ys[0]) and ys[0] != 0:
            ys = ys / abs(ys[0])
        ys = smooth(ys, smoothing)
        fig.add_trace(go.Scatter(x=x_values(d, x), y=ys, mode="lines", name=term,
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=2)))
    text = f"{name}: loss terms" + (" (each / its first value)" if normalise else "")
    fig.update_layout(title=dict(text=text), xaxis_title=X_AXES.get(x, x),
                      yaxis_title="loss / its first value" if normalise else "loss")
    legend_below(fig, len(fig.data), 360, per_row=6)
    return fig


# --------------------------------------------------------------------------
# Speed

def latency_figure(bench: pd.DataFrame, device: str = "cpu", colours: dict[str, str] | None = None,
                   log_axes: bool = True, metric: str = "latency_median_s") -> go.Figure:
    """Latency (median, p90 as the error bar's top) against megapixels, one line per
    model; the reference (full-width eccv16, one 256x256 photo) as a horizontal line."""
    d = bench[bench["device"] == device]
    models = [m for m in d.loc[~d["reference"], "model"].unique()]
    colours = colours or colour_map(models)
    fig = go.Figure()
    for m in models:
        r = d[(d["model"] == m) & ~d["reference"]].sort_values("megapixels")
        err = None
        if metric == "latency_median_s" and "latency_p90_s" in r and r["latency_p90_s"].notna().any():
            err = dict(type="data", symmetric=False, array=(r["latency_p90_s"] - r[metric]).clip(lower=0),
                       arrayminus=np.zeros(len(r)), thickness=1)
        sizes = r["size"] if "size" in r else r["megapixels"].map("{:.2f} MP".format)
        fig.add_trace(go.Scatter(x=r["megapixels"], y=r[metric], mode="lines+markers", name=m, error_y=err,
                                 line=dict(color=colours.get(m, "#444"), width=2), customdata=np.stack([sizes], -1),
                                 hovertemplate=f"{m}<br>%{{customdata[0]}} (%{{x:.3g}} MP): %{{y:.4g}}"
                                               f"{' s' if metric.endswith('_s') else ''}<extra></extra>"))
    ref = d[d["reference"]]
    mp = d.loc[~d["reference"], "megapixels"].dropna()
    if metric == "latency_median_s" and not ref.empty:
        row = ref.iloc[0]
        t, name = float(row["latency_median_s"]), str(row["model"])
        size = row["size"] if "size" in ref else f"{row['megapixels']:.3g} MP"
        span = list(mp) + [float(row["megapixels"])]
        xs = [min(span) / 1.3, max(span) * 1.3] if log_axes else [0, max(span) * 1.05]
        # Traces rather than add_hline: hline annotations land wrong on log axes.
        fig.add_trace(go.Scatter(x=xs, y=[t, t], mode="lines", line=dict(color="#111", dash="dash", width=1.5),
                                 name=f"reference: {name}, one {size} photo ({t:.3g} s)", hoverinfo="name"))
        fig.add_trace(go.Scatter(x=xs, y=[t / 20, t / 20], mode="lines", line=dict(color="#888", dash="dot", width=1.2),
                                 name=f"20x faster than the reference ({t / 20 * 1000:.0f} ms)", hoverinfo="name"))
        fig.add_trace(go.Scatter(x=[row["megapixels"]], y=[t], mode="markers", name=name, showlegend=False,
                                 marker=dict(symbol="x", size=11, color="#111"),
                                 hovertemplate=f"{name}, {size}: %{{y:.3g}} s<extra></extra>"))
    ticks = d.drop_duplicates("megapixels").sort_values("megapixels")
    if len(ticks) and "size" in ticks:
        fig.update_xaxes(tickvals=ticks["megapixels"],
                         ticktext=[f"{s}<br>{m:.2g} MP" for s, m in zip(ticks["size"], ticks["megapixels"])])
    ys = [v for tr in fig.data for v in (tr.y if tr.y is not None else [])
          if v is not None and np.isfinite(v) and v > 0]
    if log_axes and ys:
        top = max(ys) * (1.6 if metric != "latency_median_s" or "latency_p90_s" not in d else
                         max(1.6, float((d["latency_p90_s"] / d[metric]).max()) * 1.3))
        apply_log_ticks(fig, [min(ys) / 1.6 * 1.25, top / 1.25])
    ytitle = "latency, median (s; bar to p90)" if metric == "latency_median_s" else label(metric)
    fig.update_layout(height=480, margin=dict(l=60, r=20, t=30, b=50), xaxis_title="photo size",
                      yaxis_title=ytitle, xaxis_type="log" if log_axes else "linear",
                      yaxis_type="log" if log_axes else "linear", legend=dict(orientation="h", y=-0.25))
    return fig


# --------------------------------------------------------------------------
# Metric tables and bars

def best_mask(df: pd.DataFrame, columns=None) -> pd.DataFrame:
    """True where a cell holds its column's best value among the models (the gray and
    ground-truth rows are references: they never win). Ties all win. Nothing is
    marked where fewer than two models have a value (a lone model is not 'best'),
    nor where the best is no better than the gray row."""
    columns = [c for c in (columns or HIGHER_BETTER + LOWER_BETTER) if c in df.columns]
    mask = pd.DataFrame(False, index=df.index, columns=df.columns)
    is_model = ~df["model"].isin(REFERENCE_ROWS) if "model" in df else pd.Series(True, index=df.index)
    is_gray = df["model"] == GRAY if "model" in df else pd.Series(False, index=df.index)
    for c in columns:
        values = pd.to_numeric(df[c], errors="coerce")
        v = values.where(is_model)
        v = v[np.isfinite(v)]
        if len(v) < 2:
            continue
        higher = c in HIGHER_BETTER
        best = v.max() if higher else v.min()
        gray = values[is_gray & np.isfinite(values)]
        if len(gray) and not (best > gray.iloc[0] if higher else best < gray.iloc[0]):
            continue
        mask.loc[v.index[np.isclose(v, best, rtol=1e-9, atol=0)], c] = True
    return mask


FORMATS = {"psnr": "{:.2f}", "ssim": "{:.4f}", "auc": "{:.4f}", "auc_rebal": "{:.4f}", "colorfulness": "{:.1f}",
           "delta_cf": "{:.1f}", SEMANTIC_COLUMN: "{:.3f}", FRECHET_COLUMN: "{:.1f}",
           "seconds_per_image": "{:.4f}", "top1_agrees": "{:.0f}", "ms": "{:.0f}",
           "steps": "{:,.0f}", "images seen": "{:,.0f}", "hours": "{:.1f}"}


def _formatter(fmt: str):
    def f(v):
        try:
            x = float(v)
        except (TypeError, ValueError):
            return "" if v is None else str(v)
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        return fmt.format(x)
    return f


def _names(df: pd.DataFrame, labelled: bool) -> dict[str, str]:
    return {c: label(c) if labelled else c for c in df.columns}


def style_table(df: pd.DataFrame, columns=None, labelled: bool = False):
    """A pandas Styler: numbers formatted, each metric's best model cell marked
    (bold, green), reference rows in gray italics; labelled: under the columns'
    human labels (for st.table and the report, which have no column_config)."""
    names = _names(df, labelled)
    mask = best_mask(df, columns).rename(columns=names)
    shown = df.rename(columns=names)
    styler = shown.style.format(na_rep="–").format({names[c]: _formatter(f) for c, f in FORMATS.items()
                                                    if c in df.columns})

    def cell_styles(_):
        out = pd.DataFrame("", index=shown.index, columns=shown.columns)
        out[mask] = "background-color: #c8efc8; font-weight: bold; color: #0b3d0b"
        if "model" in df:
            ref = df["model"].isin(REFERENCE_ROWS)
            for c in shown.columns:
                out.loc[ref & ~mask[c], c] = "color: #777; font-style: italic"
        return out

    return styler.apply(cell_styles, axis=None)


def metric_bar_figure(metrics: pd.DataFrame, metric: str, colours: dict[str, str] | None = None) -> go.Figure:
    """One metric across the models, the gray value as a line; the value axis is
    zoomed to the models and gray (bars from 0 would all look alike). The ground
    truth is a line where it falls inside that range, else it is named in the title."""
    colours = colours or colour_map(metrics["model"])
    fmt = _formatter(FORMATS.get(metric, "{:.4g}"))
    d = metrics[~metrics["model"].isin(REFERENCE_ROWS)]
    d = d[np.isfinite(pd.to_numeric(d[metric], errors="coerce"))]
    fig = go.Figure(go.Bar(x=d["model"], y=d[metric], marker_color=[colours.get(m, "#777") for m in d["model"]],
                           text=[fmt(v) for v in d[metric]], textposition="outside", cliponaxis=False,
                           hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    refs = {}
    for ref in (GRAY, GROUND_TRUTH):
        v = pd.to_numeric(metrics.loc[metrics["model"] == ref, metric], errors="coerce")
        if len(v) and np.isfinite(float(v.iloc[0])):
            refs[ref] = float(v.iloc[0])
    yrange = zoomed_range(list(d[metric]) + ([refs[GRAY]] if GRAY in refs else []))
    notes = []
    for ref, dash in ((GRAY, "dot"), (GROUND_TRUTH, "dash")):
        if ref not in refs:
            continue
        if yrange and not yrange[0] <= refs[ref] <= yrange[1]:
            notes.append(f"{ref} {fmt(refs[ref])}, off the axis")
            continue
        # Named to the right of the plot, where no bar label can sit on it.
        fig.add_hline(y=refs[ref], line=dict(color=REFERENCE_COLOURS[ref], dash=dash, width=1.5),
                      annotation_text=f"{ref}<br>{fmt(refs[ref])}", annotation_position="right",
                      annotation_font_size=11)
    better = "higher is better" if metric in HIGHER_BETTER else "lower is better" if metric in LOWER_BETTER else ""
    title = label(metric) + (f" ({better})" if better else "")
    title += "<br><sup>axis zoomed to the data, not from 0" + "".join(f"; {n}" for n in notes) + "</sup>"
    fig.update_layout(height=400, margin=dict(l=60, r=80, t=80, b=40), yaxis_title=label(metric),
                      title=chart_title(title, 400))
    if yrange:
        fig.update_yaxes(range=yrange)
    return fig


def per_image_figure(per_image: pd.DataFrame, metric: str, colours: dict[str, str] | None = None,
                     title: str | None = None, line: float | None = None) -> go.Figure:
    """The spread of a per-image metric over the images, one box per row; line: a
    dotted level to read the boxes against (0 for a gain)."""
    colours = colours or colour_map(per_image["model"])
    fig = go.Figure()
    rows = [r for r in per_image["model"].unique() if r != GROUND_TRUTH or metric not in ("psnr",)]
    for name in rows:
        v = pd.to_numeric(per_image.loc[per_image["model"] == name, metric], errors="coerce")
        v = v[np.isfinite(v)]
        if v.empty:
            continue
        fig.add_trace(go.Box(y=v, name=name, marker_color=colours.get(name, "#777"), boxpoints="outliers",
                             boxmean=True))
    if line is not None:
        fig.add_hline(y=line, line=dict(color=REFERENCE_COLOURS[GRAY], dash="dot", width=1.5))
    fig.update_layout(height=400, margin=dict(l=60, r=20, t=80, b=40), showlegend=False,
                      title=chart_title(title or f"{label(metric)} per image", 400), yaxis_title=label(metric))
    return fig


def style_standings(standings: pd.DataFrame, gap_columns, labelled: bool = False):
    """The verdict's table: shares of the gray-to-truth gap as percentages, PSNR as
    dB over gray; red where a model is worse than gray, green where it is better
    (colourfulness, which has no better direction, stays uncoloured)."""
    names = _names(standings, labelled)
    formats = {names[c]: ("{:+.0%}" if c in gap_columns else "{:+.2f} dB") for c in standings.columns if c != "model"}

    def colour(v):
        if not isinstance(v, (int, float)) or not np.isfinite(v):
            return ""
        return "color: #a11; background-color: #fbe3e3" if v < 0 else "color: #0b3d0b; background-color: #e3f4e3"

    judged = [names[c] for c in standings.columns if c in HIGHER_BETTER + LOWER_BETTER]  # colourfulness: no better way
    return standings.rename(columns=names).style.format(formats, na_rep="–").map(colour, subset=judged)


# --------------------------------------------------------------------------
# Colour hints

def hint_curve_figure(curve: pd.DataFrame, metric: str = "psnr", colours: dict[str, str] | None = None,
                      targets: dict[int, float] | None = None) -> go.Figure:
    """One metric of results/hints/curve.csv against the hint count, a line per model.
    For PSNR and its gain, targets (count -> least gain in dB over no hints) are open
    triangles in the model's colour: where its curve has to reach."""
    colours = colours or colour_map(curve["model"])
    fig = go.Figure()
    for m in curve["model"].unique():
        d = curve[curve["model"] == m].sort_values("hints")
        colour = colours.get(m, "#444")
        fig.add_trace(go.Scatter(x=d["hints"], y=d[metric], mode="lines+markers", name=m,
                                 line=dict(color=colour, width=2),
                                 hovertemplate=f"{m}<br>%{{x}} hints: %{{y:.3f}}<extra></extra>"))
        if targets and metric in ("psnr", "psnr_gain"):
            zero = d.loc[d["hints"] == 0, "psnr"]
            base = 0.0 if metric == "psnr_gain" else float(zero.iloc[0]) if len(zero) else math.nan
            fig.add_trace(go.Scatter(x=list(targets), y=[base + v for v in targets.values()], mode="markers",
                                     name=f"{m}: target", legendgroup=m,
                                     marker=dict(symbol="triangle-up-open", size=14, color=colour, line=dict(width=2)),
                                     hovertemplate=f"{m} target<br>%{{x}} hints: %{{y:.3f}}<extra></extra>"))
    if metric == "psnr_gain":
        fig.add_hline(y=0, line=dict(color=REFERENCE_COLOURS[GRAY], dash="dot", width=1.5))
    fig.update_xaxes(tickvals=sorted(curve["hints"].unique()), title_text="hints per photo")
    fig.update_layout(title=dict(text=f"{label(metric)} against the number of hints"), yaxis_title=label(metric),
                      hovermode="closest")
    legend_below(fig, len(fig.data), 380)
    return fig


STATUS_STYLES = {"met": "color: #0b3d0b; background-color: #e3f4e3; font-weight: bold",
                 "missed": "color: #a11; background-color: #fbe3e3; font-weight: bold",
                 "not measured": "color: #777; font-style: italic"}


def style_status(df: pd.DataFrame, column: str = "status", labelled: bool = False):
    """A target table: its status column green (met), red (missed), gray (not measured)."""
    names = _names(df, labelled)
    return df.rename(columns=names).style.map(lambda v: STATUS_STYLES.get(v, ""), subset=[names[column]])
