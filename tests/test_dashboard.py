"""The dashboard's loaders, figure builders, verdict, clock and report on small known inputs (no
Streamlit; the report is opened in headless chromium with the network refused)."""
import json
import math
import os

import numpy as np
import pandas as pd
import pytest

from dashboard import figures as F
from dashboard import images as I
from dashboard import loaders as L
from dashboard import sample

C = np.arange(-110, 111, dtype=np.float64)  # the evaluate grid's bin centres
N = len(C)


def cell(a, b):
    return int(np.argmin(np.abs(C - a))), int(np.argmin(np.abs(C - b)))


def point_hist(*points):
    """A histogram with equal mass at each (a, b)."""
    h = np.zeros((N, N))
    for a, b in points:
        h[cell(a, b)] += 1.0 / len(points)
    return h


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return sample.write_sample(tmp_path_factory.mktemp("root"))


# --------------------------------------------------------------------------
# ab plane and histograms

def test_ab_plane_colours_follow_the_axes():
    plane = F.ab_plane_rgb(C)
    assert plane.shape == (N, N, 3) and plane.dtype == np.uint8
    i0, j0 = cell(0, 0)
    r, g, b = plane[j0, i0].astype(int)  # [b, a]
    assert abs(r - g) <= 1 and abs(g - b) <= 1  # a = b = 0 is neutral
    red = plane[cell(0, 0)[1], cell(40, 0)[0]].astype(int)
    green = plane[cell(0, 0)[1], cell(-40, 0)[0]].astype(int)
    yellow = plane[cell(0, 60)[1], cell(0, 0)[0]].astype(int)
    blue = plane[cell(0, -40)[1], cell(0, 0)[0]].astype(int)
    assert red[0] > red[1] and green[1] > green[0] and yellow[0] > yellow[2] and blue[2] > blue[0]


def test_log_alpha_and_density_image():
    h = point_hist((30, -20))
    alpha = F.log_alpha(h)
    assert alpha.max() == 1.0 and (alpha > 0).sum() == 1
    p = np.array([0.0, 1e-9, 1e-6, 1.0])
    assert list(F.log_alpha(p)) == pytest.approx([0.0, 0.15, 0.15, 1.0])
    plane = F.ab_plane_rgb(C)
    img = F.density_image(h, plane)
    ia, ib = cell(30, -20)
    assert (img[ib, ia] == plane[ib, ia]).all()  # full mass: the cell's own colour, [b, a] order
    mask = np.ones((N, N), bool)
    mask[ib, ia] = False
    assert (img[mask] == np.array(F.BACKGROUND, np.uint8)).all()  # empty cells: the background


def test_ab_histograms_figure_and_extent():
    gt, m = point_hist((10, 20), (-30, 5)), point_hist((2, 2))
    fig = F.ab_histograms_figure({"ground truth": gt, "m": m}, C)
    assert [t.type for t in fig.data] == ["image", "image", "scatter"]
    bar = fig.data[2].marker  # the colour scale both panels share
    assert bar.showscale and bar.cmax == pytest.approx(0) and bar.cmin == pytest.approx(-6)
    assert "1e−6" in bar.colorbar.ticktext
    # one opacity scale: gt's cells (half the mass each) are fainter than m's single full cell
    ia, ib = cell(10, 20)
    assert np.asarray(fig.data[0].z)[ib, ia].sum() < np.asarray(fig.data[1].z)[cell(2, 2)[1], cell(2, 2)[0]].sum()
    assert np.asarray(fig.data[0].z).shape == (N, N, 3)
    assert fig.data[0].x0 == -110 and fig.data[0].dx == 1
    assert F.ab_extent([gt, m], C) == 40  # reach 30 + margin 10
    assert F.ab_extent([point_hist((105, 0))], C) == 110.5  # never beyond the grid


def test_marginals_figure():
    gt = point_hist((10, 20))
    fig = F.marginals_figure({"ground-truth": (gt.sum(1), gt.sum(0)), "m": (gt.sum(1), gt.sum(0))}, C)
    lines = [t for t in fig.data if t.type == "scatter"]
    assert len(lines) == 4 and sum(bool(t.showlegend) for t in lines) == 2
    assert [t.type for t in fig.data].count("image") == 2  # the colour strips
    assert fig.layout.yaxis.type == "log"
    assert all("e+" not in t and t not in ("2", "5") for t in fig.layout.yaxis.ticktext)


