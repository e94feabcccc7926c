"""Every PNG that colorcore writes (the CLI, the demo's page and API) says what made it:
PNG text chunks naming the software, the model, its weights and the settings, and that
the colours are a model's guess. One function writes them, one reads them back."""
from __future__ import annotations

import json

from PIL import Image, PngImagePlugin

from . import __version__

NOTE = "Colorized by a machine-learning model: the colours are its guess, not a record of the original's."
KEYS = ("Software", "Colorized", "Model", "Weights-SHA256", "Settings", "Description")


def stamp(colorizer, temperature: float | None = None, vividness: float | None = None,
          seed: int | None = None, fade: bool = True, hints: int = 0) -> PngImagePlugin.PngInfo:
    """The text chunks for an image `colorizer` made with these settings (None: the
    weights' own, as the colorizer resolves them) and that many colour hints."""
    defaults = colorizer.defaults
    settings = {
        "temperature": defaults["temperature"] if temperature is None or defaults["temperature"] is None
        else float(temperature),
        "vividness": defaults["vividness"] if vividness is None else float(vividness),
        "seed": seed,
        "confidence_fade": bool(fade and defaults["fade"]),
    }
    if hints:
        settings["hints"] = int(hints)
    info = PngImagePlugin.PngInfo()
    for key, value in (("Software", f"colorcore {__version__}"), ("Colorized", "true"),
                       ("Model", colorizer.spec.name),
                       ("Weights-SHA256", colorizer.config.get("sha256") or colorizer.source),
                       ("Settings", json.dumps(settings, sort_keys=True)), ("Description", NOTE)):
        info.add_itxt(key, value)
    return info


def read_stamp(source) -> dict[str, str]:
    """The colorcore text chunks of a PNG (a path or a file object); {} if it has none."""
    with Image.open(source) as im:
        text = dict(getattr(im, "text", {}) or {})
    return {k: text[k] for k in KEYS if k in text}
