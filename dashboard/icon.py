"""The page icon, drawn here (a disc of hues) and served by Streamlit itself: a
":material/...:" page icon makes the browser fetch the favicon from fonts.gstatic.com,
which fails offline, and an emoji one needs an emoji font on the viewer's machine."""
from __future__ import annotations

import colorsys

import numpy as np
from PIL import Image


def page_icon(size: int = 64) -> Image.Image:
    y, x = (np.mgrid[0:size, 0:size] + 0.5) / size * 2 - 1
    r, hue = np.hypot(x, y), (np.arctan2(y, x) / (2 * np.pi)) % 1.0
    rgb = np.array([colorsys.hsv_to_rgb(h, 0.85, 0.95) for h in hue.ravel()]).reshape(size, size, 3)
    alpha = np.clip((1 - r) * size / 2, 0, 1)  # an anti-aliased disc
    return Image.fromarray(np.round(np.dstack([rgb, alpha]) * 255).astype(np.uint8), "RGBA")
