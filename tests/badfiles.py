"""A corpus of awkward and broken image files, generated on the spot (nothing is
downloaded), for tests/test_bad_inputs.py and `python scripts/loadtest.py`.

Each Case says what a correct program does with the file: `ok` (a valid output:
same size as the decoded input, its Lab lightness kept) or `error` (a clear
error whose message contains `words`). Files are small, so the whole corpus goes
through the model in seconds.
"""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Case:
    kind: str  # what the file is, in words (the table in tests/test_bad_inputs.py)
    name: str  # the file name in the corpus folder
    data: bytes
    words: str | None = None  # None: a valid output is expected; else the error must contain this
    size: tuple[int, int] | None = None  # the decoded (displayed) size, for the good ones

    @property
    def ok(self) -> bool:
        return self.words is None


# --------------------------------------------------------------------------
# Building blocks


def photo(w: int = 48, h: int = 32, seed: int = 0) -> Image.Image:
    """A smooth colour picture with some structure (the same recipe as conftest)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(w, h, 1)
    rgb = np.stack([np.sin(6 * x + rng.uniform(0, 3)), np.cos(5 * y + rng.uniform(0, 3)), x * y], -1)
    return Image.fromarray(((rgb - rgb.min()) / (np.ptp(rgb) + 1e-9) * 255).astype(np.uint8), "RGB")


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def png_chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc & 0xFFFFFFFF)


def png_raw(width: int, height: int, bit_depth: int, colour_type: int, raw_rows: bytes,
            ihdr_crc: int | None = None, extra: bytes = b"") -> bytes:
    """A PNG written by hand: any IHDR, the rows as given (each with its filter byte)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr, ihdr_crc) + extra
            + png_chunk(b"IDAT", zlib.compress(raw_rows)) + png_chunk(b"IEND", b""))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with next to no data behind it."""
    return png_raw(width, height, 8, 0, b"\0" * 64)


def rgb16_png(w: int = 40, h: int = 24) -> bytes:
    """A 48-bit (16 bits per channel) colour PNG; Pillow can read but not write these."""
    a = (np.asarray(photo(w, h, seed=5), dtype=np.uint16) * 257).astype(">u2")
    rows = b"".join(b"\0" + a[y].tobytes() for y in range(h))
    return png_raw(w, h, 16, 2, rows)


def with_broken_crc(png: bytes, chunk: bytes) -> bytes:
    """Flip the CRC of the first `chunk` in a PNG."""
    i = png.index(chunk)
    length = struct.unpack(">I", png[i - 4:i])[0]
    at = i + 4 + length
    crc = struct.unpack(">I", png[at:at + 4])[0] ^ 0xDEADBEEF
    return png[:at] + struct.pack(">I", crc) + png[at + 4:]


def exif_rotated_jpeg(w: int = 60, h: int = 20, orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(photo(w, h, seed=3), "JPEG", exif=exif, quality=90)


def animated_gif() -> bytes:
    frames = [photo(32, 24, seed=s).convert("P", palette=Image.Palette.ADAPTIVE) for s in range(3)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)


def animated_png() -> bytes:
    frames = [photo(32, 24, seed=s) for s in range(3)]
    return encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=80)


def palette_with_transparency() -> bytes:
    im = photo(40, 30, seed=4).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return encode(im, "PNG", transparency=0)  # palette index 0 fully transparent


def float_tiff(nan: bool = False) -> bytes:
    a = np.asarray(photo(40, 30, seed=6).convert("L"), dtype=np.float32) / 255
    if nan:
        a[0, :5] = np.nan
        a[1, :5] = np.inf
    return encode(Image.fromarray(a, "F"), "TIFF")


def int32_tiff() -> bytes:
    """32-bit integer gray with values far above 16 bits."""
    a = np.asarray(photo(40, 30, seed=7).convert("L"), dtype=np.int32) * 100_000
    return encode(Image.fromarray(a, "I"), "TIFF")


def gray16_png() -> bytes:
    a = np.asarray(photo(40, 30, seed=8).convert("L"), dtype=np.uint16) * 257
    return encode(Image.fromarray(a), "PNG")


def multipage_tiff() -> bytes:
    pages = [photo(30, 20, seed=s) for s in range(3)]
    return encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])


def cmyk_jpeg() -> bytes:
    return encode(photo(40, 30, seed=9).convert("CMYK"), "JPEG", quality=90)


def truncated_jpeg() -> bytes:
    data = encode(photo(200, 150), "JPEG", quality=90)
    return data[: len(data) // 2]


def cut_jpeg_with_end_marker(**options) -> bytes:
    """The first 60% of a JPEG with its end-of-image marker put back: libjpeg only
    warns and fills the rest with gray (issue 21)."""
    data = encode(photo(200, 150), "JPEG", quality=90, **options)
    return data[: len(data) * 3 // 5] + b"\xff\xd9"


def jpeg_missing_scans() -> bytes:
    """A progressive JPEG cut after its first scans, every scan that is left whole."""
    data = encode(photo(200, 150), "JPEG", quality=90, progressive=True)
    third_scan = [i for i in range(len(data) - 1) if data[i:i + 2] == b"\xff\xda"][2]
    return data[:third_scan] + b"\xff\xd9"


def jpeg_header_claiming(width: int, height: int) -> bytes:
    """A real JPEG's headers with the frame size rewritten and a few bytes of scan: a
    few hundred bytes that claim width x height."""
    data = bytearray(encode(photo(40, 30), "JPEG", quality=90))
    frame = data.index(b"\xff\xc0")
    data[frame + 5:frame + 9] = struct.pack(">HH", height, width)
    scan = data.index(b"\xff\xda")
    return bytes(data[:scan + 2 + int.from_bytes(data[scan + 2:scan + 4], "big") + 40]) + b"\xff\xd9"


def scrambled_png() -> bytes:
    """Header fine, compressed pixel data overwritten."""
    png = encode(photo(64, 48), "PNG")
    start = png.index(b"IDAT") + 4
    junk = bytes((i * 37 + 11) % 256 for i in range(len(png) - start - 16))
    return png[:start] + junk + png[start + len(junk):]


def bomb_png() -> bytes:
    """A real, complete 1-bit PNG of 9000x5000 (45 MP) in a few kilobytes."""
    return encode(Image.new("1", (9000, 5000)), "PNG")


def tiff_header_claiming(width: int, height: int) -> bytes:
    """A little-endian TIFF whose IFD claims width x height 8-bit gray, with 16 bytes of data."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8 + 2 + 12 * 9 + 4), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHI", tag, typ, count) + (struct.pack("<HH", value, 0) if typ == 3
                                                       else struct.pack("<I", value))
    return b"II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\0" * 16


