"""8-bit photos in and out: a photo's Lab lightness, and (L, ab) composed into the
8-bit sRGB image a user gets. The one render step: the CLI, the demo, `evaluate`,
`tune` and training's validation all score or hand back these pixels.

The maths is colorcore.color's (colorcore.gamut_fit's for the per-pixel Lab -> sRGB);
here it is tabulated for 8-bit values, and full-size work goes in chunks of pixels
small enough to stay in the CPU's cache, spread over torch's number of threads, so that
a 12-megapixel photo is fast and stays well inside a small memory budget. Every step is
pixel by pixel, so chunking changes no value.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .color import LAB_F_KNEE, lightness_from_luminance, linear_to_srgb, srgb_to_linear
from .gamut_fit import chroma_fit, inside_srgb, lab_to_linear, outside_srgb
from .scratch import scratch
from .stages import Stages, timed

# Pixels per chunk of the full-size work on the render threads, whose numpy calls release
# the GIL: long enough per call that two threads do not queue for it, and small enough that
# a chunk's working set stays in the cache.
CHUNK = 1 << 18
# torch's pow runs on pieces of chunks: under its 32768-element grain, so that it stays on
# the thread that runs the chunk (no OpenMP team per thread), and a multiple of 16, so that
# every piece but the last runs whole in its 16-float vector loops (the last one's tail is
# then the whole image's: the same bits as on one array).
TORCH_PIECE = 2047 * 16

_CODES = torch.arange(256, dtype=torch.float64) / 255
_L_OF_GRAY = lightness_from_luminance(srgb_to_linear(_CODES)).float().numpy()  # gray code -> L
# code -> its share of luminance Y, per channel (color._XYZ_FROM_RGB's Y row)
_Y_OF_CODE = [srgb_to_linear(_CODES).float().numpy() * np.float32(w) for w in (0.212671, 0.715160, 0.072169)]
_LUT_SIZE = 65535
_SRGB8 = torch.round(255 * linear_to_srgb(torch.linspace(0, 1, _LUT_SIZE + 1, dtype=torch.float64))).to(
    torch.uint8).numpy()  # linear value (at 1/65535 steps) -> 8-bit sRGB code

_pool_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _threads() -> ThreadPoolExecutor:
    """The render threads, as many as torch's (remade when that number changes)."""
    global _pool
    n = torch.get_num_threads()
    with _pool_lock:
        if _pool is None or _pool[0] != n:
            if _pool is not None:
                _pool[1].shutdown(wait=False)
            _pool = (n, ThreadPoolExecutor(n, thread_name_prefix="colorcore-render"))
        return _pool[1]


def in_chunks(pixels: int, work) -> list:
    """[work(slice) for each CHUNK of range(pixels)], in order, on the render threads: a
    few runs of consecutive chunks per thread (little scheduling, even load)."""
    chunks = [slice(i, min(i + CHUNK, pixels)) for i in range(0, pixels, CHUNK)]
    n = torch.get_num_threads()
    if len(chunks) == 1 or n == 1:
        return [work(c) for c in chunks]
    runs = np.array_split(np.arange(len(chunks)), min(len(chunks), 4 * n))
    return [r for done in _threads().map(lambda run: [work(chunks[i]) for i in run], runs) for r in done]


def lightness(rgb8: np.ndarray) -> torch.Tensor:
    """uint8 RGB (H, W, 3) -> Lab L (1, 1, H, W). Gray photos (R = G = B, the
    usual input) take a 256-entry table; colour ones go through luminance Y."""
    h, w = rgb8.shape[:2]
    rgb = np.ascontiguousarray(rgb8).reshape(-1, 3)
    gray = np.array_equal(rgb[:, 0], rgb[:, 1]) and np.array_equal(rgb[:, 1], rgb[:, 2])
    out = np.empty(h * w, dtype=np.float32)  # numpy's large allocations get huge pages: far fewer page faults

    def chunk(px: slice) -> None:
        if gray:
            np.take(_L_OF_GRAY, rgb[px, 0], out=out[px], mode="clip")
            return
        y = out[px]
        np.take(_Y_OF_CODE[0], rgb[px, 0], out=y, mode="clip")
        y += np.take(_Y_OF_CODE[1], rgb[px, 1], mode="clip")
        y += np.take(_Y_OF_CODE[2], rgb[px, 2], mode="clip")
        _lightness_of_luminance_(y)

    in_chunks(h * w, chunk)
    return torch.from_numpy(out).view(1, 1, h, w)


