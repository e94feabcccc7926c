"""Choose a bin model's decoding on held-out photos, never on a validation set:

    python -m colorcore tune --model lite0-unet --data ../shared/data/train-105.tar --limit 200 [--write]

For each temperature it fits the confidence fade (colorcore.confidence: the
least-squares chroma scale per entropy bin) on the photos, then scores every
(temperature, fade strength) pair with the evaluation protocol (PSNR,
colourfulness, AuC) and picks the most accurate one (AuC, then PSNR) that keeps
at least `--cf-floor` of the ground truth's colourfulness and does not pass it:
accuracy first, so colours the model cannot tell fade, with a floor on vividness
so the photo still comes out in colour. Held-out training photos are easier than
photos unlike them (the model is surer there), so a rule "most colourful that does
no harm here" would fade nothing; this one transfers. With --write the choice goes
into the weights' config.json ("temperature", "confidence_fade"), which
load_colorizer uses as the model's defaults.
"""
from __future__ import annotations

import json

import numpy as np
import torch
import torch.nn.functional as F

from .confidence import FadeFit
from .data import EvalImages, lab_batch
from .evaluate import EVAL_SIZE
from .hub import CONFIG_FILE, find_weights
from .metrics import colorfulness, score_images, truth_terms
from .pipeline import Colorizer, load_colorizer
from .render import render_gray
from .tables import text_table

DEFAULT_TEMPERATURES = (0.2, 0.38, 0.5, 0.7, 1.0)
DEFAULT_STRENGTHS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
CF_FLOOR = 0.75  # of the truth's colourfulness: the band 28-45 against a truth near 41
METRICS = ("psnr", "colorfulness", "auc")


def batches(data: str, limit: int):
    loader = torch.utils.data.DataLoader(EvalImages(data, EVAL_SIZE, limit), batch_size=16)
    for _, rgb in loader:
        yield rgb, *lab_batch(rgb)


def fit_fades(colorizer: Colorizer, data: str, limit: int, temperatures) -> dict[float, dict]:
    """The confidence fade of the model at each temperature."""
    fits = {t: FadeFit() for t in temperatures}
    with torch.inference_mode():
        for _, L, ab in batches(data, limit):
            for t, fit in fits.items():
                out = colorizer.predict(L, t, fade=False)
                fit.add(out["entropy"] / colorizer.model.max_entropy, out["ab"],
                        F.interpolate(ab, size=out["ab"].shape[-2:], mode="area"))
    return {t: fit.curve() for t, fit in fits.items()}


def score(colorizer: Colorizer, data: str, limit: int, settings: list[tuple[float, dict | None]]):
    """Metrics of each (temperature, fade curve or None) and of the gray image and truth."""
    sums = [{k: [] for k in METRICS} for _ in settings]
    ref = {"gray_psnr": [], "gray_auc": [], "truth_colorfulness": []}
    base = dict(colorizer.config)
    with torch.inference_mode():
        for rgb, L, _ in batches(data, limit):
            truth = truth_terms(rgb, rebalanced=False)
            gray = score_images(render_gray(L), truth, METRICS)
            ref["gray_psnr"] += gray["psnr"].tolist()
            ref["gray_auc"] += gray["auc"].tolist()
            ref["truth_colorfulness"] += colorfulness(rgb).tolist()
            for s, (t, curve) in zip(sums, settings):
                colorizer.config = {**base, "confidence_fade": curve}
                out = score_images(colorizer.colorize_tensor(L, temperature=t)["rgb"], truth, METRICS)
                for k in METRICS:
                    s[k] += out[k].tolist()
    colorizer.config = base
    rows = [{"temperature": t, "strength": curve["strength"] if curve else 0.0,
             **{k: float(np.mean(v)) for k, v in s.items()}} for (t, curve), s in zip(settings, sums)]
    return rows, {k: float(np.mean(v)) for k, v in ref.items()}


def choose(rows: list[dict], ref: dict, cf_floor: float = CF_FLOOR) -> dict:
    truth = ref["truth_colorfulness"]
    ok = [r for r in rows if cf_floor * truth <= r["colorfulness"] <= truth]
    if not ok:  # nothing in the band: the one nearest to it
        return min(rows, key=lambda r: min(abs(r["colorfulness"] - cf_floor * truth), abs(r["colorfulness"] - truth)))
    return max(ok, key=lambda r: (round(r["auc"], 4), r["psnr"]))


def main(model: str, data: str, limit: int = 200, cf_floor: float = CF_FLOOR, write: bool = False,
         temperatures: str | None = None, weights: str | None = None, strengths: str | None = None) -> dict:
    temps = tuple(float(t) for t in temperatures.split(",")) if temperatures else DEFAULT_TEMPERATURES
    powers = tuple(float(s) for s in strengths.split(",")) if strengths else DEFAULT_STRENGTHS
    colorizer = load_colorizer(model, weights=weights)
    if not colorizer.model.predicts_distribution:
        raise SystemExit(f"{model} regresses ab directly: it has no temperature or distribution to tune")
    curves = fit_fades(colorizer, data, limit, temps)
    settings = [(t, {**curves[t], "strength": s} if s else None) for t in temps for s in powers]
    rows, ref = score(colorizer, data, limit, settings)
    best = choose(rows, ref, cf_floor)
    print(f"{limit} photos of {data}: gray PSNR {ref['gray_psnr']:.2f} dB, gray AuC {ref['gray_auc']:.3f}, "
          f"ground-truth colourfulness {ref['truth_colorfulness']:.1f}")
    print(text_table(["temperature", "strength", "psnr", "colorfulness", "auc", ""],
                     [[f"{r['temperature']:.2f}", f"{r['strength']:.2f}", f"{r['psnr']:.2f}", f"{r['colorfulness']:.1f}",
                       f"{r['auc']:.3f}", "<- chosen" if r is best else ""] for r in rows]))
    curve = {**curves[best["temperature"]], "strength": best["strength"]}
    print("fade at the chosen temperature (normalised entropy: chroma scale): "
          + ", ".join(f"{e:.2f}: {s:.2f}" for e, s in zip(curve["entropy"], curve["scale"])))
    if write:
        folder = find_weights(model, weights, network=False)
        path = folder / CONFIG_FILE
        cfg = json.loads(path.read_text())
        cfg["temperature"] = best["temperature"]
        cfg["confidence_fade"] = curve
        cfg["decoding_tuning"] = {"data": data, "images": limit, "cf_floor": cf_floor, "chosen": best, **ref}
        cfg.pop("temperature_tuning", None)  # the older, temperature-only record
        path.write_text(json.dumps(cfg, indent=2) + "\n")
        print(f"wrote temperature {best['temperature']} and fade strength {best['strength']} to {path}")
    return best