def lab_tiff() -> bytes:
    return encode(photo(40, 30, seed=10).convert("LAB"), "TIFF")


def mpo() -> bytes:
    """A multi-picture JPEG, as phones write them."""
    return encode(photo(40, 30, seed=11), "MPO", save_all=True, append_images=[photo(40, 30, seed=12)])


def pgm16() -> bytes:
    a = np.asarray(photo(40, 30, seed=13).convert("L"), dtype=np.uint16) * 257
    return encode(Image.fromarray(a), "PPM")


def corrupt_exif_jpeg() -> bytes:
    return encode(photo(40, 30, seed=14), "JPEG", exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f" + b"\x00" * 50)


def eps() -> bytes:
    return b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n0.5 setgray 0 0 64 64 rectfill showpage\n"


def svg() -> bytes:
    return (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
            b'<rect width="64" height="64" fill="gray"/></svg>\n')


def html_named_png() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n"


# --------------------------------------------------------------------------
# The corpus


def cases() -> list[Case]:
    """Every case, in table order. Good ones first (a kind the issue lists, then
    the others found along the way), then the bad ones."""
    c = Case
    gray = photo(48, 32, seed=1).convert("L")
    return [
        # ---- valid inputs: a same-size output that keeps the input's lightness
        c("1x1 pixel", "one_pixel.png", encode(Image.new("L", (1, 1), 120), "PNG"), size=(1, 1)),
        c("20000x1 pixels", "line.png", encode(Image.fromarray(
            (np.arange(20000) % 256).astype(np.uint8)[None]), "PNG"), size=(20000, 1)),
        c("1x2000 pixels (tall strip)", "column.png", encode(Image.fromarray(
            (np.arange(2000) % 256).astype(np.uint8)[:, None]), "PNG"), size=(1, 2000)),
        c("16-bit gray PNG", "gray16.png", gray16_png(), size=(40, 30)),
        c("16-bit-per-channel RGB PNG", "rgb16.png", rgb16_png(), size=(40, 24)),
        c("CMYK JPEG", "cmyk.jpg", cmyk_jpeg(), size=(40, 30)),
        c("palette PNG with a transparent index", "palette_alpha.png", palette_with_transparency(), size=(40, 30)),
        c("RGBA PNG, fully transparent", "clear.png", encode(Image.new("RGBA", (20, 10), (0, 0, 0, 0)), "PNG"),
          size=(20, 10)),
        c("gray+alpha PNG", "gray_alpha.png", encode(photo(30, 20).convert("LA"), "PNG"), size=(30, 20)),
        c("1-bit (bilevel) PNG", "bilevel.png", encode(photo(30, 20).convert("1"), "PNG"), size=(30, 20)),
        c("animated GIF (first frame used)", "animated.gif", animated_gif(), size=(32, 24)),
        c("animated PNG (first frame used)", "apng.png", animated_png(), size=(32, 24)),
        c("multi-page TIFF (first page used)", "pages.tif", multipage_tiff(), size=(30, 20)),
        c("float32 TIFF in [0, 1]", "float.tif", float_tiff(), size=(40, 30)),
        c("float32 TIFF with NaN and inf", "float_nan.tif", float_tiff(nan=True), size=(40, 30)),
        c("32-bit integer TIFF", "int32.tif", int32_tiff(), size=(40, 30)),
        c("WebP", "lossy.webp", encode(gray.convert("RGB"), "WEBP", quality=90), size=(48, 32)),
        c("lossless WebP with alpha", "alpha.webp", encode(photo(30, 20).convert("RGBA"), "WEBP", lossless=True),
          size=(30, 20)),
        c("EXIF-rotated JPEG (orientation 6)", "rotated.jpg", exif_rotated_jpeg(), size=(20, 60)),
        c("EXIF orientation out of range (9)", "bad_orientation.jpg", exif_rotated_jpeg(orientation=9),
          size=(60, 20)),
        c("already-colour photo", "colour.png", encode(photo(48, 32, seed=2), "PNG"), size=(48, 32)),
        c("fully black", "black.png", encode(Image.new("L", (32, 24), 0), "PNG"), size=(32, 24)),
        c("fully white", "white.png", encode(Image.new("L", (32, 24), 255), "PNG"), size=(32, 24)),
        c("LAB-mode TIFF", "lab.tif", lab_tiff(), size=(40, 30)),
        c("BMP", "gray.bmp", encode(gray, "BMP"), size=(48, 32)),
        c("PNG with a broken CRC in IDAT only (pixels intact)", "crc_idat.png",
          with_broken_crc(encode(gray, "PNG"), b"IDAT"), size=(48, 32)),
        c("JPEG named .png", "really_a_jpeg.png", encode(photo(40, 30), "JPEG"), size=(40, 30)),
        c("MPO (multi-picture JPEG from a phone)", "phone.jpg", mpo(), size=(40, 30)),
        c("16-bit PGM", "scan16.pgm", pgm16(), size=(40, 30)),
        c("progressive JPEG", "progressive.jpg", encode(photo(40, 30, seed=15), "JPEG", progressive=True),
          size=(40, 30)),
        c("JPEG with corrupt EXIF", "bad_exif.jpg", corrupt_exif_jpeg(), size=(40, 30)),
        c("trailing garbage after PNG IEND", "trailing.png", encode(gray, "PNG") + b"\0garbage" * 100,
          size=(48, 32)),
        # ---- bad inputs: one clear error naming the file and the problem
        c("zero bytes", "empty.jpg", b"", words="empty"),
        c("truncated JPEG", "truncated.jpg", truncated_jpeg(), words="truncated or corrupt"),
        c("JPEG cut short, end marker put back", "cut_eoi.jpg", cut_jpeg_with_end_marker(), words="truncated JPEG"),
        c("progressive JPEG cut short, end marker put back", "cut_eoi_progressive.jpg",
          cut_jpeg_with_end_marker(progressive=True), words="truncated JPEG"),
        c("JPEG with restart markers cut short, end marker put back", "cut_eoi_restarts.jpg",
          cut_jpeg_with_end_marker(restart_marker_blocks=3), words="truncated JPEG"),
        c("progressive JPEG cut between scans", "missing_scans.jpg", jpeg_missing_scans(), words="truncated JPEG"),
        c("JPEG of a few hundred bytes claiming 4000x3000", "forged_size.jpg", jpeg_header_claiming(4000, 3000),
          words="cannot hold 4000x3000 pixels"),
        c("PNG with a broken header CRC", "crc_ihdr.png", with_broken_crc(encode(gray, "PNG"), b"IHDR"),
          words="corrupt PNG file"),
        c("PNG with scrambled pixel data", "scrambled.png", scrambled_png(), words="truncated or corrupt"),
        c("text file named .jpg", "notes.jpg", b"my holiday notes, not a photo\n" * 10, words="not an image file"),
        c("SVG named .png", "drawing.png", svg(), words="not an image file"),
        c("HTML named .png", "page.png", html_named_png(), words="not an image file"),
        c("PNG header claiming 100000x100000", "huge_header.png", png_header_only(100_000, 100_000),
          words="over the limit"),
        c("TIFF header claiming 100000x100000", "huge_tiff_header.tif", tiff_header_claiming(100_000, 100_000),
          words="over the limit"),
        c("complete 45-megapixel 1-bit PNG (few kB)", "bomb.png", bomb_png(), words="over the limit"),
        c("PNG header claiming 0x0", "zero_size.png", png_raw(0, 0, 8, 0, b""), words="corrupt PNG file"),
        c("PNG with bit depth 7", "depth7.png", png_raw(10, 10, 7, 0, b"\0" * 110), words="corrupt PNG file"),
        c("truncated GIF", "cut_gif.gif", animated_gif()[:200], words="corrupt GIF file"),
        c("truncated WebP", "cut_webp.webp", encode(photo(40, 30), "WEBP")[:60], words="not a readable image"),
        c("truncated TIFF", "cut_tiff.tif", encode(photo(40, 30), "TIFF")[:300], words="truncated or corrupt"),
        c("EPS named .jpg (Ghostscript must never run)", "poster.jpg", eps(), words="EPS files are not accepted"),
        c("ICO icon named .png", "favicon.png", encode(photo(32, 32), "ICO"), words="ICO files are not accepted"),
        c("PDF named .jpg", "scan.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 200, words="not an image file"),
    ]


def write_corpus(folder: Path, only: str = "all") -> list[tuple[Case, Path]]:
    """Write the cases (only="good", "bad" or "all") into folder; returns (case, path) pairs."""
    folder.mkdir(parents=True, exist_ok=True)
    stems = [Path(case.name).stem for case in cases()]
    assert len(set(stems)) == len(stems), "every case needs its own stem (the CLI writes <stem>.png)"
    out = []
    for case in cases():
        if only == "all" or (only == "good") == case.ok:
            path = folder / case.name
            path.write_bytes(case.data)
            out.append((case, path))
    return out


def outcome(case: Case) -> str:
    if case.ok:
        return f"ok: same size ({case.size[0]}x{case.size[1]}), lightness kept"
    return f'error: "{case.words}"'


def outcome_table() -> str:
    """The kind -> outcome table, as tests/test_bad_inputs.py's docstring shows it."""
    rows = ["| kind | file | outcome |", "| --- | --- | --- |"]
    rows += [f"| {case.kind} | {case.name} | {outcome(case)} |" for case in cases()]
    return "\n".join(rows)
