"""Decoding: every mode, orientation, animation, and a clear error for bad files."""
import io
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from colorcore.io import ImageError, load_image
from conftest import gradient_photo


def _png_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG", **kw)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with no pixel data behind it."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"])
def test_every_mode_decodes_to_rgb_of_the_same_size(mode):
    base = gradient_photo(40, 30)
    if mode == "I;16":
        im = Image.fromarray(np.asarray(base.convert("L"), dtype=np.uint16) * 257)
    elif mode == "I":
        im = base.convert("L").convert("I")
    elif mode == "F":
        im = Image.fromarray(np.asarray(base.convert("L"), dtype=np.float32) / 255, "F")
    else:
        im = base.convert(mode)
    out = load_image(im)
    assert out.mode == "RGB" and out.size == (40, 30)
    if mode in ("I;16", "I", "F"):  # high-bit-depth gray keeps its tones after scaling to 8 bits
        gray = np.asarray(base.convert("L"), dtype=int)
        assert np.abs(np.asarray(out)[..., 0].astype(int) - gray).max() <= 1


def test_transparency_is_flattened_onto_white():
    im = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    assert np.asarray(load_image(im)).min() == 255


def test_exif_orientation_is_applied():
    im = gradient_photo(60, 20)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif)
    assert load_image(buf.getvalue()).size == (20, 60)


def test_first_frame_of_an_animation():
    frames = [Image.new("L", (16, 16), v) for v in (10, 200, 90)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    out = np.asarray(load_image(buf.getvalue()))
    assert out.shape == (16, 16, 3) and abs(int(out.mean()) - 10) <= 2


def test_paths_bytes_and_file_objects(tmp_path):
    data = _png_bytes(gradient_photo())
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    for src in (path, str(path), data, io.BytesIO(data)):
        assert load_image(src).size == (96, 64)


@pytest.mark.parametrize("convert", [
    lambda g: g,                                        # uint8 RGB, as Gradio hands it over
    lambda g: g[..., :1],                               # (H, W, 1)
    lambda g: g[..., 0],                                # (H, W) gray
    lambda g: g.astype(np.float64) / 255,               # floats in 0..1, as scikit-image
    lambda g: g[..., 0].astype(np.uint16) * 257,        # 16-bit gray
    lambda g: np.dstack([g, np.full(g.shape[:2], 255, np.uint8)]),  # RGBA
])
def test_numpy_arrays_decode_to_the_same_pixels(convert):
    rgb = np.asarray(gradient_photo(48, 32).convert("L").convert("RGB"))
    out = np.asarray(load_image(convert(rgb)))
    assert out.shape == (32, 48, 3)
    assert np.abs(out.astype(int) - rgb).max() <= 1


@pytest.mark.parametrize("src, words", [
    (np.zeros((4, 4, 2), np.uint8), "shape (4, 4, 2)"),
    (np.zeros((2, 4, 4, 3), np.uint8), "is not an image"),
    (np.zeros((4, 4), complex), "complex"),
    (np.zeros((0, 5), np.uint8), "no pixels"),
    (42, "int is not an image"),
])
def test_odd_sources_get_an_error_that_names_them(src, words):
    with pytest.raises(ImageError, match=re.escape(words)):
        load_image(src)


def _truncated_jpeg() -> bytes:
    buf = io.BytesIO()
    gradient_photo(200, 150).save(buf, format="JPEG")
    return buf.getvalue()[: len(buf.getvalue()) // 2]


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"this is a text file, not a photo\n", "not an image"),
    (_truncated_jpeg(), "truncated or corrupt"),
    (png_header_only(100_000, 100_000), "over the limit"),
])
def test_bad_files_get_an_error_naming_the_file_and_the_problem(tmp_path, data, words):
    path = tmp_path / "upload.jpg"
    path.write_bytes(data)
    with pytest.raises(ImageError) as err:
        load_image(path)
    assert str(path) in str(err.value) and words in str(err.value)


def test_missing_file_and_byte_limit(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageError, match="MB limit"):
        load_image(_png_bytes(gradient_photo()), max_bytes=100)


def _encode(im: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **options)
    return buf.getvalue()


# The flattest real files of each format with a bytes-per-pixel bound: they compress
# as well as that format really can, so the bound must let them through.
@pytest.mark.parametrize("mode, fmt, options", [
    ("RGB", "JPEG", {"optimize": True}),
    ("L", "JPEG", {"optimize": True}),
    ("1", "PNG", {"optimize": True}),
    ("1", "GIF", {}),
    ("1", "BMP", {}),
    ("1", "PPM", {}),
])
def test_flat_real_files_pass_the_size_for_bytes_bound(mode, fmt, options):
    data = _encode(Image.new(mode, (3000, 2000), "white"), fmt, **options)
    assert load_image(data).size == (3000, 2000)


def test_a_header_claiming_more_than_pillows_own_limit_quotes_ours():
    with pytest.raises(ImageError) as err:
        load_image(png_header_only(20_000, 20_000), name="huge.png")
    assert "400 megapixels" in str(err.value) and "limit of 40 megapixels" in str(err.value)
    assert "178956970" not in str(err.value) and "DOS" not in str(err.value)


@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"restart_marker_blocks": 2},
                                     {"optimize": True, "subsampling": 0}])
def test_whole_jpegs_are_not_taken_for_cut_ones(options):
    """The cut-scan check must not refuse whole files: with trailing bytes after the
    end marker, or with a corner that is exactly the gray a cut file ends in."""
    pixels = np.asarray(gradient_photo(160, 120)).copy()
    pixels[-40:, -40:] = 128
    data = _encode(Image.fromarray(pixels), "JPEG", quality=90, **options)
    assert load_image(data).size == (160, 120)
    assert load_image(data + b"trailing bytes").size == (160, 120)


@pytest.mark.parametrize("fraction", [0.4, 0.6, 0.9])
@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"restart_marker_rows": 1}])
def test_jpegs_cut_anywhere_with_the_end_marker_put_back_are_refused(options, fraction):
    data = _encode(gradient_photo(160, 120), "JPEG", quality=90, **options)
    cut = data[:int(len(data) * fraction)] + b"\xff\xd9"
    with pytest.raises(ImageError, match="truncated"):  # a cut inside a scan header is Pillow's own error
        load_image(cut, name="cut.jpg")
