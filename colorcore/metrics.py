"""Image-quality metrics for colorization. Inputs are sRGB tensors in [0, 1]
shaped (B, 3, H, W) or Lab ab shaped (B, 2, H, W); outputs are per-image (B,)."""
from __future__ import annotations

import numpy as np
import torch

from .schema import PIXEL_METRICS

AUC_THRESHOLDS = torch.arange(0, 151, dtype=torch.float32)  # ab error thresholds 0..150


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """PSNR in dB on 8-bit-scale RGB; identical images give +inf."""
    mse = ((pred - target) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse)


def colorfulness(rgb: torch.Tensor) -> torch.Tensor:
    """Hasler & Suesstrunk (2003) colourfulness M on 0..255 RGB; 0 for gray."""
    r, g, b = (rgb * 255).unbind(1)
    rg = (r - g).flatten(1)
    yb = (0.5 * (r + g) - b).flatten(1)
    std = torch.sqrt(rg.var(1, unbiased=False) + yb.var(1, unbiased=False))
    mean = torch.sqrt(rg.mean(1) ** 2 + yb.mean(1) ** 2)
    return std + 0.3 * mean


def ab_accuracy_curve(ab_pred: torch.Tensor, ab_true: torch.Tensor,
                      pixel_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Share of pixels whose ab error is within each threshold 0..150 -> (B, 151).
    With pixel_weights (B, H, W) the share is weighted (class-rebalanced AuC)."""
    err = torch.linalg.vector_norm(ab_pred - ab_true, dim=1).flatten(1)  # (B, N)
    # float64: rebalancing weights span orders of magnitude, and the curve must end at 1.
    w = torch.ones_like(err, dtype=torch.float64) if pixel_weights is None else pixel_weights.flatten(1).double()
    w = w / w.sum(1, keepdim=True)
    # err <= t  <=>  ceil(err) <= t for integer t: a weighted histogram of ceil(err)
    # and its cumulative sum give the curve without an (N x 151) comparison.
    n = len(AUC_THRESHOLDS)
    bucket = torch.ceil(err).clamp(max=n).long()  # n collects every error above 150
    hist = torch.zeros(err.shape[0], n + 1, dtype=w.dtype, device=w.device).scatter_add_(1, bucket, w)
    return hist[:, :n].cumsum(1).to(err.dtype)


def auc(curve: torch.Tensor) -> torch.Tensor:
    """Area under the accuracy curve over thresholds 0..150, normalised to 0..1."""
    return torch.trapezoid(curve, AUC_THRESHOLDS.to(curve), dim=1) / 150


# --------------------------------------------------------------------------
# Per-image scores: the one implementation behind evaluate, tune, training's
# validation, the dashboard's per-image page and the demo's Compare tab.



def truth_terms(rgb_gt: torch.Tensor, rebalanced: bool = True) -> dict[str, torch.Tensor]:
    """What scoring needs of the ground truths alone (B, 3, H, W): their ab and, for
    auc_rebal, the rare-colour weights (the costliest part), computed once and
    reused for every output scored against them."""
    from .color import rgb_to_lab

    terms = {"rgb": rgb_gt, "ab": rgb_to_lab(rgb_gt)[:, 1:]}
    if rebalanced:
        terms["weights"] = rebalanced_pixel_weights(terms["ab"])
    return terms


def score_images(rgb_out: torch.Tensor, truth: dict[str, torch.Tensor],
                 which: tuple[str, ...] = PIXEL_METRICS, ab_out: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Per-image metrics (B,) of outputs (B, 3, H, W) against truth_terms() of their
    ground truths; the ab of an output is the ab of its RGB. `which`: a subset of
    PIXEL_METRICS, for callers that need only the cheap ones; ab_out: the outputs' ab,
    where the caller has it already."""
    from .color import rgb_to_lab

    unknown = set(which) - set(PIXEL_METRICS)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; known: {', '.join(PIXEL_METRICS)}")
    g, ab_g = truth["rgb"], truth["ab"]
    ab_o = ab_out
    if ab_o is None and {"auc", "auc_rebal"} & set(which):
        ab_o = rgb_to_lab(rgb_out)[:, 1:]
    compute = {
        "psnr": lambda: psnr(rgb_out, g),
        "ssim": lambda: ssim(rgb_out, g),
        "auc": lambda: auc(ab_accuracy_curve(ab_o, ab_g)),
        "auc_rebal": lambda: auc(ab_accuracy_curve(ab_o, ab_g, truth["weights"])),
        "colorfulness": lambda: colorfulness(rgb_out),
    }
    return {k: compute[k]() for k in which}


# --------------------------------------------------------------------------
# Class-rebalanced accuracy (Zhang et al. 2016, "AuC rebal")

def rebalanced_pixel_weights(ab_true: torch.Tensor, centres: torch.Tensor | None = None,
                             prior: torch.Tensor | None = None) -> torch.Tensor:
    """Weight of every pixel (B, H, W) = 1 / prior of the gamut bin nearest to its
    ground-truth ab, so that each colour class counts equally (Zhang et al. 2016).
    centres / prior default to the committed gamut."""
    if centres is None or prior is None:
        from .color import default_gamut
        g = default_gamut()
        centres = g.centres if centres is None else centres
        prior = g.prior if prior is None else prior
    from .color import nearest_bin
    inv = 1.0 / prior.double().clamp(min=1e-12)
    # One image at a time keeps the (pixels x bins) distance matrix small.
    idx = torch.cat([nearest_bin(ab_true[i:i + 1].float(), centres.float()) for i in range(len(ab_true))])
    return inv.to(ab_true.device)[idx].float()


# --------------------------------------------------------------------------
# SSIM (Wang et al. 2004): Gaussian window 11, sigma 1.5, K1 = 0.01, K2 = 0.03

def _gaussian_1d(size: int, sigma: float, dtype, device) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    return (g / g.sum()).to(dtype=dtype, device=device)


def ssim(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0,
         win_size: int = 11, sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """Mean SSIM per image (B,), computed on each RGB channel and averaged over the
    channels, over the positions where the whole window fits (no padding).

    Equals skimage.metrics.structural_similarity(..., channel_axis=-1, data_range=1,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False): skimage filters
    with reflection padding and then crops the (win_size - 1) / 2 border, which is
    exactly the valid region used here."""
    x, y = pred.float(), target.float()
    H, W = x.shape[-2:]
    g = _gaussian_1d(win_size, sigma, x.dtype, x.device)

    def band(n: int) -> torch.Tensor:
        """(n, n - win + 1) matrix whose columns are the window at each valid offset."""
        m = torch.zeros(n, n - win_size + 1, dtype=x.dtype, device=x.device)
        for j in range(n - win_size + 1):
            m[j:j + win_size, j] = g
        return m

    bh, bw = band(H), band(W)

    def filt(t: torch.Tensor) -> torch.Tensor:
        # A separable Gaussian filter over the valid region, as two banded matrix products.
        return bh.T @ (t @ bw)

    mx, my = filt(x), filt(y)
    vx = filt(x * x) - mx * mx
    vy = filt(y * y) - my * my
    cxy = filt(x * y) - mx * my
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.mean((1, 2, 3))


# --------------------------------------------------------------------------
# Semantic agreement and a Frechet distance on classifier features

def top1_agreement(logits_pred: torch.Tensor, logits_true: torch.Tensor) -> torch.Tensor:
    """1.0 where the classifier's top-1 class on the output equals the one on the
    ground truth, else 0.0; shape (B,). No labels needed."""
    return (logits_pred.argmax(1) == logits_true.argmax(1)).float()


def feature_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (population, 1/N) of an (N, D) feature array."""
    f = np.asarray(features, dtype=np.float64)
    mu = f.mean(0)
    d = f - mu
    return mu, d.T @ d / len(f)


def _psd_eigvals_sqrt(w: np.ndarray) -> np.ndarray:
    """sqrt of the eigenvalues of a PSD matrix; round-off (|w| below 1e-12 of the
    largest) counts as 0, so rank-deficient covariances give exact answers."""
    w = np.where(w > 1e-12 * max(w.max(initial=0.0), 0.0), w, 0.0)
    return np.sqrt(w)


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * _psd_eigvals_sqrt(w)) @ v.T


def frechet_distance_from_stats(mu1, s1, mu2, s2) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)) between two Gaussians.

    tr((S1 S2)^(1/2)) is computed as tr((A S2 A)^(1/2)) with A = S1^(1/2): the two
    matrices are similar, and the second is symmetric positive semi-definite, so two
    symmetric eigen-decompositions do it stably (no complex parts, no scipy)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(s1, np.float64), np.asarray(s2, np.float64)
    a = _sqrt_psd(s1)
    m = a @ s2 @ a
    tr_covmean = _psd_eigvals_sqrt(np.linalg.eigvalsh((m + m.T) / 2)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def frechet_distance(features1, features2) -> float:
    """Frechet distance between Gaussians fitted to two (N, D) feature sets."""
    return frechet_distance_from_stats(*feature_stats(features1), *feature_stats(features2))


# --------------------------------------------------------------------------
# ab histograms

AB_HIST_EDGES = np.arange(-110.5, 111.0, 1.0)  # 222 edges: 221 one-unit bins centred on -110..110


def ab_histogram(ab: torch.Tensor, edges: np.ndarray = AB_HIST_EDGES) -> torch.Tensor:
    """Counts (A, A) of ab (B, 2, H, W) on a square grid of equal bins: row = a bin,
    column = b bin. Values beyond the range fall into the outermost bins."""
    n = len(edges) - 1
    lo, step = float(edges[0]), float(edges[1] - edges[0])
    ij = torch.floor((ab.detach().double() - lo) / step).long().clamp(0, n - 1)
    flat = (ij[:, 0] * n + ij[:, 1]).flatten()
    return torch.bincount(flat, minlength=n * n).reshape(n, n).double()
