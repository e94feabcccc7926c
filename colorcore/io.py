"""Safe image decoding: any path, bytes, file object or PIL image in; an 8-bit
RGB PIL image out, or an ImageError that names the file and the problem.

Guards: empty files, non-images, truncated or corrupt data (JPEG scans cut short
included, jpeg_scan), decompression bombs (the pixel count is checked from the
header, before any pixel is decoded, against the limit and against what the
file's bytes can hold), and only the common photo formats' decoders ever see the
bytes (FORMATS).
"""
from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .jpeg_scan import scan_is_cut

# The decoders trusted with strangers' files. Pillow can read some forty formats; the rest
# are refused by name (EPS, for one, would hand the file to Ghostscript).
FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "PPM")  # JPEG covers MPO (phones)
_ACCEPTED = "use JPEG, PNG, WebP, TIFF, GIF, BMP or PPM"
# The most pixels one byte of each format can hold: JPEG at least a bit per 16x16
# block (the best flat photo measured: 255 pixels a byte), deflate at most 1032:1 on
# 1-bit rows (PNG), LZW strings of at most 4096 pixels per 12-bit code (GIF), RLE
# 255 pixels per 2 bytes (BMP), 1-bit raw (PBM). A header claiming more is forged or
# cut. TIFF (CCITT G4) and WebP (lossless, a lone symbol costs no bits) can really
# hold more, so only the pixel limit bounds them.
MAX_PIXELS_PER_BYTE = {"JPEG": 2048, "MPO": 2048, "PNG": 8300, "GIF": 2800, "BMP": 130, "PPM": 8}

ImageSource = Union[str, os.PathLike, bytes, bytearray, BinaryIO, Image.Image, np.ndarray]


class ImageError(ValueError):
    """An input that is not a usable image; the message names it and says why."""


def describe(src: ImageSource, name: str | None = None) -> str:
    if name:
        return name
    if isinstance(src, (str, os.PathLike)):
        return str(src)
    if isinstance(src, (Image.Image, np.ndarray)):
        return "the image"
    return getattr(src, "name", None) or "the uploaded data"


def _sniff(head: bytes) -> str | None:
    """The format Pillow would take a file for, from its signature alone: each
    plugin's own prefix test, on the first 16 bytes, as Image.open does. Nothing is parsed."""
    Image.init()
    for fmt in Image.ID:
        accept = Image.OPEN[fmt][1]
        try:
            if accept is not None and accept(head):
                return fmt
        except Exception:  # noqa: BLE001 - a prefix test that cannot judge these bytes
            continue
    return None


