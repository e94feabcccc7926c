"""The training configuration (configs/<name>.toml): every setting with its default, in
one place.

A key the schema does not know is an error, in the file as in a `--set section.key=value`
override: a misspelt setting would otherwise train with its default in silence.
[model_options] and [loss] (beside its `name`) stay free tables: their keys are the model
factory's and the objective's keyword arguments, which those reject themselves.
"""
from __future__ import annotations

import dataclasses
import json
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESOLVED_CONFIG = "config.resolved.json"  # beside last.pt: the settings the run's latest start trained with


@dataclass
class DataConfig:
    train: str = "../shared/data/train-*.tar"  # photos: a folder, a tar or a glob of tars
    val: str = "../shared/data/val.tar"  # the validation slice is taken from these
    version: int = 1  # which shared photo set (provenance.DATA_VERSIONS), recorded for the card
    crop: int = 128  # side of the random resized crops, px
    scale: tuple[float, float] = (0.35, 1.0)  # the crops' share of the photo's area
    batch: int = 32  # per process
    workers: int = 1  # DataLoader processes


@dataclass
class OptimConfig:
    lr: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.999)  # AdamW's, and the GAN discriminator's Adam
    weight_decay: float = 1e-4
    encoder_lr_scale: float = 0.1  # a pretrained encoder's share of lr (models with param_groups)
    decoder_lr_scale: float = 1.0  # the rest's share; 0 freezes it too (a hint reader trained alone)
    warmup: int = 200  # linear warm-up steps, then a cosine to 5% of lr at `steps`


@dataclass
class TrainConfig:
    steps: int = 1000
    seed: int = 0
    log_every: int = 25
    val_every: int = 500  # 0: no validation
    val_images: int = 64
    ckpt_every: int = 250
    ema: float = 0.0  # decay of the weight average; 0: none, validation and export use the raw weights
    out: str = ""  # the run folder; "" is runs/<model>
    init: str = ""  # how a fine-tune's record names the weights it started from; "": the --init-weights folder
    loss_changed_at: int = 0  # the step the loss last changed at: the card's loss trend starts there


SECTIONS = {"data": DataConfig, "optim": OptimConfig, "train": TrainConfig}
FREE_TABLES = ("model_options", "loss")


@dataclass
class RunConfig:
    model: str
    model_options: dict[str, Any] = field(default_factory=dict)
    loss: dict[str, Any] = field(default_factory=lambda: {"name": "ab_l2"})  # name + the objective's arguments
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def objective_options(self) -> dict[str, Any]:
        return {k: v for k, v in self.loss.items() if k != "name"}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")


class ConfigError(ValueError):
    """A setting the schema does not know, or a value of the wrong type."""


def _check_known(table: dict, known: list[str], where: str, source: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"{source}: unknown key {key!r} {where}; known keys: {', '.join(known)}")


def _typed(value: Any, kind: Any, where: str) -> Any:
    """`value` as the schema's type (an int is a float too); ConfigError if it is not one."""
    if typing.get_origin(kind) is tuple:
        kinds = typing.get_args(kind)
        if isinstance(value, (list, tuple)) and len(value) == len(kinds):
            return tuple(_typed(v, k, where) for v, k in zip(value, kinds))
    elif not isinstance(value, bool):
        if kind is float and isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, kind):
            return value
    raise ConfigError(f"{where} = {value!r}: expected {kind.__name__ if isinstance(kind, type) else kind}")


def _section(cls: type, table: Any, name: str, source: str):
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: {name} must be a table ([{name}])")
    types = typing.get_type_hints(cls)
    _check_known(table, list(types), f"in [{name}]", source)
    return cls(**{k: _typed(v, types[k], f"{source}: [{name}] {k}") for k, v in table.items()})


def from_dict(raw: dict, source: str) -> RunConfig:
    """The configuration of a parsed TOML table, every default filled in; `source`
    (the file, or the override) is what an error names."""
    _check_known(raw, [f.name for f in dataclasses.fields(RunConfig)], "at the top level", source)
    if "model" not in raw:
        raise ConfigError(f'{source}: no model = "<registered name>" at the top level')
    free = {}
    for name in FREE_TABLES:
        if name in raw:
            if not isinstance(raw[name], dict):
                raise ConfigError(f"{source}: {name} must be a table ([{name}])")
            free[name] = dict(raw[name])
    cfg = RunConfig(model=_typed(raw["model"], str, f"{source}: model"), **free,
                    **{name: _section(cls, raw.get(name, {}), name, source) for name, cls in SECTIONS.items()})
    if not isinstance(cfg.loss.get("name"), str):
        raise ConfigError(f'{source}: [loss] needs name = "<objective>" (colorcore.losses.build_objective)')
    cfg.train.out = cfg.train.out or f"runs/{cfg.model}"
    return cfg


def load_config(path: str | Path) -> RunConfig:
    with open(path, "rb") as f:
        try:
            raw = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: {e}") from None
    return from_dict(raw, str(path))


def apply_overrides(cfg: RunConfig, overrides: list[str]) -> RunConfig:
    """`section.key=value` settings over a config (values in TOML: 128, 0.02, "text",
    [0.5, 1.0]), for ablations that differ from a config in one setting; checked like
    the file's own."""
    sections = [*FREE_TABLES, *SECTIONS]
    for item in overrides:
        key, sep, value = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or section not in sections:
            raise ConfigError(f"--set {item!r}: expected section.key=value with a section of the config "
                              f"({', '.join(sections)})")
        try:
            parsed = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"--set {item!r}: {value.strip()!r} is not a TOML value ({e})") from None
        raw = cfg.to_dict()
        raw[section][name] = parsed
        cfg = from_dict(raw, f"--set {item!r}")
    return cfg
