"""The loss ablation of Zhang et al. (ECCV 2016, Table 1) on one shared backbone:

- `regression-l2`: 2-channel ab head (linear, ab / 110), Euclidean loss;
- `classification`: Q-way head over the ab gamut bins, plain cross-entropy on
  soft-encoded targets, annealed-mean decoding (T = 0.38);
- `classification-rebal`: the same head, cross-entropy with class rebalancing
  (lambda 0.5).

The three differ only in the head (and so `kind`) and, in their configs, the loss;
the backbone is `ECCV16Body` from eccv16.py at width 0.25 (about 2.0M parameters,
~4 MB fp16; the original is width 1.0, 32M), giving outputs at 1/4 of the input.
net_size 128 for all three: they train on 128-px crops of photos with a short side
of 160, so at 128 the evaluation photos show objects at the training scale.
"""
from __future__ import annotations

from torch import nn

from .base import ColorNet
from .eccv16 import ECCV16Body
from .registry import register

HEADS = ("ab", "bins")


class TrioNet(ColorNet):
    def __init__(self, head: str = "bins", width: float = 0.25):
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {sorted(HEADS)}, not {head!r}")
        self.kind = head  # per instance: decode() and the registry (ModelSpec.kind) read it
        self.body = ECCV16Body(width)
        self.head = nn.Conv2d(self.body.out_channels, self.num_outputs, 1)

    def forward(self, l):
        return self.head(self.body(l))


_COMMON = dict(net_size=128, width=0.25)


@register("regression-l2", head="ab", **_COMMON,
          summary="Loss ablation: ECCV16-style backbone (width 0.25), ab regression with an L2 loss")
def regression_l2(head: str = "ab", width: float = 0.25) -> TrioNet:
    return TrioNet(head=head, width=width)


@register("classification", head="bins", **_COMMON,
          summary="Loss ablation: the same backbone, cross-entropy over the ab gamut bins, no rebalancing")
def classification(head: str = "bins", width: float = 0.25) -> TrioNet:
    return TrioNet(head=head, width=width)


@register("classification-rebal", head="bins", **_COMMON,
          summary="Loss ablation: the same backbone, class-rebalanced cross-entropy (lambda 0.5) over the bins")
def classification_rebal(head: str = "bins", width: float = 0.25) -> TrioNet:
    return TrioNet(head=head, width=width)
