"""colorcore's Gradio demo: one-click colorization, models side by side, many photos
at once, and where a model is unsure.

    python demo/app.py [--host 127.0.0.1] [--port 7860]     (or: make demo)

Importable: build_demo() returns the gr.Blocks; launch(demo, ...) serves it with
the queue, limits and theme this app wants. API (gradio_client or plain HTTP):
/colorize (image, model="default", temperature=None, seed=None, vividness=None, hints=None) -> PNG,
/compare (image, models, seed) -> gallery, scores, note, zip, closer look, and
/colorize_batch (files, model, temperature, vividness) -> gallery, zip, status (demo/README.md).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import functools
import io
import json
import logging
import math
import os
import random
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import anyio
import gradio as gr
from gradio.exceptions import InvalidPathError
from gradio.utils import _parse_file_size, get_upload_folder, is_in_or_equal
import pandas as pd
import torch
from PIL import Image
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.responses import JSONResponse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's colorcore and demo

from colorcore.colorize_cli import output_names  # noqa: E402
from demo import batch as B  # noqa: E402
from demo import engine as E  # noqa: E402

log = logging.getLogger("colorcore.demo")


def _size_setting(name: str, default: int | str) -> int | str:
    """A size from the environment: bytes, or Gradio's "25mb" form."""
    value = os.environ.get(name, str(default))
    return int(value) if value.isdigit() else value


MAX_FILE_SIZE = _size_setting("COLORCORE_DEMO_MAX_FILE_SIZE", "25mb")  # uploads over this never reach the app
MAX_FILE_BYTES: int = _parse_file_size(MAX_FILE_SIZE)
# The largest legitimate request: one photo as a base64 data: URL (4 characters for every
# 3 bytes) in a JSON call, plus room for the call's other fields or a multipart envelope.
# Any body over it is refused before Gradio parses a byte of it.
MAX_DATA_URL_CHARS = MAX_FILE_BYTES * 4 // 3  # base64: 4 characters for every 3 bytes
MAX_BODY_BYTES = MAX_DATA_URL_CHARS + 64 * 1024
# What one client (IP address) may send in any 60 s, uploads and JSON bodies together.
UPLOAD_BYTES_PER_MINUTE: int = _parse_file_size(_size_setting("COLORCORE_DEMO_UPLOAD_PER_MINUTE",
                                                               4 * MAX_FILE_BYTES))
# Gradio's cache (uploads and the files handed back) is kept under this size, oldest out
# first, and nothing in it lives longer than CACHE_TTL_S.
CACHE_MAX_BYTES: int = _parse_file_size(_size_setting("COLORCORE_DEMO_CACHE_SIZE", 20 * MAX_FILE_BYTES))
CACHE_TTL_S = 900
CONCURRENCY = int(os.environ.get("COLORCORE_DEMO_CONCURRENCY", 4 if torch.cuda.is_available() else 2))
QUEUE_SIZE = 64
# Results go straight into Gradio's cache folder (<cache>/colorized-*/<name>.png): Gradio
# serves a file already there in place, where it would copy one from anywhere else.
E.OUT_DIR = Path(get_upload_folder())

TITLE = "colorcore — automatic photo colorization"
INTRO = """# colorcore: automatic photo colorization
Upload a black-and-white photo (or pick an example below) and press **Colorize**: your photo's own lightness is
kept at full resolution, a model adds the colour."""
PHOTO_HEIGHT, RESULT_HEIGHT = 330, 380  # px on a laptop; a phone's are set in CSS

CSS = """
#intro h1 {font-size: 1.6rem; margin: 0 0 .2rem}
#intro p {margin: 0}
#colorize-btn, #compare-btn {min-height: 44px; font-size: 1.05rem}
@media (max-width: 640px) {
  #intro h1 {font-size: 1.25rem}
  #intro p {font-size: .85rem; line-height: 1.3}
  #photo, #photo .image-container {height: 200px !important; max-height: 200px !important}
  #result, #result .image-container {height: 270px !important; max-height: 270px !important}
}
#gallery .caption-label {max-width: 96%; font-size: 0.8rem}
#gallery .grid-wrap {height: auto !important; max-height: none !important; overflow-y: visible !important}
"""


# --------------------------------------------------------------------------
# The photo input: the upload goes to colorcore's own decoder untouched


FOREIGN_PATH = ("No image was received: the file named was not uploaded to this server "
                "(send it to /gradio_api/upload first, as gradio_client does).")


def guard_inputs(blocks: gr.Blocks) -> None:
    """Before any handler runs: a call that leaves out trailing values (a script written
    before a setting was added) gets None for them, the model's own setting, where Gradio
    would fail it with a traceback and {"error": null}; and a call naming a file Gradio did
    not receive itself gets a one-line reason, not Gradio's empty error and traceback."""
    original = blocks.preprocess_data

    @functools.wraps(original)
    async def preprocess_data(block_fn, inputs, *args, **kwargs):
        missing = len(block_fn.inputs) - len(inputs)
        if missing > 0:
            inputs = [*inputs, *[None] * missing]
        try:
            return await original(block_fn, inputs, *args, **kwargs)
        except InvalidPathError as e:
            log.warning("refused: %s", e)
            raise gr.Error(FOREIGN_PATH, print_exception=False) from None

    blocks.preprocess_data = preprocess_data


@dataclass
class Upload:
    source: str | bytes  # a path in Gradio's upload cache, or the bytes of a data: URL
    name: str  # the visitor's file name, for messages
    stem: str = "photo"  # for the download's name


def read_upload(payload) -> Upload | None:
    """The photo as the events receive it (they run with preprocess=False): the upload's
    data, not yet read. It goes to colorcore untouched; gr.Image's own preprocessing would
    open it with PIL first, and a bad file would end as an unexplained error. Every check,
    and every message, is colorcore.io's."""
    if payload is None:
        return None
    if isinstance(payload, str):  # a bare path (a call from Python)
        payload = {"path": payload}
    if not isinstance(payload, dict):
        payload = payload.model_dump() if hasattr(payload, "model_dump") else vars(payload)
    path, url, orig = payload.get("path"), payload.get("url"), payload.get("orig_name")
    orig = orig or (Path(path).name if path else None)
    name = Path(orig).name if orig else "the uploaded file"
    stem = E.safe_stem(orig)
    if not path and url and url.startswith("data:"):
        if len(url) > MAX_DATA_URL_CHARS + 1024:  # room for the "data:image/...;base64," prefix
            raise gr.Error(f"{name}: the file is over the upload limit ({MAX_FILE_SIZE})", print_exception=False)
        try:
            return Upload(base64.b64decode(url.split(",", 1)[1], validate=False), name, stem)
        except (IndexError, binascii.Error, ValueError):
            raise gr.Error(f"{name}: not a readable image (bad data URL)", print_exception=False) from None
    if not path:
        raise gr.Error("No image was received.", print_exception=False)
    if not is_in_or_equal(path, get_upload_folder()):  # only files Gradio itself received, never a path a client names
        log.warning("refused a path outside the upload folder: %r", path)
        raise gr.Error(FOREIGN_PATH, print_exception=False)
    if not Path(path).is_file():  # the cache is bounded: an old upload may be gone
        raise gr.Error(f"{name} is no longer on the server (uploads are kept a short while); upload it again.",
                       print_exception=False)
    return Upload(path, name, stem)


