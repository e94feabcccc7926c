"""Speed and memory of colorization, end to end, for every model, on each runtime:

    python -m colorcore bench --models all --out results/bench.csv

Per model, device (CPU with --threads threads; CUDA too when present) and runtime
(`torch`, and on the CPU also `onnx`: ONNX Runtime, colorcore.onnx_runtime), one row per
image size: the median and 90th percentile latency of `colorize(PIL image)` after
warm-up (decode not included: the photo is already a PIL image; everything after it is:
lightness, resize, the net, ab upsampling, gamut fitting, sRGB, 8-bit output), the
batch throughput of `colorize_tensor` at the model's net resolution, and peak memory.

For the --folder models (the flagship by default), file to file as the CLI does it
(colorcore.bench_folder): the 12 MP row's `stage_*_s` columns break a 4000x3000 JPEG's
colorization into its steps (decode, lightness, net, upsample, srgb: Lab to 8-bit sRGB
with the gamut test, gamut_fit: the out-of-gamut pixels' chroma fit, png: PNG writing),
median over --repeats-large runs; and on every row of the model, `folder_256_img_s` is
the images per second of `colorize` over a folder of 96 real 256x256 photos, and
`folder_mixed_img_s` / `folder_mixed_mp_s` over a folder of 30 real photos of mixed sizes
(384x303 to 1411x1411), with `folder_peak_rss_mb` the process's peak after both.

Every model and runtime runs in a fresh subprocess, so one's allocations never count in
another's peak. Sizes run in ascending order, so `peak_rss_mb` (ru_maxrss of that
process after the size's runs: interpreter, torch, model and all work so far) is the
peak while colorizing images up to that size. `cuda_max_alloc_mb` is
torch.cuda.max_memory_allocated over that size's runs alone.

A reference row is always measured first in the same run: the eccv16 architecture at
its original full width (~32M parameters, random weights) colorizing a 256x256 photo on
PyTorch, i.e. one forward pass of the network Zhang et al. published plus the pipeline
around it. `ratio_vs_reference` = latency / reference latency on the same device (0.05 =
20x faster); `speedup_vs_reference` is its inverse.

The latency photos are synthetic (smooth colour fields with grain), so those numbers do
not depend on any dataset; the folders are scikit-image's bundled photographs.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .bench_folder import (FOLDER_256_FILES, FOLDER_MIXED_COPIES, PHOTOS, STAGES, folder_throughput, stage_breakdown,
                           write_folder)
from .onnx_runtime import RUNTIME_ENV
from .provenance import git_commit, load_average, machine
from .tables import csv_value, text_table

REFERENCE_MODEL, REFERENCE_NAME = "eccv16", "eccv16-full"
REFERENCE_OPTIONS = {"width": 1.0}
REFERENCE_SIZE = (256, 256)
DEFAULT_SIZES = "256,512,1024,4000x3000"
LARGE_PIXELS = 2_000_000  # above this, the --repeats-large / one warm-up regime
STAGE_COLUMNS = [f"stage_{s}_s" for s in STAGES]
FOLDER_COLUMNS = ["folder_256_img_s", "folder_mixed_img_s", "folder_mixed_mp_s", "folder_peak_rss_mb"]
COLUMNS = ["model", "reference", "weights", "params", "weights_mb_fp16", "net_size", "device", "runtime", "threads",
           "size", "megapixels", "warmup", "repeats", "latency_median_s", "latency_p90_s", "ratio_vs_reference",
           "speedup_vs_reference", "throughput_img_s", "throughput_batch", "peak_rss_mb", "cuda_max_alloc_mb",
           *STAGE_COLUMNS, *FOLDER_COLUMNS]


def parse_sizes(spec: str) -> list[tuple[int, int]]:
    """'256,512,4000x3000,12mp' -> [(w, h), ...]; N means NxN, 12mp means 4000x3000."""
    sizes = []
    for part in (p.strip().lower() for p in spec.split(",") if p.strip()):
        if part == "12mp":
            sizes.append((4000, 3000))
        elif "x" in part:
            w, h = part.split("x")
            sizes.append((int(w), int(h)))
        else:
            sizes.append((int(part), int(part)))
    return sizes


def synthetic_photo(width: int, height: int, seed: int = 0):
    """A deterministic photo-like RGB image: a smooth colour field with 8-bit grain,
    made in uint8 only so that making it never sets the memory peak."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(max(2, height // 64), max(2, width // 64), 3), dtype=np.uint8)
    field = np.asarray(Image.fromarray(small, "RGB").resize((width, height), Image.BICUBIC)).copy()
    field //= 2
    field += rng.integers(0, 64, size=field.shape, dtype=np.uint8)
    return Image.fromarray(field, "RGB")


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return kb / 1024 / (1024 if sys.platform == "darwin" else 1)


def _stats(times: list[float]) -> tuple[float, float]:
    return float(np.median(times)), float(np.percentile(times, 90))


# --------------------------------------------------------------------------
# The worker: one model on one device and runtime, in its own process

