"""The model zoo: every registered net runs at two sizes and decodes to sane ab,
every config trains for one step, and the classic architectures keep the
properties of their papers (PatchGAN receptive field, pix2pix init, ECCV16 size).

check_net, check_frozen and check_training_step are what every model must pass;
tests/test_add_model.py runs them on a model added the way a new one is."""
from __future__ import annotations

import inspect
import math
from pathlib import Path

import pytest
import torch

from colorcore.losses import build_objective
from colorcore.models import all_specs, get_spec
from colorcore.config import load_config


ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))
SPECS = all_specs()


def build(spec, **options):
    """Build without downloading or reading pretrained weights where the factory allows."""
    if "pretrained" in inspect.signature(spec.factory).parameters:
        options.setdefault("pretrained", False)
    return spec.build(**options)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def check_net(spec):
    """The net runs at its own size and another, keeps the aspect ratio, decodes to sane
    ab, and is what the registry says (kind, Hub repo) and the demo shows (an entropy
    exactly where it predicts a distribution)."""
    torch.manual_seed(0)
    model = build(spec).eval()
    assert model.kind == spec.kind and model.limitation
    assert spec.hub_repo == f"colorcore/{spec.name}"
    assert spec.summary and "\n" not in spec.summary
    for h, w in [(spec.net_size, spec.net_size), (96, 160)]:
        L = torch.rand(2, 1, h, w) * 100
        with torch.no_grad():
            out = model(model.normalize_l(L))
            pred = model.predict(L)
        assert out.shape[:2] == (2, model.num_outputs)
        oh, ow = out.shape[-2:]
        assert h / 8 <= oh <= h and w / 8 <= ow <= w
        assert abs(oh / ow - h / w) < 0.05  # the aspect ratio survives
        assert torch.isfinite(out).all()
        ab = pred["ab"]
        assert ab.shape == (2, 2, oh, ow)
        assert torch.isfinite(ab).all() and ab.abs().max() <= 130
        assert ("entropy" in pred) is model.predicts_distribution


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_forward_and_predict(spec):
    check_net(spec)


def test_zoo_weights_stay_small():
    sizes = {s.name: n_params(build(s)) for s in SPECS}
    assert all(n * 2 <= 16e6 for n in sizes.values()), sizes  # <= ~15 MB each in fp16
    assert sum(sizes.values()) * 2 < 150e6


def check_training_step(path: Path):
    """The config names its model and run folder after itself, and one step of its
    objective gives every parameter a gradient and changes it."""
    torch.manual_seed(0)
    cfg = load_config(path)
    spec = get_spec(cfg.model)
    assert cfg.train.out == f"runs/{path.stem}" and spec.name == path.stem
    assert cfg.data.crop <= 160
    model = build(spec, **cfg.model_options).train()
    objective = build_objective(cfg.loss["name"], model, **cfg.objective_options())
    if getattr(objective, "hint_points", 0):
        objective.hint_free = 0.0  # two photos could both draw no hints, leaving the hint layers no gradient
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, betas=cfg.optim.betas)
    size = 64
    L = torch.rand(2, 1, size, size) * 100
    ab = (torch.rand(2, 2, size, size) - 0.5) * 120
    before = [p.detach().clone() for p in model.parameters()]
    terms = objective(model, L, ab)
    assert torch.isfinite(terms["total"])
    opt.zero_grad()
    terms["total"].backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert not unused, f"parameters without a gradient: {unused[:5]}"
    opt.step()
    changed = sum(not torch.equal(a, p) for a, p in zip(before, model.parameters()))
    assert changed == len(before)
    if objective.discriminator is not None:
        disc = objective.discriminator.train()
        d_opt = torch.optim.Adam(disc.parameters(), lr=cfg.optim.lr, betas=(0.5, 0.999))
        d_before = [p.detach().clone() for p in disc.parameters()]
        d_terms = objective.discriminator_loss(model, L, ab)
        assert torch.isfinite(d_terms["total"])
        d_opt.zero_grad()
        d_terms["total"].backward()
        d_opt.step()
        assert all(not torch.equal(a, p) for a, p in zip(d_before, disc.parameters()))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_one_training_step(path):
    check_training_step(path)


def test_every_zoo_model_has_a_config():
    """The rule for every registered model: its file and its configs/<name>.toml, nothing
    more. Shipped weights are not required: tests export random ones where they need
    weights (tests/servers.write_random_weights), and a model without any is listed as such."""
    stems = {p.stem for p in CONFIGS}
    assert {s.name for s in SPECS} <= stems


def test_vae_seeds():
    torch.manual_seed(0)
    model = get_spec("vae").build().eval()
    L = torch.rand(1, 1, 64, 64) * 100
    with torch.no_grad():
        a1 = model.predict(L, seed=1)["ab"]
        a1_again = model.predict(L, seed=1)["ab"]
        a2 = model.predict(L, seed=2)["ab"]
        mean1 = model.predict(L)["ab"]
        mean2 = model.predict(L, seed=None)["ab"]
        direct = model(model.normalize_l(L)) * 110
    assert torch.equal(a1, a1_again)
    assert (a1 - a2).abs().max() > 1e-4
    assert torch.equal(mean1, mean2)
    assert torch.allclose(mean1, direct, atol=1e-5)
    # training call: (pred, mu, logvar)
    model.train()
    pred, mu, logvar = model(model.normalize_l(L), torch.zeros(1, 2, 64, 64))
    assert pred.shape == (1, 2, 64, 64) and mu.shape == logvar.shape == (1, model.z_dim)


