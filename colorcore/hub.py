"""Where weights come from, and how they are checked.

A model's weights are a folder holding `model.safetensors` and `config.json`
(with the file's sha256). Looked for, in order: an explicit path; `<dir>/<name>/`
for each folder in COLORCORE_WEIGHTS (os.pathsep-separated) and then the
repository's `weights/`; the Hugging Face Hub (the repo id and revision in the
model registry), which honours HF_HUB_OFFLINE and its own cache.
Only safetensors are read; nothing is unpickled.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .models import get_spec

WEIGHTS_FILE, CONFIG_FILE = "model.safetensors", "config.json"


def repo_weights() -> Path:
    """The shipped weights' folder; COLORCORE_REPO_WEIGHTS moves it (tests point it at an
    empty folder to see how the project behaves where no weights were shipped)."""
    return Path(os.environ.get("COLORCORE_REPO_WEIGHTS") or Path(__file__).resolve().parent.parent / "weights")


class WeightsNotFound(FileNotFoundError):
    """No weights for a model in any of the places looked at (listed in the message)."""


class WeightsCorrupt(ValueError):
    """A weight file that fails its checksum, does not parse, or does not fit the model."""


def weight_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("COLORCORE_WEIGHTS", "").split(os.pathsep) if p]
    return extra + [repo_weights()]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _missing(folder: Path) -> list[str]:
    return [f for f in (WEIGHTS_FILE, CONFIG_FILE) if not (folder / f).is_file()]


def _incomplete(folder: Path, missing: list[str]) -> WeightsNotFound:
    return WeightsNotFound(f"{folder}: incomplete weights folder, {' and '.join(missing)} missing "
                           f"(a weights folder holds {WEIGHTS_FILE} and {CONFIG_FILE})")


def _from_hub(name: str, network: bool) -> Path:
    from huggingface_hub import hf_hub_download

    spec = get_spec(name)
    revision = spec.hub_revision or "main"
    paths = [hf_hub_download(spec.hub_repo, f, revision=revision, local_files_only=not network)
             for f in (CONFIG_FILE, WEIGHTS_FILE)]
    return Path(paths[1]).parent


def find_weights(name: str, path: str | os.PathLike | None = None, network: bool = True) -> Path:
    """The folder with `name`'s weights; WeightsNotFound says where it looked.
    network=False looks in the Hub's local cache only."""
    if path is not None:
        folder = Path(path)
        folder = folder.parent if folder.name == WEIGHTS_FILE else folder
        missing = _missing(folder)
        if not missing:
            return folder
        raise _incomplete(folder, missing)
    spec = get_spec(name)
    looked = []
    for d in weight_dirs():
        folder = d / spec.name
        missing = _missing(folder)
        if not missing:
            return folder
        if folder.is_dir():  # half a folder is a broken install, never a reason to load other weights
            raise _incomplete(folder, missing)
        looked.append(str(folder))
    try:
        return _from_hub(spec.name, network)
    except Exception as e:  # offline without a cache, no such repo, network down...
        looked.append(f"Hugging Face Hub {spec.hub_repo}@{spec.hub_revision or 'main'} ({type(e).__name__})")
    raise WeightsNotFound(f"no weights for model {spec.name!r}; looked in: " + "; ".join(looked))


def read_config(folder: Path) -> dict:
    try:
        config = json.loads((folder / CONFIG_FILE).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WeightsCorrupt(f"{folder / CONFIG_FILE}: unreadable config ({e})") from None
    if not isinstance(config, dict):
        raise WeightsCorrupt(f"{folder / CONFIG_FILE}: expected a JSON object, found a {type(config).__name__}")
    if not isinstance(config.get("model_options", {}), dict):
        raise WeightsCorrupt(f"{folder / CONFIG_FILE}: model_options must be an object of keyword arguments")
    return config


def load_state(folder: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """The checked state dict and config of a weights folder."""
    config = read_config(folder)
    file = folder / WEIGHTS_FILE
    expected = config.get("sha256")
    if not expected:
        raise WeightsCorrupt(f"{folder / CONFIG_FILE}: no sha256 recorded, refusing to load {file}")
    if not (isinstance(expected, str) and len(expected) == 64 and all(c in "0123456789abcdef" for c in expected)):
        raise WeightsCorrupt(f"{folder / CONFIG_FILE}: sha256 {expected!r} is not 64 hexadecimal digits")
    actual = sha256_of(file)
    if actual != expected:
        raise WeightsCorrupt(f"{file}: sha256 {actual[:12]}... does not match config.json's {expected[:12]}... "
                             "(truncated or altered file)")
    try:
        state = load_file(str(file))
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsCorrupt(f"{file}: not a valid safetensors file ({e})") from None
    broken = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:  # they would load, then every render would be NaN
        raise WeightsCorrupt(f"{file}: {len(broken)} tensors hold NaN or infinite values (first: {broken[0]})")
    return state, config


def apply_state(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str,
                may_lack: tuple[str, ...] = ()) -> None:
    """Load a (possibly half-precision) state dict into a float model, strictly; but the
    parameters under the prefixes may_lack may be absent (they keep their own values)."""
    own = model.state_dict()
    missing = sorted(k for k in set(own) - set(state) if not k.startswith(may_lack))
    unexpected = sorted(set(state) - set(own))
    wrong = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or unexpected or wrong:
        raise WeightsCorrupt(f"{source}: does not fit the model (missing {missing[:3]}, "
                             f"unexpected {unexpected[:3]}, wrong shape {wrong[:3]})")
    model.load_state_dict({**own, **{k: v.to(own[k].dtype) for k, v in state.items()}})


def export_weights(model: torch.nn.Module, folder: Path, config: dict, half: bool = True) -> dict:
    """Write model.safetensors (float tensors in fp16 when half) and config.json
    with the file's sha256. Returns the config written."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if half and v.is_floating_point() else v).contiguous().cpu()
             for k, v in model.state_dict().items()}
    file = folder / WEIGHTS_FILE
    save_file(state, str(file))
    config = {**config, "dtype": "float16" if half else "float32", "sha256": sha256_of(file),
              "bytes": file.stat().st_size}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    return config
