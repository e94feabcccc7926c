"""The one base every colorization network shares: Lab normalisation in, and the
decoding of its raw output (ab regression, a distribution over the ab gamut, or
10 bins per channel) into ab values.

A subclass only builds layers and maps normalised L to its raw output.
"""
from __future__ import annotations

import torch
from torch import nn

from ..color import AB_SCALE, annealed_mean, annealed_probs, default_gamut, entropy

KINDS = ("ab", "bins", "bins10")


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
        out = self(self.normalize_l(L))
        return self.decode(out, self.default_temperature if temperature is None else temperature)

    def decode(self, out: torch.Tensor, temperature: float) -> dict:
        if self.kind == "ab":
            return {"ab": out * AB_SCALE}
        gamut = default_gamut()
        if self.kind == "bins":
            return {"ab": annealed_mean(out, gamut.centres, temperature), "entropy": entropy(out)}
        centres = gamut.channel_centres.to(out)
        a_logits, b_logits = out[:, :10], out[:, 10:]
        a = (annealed_probs(a_logits, temperature) * centres.view(1, -1, 1, 1)).sum(1, keepdim=True)
        b = (annealed_probs(b_logits, temperature) * centres.view(1, -1, 1, 1)).sum(1, keepdim=True)
        return {"ab": torch.cat([a, b], 1), "entropy": entropy(a_logits) + entropy(b_logits)}

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