def test_patchgan_is_70x70():
    from colorcore.models.pix2pix import receptive_field

    gen = get_spec("pix2pix").build()
    disc = gen.build_discriminator().eval()
    assert receptive_field(disc) == 70
    convs = [m for m in disc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == [64, 128, 256, 512, 1]
    assert not isinstance(disc.model[1], torch.nn.BatchNorm2d)  # no norm on the first layer
    with torch.no_grad():
        assert disc(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    assert not any(n.startswith("disc") for n, _ in gen.named_parameters())  # not in the shipped weights


def test_pix2pix_generator_layout_and_init():
    gen = get_spec("pix2pix").build(num_downs=8, ngf=8)  # unet_256 at a small width
    assert sum(isinstance(m, torch.nn.Dropout) for m in gen.modules()) == 3
    assert isinstance(gen.ups[0][-1], torch.nn.Tanh)
    with torch.no_grad():
        assert gen(torch.zeros(1, 1, 256, 256)).shape == (1, 2, 256, 256)
    gen = get_spec("pix2pix").build()
    for m in gen.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) and m.weight.numel() > 2000:
            assert abs(m.weight.std().item() - 0.02) < 0.003
            assert abs(m.weight.mean().item()) < 0.003
    disc = gen.build_discriminator()
    for m in disc.modules():
        if isinstance(m, torch.nn.Conv2d) and m.weight.numel() > 2000:
            assert abs(m.weight.std().item() - 0.02) < 0.003


def test_eccv16_full_width_is_the_original_size():
    model = get_spec("eccv16").build(width=1.0)
    assert 30e6 <= n_params(model) <= 34e6
    with torch.no_grad():
        out = model.eval()(torch.zeros(1, 1, 224, 224))
    assert out.shape == (1, model.num_outputs, 56, 56)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 7
    dilated = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.dilation == (2, 2)]
    assert len(dilated) == 6


def test_the_registry_reads_the_kind_off_a_weightless_net():
    """register() takes no kind: a spec's kind is its net's own, read off a build on the
    meta device with the registered options (so trio.py's per-instance head counts)."""
    from colorcore.models import register

    assert "kind" not in inspect.signature(register).parameters
    for spec in SPECS:
        assert all(p.is_meta for p in spec.prototype.parameters()), spec.name
    assert [get_spec(n).kind for n in ("regression-l2", "classification", "unet-bins10")] == ["ab", "bins", "bins10"]


def test_trio_shares_one_backbone():
    models = {n: get_spec(n).build() for n in ("regression-l2", "classification", "classification-rebal")}
    assert len({type(m) for m in models.values()}) == 1
    assert len({get_spec(n).net_size for n in models}) == 1
    assert models["regression-l2"].kind == "ab" and models["classification"].kind == "bins"
    body = {n: sorted((k, tuple(v.shape)) for k, v in m.state_dict().items() if k.startswith("body."))
            for n, m in models.items()}
    assert body["regression-l2"] == body["classification"] == body["classification-rebal"]


def test_any_size_from_32():
    """Odd sizes work through internal padding / cropping."""
    for name in ("eccv16", "unet-bins10", "pix2pix", "vae", "classification"):
        model = get_spec(name).build().eval()
        with torch.no_grad():
            out = model(torch.zeros(1, 1, 37, 53))
        oh, ow = out.shape[-2:]
        assert oh in (37, math.ceil(37 / 4)) and ow in (53, math.ceil(53 / 4)), (name, out.shape)


def check_frozen(spec):
    """The traced, frozen copy that load_colorizer uses on CPU gives the eager
    output for any batch size, and train() drops it (its weights go stale)."""
    torch.manual_seed(0)
    model = build(spec).eval()
    for m in model.modules():  # non-trivial statistics, so folding BatchNorm is exercised
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    L = torch.rand(3, 1, spec.net_size, spec.net_size) * 100
    with torch.no_grad():
        eager = model.predict(L, seed=1)["ab"]
    model.freeze(spec.net_size)
    assert ("_frozen" in model.__dict__) != model.stochastic
    for batch in (L[:1], L):
        with torch.no_grad():
            frozen = model.predict(batch, seed=1)["ab"]
        assert torch.allclose(frozen, eager[:len(batch)], atol=1e-3), (frozen - eager[:len(batch)]).abs().max()
    if not model.stochastic:  # another size than the traced one runs eagerly, not through the copy
        other = torch.rand(1, 1, spec.net_size + 32, spec.net_size + 32) * 100
        with torch.no_grad():
            eager_other = model.decode(model(model.normalize_l(other)), model.default_temperature)["ab"]
            assert torch.allclose(model.predict(other)["ab"], eager_other, atol=1e-3)
    model.eval()  # switching modes alone keeps it
    assert ("_frozen" in model.__dict__) != model.stochastic
    model.train()
    assert "_frozen" not in model.__dict__


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_frozen_net_matches_eager(spec):
    check_frozen(spec)


def test_flagship_upblock_is_upsample_concat_fuse():
    """UpBlock runs the 1x1 fuse over x before upsampling: the same output as
    upsampling, concatenating the skip and fusing, in training and in eval mode."""
    from colorcore.models.lite0_unet import UpBlock

    torch.manual_seed(0)
    block = UpBlock(32, 16, 24)
    x, skip = torch.randn(2, 32, 6, 5), torch.randn(2, 16, 12, 9)  # odd skip size: not exactly x2
    for train in (True, False):
        block.train(train)
        up = torch.nn.functional.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        with torch.no_grad():
            expected = block.refine(block.fuse(torch.cat([up, skip], 1)))
            assert torch.allclose(block(x, skip), expected, atol=1e-5)
