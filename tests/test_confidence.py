"""The confidence fade: the fitted curve, how it is applied, and the options that
turn it off or scale any model's chroma."""
import dataclasses

import numpy as np
import pytest
import torch

import colorcore
from colorcore.confidence import FadeFit, fade_scale
from conftest import gradient_photo


def test_fade_interpolates_between_knots_and_is_flat_beyond_them():
    curve = {"entropy": [0.2, 0.6], "scale": [1.0, 0.2]}
    e = torch.tensor([0.0, 0.2, 0.4, 0.6, 1.0])
    assert torch.allclose(fade_scale(e, curve), torch.tensor([1.0, 1.0, 0.6, 0.2, 0.2]))
    assert torch.allclose(fade_scale(e, {**curve, "strength": 0.5}), torch.tensor([1.0, 1.0, 0.6, 0.2, 0.2]) ** 0.5)
    assert torch.equal(fade_scale(e, {**curve, "strength": 0.0}), torch.ones(5))


def test_fit_finds_the_least_squares_scale_per_confidence():
    """Sure pixels predicted right keep their chroma; unsure ones predicted twice as
    strong as the truth get half; the curve never rises with the entropy."""
    g = torch.Generator().manual_seed(0)
    true = torch.randn(1, 2, 40, 40, generator=g) * 20
    ent = torch.zeros(1, 40, 40)
    ent[:, 20:] = 0.9  # the lower half is unsure
    pred = true.clone()
    pred[:, :, 20:] *= 2
    fit = FadeFit()
    fit.add(ent, pred, true)
    curve = fit.curve(min_pixels=10)
    s = fade_scale(torch.tensor([0.0, 0.9]), curve)
    assert torch.allclose(s, torch.tensor([1.0, 0.5]), atol=1e-3)
    assert all(a >= b for a, b in zip(curve["scale"], curve["scale"][1:]))


def test_fit_forces_a_non_increasing_curve():
    """A bin that fits better at high entropy than at a lower one (noise) is pooled
    with its neighbour instead of letting the curve rise."""
    true = torch.ones(1, 2, 3, 1) * 10
    pred = true * torch.tensor([1.0, 2.0, 1.25]).view(1, 1, 3, 1)  # scales 1, 0.5, 0.8
    ent = torch.tensor([0.04, 0.5, 0.96]).view(1, 3, 1)
    fit = FadeFit()
    fit.add(ent, pred, true)
    scale = fit.curve(min_pixels=1)["scale"]
    assert scale[0] == 1.0 and scale[-1] == pytest.approx(scale[len(scale) // 2]) and scale[-1] < 0.8
    with pytest.raises(ValueError, match="too few pixels"):
        FadeFit().curve()


@pytest.fixture(scope="module")
def flagship():
    torch.manual_seed(0)
    return colorcore.load_colorizer("lite0-unet", device="cpu", random_init=True)


def chroma(image) -> float:
    a = np.asarray(image, dtype=float)
    return float((a.max(2) - a.min(2)).mean())


def test_the_colorizer_fades_by_default_and_on_request_does_not(flagship):
    photo = gradient_photo(64, 48).convert("L")
    plain = chroma(flagship.colorize(photo))
    faded = dataclasses.replace(flagship, config={"confidence_fade": {"entropy": [0.0, 1.0], "scale": [0.0, 0.0]}})
    assert plain > 1 and chroma(faded.colorize(photo)) < 0.5  # scale 0 everywhere: gray
    assert chroma(faded.colorize(photo, fade=False)) == pytest.approx(plain)
    out = faded.predict(torch.rand(1, 1, 64, 64) * 100)
    assert torch.all(out["chroma_scale"] == 0)


@pytest.mark.parametrize("name", ["lite0-unet", "regression-l2"])
def test_vividness_scales_every_models_chroma(name):
    torch.manual_seed(0)
    c = colorcore.load_colorizer(name, device="cpu", random_init=True)
    L = torch.rand(1, 1, 64, 64) * 100
    base = c.predict(L)["ab"]
    assert torch.allclose(c.predict(L, vividness=2.0)["ab"], 2 * base)
    assert torch.all(c.predict(L, vividness=0.0)["ab"] == 0)
    with pytest.raises(ValueError, match="vividness"):
        c.predict(L, vividness=-1)


@pytest.mark.parametrize("bad", [[], {"entropy": [0.1], "scale": [1.0]}, {"entropy": [0.5, 0.2], "scale": [1, 1]},
                                 {"entropy": [0, 1], "scale": [1, 2]}, {"entropy": ["x", 1], "scale": [1, 1]},
                                 {"scale": [1, 1]}])
def test_a_broken_stored_curve_is_refused_at_load_naming_the_folder(bad, tmp_path):
    import json

    from colorcore.hub import WeightsCorrupt, export_weights
    from colorcore.models import get_spec

    spec = get_spec("classification")
    folder = tmp_path / spec.name
    export_weights(spec.build_for_weights(), folder, {"name": spec.name, "confidence_fade": bad})
    with pytest.raises(WeightsCorrupt, match=rf"{folder.name}.*confidence_fade"):
        colorcore.load_colorizer(spec.name, weights=str(folder))
    cfg = json.loads((folder / "config.json").read_text())
    cfg["confidence_fade"] = {"entropy": [0.0, 1.0], "scale": [1.0, 0.5], "strength": 0.5}
    (folder / "config.json").write_text(json.dumps(cfg))
    assert colorcore.load_colorizer(spec.name, weights=str(folder)).fade_curve["strength"] == 0.5


def test_weightless_bins_pool_to_their_mean_not_to_zero():
    from colorcore.confidence import _non_increasing

    out = _non_increasing(np.array([1.0, 0.4, 0.6]), np.array([5.0, 0.0, 0.0]))
    assert out.tolist() == [1.0, 0.5, 0.5]
