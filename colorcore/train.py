"""One training loop for every model in the zoo, chosen by a TOML config.

    python -m colorcore train --config configs/lite0-unet.toml [--resume] [--steps N]
    torchrun --nproc_per_node 2 -m colorcore train --config ...   (DistributedDataParallel)

The same command runs on CPU and CUDA (bf16 autocast there). It checkpoints to
<out>/last.pt every `ckpt_every` steps (tensors and numbers only, read back with
weights_only=True) and logs to <out>/train_log.csv (rewritten through a temporary
file, so a kill never leaves half a row). A kill and --resume end with the same weights
as a run without the kill: the checkpoint carries the RNG state, and only training
steps draw from it.
"""
from __future__ import annotations

import csv
import json
import math
import os
import random
import time
import tomllib
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from .color import compose
from .data import EvalImages, TrainImages, lab_batch
from .ema import WeightAverage
from .losses import build_objective
from .metrics import ab_accuracy_curve, auc, colorfulness, psnr
from .models import get_spec
from .provenance import STARTED_FROM, started_from

VAL_FIELDS = ["val_psnr", "val_colorfulness", "val_auc"]


def load_config(path: str | Path) -> dict:
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    cfg.setdefault("model_options", {})
    cfg.setdefault("loss", {"name": "ab_l2"})
    for key in ("data", "optim", "train"):
        cfg.setdefault(key, {})
    return cfg


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


