"""Colour math: sRGB <-> CIE Lab (D65), the quantised ab gamut, soft encoding,
class rebalancing and annealed-mean decoding.

Everything here is plain torch, batched over (B, C, H, W) and differentiable, so
the same functions serve the pipeline, the losses and the metrics.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

# sRGB (D65) -> XYZ, the same matrix as skimage.color.
_XYZ_FROM_RGB = torch.tensor(
    [[0.412453, 0.357580, 0.180423],
     [0.212671, 0.715160, 0.072169],
     [0.019334, 0.119193, 0.950227]], dtype=torch.float64)
_RGB_FROM_XYZ = torch.linalg.inv(_XYZ_FROM_RGB)
# D65 as the matrix maps RGB white (0.950456, 1, 1.088754; skimage rounds it to 0.95047,
# 1, 1.08883): grays are then exactly neutral both ways (a = b = 0 <-> R = G = B).
_WHITE = _XYZ_FROM_RGB.sum(1)
_EPS = 216 / 24389  # 0.008856: where the cube root meets the linear segment
LAB_F_KNEE = _EPS  # lab_f is t ** (1/3) above this, linear at and below
_KAPPA = 24389 / 27 / 116  # 7.787

# Models see L / 50 - 1 in [-1, 1] and ab / AB_SCALE, roughly in [-1, 1].
AB_SCALE = 110.0


def _mix(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Apply a 3x3 colour matrix along dim 1 of a (B, 3, H, W) tensor."""
    return torch.einsum("ij,bjhw->bihw", matrix.to(x), x)


def srgb_to_linear(c: torch.Tensor) -> torch.Tensor:
    """The sRGB transfer curve undone: encoded values in [0, 1] -> linear light."""
    return torch.where(c > 0.04045, ((c.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4, c / 12.92)


def linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    """Linear light -> sRGB-encoded values (unclipped)."""
    return torch.where(c > 0.0031308, 1.055 * c.clamp(min=0.0031308) ** (1 / 2.4) - 0.055, 12.92 * c)


def lab_f(t: torch.Tensor) -> torch.Tensor:
    """CIE Lab's companding of a white-relative tristimulus value."""
    return torch.where(t > _EPS, t.clamp(min=_EPS) ** (1 / 3), _KAPPA * t + 16 / 116)


def lab_finv(f: torch.Tensor) -> torch.Tensor:
    """The inverse of lab_f."""
    return torch.where(f > 6 / 29, f * f * f, (f - 16 / 116) / _KAPPA)


def lightness_from_luminance(y: torch.Tensor) -> torch.Tensor:
    """Relative luminance Y in [0, 1] -> Lab L in [0, 100]."""
    return 116 * lab_f(y) - 16


def luminance_from_lightness(L: torch.Tensor) -> torch.Tensor:
    """Lab L -> relative luminance Y (the gray with that lightness, in linear light)."""
    return lab_finv((L + 16) / 116).clamp(min=0)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1], shape (B, 3, H, W) -> Lab (L in [0, 100])."""
    xyz = _mix(srgb_to_linear(rgb), _XYZ_FROM_RGB) / _WHITE.to(rgb).view(1, 3, 1, 1)
    f = lab_f(xyz)
    fx, fy, fz = f[:, 0:1], f[:, 1:2], f[:, 2:3]
    return torch.cat([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=1)


def lab_to_rgb_unclipped(lab: torch.Tensor) -> torch.Tensor:
    """Lab -> sRGB without clipping: values outside [0, 1] mean out of gamut."""
    L, a, b = lab[:, 0:1], lab[:, 1:2], lab[:, 2:3]
    fy = (L + 16) / 116
    xyz = torch.cat([lab_finv(fy + a / 500), lab_finv(fy), lab_finv(fy - b / 200)], dim=1)
    xyz = xyz.clamp(min=0) * _WHITE.to(lab).view(1, 3, 1, 1)  # no negative XYZ, as skimage
    return linear_to_srgb(_mix(xyz, _RGB_FROM_XYZ))


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Lab -> sRGB clipped to [0, 1] (what skimage.color.lab2rgb returns)."""
    return lab_to_rgb_unclipped(lab).clamp(0, 1)


def gray_rgb_from_l(L: torch.Tensor) -> torch.Tensor:
    """The sRGB gray value in [0, 1] with lightness L, shape kept."""
    return linear_to_srgb(luminance_from_lightness(L)).clamp(0, 1)


# Linear RGB from XYZ with the white point folded in (colorcore.gamut_fit's Lab -> linear RGB).
RGB_FROM_XYZ_WHITE = (_RGB_FROM_XYZ * _WHITE[None, :]).tolist()


# --------------------------------------------------------------------------
# Quantised ab gamut (Zhang et al. 2016): 10x10 cells, kept where photos go.

GRID_STEP = 10.0
GRID_RANGE = 110.0  # cell centres from -110 to 110
DEFAULT_GAMUT_FILE = Path(__file__).parent / "assets" / "ab_gamut.npz"


def grid_centres() -> np.ndarray:
    """All candidate 10x10 cell centres over ab, shape (23 * 23, 2)."""
    axis = np.arange(-GRID_RANGE, GRID_RANGE + 1, GRID_STEP)
    a, b = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1).astype(np.float32)


def grid_index(ab: torch.Tensor) -> torch.Tensor:
    """Index of the 10x10 grid cell holding each ab value; ab shape (..., 2)."""
    n = int(round(2 * GRID_RANGE / GRID_STEP)) + 1
    ij = torch.round((ab.clamp(-GRID_RANGE, GRID_RANGE) + GRID_RANGE) / GRID_STEP).long()
    return ij[..., 0] * n + ij[..., 1]


