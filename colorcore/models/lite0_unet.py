"""The flagship: an ImageNet-pretrained EfficientNet-Lite0 encoder with a light
U-Net decoder that predicts a distribution over the ab gamut bins at a quarter
of the input resolution (as ECCV16 does), decoded by the annealed mean. The
pipeline upsamples ab under the full-resolution L, which carries the detail.

The encoder sees the photo's gray rendering exactly as it saw ImageNet photos, so
its recognition of objects (the thing that decides plausible colours) carries over.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..color import gray_rgb_from_l
from .base import ColorNet
from .efficientnet_lite import SKIP_CHANNELS, efficientnet_lite0
from .registry import register


def conv_bn_relu(cin: int, cout: int, k: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UpBlock(nn.Module):
    """Upsample x2, concatenate the skip, then two convolutions. forward() runs the
    1x1 fuse's share over x before the upsampling: both are linear, so the sum is
    the same at a quarter of the pixels, with no concatenated copy."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.fuse = conv_bn_relu(cin + cskip, cout, 1)
        self.refine = conv_bn_relu(cout, cout, 3)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        conv, bn, relu = self.fuse
        n = x.shape[1]
        y = F.interpolate(F.conv2d(x, conv.weight[:, :n]), size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.refine(relu(bn(y + F.conv2d(skip, conv.weight[:, n:]))))


class Lite0UNet(ColorNet):
    kind = "bins"

    def __init__(self, decoder=(192, 128, 64), pretrained: bool = True):
        super().__init__()
        self.encoder = efficientnet_lite0(pretrained=pretrained)
        del self.encoder._conv_head, self.encoder._bn1, self.encoder._fc  # classifier head unused
        _, s4, s8, s16, s32 = SKIP_CHANNELS
        d16, d8, d4 = decoder
        self.up16 = UpBlock(s32, s16, d16)
        self.up8 = UpBlock(d16, s8, d8)
        self.up4 = UpBlock(d8, s4, d4)
        self.head = nn.Conv2d(d4, self.num_outputs, 1)

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        gray = gray_rgb_from_l((l + 1) * 50).expand(-1, 3, -1, -1)
        _, f4, f8, f16, f32 = self.encoder.features(self.encoder.normalize(gray))
        x = self.up16(f32, f16)
        x = self.up8(x, f8)
        x = self.up4(x, f4)
        return self.head(x)

    def param_groups(self, lr: float, encoder_lr_scale: float = 0.1) -> list[dict]:
        """The pretrained encoder learns at a tenth of the decoder's rate."""
        enc = list(self.encoder.parameters())
        enc_ids = {id(p) for p in enc}
        rest = [p for p in self.parameters() if id(p) not in enc_ids]
        return [{"params": rest, "lr": lr}, {"params": enc, "lr": lr * encoder_lr_scale}]


# 192 px: the training photos have a short side of 160, so a 192-px view shows objects
# near the scale the net learned them at, and runs faster than 256; `evaluate --net-size 256`
# and `bench --net-size 256` make the comparison for any weights.
@register("lite0-unet", net_size=192, aliases=("default",),
          summary="Flagship: ImageNet-pretrained EfficientNet-Lite0 encoder + U-Net decoder, "
                  "distribution over the ab gamut at 1/4 resolution, annealed mean")
def lite0_unet(pretrained: bool = True, decoder=(192, 128, 64)) -> Lite0UNet:
    return Lite0UNet(decoder=tuple(decoder), pretrained=pretrained)