def test_log_ticks_read_as_numbers():
    from dashboard.axes import log_ticks, tick_text

    vals, text = log_ticks(0.02, 0.6)
    assert text == ["0.02", "0.05", "0.1", "0.2", "0.5"] and vals[1] == 0.05
    assert log_ticks(2.2, 6.8)[1] == ["3", "4", "5", "6"]  # within a decade: finer steps
    assert len(log_ticks(1e-8, 1)[0]) <= 9 and tick_text(1e-6) == "1e−6" and tick_text(2e-4) == "2e−4"
    assert len(log_ticks(1.01, 1.09)[0]) == 3


def test_pool_and_never_mask():
    h = np.arange(25, dtype=float).reshape(5, 5)
    p = F.pool(h, 2)
    assert p.shape == (3, 3) and p.sum() == h.sum() and p[0, 0] == 0 + 1 + 5 + 6 and p[2, 2] == 24
    assert (F.pool(h, 1) == h).all()
    m = np.zeros((5, 5))
    m[0, 0] = 1
    mask = F.never_mask(m, 0.0, 2)
    assert mask.shape == (5, 5) and not mask[:2, :2].any() and mask[2:, :].all()


def test_uncovered_share():
    gt = point_hist((10, 10), (-50, -50))
    model = point_hist((10, 10))
    assert F.uncovered_share(gt, model) == pytest.approx(0.5)  # the blue half is never produced
    assert F.uncovered_share(gt, gt) == 0.0
    assert F.uncovered_share(gt, point_hist((12, 11))) == pytest.approx(1.0)  # 1-unit cells: a miss is a miss
    assert F.uncovered_share(gt, point_hist((12, 11)), cell=10) == pytest.approx(0.5)  # coarser cells forgive it
    assert F.uncovered_share(gt, model, threshold=1.0) == pytest.approx(1.0)
    assert math.isnan(F.uncovered_share(np.zeros((N, N)), model))
    bar = F.uncovered_bar_figure({"a": 0.5, "b": 0.1})
    assert list(bar.data[0].y) == ["b", "a"] and list(bar.data[0].x) == [0.1, 0.5]
    fig = F.uncovered_map_figure(gt, model, C, "m")
    assert "50.0%" in fig.layout.title.text


def test_ab_stats():
    gt = point_hist((30, 40))
    stats = F.ab_stats({"ground-truth": gt, "gray": point_hist((0, 0)), "sepia": point_hist((5, 20))}, C)
    s = stats.set_index("row")
    assert s.loc["ground-truth", "mean_a"] == pytest.approx(30)
    assert s.loc["ground-truth", "mean_chroma"] == pytest.approx(50)
    assert s.loc["ground-truth", "intersection_with_gt"] == pytest.approx(1)
    assert s.loc["gray", "mean_chroma"] == 0 and s.loc["gray", "gt_mass_never_reached"] == 1
    assert s.loc["sepia", "mean_b"] == pytest.approx(20)


# --------------------------------------------------------------------------
# Training curves

def test_smooth():
    x = np.array([1.0, 3.0, np.nan, 3.0])
    assert np.allclose(F.smooth(x, 0.0), x, equal_nan=True)
    s = F.smooth(x, 0.5)
    assert s[0] == 1.0  # debiased: starts at the first value
    assert s[1] == pytest.approx((0.5 * 0.5 * 1 + 0.5 * 3) / 0.75)
    assert np.isnan(s[2]) and s[3] > s[1]
    assert np.allclose(F.smooth(np.full(5, 2.0), 0.9), 2.0)


def test_curves_figure_overlays_runs_that_share_a_column():
    a = pd.DataFrame({"step": [1, 2, 3, 4], "wall_s": [3600, 7200, 10800, 14400], "loss": [4.0, 3, 2, 1],
                      "ce": [1.0, 1, 1, 1]})
    b = pd.DataFrame({"step": [1, 2, 3], "loss": [5.0, 4, 3]})
    fig = F.curves_figure({"a": a, "b (in progress)": b}, "loss", smoothing=0.5)
    named = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in named] == ["a", "b (in progress)"]
    assert len(fig.data) == 4  # raw (faint) + smoothed per run
    assert named[1].line.dash == "dot"  # a run in progress
    assert list(named[0].y) == pytest.approx(list(F.smooth(np.array([4.0, 3, 2, 1]), 0.5)))
    assert fig.layout.yaxis.title.text == "loss" and fig.layout.xaxis.title.text == "step"
    # The legend sits in the figure's bottom margin, under the step axis's title.
    assert fig.layout.legend.yref == "container" and fig.layout.legend.yanchor == "bottom"
    assert fig.layout.margin.b >= 58 + 22
    logy = F.curves_figure({"a": a}, "loss", log_y=True)
    assert logy.layout.yaxis.type == "log" and "2" in logy.layout.yaxis.ticktext
    only_a = F.curves_figure({"a": a, "b": b}, "ce")
    assert [t.name for t in only_a.data] == ["a"]
    hours = F.curves_figure({"a": a}, "loss", x="wall_s")
    assert list(hours.data[0].x) == [1, 2, 3, 4]
    terms = F.run_terms_figure(a, ["loss", "ce"], "a")
    assert list(terms.data[0].y) == pytest.approx([1, 0.75, 0.5, 0.25])