def _lightness_of_luminance_(y: np.ndarray) -> None:
    """y = color.lightness_from_luminance(y) in place: its cube-root segment on every pixel
    (the same values, without torch.where's passes), the function itself on the few dark
    ones (Y at or under lab_f's knee: L under 8)."""
    dark = np.flatnonzero(~(y > LAB_F_KNEE))
    dark_L = lightness_from_luminance(torch.from_numpy(y[dark])).numpy() if dark.size else None
    for i in range(0, len(y), TORCH_PIECE):
        torch.from_numpy(y[i:i + TORCH_PIECE]).pow_(1 / 3).mul_(116).sub_(16)
    if dark_L is not None:
        y[dark] = dark_L


def _encode(rgb: np.ndarray, out: np.ndarray) -> None:
    """Linear R, G, B (3, N) -> 8-bit sRGB codes in out (N, 3), by the table (clipped to
    [0, 1]); rgb is used up."""
    np.clip(rgb, 0, 1, out=rgb)
    rgb *= _LUT_SIZE
    rgb += 0.5
    index = scratch("index", rgb.shape, np.int32)
    np.copyto(index, rgb, casting="unsafe")  # truncation: rounds the non-negative values
    for k in range(3):
        np.take(_SRGB8, index[k], out=out[:, k], mode="clip")


def render_srgb8(L: torch.Tensor, ab: torch.Tensor, steps: int = 8, stages: Stages | None = None) -> np.ndarray:
    """L (H, W) and ab (2, H, W) at full size -> uint8 (H, W, 3), out-of-gamut chroma
    shrunk first (gamut_fit.chroma_fit) so that clipping never moves L. The chunks encode
    every pixel ("srgb"); those out of gamut are then fitted together and encoded again
    ("gamut_fit")."""
    h, w = L.shape
    L, a, b = (t.contiguous().numpy().reshape(-1) for t in (L, ab[0], ab[1]))
    result = np.empty((h * w, 3), dtype=np.uint8)

    def chunk(px: slice) -> np.ndarray:
        rgb = lab_to_linear(L[px], a[px], b[px], out=scratch("rgb", (3, px.stop - px.start)))
        inside = inside_srgb(rgb)
        bad = None if inside else np.flatnonzero(outside_srgb(rgb)) + px.start
        _encode(rgb, result[px])
        return bad

    with timed(stages, "srgb"):
        bad = [i for i in in_chunks(h * w, chunk) if i is not None]
    with timed(stages, "gamut_fit"):
        if bad:
            _fit(L, a, b, np.concatenate(bad), steps, result)
    return result.reshape(h, w, 3)


def _fit(L: np.ndarray, a: np.ndarray, b: np.ndarray, bad: np.ndarray, steps: int, result: np.ndarray) -> None:
    """The out-of-gamut pixels (flat indices bad) fitted and encoded again into result (N, 3)."""
    def chunk(px: slice) -> None:
        index = bad[px]
        Lb, a_bad, b_bad = L[index], a[index], b[index]
        scale = chroma_fit(Lb, a_bad, b_bad, steps)
        fixed = np.empty((len(index), 3), dtype=np.uint8)
        _encode(lab_to_linear(Lb, a_bad * scale, b_bad * scale), fixed)
        result[index] = fixed

    in_chunks(len(bad), chunk)


def render_full(L: torch.Tensor, ab: torch.Tensor, stages: Stages | None = None) -> np.ndarray:
    """Full-size L (1, 1, H, W) + ab at any resolution (1, 2, h, w) -> uint8 RGB
    (H, W, 3): ab upsampled bilinearly ("upsample"), then composed (render_srgb8)."""
    H, W = L.shape[-2:]
    L, ab = L.float().cpu(), ab.float().cpu()
    with timed(stages, "upsample"):
        if ab.shape[-2:] != (H, W):
            # F.interpolate's bilinear kernel, into a numpy buffer (huge pages: a fresh torch tensor
            # of a 12 MP photo's ab takes longer to fault in than to fill)
            full = torch.from_numpy(np.empty((1, 2, H, W), dtype=np.float32))
            ab = torch.ops.aten.upsample_bilinear2d.out(ab, [H, W], False, None, None, out=full)
    return render_srgb8(L[0, 0], ab[0], stages=stages)


def render_batch(L: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """render_full over a batch: L (B, 1, H, W) + ab (B, 2, h, w) -> sRGB (B, 3, H, W)
    in [0, 1], on the 8-bit levels (k / 255) that a saved image holds."""
    out = np.stack([render_full(L[i:i + 1], ab[i:i + 1]) for i in range(L.shape[0])])
    return torch.from_numpy(out).permute(0, 3, 1, 2).float() / 255


def render_gray(L: torch.Tensor) -> torch.Tensor:
    """The photo's own lightness as an 8-bit gray image, (B, 1, H, W) -> (B, 3, H, W)
    in [0, 1]: the `gray` reference row, and what a model sees, as a picture."""
    return render_batch(L, torch.zeros(L.shape[0], 2, 1, 1))