# --------------------------------------------------------------------------
# Handlers


def friendly(fn):
    """Every failure reaches the visitor as a gr.Error with a plain message; the
    traceback (for unexpected ones) goes to the server log only."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (E.ImageError, E.DemoError) as e:
            raise gr.Error(str(e), print_exception=False) from None
        except MemoryError:
            raise gr.Error("This photo needs more memory than the server has; try a smaller one.",
                           print_exception=False) from None
        except Exception as e:  # noqa: BLE001 - never a traceback to the visitor
            log.exception("unexpected failure in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(e).__name__}); it has been logged. "
                           "Try again, or another photo or model.", print_exception=False) from None

    return wrapper


def decode_upload(payload) -> tuple[E.Photo, str]:
    """The decoded photo, and a file-name stem for what is made from it."""
    upload = read_upload(payload)
    if upload is None:
        raise gr.Error("Upload a photo first (or pick an example below it).", print_exception=False)
    return E.decode(upload.source, name=upload.name), upload.stem


@E.GPU
def run_model(photo: E.Photo, model: str, temperature: float | None, seed: int | None,
              vividness: float | None = None, hints: list[E.Hint] | None = None) -> E.Colorized:
    return E.colorize_photo(photo, E.get_colorizer(model), temperature, seed, vividness, hints)


# The events run with preprocess=False, so values from API callers arrive unchecked.


def _seed(seed) -> int | None:
    """0, empty or None: the VAE's mean colorization (its latent at zero); any other
    whole number: the sample drawn with that seed."""
    if seed in (None, ""):
        return None
    try:
        value = float(seed)
    except (TypeError, ValueError):
        value = float("nan")
    if not value.is_integer() or abs(value) >= 2**63:
        raise gr.Error(f"The seed must be a whole number, not {seed!r}.", print_exception=False)
    return int(value) or None


def _setting(value, what: str, low: float, high: float) -> float | None:
    """None or empty: the model's own; else a number, clipped to low..high."""
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if number != number:
        raise gr.Error(f"The {what} must be a number, not {value!r}.", print_exception=False)
    return min(max(number, low), high)


def _temperature(t) -> float | None:
    return _setting(t, "temperature", 0.01, 2.0)


def _vividness(v) -> float | None:
    return _setting(v, "vividness", 0.0, 3.0)  # 0 = gray


def _model(name) -> str:
    if name in (None, ""):
        return "default"
    if not isinstance(name, str):
        raise gr.Error(f"The model must be a name, not {name!r}.", print_exception=False)
    return name


def _hints(value, photo: E.Photo, model: str) -> list[E.Hint] | None:
    """The API's hints: a JSON list (or its text) of [x, y, "#rrggbb"] in the photo's pixels;
    None or empty: none. A gr.Error names a bad hint, or a model that takes none."""
    if value in (None, "", []):
        return None
    if isinstance(value, str):  # a plain-HTTP caller may send the list as JSON text
        try:
            value = json.loads(value)
        except ValueError:
            raise gr.Error(f'The hints must be a JSON list of [x, y, "#rrggbb"], not {value[:80]!r}.',
                           print_exception=False) from None
        if not value:
            return None
    colorizer = E.get_colorizer(model)
    if not colorizer.accepts_hints:
        raise gr.Error(no_hints_note(colorizer.spec.name), print_exception=False)
    w, h = photo.size
    try:
        return E.parse_hints(value, w, h)
    except ValueError as e:
        raise gr.Error(f"Bad colour hint: {e}.", print_exception=False) from None


@friendly
def colorize_api(image: dict | None, model: str = "default", temperature: float | None = None,
                 seed: int | None = None, vividness: float | None = None, hints: list | None = None) -> str:
    """Colorize one photo. image: any photo (a colour one is reduced to its lightness first);
    model: a name from the model list or "default"; temperature: annealed-mean temperature of
    bin models (None: the model's own); seed: the VAE's sample seed (None or 0: its mean colorization);
    vividness: a chroma scale for any model (None: the model's own, 0 = gray, up to 3);
    hints: colour hints, a list of [x, y, "#rrggbb"] in the photo's pixels (0-based, x right, y down;
    only the colour's chroma is used), for models that take them (None: none).
    Returns the colorized PNG, the same size as the photo."""
    photo, stem = decode_upload(image)
    model = _model(model)
    parsed = _hints(hints, photo, model)
    result = run_model(photo, model, _temperature(temperature), _seed(seed), _vividness(vividness), parsed)
    return E.save_png(result.image, f"{stem}-colorized-{result.model}", E.stamp_of(result))


REVEAL = ("gray input ↔ colorized", "colorized ↔ original")  # what the slider compares, for a colour photo


