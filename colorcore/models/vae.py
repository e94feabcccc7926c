"""A conditional VAE for diverse colorizations (in the spirit of Deshpande et al.,
"Learning Diverse Image Colorization", CVPR 2017, with a U-Net decoder).

- L-encoder: conv + BN + ReLU at 1, 1/2, 1/4 and 1/8 of the input: the
  conditioning features (also the decoder's skips).
- ab-encoder (training only): concat(L / 50 - 1, ab / 110) -> strided convs ->
  global average -> mu and log-variance of a `z_dim`-d latent z (default 64).
- decoder: z is projected to a per-channel bias added to the 1/8 L features, then
  upsampled x2 three times with the L skips, and a 3x3 conv + tanh gives ab / 110
  at full input resolution (kind "ab").

Contract with `VAELoss`: `model(l, ab_norm)` returns (pred_ab_norm, mu, logvar)
with z = mu + sigma * eps (reparameterisation); `model(l)` decodes with the mean
latent z = 0; `predict(L, seed=s)` draws z ~ N(0, I) from a torch.Generator seeded
with s (the same seed, the same colours, in any batch; other seeds, other plausible
colours), while seed=None uses z = 0. z is an input of the inference graph
(`inference_inputs`), so the ONNX graph takes it too. `temperature` is ignored (as
for every "ab" model).

Shipped: base width 16 (channels 16-32-64-128, about 0.71M parameters, ~1.4 MB
fp16; width 32 has 2.8M but trains ~3.7x slower, too slow for the ~11-minute CPU run
of configs/vae.toml), net_size 128 (the net trains on 128-px crops of photos with a
short side of 160). Inputs whose side is not a multiple of 8 are padded (replicate)
inside and the output cropped back.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import ColorNet
from .registry import register

STRIDE = 8


def cbr(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def _pad(x: torch.Tensor) -> torch.Tensor:
    h, w = x.shape[-2:]
    ph, pw = (-h) % STRIDE, (-w) % STRIDE
    return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x


class ColorVAE(ColorNet):
    kind = "ab"
    stochastic = True

    def __init__(self, width: int = 16, z_dim: int = 64):
        super().__init__()
        c1, c2, c4, c8 = width, 2 * width, 4 * width, 8 * width
        self.z_dim = z_dim
        # conditioning: L features at 1, 1/2, 1/4, 1/8
        self.enc1 = nn.Sequential(cbr(1, c1), cbr(c1, c1))
        self.enc2 = nn.Sequential(cbr(c1, c2, 2), cbr(c2, c2))
        self.enc4 = nn.Sequential(cbr(c2, c4, 2), cbr(c4, c4))
        self.enc8 = nn.Sequential(cbr(c4, c8, 2), cbr(c8, c8))
        # posterior q(z | L, ab)
        self.ab_encoder = nn.Sequential(cbr(3, c1, 2), cbr(c1, c2, 2), cbr(c2, c4, 2), cbr(c4, c8, 2),
                                        nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.to_mu = nn.Linear(c8, z_dim)
        self.to_logvar = nn.Linear(c8, z_dim)
        # decoder
        self.from_z = nn.Linear(z_dim, c8)
        self.mid = cbr(c8, c8)
        self.dec4 = cbr(c8 + c4, c4)
        self.dec2 = cbr(c4 + c2, c2)
        self.dec1 = cbr(c2 + c1, c1)
        self.out = nn.Conv2d(c1, 2, 3, padding=1)

    def encode(self, l: torch.Tensor, ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.ab_encoder(_pad(torch.cat([l, ab], 1)))
        return self.to_mu(h), self.to_logvar(h)

    def decode_z(self, l: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        h, w = l.shape[-2:]
        x = _pad(l)
        f1 = self.enc1(x)
        f2 = self.enc2(f1)
        f4 = self.enc4(f2)
        f8 = self.enc8(f4)
        x = self.mid(f8 + self.from_z(z)[:, :, None, None])
        for dec, skip in ((self.dec4, f4), (self.dec2, f2), (self.dec1, f1)):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = dec(torch.cat([x, skip], 1))
        return torch.tanh(self.out(x))[..., :h, :w]

    def forward(self, l: torch.Tensor, ab: torch.Tensor | None = None):
        if ab is None:
            z = l.new_zeros(l.shape[0], self.z_dim)
            return self.decode_z(l, z)
        mu, logvar = self.encode(l, ab)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode_z(l, z), mu, logvar

    def inference_inputs(self, l: torch.Tensor, seed: int | None = None,
                         hint: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if hint is not None:
            self.check_hint(l, hint)  # refuses: no VAE here takes hints
        if seed is None:
            z = l.new_zeros(1, self.z_dim)
        else:
            z = torch.randn(1, self.z_dim, generator=torch.Generator().manual_seed(int(seed))).to(l)
        # One draw for the whole batch: a photo gets the same colours from a seed in any batch.
        return {"l": l, "z": z.expand(l.shape[0], -1).contiguous()}

    def inference_graph(self, l: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.decode_z(l, z)


@register("vae", net_size=128,
          summary="Conditional VAE: L-encoder + (L, ab)-encoder to a 64-d latent, U-Net decoder; "
                  "diverse colorizations by seed",
          width=16, z_dim=64)
def vae(width: int = 16, z_dim: int = 64) -> ColorVAE:
    return ColorVAE(width=width, z_dim=z_dim)
