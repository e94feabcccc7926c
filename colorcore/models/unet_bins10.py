"""A plain U-Net (Ronneberger et al. 2015) that classifies a and b separately into
10 bins each, the recipe of several student colorization projects.

Encoder: 5 levels of two 3x3 conv + BatchNorm + ReLU, 2x2 max-pooling between them
(4 downsamplings, stride 16); decoder: 2x2 transposed convolutions, skip
concatenation and two conv + BN + ReLU per level; two separate 1x1 heads give 10
logits for a and 10 for b at full input resolution (kind "bins10"), decoded by the
annealed mean over the per-channel bin centres. Trained with per-channel
cross-entropy weighted by rebalancing weights from the data distribution
(configs/unet-bins10.toml, `bins10_ce`, lambda 0.5).

Shipped vs. the original U-Net: base width 16 (channels 16-32-64-128-256, about
1.9M parameters, ~4 MB fp16) instead of 64 (about 31M); padding 1 so the output
keeps the input size; inputs whose side is not a multiple of 16 are padded
(replicate) inside forward and the output cropped back.

net_size 128: the training photos have a short side of 160 and the net is
trained on 128-px crops, so at 128 the evaluation photos (256, resized by the
pipeline) show objects at the scale the net learnt; it runs at any multiple of 16.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import ColorNet
from .registry import register


def double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNetBins10(ColorNet):
    kind = "bins10"

    def __init__(self, base: int = 16, depth: int = 4):
        super().__init__()
        chans = [base * 2 ** i for i in range(depth + 1)]
        self.stride = 2 ** depth
        self.downs = nn.ModuleList([double_conv(1, chans[0])] +
                                   [double_conv(chans[i - 1], chans[i]) for i in range(1, depth + 1)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(chans[i], chans[i - 1], 2, stride=2)
                                  for i in range(depth, 0, -1)])
        self.fuses = nn.ModuleList([double_conv(2 * chans[i - 1], chans[i - 1]) for i in range(depth, 0, -1)])
        self.head_a = nn.Conv2d(chans[0], 10, 1)
        self.head_b = nn.Conv2d(chans[0], 10, 1)

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        h, w = l.shape[-2:]
        ph, pw = (-h) % self.stride, (-w) % self.stride
        x = F.pad(l, (0, pw, 0, ph), mode="replicate") if ph or pw else l
        skips = []
        for i, down in enumerate(self.downs):
            if i:
                x = F.max_pool2d(x, 2)
            x = down(x)
            skips.append(x)
        skips.pop()
        for up, fuse in zip(self.ups, self.fuses):
            x = fuse(torch.cat([up(x), skips.pop()], 1))
        x = x[..., :h, :w]
        return torch.cat([self.head_a(x), self.head_b(x)], 1)


@register("unet-bins10", net_size=128,
          summary="U-Net (4 downsamplings, BN+ReLU, base width 16) classifying a and b into 10 bins "
                  "each, class-rebalanced per channel",
          base=16)
def unet_bins10(base: int = 16, depth: int = 4) -> UNetBins10:
    return UNetBins10(base=base, depth=depth)
