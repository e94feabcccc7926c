"""The one base every colorization network shares: Lab normalisation in, and the
decoding of its raw output (ab regression, a distribution over the ab gamut, or
10 bins per channel) into ab values.

A subclass only builds layers and maps normalised L to its raw output.
"""
from __future__ import annotations

import copy
import math
import warnings

import torch
from torch import nn

from ..color import AB_SCALE, annealed_probs, decode_bins, default_gamut, entropy


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

    def predict(self, L: torch.Tensor, temperature: float | None = None, seed: int | None = None) -> dict:
        """L (B, 1, H, W) in [0, 100] -> {"ab": (B, 2, h, w) in Lab units} plus,
        for bin models, "entropy" (B, h, w) of the predicted distribution.
        The output may be smaller than the input (the pipeline upsamples)."""
        out = self.forward_for_inference(self.normalize_l(L))
        return self.decode(out, self.default_temperature if temperature is None else temperature)

    def forward_for_inference(self, l: torch.Tensor) -> torch.Tensor:
        """forward(), through the frozen copy that freeze() made, if any."""
        frozen = self.__dict__.get("_frozen")
        if frozen is None or l.shape[-2:] != self.__dict__["_frozen_size"]:  # traced at one size only
            return self(l)
        return frozen(l.contiguous(memory_format=torch.channels_last))

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
        example = torch.zeros(1, 1, size, size, device=next(self.parameters()).device)
        with warnings.catch_warnings():
            # TracerWarning: TF "SAME" padding's shape arithmetic, constant at a fixed size.
            # DeprecationWarning: TorchScript is frozen in torch 2.13 (pinned), and works;
            # torch.compile would need a C++ compiler on every user's machine.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            traced = torch.jit.trace(net, example.contiguous(memory_format=torch.channels_last))
            self.__dict__["_frozen"] = torch.jit.freeze(traced.eval())
            self.__dict__["_frozen_size"] = example.shape[-2:]

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


def init_normal(module: nn.Module, std: float = 0.02) -> None:
    """pix2pix-style init: conv weights N(0, std), norm weights N(1, std), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
