"""One training loop for every model in the zoo, chosen by a TOML config.

    python -m colorcore train --config configs/lite0-unet.toml [--resume] [--steps N]
    torchrun --nproc_per_node 2 -m colorcore train --config ...   (DistributedDataParallel)

The same command runs on CPU and CUDA (bf16 autocast there). It checkpoints to
<out>/last.pt every `ckpt_every` steps (tensors and numbers only, read back with
weights_only=True), logs to <out>/train_log.csv (rewritten through a temporary
file, so a kill never leaves half a row) and writes the settings it runs with, every
default filled in, to <out>/config.resolved.json when it starts. A kill and --resume
end with the same weights as a run without the kill: the checkpoint carries the RNG
state, and only training steps draw from it.
"""
from __future__ import annotations

import csv
import json
import math
import os
import random
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from .config import RESOLVED_CONFIG, RunConfig, apply_overrides, load_config
from .data import EvalImages, TrainImages, lab_batch
from .distributed import local_device, process_group, rank_and_world
from .ema import WeightAverage
from .losses import build_objective
from .metrics import score_images, truth_terms
from .models import get_spec
from .provenance import STARTED_FROM, started_from
from .render import render_batch
from .schema import VAL_FIELDS



class EpochSampler(torch.utils.data.Sampler):
    """A seeded permutation per epoch, split across ranks, that can start mid-epoch
    (for --resume) without reading the images it skips."""

    def __init__(self, n: int, seed: int, rank: int = 0, world: int = 1):
        self.n, self.seed, self.rank, self.world = n, seed, rank, world
        self.epoch, self.start = 0, 0

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 100003 + self.epoch)
        order = torch.randperm(self.n, generator=g)[self.rank::self.world].tolist()
        return iter(order[self.start:])

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world)) - self.start


def write_csv_atomic(path: Path, fields: list[str], rows: list[dict]) -> None:
    """Write the whole CSV beside `path`, then rename it over: a kill at any moment
    leaves the old file or the new one, never a half-written row."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_log_to_step(path: Path, step: int) -> tuple[list[str], list[dict]]:
    """The training log's columns and its rows up to `step` (a run stopped between
    checkpoints logged steps that the weights do not have)."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = [r for r in reader if int(r["step"]) <= step]
        return list(reader.fieldnames or []), rows


def copy_log_to_step(src: Path, dst: Path, step: int) -> dict:
    """Copy the training log up to the checkpoint's step; returns its last row."""
    fields, rows = read_log_to_step(src, step)
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(dst, fields, rows)
    return rows[-1] if rows else {}


class TrainLog:
    """<out>/train_log.csv: small, so rewritten whole, atomically, at each log step."""

    def __init__(self, path: Path, step: int, carry_on: bool):
        """carry_on: keep the existing log's rows up to `step` (the checkpoint's; later
        ones were logged by steps that the weights do not have), and its wall time."""
        self.path, self.fields, self.rows, self.wall_before = path, None, [], 0.0
        if carry_on and path.exists():
            fields, self.rows = read_log_to_step(path, step)
            write_csv_atomic(path, fields, self.rows)
            if self.rows:
                self.fields, self.wall_before = fields, float(self.rows[-1]["wall_s"])

    def append(self, row: dict) -> None:
        self.fields = self.fields or list(row) + [f for f in VAL_FIELDS if f not in row]
        self.rows.append(row)
        write_csv_atomic(self.path, self.fields, self.rows)