# --------------------------------------------------------------------------
# Speed

def test_latency_figure(root):
    df = L.read_bench(root / "results" / "bench.csv")
    fig = F.latency_figure(df, "cpu")
    by = {t.name: t for t in fig.data}
    assert list(by[sample.TRAINED].x) == sorted(by[sample.TRAINED].x)
    ref = next(t for n, t in by.items() if n.startswith("reference"))
    assert list(ref.y) == [1.3, 1.3]
    fast = next(t for n, t in by.items() if n.startswith("20x"))
    assert fast.y[0] == pytest.approx(1.3 / 20)
    lo, hi = fig.layout.yaxis.range
    assert 10 ** lo < min(by[sample.TRAINED].y) and 10 ** hi > 1.3
    assert "0.05" in fig.layout.yaxis.ticktext and "0.5" in fig.layout.yaxis.ticktext
    mem = F.latency_figure(df, "cpu", metric="peak_rss_mb", log_axes=False)
    assert not any(t.name and t.name.startswith("reference") for t in mem.data)


# --------------------------------------------------------------------------
# Tables

def test_best_mask_ignores_references_and_marks_ties():
    df = pd.DataFrame({"model": ["gray", "ground-truth", "a", "b", "c"],
                       "psnr": [18, math.inf, 20, 22, 22], "delta_cf": [40, 0, 5, 3, np.nan],
                       "colorfulness": [0, 40, 10, 20, 30], "ssim": [0.95, 1, 0.90, 0.93, 0.92]})
    m = F.best_mask(df)
    assert m["psnr"].tolist() == [False, False, False, True, True]
    assert m["delta_cf"].tolist() == [False, False, False, True, False]
    assert not m["colorfulness"].any()  # no better direction: nothing marked
    assert not m["ssim"].any()  # the best model is still worse than gray: not 'best'
    html = F.style_table(df).to_html()
    assert "font-weight: bold" in html and "∞" in html
    one = df[df["model"].isin(["gray", "ground-truth", "a"])]
    assert not F.best_mask(one).any().any()  # a lone model is not marked best everywhere
    assert list(F.style_table(df, labelled=True).data.columns[:3]) == ["model", "PSNR (dB) ↑", "Δ colourfulness ↓"]


def test_metric_figures(root):
    df = L.read_metrics(root / "results" / "val")
    bar = F.metric_bar_figure(df, "psnr")
    assert list(bar.data[0].x) == [sample.TRAINED, sample.RANDOM]
    assert len(bar.layout.shapes) == 1  # the gray line; the ground truth's inf is left out
    lo, hi = bar.layout.yaxis.range  # zoomed to the models and gray (21.0 .. 24.1), not from 0
    assert 19 < lo < 21.0 and 24.1 < hi < 26 and bar.layout.yaxis.title.text == "PSNR (dB) ↑"
    semantic = F.metric_bar_figure(df, "semantic_lite1")  # truth (1.0) far above: named, not drawn
    assert len(semantic.layout.shapes) == 1 and "ground-truth 1.000, off the axis" in semantic.layout.title.text
    per = L.read_per_image(root / "results" / "val")
    box = F.per_image_figure(per, "ssim")
    assert {t.name for t in box.data} == {"gray", "ground-truth", sample.TRAINED, sample.RANDOM}
    cmap = F.colour_map(["b", "a", "gray"])
    assert cmap["a"] != cmap["b"] and cmap["gray"] == F.REFERENCE_COLOURS["gray"]


# --------------------------------------------------------------------------
# Loaders

def test_read_metrics_and_made_by(root, monkeypatch):
    monkeypatch.setenv("COLORCORE_ROOT", str(root))
    assert L.eval_sets() == ["val", "holdout"]
    df = L.read_metrics(root / "results" / "val")
    assert df["model"].tolist()[:2] == ["gray", "ground-truth"]
    assert math.isinf(df.loc[1, "psnr"]) and np.isnan(df.loc[0, "seconds_per_image"])
    meta = L.read_json(root / "results" / "val" / "meta.json")
    line = L.made_by(root / "results" / "val", meta)
    assert "python -m colorcore evaluate --data /data/sample/val.tar" in line
    assert f"--models {sample.TRAINED},{sample.RANDOM} --out results/val" in line
    assert "2026-01-02" in line and "0123456789" in line
    assert "unknown" in L.made_by(root / "results" / "val", None)
    assert "--net-size" not in line and "--net-size 256" in L.made_by(root / "results" / "val", {**meta, "net_size": 256})
    assert L.read_metrics(root / "nowhere") is None and L.eval_sets(root / "nowhere") == []


