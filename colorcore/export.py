"""Turn a training run into shipped weights:

    python -m colorcore export --config configs/NAME.toml [--temperature T]

writes weights/<name>/model.safetensors (fp16), config.json (architecture,
options, sha256, data, steps, hardware, wall time, and where the run's history is
told: results/history/<name>.md) and train_log.csv, from the run folder's last.pt
checkpoint (its weight average, where the run kept one).
"""
from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

from .config import load_config
from .hub import apply_state, export_weights, repo_weights
from .models import get_spec
from .provenance import STARTED_FROM
from .train import copy_log_to_step

ROOT = Path(__file__).resolve().parent.parent
HISTORY = Path("results/history")  # <name>.md: how a model's shipped run got there, in words (the card quotes it)


def main(config: str, out: str | None = None, temperature: float | None = None, run: str | None = None,
         hardware: str | None = None) -> Path:
    cfg = load_config(config)
    spec = get_spec(cfg.model)
    run_dir = Path(run or cfg.train.out)
    state = torch.load(run_dir / "last.pt", map_location="cpu", weights_only=True)  # our own checkpoint
    model = spec.build_for_weights(**cfg.model_options)
    averaged = "ema" in state  # the run kept a weight average ([train] ema): ship that
    apply_state(model, state["ema" if averaged else "model"], str(run_dir / "last.pt"))
    folder = Path(out) if out else repo_weights() / spec.name
    last = copy_log_to_step(run_dir / "train_log.csv", folder / "train_log.csv", int(state["step"]))
    meta = {
        "name": spec.name,
        "architecture": cfg.model,
        "model_options": cfg.model_options,
        "net_size": spec.net_size,
        "kind": spec.kind,
        "loss": cfg.loss,
        "data": cfg.data.train,
        "data_version": cfg.data.version,
        "crop": cfg.data.crop,
        "batch": cfg.data.batch,
        "steps": int(state["step"]),
        "wall_s": round(float(last.get("wall_s", 0.0)), 1),
        "hardware": hardware or f"{platform.machine()} CPU x{torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "params": sum(p.numel() for p in model.parameters()),
    }
    if hasattr(model, "param_groups"):  # which parts the run left as they were, as training set them
        model.param_groups(cfg.optim.lr, cfg.optim.encoder_lr_scale, cfg.optim.decoder_lr_scale)
        if model.frozen_parts:
            meta["frozen"] = list(model.frozen_parts)
    if (run_dir / STARTED_FROM).exists():  # a fine-tune: what it started from, for the totals
        meta["started_from"] = json.loads((run_dir / STARTED_FROM).read_text())
    if averaged:
        meta["weights"] = (f"exponential moving average of the training weights (decay {cfg.train.ema}, "
                           f"over the last {int(state['ema_updates'])} steps)")
    if cfg.train.loss_changed_at:  # the card's loss trend starts there
        meta["loss_changed_at"] = cfg.train.loss_changed_at
    history = HISTORY / f"{spec.name}.md"
    if (ROOT / history).exists():
        meta["history_file"] = history.as_posix()
    if temperature is not None:
        meta["temperature"] = temperature
    written = export_weights(model, folder, meta)
    print(f"wrote {folder} ({written['bytes'] / 1e6:.1f} MB, step {meta['steps']}, sha256 {written['sha256'][:12]})")
    return folder