def worker(job: dict) -> list[dict]:
    import torch

    from .evaluate import load_for_eval
    from .pipeline import load_colorizer
    from .render import lightness

    torch.set_num_threads(job["threads"])
    device = torch.device(job["device"])
    cuda = device.type == "cuda"
    if job["reference"]:
        torch.manual_seed(0)
        colorizer = load_colorizer(REFERENCE_MODEL, device=device, random_init=True,
                                   model_options=REFERENCE_OPTIONS, runtime="torch")
        weights, name = "random", REFERENCE_NAME
    else:
        colorizer, weights = load_for_eval(job["model"], device, job.get("random_init", False), job.get("net_size"))
        name = colorizer.spec.name
    model = colorizer.model
    params = sum(p.numel() for p in model.parameters())
    weight_bytes = sum(v.numel() * (2 if v.is_floating_point() else v.element_size())
                       for v in model.state_dict().values())
    base = {"model": name, "reference": int(job["reference"]), "weights": weights, "params": params,
            "weights_mb_fp16": weight_bytes / 1e6, "net_size": colorizer.spec.net_size, "device": device.type,
            "runtime": colorizer.runtime, "threads": job["threads"] if not cuda else "", "throughput_img_s": "",
            "throughput_batch": "", **{c: "" for c in STAGE_COLUMNS + FOLDER_COLUMNS}}

    rows = []
    for w, h in sorted(job["sizes"], key=lambda s: s[0] * s[1]):
        large = w * h > LARGE_PIXELS
        warmup = 1 if large else job["warmup"]
        repeats = job["repeats_large"] if large else job["repeats"]
        image = synthetic_photo(w, h)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats(device)
        for _ in range(warmup):
            colorizer.colorize(image, seed=0)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            colorizer.colorize(image, seed=0)  # returns a PIL image: the GPU work is done
            times.append(time.perf_counter() - t0)
        median, p90 = _stats(times)
        rows.append({**base, "size": f"{w}x{h}", "megapixels": w * h / 1e6, "warmup": warmup, "repeats": repeats,
                     "latency_median_s": median, "latency_p90_s": p90, "peak_rss_mb": _peak_rss_mb(),
                     "cuda_max_alloc_mb": torch.cuda.max_memory_allocated(device) / 2 ** 20 if cuda else ""})
        if job.get("folder") and large:
            stages = stage_breakdown(colorizer, image, job["repeats_large"])
            rows[-1].update({f"stage_{k}_s": v for k, v in stages.items()})
        del image

    if job["batch"] > 0:
        n = colorizer.spec.net_size
        L = lightness(np.asarray(synthetic_photo(n, n))).expand(job["batch"], -1, -1, -1).contiguous()
        reps = 1 if job["reference"] else job["throughput_repeats"]
        if not job["reference"]:  # the reference's ~1 s forward passes are warm from the latency runs
            colorizer.colorize_tensor(L, seed=0)
        t0 = time.perf_counter()
        for _ in range(reps):
            colorizer.colorize_tensor(L, seed=0)
        if cuda:
            torch.cuda.synchronize()
        throughput = job["batch"] * reps / (time.perf_counter() - t0)
        for r in rows:
            r["throughput_img_s"], r["throughput_batch"] = throughput, job["batch"]

    if job.get("folder"):
        folders = _folders(colorizer, max(1, job["batch"]))
        for r in rows:
            r.update(folders)
    return rows


def _folders(colorizer, batch: int) -> dict:
    """Images per second of `colorize` over the two folders of real photos, file to file."""
    with tempfile.TemporaryDirectory(prefix="colorcore-bench-") as tmp:
        small = write_folder(Path(tmp) / "in-256", 256, FOLDER_256_FILES)
        mixed = write_folder(Path(tmp) / "in-mixed", None, FOLDER_MIXED_COPIES * len(PHOTOS))
        at_256 = folder_throughput(colorizer, small, Path(tmp) / "out-256", batch)
        at_mixed = folder_throughput(colorizer, mixed, Path(tmp) / "out-mixed", batch)
    return {"folder_256_img_s": at_256["img_s"], "folder_mixed_img_s": at_mixed["img_s"],
            "folder_mixed_mp_s": at_mixed["mp_s"], "folder_peak_rss_mb": _peak_rss_mb()}


