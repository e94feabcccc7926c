"""Choose a bin model's annealed-mean temperature on held-out photos:

    python -m colorcore tune --model lite0-unet --data '../shared/data/train-006.tar' --limit 200 [--write]

For each temperature it scores PSNR, colourfulness and AuC (the evaluation protocol)
and picks the most colourful temperature whose PSNR stays within `--psnr-margin` dB
of the gray image's and whose colourfulness does not pass the ground truth's. With
--write the choice goes into weights/<name>/config.json ("temperature"), which
load_colorizer uses as the model's default. Tune on photos that are not the
validation set, so the validation numbers stay honest.
"""
from __future__ import annotations

import json

import numpy as np
import torch

from .color import gray_rgb_from_l
from .data import EvalImages, lab_batch
from .evaluate import EVAL_SIZE, quantize
from .hub import CONFIG_FILE, find_weights
from .metrics import ab_accuracy_curve, auc, colorfulness, psnr
from .pipeline import load_colorizer

DEFAULT_TEMPERATURES = (0.1, 0.2, 0.3, 0.38, 0.5, 0.6, 0.7, 0.8, 1.0)


def score_temperatures(model: str, data: str, limit: int, temperatures=DEFAULT_TEMPERATURES) -> tuple[list, dict]:
    colorizer = load_colorizer(model)
    images = EvalImages(data, EVAL_SIZE, limit)
    loader = torch.utils.data.DataLoader(images, batch_size=16)
    sums = {t: {"psnr": [], "colorfulness": [], "auc": []} for t in temperatures}
    ref = {"gray_psnr": [], "truth_colorfulness": []}
    with torch.inference_mode():
        for _, rgb in loader:
            L, ab = lab_batch(rgb)
            ref["gray_psnr"] += psnr(quantize(gray_rgb_from_l(L).expand(-1, 3, -1, -1)), rgb).tolist()
            ref["truth_colorfulness"] += colorfulness(rgb).tolist()
            for t in temperatures:
                out = quantize(colorizer.colorize_tensor(L, temperature=t)["rgb"])
                sums[t]["psnr"] += psnr(out, rgb).tolist()
                sums[t]["colorfulness"] += colorfulness(out).tolist()
                sums[t]["auc"] += auc(ab_accuracy_curve(lab_batch(out)[1], ab)).tolist()
    rows = [{"temperature": t, **{k: float(np.mean(v)) for k, v in sums[t].items()}} for t in temperatures]
    return rows, {k: float(np.mean(v)) for k, v in ref.items()}


def choose(rows: list[dict], ref: dict, psnr_margin: float) -> dict:
    ok = [r for r in rows if r["psnr"] >= ref["gray_psnr"] - psnr_margin
          and r["colorfulness"] <= ref["truth_colorfulness"]]
    return max(ok, key=lambda r: r["colorfulness"]) if ok else max(rows, key=lambda r: r["psnr"])


def main(model: str, data: str, limit: int = 200, psnr_margin: float = 0.5, write: bool = False,
         temperatures: str | None = None) -> dict:
    temps = tuple(float(t) for t in temperatures.split(",")) if temperatures else DEFAULT_TEMPERATURES
    rows, ref = score_temperatures(model, data, limit, temps)
    best = choose(rows, ref, psnr_margin)
    print(f"gray PSNR {ref['gray_psnr']:.2f} dB, ground-truth colourfulness {ref['truth_colorfulness']:.1f}")
    print("temperature   psnr  colorfulness    auc")
    for r in rows:
        mark = "  <- chosen" if r is best else ""
        print(f"{r['temperature']:11.2f} {r['psnr']:6.2f} {r['colorfulness']:13.1f} {r['auc']:6.3f}{mark}")
    if write:
        folder = find_weights(model, network=False)
        path = folder / CONFIG_FILE
        cfg = json.loads(path.read_text())
        cfg["temperature"] = best["temperature"]
        cfg["temperature_tuning"] = {"data": data, "images": limit, "psnr_margin": psnr_margin,
                                     "chosen": best, **ref}
        path.write_text(json.dumps(cfg, indent=2) + "\n")
        print(f"wrote temperature {best['temperature']} to {path}")
    return best
