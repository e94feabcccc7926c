"""Where weights and figures come from, in one place: what a model's shipped weights
were trained on (from their config.json, for the cards, the dashboard and the CLI: a
comparison between models must say how unequal their budgets are), and the commit and
machine that results, benchmarks and load tests were made on. No torch at import."""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

# The shared photo sets (../shared/data/SOURCES.md); weights exported before the
# version was recorded were trained on version 1.
DATA_VERSIONS = {
    1: "version 1: 17,016 photos from 13 sources, dominated by scenes, flowers, cats and dogs",
    2: "version 2: 21,272 photos from 25 sources (everyday objects, people, streets, animals, food added)",
}
STARTED_FROM = "started_from.json"  # written into a fine-tune's run folder, carried into config.json


def own_budget(config: dict) -> dict:
    """This run's own steps, images, wall time and data, without what it started from."""
    steps = int(config.get("steps") or 0)
    return {"data_version": int(config.get("data_version", 1)), "steps": steps,
            "images_seen": steps * int(config.get("batch") or 0), "wall_s": float(config.get("wall_s") or 0.0)}


def training_budget(config: dict) -> dict:
    """Totals over the run and the runs it was fine-tuned from: data version(s),
    steps, images seen, hours, and the hardware of the last run."""
    own = own_budget(config)
    prior = config.get("started_from") or {}
    versions = sorted({own["data_version"], *prior.get("data_versions", [])})
    return {
        "data_versions": versions,
        "steps": own["steps"] + int(prior.get("steps", 0)),
        "images_seen": own["images_seen"] + int(prior.get("images_seen", 0)),
        "hours": (own["wall_s"] + float(prior.get("wall_s", 0.0))) / 3600,
        "hardware": config.get("hardware", ""),
        "fine_tuned_from": prior.get("weights", ""),
    }


def started_from(config: dict, weights: str) -> dict:
    """The record a fine-tune keeps of the weights it started from (their totals)."""
    total = training_budget(config)
    return {"weights": weights, "sha256": config.get("sha256", ""), "data_versions": total["data_versions"],
            "steps": total["steps"], "images_seen": total["images_seen"], "wall_s": round(total["hours"] * 3600, 1)}


def budget_line(config: dict) -> str:
    """One sentence: what these weights were trained on, in total."""
    b = training_budget(config)
    data = " then ".join(f"v{v}" for v in b["data_versions"])
    line = (f"data {data}, {b['steps']:,} steps, {b['images_seen']:,} images seen, "
            f"{b['hours']:.1f} h on {b['hardware'] or 'unrecorded hardware'}")
    if b["fine_tuned_from"]:
        line += f" (fine-tuned from {b['fine_tuned_from']}, whose budget is included)"
    return line


# --------------------------------------------------------------------------
# The commit and the machine a figure was measured on

def git_commit() -> tuple[str, bool]:
    """(HEAD's commit, whether tracked files differ from it); ("unknown", False) outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                    capture_output=True, text=True).stdout.strip())
        return commit, dirty
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: others' use of the CPU while measuring."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine(device: str = "cpu", threads: int | None = None, load_at_start: list[float] | None = None) -> dict:
    """What a measurement ran on: platform, CPU, Python, torch, threads, device, load."""
    import torch

    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": threads if threads is not None else torch.get_num_threads(), "device": str(device)}
    if str(device).startswith("cuda"):
        info["cuda_device"] = torch.cuda.get_device_name(torch.device(device))
    info["load_average_at_start"] = load_at_start
    info["load_average_at_end"] = load_average()
    return info


def machine_line(info: dict) -> str:
    """machine() in one sentence, for reports."""
    return (f"{info['platform']}, {info['cpu_count']} CPU cores ({info['processor']}), Python {info['python']}, "
            f"torch {info['torch']} on {info['device']}" + (f" ({info['cuda_device']})" if "cuda_device" in info else ""))
