"""The one base every colorization network shares: Lab normalisation in, and the
decoding of its raw output (ab regression, a distribution over the ab gamut, or
10 bins per channel) into ab values.

A subclass only builds layers, maps normalised L to its raw output and says its
kind; what follows from the kind (how it decodes, whether a temperature applies,
what it cannot do) is here, so that the registry, the demo and the model cards
ask the net instead of keeping their own tables. A net of a new kind overrides
decode, num_outputs, max_entropy, predicts_distribution and limitation.
"""
from __future__ import annotations

import copy
import math
import warnings
from typing import Callable

import torch
from torch import nn

from ..color import AB_SCALE, annealed_probs, decode_bins, default_gamut, entropy
from ..hints import HINT_CHANNELS


class HintsNotSupported(ValueError):
    """Hints given to a model that does not take them."""


# What each kind of output cannot do, in a sentence for the model card's Limits.
LIMITATIONS = {
    "bins": "It predicts a distribution over 229 ab bins at a coarse resolution; colour can bleed "
            "across edges the coarse grid cannot see. The annealed-mean temperature trades "
            "vividness (low T) against safety (high T).",
    "bins10": "a and b are predicted independently (10 bins each), so it cannot express that a "
              "pixel is either blue or orange: joint colours can come out as their average.",
    "ab": "A regression output averages plausible colours: expect desaturated, brownish results "
          "where the colour is ambiguous.",
}


