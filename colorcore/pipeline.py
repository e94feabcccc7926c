"""The inference pipeline: any image in, a same-size colour image out that keeps
the photo's own lightness.

    decode -> L at full size -> L resized to the net's resolution -> model -> ab
    -> ab upsampled to full size -> fitted into the sRGB gamut -> (L, ab) -> sRGB

Full-size work is done in strips of rows, so a 12-megapixel photo stays well
inside a small memory budget.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import hub
from .color import compose, shrink_to_gamut
from .confidence import check_curve, fade_scale
from .io import ImageSource, load_image
from .models import ColorNet, ModelSpec, get_spec

STRIP_PIXELS = 1 << 19  # full-size work goes in strips of about half a megapixel

# Fast full-resolution colour paths for 8-bit images (the differentiable ones in
# colorcore.color serve training): lookup tables instead of per-pixel powers.
_LINEAR = np.array([(c / 255 / 12.92) if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
                    for c in range(256)], dtype=np.float32)
_Y_WEIGHTS = np.array([0.212671, 0.715160, 0.072169], dtype=np.float32)
_LUT_SIZE = 65535
_SRGB8 = torch.from_numpy(np.round(255 * np.where(
    np.linspace(0, 1, _LUT_SIZE + 1) <= 0.0031308, 12.92 * np.linspace(0, 1, _LUT_SIZE + 1),
    1.055 * np.linspace(0, 1, _LUT_SIZE + 1) ** (1 / 2.4) - 0.055)).astype(np.uint8))


_L_OF_GRAY = np.where(_LINEAR > 216 / 24389, 116 * np.cbrt(_LINEAR) - 16, 24389 / 27 * _LINEAR).astype(np.float32)


def lightness(rgb8: np.ndarray) -> torch.Tensor:
    """uint8 RGB (H, W, 3) -> Lab L (1, 1, H, W). Gray photos (R = G = B, the
    usual input) take a 256-entry table; colour ones go through luminance Y."""
    r, g, b = rgb8[..., 0], rgb8[..., 1], rgb8[..., 2]
    if np.array_equal(r, g) and np.array_equal(g, b):
        return torch.from_numpy(_L_OF_GRAY[r])[None, None]
    y = (_LINEAR * _Y_WEIGHTS[0])[r]
    y += (_LINEAR * _Y_WEIGHTS[1])[g]
    y += (_LINEAR * _Y_WEIGHTS[2])[b]
    L = np.cbrt(y)
    L *= 116
    L -= 16
    dark = y <= 216 / 24389
    L[dark] = 24389 / 27 * y[dark]
    return torch.from_numpy(L)[None, None]


def render_srgb8(L: torch.Tensor, ab: torch.Tensor, steps: int = 8) -> np.ndarray:
    """L (H, W) and ab (2, H, W) at full size -> uint8 (H, W, 3), out-of-gamut
    chroma shrunk first (color.shrink_to_gamut) so that clipping never moves L."""
    _, _, rgb = shrink_to_gamut(L, ab[0], ab[1], steps)
    out = torch.stack([_SRGB8[(c.clamp(0, 1) * _LUT_SIZE + 0.5).long()] for c in rgb], dim=-1)
    return out.numpy()


def render_full(L: torch.Tensor, ab: torch.Tensor) -> np.ndarray:
    """Full-size L (1, 1, H, W) + ab at any resolution (1, 2, h, w) -> uint8 RGB
    (H, W, 3): ab upsampled bilinearly, composed in strips of rows."""
    H, W = L.shape[-2:]
    if ab.shape[-2:] != (H, W):
        ab = F.interpolate(ab, size=(H, W), mode="bilinear", align_corners=False)
    result = np.empty((H, W, 3), dtype=np.uint8)
    rows = max(1, STRIP_PIXELS // W)
    for y in range(0, H, rows):
        result[y:y + rows] = render_srgb8(L[0, 0, y:y + rows], ab[0, :, y:y + rows])
    return result


@dataclass
class Colorizer:
    """A model with its weights, ready to colorize images."""

    model: ColorNet
    spec: ModelSpec
    device: torch.device
    source: str  # where the weights came from, or "random init"
    config: dict = field(default_factory=dict)

    @property
    def default_temperature(self) -> float:
        return float(self.config.get("temperature", self.model.default_temperature))

    @property
    def default_vividness(self) -> float:
        return float(self.config.get("vividness", 1.0))

    @property
    def defaults(self) -> dict:
        """The settings a call without them gets, from the weights' config.json: the one
        source of defaults for the CLI, the demo's page and API, and the dashboard."""
        return {"temperature": self.default_temperature if self.spec.kind != "ab" else None,
                "vividness": self.default_vividness, "fade": bool(self.fade_curve)}

    @property
    def fade_curve(self) -> dict | None:
        """The confidence fade that `tune` fitted for these weights (colorcore.confidence)."""
        return self.config.get("confidence_fade")

    @torch.inference_mode()
    def predict(self, L: torch.Tensor, temperature: float | None = None, seed: int | None = None,
                fade: bool = True, vividness: float | None = None) -> dict:
        """L (B, 1, H, W) in [0, 100] at any size -> the model's output at its own
        resolution: {"ab": (B, 2, h, w)} and, for bin models, {"entropy": (B, h, w)}.
        fade: scale the chroma down where the model is unsure (its fitted curve, where
        it has one; "chroma_scale" (B, h, w) says by how much). vividness: a chroma
        scale for every model, applied last (1 = as decoded, 0 = gray; None: the weights' own)."""
        vividness = self.default_vividness if vividness is None else float(vividness)
        if not 0 <= vividness <= 3:
            raise ValueError(f"vividness {vividness}: use 0 (gray) to 3 (three times the decoded chroma)")
        x = self.to_net(L).to(self.device)
        t = self.default_temperature if temperature is None else float(temperature)
        out = {k: v.float().cpu() for k, v in self.model.predict(x, temperature=t, seed=seed).items()}
        if fade and self.fade_curve and "entropy" in out:
            out["chroma_scale"] = fade_scale(out["entropy"] / self.model.max_entropy, self.fade_curve)
            out["ab"] = out["ab"] * out["chroma_scale"][:, None]
        if vividness != 1:
            out["ab"] = out["ab"] * vividness
        return out

    def to_net(self, L: torch.Tensor) -> torch.Tensor:
        """L at any size -> L at the net's square resolution (antialiased), the
        model's input; batches of photos of any sizes can be concatenated after it."""
        size = self.spec.net_size
        x = L.float()
        if x.shape[-2:] != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        return x

    def colorize_tensor(self, L: torch.Tensor, temperature: float | None = None, seed: int | None = None,
                        fade: bool = True, vividness: float | None = None) -> dict:
        """Batched: L (B, 1, H, W) -> {"rgb": (B, 3, H, W) in [0, 1], "ab", "entropy"?}."""
        out = self.predict(L, temperature, seed, fade, vividness)
        out["rgb"] = compose(L.float().cpu(), out["ab"])
        return out

    def colorize(self, image: ImageSource, temperature: float | None = None, seed: int | None = None,
                 name: str | None = None, fade: bool = True, vividness: float | None = None) -> Image.Image:
        """One image of any size and mode -> an RGB image of the same size whose
        Lab lightness is the input's. Bin models: lower temperature and fade=False
        give bolder colour; vividness scales any model's chroma."""
        return self.run(image, temperature, seed, name, fade, vividness)[0]

    def run(self, image: ImageSource, temperature: float | None = None, seed: int | None = None,
            name: str | None = None, fade: bool = True, vividness: float | None = None) -> tuple[Image.Image, dict]:
        """colorize(), also returning the model-resolution output and timings."""
        t0 = time.perf_counter()
        rgb8 = np.asarray(load_image(image, name=name))
        L = lightness(rgb8)
        out = self.predict(L, temperature, seed, fade, vividness)
        image = Image.fromarray(render_full(L, out["ab"]), "RGB")
        out["seconds"] = time.perf_counter() - t0
        return image, out


