"""Lab to linear sRGB, and the chroma fit that brings an out-of-gamut colour inside sRGB
without moving its lightness: the per-pixel maths of colorcore.render, on flat float32
numpy arrays.

Numpy rather than torch: on render's chunks of 32K pixels a torch op costs more in
overhead than in arithmetic, and numpy starts no OpenMP threads under render's own.
The arithmetic is colorcore.color's Lab -> XYZ -> linear RGB in float32, operation for
operation, so both give the same values.
"""
from __future__ import annotations

import numpy as np
import torch

from .color import RGB_FROM_XYZ_WHITE, lab_finv
from .scratch import scratch

TOLERANCE = 1e-5  # how far outside [0, 1] a linear value may be and still count as inside


def _finv_(f: np.ndarray) -> None:
    """f = color.lab_finv(f) in place: the cube, and lab_finv itself on the few values on
    its linear segment (f <= 6/29: L under 8), which is the same values without
    torch.where's pass over every pixel."""
    dark = np.flatnonzero(~(f > 6 / 29))
    linear = lab_finv(torch.from_numpy(f[dark])).numpy() if dark.size else None
    cube = scratch("cube", f.shape)
    np.multiply(f, f, out=cube)
    np.multiply(cube, f, out=f)
    if linear is not None:
        f[dark] = linear


def lab_to_linear(L: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Lab values (1-D float32) -> linear-light R, G, B (3, N), unclipped, into out if given."""
    n = len(L)
    y, dx, dz, term = (scratch(name, (n,)) for name in ("y", "dx", "dz", "term"))
    np.add(L, 16, out=y)
    y /= 116  # fy
    np.divide(a, 500, out=dx)
    dx += y  # fy + a / 500
    np.divide(b, 200, out=dz)
    np.subtract(y, dz, out=dz)  # fy - b / 200
    for f in (y, dx, dz):
        _finv_(f)  # Y, X, Z
    dx -= y
    dz -= y
    # Each row sums to 1 (the white point is the matrix's), so R = Y + m0 (X - Y) + m2 (Z - Y):
    # the same sum, and a gray (X = Y = Z) comes out exactly R = G = B = Y.
    rgb = np.empty((3, n), dtype=np.float32) if out is None else out
    for plane, m in zip(rgb, RGB_FROM_XYZ_WHITE):
        np.multiply(dx, m[0], out=plane)
        plane += y
        np.multiply(dz, m[2], out=term)
        plane += term
    return rgb


def outside_srgb(rgb: np.ndarray) -> np.ndarray:
    """Which pixels of linear R, G, B (3, N) leave [0, 1]."""
    return (rgb.min(0) < -TOLERANCE) | (rgb.max(0) > 1 + TOLERANCE)


def inside_srgb(rgb: np.ndarray) -> bool:
    """not outside_srgb(rgb).any(), by two reductions instead of a test per pixel."""
    return not rgb.size or bool(rgb.min() >= -TOLERANCE and rgb.max() <= 1 + TOLERANCE)


def chroma_fit(L: np.ndarray, a: np.ndarray, b: np.ndarray, steps: int = 8) -> np.ndarray:
    """For out-of-gamut Lab values: the chroma scale in [0, 1) that brings each into sRGB,
    by bisection (`steps` halvings). Pixel by pixel: any subset gives the same."""
    lo, hi = np.zeros_like(L), np.ones_like(L)
    for _ in range(steps):
        mid = (lo + hi) / 2
        ok = ~outside_srgb(lab_to_linear(L, a * mid, b * mid))
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return lo
