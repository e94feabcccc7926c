"""The inference pipeline: any image in, a same-size colour image out that keeps
the photo's own lightness.

    decode -> L at full size -> L resized to the net's resolution -> model -> ab
    -> ab upsampled to full size -> fitted into the sRGB gamut -> (L, ab) -> sRGB

The full-size steps (lightness, composition) are colorcore.render's; the net runs on
PyTorch or on ONNX Runtime (colorcore.onnx_runtime), with one decoding for both.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import hub
from .confidence import check_curve, fade_scale
from .hints import Hint, hint_maps, parse_hints
from .io import ImageSource, load_image
from .models import ColorNet, HintsNotSupported, ModelSpec, get_spec
from .onnx_runtime import RUNTIME_ENV, OnnxGraph, check_runtime, graph_for
from .render import lightness, render_batch, render_full
from .stages import Stages


@dataclass
class Colorizer:
    """A model with its weights, ready to colorize images."""

    model: ColorNet
    spec: ModelSpec
    device: torch.device
    source: str  # where the weights came from, or "random init"
    config: dict = field(default_factory=dict)
    graph: OnnxGraph | None = None  # the net on ONNX Runtime (load_colorizer's runtime); None: PyTorch

    @property
    def runtime(self) -> str:
        return "torch" if self.graph is None else "onnx"

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
        return {"temperature": self.default_temperature if self.model.predicts_distribution else None,
                "vividness": self.default_vividness, "fade": bool(self.fade_curve)}

    @property
    def fade_curve(self) -> dict | None:
        """The confidence fade that `tune` fitted for these weights (colorcore.confidence)."""
        return self.config.get("confidence_fade")

    @property
    def accepts_hints(self) -> bool:
        return self.model.accepts_hints

    def check_hints(self, hints) -> None:
        """HintsNotSupported, naming the model, for hints given to a model that takes none."""
        if hints and not self.accepts_hints:
            raise HintsNotSupported(f"model {self.spec.name!r} does not take colour hints "
                                    f"(`python -m colorcore models` lists the models that do)")

    @torch.inference_mode()
    def predict(self, L: torch.Tensor, temperature: float | None = None, seed: int | None = None,
                fade: bool = True, vividness: float | None = None,
                hints: list[list[Hint]] | None = None) -> dict:
        """L (B, 1, H, W) in [0, 100] at any size -> the model's output at its own
        resolution: {"ab": (B, 2, h, w)} and, for bin models, {"entropy": (B, h, w)}.
        fade: scale the chroma down where the model is unsure (its fitted curve, where
        it has one; "chroma_scale" (B, h, w) says by how much). vividness: a chroma
        scale for every model, applied last (1 = as decoded, 0 = gray; None: the weights' own).
        hints: for each photo, its colour hints (colorcore.hints.parse_hints) in L's pixels."""
        vividness = self.default_vividness if vividness is None else float(vividness)
        if not 0 <= vividness <= 3:
            raise ValueError(f"vividness {vividness}: use 0 (gray) to 3 (three times the decoded chroma)")
        self.check_hints(hints and any(hints))
        x = self.to_net(L).to(self.device)
        hint = hint_maps(hints, L.shape[-1], L.shape[-2], self.spec.net_size, L.shape[0])
        t = self.default_temperature if temperature is None else float(temperature)
        out = {k: v.float().cpu() for k, v in self.model.predict(
            x, t, seed, graph=self.graph, hint=None if hint is None else hint.to(self.device)).items()}
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
                        fade: bool = True, vividness: float | None = None,
                        hints: list[list[Hint]] | None = None) -> dict:
        """Batched: L (B, 1, H, W) -> {"rgb": (B, 3, H, W) in [0, 1], "ab", "entropy"?};
        rgb holds the 8-bit pixels that colorize() gives for each photo alone."""
        out = self.predict(L, temperature, seed, fade, vividness, hints)
        out["rgb"] = render_batch(L, out["ab"])
        return out

    def colorize(self, image: ImageSource, temperature: float | None = None, seed: int | None = None,
                 name: str | None = None, fade: bool = True, vividness: float | None = None,
                 hints: list | None = None) -> Image.Image:
        """One image of any size and mode -> an RGB image of the same size whose
        Lab lightness is the input's. Bin models: lower temperature and fade=False
        give bolder colour; vividness scales any model's chroma. hints: colour hints,
        [(x, y, "#rrggbb"), ...] in the image's pixels (0-based, x right, y down), for
        models that take them (Colorizer.accepts_hints); None or []: automatic."""
        return self.run(image, temperature, seed, name, fade, vividness, hints)[0]

    def run(self, image: ImageSource, temperature: float | None = None, seed: int | None = None,
            name: str | None = None, fade: bool = True, vividness: float | None = None,
            hints: list | None = None) -> tuple[Image.Image, dict]:
        """colorize(), also returning the model-resolution output, its wall time ("seconds")
        and that time per step ("stages": decode, lightness, net, upsample, srgb, gamut_fit)."""
        t0 = time.perf_counter()
        self.check_hints(hints)
        stages = Stages()
        with stages("decode"):
            rgb8 = np.asarray(load_image(image, name=name))
        parsed = parse_hints(hints, rgb8.shape[1], rgb8.shape[0])
        with stages("lightness"):
            L = lightness(rgb8)
        with stages("net"):
            out = self.predict(L, temperature, seed, fade, vividness, [parsed])
        image = Image.fromarray(render_full(L, out["ab"], stages), "RGB")
        out["seconds"], out["stages"] = time.perf_counter() - t0, stages
        return image, out