def load_colorizer(name: str = "default", device: str | torch.device | None = None,
                   weights: str | None = None, random_init: bool = False,
                   model_options: dict | None = None, freeze: bool = True,
                   net_size: int | None = None) -> Colorizer:
    """Build a registered model and load its weights (see colorcore.hub for where
    they are looked for). random_init=True skips the weights: for tests and timing.
    freeze=True traces and freezes the net on CPU (ColorNet.freeze): same output,
    faster (see there). net_size overrides the square side the net sees (its
    registered default otherwise): larger for finer colour detail, smaller for speed."""
    spec = get_spec(name)
    if net_size is not None:
        if not 32 <= int(net_size) <= 2048:
            raise ValueError(f"net_size {net_size}: use 32 to 2048 pixels")
        spec = replace(spec, net_size=int(net_size))
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if random_init:
        model = spec.build(**(model_options or {}))
        colorizer = Colorizer(model, spec, dev, "random init")
    else:
        folder = hub.find_weights(spec.name, weights)
        state, config = hub.load_state(folder)
        if "confidence_fade" in config:
            try:
                check_curve(config["confidence_fade"])
            except ValueError as e:
                raise hub.WeightsCorrupt(f"{folder}: {hub.CONFIG_FILE}: {e}") from None
        options = {**config.get("model_options", {}), **(model_options or {})}
        try:
            model = spec.build_for_weights(**options)
        except (TypeError, ValueError) as e:  # an option the model does not take
            raise hub.WeightsCorrupt(f"{folder}: {hub.CONFIG_FILE}: model_options {options} do not fit "
                                     f"{spec.name} ({e})") from None
        hub.apply_state(model, state, str(folder))
        colorizer = Colorizer(model, spec, dev, str(folder), config)
    colorizer.model.to(dev).eval()
    if freeze and dev.type == "cpu":
        colorizer.model.freeze(spec.net_size)
    return colorizer


def list_models() -> list[dict]:
    """One row per registered model: name, aliases, parameters, net size, output
    kind, and where its weights are (local folders and the Hub cache; no network)."""
    from .models import all_specs

    rows = []
    for spec in all_specs():
        try:
            folder, present = str(hub.find_weights(spec.name, network=False)), True
        except hub.WeightsNotFound:
            folder, present = "", False
        params = sum(p.numel() for p in spec.build_for_weights().parameters())
        rows.append({"name": spec.name, "aliases": ",".join(spec.aliases), "params": params,
                     "net_size": spec.net_size, "kind": spec.kind, "weights": present,
                     "source": folder or "-", "summary": spec.summary})
    return rows
