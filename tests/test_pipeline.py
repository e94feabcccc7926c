"""The pipeline's guarantees: same size out, the input's own lightness kept,
whatever the size, shape or mode of the photo."""
import numpy as np
import pytest
import torch
from PIL import Image

import colorcore
from colorcore.color import gray_rgb_from_l, rgb_to_lab
from colorcore.models import all_specs
from colorcore.render import lightness, render_srgb8
from conftest import gradient_photo


def lab_l(im: Image.Image) -> np.ndarray:
    rgb = torch.from_numpy(np.asarray(im.convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)[None]
    return rgb_to_lab(rgb)[0, 0].numpy()


@pytest.fixture(scope="module")
def flagship():
    torch.manual_seed(0)
    return colorcore.load_colorizer("lite0-unet", device="cpu", random_init=True)


@pytest.mark.parametrize("size", [(1, 1), (37, 53), (300, 200), (2000, 3), (1, 700)])
def test_same_size_and_lightness_for_any_shape(flagship, size):
    photo = gradient_photo(*size, seed=sum(size)).convert("L")
    out = flagship.colorize(photo)
    assert out.size == photo.size and out.mode == "RGB"
    assert np.abs(lab_l(out) - lab_l(photo)).max() <= 1.0


def test_a_colour_photo_is_colorized_from_its_own_lightness(flagship):
    photo = gradient_photo(120, 80)
    out_from_colour = flagship.colorize(photo)
    same_l_gray = gray_rgb_from_l(torch.from_numpy(lab_l(photo)))
    out_from_gray = flagship.colorize(Image.fromarray((same_l_gray.numpy() * 255 + 0.5).astype(np.uint8)))
    assert np.abs(lab_l(out_from_colour) - lab_l(photo)).max() <= 1.0
    # the colour input's own chroma is ignored: only its L reaches the model
    assert np.abs(np.asarray(out_from_colour, int) - np.asarray(out_from_gray, int)).mean() < 3


def test_output_has_colour_and_follows_the_model(flagship):
    photo = gradient_photo(64, 64).convert("L")
    out = np.asarray(flagship.colorize(photo), dtype=int)
    assert np.abs(out[..., 0] - out[..., 2]).max() > 0  # not gray
    hot = np.asarray(flagship.colorize(photo, temperature=1.0), dtype=int)
    cold = np.asarray(flagship.colorize(photo, temperature=0.05), dtype=int)
    assert np.abs(hot - cold).max() > 0  # temperature reaches the decoder


def test_predict_runs_at_the_net_resolution_and_exposes_the_distribution(flagship):
    L = torch.rand(2, 1, 300, 170) * 100
    out = flagship.predict(L)
    q = flagship.spec.net_size // 4
    assert out["ab"].shape == (2, 2, q, q) and out["entropy"].shape == (2, q, q)
    batch = flagship.colorize_tensor(L)
    assert batch["rgb"].shape == (2, 3, 300, 170)


def test_what_evaluate_scores_is_what_a_user_downloads(flagship):
    """One render step: the batched path (evaluate, tune) gives the very pixels that
    colorize() (the CLI, the demo) gives, for colour and gray photos alike, and the
    gray reference row is a vividness-0 colorization."""
    from colorcore.render import render_gray

    for photo in (gradient_photo(96, 72, seed=5), gradient_photo(64, 80, seed=6).convert("L")):
        rgb8 = np.asarray(photo.convert("RGB"))
        L = lightness(rgb8)
        batch = flagship.colorize_tensor(L, seed=0)["rgb"][0]
        as_user = np.asarray(flagship.colorize(photo, seed=0))
        assert np.array_equal(torch.round(batch * 255).to(torch.uint8).permute(1, 2, 0).numpy(), as_user)
        assert torch.equal(batch, torch.round(batch * 255) / 255)  # on the 8-bit levels
        gray = render_gray(L)[0]
        assert np.array_equal(torch.round(gray * 255).to(torch.uint8).permute(1, 2, 0).numpy(),
                              np.asarray(flagship.colorize(photo, vividness=0)))


def test_the_net_resolution_can_be_overridden_at_load():
    torch.manual_seed(0)
    small = colorcore.load_colorizer("lite0-unet", device="cpu", random_init=True, net_size=96)
    assert small.spec.net_size == 96
    assert small.predict(torch.rand(1, 1, 300, 170) * 100)["ab"].shape == (1, 2, 24, 24)
    assert small.colorize(gradient_photo(50, 70)).size == (50, 70)
    with pytest.raises(ValueError, match="net_size 8"):
        colorcore.load_colorizer("lite0-unet", random_init=True, net_size=8)


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_every_zoo_model_keeps_size_and_lightness(spec):
    torch.manual_seed(0)
    c = colorcore.load_colorizer(spec.name, device="cpu", random_init=True)
    photo = gradient_photo(90, 70, seed=3).convert("L")
    out = c.colorize(photo, seed=1)
    assert out.size == photo.size
    assert np.abs(lab_l(out) - lab_l(photo)).max() <= 1.0


def test_fast_lightness_and_render_match_the_reference_maths():
    rng = np.random.default_rng(0)
    rgb8 = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    ref = lab_l(Image.fromarray(rgb8))
    assert np.abs(lightness(rgb8)[0, 0].numpy() - ref).max() < 1e-3
    gray = np.repeat(rgb8[..., :1], 3, axis=2)
    assert np.abs(lightness(gray)[0, 0].numpy() - lab_l(Image.fromarray(gray))).max() < 1e-3
    L = torch.from_numpy(ref)
    ab = torch.from_numpy(rng.normal(0, 40, (2, 40, 50)).astype(np.float32))  # many out of gamut
    out = render_srgb8(L, ab)
    assert np.abs(lab_l(Image.fromarray(out)) - ref).max() <= 1.0


def test_list_models_describes_every_registered_model(use_weights):
    rows = {r["name"]: r for r in colorcore.list_models()}
    assert set(rows) == {s.name for s in all_specs()}
    flag = rows["lite0-unet"]
    assert flag["aliases"] == "default" and flag["kind"] == "bins" and flag["params"] > 1_000_000
    assert flag["weights"] is True and str(use_weights) in flag["source"]
    assert rows["eccv16"]["weights"] is False and rows["eccv16"]["source"] == "-"
