"""Zhang, Isola & Efros, "Colorful Image Colorization" (ECCV 2016).

Eight VGG-style blocks of 3x3 convolutions, each closed by a BatchNorm (after the
ReLU, as in the released model): blocks 1-3 end with a stride-2 convolution
(224 -> 28), blocks 5-6 are dilated (dilation 2), block 8 upsamples x2 with a
transposed convolution, and a 1x1 convolution gives logits over the Q ab gamut bins
at a quarter of the input size (224 -> 56). The original multiplies the softmax
input by 1/T = 2.606 (T = 0.38) and takes the mean over the bins; here forward
returns the raw logits and `ColorNet.decode` does the same annealed mean with
`default_temperature` 0.38.

Shipped vs. the original:
- every channel count is multiplied by `width`; the registered `eccv16` uses
  width 0.25 (about 2.0M parameters, ~4 MB in fp16) against the original's 1.0
  (about 32M parameters, 64 MB in fp16). `get_spec("eccv16").build(width=1.0)`
  builds the full-size network, the reference of the speed benchmark.
- Q = 229 bins of our own gamut (`colorcore.color.default_gamut()`), not 313.
- the input is L / 50 - 1 in [-1, 1] (the original used L - 50), and no
  pretrained Caffe weights: trained from scratch with our loop (configs/eccv16.toml).
- inputs whose side is not a multiple of 8 are padded (replicate) inside forward
  and the output cropped back to ceil(side / 4).

`ECCV16Body` (everything up to the last 1x1 convolution) is shared with the
regression / classification trio in `trio.py`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .base import ColorNet
from .registry import register

STRIDE = 8  # the deepest feature map is 1/8 of the input
OUT_FACTOR = 4  # the output is 1/4 of the input


def _ch(n: int, width: float) -> int:
    return max(8, int(round(n * width)))


def _block(cin: int, cout: int, n: int, stride_last: int = 1, dilation: int = 1) -> list[nn.Module]:
    """n 3x3 conv + ReLU layers (the last one strided), then BatchNorm."""
    layers: list[nn.Module] = []
    for i in range(n):
        s = stride_last if i == n - 1 else 1
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, stride=s, padding=dilation, dilation=dilation),
                   nn.ReLU(inplace=True)]
    return layers + [nn.BatchNorm2d(cout)]


def pad_to_multiple(x: torch.Tensor, m: int) -> torch.Tensor:
    """Replicate-pad the bottom and right so that H and W are multiples of m."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % m, (-w) % m
    return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x


class ECCV16Body(nn.Module):
    """Blocks 1-8 of ECCV16 (features at 1/4 of the input, `out_channels` wide)."""

    def __init__(self, width: float = 1.0):
        super().__init__()
        c64, c128, c256, c512 = (_ch(n, width) for n in (64, 128, 256, 512))
        self.model1 = nn.Sequential(*_block(1, c64, 2, stride_last=2))
        self.model2 = nn.Sequential(*_block(c64, c128, 2, stride_last=2))
        self.model3 = nn.Sequential(*_block(c128, c256, 3, stride_last=2))
        self.model4 = nn.Sequential(*_block(c256, c512, 3))
        self.model5 = nn.Sequential(*_block(c512, c512, 3, dilation=2))
        self.model6 = nn.Sequential(*_block(c512, c512, 3, dilation=2))
        self.model7 = nn.Sequential(*_block(c512, c512, 3))
        self.model8 = nn.Sequential(
            nn.ConvTranspose2d(c512, c256, 4, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c256, c256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c256, c256, 3, padding=1), nn.ReLU(inplace=True))
        self.out_channels = c256

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        h, w = l.shape[-2:]
        x = pad_to_multiple(l, STRIDE)
        for block in (self.model1, self.model2, self.model3, self.model4,
                      self.model5, self.model6, self.model7, self.model8):
            x = block(x)
        return x[..., :math.ceil(h / OUT_FACTOR), :math.ceil(w / OUT_FACTOR)]


class ECCV16(ColorNet):
    kind = "bins"

    def __init__(self, width: float = 0.25):
        super().__init__()
        self.body = ECCV16Body(width)
        self.model_out = nn.Conv2d(self.body.out_channels, self.num_outputs, 1)

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        return self.model_out(self.body(l))


@register("eccv16", net_size=224,
          summary="Zhang et al. ECCV 2016: VGG-style dilated net, rebalanced classification over "
                  "the ab gamut at 1/4 resolution, annealed mean (width 0.25)",
          width=0.25)
def eccv16(width: float = 0.25) -> ECCV16:
    return ECCV16(width=width)
