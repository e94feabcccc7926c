"""A small synthetic workbench for tests and screenshots: results/, weights/*/train_log.csv
and runs/*/train_log.csv with the columns colorcore.evaluate / bench / train write,
filled with made-up numbers. Never shown as real results: it is written only to
the folder given.

    .venv/bin/python -m dashboard.sample /tmp/fake-root
    COLORCORE_ROOT=/tmp/fake-root make dashboard
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

TRAINED, RANDOM = "regression-l2", "vae"  # the two models scored in the sample tables
IN_PROGRESS = "unet-bins10"  # the model with a run still going
IMAGES = [f"img{i}.png" for i in range(4)]


def blob(centres: np.ndarray, a0: float, b0: float, sigma: float) -> np.ndarray:
    """A Gaussian blob of ab mass (indexed [a, b]) normalised to 1; tiny tails cut to 0."""
    A, B = np.meshgrid(centres, centres, indexing="ij")
    h = np.exp(-((A - a0) ** 2 + (B - b0) ** 2) / (2 * sigma ** 2))
    h[h < 1e-4 * h.max()] = 0
    return h / h.sum()


def sample_hists(centres: np.ndarray) -> dict[str, np.ndarray]:
    gray = np.zeros((len(centres), len(centres)))
    zero = int(np.argmin(np.abs(centres)))
    gray[zero, zero] = 1.0
    return {"gray": gray, "ground-truth": blob(centres, 8, 18, 18),
            TRAINED: blob(centres, 4, 9, 6),  # desaturated
            RANDOM: blob(centres, 3, 14, 3)}  # sepia-like


def write_eval_set(folder: Path) -> None:
    from colorcore.schema import FRECHET_COLUMN, METRIC_COLUMNS, PER_IMAGE_COLUMNS, SEMANTIC_COLUMN
    from colorcore.metrics import AB_HIST_EDGES

    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        {"model": "gray", "weights": "none", "kind": "reference", "net_size": "-", "psnr": 23.5, "ssim": 0.92,
         "auc": 0.89, "auc_rebal": 0.60, "colorfulness": 0.0, "delta_cf": 38.0, SEMANTIC_COLUMN: 0.70,
         FRECHET_COLUMN: 40.0, "seconds_per_image": "", "images": len(IMAGES)},
        {"model": "ground-truth", "weights": "none", "kind": "reference", "net_size": "-", "psnr": "inf", "ssim": 1,
         "auc": 1, "auc_rebal": 1, "colorfulness": 38.0, "delta_cf": 0, SEMANTIC_COLUMN: 1, FRECHET_COLUMN: 0,
         "seconds_per_image": "", "images": len(IMAGES)},
        {"model": TRAINED, "weights": "trained", "kind": "ab", "net_size": 128, "psnr": 24.1, "ssim": 0.93,
         "auc": 0.91, "auc_rebal": 0.62, "colorfulness": 14.0, "delta_cf": 24.0, SEMANTIC_COLUMN: 0.72,
         FRECHET_COLUMN: 35.0, "seconds_per_image": 0.02, "images": len(IMAGES)},
        {"model": RANDOM, "weights": "random", "kind": "ab", "net_size": 128, "psnr": 21.0, "ssim": 0.95,
         "auc": 0.85, "auc_rebal": 0.66, "colorfulness": 6.0, "delta_cf": 32.0, SEMANTIC_COLUMN: 0.72,
         FRECHET_COLUMN: 50.0, "seconds_per_image": 0.03, "images": len(IMAGES)},
    ]
    with open(folder / "metrics.csv", "w", newline="") as f:
        w = csv.DictWriter(f, METRIC_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    rng = np.random.default_rng(0)
    with open(folder / "per_image.csv", "w", newline="") as f:
        w = csv.DictWriter(f, PER_IMAGE_COLUMNS, lineterminator="\n")
        w.writeheader()
        for image in IMAGES:
            for r in rows:
                gt = r["model"] == "ground-truth"
                w.writerow({"image": image, "model": r["model"],
                            "psnr": "inf" if gt else round(float(r["psnr"]) + rng.normal(0, 1), 3),
                            "ssim": 1 if gt else round(float(r["ssim"]) + rng.normal(0, 0.01), 4),
                            "auc": 1 if gt else round(float(r["auc"]) + rng.normal(0, 0.01), 4),
                            "auc_rebal": 1 if gt else round(float(r["auc_rebal"]) + rng.normal(0, 0.01), 4),
                            "colorfulness": round(float(r["colorfulness"]) + abs(rng.normal(0, 2)), 2),
                            "top1_class": int(rng.integers(0, 1000)), "top1_agrees": int(rng.random() < 0.7)})
    edges = AB_HIST_EDGES
    centres = (edges[:-1] + edges[1:]) / 2
    hists = sample_hists(centres)
    arrays = {"edges": edges.astype(np.float32), "centres": centres.astype(np.float32),
              "rows": np.array(list(hists)), "pixels": np.array(len(IMAGES) * 256 * 256)}
    for name, h in hists.items():
        arrays[f"{name}__hist2d"] = h.astype(np.float32)
        arrays[f"{name}__a"] = h.sum(1).astype(np.float32)
        arrays[f"{name}__b"] = h.sum(0).astype(np.float32)
    np.savez_compressed(folder / "ab_hist.npz", **arrays)
    meta = {"data": "/data/sample/val.tar", "images": len(IMAGES), "limit": None, "batch_size": 16,
            "models": {TRAINED: {"weights": "trained"}, RANDOM: {"weights": "random"}},
            "metrics": {"psnr": "dB on RGB in [0, 1]"}, "commit": "0123456789abcdef", "commit_dirty": False,
            "date_utc": "2026-01-02T03:04:05+00:00",
            "machine": {"processor": "x86_64", "device": "cpu", "torch_threads": 2}}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def write_bench(path: Path) -> None:
    from colorcore.bench import COLUMNS

    rows = [{"model": "eccv16-full", "reference": 1, "weights": "random", "params": 32_000_000, "device": "cpu",
             "threads": 2, "size": "256x256", "megapixels": 0.065536, "latency_median_s": 1.3, "latency_p90_s": 1.4}]
    for m, k in ((TRAINED, 0.02), (RANDOM, 0.03)):
        for w, h in ((256, 256), (1024, 1024), (4000, 3000)):
            mp = w * h / 1e6
            rows.append({"model": m, "reference": 0, "weights": "trained", "params": 2_000_000, "device": "cpu",
                         "threads": 2, "size": f"{w}x{h}", "megapixels": mp, "latency_median_s": k + 0.08 * mp,
                         "latency_p90_s": k + 0.09 * mp, "throughput_img_s": 40.0, "peak_rss_mb": 300 + 40 * mp})
    ref = rows[0]["latency_median_s"]
    for r in rows:
        r["ratio_vs_reference"] = r["latency_median_s"] / ref
        r["speedup_vs_reference"] = ref / r["latency_median_s"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, restval="", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    meta = {"models": [TRAINED, RANDOM], "sizes": ["256x256", "1024x1024", "4000x3000"], "threads": 2,
            "commit": "0123456789abcdef", "date_utc": "2026-01-02T03:04:05+00:00", "machine": {"device": "cpu"}}
    path.with_suffix(".meta.json").write_text(json.dumps(meta) + "\n")


def write_log(path: Path, terms: dict[str, float], steps: int, val_every: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = ["step", "epoch", "lr", "images_per_s", "wall_s", *terms, "val_psnr", "val_colorfulness", "val_auc"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fields, lineterminator="\n")
        w.writeheader()
        for step in range(25, steps + 1, 25):
            row = {"step": step, "epoch": step // 400, "lr": 2e-4 * min(1, step / 200),
                   "images_per_s": 28 + rng.normal(), "wall_s": step * 1.1}
            row.update({k: v * (0.5 + 0.5 * np.exp(-step / 300)) * (1 + 0.05 * rng.normal()) for k, v in terms.items()})
            if step % val_every == 0:
                row.update({"val_psnr": 22 + step / 1000, "val_colorfulness": 10 + step / 100,
                            "val_auc": 0.85 + step / 1e5})
            w.writerow(row)


SAMPLE_BUDGET = {"steps": 1000, "batch": 16, "wall_s": 5400.0, "data_version": 2, "hardware": "a made-up CPU"}


def write_config(path: Path) -> None:
    """A weights config.json with the training facts colorcore.provenance reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model": TRAINED, **SAMPLE_BUDGET}, indent=2) + "\n")


def write_sample(root: Path) -> Path:
    """The whole synthetic workbench under root; returns root."""
    root = Path(root)
    write_eval_set(root / "results" / "val")
    write_eval_set(root / "results" / "holdout")
    write_bench(root / "results" / "bench.csv")
    write_log(root / "weights" / TRAINED / "train_log.csv", {"loss": 0.05, "l2": 0.05}, 1000, 250)
    write_config(root / "weights" / TRAINED / "config.json")
    write_log(root / "runs" / IN_PROGRESS / "train_log.csv", {"loss": 6.0, "ce_a": 3.0, "ce_b": 3.0}, 300, 100, 1)
    return root


if __name__ == "__main__":
    print(write_sample(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/colorcore-dashboard-sample")))
