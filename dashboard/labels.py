"""What the pages call each column, and what each metric rewards: one place, so that
tables, charts, the verdict and the exported report say the same thing."""
from __future__ import annotations

from .loaders import FRECHET_COLUMN, HIGHER_BETTER, LOWER_BETTER, SEMANTIC_COLUMN

LABELS = {
    # results/<set>/metrics.csv and per_image.csv
    "psnr": "PSNR (dB)", "ssim": "SSIM", "auc": "AuC", "auc_rebal": "AuC (rare colours)",
    "colorfulness": "colourfulness", "delta_cf": "Δ colourfulness", SEMANTIC_COLUMN: "semantic agreement",
    FRECHET_COLUMN: "Fréchet distance", "seconds_per_image": "s / image (eval)", "images": "images",
    "top1_class": "top-1 class", "top1_agrees": "same class as truth", "ms": "ms here",
    # training budgets (loaders.read_budgets)
    "data": "data", "steps": "steps", "images seen": "images seen", "hours": "hours", "hardware": "hardware",
    # ab statistics (figures.ab_stats)
    "row": "row", "mean_a": "mean a", "mean_b": "mean b", "mean_chroma": "mean chroma",
    "intersection_with_gt": "overlap with truth", "gt_mass_never_reached": "truth's colour never reached",
    # training logs
    "val_psnr": "val PSNR (dB)", "val_colorfulness": "val colourfulness", "val_auc": "val AuC", "lr": "learning rate",
    "images_per_s": "images / s", "wall_s": "wall time (s)", "loss": "loss",
    # results/bench.csv
    "latency_median_s": "latency, median (s)", "latency_p90_s": "latency, p90 (s)",
    "ratio_vs_reference": "÷ reference", "speedup_vs_reference": "speed-up", "throughput_img_s": "batch img / s",
    "peak_rss_mb": "peak RSS (MB)", "cuda_max_alloc_mb": "CUDA max alloc. (MB)", "params": "parameters",
    "weights_mb_fp16": "fp16 MB", "megapixels": "megapixels",
    # results/hints/ (evaluate-hints) and verdict.gain_spread
    "hints": "hints", "psnr_gain": "PSNR gain (dB)", "median_gain": "median (dB)",
    "p10_gain": "10th pct. (dB)", "share_worse": "got worse", "case": "scene",
    "hinted_change": "|Δab| hinted side", "other_change": "|Δab| other side", "leak": "leak",
}

# One sentence per metric: what a high (or low) score rewards, so that a table with
# different winners per column reads as trade-offs rather than noise.
REWARDS = {
    "psnr": "PSNR rewards caution: a muted, near-gray guess loses little, a bold wrong colour a lot, so gray "
            "itself scores well.",
    "ssim": "SSIM rewards keeping structure and contrast; with the lightness given, colour moves it little.",
    "auc": "AuC rewards being close in ab on most pixels, which are mostly the common, low-chroma ones.",
    "auc_rebal": "AuC (rare colours): the same with every colour class weighted equally, so it rewards getting "
                 "the saturated, uncommon colours right.",
    "colorfulness": "Colourfulness rewards boldness, right or wrong; it has no better direction (the ground "
                    "truth's value is the aim).",
    "delta_cf": "Δ colourfulness rewards matching the photos' overall vividness, whatever the colours are.",
    SEMANTIC_COLUMN: "Semantic agreement rewards the right colours on the right things: a classifier (not in "
                     "any model) sees the same object in the output as in the photo.",
    FRECHET_COLUMN: "Fréchet distance rewards outputs that, as a set, look like real photos to that "
                    "classifier's features.",
    "seconds_per_image": "Seconds per image during evaluation, on a shared CPU: a rough speed, not a quality "
                         "(the Speed page has the benchmark).",
}


def label(column: str) -> str:
    """The human label of a column, with ↑ / ↓ where one way is better."""
    text = LABELS.get(column, column.replace("_", " "))
    return text + (" ↑" if column in HIGHER_BETTER else " ↓" if column in LOWER_BETTER else "")


def rename(df):
    """A copy of df with labelled columns (for the exported report; the pages keep the
    raw names and label them through column_config)."""
    return df.rename(columns={c: label(c) for c in df.columns})