def _open(src: ImageSource, label: str, max_bytes: int, max_pixels: int) -> tuple[Image.Image, bytes]:
    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        if not path.is_file():
            raise ImageError(f"{label}: no such file")
        size = path.stat().st_size
        if size == 0:
            raise ImageError(f"{label}: the file is empty (0 bytes)")
        if size > max_bytes:
            raise ImageError(f"{label}: the file is {size / 2**20:.0f} MB, over the {max_bytes / 2**20:.0f} MB limit")
        data = path.read_bytes()
    elif isinstance(src, (bytes, bytearray)):
        data = bytes(src)
    elif callable(getattr(src, "read", None)):
        data = src.read(max_bytes + 1)
    else:
        raise ImageError(f"{label}: a {type(src).__name__} is not an image (give a path, bytes, "
                         "a file object, a PIL image or a numpy array)")
    if len(data) == 0:
        raise ImageError(f"{label}: the file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise ImageError(f"{label}: the file is over the {max_bytes / 2**20:.0f} MB limit")
    try:
        return Image.open(io.BytesIO(data), formats=FORMATS), data
    except UnidentifiedImageError:
        fmt = _sniff(data[:16])
        if fmt in FORMATS:  # the signature is right, the header behind it is not
            raise ImageError(f"{label}: corrupt {fmt} file (its header could not be read)") from None
        if fmt:
            raise ImageError(f"{label}: {fmt} files are not accepted ({_ACCEPTED})") from None
        raise ImageError(f"{label}: not an image file (unrecognised format)") from None
    except Image.DecompressionBombError as e:  # Pillow's own, far higher, limit: quote ours
        claimed = re.search(r"\((\d+) pixels\)", str(e))
        count = f"{int(claimed.group(1)) / 1e6:,.0f} megapixels" if claimed else "too many pixels"
        raise ImageError(f"{label}: the header claims {count}, over the limit of "
                         f"{max_pixels / 1e6:.0f} megapixels") from None
    except Exception as e:  # PIL raises many kinds on garbage headers
        raise ImageError(f"{label}: not a readable image ({e})") from None


def _from_array(a: np.ndarray, label: str) -> Image.Image:
    """A numpy image, as Gradio and scikit-image hand them over: (H, W) or (H, W, 1|3|4),
    integers or floats (floats up to 1 are taken as 0..1)."""
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ImageError(f"{label}: an array of shape {a.shape} is not an image "
                         "(expected (H, W) or (H, W, 1, 3 or 4))")
    if a.dtype == np.uint8:
        return Image.fromarray(np.ascontiguousarray(a))
    if not (a.dtype == bool or np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ImageError(f"{label}: an array of {a.dtype} is not an image (use integers or floats)")
    return Image.fromarray(_rescale_to_uint8(a, unit_range=True))


def _rescale_to_uint8(a: np.ndarray, unit_range: bool) -> np.ndarray:
    """Values -> 0..255 by the range they use: 0..1 (when unit_range), 0..255 as is,
    16-bit (or beyond: by the maximum) scaled down; NaN and infinities become 0."""
    a = np.asarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
    top = a.max() if a.size else 0
    if unit_range and top <= 1.0:
        a = a * 255
    elif top > 255:
        a = a * (255 / (65535 if top <= 65535 else top))
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _to_8bit(im: Image.Image) -> Image.Image:
    """High-bit-depth and float grayscale -> 8-bit L, scaled by the range they use."""
    return Image.fromarray(_rescale_to_uint8(np.asarray(im), unit_range=im.mode == "F"), "L")


def to_rgb(im: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; transparency is flattened onto white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        im = _to_8bit(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        im = im.convert("RGBA")
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im)
    return im.convert("RGB")


def default_max_pixels() -> int:
    """The largest image load_image takes by default (COLORCORE_MAX_PIXELS): a 12 MP photo fits thrice."""
    return int(os.environ.get("COLORCORE_MAX_PIXELS", 40_000_000))


def default_max_bytes() -> int:
    """The largest file load_image reads by default (COLORCORE_MAX_BYTES)."""
    return int(os.environ.get("COLORCORE_MAX_BYTES", 50 * 1024 * 1024))


def load_image(src: ImageSource, name: str | None = None, max_pixels: int | None = None,
               max_bytes: int | None = None) -> Image.Image:
    """Decode src to an RGB image: EXIF orientation applied, first frame of an
    animation, any mode converted. Raises ImageError for anything unusable.
    max_pixels / max_bytes: None for the defaults (default_max_pixels(), default_max_bytes())."""
    max_pixels = default_max_pixels() if max_pixels is None else max_pixels
    max_bytes = default_max_bytes() if max_bytes is None else max_bytes
    label = describe(src, name)
    data = None
    if isinstance(src, Image.Image):
        im = src
    elif isinstance(src, np.ndarray):
        im = _from_array(src, label)
    else:
        im, data = _open(src, label, max_bytes, max_pixels)
    w, h = im.size
    if w < 1 or h < 1:
        raise ImageError(f"{label}: the image has no pixels ({w}x{h})")
    if w * h > max_pixels:
        raise ImageError(f"{label}: {w}x{h} pixels is over the limit of {max_pixels / 1e6:.0f} megapixels")
    density = MAX_PIXELS_PER_BYTE.get(im.format)
    if data is not None and density and w * h > len(data) * density:
        raise ImageError(f"{label}: a {len(data):,}-byte {im.format} file cannot hold {w}x{h} pixels "
                         f"(that needs at least {w * h // density:,} bytes): its header is forged or the file is cut")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)
            im.load()
            if data is not None and im.format in ("JPEG", "MPO") and scan_is_cut(data, im):
                raise ImageError(f"{label}: truncated JPEG: its scan data ends before the image does "
                                 "(the missing part would come out gray or blurred)")
            im = ImageOps.exif_transpose(im)
            return to_rgb(im)
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        raise ImageError(f"{label}: truncated or corrupt image data ({e})") from None