def _run_worker(job: dict) -> list[dict]:
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "OMP_NUM_THREADS": str(job["threads"]), "MKL_NUM_THREADS": str(job["threads"]),
           RUNTIME_ENV: job["runtime"]}  # load_for_eval's load_colorizer names none
    proc = subprocess.run([sys.executable, "-m", "colorcore.bench", "--worker", json.dumps(job)],
                          capture_output=True, text=True, env=env, cwd=root)
    if proc.returncode != 0:
        raise RuntimeError(f"bench worker for {job['model']} on {job['device']} ({job['runtime']}) failed:\n"
                           f"{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------

def bench(models: str | list[str] | None, out: str | Path, sizes: str = DEFAULT_SIZES, repeats: int = 10,
          repeats_large: int = 3, warmup: int = 2, batch: int = 8, throughput_repeats: int = 3, threads: int = 2,
          devices: list[str] | None = None, random_init: bool = False, progress: bool = True,
          net_size: int | None = None, runtimes: list[str] | None = None,
          folder_models: str | list[str] | None = "default") -> list[dict]:
    import torch
    from tqdm import tqdm

    from .evaluate import model_names

    t_start = time.perf_counter()
    names = model_names(models)
    size_list = parse_sizes(sizes)
    if devices is None:
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    common = {"threads": threads, "repeats": repeats, "repeats_large": repeats_large, "warmup": warmup,
              "batch": batch, "throughput_repeats": throughput_repeats, "random_init": random_init}
    model_common = {**common, "net_size": net_size}  # never the reference's: it stays the yardstick
    runtimes = runtimes or ["torch", "onnx"]
    with_folder = set() if folder_models in (None, "none", "") else set(model_names(folder_models))
    jobs = []
    for device in devices:
        jobs.append({**common, "model": REFERENCE_NAME, "reference": True, "device": device, "runtime": "torch",
                     "sizes": [REFERENCE_SIZE]})
        for runtime in runtimes if device == "cpu" else ["torch"]:  # ONNX Runtime's CPU build
            jobs += [{**model_common, "model": n, "reference": False, "device": device, "runtime": runtime,
                      "sizes": size_list, "folder": n in with_folder} for n in names]

    load_start = load_average()
    if load_start and load_start[0] > 1.0:
        print(f"warning: load average {load_start[0]:.1f} before the bench: other processes are using the CPU, "
              "so latencies will be inflated (threads oversubscribed); it is recorded in the .meta.json",
              file=sys.stderr)
    rows, failures = [], []
    for job in tqdm(jobs, desc="bench", unit="model", disable=not progress):
        try:
            rows += _run_worker(job)
        except RuntimeError as e:
            failures.append(str(e))
            print(e, file=sys.stderr)

    for device in devices:
        ref = [r for r in rows if r["reference"] and r["device"] == device]
        ref_latency = ref[0]["latency_median_s"] if ref else None
        for r in rows:
            if r["device"] == device:
                r["ratio_vs_reference"] = r["latency_median_s"] / ref_latency if ref_latency else ""
                r["speedup_vs_reference"] = ref_latency / r["latency_median_s"] if ref_latency else ""

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([csv_value(r[c]) for c in COLUMNS])
    commit, dirty = git_commit()
    meta = {"models": names, "reference": {"model": REFERENCE_MODEL, "options": REFERENCE_OPTIONS,
                                           "size": "x".join(map(str, REFERENCE_SIZE)), "weights": "random"},
            "sizes": [f"{w}x{h}" for w, h in size_list], "devices": devices, **common,
            "net_size": net_size,  # --net-size for the models (never the reference)
            "runtimes": runtimes, "folder_models": sorted(with_folder),
            "input": "latency: synthetic PIL RGB photo (smooth colour field + grain), decode not timed; stages: "
                     "a JPEG (quality 90) of the 4000x3000 one; folders: scikit-image's photographs as JPEG",
            "commit": commit, "commit_dirty": dirty,
            "date_utc": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
            "machine": {**machine("cpu", threads, load_start), "onnxruntime": _onnxruntime_version()},
            "failures": failures, "wall_seconds": round(time.perf_counter() - t_start, 1)}
    out.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    if failures:
        raise RuntimeError(f"{len(failures)} bench worker(s) failed; the rest is in {out}")
    return rows


def _onnxruntime_version() -> str | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    return onnxruntime.__version__


def main(models: str, out: str, sizes: str = DEFAULT_SIZES, repeats: int = 10, repeats_large: int = 3,
         warmup: int = 2, batch: int = 8, threads: int = 2, devices: str | None = None,
         net_size: int | None = None, runtimes: str = "torch,onnx", folder: str = "default") -> int:
    rows = bench(models, out, sizes, repeats, repeats_large, warmup, batch, threads=threads,
                 devices=devices.split(",") if devices else None, net_size=net_size,
                 runtimes=[r.strip() for r in runtimes.split(",") if r.strip()], folder_models=folder)
    cols = ["model", "device", "runtime", "size", "latency_median_s", "speedup_vs_reference", "throughput_img_s",
            "peak_rss_mb"]
    print(text_table(cols, [[r[c] for c in cols] for r in rows]))
    staged = [r for r in rows if r["stage_png_s"] != ""]  # the folder models' 12 MP rows
    if staged:
        cols = ["model", "runtime", "size", *STAGE_COLUMNS, *FOLDER_COLUMNS]
        print(text_table(cols, [[r[c] for c in cols] for r in staged]))
    print(f"wrote {out} and {Path(out).with_suffix('.meta.json')}")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--worker", required=True, help="a JSON job (internal: one model in its own process)")
    print(json.dumps(worker(json.loads(p.parse_args().worker))))
