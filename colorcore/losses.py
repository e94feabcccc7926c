"""Training objectives, chosen by name in a config's [loss] table.

An objective maps (model, L, ab) to a dict of named loss terms with a "total", and
`train_step` takes one optimisation step with it: forward, backward, the model's
optimiser. The pix2pix objective also owns a discriminator and its optimiser, and its
step trains both (as `optimize_parameters` does in pytorch-CycleGAN-and-pix2pix), so
the training loop only orchestrates. Objectives only call the model (never its other
methods), so a DistributedDataParallel wrapper passes through unchanged.
"""
from __future__ import annotations

from contextlib import AbstractContextManager

import torch
import torch.nn.functional as F
from torch import nn

from .models.base import ColorNet
from .color import AB_SCALE, annealed_mean, channel_bin, default_gamut, nearest_bin, soft_encode
from .hints import simulate_hints


normalize_l = ColorNet.normalize_l


def _at(ab: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Ground-truth ab resized to the model output's resolution (area average)."""
    if ab.shape[-2:] == out.shape[-2:]:
        return ab
    return F.adaptive_avg_pool2d(ab, out.shape[-2:])


class Objective:
    discriminator: nn.Module | None = None  # what it trains beside the model (the GAN's), if anything

    def __call__(self, model: nn.Module, L: torch.Tensor, ab: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def train_step(self, model: nn.Module, L: torch.Tensor, ab: torch.Tensor, opt: torch.optim.Optimizer,
                   autocast: AbstractContextManager) -> dict[str, torch.Tensor]:
        """One step of the model's optimiser on the loss; its terms."""
        with autocast:
            terms = self(model, L, ab)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        opt.step()
        return terms

    # What the objective trains beside the model: nothing, but for the GAN below.
    def setup(self, device: torch.device, lr: float, betas: tuple[float, float], distributed: bool) -> None:
        """Its modules onto `device` (DistributedDataParallel across processes) and their optimiser."""

    def set_lr_factor(self, factor: float) -> None:
        """The learning-rate schedule's factor for its own optimiser."""

    def state(self) -> dict:
        """Its modules' and optimiser's checkpoint entries."""
        return {}

    def load(self, state: dict) -> None:
        """Back from a checkpoint's entries."""


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
    annealed mean ties the decoded colour to the truth (decode_l1 > 0).
    hint_points > 0 trains a hint-taking net (Zhang et al. 2017): each batch gets hints
    simulated from its truth (colorcore.hints.simulate_hints), none for a share
    hint_free of the photos, hint_points on average for the others."""

    def __init__(self, rebalance_lambda: float | None = None, decode_l1: float = 0.0, temperature: float = 0.38,
                 hint_points: float = 0.0, hint_free: float = 0.5):
        gamut = default_gamut()
        self.centres = gamut.centres
        self.weights = gamut.weights(rebalance_lambda) if rebalance_lambda is not None else None
        self.decode_l1, self.temperature = decode_l1, temperature
        self.hint_points, self.hint_free = float(hint_points), float(hint_free)

    def __call__(self, model, L, ab):
        if self.hint_points > 0:
            logits = model(normalize_l(L), simulate_hints(ab, self.hint_free, self.hint_points))
        else:
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
    """Isola et al.: G minimises GAN + l1_weight * L1; D sees (L, ab) pairs and learns
    with its own Adam, one step after each of G's."""

    def __init__(self, model: nn.Module, l1_weight: float = 100.0):
        self.discriminator = model.build_discriminator()
        self.l1_weight = l1_weight
        self._d_net: nn.Module = self.discriminator  # what the steps call: DDP's wrapper across processes
        self._d_opt: torch.optim.Optimizer | None = None
        self._lr = 0.0
        self._fake: torch.Tensor | None = None

    def setup(self, device, lr, betas, distributed):
        self.discriminator.to(device, memory_format=torch.channels_last)
        if distributed:
            self._d_net = nn.parallel.DistributedDataParallel(self.discriminator)
        self._lr = lr  # what set_lr_factor scales: the config's (a checkpoint's d_opt keeps no base rate)
        self._d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=betas)

    def set_lr_factor(self, factor):
        for g in self._d_opt.param_groups:
            g["lr"] = self._lr * factor

    def train_step(self, model, L, ab, opt, autocast):
        terms = super().train_step(model, L, ab, opt, autocast)
        with autocast:
            d_terms = self.discriminator_loss(model, L, ab)
        self._d_opt.zero_grad(set_to_none=True)
        d_terms["total"].backward()
        self._d_opt.step()
        terms["d_loss"] = d_terms["d_loss"]
        return terms

    def state(self):
        return {"disc": self.discriminator.state_dict(), "d_opt": self._d_opt.state_dict()}

    def load(self, state):
        self.discriminator.load_state_dict(state["disc"])
        self._d_opt.load_state_dict(state["d_opt"])

    def __call__(self, model, L, ab):
        l = normalize_l(L)
        fake = model(l)
        target = _at(ab, fake) / AB_SCALE
        self._fake = fake.detach()
        for p in self.discriminator.parameters():
            p.requires_grad_(False)
        pred = self._d_net(torch.cat([_at(l, fake), fake], 1))
        for p in self.discriminator.parameters():
            p.requires_grad_(True)
        gan = F.binary_cross_entropy_with_logits(pred, torch.ones_like(pred))
        l1 = (fake - target).abs().mean()
        return {"total": gan + self.l1_weight * l1, "g_gan": gan.detach(), "l1": l1.detach()}

    def discriminator_loss(self, model, L, ab) -> dict[str, torch.Tensor]:
        """The D step's loss on the fake from the last generator call and the real pair."""
        fake = self._fake
        l = _at(normalize_l(L), fake)
        real = _at(ab, fake) / AB_SCALE
        pred_real = self._d_net(torch.cat([l, real], 1))
        pred_fake = self._d_net(torch.cat([l, fake], 1))
        loss = 0.5 * (F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real))
                      + F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake)))
        return {"total": loss, "d_loss": loss.detach()}


def build_objective(name: str, model: nn.Module, **options) -> Objective:
    table = {
        "ab_l2": lambda: AbRegression(2, **options),  # options only to reject any: the name sets p
        "ab_l1": lambda: AbRegression(1, **options),
        "bins_ce": lambda: BinsCrossEntropy(**options),
        "bins10_ce": lambda: ChannelBinsCrossEntropy(**options),
        "vae": lambda: VAELoss(**options),
        "pix2pix": lambda: Pix2PixLoss(model, **options),
    }
    if name not in table:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(table)}")
    objective = table[name]()
    if getattr(objective, "hint_points", 0) and not model.accepts_hints:
        raise ValueError(f"loss hint_points trains hints, but {type(model).__name__} takes no hints "
                         "(the flagship takes them with model_options hints = true)")
    return objective