def load_colorizer(name: str = "default", device: str | torch.device | None = None,
                   weights: str | None = None, random_init: bool = False,
                   model_options: dict | None = None, freeze: bool = True,
                   net_size: int | None = None, runtime: str | None = None) -> Colorizer:
    """Build a registered model and load its weights (see colorcore.hub for where
    they are looked for). random_init=True skips the weights: for tests and timing.
    freeze=True traces and freezes a PyTorch net on CPU (ColorNet.freeze): same output,
    faster (see there). net_size overrides the square side the net sees (its
    registered default otherwise): larger for finer colour detail, smaller for speed.
    runtime: "torch", "onnx" (ONNX Runtime, CPU) or "auto" (colorcore.onnx_runtime); None:
    $COLORCORE_RUNTIME, else "auto"."""
    runtime = runtime or os.environ.get(RUNTIME_ENV) or "auto"
    check_runtime(runtime)  # before the weights are read
    spec = get_spec(name)
    if net_size is not None:
        if not 32 <= int(net_size) <= 2048:
            raise ValueError(f"net_size {net_size}: use 32 to 2048 pixels")
        spec = replace(spec, net_size=int(net_size))
    on_gpu = torch.cuda.is_available() and runtime != "onnx"  # ONNX Runtime's CPU build
    dev = torch.device(device or ("cuda" if on_gpu else "cpu"))
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
    colorizer.graph = graph_for(colorizer, runtime)
    if freeze and dev.type == "cpu" and colorizer.graph is None:
        colorizer.model.freeze(spec.net_size)
    return colorizer


def takes_hints(spec: ModelSpec, folder: str | os.PathLike | None) -> bool:
    """Whether the model with the weights in folder (None: the registered architecture)
    takes colour hints: the weights' model_options decide (a net built on the meta device)."""
    if folder is None:
        return spec.prototype.accepts_hints
    try:
        options = json.loads((Path(folder) / hub.CONFIG_FILE).read_text()).get("model_options", {})
        with torch.device("meta"):
            return spec.build_for_weights(**options).accepts_hints
    except Exception:  # noqa: BLE001 - unreadable weights take nothing; loading them says why
        return False


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
        params = sum(p.numel() for p in spec.prototype.parameters())
        rows.append({"name": spec.name, "aliases": ",".join(spec.aliases), "params": params,
                     "net_size": spec.net_size, "kind": spec.kind,
                     "hints": takes_hints(spec, folder) if present else spec.prototype.accepts_hints,
                     "weights": present,
                     "source": folder or "-", "summary": spec.summary})
    return rows
