"""Is a JPEG's scan data whole? libjpeg decodes a file cut short, with its
end-of-image marker put back, without an error: it only warns of premature end of
data (a warning Pillow never surfaces) and fills the missing blocks with gray.

The test here: put filler bytes where the scan data ends and decode again. In a
whole file the scan is finished before the filler, which libjpeg skips as
extraneous bytes, so the pixels are the same; in a cut file the decoder reads the
filler as the missing blocks, so they change. Baseline files cut short always end
in a zero-filled (exactly 128 gray) corner, so only those, and the files where no
such sign exists (progressive, CMYK), pay for the second decode.
"""
from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image

_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # a marker; FF00 is a stuffed byte, FFD0-D7 restarts
_RESTART = re.compile(rb"\xff[\xd0-\xd7]")
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
# Varied bits (zeros change nothing in a refinement scan), never 0xFF (a marker);
# a few hundred bytes can vanish into libjpeg's read-ahead, 4 kB cannot.
_FILLER = bytes((i * 151 + 7) % 255 for i in range(4096))


def _layout(data: bytes) -> tuple[int, int, bool, bool, bool] | None:
    """(offset of the end-of-image marker, restart markers in the last scan,
    restart interval set, progressive, every coefficient of every component
    scanned to its last bit), walking the marker segments; None where the
    structure cannot be followed (the decoder has already judged such files)."""
    pos, restarts, interval, progressive = 2, 0, False, False
    bits: dict[int, list] = {}  # component id -> the lowest bit scanned of each coefficient
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:
            covered = bool(bits) and all(b == 0 for levels in bits.values() for b in levels)
            return pos, restarts, interval, progressive, covered
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        segment = data[pos + 4:pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a frame header
            progressive = marker in _PROGRESSIVE
            bits = {segment[6 + 3 * i]: [None] * 64 for i in range(segment[5])} if len(segment) > 5 else {}
        elif marker == 0xDD:
            interval = int.from_bytes(segment[:2], "big") > 0
        pos += 4 + len(segment)
        if marker == 0xDA:  # the scan's coefficients, then entropy-coded data up to the next real marker
            n = segment[0] if segment else 0
            if len(segment) < 4 + 2 * n:
                return None
            first, last, low = segment[1 + 2 * n], segment[2 + 2 * n], segment[3 + 2 * n] & 15
            for c in segment[1:1 + 2 * n:2]:
                for k in range(first, min(last, 63) + 1):
                    bits.setdefault(c, [None] * 64)[k] = low
            end = _SCAN_END.search(data, pos)
            if end is None:
                return None
            restarts = len(_RESTART.findall(data, pos, end.start()))
            pos = end.start()
    return None


def _gray_corner(im: Image.Image) -> bool:
    corner = np.asarray(im)[-4:, -4:]
    return bool((corner == 128).all())


def scan_is_cut(data: bytes, decoded: Image.Image) -> bool:
    """True where `data` (a JPEG that `decoded` was loaded from) lost scan data:
    the decoded pixels then depend on what follows the data."""
    layout = _layout(data)
    if layout is None:
        return False
    eoi, restarts, interval, progressive, covered = layout
    if not covered:  # a scan is missing altogether (cut between scans)
        return True
    if not progressive and decoded.mode in ("L", "RGB") and not _gray_corner(decoded):
        return False
    # With restart intervals the decoder skips bytes that do not follow the restart
    # marker it expects, so a second filler follows that marker.
    filler = _FILLER + (bytes([0xFF, 0xD0 + restarts % 8]) + _FILLER if interval else b"")
    probe = Image.open(io.BytesIO(data[:eoi] + filler + data[eoi:]), formats=["JPEG"])
    probe.load()
    return not np.array_equal(np.asarray(probe), np.asarray(decoded))
