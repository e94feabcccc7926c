"""Colour math against scikit-image, and the bin / prior / weight / decoding maths."""
import itertools

import numpy as np
import pytest
import torch
from skimage import color as skcolor

from colorcore import color


def _as_batch(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).float().permute(2, 0, 1)[None]


def test_rgb_to_lab_matches_skimage_on_random_colours_and_cube_corners():
    rng = np.random.default_rng(0)
    corners = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    rgb = np.concatenate([rng.random((500, 3)), corners])[None]  # (1, N, 3)
    ours = color.rgb_to_lab(_as_batch(rgb))[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - skcolor.rgb2lab(rgb)).max() < 0.01


def test_lab_to_rgb_matches_skimage_and_round_trips():
    rng = np.random.default_rng(1)
    rgb = rng.random((1, 400, 3))
    lab = skcolor.rgb2lab(rgb)
    ours = color.lab_to_rgb(_as_batch(lab))[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - skcolor.lab2rgb(lab)).max() < 0.01
    assert np.abs(ours - rgb).max() < 1e-3


def test_lab_to_rgb_clips_out_of_gamut_colours_into_the_cube():
    lab = torch.tensor([[50.0, 100.0, -100.0], [90.0, -80.0, 90.0], [10.0, 60.0, 60.0]]).T.reshape(1, 3, 1, 3)
    raw = color.lab_to_rgb_unclipped(lab)
    assert raw.min() < 0 or raw.max() > 1
    assert torch.equal(color.lab_to_rgb(lab), raw.clamp(0, 1))


def test_colour_conversions_are_differentiable():
    rgb = torch.rand(2, 3, 8, 8, requires_grad=True)
    lab = color.rgb_to_lab(rgb)
    color.lab_to_rgb(lab).sum().backward()
    assert torch.isfinite(rgb.grad).all() and rgb.grad.abs().sum() > 0


def test_the_srgb_curve_and_lab_companding_invert_each_other():
    x = torch.linspace(0, 1, 1001, dtype=torch.float64)
    assert torch.allclose(color.linear_to_srgb(color.srgb_to_linear(x)), x, atol=1e-12)
    assert torch.allclose(color.lab_finv(color.lab_f(x)), x, atol=1e-12)
    L = torch.linspace(0, 100, 101, dtype=torch.float64)
    assert torch.allclose(color.lightness_from_luminance(color.luminance_from_lightness(L)), L, atol=1e-9)
    # the sRGB curve against its definition at two points, one per segment
    assert abs(float(color.srgb_to_linear(torch.tensor(0.5, dtype=torch.float64))) - 0.214041) < 1e-6
    assert abs(float(color.srgb_to_linear(torch.tensor(0.02, dtype=torch.float64))) - 0.02 / 12.92) < 1e-12


def test_gray_rgb_from_l_inverts_lightness():
    L = torch.linspace(0, 100, 101).view(1, 1, 1, -1)
    gray = color.gray_rgb_from_l(L).expand(1, 3, 1, 101)
    assert torch.allclose(color.rgb_to_lab(gray)[:, 0], L[:, 0], atol=0.01)


def test_chroma_fit_keeps_lightness_and_only_touches_out_of_gamut_pixels():
    from colorcore.gamut_fit import chroma_fit, lab_to_linear, outside_srgb

    L = torch.tensor([50.0, 50.0, 97.0, 3.0]).view(1, 1, 1, 4)
    ab = torch.tensor([[10.0, 90.0, 60.0, -50.0], [10.0, -100.0, 60.0, 40.0]]).view(1, 2, 1, 4)
    Ln, an, bn = (t.reshape(-1).numpy() for t in (L, ab[:, 0], ab[:, 1]))
    outside = outside_srgb(lab_to_linear(Ln, an, bn))
    assert outside.tolist() == [False, True, True, True]  # in gamut: untouched
    scale = np.ones_like(Ln)
    scale[outside] = chroma_fit(Ln[outside], an[outside], bn[outside])
    fitted = ab * torch.from_numpy(scale).view(1, 1, 1, 4)
    rgb = color.lab_to_rgb_unclipped(torch.cat([L, fitted], 1))
    assert rgb.min() > -1e-3 and rgb.max() < 1 + 1e-3
    assert torch.allclose(color.rgb_to_lab(rgb.clamp(0, 1))[:, 0], L[:, 0], atol=0.05)
    assert (fitted[..., 1:].norm(dim=1) < ab[..., 1:].norm(dim=1)).all()


