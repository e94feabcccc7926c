"""A new model is one file in colorcore/models/ plus one config, and touches nothing else.

TOY is such a file: a tiny ColorNet that says its kind and registers itself with
neither a kind nor a Hub repo, and TOY_CONFIG its config. The tests add it, to a copy
of the package or by importing it as the zoo imports its files, and find it wherever
models are listed, passing the checks that every zoo model passes.

The rule for tests that go over every registered model: a model needs its file and
its config, nothing more. Weights are not needed: tests export random ones where they
need weights (tests/servers.write_random_weights). A model without weights is listed
as such, and gets no model card (`colorcore card` skips it) and no place on the Space
card (demo/publish.py names the shipped models, those with weights/<name>/).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servers import write_random_weights
from test_models import check_frozen, check_net, check_training_step

ROOT = Path(__file__).resolve().parent.parent

TOY = '''"""A toy colorizer: two convolutions to a distribution over the ab gamut bins."""
from torch import nn

from .base import ColorNet
from .registry import register


class Toy(ColorNet):
    kind = "bins"

    def __init__(self, width: int = 8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(width, self.num_outputs, 1)

    def forward(self, l):
        return self.head(self.body(l))


@register("toy", net_size=64, summary="A toy: two convolutions to the ab gamut bins", width=8)
def toy(width: int = 8) -> Toy:
    return Toy(width=width)
'''

TOY_CONFIG = '''model = "toy"

[loss]
name = "bins_ce"

[data]
train = "../shared/data/train-*.tar"
val = "../shared/data/val.tar"
crop = 64
batch = 4

[optim]
lr = 1e-3

[train]
steps = 100
out = "runs/toy"
'''


@pytest.fixture
def toy(tmp_path, monkeypatch) -> Path:
    """TOY registered until the test ends, imported as colorcore/models/__init__.py
    imports the zoo's files; returns the path of its config."""
    from colorcore.models import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_ALIASES", dict(registry._ALIASES))
    (tmp_path / "toy.py").write_text(TOY)
    found = importlib.util.spec_from_file_location("colorcore.models.toy", tmp_path / "toy.py")
    module = importlib.util.module_from_spec(found)
    monkeypatch.setitem(sys.modules, found.name, module)  # the model card reads the module's docstring
    found.loader.exec_module(module)
    (tmp_path / "toy.toml").write_text(TOY_CONFIG)
    return tmp_path / "toy.toml"


@pytest.fixture
def only(tmp_path, monkeypatch):
    """Weights from tmp_path/weights only (none shipped, no Hub), and a fresh dashboard cache."""
    from dashboard import common

    weights = tmp_path / "weights"
    monkeypatch.setenv("COLORCORE_WEIGHTS", str(weights))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COLORCORE_REPO_WEIGHTS", str(tmp_path / "no-shipped-weights"))
    common.models.clear()
    yield weights
    common.models.clear()


def test_a_file_in_the_zoo_is_a_model_of_the_cli(tmp_path):
    """`python -m colorcore models` on a copy of the package with toy.py in its zoo."""
    shutil.copytree(ROOT / "colorcore", tmp_path / "colorcore", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "colorcore" / "models" / "toy.py").write_text(TOY)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLORCORE_WEIGHTS": str(tmp_path / "none"),
           "COLORCORE_REPO_WEIGHTS": str(tmp_path / "none"), "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "colorcore", "models"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    header, *rows = (line.split() for line in done.stdout.strip().splitlines())
    assert header == ["name", "aliases", "params", "net_size", "kind", "hints", "weights", "source"]
    rows = {r[0]: r for r in rows}
    assert {"toy", "lite0-unet", "vae"} <= set(rows)
    assert rows["toy"][2:] == ["64", "bins", "False", "False", "-"]  # no aliases; no hints; no weights anywhere


def test_the_new_model_passes_every_zoo_check(toy):
    from colorcore.models import get_spec

    spec = get_spec("toy")
    assert spec.kind == "bins" and spec.hub_repo == "colorcore/toy"  # neither was given to register()
    check_net(spec)
    check_frozen(spec)
    check_training_step(toy)


def test_the_demo_and_the_dashboard_list_it(toy, only):
    from dashboard import common
    from demo import engine as E

    assert "toy" in common.model_names()
    info = next(m for m in E.model_infos() if m.name == "toy")
    assert info.label == "toy (✗ no weights)" and info.uses_temperature and info.has_uncertainty
    about = E.about_markdown("toy")
    assert "A toy: two convolutions" in about and "`colorcore/toy`" in about and "No trained weights" in about

    write_random_weights(only, names=("toy",))
    common.models.clear()  # it lists again every minute; a test does not wait
    assert next(m for m in common.models(common.where_weights()) if m["name"] == "toy")["weights"] is True
    assert common.weights_keys(["toy"])["toy"]  # the per-image page shows it
    assert next(m for m in E.model_infos() if m.name == "toy").label == "toy (✓)"
    try:
        assert E.get_colorizer("toy").defaults["temperature"] is not None
    finally:
        E._models.pop("toy", None)


def test_with_weights_it_gets_a_model_card_and_a_place_on_the_space(toy, tmp_path, monkeypatch):
    from colorcore import card
    from colorcore.models import get_spec
    from demo import publish

    weights = tmp_path / "weights"
    monkeypatch.setenv("COLORCORE_REPO_WEIGHTS", str(weights))
    assert "colorcore/toy" not in publish.render_card()  # no weights yet: nothing on the Hub to preload
    write_random_weights(weights, names=("toy",))
    text = card.write_card("toy", [tmp_path / "no-results"]).read_text()
    assert "# toy" in text and "A toy colorizer" in text and get_spec("toy").prototype.limitation in text
    assert "  - colorcore/toy config.json,model.safetensors\n" in publish.render_card()
