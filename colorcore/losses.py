"""Training objectives, chosen by name in a config's [loss] table.

An objective maps (model, L, ab) to a dict of named loss terms with a "total"
that the loop backpropagates. The pix2pix objective also owns a discriminator,
which the loop trains with its own optimiser through `discriminator_loss`.
Objectives only call the model (never its other methods), so a
DistributedDataParallel wrapper passes through unchanged.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .models.base import ColorNet
from .color import AB_SCALE, annealed_mean, channel_bin, default_gamut, nearest_bin, soft_encode


normalize_l = ColorNet.normalize_l


def _at(ab: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Ground-truth ab resized to the model output's resolution (area average)."""
    if ab.shape[-2:] == out.shape[-2:]:
        return ab
    return F.adaptive_avg_pool2d(ab, out.shape[-2:])


class Objective:
    discriminator: nn.Module | None = None

    def __call__(self, model: nn.Module, L: torch.Tensor, ab: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError


class AbRegression(Objective):
    """Euclidean (p=2) or L1 (p=1) loss on normalised ab."""

    def __init__(self, p: int = 2):
        self.p = p

    def __call__(self, model, L, ab):
        pred = model(normalize_l(L))
        target = _at(ab, pred) / AB_SCALE
        diff = pred - target
        loss = (diff ** 2).sum(1).mean() if self.p == 2 else diff.abs().sum(1).mean()
        return {"total": loss, f"l{self.p}": loss.detach()}


class BinsCrossEntropy(Objective):
    """Multinomial cross-entropy against soft-encoded targets over the gamut bins
    (Zhang et al. 2016), each pixel weighted by the rebalancing weight of its
    ground-truth bin when rebalance_lambda is set. An optional L1 term on the
    annealed mean ties the decoded colour to the truth (decode_l1 > 0)."""

    def __init__(self, rebalance_lambda: float | None = None, decode_l1: float = 0.0, temperature: float = 0.38):
        gamut = default_gamut()
        self.centres = gamut.centres
        self.weights = gamut.weights(rebalance_lambda) if rebalance_lambda is not None else None
        self.decode_l1, self.temperature = decode_l1, temperature

    def __call__(self, model, L, ab):
        logits = model(normalize_l(L))
        target_ab = _at(ab, logits).float()
        target = soft_encode(target_ab, self.centres)
        ce = -(target * torch.log_softmax(logits.float(), 1)).sum(1)  # (B, h, w)
        terms = {"ce": ce.mean().detach()}
        if self.weights is not None:
            w = self.weights.to(ce.device)[nearest_bin(target_ab, self.centres)]
            ce = ce * w
        total = ce.mean()
        if self.decode_l1:
            decoded = annealed_mean(logits.float(), self.centres, self.temperature)
            l1 = (decoded - target_ab).abs().mean() / AB_SCALE
            terms["decode_l1"] = l1.detach()
            total = total + self.decode_l1 * l1
        terms["total"] = total
        return terms


class ChannelBinsCrossEntropy(Objective):
    """a and b each in 10 bins: categorical cross-entropy per channel with
    per-channel class weights from the data distribution."""

    def __init__(self, rebalance_lambda: float | None = 0.5):
        gamut = default_gamut()
        self.edges = gamut.channel_edges
        self.weights = gamut.channel_weights(rebalance_lambda) if rebalance_lambda is not None else None

    def __call__(self, model, L, ab):
        logits = model(normalize_l(L)).float()
        target = _at(ab, logits)
        terms = {}
        total = 0.0
        for c, name in enumerate(("a", "b")):
            idx = channel_bin(target[:, c], self.edges)
            w = self.weights[c].to(logits.device) if self.weights is not None else None
            loss = F.cross_entropy(logits[:, 10 * c:10 * c + 10], idx, weight=w)
            terms[f"ce_{name}"] = loss.detach()
            total = total + loss
        terms["total"] = total
        return terms


class VAELoss(Objective):
    """Reconstruction (L1 on normalised ab) + kl_weight * KL(q(z | L, ab) || N(0, I))."""

    def __init__(self, kl_weight: float = 0.01):
        self.kl_weight = kl_weight

    def __call__(self, model, L, ab):
        l = normalize_l(L)
        target = ab / AB_SCALE
        pred, mu, logvar = model(l, target)  # training call: encode ab too
        recon = (pred - _at(target, pred)).abs().sum(1).mean()
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1).mean()
        return {"total": recon + self.kl_weight * kl, "recon": recon.detach(), "kl": kl.detach()}


class Pix2PixLoss(Objective):
    """Isola et al.: G minimises GAN + l1_weight * L1; D sees (L, ab) pairs."""

    def __init__(self, model: nn.Module, l1_weight: float = 100.0):
        self.discriminator = model.build_discriminator()
        self.l1_weight = l1_weight
        self._fake: torch.Tensor | None = None

    def __call__(self, model, L, ab):
        l = normalize_l(L)
        fake = model(l)
        target = _at(ab, fake) / AB_SCALE
        self._fake = fake.detach()
        for p in self.discriminator.parameters():
            p.requires_grad_(False)
        pred = self.discriminator(torch.cat([_at(l, fake), fake], 1))
        for p in self.discriminator.parameters():
            p.requires_grad_(True)
        gan = F.binary_cross_entropy_with_logits(pred, torch.ones_like(pred))
        l1 = (fake - target).abs().mean()
        return {"total": gan + self.l1_weight * l1, "g_gan": gan.detach(), "l1": l1.detach()}

    def discriminator_loss(self, model, L, ab) -> dict[str, torch.Tensor]:
        """The D step on the fake from the last generator call and the real pair."""
        fake = self._fake
        l = _at(normalize_l(L), fake)
        real = _at(ab, fake) / AB_SCALE
        pred_real = self.discriminator(torch.cat([l, real], 1))
        pred_fake = self.discriminator(torch.cat([l, fake], 1))
        loss = 0.5 * (F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real))
                      + F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake)))
        return {"total": loss, "d_loss": loss.detach()}


def build_objective(name: str, model: nn.Module, **options) -> Objective:
    table = {
        "ab_l2": lambda: AbRegression(p=2),
        "ab_l1": lambda: AbRegression(p=1),
        "bins_ce": lambda: BinsCrossEntropy(**options),
        "bins10_ce": lambda: ChannelBinsCrossEntropy(**options),
        "vae": lambda: VAELoss(**options),
        "pix2pix": lambda: Pix2PixLoss(model, **options),
    }
    if name not in table:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(table)}")
    return table[name]()
