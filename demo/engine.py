"""What the demo computes, kept apart from its layout (demo/app.py).

Colorizers are loaded lazily and cached; one photo is decoded once and then
colorized by one model or many. Concurrent requests for the same model share
one forward pass (see Batcher). Nothing here knows about Gradio except the
optional @spaces.GPU wrapper.
"""
from __future__ import annotations

import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python demo/app.py` from a checkout, or a Space
    sys.path.insert(0, str(ROOT))

import colorcore  # noqa: E402
from colorcore import ImageError, WeightsCorrupt, WeightsNotFound, hub, load_image  # noqa: E402
from colorcore.data import lab_batch  # noqa: E402
from colorcore.hints import MAX_HINTS, Hint, hex_to_ab, parse_hints, resized  # noqa: E402
from colorcore.metrics import score_images, truth_terms  # noqa: E402
from colorcore.models import all_specs, get_spec, resolve  # noqa: E402
from colorcore.pipeline import Colorizer  # noqa: E402
from colorcore.render import lightness, render_full  # noqa: E402
from colorcore.png_stamp import stamp  # noqa: E402

log = logging.getLogger("colorcore.demo")

FLAGSHIP = resolve("default")
DISPLAY_MAX = int(os.environ.get("COLORCORE_DEMO_DISPLAY_MAX", 2048))  # long side of on-screen copies
# A shared server's own pixel limit, below the library's: a 12 MP phone photo fits, a
# 40 MP one (seconds of a worker and gigabytes) does not.
MAX_PIXELS = int(os.environ.get("COLORCORE_DEMO_MAX_PIXELS", 16_000_000))
SCORE_MAX = 512  # long side at which the compare view scores outputs against a colour original
CACHE = Path(os.environ.get("COLORCORE_CACHE", Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                            / "colorcore"))
OUT_DIR = Path(tempfile.gettempdir()) / "colorcore-demo"  # the app points this at Gradio's cache folder
OUT_PREFIX = "colorized-"  # each result's own folder in OUT_DIR; others' folders there are left alone
OUT_KEEP = 32  # result PNGs kept on disk, newest first: bounded however busy the demo is

# ZeroGPU runs @spaces.GPU functions in a worker process that holds the GPU only
# during the call; the shared-batch thread would run outside it, so it is off there.
try:  # pragma: no cover - only on Hugging Face Spaces
    import spaces

    GPU = spaces.GPU
    ZERO_GPU = str(os.environ.get("SPACES_ZERO_GPU", "")).lower() in ("1", "t", "true")
except ImportError:
    def GPU(fn=None, **_):  # noqa: N802 - mirrors spaces.GPU
        return fn if fn is not None else (lambda f: f)

    ZERO_GPU = False


class DemoError(Exception):
    """A model that cannot run, in words for the visitor (unknown name, no or damaged weights)."""


# --------------------------------------------------------------------------
# Models


@dataclass
class ModelInfo:
    name: str
    kind: str
    net_size: int
    summary: str
    aliases: tuple[str, ...]
    hub_repo: str
    distribution: bool  # the net predicts a distribution over colours (ColorNet.predicts_distribution)
    weights: bool
    source: str
    hints: bool = False  # takes colour hints (ColorNet.accepts_hints)

    @property
    def label(self) -> str:
        mark = "✓" if self.weights else "✗ no weights"
        star = " — flagship" if self.name == FLAGSHIP else ""
        return f"{self.name}{star} ({mark})"

    @property
    def uses_temperature(self) -> bool:
        """The annealed-mean temperature sharpens or flattens a distribution."""
        return self.distribution

    @property
    def has_uncertainty(self) -> bool:
        """The uncertainty map is the entropy of the distribution."""
        return self.distribution


def model_infos() -> list[ModelInfo]:
    """Every registered model, flagship first, and whether its weights are at hand
    (local folders, the Hub cache; no network)."""
    rows = []
    for spec in all_specs():
        try:
            source, present = str(hub.find_weights(spec.name, network=False)), True
        except WeightsNotFound:
            source, present = "", False
        proto = spec.prototype
        rows.append(ModelInfo(spec.name, spec.kind, spec.net_size, spec.summary, spec.aliases, spec.hub_repo,
                              proto.predicts_distribution, present, source,
                              colorcore.pipeline.takes_hints(spec, source or None)))
    return sorted(rows, key=lambda m: (m.name != FLAGSHIP, not m.weights, m.name))


def prefetch_weights() -> None:
    """On a Space: download every model's weights from the Hub up front, so the
    model list shows them as available (a failure only logs)."""
    for spec in all_specs():
        try:
            hub.find_weights(spec.name)
        except Exception as e:  # noqa: BLE001 - best effort
            log.warning("no weights for %s: %s", spec.name, e)


_models: dict[str, Colorizer] = {}
_models_lock = threading.Lock()


def get_colorizer(name: str) -> Colorizer:
    """The cached Colorizer for a model name or alias; DemoError if it has no weights."""
    try:
        key = resolve(name or "default")
        spec = get_spec(key)
    except KeyError as e:
        raise DemoError(str(e.args[0]) if e.args else f"unknown model {name!r}") from None
    with _models_lock:
        if key not in _models:
            try:
                _models[key] = colorcore.load_colorizer(key)
            except WeightsNotFound as e:
                log.warning("%s", e)  # where it looked: for the log, not for the visitor
                raise DemoError(f"Model {spec.name!r} has no trained weights here yet, so it cannot run; "
                                "pick a model marked ✓.") from None
            except WeightsCorrupt as e:
                log.error("%s", e)
                raise DemoError(f"The weights of {spec.name!r} failed their integrity check and were not "
                                "loaded; pick another model.") from None
            log.info("loaded %s from %s", key, _models[key].source)
        return _models[key]


def is_sampler(colorizer: Colorizer) -> bool:
    """Whether the seed changes this model's output (the VAE draws its latent from it)."""
    return colorizer.model.stochastic


# --------------------------------------------------------------------------
# Shared forward passes


class Batcher:
    """Runs the network for concurrent requests of the same model (and temperature)
    as one batch. Each request decodes and checks its own photo first, so a bad
    file fails only its own request; Gradio's batch=True would fail the whole
    batch. Requests that wait while a batch runs form the next one: no added delay."""

    def __init__(self, max_batch: int = 8):
        self.max_batch = max_batch
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def predict(self, colorizer: Colorizer, x: torch.Tensor, temperature: float | None,
                vividness: float | None = None, hints: list[Hint] | None = None) -> dict:
        """x (1, 1, s, s) at the model's net size -> the model's output for it; hints in
        x's pixels (net_hints). Photos with and without hints share a batch."""
        if ZERO_GPU:
            return colorizer.predict(x, temperature, vividness=vividness, **_hint_arg([hints or []]))
        self._ensure_thread()
        fut: Future = Future()
        self._queue.put((colorizer, x, (temperature, vividness), fut, hints or []))
        return fut.result()

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="colorcore-batcher", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            items = [self._queue.get()]
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            groups = defaultdict(list)
            for item in items:
                groups[(id(item[0]), item[2])].append(item)
            for group in groups.values():
                for i in range(0, len(group), self.max_batch):
                    self._run(group[i:i + self.max_batch])

    def _run(self, chunk: list) -> None:
        colorizer, _, (temperature, vividness), _, _ = chunk[0]
        try:
            out = colorizer.predict(torch.cat([item[1] for item in chunk]), temperature, vividness=vividness,
                                    **_hint_arg([item[4] for item in chunk]))
            for j, item in enumerate(chunk):
                item[3].set_result({k: v[j:j + 1] for k, v in out.items()})
        except BaseException as e:  # noqa: BLE001 - handed to every waiting request
            for item in chunk:
                if not item[3].done():
                    item[3].set_exception(e)


def _hint_arg(hints: list[list[Hint]]) -> dict:
    """predict's hints argument: only where some photo has hints, so that a model without
    hint support is called exactly as before."""
    return {"hints": hints} if any(hints) else {}


BATCHER = Batcher()


# --------------------------------------------------------------------------
# Photos


@dataclass
class Photo:
    """A decoded upload: 8-bit RGB pixels and their Lab lightness."""

    rgb8: np.ndarray  # (H, W, 3) uint8
    L: torch.Tensor  # (1, 1, H, W) in [0, 100]
    name: str

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb8.shape[1], self.rgb8.shape[0]


def decode(source, name: str | None = None) -> Photo:
    """Path, bytes or PIL image -> Photo; ImageError (naming the problem) for a bad file."""
    label = name or "the uploaded file"
    rgb8 = np.asarray(load_image(source, name=label, max_pixels=MAX_PIXELS))
    return Photo(rgb8, lightness(rgb8), label)


def is_colour(photo: Photo) -> bool:
    """A photo with real colour in it (not gray, not a faint cast): its colours can
    serve as the ground truth. 95th percentile of chroma above 10 (Lab units)."""
    r, g, b = (photo.rgb8[..., c] for c in range(3))
    if np.array_equal(r, g) and np.array_equal(g, b):
        return False
    small = downscale(Image.fromarray(photo.rgb8), 256)
    _, ab = lab_batch(to_tensor(np.asarray(small)))
    chroma = torch.linalg.vector_norm(ab, dim=1).flatten()
    return float(torch.quantile(chroma, 0.95)) > 10.0


def to_tensor(rgb8: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(rgb8)).permute(2, 0, 1)[None].float() / 255


def downscale(im: Image.Image, max_side: int) -> Image.Image:
    """A copy at most max_side on the long side (bicubic, after a fast box reduction)."""
    w, h = im.size
    if max(w, h) <= max_side:
        return im
    s = max_side / max(w, h)
    return im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.BICUBIC, reducing_gap=3.0)


def gray_of(photo: Photo, max_side: int | None = None) -> Image.Image:
    """What the model sees: the photo's own lightness as a gray picture, at most
    max_side pixels on the long side (computed at that size: it is for display)."""
    r, g, b = (photo.rgb8[..., c] for c in range(3))
    image = Image.fromarray(photo.rgb8)
    if max_side:
        image = downscale(image, max_side)
    if np.array_equal(r, g) and np.array_equal(g, b):
        return image
    L = lightness(np.asarray(image)) if max_side else photo.L
    return Image.fromarray(render_full(L, torch.zeros(1, 2, 1, 1)))


# --------------------------------------------------------------------------
# Colorizing


@dataclass
class Colorized:
    model: str
    image: Image.Image  # full resolution, same size as the photo
    entropy: torch.Tensor | None  # (h, w) at the model's resolution, in nats; bin models only
    max_entropy: float
    seconds: float  # network + full-size composition (decoding not included)
    temperature: float | None
    seed: int | None
    vividness: float = 1.0
    hints: int = 0  # colour hints the model followed

    @property
    def settings(self) -> dict:
        """What decided these colours, beside the model and its weights."""
        return {"temperature": self.temperature, "vividness": self.vividness, "seed": self.seed}


def model_defaults(name: str) -> dict:
    """A model's settings when a caller gives none: {"temperature", "vividness", "fade"},
    from its weights' config.json (Colorizer.defaults), as the page, the API, the CLI and
    the dashboard all use them. DemoError without weights."""
    return get_colorizer(name).defaults


def net_hints(hints: list[Hint], size: tuple[int, int], net_size: int) -> list[Hint]:
    """Hints in a photo's pixels (size = (w, h)) -> the same points in the pixels of the
    net's square input, which is what the model is handed here: they land on the cells
    that Colorizer.run's would (colorcore.hints.hint_map maps pixel centres)."""
    return resized(hints, *size, net_size, net_size)


@torch.inference_mode()
def colorize_photo(photo: Photo, colorizer: Colorizer, temperature: float | None = None,
                   seed: int | None = None, vividness: float | None = None,
                   hints: list[Hint] | None = None) -> Colorized:
    """One decoded photo, one model -> the full-size colorization, the same
    pixels as Colorizer.run gives for the photo. None: the model's own setting.
    hints: colour hints in the photo's pixels (parse_hints), in the same single forward
    pass; colorcore.models.HintsNotSupported for a model that takes none."""
    t0 = time.perf_counter()
    colorizer.check_hints(hints)
    defaults = colorizer.defaults
    t = defaults["temperature"] if temperature is None or defaults["temperature"] is None else float(temperature)
    v = defaults["vividness"] if vividness is None else float(vividness)
    seed = None if seed is None or not is_sampler(colorizer) else int(seed)
    x = colorizer.to_net(photo.L)
    at_net = net_hints(hints or [], photo.size, colorizer.spec.net_size)
    if seed is None:
        out = BATCHER.predict(colorizer, x, t, v, at_net)
    else:  # a seeded sample depends on its place in a batch: run it alone
        out = colorizer.predict(x, t, seed, vividness=v, **_hint_arg([at_net]))
    image = Image.fromarray(render_full(photo.L, out["ab"]), "RGB")
    entropy = out["entropy"][0] if "entropy" in out else None
    return Colorized(colorizer.spec.name, image, entropy, colorizer.model.max_entropy, time.perf_counter() - t0, t,
                     seed, v, len(at_net))


def warm_up(name: str = FLAGSHIP) -> float:
    """Load a model and run one photo through the whole path (decode, the shared-batch
    thread, the net, composition), so that the first visitor does not pay for it.
    Returns the seconds it took."""
    t0 = time.perf_counter()
    gray = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    colorize_photo(Photo(np.stack([gray] * 3, -1), lightness(np.stack([gray] * 3, -1)), "warm-up"),
                   get_colorizer(name))
    return time.perf_counter() - t0


# An inferno-like colour map: dark = sure, bright yellow = unsure.
_MAP_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_MAP_RGB = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float32)


def heat(values: np.ndarray) -> np.ndarray:
    """values in [0, 1] (H, W) -> uint8 RGB (H, W, 3)."""
    v = np.clip(values, 0, 1)
    return np.stack([np.interp(v, _MAP_STOPS, _MAP_RGB[:, c]) for c in range(3)], -1).astype(np.uint8)


def uncertainty_share(result: Colorized) -> np.ndarray | None:
    """The per-pixel entropy of the predicted ab distribution as a share of the largest
    possible (h, w) at the model's resolution, small enough to keep with the result;
    None for models without a distribution."""
    if result.entropy is None:
        return None
    return (result.entropy / result.max_entropy).clamp(0, 1).numpy().astype(np.float16)


def uncertainty_map(share: np.ndarray, gray: Image.Image) -> tuple[Image.Image, float]:
    """The uncertainty share laid over the gray photo, with a colour scale under it.
    Returns the picture and the mean share."""
    share = np.asarray(share, dtype=np.float32)
    colours = Image.fromarray(heat(share)).resize(gray.size, Image.Resampling.BILINEAR)
    over = Image.blend(gray.convert("RGB"), colours, 0.65)
    legend = uncertainty_legend(over.size[0])
    picture = Image.new("RGB", (over.size[0], over.size[1] + legend.size[1]), "white")
    picture.paste(over, (0, 0))
    picture.paste(legend, (0, over.size[1]))
    return picture, float(share.mean())


def uncertainty_legend(width: int) -> Image.Image:
    """The colour scale of uncertainty_map: sure (dark) to unsure (bright), in shares of
    the largest possible entropy, drawn at a size readable on the picture it goes with."""
    from PIL import ImageDraw, ImageFont

    size = max(12, width // 28)
    bar_h, pad = 2 * size, size // 2
    picture = Image.new("RGB", (width, bar_h + 2 * size + 3 * pad), "white")
    left, right = pad * 2, width - pad * 2
    bar = heat(np.tile(np.linspace(0, 1, max(1, right - left), dtype=np.float32), (bar_h, 1)))
    picture.paste(Image.fromarray(bar), (left, pad))
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size)
    y = pad + bar_h + pad // 2
    for share, anchor in ((0.0, "la"), (0.5, "ma"), (1.0, "ra")):
        draw.text((left + share * (right - left), y), f"{share:.0%}", fill="black", font=font, anchor=anchor)
    draw.text((width // 2, y + size + pad // 2),
              "uncertainty (entropy as a share of its maximum): dark = sure, bright = unsure",
              fill="black", font=ImageFont.load_default(max(10, int(size * 0.8))), anchor="ma")
    return picture


def scores(output: Image.Image, truth: Image.Image) -> dict:
    """PSNR (dB), AuC (0..1) and colourfulness of an output against the colour
    original, both scaled to at most SCORE_MAX pixels on the long side."""
    o, g = (to_tensor(np.asarray(downscale(im, SCORE_MAX).convert("RGB"))) for im in (output, truth))
    values = score_images(o, truth_terms(g, rebalanced=False), ("psnr", "auc", "colorfulness"))
    return {k: float(v[0]) for k, v in values.items()}


# --------------------------------------------------------------------------
# Colour hints on the page


HINT_VIEW_MAX = 1024  # long side of the picture that shows the hints


def click_to_pixel(index, shown: tuple[int, int], size: tuple[int, int]) -> tuple[int, int]:
    """A click on a picture of the photo -> the photo's pixel (x, y). index is Gradio's
    SelectData.index, [x, y] in the shown picture's own pixels (the frontend divides out
    the on-screen scale); shown = (w, h) of that picture, size = (w, h) of the photo.
    ValueError for anything else."""
    try:
        x, y = (float(v) for v in index)
    except (TypeError, ValueError):
        raise ValueError(f"not a point on the photo: {index!r}") from None
    (sw, sh), (w, h) = shown, size
    if not (0 <= x < sw and 0 <= y < sh):
        raise ValueError(f"({x:g}, {y:g}) is outside the {sw}x{sh} picture")
    # pixel centres: (x + 0.5) / sw of the way across, in both pictures
    return min(w - 1, int((x + 0.5) * w / sw)), min(h - 1, int((y + 0.5) * h / sh))


def colour_at(image: Image.Image, x: int, y: int, size: tuple[int, int]) -> str:
    """'#rrggbb' of image (a copy of a result, at any scale) at the photo's pixel (x, y);
    size = (w, h) of the photo."""
    px, py = click_to_pixel((x, y), size, image.size)
    r, g, b = image.convert("RGB").getpixel((px, py))
    return f"#{r:02x}{g:02x}{b:02x}"


def draw_hints(picture: Image.Image, items: list, size: tuple[int, int], selected: int | None = None) -> Image.Image:
    """The hints [(x, y, "#rrggbb")] (photo pixels; size = (w, h) of the photo) as numbered
    dots in their colours over a copy of picture (the photo at any scale); the selected one
    ringed larger."""
    from PIL import ImageDraw, ImageFont

    out = picture.convert("RGB")
    draw = ImageDraw.Draw(out)
    r = max(4, round(max(out.size) / 100))
    font = ImageFont.load_default(max(10, 2 * r))
    sx, sy = out.size[0] / size[0], out.size[1] / size[1]
    for i, (x, y, colour) in enumerate(items):
        cx, cy = (x + 0.5) * sx, (y + 0.5) * sy
        big = r + (r // 2 if i == selected else 0)
        draw.ellipse((cx - big - 2, cy - big - 2, cx + big + 2, cy + big + 2), fill="black")  # seen on any ground
        draw.ellipse((cx - big - 1, cy - big - 1, cx + big + 1, cy + big + 1), fill="white")
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        draw.text((cx + big + 3, cy), str(i + 1), fill="white", font=font, anchor="lm", stroke_width=2,
                  stroke_fill="black")
    return out


# --------------------------------------------------------------------------
# Files handed back to the visitor


def _keep_newest(folder: Path, keep: int) -> None:
    """Remove all but the `keep` most recently written result folders in folder."""
    dated = []
    for d in folder.glob(OUT_PREFIX + "*"):
        try:
            dated.append((d.stat().st_mtime, d))
        except OSError:  # removed meanwhile
            pass
    for _, d in sorted(dated, reverse=True)[keep:]:
        shutil.rmtree(d, ignore_errors=True)


def stamp_of(result: Colorized) -> PngImagePlugin.PngInfo:
    """The provenance text chunks of a result's PNG (colorcore.png_stamp)."""
    return stamp(get_colorizer(result.model), result.temperature, result.vividness, result.seed, hints=result.hints)


def save_png(image: Image.Image, stem: str, pnginfo: PngImagePlugin.PngInfo | None = None) -> str:
    """Write a full-resolution PNG in a fresh folder under OUT_DIR (its own folder, so
    the download keeps the visitor's file name); only the OUT_KEEP newest are kept."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=OUT_PREFIX, dir=OUT_DIR))
    path = folder / f"{stem}.png"
    image.save(path, format="PNG", compress_level=1, pnginfo=pnginfo)
    _keep_newest(OUT_DIR, OUT_KEEP)
    return str(path)


class ResultZip:
    """Full-resolution PNGs written one by one into a zip in a fresh folder under OUT_DIR
    (as save_png does), so that a batch never holds all its results in memory."""

    def __init__(self, stem: str):
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=OUT_PREFIX, dir=OUT_DIR)) / f"{stem}.zip"
        self._zip = zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_STORED)  # PNGs are compressed already
        self.names: list[str] = []

    def add(self, name: str, image: Image.Image, pnginfo: PngImagePlugin.PngInfo | None = None) -> None:
        with self._zip.open(name, "w") as f:
            image.save(f, format="PNG", compress_level=1, pnginfo=pnginfo)
        self.names.append(name)

    def close(self) -> str:
        self._zip.close()
        _keep_newest(OUT_DIR, OUT_KEEP)
        return str(self.path)


def save_zip(items: list[tuple[str, Image.Image, PngImagePlugin.PngInfo | None]], stem: str) -> str:
    """[(file name, image, PngInfo or None)] with distinct names -> the path of one zip."""
    out = ResultZip(stem)
    for item in items:
        out.add(*item)
    return out.close()


def safe_stem(name: str | None, fallback: str = "photo") -> str:
    stem = Path(name or fallback).stem
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem).strip("-")
    return keep[:60] or fallback


# --------------------------------------------------------------------------
# Example photos


# Black-and-white first: what a visitor brings. camera and moon are real black-and-white
# photos; the others are scikit-image's colour photos reduced to their lightness.
BW_EXAMPLES = ("camera", "chelsea", "astronaut", "moon", "coffee")
# Colour photos, for a presenter: their colour is removed first, and can be revealed after.
COLOUR_EXAMPLES = ("astronaut", "coffee", "chelsea", "rocket")


def example_photos() -> dict[str, list[str]]:
    """{"bw": [...], "colour": [...]}: scikit-image's bundled photos as files, written once
    to a cache folder outside the repository. Empty lists without scikit-image."""
    try:
        import skimage.data as data
    except ImportError:
        log.warning("scikit-image is not installed: no example photos")
        return {"bw": [], "colour": []}
    folder = CACHE / "examples"
    out: dict[str, list[str]] = {"bw": [], "colour": []}
    for kind, names in (("bw", BW_EXAMPLES), ("colour", COLOUR_EXAMPLES)):
        for name in names:
            path = folder / (f"{name}.png" if kind == "colour" or name in ("camera", "moon") else f"{name}-bw.png")
            if not path.is_file():
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                    rgb = getattr(data, name)()
                    image = Image.fromarray(rgb)
                    if image.mode != "L":
                        if kind == "bw":  # its lightness, as the models see it
                            image = Image.fromarray(render_full(lightness(np.asarray(image.convert("RGB"))),
                                                                torch.zeros(1, 2, 1, 1))).convert("L")
                    tmp = path.with_suffix(".tmp")
                    image.save(tmp, format="PNG")
                    tmp.replace(path)
                except Exception as e:  # noqa: BLE001 - examples are a nicety
                    log.warning("example %s not written: %s", name, e)
                    continue
            out[kind].append(str(path))
    return out


__all__ = ["BATCHER", "DISPLAY_MAX", "DemoError", "FLAGSHIP", "GPU", "HINT_VIEW_MAX", "Hint", "ImageError",
           "MAX_HINTS", "ModelInfo", "Photo", "click_to_pixel", "colorize_photo", "colour_at", "decode", "downscale",
           "draw_hints", "example_photos", "get_colorizer", "gray_of", "hex_to_ab", "is_colour", "is_sampler",
           "model_defaults", "model_infos", "net_hints", "parse_hints", "prefetch_weights", "safe_stem", "save_png",
           "scores", "uncertainty_legend", "uncertainty_map", "uncertainty_share", "warm_up"]


# --------------------------------------------------------------------------
# About a model


def _card_text(info: ModelInfo) -> str:
    """The model card (README.md beside the weights, or on the Hub), front matter removed."""
    text = ""
    if info.weights:
        card = Path(info.source) / "README.md"
        if card.is_file():
            text = card.read_text(encoding="utf-8", errors="replace")
        else:
            try:
                from huggingface_hub import constants, hf_hub_download

                text = Path(hf_hub_download(info.hub_repo, "README.md", revision=get_spec(info.name).hub_revision,
                                            local_files_only=constants.HF_HUB_OFFLINE)).read_text(encoding="utf-8")
            except Exception:  # noqa: BLE001 - no card is not an error
                text = ""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        text = text[end + 4:] if end >= 0 else text
    return text.strip()


_FACTS = (("loss", "loss"), ("data", "training data"), ("crop", "crop (px)"), ("batch", "batch"),
          ("steps", "steps"), ("wall_s", "training wall time (s)"), ("hardware", "hardware"),
          ("temperature", "annealed-mean temperature"), ("params", "parameters"), ("dtype", "weights dtype"),
          ("bytes", "weights file (bytes)"))


def about_markdown(name: str) -> str:
    """What a model is, how it was trained and its numbers: the registry entry,
    the weights' config.json and the model card."""
    info = next((m for m in model_infos() if m.name == resolve(name or "default")), None)
    if info is None:
        return f"Unknown model `{name}`."
    lines = [f"### {info.name}" + (" — the flagship" if info.name == FLAGSHIP else ""), "", info.summary, "",
             f"- output: **{info.kind}** at {info.net_size}×{info.net_size} px"
             + (f" · aliases: {', '.join(info.aliases)}" if info.aliases else ""),
             f"- Hub repository: `{info.hub_repo}`"]
    if not info.weights:
        lines += ["", "**No trained weights for this model are available here yet**, so it cannot run."]
        return "\n".join(lines)
    try:
        config = hub.read_config(Path(info.source))
    except Exception:  # noqa: BLE001
        config = {}
    for key, label in _FACTS:
        if config.get(key) not in (None, ""):
            value = config[key]
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items())
            lines.append(f"- {label}: `{value}`")
    if config.get("sha256"):
        lines.append(f"- sha256: `{config['sha256'][:16]}…`")
    card = _card_text(info)
    lines += ["", "---", "", card] if card else ["", "_No model card (README.md) beside these weights._"]
    return "\n".join(lines)
