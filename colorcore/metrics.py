"""Image-quality metrics for colorization. Inputs are sRGB tensors in [0, 1]
shaped (B, 3, H, W) or Lab ab shaped (B, 2, H, W); outputs are per-image (B,)."""
from __future__ import annotations

import torch

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
    w = torch.ones_like(err) if pixel_weights is None else pixel_weights.flatten(1).to(err)
    w = w / w.sum(1, keepdim=True)
    # err <= t  <=>  ceil(err) <= t for integer t: a weighted histogram of ceil(err)
    # and its cumulative sum give the curve without an (N x 151) comparison.
    n = len(AUC_THRESHOLDS)
    bucket = torch.ceil(err).clamp(max=n).long()  # n collects every error above 150
    hist = torch.zeros(err.shape[0], n + 1, dtype=w.dtype, device=w.device).scatter_add_(1, bucket, w)
    return hist[:, :n].cumsum(1)


def auc(curve: torch.Tensor) -> torch.Tensor:
    """Area under the accuracy curve over thresholds 0..150, normalised to 0..1."""
    return torch.trapezoid(curve, AUC_THRESHOLDS.to(curve), dim=1) / 150
