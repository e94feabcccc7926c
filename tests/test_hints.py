"""Colour hints (issue 20): parsing, the hint map, the simulated training hints, the
hint-taking flagship, the pipeline, the CLI and evaluate-hints."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from colorcore.color import AB_SCALE, rgb_to_lab
from colorcore.hints import (HINT_CHANNELS, MAX_HINTS, NET_PATCH_HALF, Hint, hex_to_ab, hint_map, hint_maps,
                             parse_hints, sample_hints, simulate_hints)
from colorcore.hub import WeightsCorrupt, apply_state, export_weights
from colorcore.models import HintsNotSupported, get_spec
from colorcore.pipeline import load_colorizer
from conftest import gradient_photo
from hinting import follow_hints
from test_cli import cli


def hue(ab) -> float:
    return math.degrees(math.atan2(float(ab[1]), float(ab[0])))


def hue_gap(h1: float, h2: float) -> float:
    return abs((h1 - h2 + 180) % 360 - 180)


# ---------------------------------------------------------------- parsing and maps

def test_hex_colours_give_their_chroma():
    assert hex_to_ab("#808080") == pytest.approx((0.0, 0.0), abs=1e-3)  # grays are exactly neutral
    a, b = hex_to_ab("#FF0000")
    assert a > 60 and b > 40
    lab = rgb_to_lab(torch.tensor([0.2, 0.4, 1.0]).view(1, 3, 1, 1)).view(3)
    assert hex_to_ab("3366ff") == pytest.approx((float(lab[1]), float(lab[2])), abs=0.3)


@pytest.mark.parametrize("bad, words", [
    ([(100, 5, "#ff0000")], ["hint 0", "outside the 100x50"]),
    ([(3, 3, "#ff0000"), (-1, 5, "#ff0000")], ["hint 1", "outside"]),
    ([(3, 50, "#ff0000")], ["hint 0", "outside"]),
    ([(3, 3, "#ff00")], ["hint 0", "'#ff00'", "#rrggbb"]),
    ([(3, 3, "blue")], ["hint 0", "#rrggbb"]),
    ([(3, 3, 255)], ["hint 0", "#rrggbb"]),
    ([(3, 3)], ["hint 0", "expected [x, y"]),
    (["#ff0000"], ["hint 0", "expected [x, y"]),
    ([(float("nan"), 3, "#ff0000")], ["hint 0", "numbers"]),
    ([(True, 3, "#ff0000")], ["hint 0", "numbers"]),
    ("3,3,#ff0000", ["list"]),
    (7, ["list"]),
    ([(1, 1, "#ff0000")] * (MAX_HINTS + 1), [f"at most {MAX_HINTS}"]),
])
def test_bad_hints_are_refused_naming_the_hint(bad, words):
    with pytest.raises(ValueError) as e:
        parse_hints(bad, 100, 50)
    for w in words:
        assert w in str(e.value)


def test_good_hints_parse_in_the_public_form():
    hints = parse_hints([(0, 0, "#ff0000"), [99.5, 49, "#00FF00"], Hint(5, 6, 10.0, -20.0)], 100, 50)
    assert [(h.x, h.y) for h in hints] == [(0, 0), (99.5, 49), (5, 6)]
    assert (hints[2].a, hints[2].b) == (10.0, -20.0)
    assert parse_hints(None, 10, 10) == [] and parse_hints([], 10, 10) == []


def test_hint_map_puts_each_hint_where_the_net_sees_that_pixel():
    size = 64
    corners = [Hint(0, 0, 22.0, -11.0), Hint(199, 99, -33.0, 44.0), Hint(100, 50, 5.5, 5.5)]
    m = hint_map(corners, 200, 100, size)
    assert m.shape == (HINT_CHANNELS, size, size)
    k = 2 * NET_PATCH_HALF + 1
    assert m[2].sum() == 2 * (NET_PATCH_HALF + 1) ** 2 + k * k  # two corner patches are cut by the border
    assert m[2, 0, 0] == 1 and m[0, 0, 0] == pytest.approx(22 / AB_SCALE) and m[1, 0, 0] == pytest.approx(-11 / AB_SCALE)
    assert m[2, -1, -1] == 1 and m[0, -1, -1] == pytest.approx(-33 / AB_SCALE)
    centre = round(100.5 * size / 200 - 0.5), round(50.5 * size / 100 - 0.5)
    assert m[2, centre[1], centre[0]] == 1 and m[0, centre[1], centre[0]] == pytest.approx(5.5 / AB_SCALE)
    assert torch.all(m[:2][:, m[2] == 0] == 0)  # chroma only under the mask
    assert hint_maps(None, 200, 100, size, 2) is None and hint_maps([[], []], 200, 100, size, 2) is None
    with pytest.raises(ValueError, match="2 hint lists for a batch of 3"):
        hint_maps([[corners[0]], []], 200, 100, size, 3)


def test_sampled_hints_reveal_the_truth_and_are_fixed_by_their_seed():
    ab = torch.stack([torch.arange(40.0).repeat(30, 1), -torch.arange(30.0)[:, None].repeat(1, 40)])  # (2, 30, 40)
    hints = sample_hints(ab, 50, seed=3)
    assert hints == sample_hints(ab, 50, seed=3) and hints != sample_hints(ab, 50, seed=4)
    for h in hints:  # the mean of a square patch of a linear ramp is the ramp at its centre, away from borders
        if 2 <= h.x < 38 and 2 <= h.y < 28:
            assert (h.a, h.b) == pytest.approx((h.x, -h.y), abs=1e-4)
    assert all(0 <= h.x < 40 and 0 <= h.y < 30 for h in hints)


def test_simulated_training_hints_follow_their_settings():
    g = torch.Generator().manual_seed(0)
    ab = torch.zeros(400, 2, 32, 32)
    ab[:, 0], ab[:, 1] = 30.0, -20.0
    maps = simulate_hints(ab, hint_free=0.5, mean_points=8, generator=g)
    hinted = maps[:, 2].flatten(1).amax(1) > 0
    assert 0.4 < hinted.float().mean() < 0.6
    assert torch.allclose(maps[:, 0][maps[:, 2] > 0], torch.tensor(30 / AB_SCALE))
    assert torch.allclose(maps[:, 1][maps[:, 2] > 0], torch.tensor(-20 / AB_SCALE))
    assert torch.all(maps[:, :2][maps[:, 2:].expand(-1, 2, -1, -1) == 0] == 0)
    assert simulate_hints(ab[:8], hint_free=1.0).abs().sum() == 0
    always = simulate_hints(ab[:50], hint_free=0.0, mean_points=8, generator=g)
    assert bool((always[:, 2].flatten(1).amax(1) > 0).all())


# ---------------------------------------------------------------- the model

@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    plain = get_spec("lite0-unet").build(pretrained=False, hints=False).eval()
    hinted = get_spec("lite0-unet").build(pretrained=False, hints=True).eval()
    apply_state(hinted, plain.state_dict(), "plain", may_lack=hinted.zero_started)
    return plain, hinted


def test_a_hint_net_without_hints_is_the_automatic_net(nets):
    plain, hinted = nets
    l = torch.rand(2, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        auto = plain(l)
        assert torch.equal(hinted(l), auto)
        assert torch.equal(hinted(l, torch.zeros(2, HINT_CHANNELS, 64, 64)), auto)
    assert not plain.accepts_hints and hinted.accepts_hints and hinted.zero_started == ("hint.",)


def test_weights_without_the_hint_layers_load_only_where_allowed(nets):
    plain, _ = nets
    fresh = get_spec("lite0-unet").build(pretrained=False, hints=True)
    with pytest.raises(WeightsCorrupt, match="missing.*hint"):
        apply_state(fresh, plain.state_dict(), "plain")


def test_training_with_simulated_hints_trains_the_hint_reader():
    from colorcore.losses import build_objective

    torch.manual_seed(0)
    net = get_spec("lite0-unet").build(pretrained=False, hints=True).train()
    objective = build_objective("bins_ce", net, rebalance_lambda=0.9, hint_points=8, hint_free=0.0)
    L = torch.rand(2, 1, 64, 64) * 100
    ab = torch.full((2, 2, 64, 64), 25.0)
    objective(net, L, ab)["total"].backward()
    assert net.hint.logits.weight.grad.abs().sum() > 0
    assert all(conv.weight.grad.abs().sum() > 0 for conv in net.hint.levels)
    plain = get_spec("eccv16").build()
    with pytest.raises(ValueError, match="hint_points.*takes no hints"):
        build_objective("bins_ce", plain, hint_points=8)


def test_a_frozen_encoder_gets_no_gradients_and_keeps_its_statistics():
    net = get_spec("lite0-unet").build(pretrained=False, hints=True)
    from colorcore.models.lite0_unet import HINT_LR_SCALE

    groups = net.param_groups(1e-3, encoder_lr_scale=0.0)
    assert [g["lr"] for g in groups] == [1e-3, 1e-3 * HINT_LR_SCALE]  # the decoder, the hint reader
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in net.hint.parameters()}
    encoder = {id(p) for p in net.encoder.parameters()}
    assert not encoder & {id(p) for g in groups for p in g["params"]}
    net.train()
    assert not net.encoder.training and net.up4.training
    before = net.encoder._bn0.running_mean.clone()
    net(torch.rand(2, 1, 64, 64))
    assert torch.equal(net.encoder._bn0.running_mean, before)
    assert not any(p.requires_grad for p in net.encoder.parameters())


def test_a_hint_reader_trained_alone_leaves_the_automatic_net_as_it_was():
    """decoder_lr_scale 0 as well: only the reader learns, every BatchNorm keeps its statistics,
    so with no hints the net is the automatic one however long it trains."""
    net = get_spec("lite0-unet").build(pretrained=False, hints=True)
    groups = net.param_groups(1e-3, encoder_lr_scale=0.0, decoder_lr_scale=0.0)
    assert len(groups) == 1 and {id(p) for p in groups[0]["params"]} == {id(p) for p in net.hint.parameters()}
    assert [n for n, p in net.named_parameters() if p.requires_grad] == [n for n, _ in net.named_parameters()
                                                                       if n.startswith("hint.")]
    net.train()
    assert not net.up4.training and not net.encoder.training
    before = net.up4.refine[1].running_mean.clone()
    net(torch.rand(2, 1, 64, 64))
    assert torch.equal(net.up4.refine[1].running_mean, before)
    assert net.param_groups(1e-3, encoder_lr_scale=0.1)[0]["lr"] == 1e-3  # the default: decoder first
    net.train()
    assert net.up4.training and net.encoder.training


# ---------------------------------------------------------------- the pipeline

@pytest.fixture(scope="module")
def follower():
    torch.manual_seed(0)
    colorizer = load_colorizer("lite0-unet", random_init=True, freeze=False)
    follow_hints(colorizer.model)
    return colorizer


def test_colorize_follows_a_hint_and_keeps_the_rest(follower):
    photo = gradient_photo(160, 120).convert("L")
    auto = np.asarray(follower.colorize(photo))
    assert np.array_equal(np.asarray(follower.colorize(photo, hints=[])), auto)
    target = hex_to_ab("#2050ff")
    out = np.asarray(follower.colorize(photo, hints=[(40, 30, "#2050ff")]))
    lab = rgb_to_lab(torch.from_numpy(out).permute(2, 0, 1)[None].float() / 255)[0]
    assert hue_gap(hue(lab[1:, 30, 40]), hue(target)) < 15
    same_l = rgb_to_lab(torch.from_numpy(auto).permute(2, 0, 1)[None].float() / 255)[0, 0]
    assert (lab[0] - same_l).abs().max() < 1.0  # the photo keeps its own lightness
    assert np.array_equal(out[90:, 110:], auto[90:, 110:])  # far from the hint: unchanged (the reader is local)


def test_frozen_and_onnx_runs_take_hints_too(follower):
    photo = gradient_photo(96, 64)
    hints = [(10, 10, "#ff2020"), (80, 50, "#20ff20")]
    eager = np.asarray(follower.colorize(photo, hints=hints)).astype(int)
    frozen = load_colorizer("lite0-unet", random_init=True, freeze=False)
    frozen.model.load_state_dict(follower.model.state_dict())
    frozen.model.freeze(frozen.spec.net_size)
    assert np.abs(np.asarray(frozen.colorize(photo, hints=hints)).astype(int) - eager).max() <= 1
    from colorcore.onnx_runtime import graph_for

    frozen.graph = graph_for(frozen, "onnx")
    assert np.abs(np.asarray(frozen.colorize(photo, hints=hints)).astype(int) - eager).max() <= 2


def test_whether_a_model_takes_hints_is_its_weights_say(follower_weights, tmp_path):
    from colorcore.pipeline import takes_hints

    spec = get_spec("lite0-unet")
    assert takes_hints(spec, follower_weights / "lite0-unet")
    plain = tmp_path / "lite0-unet"
    export_weights(get_spec("lite0-unet").build(pretrained=False, hints=False), plain,
                   {"name": "lite0-unet", "model_options": {"hints": False}})
    assert not takes_hints(spec, plain)
    assert not load_colorizer("lite0-unet", weights=str(plain)).accepts_hints


def test_a_model_without_hints_says_so():
    plain = load_colorizer("eccv16", random_init=True)
    assert not plain.accepts_hints
    with pytest.raises(HintsNotSupported, match="'eccv16' does not take colour hints"):
        plain.colorize(gradient_photo(), hints=[(1, 1, "#ff0000")])
    plain.colorize(gradient_photo(), hints=[])  # no hints: the automatic colorization


# ---------------------------------------------------------------- CLI and evaluate-hints

@pytest.fixture(scope="module")
def follower_weights(tmp_path_factory, follower):
    folder = tmp_path_factory.mktemp("follower-weights")
    export_weights(follower.model, folder / "lite0-unet", {"name": "lite0-unet", "architecture": "lite0-unet"},
                   half=False)
    return folder


def test_cli_colorizes_one_photo_with_hints(follower_weights, tmp_path):
    gradient_photo(120, 90).convert("L").save(tmp_path / "p.png")
    (tmp_path / "h.json").write_text(json.dumps([[30, 20, "#2050ff"], [100, 70, "#ff3010"]]))
    done = cli("colorize", tmp_path / "p.png", "--hints", tmp_path / "h.json", "--out", tmp_path / "o",
               weights=follower_weights)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "o" / "p.png") as im:
        assert im.size == (120, 90)
        assert json.loads(im.text["Settings"])["hints"] == 2
        px = np.asarray(im.convert("RGB"))[20, 30]
    assert px[2] > px[0]  # blue where the blue hint is


def test_cli_refuses_bad_hints_clearly(follower_weights, tmp_path):
    gradient_photo(50, 40).save(tmp_path / "p.png")
    gradient_photo(50, 40).save(tmp_path / "q.png")
    (tmp_path / "bad.json").write_text("[[1, 2, '#ff0000']")
    (tmp_path / "far.json").write_text('[[1, 2, "#ff0000"], [50, 3, "#00ff00"]]')
    (tmp_path / "ok.json").write_text('[[1, 2, "#ff0000"]]')
    cases = [
        (["p.png", "--hints", "bad.json"], 2, "not JSON"),
        (["p.png", "--hints", "missing.json"], 2, "missing.json"),
        (["p.png", "--hints", "far.json"], 1, "hint 1"),
        (["p.png", "q.png", "--hints", "ok.json"], 2, "one photo"),
    ]
    for args, code, words in cases:
        done = cli("colorize", *[tmp_path / a if a.endswith((".png", ".json")) else a for a in args],
                   "--out", tmp_path / "o", weights=follower_weights)
        assert done.returncode == code, (args, done.stderr)
        assert words in done.stderr, (args, done.stderr)
    assert not (tmp_path / "o" / "p.png").exists()  # no partial output for a refused hint


def test_cli_model_without_hints(tmp_path):
    from servers import write_random_weights

    weights = write_random_weights(tmp_path / "w", names=("eccv16",))
    gradient_photo(50, 40).save(tmp_path / "p.png")
    (tmp_path / "ok.json").write_text('[[1, 2, "#ff0000"]]')
    done = cli("colorize", tmp_path / "p.png", "--model", "eccv16", "--hints", tmp_path / "ok.json",
               "--out", tmp_path / "o", weights=weights)
    assert done.returncode == 2 and "'eccv16' does not take colour hints" in done.stderr


def test_evaluate_hints_writes_the_curve_and_the_edge_check(follower_weights, tmp_path):
    data = tmp_path / "photos"
    data.mkdir()
    for i in range(5):
        gradient_photo(300, 260, seed=i).save(data / f"p{i}.png")
    done = cli("evaluate-hints", "--data", data, "--out", tmp_path / "r", "--counts", "1,5,20", "--threads", "1",
               weights=follower_weights)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "r" / "curve.csv") as f:
        curve = {int(r["hints"]): r for r in csv.DictReader(f)}
    assert sorted(curve) == [0, 1, 5, 20] and all(r["images"] == "5" for r in curve.values())
    assert float(curve[0]["psnr_gain"]) == 0
    assert float(curve[20]["psnr"]) > float(curve[0]["psnr"])  # true colours at 20 spots help a random net
    with open(tmp_path / "r" / "per_image.csv") as f:
        assert len(list(csv.DictReader(f))) == 5 * 4
    with open(tmp_path / "r" / "edges.csv") as f:
        edges = list(csv.DictReader(f))
    assert len(edges) == 4 and all(float(e["hinted_change"]) > 0 for e in edges)
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["images"] == 5 and meta["counts"] == [0, 1, 5, 20]
    again = cli("evaluate-hints", "--data", data, "--out", tmp_path / "r2", "--counts", "1,5,20", "--threads", "1",
                weights=follower_weights)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "r2" / "curve.csv").read_text() == (tmp_path / "r" / "curve.csv").read_text()  # fixed seeds
    refused = cli("evaluate-hints", "--data", data, "--out", tmp_path / "r3", "--counts", "1,x",
                  weights=follower_weights)
    assert refused.returncode == 2 and "--counts" in refused.stderr


# ---------------------------------------------------------------- the shipped flagship

def test_the_shipped_flagship_keeps_a_hint_mostly_inside_its_region():
    """On the shipped weights: a hint in one of two flat regions split by an edge colours its
    region and moves the other one's chroma far less. Issue 20's target is under 10% of the
    hinted change; the shipped reader leaks up to 20% across vertical edges (results/hints/
    edges.csv), so this guards against it getting worse, not the target."""
    from colorcore.hint_eval import edge_leak

    colorizer = load_colorizer("default")
    assert colorizer.accepts_hints
    for row in edge_leak(colorizer):
        assert row["hinted_change"] > 20, row  # in ab units: the hint shows
        assert row["leak"] < 0.25, row


def test_the_card_says_how_the_hints_were_learnt_and_how_well_they_are_followed(tmp_path):
    from colorcore.card import hints_section

    cfg = {"loss": {"hint_free": 0.5, "hint_points": 8}, "frozen": ["encoder", "decoder"]}
    assert "Not evaluated with hints yet" in hints_section("lite0-unet", cfg, tmp_path)
    (tmp_path / "curve.csv").write_text("model,hints,images,psnr,psnr_gain,auc,colorfulness\n"
                                        "lite0-unet,0,9,23.5,0,0.91,28.4\nlite0-unet,10,9,25.75,2.25,0.93,27.5\n"
                                        "other,10,9,1,1,1,1\n")
    (tmp_path / "edges.csv").write_text("model,case,hinted_change,other_change,leak\n"
                                        "lite0-unet,a,50,4,0.08\nlite0-unet,b,40,6,0.15\n")
    (tmp_path / "meta.json").write_text(json.dumps({"images": 9, "data": "val-broad.tar"}))
    text = hints_section("lite0-unet", cfg, tmp_path)
    assert "50% of the photos got none" in text and "exactly the automatic one" in text
    assert "| 10 | 25.75 | 2.250 |" in text and "| 1 |" not in text  # its own rows only
    assert "at most 15.0% of the hinted region's change" in text
    assert "the encoder stayed frozen" in hints_section("lite0-unet", {**cfg, "frozen": ["encoder"]}, tmp_path)
