"""The flagship: an ImageNet-pretrained EfficientNet-Lite0 encoder with a light
U-Net decoder that predicts a distribution over the ab gamut bins at a quarter
of the input resolution (as ECCV16 does), decoded by the annealed mean. The
pipeline upsamples ab under the full-resolution L, which carries the detail.

The encoder sees the photo's gray rendering exactly as it saw ImageNet photos, so
its recognition of objects (the thing that decides plausible colours) carries over.

With hints=True it also takes colour hints (colorcore.hints: a map of the hinted
chroma and a mask), as Zhang et al. 2017 do, read by the decoder only: the map,
brought to each decoder level (the mean hinted chroma per cell and where hints are),
is added through a convolution to that level's skip features (so the decoder spreads
a hint along the edges the skips see) and, at the output's resolution, to the logits.
These convolutions have no bias and start at zero, so an all-zero map (no hints) is
exactly the automatic net, and a fine-tune from automatic weights begins as the
automatic flagship. The encoder never sees the hints: its recognition stays the
automatic model's.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..color import gray_rgb_from_l
from ..hints import HINT_CHANNELS
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


def pool2(x: torch.Tensor) -> torch.Tensor:
    """Half size, rounding up as the encoder's "SAME" strides do."""
    return F.avg_pool2d(x, 2, ceil_mode=True)


# Logits that follow a hint need weights of tens: zero-started layers at the decoder's rate
# (Adam moves a weight about lr per step) would not get there in a fine-tune of a thousand
# steps, so the reader scales its input up and learns at a higher rate.
HINT_GAIN = 4.0
HINT_LR_SCALE = 10.0


def hint_levels(hint: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """The hint map at strides 4, 8, ... (levels of them): in each cell the mean chroma of
    the hints inside it and a mask that is 1 where there is any. Averaging the map itself
    would dilute a 3x3-pixel hint to a hundredth at stride 32, where it should reach furthest."""
    ab, mask = hint[:, :2], hint[:, 2:]
    ab, mask = pool2(pool2(ab)), pool2(pool2(mask))
    out = []
    for i in range(levels):
        if i:
            ab, mask = pool2(ab), pool2(mask)
        here = (mask > 0).to(hint.dtype)
        out.append(torch.cat([ab / mask.clamp_min(1e-6) * here, here], 1) * HINT_GAIN)
    return out


class HintReader(nn.Module):
    """The hint map into the decoder: one zero-initialised convolution per skip level
    (strides 4, 8, 16, 32) and one into the logits (stride 4)."""

    def __init__(self, skip_channels: tuple[int, ...], num_outputs: int):
        super().__init__()
        self.levels = nn.ModuleList(nn.Conv2d(HINT_CHANNELS, c, 3, padding=1, bias=False) for c in skip_channels)
        self.logits = nn.Conv2d(HINT_CHANNELS, num_outputs, 1, bias=False)
        for conv in (*self.levels, self.logits):
            nn.init.zeros_(conv.weight)

    def forward(self, hint: torch.Tensor, skips: list[torch.Tensor]) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The skips (strides 4..32) with the hints added, and the logits' share."""
        maps = hint_levels(hint, len(skips))
        return [s + conv(m) for s, conv, m in zip(skips, self.levels, maps)], self.logits(maps[0])


class Lite0UNet(ColorNet):
    kind = "bins"

    def __init__(self, decoder=(192, 128, 64), pretrained: bool = True, hints: bool = False):
        super().__init__()
        self.encoder = efficientnet_lite0(pretrained=pretrained)
        del self.encoder._conv_head, self.encoder._bn1, self.encoder._fc  # classifier head unused
        _, s4, s8, s16, s32 = SKIP_CHANNELS
        d16, d8, d4 = decoder
        self.up16 = UpBlock(s32, s16, d16)
        self.up8 = UpBlock(d16, s8, d8)
        self.up4 = UpBlock(d8, s4, d4)
        self.head = nn.Conv2d(d4, self.num_outputs, 1)
        self.hint = HintReader((s4, s8, s16, s32), self.num_outputs) if hints else None

    @property
    def accepts_hints(self) -> bool:
        return self.hint is not None

    @property
    def zero_started(self) -> tuple[str, ...]:
        return ("hint.",) if self.hint is not None else ()

    def forward(self, l: torch.Tensor, hint: torch.Tensor | None = None) -> torch.Tensor:
        gray = gray_rgb_from_l((l + 1) * 50).expand(-1, 3, -1, -1)
        _, f4, f8, f16, f32 = self.encoder.features(self.encoder.normalize(gray))
        extra = 0
        if hint is not None:
            self.check_hint(l, hint)
            (f4, f8, f16, f32), extra = self.hint(hint.to(l.dtype), [f4, f8, f16, f32])
        x = self.up16(f32, f16)
        x = self.up8(x, f8)
        x = self.up4(x, f4)
        return self.head(x) + extra

    def param_groups(self, lr: float, encoder_lr_scale: float = 0.1, decoder_lr_scale: float = 1.0) -> list[dict]:
        """The pretrained encoder learns at a tenth of the decoder's rate. A part at 0 is frozen
        (no gradients, its BatchNorm statistics kept): a hint fine-tune trains the decoder only,
        or the hint reader alone, so that with no hints the net stays exactly the automatic one.
        The hint reader learns at HINT_LR_SCALE times the decoder's rate."""
        scales = {"decoder": decoder_lr_scale, "hint": HINT_LR_SCALE, "encoder": encoder_lr_scale}
        parts = self.parts()
        self.frozen_parts = tuple(name for name in parts if scales[name] == 0)
        groups = []
        for name, modules in parts.items():
            params = [p for m in modules for p in m.parameters()]
            for p in params:
                p.requires_grad_(scales[name] != 0)
            if params and scales[name]:
                groups.append({"params": params, "lr": lr * scales[name]})
        self.train(self.training)
        return groups

    def parts(self) -> dict[str, list[nn.Module]]:
        """The modules of each part, in the order of the optimiser's groups (a checkpoint's
        optimiser state follows it): the decoder (every module but the other two), the hint
        reader, the pretrained encoder."""
        children = dict(self.named_children())
        return {"decoder": [m for n, m in children.items() if n not in ("encoder", "hint")],
                "hint": [children["hint"]] if "hint" in children else [],
                "encoder": [self.encoder]}

    def train(self, mode: bool = True):
        super().train(mode)
        parts = self.parts()
        for name in getattr(self, "frozen_parts", ()):
            for m in parts[name]:
                m.eval()
        return self


# 192 px: the training photos have a short side of 160, so a 192-px view shows objects
# near the scale the net learned them at, and runs faster than 256; `evaluate --net-size 256`
# and `bench --net-size 256` make the comparison for any weights.
@register("lite0-unet", net_size=192, aliases=("default",),
          summary="Flagship: ImageNet-pretrained EfficientNet-Lite0 encoder + U-Net decoder, "
                  "distribution over the ab gamut at 1/4 resolution, annealed mean; colour hints "
                  "with hint-trained weights",
          hints=True)
def lite0_unet(pretrained: bool = True, decoder=(192, 128, 64), hints: bool = False) -> Lite0UNet:
    return Lite0UNet(decoder=tuple(decoder), pretrained=pretrained, hints=hints)
