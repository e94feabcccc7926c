"""The ONNX Runtime path: the exported graphs compute what the PyTorch nets compute, the
cache is keyed on what a graph is made of, a damaged cached graph is rebuilt, and a
missing onnxruntime or an unexportable model is named in one clear line."""
import os
import subprocess
import sys

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

import colorcore
from colorcore import onnx_export, onnx_runtime
from colorcore.render import lightness
from test_cli import ROOT, cli

REAL_PHOTOS = {"astronaut": skimage.data.astronaut, "coffee": skimage.data.coffee, "chelsea": skimage.data.chelsea}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Each test its own ONNX cache: what one builds, no other test's `auto` finds."""
    monkeypatch.setenv(onnx_export.CACHE_ENV, str(tmp_path / "onnx-cache"))
    return tmp_path / "onnx-cache"


def random_colorizer(name: str, runtime: str, seed: int = 0):
    torch.manual_seed(seed)
    return colorcore.load_colorizer(name, device="cpu", random_init=True, runtime=runtime)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lite0-unet", "unet-bins10", "vae"])  # bins, bins10, ab with a seeded latent
def test_onnx_gives_the_pytorch_colours_on_real_photos(name):
    torch_net, onnx_net = random_colorizer(name, "torch"), random_colorizer(name, "onnx")
    assert (torch_net.runtime, onnx_net.runtime) == ("torch", "onnx")
    for photo in REAL_PHOTOS.values():
        L = lightness(photo())
        for seed in (None, 3):
            expected, got = torch_net.predict(L, seed=seed), onnx_net.predict(L, seed=seed)
            assert (got["ab"] - expected["ab"]).abs().max() < 0.5
            assert set(got) == set(expected)  # entropy and the fade's scale too, where the model has them
    if onnx_net.model.stochastic:  # the seed reaches the exported graph
        L = lightness(REAL_PHOTOS["coffee"]())
        assert (onnx_net.predict(L, seed=1)["ab"] - onnx_net.predict(L, seed=2)["ab"]).abs().max() > 0.5


def test_the_graph_key_follows_the_weights_the_net_size_and_nothing_else():
    a, a_again, b = (random_colorizer("regression-l2", "torch", seed) for seed in (0, 0, 1))
    assert onnx_export.graph_key(a) == onnx_export.graph_key(a_again)
    assert onnx_export.graph_key(a) != onnx_export.graph_key(b)
    torch.manual_seed(0)
    smaller = colorcore.load_colorizer("regression-l2", device="cpu", random_init=True, net_size=96, runtime="torch")
    assert onnx_export.graph_key(smaller) != onnx_export.graph_key(a)
    assert onnx_export.cached_path(a).parent == onnx_export.cache_dir()
    assert onnx_export.cached_path(a).name.startswith("regression-l2-128-")