def smooth_over_bins(p: np.ndarray, centres: np.ndarray, sigma: float = 5.0) -> np.ndarray:
    """Gaussian smoothing (in ab units) of a distribution that lives on the bins."""
    d2 = ((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-d2 / (2 * sigma ** 2))
    out = kernel @ p
    return out / out.sum()


def rebalancing_weights(prior: np.ndarray, lam: float = 0.5) -> np.ndarray:
    """w ~ ((1 - lam) p + lam / Q)^-1, scaled so that E_p[w] = 1."""
    w = 1.0 / ((1 - lam) * prior + lam / len(prior))
    return w / (prior * w).sum()


@dataclass
class Gamut:
    """The in-gamut bin centres with their smoothed empirical prior."""

    centres: torch.Tensor  # (Q, 2) in ab units
    prior: torch.Tensor  # (Q,), sums to 1
    # The 10-bins-per-channel quantisation used by unet-bins10.
    channel_edges: torch.Tensor  # (11,)
    channel_prior: torch.Tensor  # (2, 10): a row, b row

    @property
    def size(self) -> int:
        return len(self.centres)

    def weights(self, lam: float = 0.5) -> torch.Tensor:
        return torch.from_numpy(rebalancing_weights(self.prior.double().numpy(), lam)).float()

    def channel_weights(self, lam: float = 0.5) -> torch.Tensor:
        p = self.channel_prior.double().numpy()
        return torch.from_numpy(np.stack([rebalancing_weights(row, lam) for row in p])).float()

    @property
    def channel_centres(self) -> torch.Tensor:
        return (self.channel_edges[:-1] + self.channel_edges[1:]) / 2

    def save(self, path: Path, **meta) -> None:
        np.savez(path, centres=self.centres.numpy(), prior=self.prior.numpy(),
                 channel_edges=self.channel_edges.numpy(), channel_prior=self.channel_prior.numpy(),
                 **{k: np.asarray(v) for k, v in meta.items()})

    @classmethod
    def load(cls, path: Path = DEFAULT_GAMUT_FILE) -> "Gamut":
        with np.load(path) as z:
            return cls(*(torch.from_numpy(z[k]).float() for k in
                         ("centres", "prior", "channel_edges", "channel_prior")))


_GAMUT: Gamut | None = None


def default_gamut() -> Gamut:
    """The committed gamut (made by `python -m colorcore gamut`), loaded once."""
    global _GAMUT
    if _GAMUT is None:
        _GAMUT = Gamut.load(DEFAULT_GAMUT_FILE)
    return _GAMUT


def soft_encode(ab: torch.Tensor, centres: torch.Tensor, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """Ground-truth ab (B, 2, H, W) -> soft targets (B, Q, H, W) over its k nearest
    bins, Gaussian-weighted (sigma in ab units) and summing to 1."""
    B, _, H, W = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(flat, centres.to(ab)) ** 2
    near_d2, near_idx = d2.topk(k, dim=1, largest=False)
    w = torch.softmax(-near_d2 / (2 * sigma ** 2), dim=1)
    target = torch.zeros(flat.shape[0], len(centres), device=ab.device, dtype=ab.dtype)
    target.scatter_(1, near_idx, w)
    return target.reshape(B, H, W, -1).permute(0, 3, 1, 2)


def nearest_bin(ab: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Index of the nearest bin centre for ab (B, 2, H, W) -> (B, H, W)."""
    B, _, H, W = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    return torch.cdist(flat, centres.to(ab)).argmin(dim=1).reshape(B, H, W)


def channel_bin(values: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """Bin index of each value on one channel's edges (the last edge is inclusive)."""
    inner = edges[1:-1].to(values).contiguous()
    return torch.bucketize(values.contiguous(), inner, right=True)


def annealed_probs(logits: torch.Tensor, temperature: float, dim: int = 1) -> torch.Tensor:
    """softmax(logits / T): the annealed distribution exp(log p / T) / Z.
    T -> 0 is the mode, T = 1 the plain distribution."""
    if temperature <= 0:
        return torch.nn.functional.one_hot(logits.argmax(dim), logits.shape[dim]).movedim(-1, dim).to(logits)
    return torch.softmax(logits / temperature, dim=dim)


def annealed_mean(logits: torch.Tensor, centres: torch.Tensor, temperature: float = 0.38) -> torch.Tensor:
    """Logits (B, Q, H, W) over bins with centres (Q, D) -> (B, D, H, W)."""
    probs = annealed_probs(logits, temperature)
    return torch.einsum("bqhw,qd->bdhw", probs, centres.to(probs))


def entropy(logits: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Entropy in nats of softmax(logits) along dim."""
    logp = torch.log_softmax(logits, dim=dim)
    return -(logp.exp() * logp).sum(dim)


def decode_bins(logits: torch.Tensor, centres: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (B, Q, H, W) -> (annealed_mean, entropy) of them in one pass of exp over
    the bins: what inference needs, without softmax's slow path on the channels_last
    logits that frozen nets return."""
    z = logits - logits.amax(1, keepdim=True)  # <= 0: exp cannot overflow
    p = z.exp()
    total = p.sum(1, keepdim=True)
    p /= total
    ent = total.squeeze(1).log() - (p * z).sum(1)
    if temperature <= 0:
        p = annealed_probs(z, 0)
    elif temperature != 1:
        p = z.div(temperature).exp_()
        p /= p.sum(1, keepdim=True)
    return torch.einsum("bqhw,qd->bdhw", p, centres.to(p)), ent
