"""The 8-bit CPU decoder (colorcore.quantize): calibrated once, stored in config.json,
used by load_colorizer, and close to the float network it replaces."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from colorcore import quantize
from colorcore.color import rgb_to_lab
from colorcore.hub import CONFIG_FILE, WeightsCorrupt
from colorcore.pipeline import load_colorizer
from conftest import gradient_photo


def _ab(image: Image.Image) -> torch.Tensor:
    rgb = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)[None]
    return rgb_to_lab(rgb)[:, 1:]


def _runs_quantized_kernels(colorizer) -> bool:
    return "quantized::" in str(colorizer.model.__dict__["_frozen"].graph)


def test_shipped_int8_decoder_stays_close_to_the_float_network():
    from skimage import data

    gray = Image.fromarray(data.astronaut()).convert("L").resize((256, 256))
    q = load_colorizer("lite0-unet")
    f = load_colorizer("lite0-unet", int8=False)
    assert q.precision == "int8 decoder" and _runs_quantized_kernels(q)
    assert f.precision == "float" and not _runs_quantized_kernels(f)
    ab_q, ab_f = _ab(q.colorize(gray)), _ab(f.colorize(gray))
    assert ab_f.abs().mean() > 5  # real colour, so that the comparison means something
    assert (ab_q - ab_f).abs().mean() < 1.0


@pytest.fixture(scope="module")
def calibrated_weights(random_weights, tmp_path_factory):
    """A copy of the random flagship weights, calibrated once by the command on
    generated photos."""
    from colorcore import hub

    root = tmp_path_factory.mktemp("calibrated")
    shutil.copytree(random_weights / "lite0-unet", root / "lite0-unet")
    photos = tmp_path_factory.mktemp("photos")
    for i in range(6):
        gradient_photo(120, 90, seed=i).save(photos / f"p{i}.jpg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLORCORE_WEIGHTS", str(root))
        mp.setattr(hub, "REPO_WEIGHTS", root / "nothing-here")
        report = quantize.main("lite0-unet", str(photos), limit=4, batch=2, write=True, check=2)
    assert report["images"] == 4 and report["check"]["images"] == 2
    return root


@pytest.fixture
def calibrated(calibrated_weights, use_weights, tmp_path, monkeypatch):
    """A writable copy of the calibrated weights in use; returns its config.json path."""
    shutil.copytree(calibrated_weights, tmp_path / "weights")
    monkeypatch.setenv("COLORCORE_WEIGHTS", str(tmp_path / "weights"))
    return tmp_path / "weights" / "lite0-unet" / CONFIG_FILE


def test_quantize_command_writes_a_calibration_that_loading_uses(calibrated):
    ranges = json.loads(calibrated.read_text())["int8"]["ranges"]
    assert len(ranges) > 10 and all(lo <= hi for lo, hi in ranges.values())
    q = load_colorizer("lite0-unet")
    assert q.precision == "int8 decoder" and _runs_quantized_kernels(q)
    out = q.colorize(gradient_photo(70, 50).convert("L"))
    assert out.size == (70, 50)
    assert load_colorizer("lite0-unet", int8=False).precision == "float"


def _first(q: dict) -> str:
    return sorted(q["ranges"])[0]


@pytest.mark.parametrize("damage, message", [
    (lambda q: q["ranges"].pop(_first(q)), "names .* activations"),
    (lambda q: q["ranges"].__setitem__(_first(q), [float("nan"), 1.0]), "not a valid range"),
    (lambda q: q["ranges"].__setitem__(_first(q), [2.0, 1.0]), "not a valid range"),
    (lambda q: q.pop("ranges"), "no activation ranges"),
    (lambda q: q.__setitem__("weights_sha256", "0" * 64), "made for other weights"),  # stale after re-export
])
def test_a_broken_calibration_is_a_clear_error(calibrated, damage, message):
    cfg = json.loads(calibrated.read_text())
    damage(cfg["int8"])
    calibrated.write_text(json.dumps(cfg))
    with pytest.raises(WeightsCorrupt, match=f"lite0-unet: .*{message}"):
        load_colorizer("lite0-unet")


def test_models_without_an_8bit_decoder_say_so():
    from colorcore.models import get_spec

    model = get_spec("classification").build().eval()
    assert model.int8_split() is None
    with pytest.raises(ValueError, match="no 8-bit decoder"):
        quantize.calibrate(model, [torch.zeros(1, 1, 64, 64)], 64)


def test_the_split_is_the_same_function_as_forward():
    from colorcore.models import get_spec

    torch.manual_seed(0)
    model = get_spec("lite0-unet").build(pretrained=False).eval()
    for m in model.modules():  # BatchNorm statistics away from 0/1, so that folding them is tested
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    front, back = model.int8_split()
    l = torch.rand(2, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(back(*front(l)), model(l), rtol=1e-4, atol=1e-4)


def test_evaluate_records_the_precision_and_float_turns_it_off(calibrated, tmp_path):
    from colorcore.evaluate import evaluate

    photos = tmp_path / "val"
    photos.mkdir()
    gradient_photo(80, 80).save(photos / "a.jpg")
    for int8, precision in ((True, "int8 decoder"), (False, "float")):
        out = tmp_path / precision.replace(" ", "-")
        evaluate(str(photos), "lite0-unet", out, progress=False, int8=int8)
        assert json.loads((out / "meta.json").read_text())["models"]["lite0-unet"]["precision"] == precision
