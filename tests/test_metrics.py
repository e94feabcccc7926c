"""Known-answer tests for colorcore.metrics: every metric on cases solved by hand."""
import math

import numpy as np
import pytest
import torch

from colorcore import metrics as M


def smooth_image(b=2, h=48, w=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, 3, h // 8, w // 8, generator=g)
    return torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)


# ---------------------------------------------------------------- PSNR

def test_psnr_identical_is_inf():
    x = smooth_image()
    assert torch.isinf(M.psnr(x, x)).all()


def test_psnr_known_constant_offset():
    x = torch.full((2, 3, 16, 16), 0.5)
    y = x + 0.1  # MSE = 0.01 on the [0, 1] scale -> 10 log10(1 / 0.01) = 20 dB
    assert torch.allclose(M.psnr(y, x), torch.tensor([20.0, 20.0]), atol=1e-3)
    y = x - 10 / 255  # an 8-bit offset of 10 levels -> 20 log10(255 / 10)
    assert torch.allclose(M.psnr(y, x), torch.full((2,), 20 * math.log10(25.5)), atol=1e-3)


# ---------------------------------------------------------------- SSIM

def test_ssim_identical_is_one():
    x = smooth_image()
    assert torch.allclose(M.ssim(x, x), torch.ones(2), atol=1e-6)


