"""Weights: where they are found, and that only intact safetensors are loaded.
The Hub path is exercised for real, offline, through huggingface_hub's own cache."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import colorcore
from colorcore import hub
from colorcore.models import get_spec
from conftest import gradient_photo

ROOT = Path(__file__).resolve().parent.parent


def test_exported_weights_load_back_to_the_same_outputs(use_weights):
    torch.manual_seed(0)
    c = colorcore.load_colorizer("default", device="cpu")
    assert c.source == str(use_weights / "lite0-unet")
    state, config = hub.load_state(use_weights / "lite0-unet")
    assert config["dtype"] == "float16" and all(v.dtype != torch.float32 for v in state.values())
    reference = get_spec("lite0-unet").build_for_weights().eval()
    hub.apply_state(reference, state, "test")
    L = torch.rand(1, 1, 256, 256) * 100
    with torch.no_grad():
        assert torch.allclose(c.model.predict(L)["ab"], reference.predict(L)["ab"])


def test_explicit_path_wins_and_missing_weights_say_where_they_looked(use_weights, tmp_path):
    assert hub.find_weights("eccv16", use_weights / "lite0-unet") == use_weights / "lite0-unet"
    with pytest.raises(colorcore.WeightsNotFound) as err:
        colorcore.load_colorizer("eccv16")
    msg = str(err.value)
    assert "eccv16" in msg and str(use_weights / "eccv16") in msg and "Hugging Face Hub colorcore/eccv16" in msg
    with pytest.raises(colorcore.WeightsNotFound, match="model.safetensors and config.json missing"):
        hub.find_weights("eccv16", tmp_path)


def _copy_weights(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_tampered_and_truncated_files_are_refused(use_weights, tmp_path):
    good = use_weights / "lite0-unet"
    tampered = _copy_weights(good, tmp_path / "tampered")
    data = bytearray((tampered / "model.safetensors").read_bytes())
    data[-10] ^= 0xFF
    (tampered / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(colorcore.WeightsCorrupt, match="does not match"):
        colorcore.load_colorizer("default", weights=tampered)

    truncated = _copy_weights(good, tmp_path / "truncated")
    data = (truncated / "model.safetensors").read_bytes()
    (truncated / "model.safetensors").write_bytes(data[: len(data) // 3])
    with pytest.raises(colorcore.WeightsCorrupt, match="truncated or altered"):
        colorcore.load_colorizer("default", weights=truncated)

    # a file whose checksum is right but whose content is not safetensors
    garbage = _copy_weights(good, tmp_path / "garbage")
    (garbage / "model.safetensors").write_bytes(b"\x80\x04not safetensors at all")
    cfg = json.loads((garbage / "config.json").read_text())
    cfg["sha256"] = hub.sha256_of(garbage / "model.safetensors")
    (garbage / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(colorcore.WeightsCorrupt, match="not a valid safetensors"):
        colorcore.load_colorizer("default", weights=garbage)

    unsigned = _copy_weights(good, tmp_path / "unsigned")
    cfg.pop("sha256")
    (unsigned / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(colorcore.WeightsCorrupt, match="no sha256"):
        colorcore.load_colorizer("default", weights=unsigned)


def _with_config(good: Path, folder: Path, edit) -> Path:
    """A copy of the weights whose config.json is edit(config) (a dict to write, or raw text)."""
    _copy_weights(good, folder)
    config = edit(json.loads((folder / "config.json").read_text()))
    (folder / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
    return folder


def _nan_weights(good: Path, folder: Path) -> Path:
    """A copy whose first float tensor is all NaN, with the checksum made to fit."""
    from safetensors.torch import load_file, save_file

    _copy_weights(good, folder)
    state = load_file(str(folder / "model.safetensors"))
    first = sorted(k for k, v in state.items() if v.is_floating_point())[0]
    state[first] = torch.full_like(state[first], float("nan"))
    save_file(state, str(folder / "model.safetensors"))
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "sha256": hub.sha256_of(folder / "model.safetensors")}))
    return folder


@pytest.mark.parametrize("broken, words", [
    (lambda good, d: _with_config(good, d, lambda c: "[]"), "expected a JSON object, found a list"),
    (lambda good, d: _with_config(good, d, lambda c: "\xff\xfe not json"), "unreadable config"),
    (lambda good, d: _with_config(good, d, lambda c: {**c, "sha256": 12345}), "is not 64 hexadecimal digits"),
    (lambda good, d: _with_config(good, d, lambda c: {**c, "model_options": {"no_such_option": 3}}),
     "model_options {'no_such_option': 3} do not fit lite0-unet"),
    (lambda good, d: _with_config(good, d, lambda c: {**c, "model_options": [1]}), "model_options must be an object"),
    (_nan_weights, "hold NaN or infinite values"),
])
def test_broken_configs_and_weights_are_refused_by_name(use_weights, tmp_path, broken, words):
    folder = broken(use_weights / "lite0-unet", tmp_path / "broken")
    with pytest.raises(colorcore.WeightsCorrupt) as err:
        colorcore.load_colorizer("default", weights=folder)
    assert str(folder) in str(err.value) and words in str(err.value)


@pytest.mark.parametrize("remove", ["model.safetensors", "config.json"])
def test_a_half_weights_folder_is_refused_not_skipped(use_weights, tmp_path, monkeypatch, remove):
    """A folder earlier in COLORCORE_WEIGHTS that lacks a file must not let other weights load."""
    first = tmp_path / "first"
    _copy_weights(use_weights / "lite0-unet", first / "lite0-unet")
    (first / "lite0-unet" / remove).unlink()
    monkeypatch.setenv("COLORCORE_WEIGHTS", os.pathsep.join([str(first), str(use_weights)]))
    with pytest.raises(colorcore.WeightsNotFound) as err:
        colorcore.load_colorizer("default")
    assert str(first / "lite0-unet") in str(err.value) and f"{remove} missing" in str(err.value)


def test_weights_of_another_architecture_are_refused(use_weights):
    with pytest.raises(colorcore.WeightsCorrupt, match="does not fit"):
        colorcore.load_colorizer("eccv16", weights=use_weights / "lite0-unet")


def test_hub_cache_offline(use_weights, tmp_path):
    """Lay out huggingface_hub's cache by hand (refs/main -> snapshots/<commit>/) in
    a fresh HF_HOME and load from it in a clean process with HF_HUB_OFFLINE=1."""
    spec = get_spec("lite0-unet")
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf" / "hub" / f"models--{spec.hub_repo.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(use_weights / "lite0-unet" / f, snapshot / f)
    (repo / "refs").mkdir()
    (repo / "refs" / (spec.hub_revision or "main")).write_text(commit)
    photo = tmp_path / "photo.png"
    gradient_photo(50, 40).convert("L").save(photo)
    code = (
        "import colorcore\n"
        "c = colorcore.load_colorizer('default', device='cpu')\n"
        f"print(c.source); print(c.colorize({str(photo)!r}).size)\n"
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "COLORCORE_WEIGHTS": "",
           "COLORCORE_REPO_WEIGHTS": "/nonexistent"}
    env.pop("HF_HUB_CACHE", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    source, size = done.stdout.strip().splitlines()[-2:]
    assert Path(source) == snapshot and size == "(50, 40)"

    # the same, with the snapshot gone: a clear error naming the Hub repo
    shutil.rmtree(snapshot)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "WeightsNotFound" in done.stderr and spec.hub_repo in done.stderr