def test_read_ab_hist(root, tmp_path):
    h = L.read_ab_hist(root / "results" / "val")
    assert h.rows == ["gray", "ground-truth", sample.TRAINED, sample.RANDOM]
    assert h.models == [sample.TRAINED, sample.RANDOM]
    assert len(h.centres) == N and h.hist["ground-truth"].sum() == pytest.approx(1)
    assert h.a["ground-truth"] == pytest.approx(h.hist["ground-truth"].sum(1), abs=1e-6)
    # only edges, no rows list, unnormalised counts: still read
    np.savez(tmp_path / "ab_hist.npz", edges=np.arange(-110.5, 111), m__hist2d=point_hist((1, 1)) * 7)
    h2 = L.read_ab_hist(tmp_path)
    assert h2.rows == ["m"] and h2.hist["m"].sum() == pytest.approx(1) and h2.centres[0] == -110
    (tmp_path / "ab_hist.npz").write_bytes(b"not a zip")
    with pytest.raises(L.InputError):
        L.read_ab_hist(tmp_path)


def test_train_logs(root, tmp_path):
    logs = L.find_train_logs(root)
    assert [(t.label, t.status) for t in logs] == [(sample.TRAINED, "final"),
                                                    (f"{sample.IN_PROGRESS} (in progress)", "in progress")]
    df = L.read_train_log(logs[1].path)
    assert L.loss_terms(df) == ["loss", "ce_a", "ce_b"]
    assert L.val_metrics(df) == ["val_psnr", "val_colorfulness", "val_auc"]
    assert df["val_psnr"].notna().sum() == 3
    p = tmp_path / "train_log.csv"
    p.write_text("step,loss,val_psnr\n25,2.0,\n50,1.5,\n25,1.9,\n")  # a resumed run rewrote step 25
    df = L.read_train_log(p)
    assert df["step"].tolist() == [25, 50] and df["loss"].tolist() == [1.9, 1.5]
    assert L.loss_terms(df) == ["loss"] and L.val_metrics(df) == []
    p.write_text("epoch,loss\n1,2\n")
    with pytest.raises(L.InputError):
        L.read_train_log(p)


def test_read_bench(root):
    df = L.read_bench(root / "results" / "bench.csv")
    assert df["reference"].dtype == bool and df.loc[0, "model"] == "eccv16-full" and df.loc[0, "reference"]
    meta = L.read_json(root / "results" / "bench.meta.json")
    assert "python -m colorcore bench" in L.bench_made_by(root / "results" / "bench.csv", meta)
    assert "--net-size 192" in L.bench_made_by(root / "results" / "bench.csv", {**meta, "net_size": 192})
    assert L.read_bench(root / "none.csv") is None


def test_bench_rows_of_two_runtimes_stay_apart(tmp_path):
    path = tmp_path / "bench.csv"
    path.write_text("model,reference,runtime,device,megapixels,latency_median_s\n"
                    "eccv16-full,1,torch,cpu,0.065536,0.6\nlite0-unet,0,torch,cpu,0.065536,0.03\n"
                    "lite0-unet,0,onnx,cpu,0.065536,0.02\n")
    df = L.read_bench(path)
    assert sorted(df["model"]) == ["eccv16-full", "lite0-unet", "lite0-unet (onnx)"]
    assert float(df.loc[df["model"] == "lite0-unet (onnx)", "latency_median_s"].iloc[0]) == 0.02


# --------------------------------------------------------------------------
# Photos for the per-image page

def test_bundled_photos_and_scores():
    names = I.list_source(I.BUNDLED)
    assert "astronaut" in names and "coffee" in names
    gt = I.ground_truth(I.BUNDLED, "coffee")
    assert gt.shape == (256, 256, 3) and gt.dtype == np.uint8
    gray = I.gray_input(gt)
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    s = I.scores(gt, gt)
    assert math.isinf(s["psnr"]) and s["ssim"] == pytest.approx(1) and s["auc"] == pytest.approx(1)
    g = I.scores(gray, gt)
    assert g["colorfulness"] == pytest.approx(0, abs=1e-6) and g["psnr"] > 10 and g["auc"] < 1


