"""Confidence-aware decoding: fade a bin model's chroma towards the photo's gray
where its predicted distribution is uncertain, so that a colour it cannot tell
stays near gray rather than coming out wrong (a wrong colour misleads more than a
missing one: DESIGN.md).

The rule is a curve: normalised entropy of the predicted distribution (0 = one
bin, 1 = uniform over all bins) -> chroma scale in [0, 1], non-increasing. `fit`
makes it from held-out photos as the least-squares scale per entropy bin,
w = E[pred . true] / E[|pred|^2] (the scale of the predicted ab that comes
closest to the truth's on the pixels of that confidence), then forces it
non-increasing (pool-adjacent-violators) and into [0, 1]. That least-squares
scale is the most cautious sensible one (it minimises the ab error, which gray
photos' PSNR rewards); the curve's `strength` s applies w ** s, from 0 (no fade)
to 1 (the fitted scale). `tune --write` chooses s and stores the curve in
config.json ("confidence_fade"); the Colorizer applies it by default.
"""
from __future__ import annotations

import numpy as np
import torch

FIT_BINS = 12  # knots of the curve: equal-width bins of normalised entropy


def fade_scale(entropy_norm: torch.Tensor, curve: dict) -> torch.Tensor:
    """Chroma scale of each pixel from its normalised entropy, by linear
    interpolation between the curve's knots (flat beyond the ends), to the power
    of the curve's strength."""
    x = torch.as_tensor(curve["entropy"], dtype=torch.float32)
    y = torch.as_tensor(curve["scale"], dtype=torch.float32)
    e = entropy_norm.float().clamp(float(x[0]), float(x[-1]))
    i = torch.searchsorted(x, e.contiguous()).clamp(1, len(x) - 1)
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    w = y0 + (y1 - y0) * ((e - x0) / (x1 - x0).clamp(min=1e-9))
    return w ** float(curve.get("strength", 1.0))


def check_curve(curve) -> None:
    """ValueError naming what is wrong with a stored curve (it comes from a file)."""
    if not isinstance(curve, dict):
        raise ValueError(f"confidence_fade must be an object, not {type(curve).__name__}")
    try:
        x = np.asarray(curve["entropy"], dtype=float)
        y = np.asarray(curve["scale"], dtype=float)
        strength = float(curve.get("strength", 1.0))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"confidence_fade needs numeric 'entropy' and 'scale' lists ({e})") from None
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2 or not np.all(np.diff(x) > 0):
        raise ValueError("confidence_fade: 'entropy' must rise strictly and match 'scale' in length (2 or more)")
    if not (np.all((y >= 0) & (y <= 1)) and 0 <= strength <= 4):
        raise ValueError("confidence_fade: 'scale' must lie in [0, 1] and 'strength' in [0, 4]")


def _non_increasing(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares fit of y by a non-increasing sequence (PAVA)."""
    blocks = [[float(v), float(n), 1] for v, n in zip(y, w)]  # value, weight, length
    out: list[list[float]] = []
    for b in blocks:
        out.append(b)
        while len(out) > 1 and out[-2][0] < out[-1][0]:
            (v2, w2, n2), (v1, w1, n1) = out.pop(), out.pop()
            tw = w1 + w2
            v = (v1 * w1 + v2 * w2) / tw if tw > 0 else (v1 * n1 + v2 * n2) / (n1 + n2)  # weightless: plain mean
            out.append([v, tw, n1 + n2])
    return np.concatenate([[v] * int(n) for v, _, n in out])


class FadeFit:
    """Accumulates, per entropy bin, the sums that the least-squares scale needs."""

    def __init__(self, bins: int = FIT_BINS):
        self.edges = np.linspace(0.0, 1.0, bins + 1)
        self.dot = np.zeros(bins)
        self.sq = np.zeros(bins)
        self.count = np.zeros(bins)

    def add(self, entropy_norm: torch.Tensor, pred_ab: torch.Tensor, true_ab: torch.Tensor) -> None:
        """entropy_norm (B, h, w); pred_ab and true_ab (B, 2, h, w) at that resolution."""
        e = entropy_norm.flatten().double().numpy()
        dot = (pred_ab * true_ab).sum(1).flatten().double().numpy()
        sq = (pred_ab ** 2).sum(1).flatten().double().numpy()
        k = np.clip(np.digitize(e, self.edges[1:-1]), 0, len(self.dot) - 1)
        self.dot += np.bincount(k, dot, len(self.dot))
        self.sq += np.bincount(k, sq, len(self.dot))
        self.count += np.bincount(k, minlength=len(self.dot))

    def curve(self, min_pixels: int = 200) -> dict:
        """The fitted curve at the bin centres; bins with too few pixels take their
        neighbours' value through the monotone fit (they get no weight)."""
        centres = (self.edges[:-1] + self.edges[1:]) / 2
        enough = self.count >= min_pixels
        raw = np.where(enough, self.dot / np.maximum(self.sq, 1e-12), 0.0)
        if not enough.any():
            raise ValueError("too few pixels to fit a confidence fade")
        # empty bins: copy the nearest filled bin so they cannot pull the fit
        idx = np.flatnonzero(enough)
        raw = raw[idx[np.abs(np.arange(len(raw))[:, None] - idx[None]).argmin(1)]]
        scale = np.clip(_non_increasing(raw, np.where(enough, self.sq, 0.0)), 0.0, 1.0)
        return {"entropy": [round(float(c), 4) for c in centres], "scale": [round(float(s), 4) for s in scale],
                "pixels": [int(c) for c in self.count]}
