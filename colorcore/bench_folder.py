"""`bench`'s file-to-file figures: a 12 MP JPEG colorized to a PNG step by step, and
folders of real photos colorized as the CLI does it (colorcore.batch_colorize).

The real photos are scikit-image's bundled photographs (no download): at their own
sizes (384x303 to 1411x1411, colour and gray) for the mixed folder, and centre-cropped
to 256x256 for the small one; written as JPEG (quality 90) like the photos users have.
"""
from __future__ import annotations

import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

PHOTOS = ("astronaut", "camera", "chelsea", "coffee", "coins", "hubble_deep_field", "immunohistochemistry", "moon",
          "retina", "rocket")
STAGES = ("decode", "lightness", "net", "upsample", "srgb", "gamut_fit", "png")
FOLDER_256_FILES = 96
FOLDER_MIXED_COPIES = 3  # each photo this many times: 30 files


def real_photos() -> dict[str, Image.Image]:
    import skimage.data

    return {name: Image.fromarray(getattr(skimage.data, name)()) for name in PHOTOS}


def _square(image: Image.Image, side: int) -> Image.Image:
    w, h = image.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    return image.crop(box).resize((side, side), Image.BICUBIC)


def write_folder(folder: Path, side: int | None, files: int) -> list[Path]:
    """`files` JPEGs of the real photos in turn (side: centre-cropped to side x side)."""
    photos = list(real_photos().values())
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        photo = photos[i % len(photos)]
        path = folder / f"{i:04d}.jpg"
        (_square(photo, side) if side else photo).save(path, quality=90)
        paths.append(path)
    return paths


def folder_throughput(colorizer, inputs: list[Path], out: Path, batch: int) -> dict:
    """Images and megapixels per second of colorize_files over inputs (after one warm-up batch)."""
    from .batch_colorize import colorize_files

    out.mkdir(parents=True, exist_ok=True)
    colorize_files(colorizer, [(p, out / f"warm-{p.stem}.png") for p in inputs[:batch]], {}, batch=batch)
    report = colorize_files(colorizer, [(p, out / f"{p.stem}.png") for p in inputs], {}, batch=batch)
    if report.failed:
        raise RuntimeError(f"{report.failed} of {len(inputs)} photos failed in the folder run")
    megapixels = sum(np.prod(Image.open(p).size) for p in inputs) / 1e6
    return {"img_s": report.images_per_second, "mp_s": megapixels / report.seconds}


def stage_breakdown(colorizer, photo: Image.Image, repeats: int) -> dict[str, float]:
    """Median seconds per step of a JPEG (quality 90) of photo colorized to a PNG file:
    Colorizer.run's steps, then the CLI's PNG writing."""
    from .batch_colorize import save_atomically

    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    jpeg = buffer.getvalue()
    runs = []
    with tempfile.TemporaryDirectory(prefix="colorcore-bench-") as tmp:
        for i in range(repeats + 1):  # the first one warms up
            image, out = colorizer.run(jpeg, seed=0)
            start = time.perf_counter()
            save_atomically(image, Path(tmp) / "out.png")
            runs.append({**out["stages"], "png": time.perf_counter() - start})
    return {s: statistics.median(r.get(s, 0.0) for r in runs[1:]) for s in STAGES}
