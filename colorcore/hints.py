"""Colour hints (Zhang et al. 2017, "Real-Time User-Guided Image Colorization with
Learned Deep Priors"): a person pins the chroma at a few points and a hint-taking
net follows them.

A hint is a point in the input image's pixel coordinates (0-based, x to the right,
y down) with an sRGB colour; only the colour's chroma (Lab ab) is used, the photo
keeps its own lightness. The net reads hints as a map at its own resolution, three
channels: a and b (over AB_SCALE) where a hint is, and a mask that is 1 there, each
hint painted over a small square patch; 0 elsewhere. An all-zero map is "no hints".

Training simulates hints from the ground truth as the paper does: a random number of
points (none for a share of the samples), each revealing the mean ab of a small
patch around it. `sample_hints` draws the same kind of points for `evaluate-hints`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch

from .color import AB_SCALE, rgb_to_lab

HINT_CHANNELS = 3  # a / AB_SCALE, b / AB_SCALE, mask
NET_PATCH_HALF = 1  # a user's hint covers 3x3 pixels of the net's input
MAX_HINTS = 256  # more than anyone places by hand; bounds the work a request can ask for
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


@dataclass(frozen=True)
class Hint:
    """A point of the input image and the chroma to put there (Lab a, b)."""

    x: float
    y: float
    a: float
    b: float


def hex_to_ab(colour: str) -> tuple[float, float]:
    """'#rrggbb' (sRGB) -> its Lab chroma (a, b)."""
    m = _HEX.fullmatch(colour.strip()) if isinstance(colour, str) else None
    if m is None:
        raise ValueError(f"colour {colour!r} is not '#rrggbb'")
    rgb = torch.tensor([int(m.group(1)[i:i + 2], 16) / 255 for i in (0, 2, 4)]).view(1, 3, 1, 1)
    lab = rgb_to_lab(rgb).view(3)
    return float(lab[1]), float(lab[2])


def parse_hints(hints: Iterable | None, width: int, height: int) -> list[Hint]:
    """The public form, (x, y, "#rrggbb") items (or Hint objects), checked against an
    image of width x height. ValueError names the hint that is out of range or malformed."""
    if hints is None:
        return []
    if isinstance(hints, (str, bytes)) or not isinstance(hints, Iterable):
        raise ValueError(f"hints must be a list of [x, y, '#rrggbb'], not {type(hints).__name__}")
    if hasattr(hints, "__len__") and len(hints) > MAX_HINTS:  # before reading any of them
        raise ValueError(f"{len(hints)} hints: at most {MAX_HINTS}")
    out = []
    for i, item in enumerate(hints):
        where = f"hint {i} {item!r}"
        if isinstance(item, Hint):
            x, y, ab = item.x, item.y, (item.a, item.b)
        else:
            if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 3:
                raise ValueError(f"{where}: expected [x, y, '#rrggbb']")
            x, y, colour = item
            try:
                ab = hex_to_ab(colour)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from None
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in (x, y)):
            raise ValueError(f"{where}: x and y must be numbers")
        if not (0 <= x < width and 0 <= y < height):
            raise ValueError(f"{where}: ({x}, {y}) is outside the {width}x{height} image "
                             f"(0 <= x < {width}, 0 <= y < {height})")
        out.append(Hint(float(x), float(y), *ab))
    if len(out) > MAX_HINTS:
        raise ValueError(f"{len(out)} hints: at most {MAX_HINTS}")
    return out


def _paint(hint_map: torch.Tensor, x: int, y: int, half: int, a: float, b: float) -> None:
    """One hint into a (3, H, W) map: its chroma and the mask over a square patch."""
    h, w = hint_map.shape[-2:]
    ys, xs = slice(max(0, y - half), min(h, y + half + 1)), slice(max(0, x - half), min(w, x + half + 1))
    hint_map[0, ys, xs] = a / AB_SCALE
    hint_map[1, ys, xs] = b / AB_SCALE
    hint_map[2, ys, xs] = 1.0


def _reveal(ab: torch.Tensor, x: int, y: int, half: int) -> tuple[float, float]:
    """The mean chroma of ab (2, H, W) over the patch around (x, y): what a hint reveals."""
    h, w = ab.shape[-2:]
    patch = ab[:, max(0, y - half):min(h, y + half + 1), max(0, x - half):min(w, x + half + 1)]
    a, b = patch.float().mean((1, 2)).tolist()
    return a, b


def resized(hints: Sequence[Hint], width: int, height: int, new_width: int, new_height: int) -> list[Hint]:
    """The same points on the image resized from width x height to new_width x new_height:
    a pixel centre (x + 0.5) / width of the way across stays that far across."""
    return [Hint((h.x + 0.5) * new_width / width - 0.5, (h.y + 0.5) * new_height / height - 0.5, h.a, h.b)
            for h in hints]


def hint_map(hints: Sequence[Hint], width: int, height: int, size: int) -> torch.Tensor:
    """Hints on a width x height image -> the (3, size, size) map a net of that square
    input size reads (the net sees the image resized to size x size)."""
    out = torch.zeros(HINT_CHANNELS, size, size)
    for h in resized(hints, width, height, size, size):
        _paint(out, min(size - 1, max(0, round(h.x))), min(size - 1, max(0, round(h.y))), NET_PATCH_HALF, h.a, h.b)
    return out


def hint_maps(hints: Sequence[Sequence[Hint]] | None, width: int, height: int, size: int,
              batch: int) -> torch.Tensor | None:
    """hint_map for each photo of a batch (None: no hints anywhere)."""
    if hints is None or not any(hints):
        return None
    if len(hints) != batch:
        raise ValueError(f"{len(hints)} hint lists for a batch of {batch} photos")
    return torch.stack([hint_map(h, width, height, size) for h in hints])


def _points(n: int, h: int, w: int, max_half: int, g: torch.Generator) -> list[tuple[int, int, int]]:
    """n points uniform over an h x w image, each with a patch half-size 0..max_half."""
    xs = torch.randint(0, w, (n,), generator=g).tolist()
    ys = torch.randint(0, h, (n,), generator=g).tolist()
    halves = torch.randint(0, max_half + 1, (n,), generator=g).tolist()
    return list(zip(xs, ys, halves))


def sample_hints(ab: torch.Tensor, n: int, seed: int, max_half: int = 2) -> list[Hint]:
    """n hints on a photo whose true chroma is ab (2, H, W), at fixed seed: points as
    training draws them, each with the mean chroma of its patch (evaluate-hints)."""
    g = torch.Generator().manual_seed(int(seed))
    h, w = ab.shape[-2:]
    return [Hint(float(x), float(y), *_reveal(ab, x, y, half)) for x, y, half in _points(n, h, w, max_half, g)]


def simulate_hints(ab: torch.Tensor, hint_free: float = 0.5, mean_points: float = 8.0,
                   max_points: int = 64, max_half: int = 2, generator: torch.Generator | None = None) -> torch.Tensor:
    """Training's hint maps for a batch whose true chroma is ab (B, 2, H, W): a share
    hint_free of the photos get none, the others a geometric number of points (mean
    mean_points, at most max_points), each revealing its patch's mean chroma."""
    bsz, _, h, w = ab.shape
    out = torch.zeros(bsz, HINT_CHANNELS, h, w)
    truth = ab.detach().float().cpu()
    p = 1.0 / max(1.0, mean_points)
    for i in range(bsz):
        if torch.rand((), generator=generator).item() < hint_free:
            continue
        u = torch.rand((), generator=generator).item()
        n = min(max_points, 1 + int(math.log(max(u, 1e-12)) / math.log(1 - p)) if p < 1 else 1)
        for x, y, half in _points(n, h, w, max_half, generator):
            _paint(out[i], x, y, half, *_reveal(truth[i], x, y, half))
    return out.to(ab.device)