@pytest.mark.slow
def test_new_weights_build_a_new_graph_and_the_same_weights_reuse_theirs(cache):
    first = random_colorizer("regression-l2", "onnx", seed=10)
    built = first.graph.path
    assert built.is_file() and built.parent == cache
    stamp = built.stat().st_mtime_ns
    assert random_colorizer("regression-l2", "auto", seed=10).graph.path == built  # auto: cached, so onnx
    assert built.stat().st_mtime_ns == stamp  # reused, not rebuilt
    other = random_colorizer("regression-l2", "onnx", seed=11)
    assert other.graph.path != built and other.graph.path.is_file()
    assert random_colorizer("regression-l2", "auto", seed=12).runtime == "torch"  # nothing cached for these


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["garbage", "truncated", "other weights"])
def test_a_damaged_cached_graph_is_rebuilt(damage, capsys):
    good = random_colorizer("vae", "onnx", seed=20)
    path, L = good.graph.path, lightness(REAL_PHOTOS["chelsea"]())
    expected, intact, other = good.predict(L, seed=4)["ab"], path.read_bytes(), None
    for runtime in ("onnx", "auto"):
        if damage == "garbage":
            path.write_bytes(b"not an onnx graph")
        elif damage == "truncated":
            path.write_bytes(intact[: len(intact) // 2])
        else:  # a graph of other weights under this one's name
            other = other or random_colorizer("vae", "onnx", seed=21).graph.path.read_bytes()
            path.write_bytes(other)
        again = random_colorizer("vae", runtime, seed=20)
        assert again.runtime == "onnx"
        assert torch.equal(again.predict(L, seed=4)["ab"], expected)
        assert "rebuilding the cached ONNX graph of vae" in capsys.readouterr().err


def test_without_onnxruntime_onnx_says_so_and_auto_stays_on_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    with pytest.raises(onnx_runtime.RuntimeUnavailable, match="onnxruntime"):
        random_colorizer("regression-l2", "onnx")
    assert random_colorizer("regression-l2", "auto").runtime == "torch"
    with pytest.raises(ValueError, match="runtime 'tensorrt'"):
        colorcore.load_colorizer("regression-l2", random_init=True, runtime="tensorrt")


def test_a_model_that_cannot_be_exported_is_named(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise RuntimeError("Unsupported operator aten::magic")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    net = random_colorizer("regression-l2", "torch", seed=30)
    with pytest.raises(onnx_export.OnnxExportError, match="'regression-l2' cannot be exported to ONNX.*aten::magic"):
        onnx_export.export(net, tmp_path / "x.onnx")
    assert not list(tmp_path.iterdir())  # nothing half-written


@pytest.mark.slow
def test_the_cli_runs_onnx_and_says_so(random_weights, tmp_path):
    for name, photo in REAL_PHOTOS.items():
        Image.fromarray(photo()).save(tmp_path / f"{name}.jpg")
    done = cli("colorize", tmp_path, "--out", tmp_path / "onnx", "--runtime", "onnx", weights=random_weights)
    assert done.returncode == 0, done.stderr
    assert "on onnx" in done.stderr and "images/s" in done.stderr
    torch_done = cli("colorize", tmp_path, "--out", tmp_path / "torch", "--runtime", "torch", weights=random_weights)
    assert torch_done.returncode == 0 and "on torch" in torch_done.stderr
    for name in REAL_PHOTOS:
        a = np.asarray(Image.open(tmp_path / "onnx" / f"{name}.png"), dtype=int)
        b = np.asarray(Image.open(tmp_path / "torch" / f"{name}.png"), dtype=int)
        assert a.shape == b.shape and np.abs(a - b).max() <= 3  # ab within 0.5, so a few 8-bit levels at most


@pytest.mark.slow
def test_export_onnx_fills_the_cache_or_writes_out(random_weights, tmp_path, cache):
    done = cli("export-onnx", "--models", "default", "--out", tmp_path / "graphs", weights=random_weights)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "graphs" / "lite0-unet.onnx").is_file()
    import onnxruntime

    meta = onnxruntime.InferenceSession(str(tmp_path / "graphs" / "lite0-unet.onnx")).get_modelmeta()
    assert meta.custom_metadata_map["model"] == "lite0-unet" and meta.custom_metadata_map["net_size"] == "192"
    missing = cli("export-onnx", "--models", "default,eccv16", weights=random_weights)  # no eccv16 weights here
    assert missing.returncode == 1
    assert any(p.name.startswith("lite0-unet-192-") for p in cache.iterdir())
    assert [line for line in missing.stderr.splitlines() if line.startswith("error:")][0].startswith("error: eccv16")


def test_the_cli_names_a_missing_onnxruntime(random_weights, tmp_path):
    stub = tmp_path / "stub"  # shadows the installed package: importing it fails as if it were missing
    stub.mkdir()
    (stub / "onnxruntime.py").write_text("raise ImportError('no onnxruntime here')\n")
    Image.fromarray(skimage.data.camera()).save(tmp_path / "camera.png")
    env = {**os.environ, "PYTHONPATH": f"{stub}{os.pathsep}{ROOT}", "COLORCORE_WEIGHTS": str(random_weights),
           "HF_HUB_OFFLINE": "1", "COLORCORE_REPO_WEIGHTS": str(random_weights / "none")}
    done = subprocess.run([sys.executable, "-m", "colorcore", "colorize", str(tmp_path / "camera.png"), "--out",
                           str(tmp_path / "o"), "--runtime", "onnx"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "onnxruntime" in done.stderr and "pip install" in done.stderr
