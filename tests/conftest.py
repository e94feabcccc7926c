"""Shared fixtures: generated photos and throw-away weight folders (the tests
never need the shipped weights or the dataset)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image



def gradient_photo(w: int = 96, h: int = 64, seed: int = 0) -> Image.Image:
    """A smooth colour test picture with some structure."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    rgb = np.stack([np.sin(6 * x + rng.uniform(0, 3)), np.cos(5 * y + rng.uniform(0, 3)), x * y], -1)
    return Image.fromarray(((rgb - rgb.min()) / (np.ptp(rgb) + 1e-9) * 255).astype(np.uint8), "RGB")


@pytest.fixture(scope="session", autouse=True)
def private_onnx_cache(tmp_path_factory):
    """ONNX graphs built by the tests (and their subprocesses) go to a throw-away cache: never
    the user's, and `runtime="auto"` never finds one that the user built."""
    from colorcore.onnx_export import CACHE_ENV

    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("onnx-cache"))
    yield Path(os.environ[CACHE_ENV])
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory):
    """A weights folder holding a randomly initialised, exported flagship."""
    from servers import write_random_weights

    return write_random_weights(tmp_path_factory.mktemp("weights"), names=("lite0-unet",))


@pytest.fixture
def use_weights(random_weights, monkeypatch):
    """Point weight resolution at the random weights, and away from the repo's and the Hub."""
    monkeypatch.setenv("COLORCORE_WEIGHTS", str(random_weights))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COLORCORE_REPO_WEIGHTS", str(random_weights / "nothing-here"))
    return random_weights