class Trainer:
    def __init__(self, cfg: dict, out: Path, device: torch.device, rank: int = 0, world: int = 1):
        self.cfg, self.out, self.device, self.rank, self.world = cfg, out, device, rank, world
        t = cfg["train"]
        self.seed = int(t.get("seed", 0))
        torch.manual_seed(self.seed)
        random.seed(self.seed)
        np.random.seed(self.seed)
        self.spec = get_spec(cfg["model"])
        # channels_last: the convolutions' fast layout on CPU (oneDNN) and CUDA alike
        self.model = self.spec.build(**cfg["model_options"]).to(device, memory_format=torch.channels_last)
        self.objective = build_objective(cfg["loss"]["name"], self.model,
                                         **{k: v for k, v in cfg["loss"].items() if k != "name"})
        o = cfg["optim"]
        self.lr = float(o.get("lr", 2e-4))
        betas = tuple(o.get("betas", (0.9, 0.999)))
        groups = (self.model.param_groups(self.lr, float(o.get("encoder_lr_scale", 0.1)))
                  if hasattr(self.model, "param_groups") else [{"params": self.model.parameters(), "lr": self.lr}])
        for g in groups:
            g["base_lr"] = g["lr"]
        self.opt = torch.optim.AdamW(groups, betas=betas, weight_decay=float(o.get("weight_decay", 1e-4)))
        self.disc = self.objective.discriminator
        if self.disc is not None:
            self.disc.to(device, memory_format=torch.channels_last)
            if world > 1:
                self.objective.discriminator = torch.nn.parallel.DistributedDataParallel(self.disc)
            self.d_opt = torch.optim.Adam(self.disc.parameters(), lr=self.lr, betas=betas)
        self.steps = int(t.get("steps", 1000))
        self.warmup = int(o.get("warmup", 200))
        self.step = 0
        self.from_weights = False  # trained weights: a weight average starts at full decay
        d = cfg["data"]
        self.data = TrainImages(d.get("train", "../shared/data/train-*.tar"), int(d.get("crop", 128)), self.seed,
                                tuple(d.get("scale", (0.35, 1.0))))
        self.batch = int(d.get("batch", 32))
        self.sampler = EpochSampler(len(self.data), self.seed, rank, world)
        self.workers = int(d.get("workers", 1))
        self.val_every = int(t.get("val_every", 500))
        self.val = None
        if self.val_every and rank == 0:
            self.val = EvalImages(d.get("val", "../shared/data/val.tar"), 256, int(t.get("val_images", 64)))
        self.net = self.model
        if world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(self.model)
        self.ema_decay = float(t.get("ema", 0.0))  # 0: no average; validation and export use the raw weights
        self.ema: WeightAverage | None = None
        self.resumed_ema: dict = {}  # the checkpoint's average, for run() to hand to WeightAverage
        self.autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext())
        self.rng_devices = [device] if device.type == "cuda" else []  # the CUDA generators fork_rng keeps

    # ---- learning rate: linear warm-up, then cosine to 5% of the base rate
    def lr_factor(self) -> float:
        if self.step < self.warmup:
            return (self.step + 1) / self.warmup
        p = min(1.0, (self.step - self.warmup) / max(1, self.steps - self.warmup))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p))

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
            for module in (self.model, self.disc):
                for buf in (module.buffers() if module is not None else ()):
                    dist.broadcast(buf, 0)

    # ---- checkpoints: plain tensors and numbers, loadable with weights_only=True
    def save(self) -> None:
        state = {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
                 "epoch": self.sampler.epoch, "torch_rng": torch.get_rng_state()}
        if self.device.type == "cuda":  # dropout and sampling on the GPU draw from its own generator
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        if self.disc is not None:
            state["disc"] = self.disc.state_dict()
            state["d_opt"] = self.d_opt.state_dict()
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
        if self.disc is not None:
            self.disc.load_state_dict(state["disc"])
            self.d_opt.load_state_dict(state["d_opt"])
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
        apply_state(self.model, state, str(folder))
        self.from_weights = True
        if fine_tune:  # export carries this into config.json, so budgets add up
            if self.rank == 0:
                self.out.mkdir(parents=True, exist_ok=True)
                record = started_from(config, str(self.cfg["train"].get("init", folder)))
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

    def batches(self):
        """Endless batches; the position in the epoch follows from the step."""
        per_epoch = len(range(self.rank, len(self.data), self.world)) // self.batch
        while True:
            epoch, within = divmod(self.step, per_epoch)
            self.sampler.epoch = self.data.epoch = epoch
            self.sampler.start = within * self.batch
            # Its own generator: each new iterator draws the workers' base seed, and a draw
            # from the global RNG on resume would shift dropout and the VAE's sampling.
            g = torch.Generator().manual_seed(self.seed * 100003 + epoch)
            loader = torch.utils.data.DataLoader(self.data, self.batch, sampler=self.sampler, drop_last=True,
                                                 num_workers=self.workers, persistent_workers=False,
                                                 pin_memory=self.device.type == "cuda", generator=g)
            for rgb in loader:
                yield epoch, rgb

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
                rgb = rgb.to(self.device)
                L, ab = lab_batch(rgb)
                pred_ab = model.predict(L)["ab"].float()
                out = compose(L, pred_ab)
                full_ab = lab_batch(out)[1]
                scores["val_psnr"] += psnr(out, rgb).tolist()
                scores["val_colorfulness"] += colorfulness(out).tolist()
                scores["val_auc"] += auc(ab_accuracy_curve(full_ab, ab)).tolist()
        self.model.train()
        return {k: float(np.mean(v)) for k, v in scores.items()}

    def run(self, resume: bool = False, minutes: float | None = None, init_weights: str | None = None,
            fine_tune: bool = False) -> None:
        """Train to the config's step count, or stop (with a checkpoint) once
        `minutes` of wall time have passed; --resume continues either way."""
        self.out.mkdir(parents=True, exist_ok=True)
        if resume and self.resume():
            if self.rank == 0:
                print(f"resumed {self.out / 'last.pt'} at step {self.step}")
        elif init_weights:
            self.start_from_weights(Path(init_weights), fine_tune)
            resume = not fine_tune  # append to the carried-over log
            if self.rank == 0:
                print(f"started from {init_weights} at step {self.step}")
        if self.ema_decay > 0:
            self.ema = WeightAverage(self.model, self.ema_decay)
            fresh = self.step == 0 and not self.from_weights  # the ramp is for untrained weights only
            if not self.ema.load(self.resumed_ema, self.model, ramp=fresh) and self.rank == 0:
                print(f"weight average (decay {self.ema_decay}) starts at step {self.step}")
        log_path = self.out / "train_log.csv"
        fields, log_rows = None, []  # the log is small: rewritten whole, atomically, at each log step
        wall0 = time.time()
        prev_wall = 0.0
        if self.rank == 0 and log_path.exists() and resume:
            fields, log_rows = read_log_to_step(log_path, self.step)  # drop rows past the checkpoint
            write_csv_atomic(log_path, fields, log_rows)
            fields = fields if log_rows else None
            prev_wall = float(log_rows[-1]["wall_s"]) if log_rows else 0.0
        t = self.cfg["train"]
        log_every, ckpt_every = int(t.get("log_every", 25)), int(t.get("ckpt_every", 250))
        self.model.train()
        bar = tqdm(total=self.steps, initial=self.step, disable=self.rank != 0, desc=self.spec.name, unit="step")
        seen, tick = 0, time.time()
        running: dict[str, float] = {}
        running_n = 0
        for epoch, rgb in self.batches():
            if self.step >= self.steps:
                break
            for g in self.opt.param_groups:
                g["lr"] = g["base_lr"] * self.lr_factor()
            rgb = rgb.to(self.device, non_blocking=True)
            L, ab = lab_batch(rgb)
            L = L.contiguous(memory_format=torch.channels_last)
            with self.autocast:
                terms = self.objective(self.net, L, ab)
            self.opt.zero_grad(set_to_none=True)
            terms["total"].backward()
            self.opt.step()
            if self.disc is not None:
                for g in self.d_opt.param_groups:
                    g["lr"] = self.lr * self.lr_factor()
                with self.autocast:
                    d_terms = self.objective.discriminator_loss(self.model, L, ab)
                self.d_opt.zero_grad(set_to_none=True)
                d_terms["total"].backward()
                self.d_opt.step()
                terms["d_loss"] = d_terms["d_loss"]
            if self.ema is not None:
                self.ema.update(self.model)
            self.step += 1
            seen += rgb.shape[0] * self.world
            for k, v in terms.items():
                running[k] = running.get(k, 0.0) + float(v.detach())
            running_n += 1
            bar.update(1)
            out_of_time = self.agree(minutes is not None and time.time() - wall0 > 60 * minutes)
            last = self.step == self.steps or out_of_time
            if self.rank == 0 and (self.step % log_every == 0 or last):
                row = {"step": self.step, "epoch": epoch, "lr": self.opt.param_groups[0]["lr"],
                       "images_per_s": seen / (time.time() - tick), "wall_s": prev_wall + time.time() - wall0}
                row.update({k if k != "total" else "loss": v / running_n for k, v in running.items()})
                if self.val is not None and (self.step % self.val_every == 0 or last):
                    row.update(self.validate())
                fields = fields or list(row) + [f for f in VAL_FIELDS if f not in row]
                log_rows.append(row)
                write_csv_atomic(log_path, fields, log_rows)
                bar.set_postfix(loss=f"{row['loss']:.4f}")
                running, running_n, seen, tick = {}, 0, 0, time.time()
            if self.rank == 0 and (self.step % ckpt_every == 0 or last):
                self.save()
            if out_of_time:
                break
        bar.close()
        self.sync_buffers()


