"""The training configuration: every config in configs/ loads, a key the schema does
not know is an error (in the file and in --set), and a run writes the settings it
trained with, every default filled in, beside its checkpoint."""
import dataclasses
import json
from pathlib import Path

import pytest
import torch

from colorcore.config import (RESOLVED_CONFIG, ConfigError, DataConfig, OptimConfig, RunConfig, TrainConfig,
                              apply_overrides, from_dict, load_config)
from conftest import gradient_photo

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_config_loads(path):
    cfg = load_config(path)
    assert cfg.model == path.stem and cfg.train.out == f"runs/{path.stem}"
    assert (ROOT / "results" / "history" / f"{path.stem}.md").exists()  # its history, out of the config


@pytest.mark.parametrize("section, where", [("", "at the top level"), ("[data]", "in [data]"),
                                            ("[optim]", "in [optim]"), ("[train]", "in [train]")])
def test_an_unknown_key_in_a_config_names_itself_its_section_and_the_file(tmp_path, section, where):
    path = tmp_path / "typo.toml"
    path.write_text(f'model = "vae"\n{section}\nstpes = 10\n')
    with pytest.raises(ConfigError) as e:
        load_config(path)
    message = str(e.value)
    assert str(path) in message and f"unknown key 'stpes' {where}" in message
    known = {"": RunConfig, "[data]": DataConfig, "[optim]": OptimConfig, "[train]": TrainConfig}[section]
    assert f"known keys: {', '.join(f.name for f in dataclasses.fields(known))}" in message


def test_a_value_of_the_wrong_type_is_an_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('model = "vae"\n[data]\ncrop = "128"\n')
    with pytest.raises(ConfigError, match=r"\[data\] crop = '128': expected int"):
        load_config(path)


def test_an_unknown_key_set_from_the_command_line_is_an_error():
    cfg = load_config(ROOT / "configs" / "vae.toml")
    with pytest.raises(ConfigError, match=r"--set 'train.stpes=10': unknown key 'stpes' in \[train\]; known keys"):
        apply_overrides(cfg, ["train.stpes=10"])
    assert apply_overrides(cfg, ["train.steps=10"]).train.steps == 10


def test_the_cli_reports_a_config_mistake_in_one_line(tmp_path):
    from colorcore.cli import main

    with pytest.raises(SystemExit, match="^error: --set 'optim.lr_scale=1': unknown key 'lr_scale' in"):
        main(["train", "--config", str(ROOT / "configs" / "vae.toml"), "--set", "optim.lr_scale=1"])


def test_loss_options_are_the_objective_s_arguments():
    from colorcore.losses import build_objective
    from colorcore.models import get_spec

    model = get_spec("regression-l2").build()
    for name in ("ab_l2", "bins_ce"):
        with pytest.raises(TypeError, match="temprature"):
            build_objective(name, model, temprature=0.38)


def test_a_run_writes_its_resolved_config_beside_the_checkpoint(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(4):
        gradient_photo(40, 40, seed=i).save(photos / f"p{i}.jpg")
    path = tmp_path / "minimal.toml"  # everything else at its default
    path.write_text(f'model = "regression-l2"\n[data]\ntrain = "{photos}"\ncrop = 32\nbatch = 4\nworkers = 0\n'
                    "[train]\nval_every = 0\n")
    from colorcore.train import main as train_main

    run = train_main(str(path), steps=1, device="cpu", out=str(tmp_path / "run"))
    assert torch.load(run / "last.pt", weights_only=True)["step"] == 1
    written = json.loads((run / RESOLVED_CONFIG).read_text())
    expected = RunConfig(model="regression-l2").to_dict()
    expected["data"].update(train=str(photos), crop=32, batch=4, workers=0)
    expected["train"].update(val_every=0, steps=1, out=str(tmp_path / "run"))
    assert written == json.loads(json.dumps(expected))  # tuples as JSON lists
    assert written["optim"]["warmup"] == 200 and written["loss"] == {"name": "ab_l2"}
    assert from_dict(written, str(run / RESOLVED_CONFIG)) == from_dict(expected, "expected")