def test_committed_gamut_is_on_the_10_grid_with_a_proper_prior():
    g = color.default_gamut()
    assert 150 <= g.size <= 313
    assert torch.all(torch.remainder(g.centres, 10) == 0)
    assert g.centres.abs().max() <= 110
    assert g.prior.min() > 0 and abs(float(g.prior.sum()) - 1) < 1e-5
    # neutral colours are the most common in photographs
    assert g.centres[g.prior.argmax()].abs().max() <= 20
    assert len(g.channel_edges) == 11 and torch.all(g.channel_edges.diff() > 0)
    assert torch.allclose(g.channel_prior.sum(1), torch.ones(2), atol=1e-5)


def test_soft_encoding_spreads_over_five_nearest_bins():
    centres = torch.from_numpy(color.grid_centres())
    ab = torch.tensor([20.0, -30.0]).view(1, 2, 1, 1)  # exactly on a centre
    t = color.soft_encode(ab, centres)[0, :, 0, 0]
    assert (t > 0).sum() == 5 and abs(float(t.sum()) - 1) < 1e-6
    on = ((centres - torch.tensor([20.0, -30.0])).abs().sum(1) == 0).nonzero().item()
    assert t.argmax() == on
    # the four neighbours at distance 10 share the rest equally: exp(-100 / 50) relative weight
    ratio = float(t.topk(2).values[1] / t[on])
    assert abs(ratio - np.exp(-100 / (2 * 25))) < 1e-5


def test_smoothing_and_rebalancing_weights():
    centres = color.grid_centres()
    p = np.zeros(len(centres))
    p[len(centres) // 2] = 1.0
    smooth = color.smooth_over_bins(p, centres, sigma=5)
    assert abs(smooth.sum() - 1) < 1e-9 and smooth.max() < 1
    prior = np.array([0.7, 0.2, 0.1])
    w = color.rebalancing_weights(prior, lam=0.5)
    assert abs((prior * w).sum() - 1) < 1e-9
    expected = 1 / (0.5 * prior + 0.5 / 3)
    assert np.allclose(w / w[0], expected / expected[0])
    assert np.allclose(color.rebalancing_weights(prior, lam=1.0), 1.0)  # lambda 1: uniform


def test_annealed_mean_runs_from_mode_to_mean():
    centres = torch.tensor([[0.0, 0.0], [50.0, 0.0], [0.0, 80.0]])
    probs = torch.tensor([0.5, 0.3, 0.2])
    logits = probs.log().view(1, 3, 1, 1)
    mean = (probs[:, None] * centres).sum(0)
    assert torch.allclose(color.annealed_mean(logits, centres, 1.0)[0, :, 0, 0], mean, atol=1e-4)
    assert torch.allclose(color.annealed_mean(logits, centres, 0.0)[0, :, 0, 0], centres[0])
    assert torch.allclose(color.annealed_mean(logits, centres, 0.01)[0, :, 0, 0], centres[0], atol=1e-3)
    mid = color.annealed_mean(logits, centres, 0.38)[0, :, 0, 0]
    assert 0 < mid.norm() < mean.norm()  # sharper than the mean, towards the mode (here gray)


def test_entropy_of_uniform_and_peaked():
    uniform = torch.zeros(1, 8, 1, 1)
    peaked = torch.tensor([100.0] + [0.0] * 7).view(1, 8, 1, 1)
    assert abs(float(color.entropy(uniform)) - np.log(8)) < 1e-5
    assert float(color.entropy(peaked)) < 1e-3


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("temperature", [0.0, 0.38, 1.0, 2.0])
def test_decode_bins_is_the_annealed_mean_and_the_entropy(layout, temperature):
    torch.manual_seed(0)
    logits = (torch.randn(2, 229, 5, 7) * 4).contiguous(memory_format=layout)
    centres = torch.randn(229, 2) * 40
    ab, ent = color.decode_bins(logits, centres, temperature)
    assert torch.allclose(ab, color.annealed_mean(logits, centres, temperature), atol=1e-3)
    assert torch.allclose(ent, color.entropy(logits), atol=1e-4)