def test_ssim_matches_skimage():
    from skimage.metrics import structural_similarity
    x = smooth_image(b=1, h=64, w=56, seed=1)
    g = torch.Generator().manual_seed(2)
    y = (x + 0.08 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    ours = M.ssim(y, x).item()
    ref = structural_similarity(y[0].permute(1, 2, 0).numpy(), x[0].permute(1, 2, 0).numpy(),
                                channel_axis=-1, data_range=1.0, gaussian_weights=True,
                                sigma=1.5, use_sample_covariance=False)
    assert 0.1 < ref < 0.99
    assert ours == pytest.approx(ref, abs=1e-5)


def test_ssim_is_lower_for_a_worse_image():
    x = smooth_image()
    g = torch.Generator().manual_seed(3)
    small = (x + 0.02 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    large = (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    assert (M.ssim(large, x) < M.ssim(small, x)).all()


# ---------------------------------------------------------------- AuC

def test_auc_identical_is_one():
    ab = torch.randn(2, 2, 8, 8) * 30
    curve = M.ab_accuracy_curve(ab, ab)
    assert torch.allclose(curve, torch.ones_like(curve))
    assert torch.allclose(M.auc(curve), torch.ones(2))


@pytest.mark.parametrize("shift", [(18.0, 24.0), (7.5, 10.0), (0.0, -90.0)])
def test_auc_uniform_shift(shift):
    d = math.hypot(*shift)  # 30, 12.5, 90
    ab = torch.randn(2, 2, 8, 8) * 20
    moved = ab + torch.tensor(shift).view(1, 2, 1, 1)
    curve = M.ab_accuracy_curve(moved, ab)[0]
    t = M.AUC_THRESHOLDS
    below, after = t < d - 1e-3, t >= d + 1e-3
    assert torch.all(curve[below] == 0) and torch.allclose(curve[after], torch.ones(int(after.sum())))
    # A step at d: the area is (150 - d) / 150 up to the trapezoid's half-unit ramp.
    assert M.auc(curve[None]).item() == pytest.approx((150 - d) / 150, abs=0.5 / 150 + 1e-6)


def test_auc_error_beyond_150_is_zero():
    ab = torch.zeros(1, 2, 4, 4)
    assert M.auc(M.ab_accuracy_curve(ab + 200, ab)).item() == 0


def test_rebalanced_auc_with_uniform_weights_equals_raw():
    g = torch.Generator().manual_seed(0)
    ab = torch.randn(2, 2, 8, 8, generator=g) * 30
    pred = ab + torch.randn(2, 2, 8, 8, generator=g) * 20
    raw = M.auc(M.ab_accuracy_curve(pred, ab))
    rebal = M.auc(M.ab_accuracy_curve(pred, ab, torch.full((2, 8, 8), 3.7)))
    assert torch.allclose(raw, rebal, atol=1e-6)


def test_rebalanced_weights_are_inverse_prior_of_the_true_bin():
    centres = torch.tensor([[0.0, 0.0], [50.0, 50.0]])
    prior = torch.tensor([0.8, 0.2])
    ab = torch.zeros(1, 2, 2, 2)
    ab[0, :, 0, 0] = torch.tensor([48.0, 53.0])  # nearest to the rare bin
    w = M.rebalanced_pixel_weights(ab, centres, prior)
    assert torch.allclose(w[0], torch.tensor([[5.0, 1.25], [1.25, 1.25]]))
    # The rare pixel is exact and the three common ones are off by 200: raw accuracy
    # is 1/4 everywhere, rebalanced accuracy is 5 / (5 + 3 * 1.25) = 4/7.
    pred = ab.clone()
    pred[0, 0, 0, 1:] += 200
    pred[0, 0, 1, :] += 200
    assert M.auc(M.ab_accuracy_curve(pred, ab)).item() == pytest.approx(0.25)
    assert M.auc(M.ab_accuracy_curve(pred, ab, w)).item() == pytest.approx(4 / 7, abs=1e-6)


def test_rebalanced_weights_default_gamut():
    from colorcore.color import default_gamut
    g = default_gamut()
    i = int(g.prior.argmax())
    ab = g.centres[i].view(1, 2, 1, 1).expand(1, 2, 3, 3)
    w = M.rebalanced_pixel_weights(ab)
    assert torch.allclose(w, torch.full((1, 3, 3), 1 / g.prior[i].item()), rtol=1e-5)


# ---------------------------------------------------------------- colorfulness

def test_colorfulness_of_gray_is_zero():
    L = torch.rand(2, 1, 16, 16)
    assert torch.allclose(M.colorfulness(L.expand(-1, 3, -1, -1)), torch.zeros(2), atol=1e-4)


def test_colorfulness_known_uniform_red():
    red = torch.zeros(1, 3, 8, 8)
    red[:, 0] = 1  # rg = 255, yb = 127.5, no spread: M = 0.3 * sqrt(255^2 + 127.5^2)
    assert M.colorfulness(red).item() == pytest.approx(0.3 * math.hypot(255, 127.5), rel=1e-5)


def test_colorfulness_known_two_colours():
    x = torch.zeros(1, 3, 2, 2)
    x[0, 0, 0, :] = 1  # top row red (rg 255, yb 127.5), bottom row black (0, 0)
    # std: sqrt(127.5^2 + 63.75^2); mean: sqrt(127.5^2 + 63.75^2)
    s = math.hypot(127.5, 63.75)
    assert M.colorfulness(x).item() == pytest.approx(s + 0.3 * s, rel=1e-5)


# ---------------------------------------------------------------- semantic agreement

def test_top1_agreement():
    a = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
    b = torch.tensor([[0.0, 2.0, 1.0], [0.0, 0.0, 3.0]])
    assert M.top1_agreement(a, b).tolist() == [1.0, 0.0]
    assert M.top1_agreement(b, b).tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- Frechet distance

def test_frechet_identical_sets_is_zero():
    f = np.random.default_rng(0).normal(size=(500, 16))
    assert M.frechet_distance(f, f) == pytest.approx(0, abs=1e-8)


def test_frechet_shifted_gaussians_is_squared_shift():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(2000, 8)) @ rng.normal(size=(8, 8))  # correlated features
    shift = np.array([3.0, -4.0, 0, 0, 0, 0, 0, 12.0])  # |shift|^2 = 169
    assert M.frechet_distance(f + shift, f) == pytest.approx(169, abs=1e-6)


def test_frechet_known_covariances():
    # Diagonal Gaussians: d = |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2.
    mu1, mu2 = np.zeros(3), np.array([1.0, 0, 0])
    a, b = np.array([4.0, 1.0, 9.0]), np.array([1.0, 1.0, 1.0])
    d = M.frechet_distance_from_stats(mu1, np.diag(a), mu2, np.diag(b))
    assert d == pytest.approx(1 + 1 + 0 + 4)


def test_frechet_rank_deficient_covariance():
    # Fewer samples than dimensions (as with 1280-d features of a few hundred images).
    f = np.random.default_rng(2).normal(size=(20, 64))
    assert M.frechet_distance(f, f) == pytest.approx(0, abs=1e-6)
    assert M.frechet_distance(f + 0.5, f) == pytest.approx(64 * 0.25, abs=1e-6)


# ---------------------------------------------------------------- ab histogram

def test_ab_histogram_bins():
    ab = torch.tensor([[0.0, 0.0], [0.4, -0.4], [10.0, -20.0], [300.0, -300.0]]).T.reshape(1, 2, 4, 1)
    h = M.ab_histogram(ab)
    assert h.shape == (221, 221) and h.sum() == 4
    c = 110  # index of the bin centred on 0
    assert h[c, c] == 2 and h[c + 10, c - 20] == 1 and h[220, 0] == 1
