"""How well a hint-taking model follows colour hints:

    python -m colorcore evaluate-hints --data ../shared/data/val-broad.tar --out results/hints

Each photo is taken by the evaluation protocol (256x256, data.EvalImages); for every
hint count N (0, 1, 2, 5, 10, 20) it gets the first N of a fixed list of hints drawn
from its own ground truth (colorcore.hints.sample_hints, seeded by the photo's index
and --seed: the N-hint set holds the (N-1)-hint set), and the output is scored against
the ground truth as `evaluate` scores it. Written to --out:

- curve.csv: one row per (model, hints): images, psnr, auc, colorfulness, and
  psnr_gain (over the same model with no hints);
- per_image.csv: one row per (image, model, hints): psnr;
- edges.csv: the synthetic edge check (edge_leak): two flat regions of different
  lightness split by a straight edge, one hint in one of them; how far the other
  region's chroma moves, as a share of the hinted region's change;
- meta.json: data, images, seeds, commit, date, machine, weights.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .data import EvalImages, lab_batch
from .evaluate import load_for_eval, model_names, write_csv
from .hints import MAX_HINTS, Hint, hex_to_ab, sample_hints
from .metrics import score_images, truth_terms
from .provenance import git_commit, load_average, machine
from .schema import EVAL_SIZE

COUNTS = (0, 1, 2, 5, 10, 20)
CURVE_COLUMNS = ["model", "hints", "images", "psnr", "psnr_gain", "auc", "colorfulness"]
PER_IMAGE_COLUMNS = ["image", "model", "hints", "psnr"]
EDGE_COLUMNS = ["model", "case", "hinted_change", "other_change", "leak"]
# The synthetic scenes: (edge direction, lightness of the hinted side, of the other, hint colour)
EDGE_CASES = [
    ("vertical", 45.0, 75.0, "#2050d0"),
    ("vertical", 75.0, 45.0, "#d03020"),
    ("horizontal", 55.0, 30.0, "#20a040"),
    ("horizontal", 30.0, 65.0, "#e0c020"),
]


def photo_seed(index: int, seed: int) -> int:
    """The hints of the index-th photo: the same in every run, model and count."""
    return seed * 1_000_003 + index


def edge_scene(direction: str, l_hinted: float, l_other: float, size: int = EVAL_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """(L (1, 1, size, size), mask of the hinted side (size, size)): two flat halves."""
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    hinted = (xx < size // 2) if direction == "vertical" else (yy < size // 2)
    L = torch.where(hinted, torch.tensor(l_hinted), torch.tensor(l_other)).float()
    return L.view(1, 1, size, size), hinted


def edge_leak(colorizer, cases=EDGE_CASES, size: int = EVAL_SIZE) -> list[dict]:
    """For each scene: the mean |delta ab| that one hint (at the centre of its half)
    makes over the hinted half and over the other half, and their ratio (the leak)."""
    rows = []
    for direction, l_hinted, l_other, colour in cases:
        L, hinted = edge_scene(direction, l_hinted, l_other, size)
        x, y = (size // 4, size // 2) if direction == "vertical" else (size // 2, size // 4)
        hint = Hint(float(x), float(y), *hex_to_ab(colour))
        ab_auto = colorizer.colorize_tensor(L)["ab"]
        ab_hint = colorizer.colorize_tensor(L, hints=[[hint]])["ab"]
        change = (ab_hint - ab_auto).norm(dim=1)[0]  # the net's resolution
        side = torch.nn.functional.interpolate(hinted[None, None].float(), size=change.shape, mode="area")[0, 0]
        # only the cells wholly on one side: the edge's own cells are both
        on, off = change[side > 0.999].mean().item(), change[side < 0.001].mean().item()
        rows.append({"model": colorizer.spec.name, "case": f"{direction} L{l_hinted:.0f}|L{l_other:.0f} {colour}",
                     "hinted_change": on, "other_change": off, "leak": off / max(on, 1e-6)})
    return rows


def evaluate_hints(data: str, models: str, out: str | Path, counts=COUNTS, seed: int = 0,
                   limit: int | None = None, batch_size: int = 16, threads: int = 2,
                   progress: bool = True) -> list[dict]:
    t_start, load_start = time.perf_counter(), load_average()
    torch.set_num_threads(threads)
    out = Path(out)
    counts = sorted({0, *(int(c) for c in counts)})  # the gains are over no hints
    names = model_names(models)
    colorizers = {}
    for name in names:
        colorizer, weights = load_for_eval(name)
        if weights != "trained" or not colorizer.accepts_hints:
            raise ValueError(f"model {name!r} has no trained weights that take colour hints")
        colorizers[name] = colorizer
    dataset = EvalImages(data, EVAL_SIZE, limit)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=0)
    per_image: list[dict] = []
    sums: dict[tuple[str, int], dict[str, list]] = {(n, c): {"psnr": [], "auc": [], "colorfulness": []}
                                                    for n in names for c in counts}
    index = 0
    with torch.inference_mode():
        for image_names, rgb in tqdm(loader, desc="evaluate-hints", unit="batch", disable=not progress):
            L, ab = lab_batch(rgb)
            truth = truth_terms(rgb, rebalanced=False)
            drawn = [sample_hints(ab[i], max(counts), photo_seed(index + i, seed)) for i in range(len(rgb))]
            index += len(rgb)
            for name, colorizer in colorizers.items():
                for c in counts:
                    result = colorizer.colorize_tensor(L, hints=[h[:c] for h in drawn] if c else None)
                    scores = score_images(result["rgb"], truth, ("psnr", "auc", "colorfulness"))
                    for k, v in scores.items():
                        sums[(name, c)][k] += v.tolist()
                    per_image += [{"image": n, "model": name, "hints": c, "psnr": p}
                                  for n, p in zip(image_names, scores["psnr"].tolist())]
    curve = []
    for name in names:
        base = float(np.mean(sums[(name, counts[0])]["psnr"]))
        for c in counts:
            s = sums[(name, c)]
            psnr = float(np.mean(s["psnr"]))
            curve.append({"model": name, "hints": c, "images": len(s["psnr"]), "psnr": psnr,
                          "psnr_gain": psnr - base, "auc": float(np.mean(s["auc"])),
                          "colorfulness": float(np.mean(s["colorfulness"]))})
    edges = [row for c in colorizers.values() for row in edge_leak(c)]
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "curve.csv", curve, CURVE_COLUMNS)
    write_csv(out / "per_image.csv", per_image, PER_IMAGE_COLUMNS)
    write_csv(out / "edges.csv", edges, EDGE_COLUMNS)
    commit, dirty = git_commit()
    meta = {
        "data": str(data), "images": len(dataset),
        "image_list_sha256": hashlib.sha256("\n".join(r.name for r in dataset.refs).encode()).hexdigest(),
        "limit": limit, "counts": counts, "seed": seed,
        "protocol": f"evaluate's (short side {EVAL_SIZE}, centre crop, 8-bit outputs); hints: uniform points, "
                    "each the mean ab of a 1x1 to 5x5 patch of the ground truth (colorcore.hints.sample_hints), "
                    "the N-hint set of a photo holding its (N-1)-hint set; psnr_gain: over no hints",
        "edges": "two flat halves split by an edge, one hint at the centre of one half; leak = mean |delta ab| "
                 "over the other half / over the hinted half, at the net's output resolution",
        "models": {n: {"source": c.source, "sha256": c.config.get("sha256"), "net_size": c.spec.net_size,
                       "temperature": c.defaults["temperature"]} for n, c in colorizers.items()},
        "commit": commit, "commit_dirty": dirty,
        "date_utc": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "machine": machine("cpu", threads, load_start),
        "wall_seconds": round(time.perf_counter() - t_start, 1),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return curve


def main(data: str, models: str, out: str, counts: str, seed: int, limit: int | None, batch_size: int,
         threads: int) -> int:
    from .tables import text_table

    try:
        parsed = [int(c) for c in counts.split(",")]
    except ValueError:
        print(f"error: --counts {counts!r}: expected comma-separated whole numbers", file=sys.stderr)
        return 2
    if min(parsed) < 0 or max(parsed) > MAX_HINTS:
        print(f"error: --counts {counts!r}: use 0 to {MAX_HINTS} hints", file=sys.stderr)
        return 2
    try:
        curve = evaluate_hints(data, models, out, parsed, seed, limit, batch_size, threads)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    cols = CURVE_COLUMNS
    print(text_table(cols, [[f"{r[c]:.4f}" if isinstance(r[c], float) else str(r[c]) for c in cols] for r in curve]))
    return 0