def test_folder_source(tmp_path):
    from PIL import Image

    for i in range(2):
        Image.fromarray(np.full((300, 400, 3), 60 * i + 20, np.uint8)).save(tmp_path / f"p{i}.png")
    spec = str(tmp_path)
    assert I.list_source(spec) == ["p0.png", "p1.png"]
    assert I.ground_truth(spec, "p1.png").shape == (256, 256, 3)
    with pytest.raises(FileNotFoundError):
        I.list_source(str(tmp_path / "missing"))


def test_val_broad_leads_the_sets_and_budgets_come_from_the_weights(tmp_path):
    for name in ("aaa", "val", "val-broad"):
        (tmp_path / "results" / name).mkdir(parents=True)
        (tmp_path / "results" / name / "metrics.csv").write_text("model\n")
    assert L.eval_sets(tmp_path / "results") == ["val-broad", "val", "aaa"]
    for model, cfg in {"old": {"steps": 100, "batch": 8, "wall_s": 3600, "hardware": "cpu"},
                       "new": {"steps": 10, "batch": 8, "wall_s": 360, "data_version": 2,
                               "started_from": {"weights": "old", "data_versions": [1], "steps": 100,
                                                "images_seen": 800, "wall_s": 3600}}}.items():
        (tmp_path / "weights" / model).mkdir(parents=True)
        (tmp_path / "weights" / model / "config.json").write_text(json.dumps(cfg))
    b = L.read_budgets(tmp_path).set_index("model")
    assert b.loc["old", "data"] == "v1" and b.loc["old", "images seen"] == 800 and b.loc["old", "hours"] == 1.0
    assert b.loc["new", "data"] == "v1 then v2" and b.loc["new", "steps"] == 110 and b.loc["new", "hours"] == 1.1


# --------------------------------------------------------------------------
# Colour hints: results/hints/ as `python -m colorcore evaluate-hints` writes it

HINTED, MISSES = "lite0-unet", "lite0-unet-small"  # one meets every target, one misses them
HINT_GAINS = {HINTED: {0: 0.0, 1: 0.35, 2: 0.62, 5: 1.21, 10: 2.04, 20: 2.71},
              MISSES: {0: 0.0, 1: -0.05, 2: 0.18, 5: 0.66, 10: 1.21, 20: 1.62}}
HINT_BASE = {HINTED: 23.9, MISSES: 23.4}  # mean PSNR with no hints
EDGE_LEAKS = {HINTED: [0.021, 0.034, 0.058, 0.047], MISSES: [0.04, 0.18, 0.09, 0.07]}
HINT_PHOTOS = [f"photo{i:02d}.jpg" for i in range(12)]