class LogWindow:
    """The loss terms' means and the throughput over the steps since the last log row."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.sums: dict[str, float] = {}
        self.steps, self.images, self.since = 0, 0, time.time()

    def add(self, terms: dict[str, torch.Tensor], images: int) -> None:
        for k, v in terms.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v.detach())
        self.steps += 1
        self.images += images

    def images_per_s(self) -> float:
        return self.images / (time.time() - self.since)

    def means(self) -> dict[str, float]:
        """The objective's "total" is the log's "loss"."""
        return {k if k != "total" else "loss": v / self.steps for k, v in self.sums.items()}


class Trainer:
    def __init__(self, cfg: RunConfig, out: Path, device: torch.device, rank: int = 0, world: int = 1):
        self.cfg, self.out, self.device, self.rank, self.world = cfg, out, device, rank, world
        seed = cfg.train.seed
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed)
        self.spec = get_spec(cfg.model)
        # channels_last: the convolutions' fast layout on CPU (oneDNN) and CUDA alike
        self.model = self.spec.build(**cfg.model_options).to(device, memory_format=torch.channels_last)
        self.objective = build_objective(cfg.loss["name"], self.model, **cfg.objective_options())
        self.opt = self.build_optimizer()
        self.objective.setup(device, cfg.optim.lr, cfg.optim.betas, distributed=world > 1)
        self.step = 0
        self.from_weights = False  # trained weights: a weight average starts at full decay
        d = cfg.data
        self.data = TrainImages(d.train, d.crop, seed, d.scale)
        self.sampler = EpochSampler(len(self.data), seed, rank, world)
        self.val = None
        if cfg.train.val_every and rank == 0:
            self.val = EvalImages(d.val, 256, cfg.train.val_images)
        self.net = self.model
        if world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(self.model)
        self.ema: WeightAverage | None = None
        self.resumed_ema: dict = {}  # the checkpoint's average, for run() to hand to WeightAverage
        self.autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext())
        self.rng_devices = [device] if device.type == "cuda" else []  # the CUDA generators fork_rng keeps

    def build_optimizer(self) -> torch.optim.Optimizer:
        """AdamW over the model's parameter groups (a pretrained encoder at its own rate),
        each keeping its base rate for the schedule."""
        o = self.cfg.optim
        groups = (self.model.param_groups(o.lr, o.encoder_lr_scale, o.decoder_lr_scale) if hasattr(self.model, "param_groups")
                  else [{"params": self.model.parameters(), "lr": o.lr}])
        for g in groups:
            g["base_lr"] = g["lr"]
        return torch.optim.AdamW(groups, betas=o.betas, weight_decay=o.weight_decay)

    # ---- learning rate: linear warm-up, then cosine to 5% of the base rate
    def lr_factor(self) -> float:
        warmup, steps = self.cfg.optim.warmup, self.cfg.train.steps
        if self.step < warmup:
            return (self.step + 1) / warmup
        p = min(1.0, (self.step - warmup) / max(1, steps - warmup))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p))

    def set_learning_rates(self) -> None:
        factor = self.lr_factor()
        for g in self.opt.param_groups:
            g["lr"] = g["base_lr"] * factor
        self.objective.set_lr_factor(factor)

    def agree(self, flag: bool) -> bool:
        """True on every rank if it is true on any (so all ranks stop together)."""
        if self.world == 1:
            return flag
        t = torch.tensor([float(flag)], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def sync_buffers(self) -> None:
        """DDP keeps parameters equal but lets each rank update its own BatchNorm
        statistics after the last broadcast: end with rank 0's everywhere."""
        if self.world > 1:
            for module in (self.model, self.objective.discriminator):
                for buf in (module.buffers() if module is not None else ()):
                    dist.broadcast(buf, 0)

    # ---- checkpoints: plain tensors and numbers, loadable with weights_only=True
    def save(self) -> None:
        state = {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
                 "epoch": self.sampler.epoch, "torch_rng": torch.get_rng_state()}
        if self.device.type == "cuda":  # dropout and sampling on the GPU draw from its own generator
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        state.update(self.objective.state())  # the GAN's discriminator and its optimiser
        if self.ema is not None:
            state.update(self.ema.state())
        tmp = self.out / "last.pt.tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.out / "last.pt")

    def resume(self) -> bool:
        path = self.out / "last.pt"
        if not path.exists():
            return False
        state = torch.load(path, map_location=self.device, weights_only=True)
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.objective.load(state)
        self.step = int(state["step"])
        # the states are CPU byte tensors, whatever map_location moved them to
        torch.set_rng_state(state["torch_rng"].cpu())
        if self.device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), self.device)
        self.resumed_ema = {k: state[k] for k in ("ema", "ema_updates", "ema_ramp") if k in state}
        return True

    def start_from_weights(self, folder: Path, fine_tune: bool = False) -> None:
        """Continue from exported weights (model only: the optimiser starts fresh),
        at the step they were exported at, with their log carried over. For a new
        machine where runs/ is gone but weights/<name>/ was committed. fine_tune:
        a new run that only starts from those weights (step 0, its own log)."""
        from .hub import apply_state, load_state

        state, config = load_state(Path(folder))
        # layers that start at zero (a hint reader) may be new to weights trained before them
        apply_state(self.model, state, str(folder), may_lack=self.model.zero_started)
        self.from_weights = True
        if fine_tune:  # export carries this into config.json, so budgets add up
            if self.rank == 0:
                self.out.mkdir(parents=True, exist_ok=True)
                record = started_from(config, self.cfg.train.init or str(folder))
                (self.out / STARTED_FROM).write_text(json.dumps(record, indent=2) + "\n")
            return
        self.step = int(config.get("steps", 0))
        log = Path(folder) / "train_log.csv"
        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
            if log.exists():
                copy_log_to_step(log, self.out / "train_log.csv", self.step)
            if config.get("started_from"):  # a continued fine-tune keeps what it started from
                (self.out / STARTED_FROM).write_text(json.dumps(config["started_from"], indent=2) + "\n")

    def start(self, resume: bool, init_weights: str | None, fine_tune: bool) -> bool:
        """Begin at the checkpoint (--resume), at exported weights or at step 0; True
        where the run carries on the log that is there."""
        if resume and self.resume():
            if self.rank == 0:
                print(f"resumed {self.out / 'last.pt'} at step {self.step}")
            return True
        if init_weights:
            self.start_from_weights(Path(init_weights), fine_tune)
            if self.rank == 0:
                print(f"started from {init_weights} at step {self.step}")
            return not fine_tune  # the carried-over log
        return resume

    def start_weight_average(self) -> None:
        decay = self.cfg.train.ema
        if decay > 0:
            self.ema = WeightAverage(self.model, decay)
            fresh = self.step == 0 and not self.from_weights  # the ramp is for untrained weights only
            if not self.ema.load(self.resumed_ema, self.model, ramp=fresh) and self.rank == 0:
                print(f"weight average (decay {decay}) starts at step {self.step}")

    def batches(self):
        """Endless batches; the position in the epoch follows from the step."""
        batch = self.cfg.data.batch
        per_epoch = len(range(self.rank, len(self.data), self.world)) // batch
        while True:
            epoch, within = divmod(self.step, per_epoch)
            self.sampler.epoch = self.data.epoch = epoch
            self.sampler.start = within * batch
            # Its own generator: each new iterator draws the workers' base seed, and a draw
            # from the global RNG on resume would shift dropout and the VAE's sampling.
            g = torch.Generator().manual_seed(self.cfg.train.seed * 100003 + epoch)
            loader = torch.utils.data.DataLoader(self.data, batch, sampler=self.sampler, drop_last=True,
                                                 num_workers=self.cfg.data.workers, persistent_workers=False,
                                                 pin_memory=self.device.type == "cuda", generator=g)
            for rgb in loader:
                yield epoch, rgb

    def train_step(self, rgb: torch.Tensor) -> dict[str, torch.Tensor]:
        """One step of the schedule: the objective's forward, backward and
        optimiser(s), then the weight average; the loss terms."""
        self.set_learning_rates()
        L, ab = lab_batch(rgb.to(self.device, non_blocking=True))
        L = L.contiguous(memory_format=torch.channels_last)
        terms = self.objective.train_step(self.net, L, ab, self.opt, self.autocast)
        if self.ema is not None:
            self.ema.update(self.model)
        return terms

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """PSNR, colourfulness and AuC on a fixed slice of the validation set, of the
        weights that export ships (the average, where there is one)."""
        model = self.ema.model if self.ema is not None else self.model
        model.eval()
        scores = {k: [] for k in VAL_FIELDS}
        # Forked RNG: a stop on a time budget validates at a step the uninterrupted run
        # does not, and rank 0 alone validates; neither may move the training's stream.
        with torch.random.fork_rng(devices=self.rng_devices):
            for _, rgb in torch.utils.data.DataLoader(self.val, batch_size=16):
                L = lab_batch(rgb)[0]
                out = render_batch(L, model.predict(L.to(self.device))["ab"])  # what a user would get
                values = score_images(out, truth_terms(rgb, rebalanced=False), ("psnr", "colorfulness", "auc"))
                for k, v in values.items():
                    scores[f"val_{k}"] += v.tolist()
        self.model.train()
        return {k: float(np.mean(v)) for k, v in scores.items()}

    def log_row(self, log: TrainLog, window: LogWindow, epoch: int, wall: float, last: bool) -> dict:
        """Append this step's row, `wall` seconds into this start (with a validation
        every `val_every` steps, and at the last)."""
        row = {"step": self.step, "epoch": epoch, "lr": self.opt.param_groups[0]["lr"],
               "images_per_s": window.images_per_s(), "wall_s": log.wall_before + wall, **window.means()}
        if self.val is not None and (self.step % self.cfg.train.val_every == 0 or last):
            row.update(self.validate())
        log.append(row)
        window.reset()
        return row

    def run(self, resume: bool = False, minutes: float | None = None, init_weights: str | None = None,
            fine_tune: bool = False) -> None:
        """Train to the config's step count, or stop (with a checkpoint) once
        `minutes` of wall time have passed; --resume continues either way."""
        self.out.mkdir(parents=True, exist_ok=True)
        carry_on_log = self.start(resume, init_weights, fine_tune)
        self.start_weight_average()
        t = self.cfg.train
        started = time.time()
        log, window = None, LogWindow()
        if self.rank == 0:
            self.cfg.save(self.out / RESOLVED_CONFIG)
            log = TrainLog(self.out / "train_log.csv", self.step, carry_on_log)
        self.model.train()
        bar = tqdm(total=t.steps, initial=self.step, disable=self.rank != 0, desc=self.spec.name, unit="step")
        for epoch, rgb in self.batches():
            if self.step >= t.steps:
                break
            window.add(self.train_step(rgb), rgb.shape[0] * self.world)
            self.step += 1
            bar.update(1)
            out_of_time = self.agree(minutes is not None and time.time() - started > 60 * minutes)
            last = self.step == t.steps or out_of_time
            if self.rank == 0 and (self.step % t.log_every == 0 or last):
                row = self.log_row(log, window, epoch, time.time() - started, last)
                bar.set_postfix(loss=f"{row['loss']:.4f}")
            if self.rank == 0 and (self.step % t.ckpt_every == 0 or last):
                self.save()
            if out_of_time:
                break
        bar.close()
        self.sync_buffers()


def main(config: str, resume: bool = False, steps: int | None = None, out: str | None = None,
         device: str | None = None, minutes: float | None = None, train_data: str | None = None,
         init_weights: str | None = None, fine_tune: bool = False, overrides: list[str] | None = None) -> Path:
    cfg = apply_overrides(load_config(config), overrides or [])
    if steps is not None:
        cfg.train.steps = steps
    if train_data is not None:
        cfg.data.train = train_data
    if out is not None:
        cfg.train.out = out
    rank, world = rank_and_world()
    dev = local_device(device)
    if dev.type == "cuda" and world > 1:
        torch.cuda.set_device(dev)
    out_dir = Path(cfg.train.out)
    with process_group(dev.type):
        Trainer(cfg, out_dir, dev, rank, world).run(resume=resume, minutes=minutes, init_weights=init_weights,
                                                 fine_tune=fine_tune)
    return out_dir
