"""Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with Conditional Adversarial
Networks" (pix2pix, CVPR 2017), as in junyanz/pytorch-CycleGAN-and-pix2pix.

Generator (`unet_256` for num_downs=8, `unet_128` for num_downs=7): `num_downs`
4x4 stride-2 convolutions (LeakyReLU 0.2 before each but the first), mirrored by 4x4
stride-2 transposed convolutions (ReLU before each), skip connections between
mirrored levels, BatchNorm everywhere except the outermost layers and the innermost
down convolution, dropout 0.5 in the num_downs - 5 decoder layers next to the
innermost one (3 for unet_256, 2 for unet_128), tanh output: ab / 110 at full
input resolution (kind "ab"). Weights N(0, 0.02).

Discriminator (`PatchDiscriminator`, the 70x70 PatchGAN): C64-C128-C256-C512 with
4x4 kernels (stride 2, 2, 2, 1), LeakyReLU 0.2, BatchNorm except on the first layer,
then a 4x4 convolution to one logit per patch; it sees concat(L / 50 - 1, ab / 110).
`Pix2PixGenerator.build_discriminator()` makes a fresh one for the pix2pix objective
(GAN + 100 * L1, configs/pix2pix.toml); it is not part of the shipped weights.

Shipped vs. the original: the registered `pix2pix` is unet_128 (num_downs 7,
net_size 128: the training photos have a short side of 160 and the net trains on
128-px crops) with ngf 16 instead of 64 (about 2.6M parameters, ~5 MB fp16,
against about 41M for unet_128 / 54M for unet_256 at ngf 64); the discriminator
keeps ndf 64. Inputs whose side is not a multiple of 2 ** num_downs are padded
(replicate) inside forward and the output cropped back. In eval mode dropout is off,
so the output is deterministic (the original kept dropout on at test time).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import ColorNet, init_normal
from .registry import register


class PatchDiscriminator(nn.Module):
    """The 70x70 PatchGAN (n_layers=3): a 256x256 input gives a 30x30 logit grid."""

    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=False),
                       nn.BatchNorm2d(ndf * mult), nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)
        init_normal(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def receptive_field(module: nn.Module) -> int:
    """Receptive field of a plain chain of convolutions (in module order)."""
    rf = 1
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    for m in reversed(convs):
        rf = (rf - 1) * m.stride[0] + (m.kernel_size[0] - 1) * m.dilation[0] + 1
    return rf


class Pix2PixGenerator(ColorNet):
    kind = "ab"

    def __init__(self, num_downs: int = 7, ngf: int = 16, ndf: int = 64, use_dropout: bool = True):
        super().__init__()
        if num_downs < 5:
            raise ValueError("the pix2pix U-Net needs num_downs >= 5")
        self.num_downs, self.ndf = num_downs, ndf
        # channels after each down convolution, outermost first
        chans = [ngf, ngf * 2, ngf * 4] + [ngf * 8] * (num_downs - 3)
        downs, ups = [], []
        for i in range(num_downs):
            cin = 1 if i == 0 else chans[i - 1]
            conv = nn.Conv2d(cin, chans[i], 4, stride=2, padding=1, bias=False)
            if i == 0:
                downs.append(conv)
            elif i == num_downs - 1:  # innermost: no norm
                downs.append(nn.Sequential(nn.LeakyReLU(0.2, True), conv))
            else:
                downs.append(nn.Sequential(nn.LeakyReLU(0.2, True), conv, nn.BatchNorm2d(chans[i])))
        for i in range(num_downs):  # ups[i] mirrors downs[i]; it reads [skip, x] except innermost
            cin = chans[i] if i == num_downs - 1 else 2 * chans[i]
            if i == 0:
                ups.append(nn.Sequential(nn.ReLU(True), nn.ConvTranspose2d(cin, 2, 4, stride=2, padding=1),
                                         nn.Tanh()))
                continue
            layers = [nn.ReLU(True), nn.ConvTranspose2d(cin, chans[i - 1], 4, stride=2, padding=1, bias=False),
                      nn.BatchNorm2d(chans[i - 1])]
            if use_dropout and 4 <= i < num_downs - 1:  # the num_downs - 5 ngf*8 blocks next to innermost
                layers.append(nn.Dropout(0.5))
            ups.append(nn.Sequential(*layers))
        self.downs = nn.ModuleList(downs)
        self.ups = nn.ModuleList(ups)
        init_normal(self)

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        h, w = l.shape[-2:]
        m = 2 ** self.num_downs
        ph, pw = (-h) % m, (-w) % m
        x = F.pad(l, (0, pw, 0, ph), mode="replicate") if ph or pw else l
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        x = self.ups[-1](skips.pop())
        for up in reversed(self.ups[:-1]):
            x = up(torch.cat([skips.pop(), x], 1))  # [skip, x] as in the original
        return x[..., :h, :w]

    def build_discriminator(self) -> nn.Module:
        return PatchDiscriminator(3, self.ndf)


@register("pix2pix", net_size=128,
          summary="pix2pix (Isola et al. 2017): U-Net-128 generator (ngf 16) with a 70x70 PatchGAN, "
                  "GAN + 100 * L1 on ab",
          num_downs=7, ngf=16)
def pix2pix(num_downs: int = 7, ngf: int = 16, ndf: int = 64, use_dropout: bool = True) -> Pix2PixGenerator:
    return Pix2PixGenerator(num_downs=num_downs, ngf=ngf, ndf=ndf, use_dropout=use_dropout)
