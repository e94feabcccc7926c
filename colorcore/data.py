"""Training and validation images from folders or tar shards of JPEGs.

Tar members are indexed once (name, offset, size) and read straight from the
shard, so nothing is unpacked to disk and any worker or rank can read any image.
"""
from __future__ import annotations

import glob
import io
import math
import random
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .color import rgb_to_lab

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


@dataclass(frozen=True)
class ImageRef:
    """Where one image's bytes live: a plain file, or a slice of a tar shard."""

    source: str
    name: str
    offset: int = -1
    size: int = -1

    def read(self) -> bytes:
        with open(self.source, "rb") as f:
            if self.offset < 0:
                return f.read()
            f.seek(self.offset)
            return f.read(self.size)


def _expand(spec: str | Path) -> list[Path]:
    """A path, a glob, or several of them joined by commas."""
    out: list[Path] = []
    for part in str(spec).split(","):
        matches = sorted(glob.glob(part.strip())) or [part.strip()]
        out += [Path(m) for m in matches]
    return out


def list_images(spec: str | Path) -> list[ImageRef]:
    """Every image in the folders, files and tar shards named by spec, sorted by name."""
    refs: list[ImageRef] = []
    for path in _expand(spec):
        if path.is_dir():
            refs += [ImageRef(str(p), p.name) for p in sorted(path.rglob("*"))
                     if p.suffix.lower() in IMAGE_SUFFIXES]
        elif path.suffix == ".tar":
            with tarfile.open(path) as tar:
                refs += [ImageRef(str(path), Path(m.name).name, m.offset_data, m.size)
                         for m in tar.getmembers()
                         if m.isfile() and Path(m.name).suffix.lower() in IMAGE_SUFFIXES]
        elif path.is_file():
            refs.append(ImageRef(str(path), path.name))
        else:
            raise FileNotFoundError(f"no images at {path}")
    if not refs:
        raise FileNotFoundError(f"no images found in {spec}")
    return sorted(refs, key=lambda r: r.name)


def decode_rgb(ref: ImageRef) -> Image.Image:
    with Image.open(io.BytesIO(ref.read())) as im:
        return im.convert("RGB")


def random_resized_crop(img: Image.Image, size: int, rng: random.Random,
                        scale=(0.35, 1.0), ratio=(3 / 4, 4 / 3)) -> Image.Image:
    """torchvision's RandomResizedCrop, written out (there is no torchvision here)."""
    w, h = img.size
    area = w * h
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        cw, ch = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
        if 0 < cw <= w and 0 < ch <= h:
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            return img.resize((size, size), Image.BICUBIC, box=(x, y, x + cw, y + ch))
    s = min(w, h)
    return img.resize((size, size), Image.BICUBIC, box=((w - s) // 2, (h - s) // 2, (w + s) // 2, (h + s) // 2))


def center_crop(img: Image.Image, size: int) -> Image.Image:
    """The evaluation protocol: short side to `size`, then the centre size x size."""
    w, h = img.size
    s = size / min(w, h)
    nw, nh = max(size, round(w * s)), max(size, round(h * s))
    img = img.resize((nw, nh), Image.BICUBIC)
    x, y = (nw - size) // 2, (nh - size) // 2
    return img.crop((x, y, x + size, y + size))


def to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL RGB -> float (3, H, W) in [0, 1]."""
    return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1).float() / 255


class TrainImages(torch.utils.data.Dataset):
    """Random resized crops with horizontal flips, as (3, size, size) sRGB tensors."""

    def __init__(self, spec: str, size: int, seed: int = 0, scale=(0.35, 1.0)):
        self.refs = list_images(spec)
        self.size, self.seed, self.scale = size, seed, scale
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, i: int) -> torch.Tensor:
        rng = random.Random(hash((self.seed, self.epoch, i)))
        img = random_resized_crop(decode_rgb(self.refs[i]), self.size, rng, self.scale)
        if rng.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return to_tensor(img)


class EvalImages(torch.utils.data.Dataset):
    """The evaluation protocol, deterministic: (name, (3, size, size) tensor)."""

    def __init__(self, spec: str, size: int = 256, limit: int | None = None):
        refs = list_images(spec)
        # an evenly spaced subset: names sort by source, so the first N would be one source
        self.refs = refs if not limit or limit >= len(refs) else [refs[i * len(refs) // limit] for i in range(limit)]
        self.size = size

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, i: int):
        return self.refs[i].name, to_tensor(center_crop(decode_rgb(self.refs[i]), self.size))


def lab_batch(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sRGB batch -> (L in [0, 100], ab) as (B, 1, H, W) and (B, 2, H, W)."""
    lab = rgb_to_lab(rgb)
    return lab[:, :1], lab[:, 1:]