def _jpeg(image: Image.Image) -> bytes:
    """A display copy, small enough to keep with the visitor's session."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _image(data: bytes | str) -> Image.Image | str:
    return data if isinstance(data, str) else Image.open(io.BytesIO(data))


@friendly
def colorize_view(image: dict | None, model: str, temperature: float | None, vividness: float | None,
                  seed: int | None, show_unsure: bool, hint_state: dict | None = None):
    """The Colorize button: the before/after slider, the uncertainty map, the PNG, the status
    line, and what is kept of this result (for the map, the reveal and the hints' colours,
    without recomputing). The hints placed on this photo go into the same forward pass."""
    t0 = time.perf_counter()
    photo, stem = decode_upload(image)
    model = _model(model)
    items = hint_state["items"] if hint_state and hint_state.get("key") == _photo_key(image) else []
    unused = ""
    if items and not E.get_colorizer(model).accepts_hints:
        unused = f"_{len(items)} colour hint{'s' * (len(items) > 1)} not used: {no_hints_note(model)}_"
        items = []
    try:
        hints = E.parse_hints(items, *photo.size)
    except ValueError as e:  # the page only places hints on the photo; this one is stale
        raise gr.Error(f"Bad colour hint: {e}.", print_exception=False) from None
    result = run_model(photo, model, _temperature(temperature), _seed(seed), _vividness(vividness), hints)
    truth = E.is_colour(photo)
    gray = E.gray_of(photo, E.DISPLAY_MAX)
    after = E.downscale(result.image, E.DISPLAY_MAX)
    png = E.save_png(result.image, f"{stem}-colorized-{result.model}", E.stamp_of(result))
    shown = png if after is result.image else after  # full size: the slider shows the PNG itself, not a copy
    kept = {"gray": _jpeg(gray), "after": png if shown == png else _jpeg(after), "share": E.uncertainty_share(result),
            "original": _jpeg(E.downscale(Image.fromarray(photo.rgb8), E.DISPLAY_MAX)) if truth else None,
            "key": _photo_key(image), "size": photo.size}
    w, h = photo.size
    bits = [f"**{result.model}**", f"{w}×{h} px", f"took {time.perf_counter() - t0:.2f} s "
            f"(model and composition {result.seconds:.2f} s)"]
    if result.temperature is not None:
        bits.append(f"temperature {result.temperature:.2f}")
    if result.vividness != 1:
        bits.append(f"vividness {result.vividness:.2f}")
    if result.seed is not None:
        bits.append(f"seed {result.seed}")
    if result.hints:
        bits.append(f"{result.hints} colour hint{'s' * (result.hints > 1)}")
    if after.size != result.image.size:
        bits.append(f"shown at {after.size[0]}×{after.size[1]}, the PNG is full size")
    lines = [" · ".join(bits), PROVENANCE_NOTE.format(model=result.model)]
    if unused:
        lines.insert(1, unused)
    if truth:
        lines.append("Your photo is in colour: its colour was removed first, and the model saw only its lightness. "
                     f"Set the slider to “{REVEAL[1]}” to reveal the original.")
    unsure, note = unsure_view(kept, show_unsure)
    if note:
        lines.insert(1, note)
    return ((gray, shown), unsure, gr.update(value=png, interactive=True), "\n\n".join(lines),
            gr.update(value=REVEAL[0], visible=truth), kept)


PROVENANCE_NOTE = ("_Colorized by {model}: the colours are the model's guess, not a record of the original's; "
                   "the PNG says so in its metadata._")


def unsure_view(kept: dict | None, show: bool):
    """The uncertainty map of the last result (from what colorize_view kept), and a line
    for the status; hidden when not asked for or the model has no distribution."""
    if not show or not kept or kept.get("share") is None:
        return gr.update(value=None, visible=False), ""
    picture, mean = E.uncertainty_map(kept["share"], E.downscale(_image(kept["gray"]), 1024))
    return gr.update(value=picture, visible=True), f"Mean uncertainty {100 * mean:.0f}% of the maximum."


def toggle_unsure(kept: dict | None, show: bool):
    return unsure_view(kept, show)[0]


def reveal_view(kept: dict | None, which: str):
    """The slider of the last result: gray input against the colorization, or the
    colorization against the original (colour photos)."""
    if not kept:
        return gr.update()
    if which == REVEAL[1] and kept.get("original"):
        return _image(kept["after"]), _image(kept["original"])
    return _image(kept["gray"]), _image(kept["after"])


# What each score column means, and which value is best: (label, best is "max" / "min" / "truth").
SCORE_COLUMNS = {"seconds": ("time (s)", "min"), "psnr": ("PSNR (dB)", "max"), "auc": ("AuC", "max"),
                 "colorfulness": ("colourfulness", "truth")}
TRUTH_ROW, GRAY_ROW = "ground truth", "gray (lightness only)"


@friendly
def compare_view(image: dict | None, models: list[str] | None = None, seed: int | None = None,
                 progress=gr.Progress()):
    """Colorize one photo with several models. Returns a gallery (the original or the gray
    input first, then one image per model captioned with its name and run time), a table of
    times and, when the photo is in colour, PSNR, AuC and colourfulness against it (numbers;
    the best model's value of each marked on the page), a note, a zip of every full-size result,
    and the controls of the closer look (one model's result against the original or the input)."""
    if isinstance(models, str):
        models = [models]
    if not models:
        raise gr.Error("Choose at least one model to compare (or press “All models”).", print_exception=False)
    models = [_model(m) for m in models]
    seed = _seed(seed)
    photo, stem = decode_upload(image)
    progress(0, desc="Reading the photo")
    truth = E.is_colour(photo)
    original = Image.fromarray(photo.rgb8)
    display = E.DISPLAY_MAX // 2
    reference = E.downscale(original, display) if truth else E.gray_of(photo, display)
    gallery = [(reference, "original (ground truth)" if truth else "input (black and white)")]
    rows, skipped, pngs = [], [], []
    kept = {"reference": _jpeg(reference), "label": "original" if truth else "gray input", "results": {}}
    if truth:
        rows.append({"model": TRUTH_ROW, "seconds": None, "psnr": None, "auc": None,
                     "colorfulness": E.scores(original, original)["colorfulness"]})
        rows.append({"model": GRAY_ROW, "seconds": None, **E.scores(E.gray_of(photo, E.SCORE_MAX), original)})
    n = len(models)
    for i, name in enumerate(models):
        progress((i, n), desc=f"Colorizing with {name} ({i + 1}/{n})")
        try:
            result = run_model(photo, name, None, seed)
        except E.DemoError as e:
            skipped.append(f"{name}: {e}")
            continue
        shown = E.downscale(result.image, display)
        gallery.append((shown, f"{result.model} · {result.seconds * 1000:.0f} ms"))
        kept["results"][result.model] = _jpeg(shown)
        pngs.append((f"{stem}-colorized-{result.model}.png", result.image, E.stamp_of(result)))
        row = {"model": result.model, "seconds": result.seconds}
        if truth:
            row.update(E.scores(result.image, original))
        rows.append(row)
    progress((n, n), desc="Done")
    if len(gallery) == 1:
        raise gr.Error("None of the chosen models could run: " + "; ".join(skipped), print_exception=False)
    cols = ["model", "seconds", "psnr", "auc", "colorfulness"] if truth else ["model", "seconds"]
    w, h = photo.size
    if truth:
        note = (f"Your {w}×{h} photo is in colour, so it is the ground truth: each model saw only its lightness. "
                f"Scores at most {E.SCORE_MAX} px on the long side: PSNR (higher = closer), AuC of the ab error "
                "(0..1, higher = closer), Hasler–Süsstrunk colourfulness (closest to the ground truth's is best). "
                "The gray row is the photo with no colour at all. **Bold**: the best model on each column.")
    else:
        note = (f"Your {w}×{h} photo is black and white, so there is no ground truth to score against; "
                "upload a colour photo to see PSNR, AuC and colourfulness.")
    if skipped:
        note += "\n\nSkipped: " + "; ".join(skipped)
    first = next(iter(kept["results"]))
    return (gallery, score_table(rows, cols), note, E.save_zip(pngs, f"{stem}-colorized-all"),
            gr.update(choices=list(kept["results"]), value=first), closer_pair(kept, first), kept)


def score_table(rows: list[dict], cols: list[str]):
    """The scores as numbers (what the API returns), with the best model's value of each
    column in bold on the page: the highest PSNR and AuC, the lowest time, and the
    colourfulness closest to the ground truth's."""
    frame = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
    frame[cols[1:]] = frame[cols[1:]].astype(float).round(3)
    is_model = ~frame["model"].isin([TRUTH_ROW, GRAY_ROW])
    truth = frame.loc[frame["model"] == TRUTH_ROW, "colorfulness"] if "colorfulness" in cols else None
    best = {}
    for c in cols[1:]:
        values = frame.loc[is_model, c]
        if values.notna().any():
            rule = SCORE_COLUMNS[c][1]
            key = (values - float(truth.iloc[0])).abs() if rule == "truth" else (-values if rule == "max" else values)
            best[c] = key.idxmin()
    frame = frame.rename(columns={c: SCORE_COLUMNS[c][0] for c in cols[1:]})

    def bold(column):
        name = next((c for c in best if SCORE_COLUMNS[c][0] == column.name), None)
        return ["font-weight: bold" if name is not None and i == best[name] else "" for i in column.index]

    return frame.style.apply(bold).format(precision=3, na_rep="–")


def closer_pair(kept: dict | None, model: str):
    """One model's result against the original (or the gray input), for the Compare tab's slider."""
    if not kept or model not in kept.get("results", {}):
        return None
    return _image(kept["results"][model]), _image(kept["reference"])


@friendly
def batch_view(files: list | None, model: str = "default", temperature: float | None = None,
               vividness: float | None = None, progress=gr.Progress()):
    """Colorize many photos (files, or zips of photos; at most batch.MAX_PHOTOS) with one model.
    Returns a gallery of the results (captioned with their file names), a zip of the
    full-size PNGs, and a status line naming any photo that could not be done."""
    if isinstance(files, (str, dict)):
        files = [files]
    uploads = [read_upload(f) for f in files or []]
    uploads = [(u.source, u.name, u.stem) for u in uploads if u is not None]
    if not uploads:
        raise gr.Error("Add some photos first (or a zip of photos).", print_exception=False)
    try:
        items = B.expand(uploads, MAX_FILE_BYTES, E.safe_stem)
    except B.BatchError as e:
        raise gr.Error(str(e), print_exception=False) from None
    model, temperature, vividness = _model(model), _temperature(temperature), _vividness(vividness)
    E.get_colorizer(model)  # a missing model fails once, before any photo
    names = output_names([Path(f"{item.stem}-colorized") for item in items])
    out = E.ResultZip(f"colorized-{len(items)}-photos")
    gallery, failed, seconds = [], [], 0.0
    for i, (item, png_name) in enumerate(zip(items, names)):
        progress((i, len(items)), desc=f"Colorizing photo {i + 1} of {len(items)}: {item.name}")
        try:
            result = run_model(E.decode(item.source, name=item.name), model, temperature, None, vividness)
        except (E.ImageError, E.DemoError) as e:
            failed.append(str(e))
            continue
        seconds += result.seconds
        out.add(png_name, result.image, E.stamp_of(result))
        gallery.append((E.downscale(result.image, E.DISPLAY_MAX // 4), png_name))
    progress((len(items), len(items)), desc="Done")
    path = out.close()
    if not gallery:
        raise gr.Error("None of the photos could be colorized: " + "; ".join(failed), print_exception=False)
    lines = [f"**{len(gallery)} of {len(items)} photos** colorized by {model} "
             f"(model and composition {seconds:.1f} s in all). The zip holds the full-size PNGs.",
             PROVENANCE_NOTE.format(model=model)]
    if failed:
        lines.append("Not done: " + "; ".join(failed))
    return gallery, path, "\n\n".join(lines)


# --------------------------------------------------------------------------
# Colour hints on the page. The hints of the photo shown live in a gr.State:
# {"key": the photo's upload path, "size": (w, h), "base": a gray copy (JPEG) to mark them on,
#  "items": [[x, y, "#rrggbb"], ...] in the photo's pixels, "selected": index or None}.

HINT_COLOUR = "#2f6fd0"  # the picker's colour before any result (a sky blue)
HINT_COLUMNS = ["#", "x", "y", "colour"]


def _photo_key(payload) -> str | None:
    """What tells one photo on the page from another: its path in the upload cache."""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, dict):
        return payload.get("path") or payload.get("url")
    return getattr(payload, "path", None)


def no_hints_note(model: str) -> str:
    takers = [m.name for m in E.model_infos() if m.hints and m.weights]
    others = f"choose {' or '.join(takers)} to use them" if takers else "no model here takes them"
    return f"{model} does not take colour hints: {others}."


def hint_note(model: str) -> str:
    """The hint panel's text for a model: how to place hints, or why it cannot take them."""
    try:
        takes = E.get_colorizer(model).accepts_hints
    except E.DemoError:
        return "Colour hints need a model that can run: pick a model marked ✓."
    if not takes:
        return f"**{no_hints_note(model)}** Hints you placed are kept for it."
    return ("Click your photo to pin a colour there. A new hint starts with the colour the model gave that "
            "point (after a Colorize; before one, the picker's colour): pick another colour to change the "
            "selected hint, click a row to select one, then press **Colorize**. Only the colour's chroma is used, "
            "the photo keeps its lightness.")


def hint_table(state: dict | None):
    """The hints as a table (numbered as on the photo), each colour cell in its colour."""
    items = (state or {}).get("items", [])
    frame = pd.DataFrame([[i + 1, x, y, c] for i, (x, y, c) in enumerate(items)], columns=HINT_COLUMNS)
    if not items:
        return gr.update(value=frame, visible=False)
    paint = lambda col: [f"background-color: {c}; color: {'black' if _light(c) else 'white'}"  # noqa: E731
                         for c in col]
    return gr.update(value=frame.style.apply(paint, subset=["colour"]), visible=True)


def _light(colour: str) -> bool:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b > 140


def hint_picture(state: dict | None):
    """The photo (gray, as the model sees it) with the hints marked; hidden without hints."""
    if not state or not state.get("items"):
        return gr.update(value=None, visible=False)
    return gr.update(value=E.draw_hints(_image(state["base"]), state["items"], state["size"], state.get("selected")),
                     visible=True)


def hint_outputs(state: dict | None) -> tuple:
    return state, hint_table(state), hint_picture(state)


def photo_changed():
    """A new photo (or none): its hints start empty."""
    return hint_outputs(None)


def _hint_state(payload, state: dict | None) -> dict:
    """The hints of the photo shown, starting them (and the copy to mark them on) for a new one."""
    key = _photo_key(payload)
    if state and state.get("key") == key:
        return state
    photo, _ = decode_upload(payload)
    base = E.gray_of(photo, E.HINT_VIEW_MAX)
    return {"key": key, "size": photo.size, "base": _jpeg(base), "shown": base.size, "items": [], "selected": None}


def add_hint(payload, state: dict | None, kept: dict | None, model: str, colour: str | None, index,
             on_marked: bool = False):
    """A click at index (SelectData.index) on the photo itself, or on the marked copy
    (on_marked): a new hint there, selected; its colour is the last result's there, when that
    result is of this photo, else the picker's. The picker shows it."""
    try:
        takes = E.get_colorizer(_model(model)).accepts_hints
    except E.DemoError as e:
        gr.Warning(str(e))
        return gr.update(), gr.update(), gr.update(), gr.update()
    if not takes:  # say so: a click that did nothing would look broken
        gr.Warning(no_hints_note(_model(model)))
        return gr.update(), gr.update(), gr.update(), gr.update()
    state = _hint_state(payload, state)
    if len(state["items"]) >= E.MAX_HINTS:
        gr.Warning(f"At most {E.MAX_HINTS} hints; remove some first.")
        return gr.update(), gr.update(), gr.update(), gr.update()
    size = tuple(state["size"])
    try:
        x, y = E.click_to_pixel(index, tuple(state["shown"]) if on_marked else size, size)
    except ValueError:
        return gr.update(), gr.update(), gr.update(), gr.update()  # a click beside the picture
    colour = _colour(colour) or HINT_COLOUR
    if kept and kept.get("key") == state["key"] and kept.get("after") is not None:
        after = kept["after"]  # the result's PNG (its path) or its display copy
        with contextlib.suppress(OSError):  # a PNG the bounded cache removed meanwhile: the picker's
            colour = E.colour_at(Image.open(after) if isinstance(after, str) else _image(after), x, y, size)
    items = [*state["items"], [x, y, colour]]
    state = {**state, "items": items, "selected": len(items) - 1}
    return (*hint_outputs(state), colour)


def _colour(value) -> str | None:
    """The picker's value as '#rrggbb' (lower case), or None if it is not one."""
    try:
        E.hex_to_ab(value)
    except ValueError:
        return None
    return "#" + value.strip().lstrip("#").lower()


@friendly
def hint_on_photo(payload, state: dict | None, kept: dict | None, model: str, colour: str | None,
                  evt: gr.SelectData):
    return add_hint(payload, state, kept, model, colour, evt.index)


@friendly
def hint_on_marked(payload, state: dict | None, kept: dict | None, model: str, colour: str | None,
                   evt: gr.SelectData):
    return add_hint(payload, state, kept, model, colour, evt.index, on_marked=True)


def recolour_hint(colour: str | None, state: dict | None):
    """The picker changed: the selected hint takes its colour (nothing when none is selected,
    or it has that colour already, as after a click set the picker)."""
    sel, colour = (state or {}).get("selected"), _colour(colour)
    if sel is None or colour is None or state["items"][sel][2] == colour:
        return gr.update(), gr.update(), gr.update()
    items = [list(item) for item in state["items"]]
    items[sel][2] = colour
    return hint_outputs({**state, "items": items})


def select_hint(state: dict | None, evt: gr.SelectData):
    """A row of the table clicked: that hint is selected, the picker shows its colour."""
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    if not state or not isinstance(row, int) or not 0 <= row < len(state["items"]):
        return gr.update(), gr.update(), gr.update(), gr.update()
    state = {**state, "selected": row}
    return (*hint_outputs(state), state["items"][row][2])


def remove_hint(state: dict | None):
    """Remove the selected hint (the newest when none is selected)."""
    if not state or not state["items"]:
        return hint_outputs(state)
    items = list(state["items"])
    sel = state.get("selected")
    items.pop(len(items) - 1 if sel is None else sel)
    return hint_outputs({**state, "items": items, "selected": None})


def clear_hints(state: dict | None):
    return hint_outputs({**state, "items": [], "selected": None} if state else None)


@dataclass
class Controls:
    """What the Colorize tab shows for a model: its defaults (from its weights' config.json,
    as the API and the CLI use them) and which controls matter for it."""

    temperature: float | None = None  # None: the model has none (or no weights)
    vividness: float = 1.0
    sampler: bool = False
    uncertainty: bool = False
    note: str = ""
    hints: bool = False


def controls_for(model: str) -> Controls:
    info = next((m for m in E.model_infos() if m.name == model), None)
    if info is None:
        return Controls(note=f"**Note:** unknown model {model!r}.")
    if not info.weights:
        return Controls(note=f"**Note:** {model} has no trained weights here yet, so it cannot run: "
                             "pick a model marked ✓.")
    try:
        c = E.get_colorizer(model)
    except E.DemoError as e:
        return Controls(note=f"**Note:** {e}")
    d = c.defaults
    return Controls(d["temperature"] if info.uses_temperature else None, d["vividness"], E.is_sampler(c),
                    info.has_uncertainty, f"**{model}** is ready, with the settings it ships with: "
                                          "press **Colorize**.", c.accepts_hints)


def model_changed(model: str):
    """Show the controls that matter for this model, with its own defaults; the hint
    colour can be picked only for a model that takes hints (the note says so; hints
    already placed stay, and can be removed)."""
    c = controls_for(model)
    temperature = (gr.update(value=c.temperature, visible=True) if c.temperature is not None
                   else gr.update(visible=False))
    return (temperature, gr.update(value=c.vividness), gr.update(visible=c.sampler),
            gr.update(visible=c.uncertainty), c.note, E.about_markdown(model), hint_note(model),
            gr.update(interactive=c.hints))


# --------------------------------------------------------------------------
# Limits: request bodies, what one client sends, and the disk


def _mb(n: int) -> str:
    return f"{n / 2**20:.3g} MB"


class UploadBudget:
    """The bytes each client sent in the last 60 s (a sliding window)."""

    WINDOW_S = 60

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._sent: dict[str, deque] = defaultdict(deque)  # client -> (time, bytes), oldest first

    def _recent(self, client: str) -> deque:
        sent, now = self._sent[client], time.monotonic()
        while sent and now - sent[0][0] > self.WINDOW_S:
            sent.popleft()
        return sent

    def left(self, client: str) -> int:
        return self.per_minute - sum(n for _, n in self._recent(client))

    def spend(self, client: str, n: int) -> None:
        self._recent(client).append((time.monotonic(), n))
        if len(self._sent) > 4096:  # forget clients that have been quiet for a minute
            for c in [c for c in self._sent if not self._recent(c)]:
                del self._sent[c]

    def retry_after(self, client: str) -> int:
        sent = self._recent(client)
        return max(1, math.ceil(self.WINDOW_S - (time.monotonic() - sent[0][0]))) if sent else 1


class RequestLimits:
    """ASGI middleware, in front of every Gradio route. A request body over max_body is
    refused with 413, and one that would take its client over its budget with 429, each
    as {"error": "<reason>"}. A declared Content-Length is judged before a byte of the body
    is read; a chunked body is counted as it arrives and cut off at the bound (the app then
    sees a disconnect, and its own answer is dropped). Gradio itself would read the whole
    body into memory first, and parse it. after() runs (in a thread) once a request that
    carried a body is done: the cache trim."""

    def __init__(self, app, max_body: int = MAX_BODY_BYTES, per_minute: int = UPLOAD_BYTES_PER_MINUTE,
                 after=None):
        self.app, self.max_body, self.after = app, max_body, after
        self.budget = UploadBudget(per_minute)
        self.too_large = (f"The request is over the size limit ({_mb(max_body)}; "
                          f"a photo may be at most {_mb(MAX_FILE_BYTES)}).")

    def over_budget(self, client: str) -> tuple[str, dict]:
        wait = self.budget.retry_after(client)
        return (f"Too much sent from your address: at most {_mb(self.budget.per_minute)} a minute; "
                f"try again in {wait} s.", {"Retry-After": str(wait)})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length", "0")
        declared = int(length) if length.isdigit() else 0
        if not (declared or chunked):  # no body: nothing to bound
            return await self.app(scope, receive, send)
        # The address uvicorn reports: the peer's, or a trusted proxy's X-Forwarded-For
        # (FORWARDED_ALLOW_IPS names the trusted proxies).
        client = (scope.get("client") or ("unknown",))[0]

        async def refuse(status: int, reason: str, extra: dict | None = None):
            await JSONResponse({"error": reason}, status, headers={"Connection": "close", **(extra or {})})(
                scope, receive, send)

        if declared > self.max_body:
            return await refuse(413, self.too_large)
        left = self.budget.left(client)
        if left <= 0 or declared > left:
            return await refuse(429, *self.over_budget(client))
        self.budget.spend(client, declared)  # charged up front, so parallel requests cannot overrun it

        received, refused, started = 0, False, False

        async def limited_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request" or declared:  # uvicorn holds a declared body to its length
                return message
            n = len(message.get("body", b""))
            received += n
            if received > self.max_body:
                refusal = (413, self.too_large)
            elif n > self.budget.left(client):
                refusal = (429, *self.over_budget(client))
            else:
                self.budget.spend(client, n)
                return message
            refused = True
            if not started:
                await refuse(*refusal)
            return {"type": "http.disconnect"}

        async def guarded_send(message):
            nonlocal started
            if refused:  # the client has its answer already
                return
            started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:  # after a cut-off, the app's complaint about the missing body is expected
                raise
        finally:
            if self.after is not None:
                await anyio.to_thread.run_sync(self.after)


def trim_cache(blocks: gr.Blocks, max_bytes: int = CACHE_MAX_BYTES) -> None:
    """Keep the files Gradio holds for this app (uploads, and everything the events handed
    back) under max_bytes in all, removing the oldest first; the example photos stay.
    Gradio's delete_cache goes by age only, so a burst of uploads could fill the disk
    before their time is up."""
    keep = set().union(*(getattr(b, "keep_in_cache", set()) for b in blocks.blocks.values()))
    files: dict[str, tuple[float, int]] = {}
    for temp_set in blocks.temp_file_sets:
        for f in list(temp_set):  # a copy: Gradio adds to these sets meanwhile
            if f not in keep and f not in files:
                try:
                    st = os.stat(f)
                except OSError:
                    continue
                files[f] = (st.st_ctime, st.st_size)
    total = sum(size for _, size in files.values())
    for f, (_, size) in sorted(files.items(), key=lambda item: item[1][0]):
        if total <= max_bytes:
            break
        with contextlib.suppress(OSError):
            os.remove(f)
        total -= size
        for temp_set in blocks.temp_file_sets:
            temp_set.discard(f)


# --------------------------------------------------------------------------
# Layout


def build_demo() -> gr.Blocks:
    infos = E.model_infos()
    names = [m.name for m in infos]
    choices = [(m.label, m.name) for m in infos]
    ready = [m.name for m in infos if m.weights]
    first = next((m for m in infos if m.name == E.FLAGSHIP), infos[0])
    start = controls_for(first.name)
    examples = E.example_photos()

    with gr.Blocks(title=TITLE, delete_cache=(60, CACHE_TTL_S)) as demo:
        gr.Markdown(INTRO, elem_id="intro")
        # The photo, the button and the result fit the first screen of a laptop (side by side)
        # and of a phone (stacked, smaller: see CSS); settings and examples come after.
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=300):
                photo = gr.Image(label="Your photo", type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                 height=PHOTO_HEIGHT, elem_id="photo")
            with gr.Column(scale=3, min_width=320):
                with gr.Tabs():
                    with gr.Tab("Colorize", id="colorize"):
                        with gr.Row(equal_height=True, elem_id="colorize-row"):
                            model = gr.Dropdown(choices, value=first.name, show_label=False, container=False,
                                                scale=3, min_width=150, elem_id="colorize-model")
                            run = gr.Button("Colorize", variant="primary", scale=1, min_width=110,
                                            elem_id="colorize-btn")
                        slider = gr.ImageSlider(label="Before / after (drag the handle)", type="pil",
                                                interactive=False, height=RESULT_HEIGHT, elem_id="result")
                        with gr.Row(equal_height=True):
                            # min_width: on a phone the two wrap onto lines of their own, the button on one line
                            download = gr.DownloadButton("Download the PNG (full size)", interactive=False,
                                                         elem_id="download", scale=2, min_width=220)
                            reveal = gr.Radio(list(REVEAL), value=REVEAL[0], show_label=False, container=False,
                                              visible=False, scale=3, min_width=220, elem_id="reveal")
                        status = gr.Markdown(start.note, elem_id="status")
                        with gr.Row():
                            temperature = gr.Slider(0.01, 1.0, value=start.temperature, step=0.01,
                                                    label="Annealed-mean temperature",
                                                    info="lower = bolder colours, higher = safer, duller ones",
                                                    visible=start.temperature is not None, elem_id="temperature")
                            vividness = gr.Slider(0.0, 2.0, value=start.vividness, step=0.05, label="Vividness",
                                                  info="scales the colours: 0 = gray, 1 = as the model decoded them",
                                                  elem_id="vividness")
                            with gr.Column(visible=start.sampler, min_width=200) as seed_box:
                                seed = gr.Number(value=0, precision=0, minimum=0, label="Sample seed",
                                                 info="each seed is another plausible colorization; "
                                                      "0 = the mean one")
                                dice = gr.Button("Another sample", size="sm")
                            show_unsure = gr.Checkbox(value=False, label="Where is it unsure?",
                                                      info="heat map of the per-pixel entropy of the predicted "
                                                           "colour distribution", visible=start.uncertainty,
                                                      elem_id="show-unsure")
                        with gr.Accordion("Colour hints", open=True, elem_id="hints-box"):
                            hint_info = gr.Markdown(hint_note(first.name), elem_id="hint-note")
                            with gr.Row(equal_height=True):
                                hint_colour = gr.ColorPicker(HINT_COLOUR, label="Colour of the selected hint",
                                                             interactive=start.hints, scale=2, min_width=160,
                                                             elem_id="hint-colour")
                                hint_remove = gr.Button("Remove the selected hint", size="sm", scale=1,
                                                        min_width=120, elem_id="hint-remove")
                                hint_clear = gr.Button("Clear all hints", size="sm", scale=1, min_width=100,
                                                       elem_id="hint-clear")
                            with gr.Row(equal_height=False):
                                hint_list = gr.Dataframe(pd.DataFrame(columns=HINT_COLUMNS), interactive=False,
                                                         visible=False, label="Hints (click a row to select it)",
                                                         max_height=300, scale=2, min_width=200, elem_id="hints")
                                hint_view = gr.Image(label="Your hints (click to add one)", type="pil",
                                                     interactive=False, visible=False, height=300, scale=3,
                                                     min_width=240, elem_id="hint-view")
                        unsure = gr.Image(label="Uncertainty of the last result", type="pil",
                                          interactive=False, visible=False, height=420, elem_id="unsure")
                        with gr.Accordion("About this model", open=False):
                            about_here = gr.Markdown(E.about_markdown(first.name))
                    with gr.Tab("Compare", id="compare"):
                        models = gr.CheckboxGroup(choices, value=ready or names[:1], label="Models",
                                                  info="✗ = no trained weights here (skipped)")
                        with gr.Row():
                            all_models = gr.Button("All models", size="sm")
                            compare_seed = gr.Number(value=0, precision=0, minimum=0,
                                                     label="VAE sample seed (0 = mean)",
                                                     min_width=160)
                            compare = gr.Button("Compare", variant="primary", elem_id="compare-btn")
                        compare_note = gr.Markdown(elem_id="compare-note")
                        table = gr.Dataframe(label="Scores against the original", interactive=False, visible=False,
                                             elem_id="scores")
                        gallery = gr.Gallery(label="Side by side", columns=3, object_fit="contain", visible=False,
                                             elem_id="gallery")
                        with gr.Row(equal_height=True):
                            closer_model = gr.Dropdown([], label="Look closer: one model against the reference",
                                                       visible=False, elem_id="closer-model")
                            compare_zip = gr.DownloadButton("Download all results (zip, full size)", visible=False,
                                                            elem_id="compare-zip")
                        closer = gr.ImageSlider(label="Model ↔ reference (drag the handle)", type="pil",
                                                interactive=False, visible=False, height=RESULT_HEIGHT,
                                                elem_id="closer")
                    with gr.Tab("Many photos", id="batch"):
                        batch_files = gr.File(label=f"Photos, or a zip of photos (at most {B.MAX_PHOTOS})",
                                              file_count="multiple", file_types=["image", ".zip"], height=140,
                                              elem_id="batch-files")
                        with gr.Row(equal_height=True):
                            batch_model = gr.Dropdown(choices, value=first.name, show_label=False, container=False,
                                                      scale=3, min_width=150, elem_id="batch-model")
                            batch_run = gr.Button("Colorize all", variant="primary", scale=1, min_width=110,
                                                  elem_id="batch-btn")
                        batch_status = gr.Markdown("Each photo is colorized with the model's own settings; the "
                                                   "zip holds the full-size results.", elem_id="batch-status")
                        batch_zip = gr.DownloadButton("Download all (zip, full size)", visible=False,
                                                      elem_id="batch-zip")
                        batch_gallery = gr.Gallery(label="Results", columns=4, object_fit="contain",
                                                   elem_id="batch-gallery")
                    with gr.Tab("About the models", id="about"):
                        about_model = gr.Dropdown(choices, value=first.name, label="Model")
                        about = gr.Markdown(E.about_markdown(first.name))
                        gr.Dataframe(pd.DataFrame([{"model": m.name, "output": m.kind, "net size": m.net_size,
                                                    "trained": "✓" if m.weights else "✗", "summary": m.summary}
                                                   for m in infos]),
                                     label="The model zoo", interactive=False, wrap=True,
                                     column_widths=["20%", "10%", "9%", "10%", "51%"])
        if examples["bw"]:
            gr.Examples(examples=examples["bw"], inputs=photo, examples_per_page=8, elem_id="examples-bw",
                        label="Black-and-white photos (scikit-image; camera and moon were taken in black and white)")
        if examples["colour"]:
            gr.Examples(examples=examples["colour"], inputs=photo, examples_per_page=8, elem_id="examples-colour",
                        label="Colour photos: their colour is removed first, and the original can be revealed after")

        kept = gr.State(None, time_to_live=CACHE_TTL_S)  # the last result's display copies and uncertainty
        compare_kept = gr.State(None, time_to_live=CACHE_TTL_S)
        hint_state = gr.State(None, time_to_live=CACHE_TTL_S)  # the photo's colour hints (see hint_outputs)

        # The API-only endpoint: image in, PNG out (model by name or alias).
        api_model = gr.Textbox(value="default", visible=False, label="model")
        api_temperature = gr.Number(value=None, visible=False, label="temperature")
        api_seed = gr.Number(value=None, precision=0, visible=False, label="seed")
        api_vividness = gr.Number(value=None, visible=False, label="vividness")
        api_hints = gr.JSON(value=None, visible=False, label="hints")
        api_out = gr.Image(type="filepath", format="png", visible=False, label="colorized")
        api_trigger = gr.Button(visible=False)

        # preprocess=False: the photo reaches the handlers as upload data, for colorcore to decode
        # and judge (see read_upload); the other inputs arrive as their plain values.
        limit = dict(concurrency_limit=CONCURRENCY, concurrency_id="colorize", preprocess=False)
        view_inputs = [photo, model, temperature, vividness, seed, show_unsure, hint_state]
        view_outputs = [slider, unsure, download, status, reveal, kept]
        run.click(colorize_view, view_inputs, view_outputs, api_name="colorize_view", api_visibility="undocumented",
                  show_progress_on=slider, **limit)
        dice.click(lambda: random.randrange(1, 1_000_000), None, seed, queue=False, api_visibility="private").then(
            colorize_view, view_inputs, view_outputs, api_visibility="private", show_progress_on=slider, **limit)
        show_unsure.change(toggle_unsure, [kept, show_unsure], unsure, queue=False, api_visibility="private")
        reveal.change(reveal_view, [kept, reveal], slider, queue=False, api_visibility="private")
        api_trigger.click(colorize_api, [photo, api_model, api_temperature, api_seed, api_vividness, api_hints],
                          api_out, api_name="colorize", **limit)
        hint_outs = [hint_state, hint_list, hint_view]
        photo.change(photo_changed, None, hint_outs, queue=False, api_visibility="private")
        # Clicks are queued (a first one decodes the photo; gr.Warning needs the queue), in their own group
        # so that they never wait behind a colorization.
        hint_inputs = [photo, hint_state, kept, model, hint_colour]
        for picture, handler in ((photo, hint_on_photo), (hint_view, hint_on_marked)):
            picture.select(handler, hint_inputs, [*hint_outs, hint_colour], preprocess=False, api_visibility="private",
                           concurrency_limit=CONCURRENCY, concurrency_id="hints", trigger_mode="always_last")
        hint_colour.change(recolour_hint, [hint_colour, hint_state], hint_outs, queue=False, api_visibility="private")
        hint_list.select(select_hint, hint_state, [*hint_outs, hint_colour], queue=False, api_visibility="private")
        hint_remove.click(remove_hint, hint_state, hint_outs, queue=False, api_visibility="private")
        hint_clear.click(clear_hints, hint_state, hint_outs, queue=False, api_visibility="private")
        api_batch_temperature = gr.Number(value=None, visible=False, label="temperature")
        api_batch_vividness = gr.Number(value=None, visible=False, label="vividness")
        batch_run.click(batch_view, [batch_files, batch_model, api_batch_temperature, api_batch_vividness],
                        [batch_gallery, batch_zip, batch_status], api_name="colorize_batch",
                        concurrency_limit=1, concurrency_id="batch", preprocess=False,
                        show_progress_on=batch_status).success(
            lambda: gr.update(visible=True), None, batch_zip, queue=False, api_visibility="private")
        model.change(model_changed, model, [temperature, vividness, seed_box, show_unsure, status, about_here,
                                            hint_info, hint_colour],
                     api_visibility="private", concurrency_limit=None)
        compare.click(compare_view, [photo, models, compare_seed],
                      [gallery, table, compare_note, compare_zip, closer_model, closer, compare_kept],
                      api_name="compare", concurrency_limit=1, concurrency_id="compare", preprocess=False,
                      show_progress_on=compare_note).success(  # the result panels appear with the first results
            lambda: [gr.update(visible=True)] * 5, None, [gallery, table, compare_zip, closer_model, closer],
            queue=False, api_visibility="private")
        closer_model.change(closer_pair, [compare_kept, closer_model], closer, queue=False, api_visibility="private")
        all_models.click(lambda: gr.update(value=names), None, models, queue=False, api_visibility="private")
        about_model.change(E.about_markdown, about_model, about, queue=False, api_visibility="private")
    guard_inputs(demo)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def launch(demo: gr.Blocks, host: str | None = None, port: int | None = None, **kwargs):
    """Serve the demo with this app's limits and look; kwargs go to Blocks.launch."""
    app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []),
                                Middleware(RequestLimits, after=functools.partial(trim_cache, demo))]
    try:  # before the server answers: the first visitor must not wait for loading and warming up
        log.info("warmed up %s in %.1f s", E.FLAGSHIP, E.warm_up())
    except E.DemoError as e:
        log.warning("not warmed up: %s", e)
    # num_workers=0: no static-file worker processes, which would take uploads past RequestLimits.
    return demo.launch(server_name=host, server_port=port, max_file_size=MAX_FILE_SIZE, show_error=False,
                       theme=gr.themes.Soft(), css=CSS, footer_links=["api"], app_kwargs=app_kwargs,
                       num_workers=0, **kwargs)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                   help="interface to serve on (default 127.0.0.1; a Space sets 0.0.0.0)")
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link (needs internet)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if os.environ.get("SPACE_ID"):  # on a Hugging Face Space: weights from the Hub
        E.prefetch_weights()
    launch(build_demo(), args.host, args.port, share=args.share)


if __name__ == "__main__":
    main()