def apply_overrides(cfg: dict, overrides: list[str]) -> dict:
    """`section.key=value` settings over a config (values in TOML: 128, 0.02,
    "text", [0.5, 1.0]), for ablations that differ from a config in one setting."""
    for item in overrides:
        key, sep, value = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or section not in cfg or not isinstance(cfg[section], dict):
            raise ValueError(f"--set {item!r}: expected section.key=value with a section of the config "
                             f"({', '.join(k for k, v in cfg.items() if isinstance(v, dict))})")
        try:
            cfg[section][name] = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"--set {item!r}: {value.strip()!r} is not a TOML value ({e})") from None
    return cfg


def main(config: str, resume: bool = False, steps: int | None = None, out: str | None = None,
         device: str | None = None, minutes: float | None = None, train_data: str | None = None,
         init_weights: str | None = None, fine_tune: bool = False, overrides: list[str] | None = None) -> Path:
    cfg = apply_overrides(load_config(config), overrides or [])
    if steps is not None:
        cfg["train"]["steps"] = steps
    if train_data is not None:
        cfg["data"]["train"] = train_data
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if world > 1:
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
        if dev.type == "cuda":
            dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(dev)
    out_dir = Path(out or cfg["train"].get("out", f"runs/{cfg['model']}"))
    try:
        Trainer(cfg, out_dir, dev, rank, world).run(resume=resume, minutes=minutes, init_weights=init_weights,
                                                 fine_tune=fine_tune)
    finally:
        if world > 1:
            dist.destroy_process_group()
    return out_dir
