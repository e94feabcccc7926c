"""Build the quantised ab gamut and its prior from training photographs.

`python -m colorcore gamut --data '../shared/data/train-*.tar'` writes
colorcore/assets/ab_gamut.npz, which every bin model and the metrics use.
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from .color import Gamut, grid_centres, grid_index, smooth_over_bins, DEFAULT_GAMUT_FILE
from .data import decode_rgb, list_images, lab_batch, to_tensor

MIN_SHARE = 1e-6  # a cell is in the gamut if at least this share of pixels falls in it
CHANNEL_BINS = 10


def ab_pixels(spec: str, stride: int = 2, every: int = 1):
    """Yield the ab values (N, 2) of every `every`-th image, subsampled by `stride`."""
    refs = list_images(spec)[::every]
    for ref in tqdm(refs, desc="reading photos", unit="img"):
        rgb = to_tensor(decode_rgb(ref))[:, ::stride, ::stride][None]
        _, ab = lab_batch(rgb)
        yield ab[0].reshape(2, -1).T


def build_gamut(spec: str, stride: int = 2, every: int = 1) -> tuple[Gamut, dict]:
    centres = grid_centres()
    counts = np.zeros(len(centres))
    fine = np.zeros((221, 221))  # 1-unit histogram for the per-channel edges
    for ab in ab_pixels(spec, stride, every):
        counts += np.bincount(grid_index(ab).numpy(), minlength=len(centres))
        ij = (ab.clamp(-110, 110) + 110).round().long().numpy()
        np.add.at(fine, (ij[:, 0], ij[:, 1]), 1)
    share = counts / counts.sum()
    keep = share >= MIN_SHARE
    kept = centres[keep]
    prior = smooth_over_bins(share[keep] / share[keep].sum(), kept, sigma=5.0)

    # Both channels: 10 equal-width bins over one range that holds 99.9% of
    # each channel's pixels (shared edges keep the two heads symmetric).
    axis = np.arange(-110, 111)
    marginals = (fine.sum(1), fine.sum(0))
    cdfs = [np.cumsum(m) / m.sum() for m in marginals]
    lo = min(axis[np.searchsorted(c, 0.0005)] for c in cdfs)
    hi = max(axis[np.searchsorted(c, 0.9995)] for c in cdfs)
    e = np.linspace(lo, hi, CHANNEL_BINS + 1)
    idx = np.clip(np.searchsorted(e[1:-1], axis, side="right"), 0, CHANNEL_BINS - 1)
    channel_prior = [np.bincount(idx, weights=m, minlength=CHANNEL_BINS) + 1e-6 for m in marginals]
    channel_prior = [p / p.sum() for p in channel_prior]
    gamut = Gamut(torch.from_numpy(kept), torch.from_numpy(prior).float(),
                  torch.from_numpy(e).float(), torch.from_numpy(np.stack(channel_prior)).float())
    info = {"pixels": int(counts.sum()), "cells_total": len(centres), "cells_kept": int(keep.sum())}
    return gamut, info


def main(data: str, out: str | None = None, stride: int = 2, every: int = 1) -> None:
    out = out or str(DEFAULT_GAMUT_FILE)
    gamut, info = build_gamut(data, stride, every)
    gamut.save(out, data=data, **info)
    print(f"{info['cells_kept']} of {info['cells_total']} ab cells in gamut "
          f"({info['pixels']:,} pixels); channel edges {np.round(gamut.channel_edges.numpy(), 1).tolist()}")
    print(f"wrote {out}")