def write_hints(folder, photos=HINT_PHOTOS):
    """A made-up results/hints/ with the columns hint_eval writes: per-photo PSNRs whose
    means are exactly HINT_BASE + HINT_GAINS (each photo's gains scattered around those)."""
    import csv

    from colorcore.hint_eval import CURVE_COLUMNS, EDGE_CASES, EDGE_COLUMNS, PER_IMAGE_COLUMNS

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20)
    per_image, curve, edges = [], [], []
    for model, gains in HINT_GAINS.items():
        base = rng.normal(0, 2.0, len(photos))
        base += HINT_BASE[model] - base.mean()
        for n, gain in gains.items():
            g = rng.normal(0, 0.8 if n else 0.0, len(photos)) * min(1, n / 5)
            psnr = base + gain + g - g.mean()
            per_image += [{"image": p, "model": model, "hints": n, "psnr": v} for p, v in zip(photos, psnr)]
            curve.append({"model": model, "hints": n, "images": len(photos), "psnr": psnr.mean(), "psnr_gain": gain,
                          "auc": 0.90 + 0.004 * n ** 0.5, "colorfulness": 18.0 + 1.5 * n ** 0.5})
        for (direction, l_hinted, l_other, colour), leak in zip(EDGE_CASES, EDGE_LEAKS[model]):
            hinted = 20.0 + rng.random() * 10
            edges.append({"model": model, "case": f"{direction} L{l_hinted:.0f}|L{l_other:.0f} {colour}",
                          "hinted_change": hinted, "other_change": leak * hinted, "leak": leak})
    for name, rows, columns in (("curve.csv", curve, CURVE_COLUMNS), ("per_image.csv", per_image, PER_IMAGE_COLUMNS),
                                ("edges.csv", edges, EDGE_COLUMNS)):
        with open(folder / name, "w", newline="") as f:
            w = csv.DictWriter(f, columns, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    meta = {"data": "../shared/data/val-broad.tar", "images": len(photos), "limit": None,
            "counts": [0, 1, 2, 5, 10, 20], "seed": 0, "protocol": "evaluate's, made up for the tests",
            "edges": "two flat halves split by an edge, one hint at the centre of one half",
            "models": {m: {"source": f"weights/{m}", "sha256": "ab" * 32, "net_size": 256, "temperature": 0.38}
                       for m in HINT_GAINS},
            "commit": "fedcba9876543210", "commit_dirty": True, "date_utc": "2026-03-04T05:06:07+00:00",
            "machine": {"processor": "x86_64", "device": "cpu", "torch_threads": 2}, "wall_seconds": 321.0}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return folder


@pytest.fixture(scope="module")
def hints(tmp_path_factory):
    return write_hints(tmp_path_factory.mktemp("results") / "hints")


def test_read_hints(hints, monkeypatch):
    curve = L.read_hints(hints, "curve.csv")
    assert curve["model"].tolist() == [HINTED] * 6 + [MISSES] * 6
    assert curve["hints"].tolist()[:6] == [0, 1, 2, 5, 10, 20] and curve["hints"].dtype.kind == "i"
    first = curve[curve["model"] == HINTED].set_index("hints")
    assert first.loc[10, "psnr_gain"] == pytest.approx(2.04)
    assert first.loc[10, "psnr"] - first.loc[0, "psnr"] == pytest.approx(2.04)
    per = L.read_hints(hints, "per_image.csv")
    assert len(per) == 2 * 6 * len(HINT_PHOTOS) and per["psnr"].dtype.kind == "f"
    edges = L.read_hints(hints, "edges.csv")
    assert edges["leak"].tolist() == EDGE_LEAKS[HINTED] + EDGE_LEAKS[MISSES]  # the file's scene order kept
    assert edges["case"].iloc[0].startswith("vertical L45|L75")
    monkeypatch.setenv("COLORCORE_RESULTS", str(hints.parent))
    assert L.hints_dir() == hints
    line = L.hints_made_by(hints, L.read_json(hints / "meta.json"))
    assert f"python -m colorcore evaluate-hints --data ../shared/data/val-broad.tar --models {HINTED},{MISSES}" in line
    assert f"{len(HINT_PHOTOS)} images, hint seed 0" in line and "--counts" not in line and "--seed" not in line
    assert "2026-03-04" in line and "fedcba9876 + uncommitted changes" in line
    odd = L.hints_made_by(hints, {"data": "d", "counts": [0, 10], "seed": 3, "limit": 50})
    assert "--counts 0,10 --seed 3 --limit 50" in odd and "hint seed 3" in odd
    assert "unknown" in L.hints_made_by(hints, None)


def test_read_hints_missing_or_broken(hints, tmp_path):
    for name in L.HINT_FILES:
        assert L.read_hints(tmp_path, name) is None  # absent: nothing, the page says so
    (tmp_path / "curve.csv").write_bytes(b"\x00\x01\x02")
    (tmp_path / "per_image.csv").write_text("")
    (tmp_path / "edges.csv").write_text("model,case\nm,vertical\n")  # no leak column
    for name in L.HINT_FILES:
        with pytest.raises(L.InputError, match=name):
            L.read_hints(tmp_path, name)
    (tmp_path / "curve.csv").write_text("model,hints,psnr\nm,0,23\n")  # an old file without psnr_gain
    with pytest.raises(L.InputError, match="psnr_gain"):
        L.read_hints(tmp_path, "curve.csv")
    (tmp_path / "curve.csv").write_text("model,hints,psnr,psnr_gain\nm,0,23,0\nm,x,24,1\nm,10,oops,\n")
    df = L.read_hints(tmp_path, "curve.csv")
    assert df["hints"].tolist() == [0, 10] and np.isnan(df["psnr"].iloc[1])  # bad cells: missing, not a crash


def test_hint_targets(hints):
    from dashboard import verdict as V

    curve, edges = L.read_hints(hints, "curve.csv"), L.read_hints(hints, "edges.csv")
    t = V.hint_targets(curve, edges)
    status = {(r.model, r.target.split(" (")[0]): r.status for r in t.itertuples()}
    assert status == {(HINTED, "PSNR with 1 hint above no hints"): "met",
                      (HINTED, "PSNR with 10 hints ≥ 1.5 dB above no hints"): "met",
                      (HINTED, "edge leak < 10%"): "met",
                      (MISSES, "PSNR with 1 hint above no hints"): "missed",
                      (MISSES, "PSNR with 10 hints ≥ 1.5 dB above no hints"): "missed",
                      (MISSES, "edge leak < 10%"): "missed"}
    assert t["measured"].tolist() == ["+0.35 dB", "+2.04 dB", "5.8%", "-0.05 dB", "+1.21 dB", "18.0%"]
    lines = V.hint_summary(t)
    assert lines[0] == f"**{HINTED}**: :green[**all 3 targets met**]."
    assert lines[1].startswith(f"**{MISSES}**: 0 of 3 targets met; :red[**missed**]: PSNR with 1 hint above no hints "
                               "(-0.05 dB); PSNR with 10 hints")
    # On the boundaries: 1.5 dB at 10 hints is met, no gain at 1 hint is not "above"
    edge = curve.copy()
    edge.loc[edge["hints"] == 10, "psnr_gain"] = 1.5
    edge.loc[edge["hints"] == 1, "psnr_gain"] = 0.0
    t = V.hint_targets(edge[edge["model"] == HINTED], edges[edges["model"] == HINTED])
    assert t["status"].tolist() == ["missed", "met", "met"]
    # 10 hints not scored, no edges.csv: not measured, never met
    t = V.hint_targets(curve[(curve["model"] == HINTED) & (curve["hints"] != 10)], None)
    assert t["status"].tolist() == ["met", "not measured", "not measured"]
    assert ":gray[**not measured**]" in V.hint_summary(t)[0]
    assert V.leak_status(0.1) == "missed" and V.leak_status(0.0999) == "met"


def test_hint_gains_per_photo(hints):
    from dashboard import verdict as V

    per = L.read_hints(hints, "per_image.csv")
    gains = V.hint_gains(per, 10)
    assert len(gains) == 2 * len(HINT_PHOTOS) and set(gains.columns) == {"model", "image", "psnr_gain"}
    assert gains.groupby("model")["psnr_gain"].mean()[HINTED] == pytest.approx(2.04)
    spread = V.gain_spread(gains).set_index("model")
    worse = gains[gains["model"] == MISSES]["psnr_gain"].lt(0).mean()
    assert spread.loc[MISSES, "share_worse"] == pytest.approx(worse) and spread.loc[HINTED, "images"] == 12
    assert spread.loc[HINTED, "p10_gain"] < spread.loc[HINTED, "median_gain"]
    one = per[(per["image"] == HINT_PHOTOS[0]) & (per["model"] == MISSES)].set_index("hints")["psnr"]
    got = gains[(gains["image"] == HINT_PHOTOS[0]) & (gains["model"] == MISSES)]["psnr_gain"].iloc[0]
    assert got == pytest.approx(one[10] - one[0])
    assert V.hint_gains(per, 7).empty and V.hint_gains(per[per["hints"] > 0], 10).empty


def test_hint_curve_figure(hints):
    curve = L.read_hints(hints, "curve.csv")
    fig = F.hint_curve_figure(curve, "psnr", targets={1: 0.0, 10: 1.5})
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    marks = [t for t in fig.data if t.mode == "markers"]
    assert [t.name for t in lines] == [HINTED, MISSES] and list(lines[0].x) == [0, 1, 2, 5, 10, 20]
    assert list(marks[1].x) == [1, 10] and list(marks[1].y) == pytest.approx([23.4, 24.9])  # base, base + 1.5
    assert list(fig.layout.xaxis.tickvals) == [0, 1, 2, 5, 10, 20]
    gain = F.hint_curve_figure(curve, "psnr_gain", targets={1: 0.0, 10: 1.5})
    assert list([t for t in gain.data if t.mode == "markers"][0].y) == [0.0, 1.5]
    assert not [t for t in F.hint_curve_figure(curve, "auc", targets={10: 1.5}).data if t.mode == "markers"]


# --------------------------------------------------------------------------
# The verdict, the page's clock, the report

def test_verdict_ranks_and_standings(root):
    from dashboard import verdict as V

    df = L.read_metrics(root / "results" / "val")
    r = V.ranks(df)
    assert r.index.tolist() == [sample.TRAINED, sample.RANDOM]
    assert r.loc[sample.TRAINED, "rank sum"] == 9.5 and r.loc[sample.TRAINED, "semantic_lite1"] == 1.5  # a tie
    s = V.standings(df)
    assert s.loc[sample.TRAINED, "psnr"] == pytest.approx(0.6)  # dB over gray (truth is inf)
    assert s.loc[sample.TRAINED, "delta_cf"] == pytest.approx((38 - 24) / 38)  # share of gray's gap closed
    assert s.loc[sample.RANDOM, "frechet_lite1"] == pytest.approx(-0.25)  # worse than gray
    assert V.is_gap(df, "ssim") and not V.is_gap(df, "psnr")
    assert V.gray_beats(df)["psnr"] == 1
    lines = V.summary(df, "val", primary=False)
    assert lines[0].startswith(f"**{sample.TRAINED}** is the best model on `val`")
    assert "better than gray on 7 of 7" in lines[0] and "semantic agreement" in lines[0]
    tie = df.copy()  # equal rank sums: semantic agreement decides
    tie.loc[tie["model"] == sample.RANDOM, "psnr"] = 30.0
    tie.loc[tie["model"] == sample.RANDOM, "delta_cf"] = 1.0
    tie.loc[tie["model"] == sample.RANDOM, "semantic_lite1"] = 0.8
    assert V.ranks(tie).index[0] == sample.RANDOM
    assert V.summary(df[df["model"].isin(L.REFERENCE_ROWS)], "val", False) is None


def test_photo_timing_against_the_bench(root):
    from dashboard import timing as T

    bench = L.read_bench(root / "results" / "bench.csv")
    assert T.bench_seconds(bench, [sample.TRAINED, sample.RANDOM]) == pytest.approx(0.02 + 0.03 + 2 * 0.08 * 0.065536)
    assert T.bench_seconds(bench, ["unknown"]) is None and T.bench_seconds(None, ["a"]) is None
    fresh = {"load_s": 0.0, "run_s": 0.2, "model_s": 0.05, "score_s": 0.1, "loaded": False, "cached": False}
    rec = T.record("p.png", {"a": fresh, "b": {**fresh, "load_s": 1.0, "loaded": True}})
    assert rec["loaded"] == ["b"] and rec["colorized"] == ["a", "b"] and rec["total_s"] == pytest.approx(1.4)
    line = T.line(rec, 0.1)
    assert "2 of 2 models colorized and scored in 1.40 s" in line and "took 14.0x that" in line
    cached = T.record("p.png", {"a": {**fresh, "run_s": 0.001, "cached": True}})
    assert "from this server's cache" in T.line(cached, 0.1)


def test_scores_with_the_truth_computed_once():
    gt = I.ground_truth(I.BUNDLED, "chelsea")
    gray = I.gray_input(gt)
    assert I.scores(gray, gt, I.truth(gt)) == I.scores(gray, gt)


CHROMIUM = "/usr/bin/chromium"
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


def open_offline(path) -> dict:
    """Open an HTML file in headless chromium with every non-file request refused:
    what was requested off the file, what failed, the page's errors and how many
    Plotly figures drew their SVG."""
    from playwright.sync_api import sync_playwright

    seen = {"blocked": [], "failed": [], "errors": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        try:
            page = browser.new_page()

            def route(r):
                if r.request.url.startswith(("file:", "data:", "blob:")):
                    r.continue_()
                else:
                    seen["blocked"].append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("requestfailed", lambda r: seen["failed"].append(r.url))
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))
            page.goto(f"file://{path}", wait_until="load")
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0", timeout=30_000)
            seen["figures"] = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
            seen["drawn"] = page.evaluate("document.querySelectorAll('.js-plotly-plot .main-svg .bars, "
                                          ".js-plotly-plot .main-svg .boxes').length")
            seen["text"] = page.inner_text("body")
            seen["overflowing"] = page.evaluate(  # a figure drawn wider than its column
                "[...document.querySelectorAll('.js-plotly-plot')].filter(gd => "
                "+gd.querySelector('.main-svg').getAttribute('width') > gd.getBoundingClientRect().width + 1).length")
        finally:
            browser.close()
    return seen