class ColorNet(nn.Module):
    """kind: "ab" (forward gives ab / AB_SCALE), "bins" (logits over the Q gamut
    bins) or "bins10" (20 logits: 10 bins for a, then 10 for b)."""

    kind: str = "ab"
    default_temperature: float = 0.38
    stochastic: bool = False  # True: predict(seed=...) draws different samples

    @staticmethod
    def normalize_l(L: torch.Tensor) -> torch.Tensor:
        """L in [0, 100] -> [-1, 1]."""
        return L / 50 - 1

    def forward(self, l: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def accepts_hints(self) -> bool:
        """Takes colour hints (colorcore.hints): forward(l, hint) with a (B, 3, H, W) map."""
        return False

    @property
    def zero_started(self) -> tuple[str, ...]:
        """Prefixes of the parameters that start at zero (layers added to a trained net, as
        the hint reader): weights trained before them may lack them (train --init-weights)."""
        return ()

    def check_hint(self, l: torch.Tensor, hint: torch.Tensor) -> None:
        if not self.accepts_hints:
            raise HintsNotSupported(f"{type(self).__name__} does not take colour hints")
        if hint.dim() != 4 or hint.shape[0] != l.shape[0] or hint.shape[1] != HINT_CHANNELS \
                or hint.shape[-2:] != l.shape[-2:]:
            raise ValueError(f"hint map {tuple(hint.shape)} does not fit input {tuple(l.shape)}: "
                             f"expected ({l.shape[0]}, {HINT_CHANNELS}, {l.shape[2]}, {l.shape[3]})")

    def predict(self, L: torch.Tensor, temperature: float | None = None, seed: int | None = None,
                graph: Callable[..., torch.Tensor] | None = None, hint: torch.Tensor | None = None) -> dict:
        """L (B, 1, H, W) in [0, 100] -> {"ab": (B, 2, h, w) in Lab units} plus,
        for bin models, "entropy" (B, h, w) of the predicted distribution.
        The output may be smaller than the input (the pipeline upsamples).
        graph: another implementation of inference_graph (an ONNX Runtime session,
        colorcore.onnx_runtime), called with inference_inputs; the decoding stays this one.
        hint: a (B, 3, H, W) hint map (colorcore.hints), for nets that accept hints."""
        inputs = self.inference_inputs(self.normalize_l(L), seed, hint)
        out = graph(**inputs) if graph is not None else self.forward_for_inference(**inputs)
        return self.decode(out, self.default_temperature if temperature is None else temperature)

    def inference_inputs(self, l: torch.Tensor, seed: int | None = None,
                         hint: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The named inputs of inference_graph for normalised L: l alone; a stochastic net
        adds the noise that seed draws, so that a traced or exported graph stays a pure
        function; a hint-taking net always takes a hint map (zeros: no hints)."""
        if hint is not None:
            self.check_hint(l, hint)
        if not self.accepts_hints:
            return {"l": l}
        return {"l": l, "hint": l.new_zeros(l.shape[0], HINT_CHANNELS, *l.shape[-2:]) if hint is None
                else hint.to(l)}

    def inference_graph(self, l: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
        """The raw output at inference (what decode reads): forward(); what freeze() traces
        and colorcore.onnx_export exports."""
        return self(l, *extra)

    def forward_for_inference(self, **inputs: torch.Tensor) -> torch.Tensor:
        """inference_graph(), through the frozen copy that freeze() made, if any."""
        frozen = self.__dict__.get("_frozen")
        if frozen is None or inputs["l"].shape[-2:] != self.__dict__["_frozen_size"]:  # traced at one size only
            return self.inference_graph(*inputs.values())
        return frozen(*(x.contiguous(memory_format=torch.channels_last) for x in inputs.values()))

    @torch.inference_mode()
    def freeze(self, size: int) -> None:
        """For inference with fixed weights: trace forward() on (1, 1, size, size)
        in channels_last and freeze it, which folds BatchNorm into the convolutions
        and fuses activations (`colorcore bench`, 2 threads: the flagship's 256x256
        colorize went from 39.8 to 32.4 ms).
        Stochastic models stay eager; train() drops the copy, whose weights are
        those of when it was made."""
        if self.stochastic:
            return
        net = copy.deepcopy(self).eval().to(memory_format=torch.channels_last)
        l = torch.zeros(1, 1, size, size, device=next(self.parameters()).device)
        example = tuple(x.contiguous(memory_format=torch.channels_last) for x in self.inference_inputs(l).values())
        with warnings.catch_warnings():
            # TracerWarning: TF "SAME" padding's shape arithmetic, constant at a fixed size.
            # DeprecationWarning: TorchScript is frozen in torch 2.13 (pinned), and works;
            # torch.compile would need a C++ compiler on every user's machine.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            traced = torch.jit.trace(net, example)
            self.__dict__["_frozen"] = torch.jit.freeze(traced.eval())
            self.__dict__["_frozen_size"] = l.shape[-2:]

    def train(self, mode: bool = True):
        if mode:  # training changes the weights the frozen copy was made from; eval() does not
            self.__dict__.pop("_frozen", None)
        return super().train(mode)

    def decode(self, out: torch.Tensor, temperature: float) -> dict:
        if self.kind == "ab":
            return {"ab": out * AB_SCALE}
        gamut = default_gamut()
        if self.kind == "bins":
            ab, ent = decode_bins(out, gamut.centres, temperature)
            return {"ab": ab, "entropy": ent}
        centres = gamut.channel_centres.to(out)
        a_logits, b_logits = out[:, :10], out[:, 10:]
        a = (annealed_probs(a_logits, temperature) * centres.view(1, -1, 1, 1)).sum(1, keepdim=True)
        b = (annealed_probs(b_logits, temperature) * centres.view(1, -1, 1, 1)).sum(1, keepdim=True)
        return {"ab": torch.cat([a, b], 1), "entropy": entropy(a_logits) + entropy(b_logits)}

    @property
    def max_entropy(self) -> float:
        """The largest possible entropy of the predicted distribution, in nats
        (bins10: a and b are two independent 10-bin distributions)."""
        return 2 * math.log(10) if self.kind == "bins10" else math.log(self.num_outputs)

    @property
    def num_outputs(self) -> int:
        return {"ab": 2, "bins": default_gamut().size, "bins10": 20}[self.kind]

    @property
    def predicts_distribution(self) -> bool:
        """A distribution over colours (the bin kinds), not ab itself: decoding anneals it
        with a temperature, and its entropy says where the net is unsure."""
        return self.kind != "ab"

    @property
    def limitation(self) -> str:
        """What this kind of output cannot do (the model card's Limits)."""
        return LIMITATIONS[self.kind]


def init_normal(module: nn.Module, std: float = 0.02) -> None:
    """pix2pix-style init: conv weights N(0, std), norm weights N(1, std), biases 0."""
    # On the meta device (ModelSpec.prototype) there is nothing to draw, and torch's first
    # normal_ there takes over a second.
    if any(p.is_meta for p in module.parameters()):
        return
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