@pytest.mark.skipif(not os.path.isfile(CHROMIUM), reason="Debian's chromium is not installed")
def test_report_is_self_contained_and_opens_offline(root, tmp_path):
    from dashboard import report, verdict

    df = L.read_metrics(root / "results" / "val")
    per = L.read_per_image(root / "results" / "val")
    html = report.build("colorcore: val", [
        {"heading": "Verdict", "lines": verdict.summary(df, "val", False),
         "table": F.style_standings(verdict.standings(df).reset_index(), ["ssim"], labelled=True)},
        {"heading": "Scores", "table": F.style_table(df, labelled=True), "caption": "Made by `x`"},
        {"heading": "PSNR", "figures": [F.metric_bar_figure(df, "psnr"), F.per_image_figure(per, "psnr")]}])
    from plotly.offline import get_plotlyjs

    own = html.replace(get_plotlyjs(), "")  # plotly.js is inlined; the rest must fetch nothing
    assert len(own) < len(html) / 2 and "<script src" not in own and "http" not in own and "<link" not in own
    assert "PSNR (dB) ↑" in html and "auc_rebal" not in html  # labelled tables
    path = tmp_path / "report.html"
    path.write_text(html)
    seen = open_offline(path)
    assert seen["blocked"] == [] and seen["failed"] == [] and seen["errors"] == []
    assert seen["figures"] == 2 and seen["drawn"] >= 2 and seen["overflowing"] == 0
    assert f"{sample.TRAINED} is the best model" in seen["text"]
