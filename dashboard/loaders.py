"""Reading what the dashboard shows: results/<set>/{metrics.csv, per_image.csv,
ab_hist.npz, meta.json}, results/bench.csv (+ bench.meta.json), results/hints/
(evaluate-hints: curve.csv, per_image.csv, edges.csv, meta.json) and the training
logs weights/<model>/train_log.csv and runs/<run>/train_log.csv.

Plain pandas / numpy, no Streamlit, so every function can be tested directly.
A missing input gives None (the page shows a plain note); an unreadable one
raises InputError with a message meant for the page.

Where things are read from:
- COLORCORE_ROOT: the repository (default: the checkout this file is in); its
  weights/ and runs/ hold the training logs.
- COLORCORE_RESULTS: the results folder (default: <root>/results).
"""
from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
from colorcore.schema import (EVAL_SETS, FRECHET_COLUMN, GRAY, GROUND_TRUTH, HIGHER_BETTER,  # noqa: F401 (re-exported)
                              LOG_META, LOWER_BETTER, METRIC_COLUMNS, PIXEL_METRICS, REFERENCE_ROWS,
                              SEMANTIC_COLUMN)

METRICS = tuple(METRIC_COLUMNS[METRIC_COLUMNS.index("psnr"):METRIC_COLUMNS.index("images")])
PER_IMAGE_METRICS = (*PIXEL_METRICS, "top1_agrees")
IN_PROGRESS = "in progress"


class InputError(ValueError):
    """An input file exists but cannot be read; the message says which and why."""


def root() -> Path:
    return Path(os.environ.get("COLORCORE_ROOT") or REPO)


def results_dir() -> Path:
    env = os.environ.get("COLORCORE_RESULTS")
    return Path(env) if env else root() / "results"


def stamp(path: Path | str) -> float:
    """A cache key that changes when the file (or folder) changes; 0 when absent."""
    try:
        return Path(path).stat().st_mtime_ns / 1e9
    except OSError:
        return 0.0


def tree_stamp(folder: Path | str, pattern: str = "*") -> tuple:
    """mtimes of everything matching pattern under folder: a cache key for a listing."""
    folder = Path(folder)
    if not folder.is_dir():
        return ()
    return tuple(sorted((str(p), stamp(p)) for p in folder.glob(pattern)))


def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"{path}: cannot be read as CSV ({type(e).__name__}: {e})") from None


def read_json(path: Path | str) -> dict | None:
    path = Path(path)
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
    return value if isinstance(value, dict) else None


def _numeric(df: pd.DataFrame, columns) -> pd.DataFrame:
    for c in columns:
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


# --------------------------------------------------------------------------
# Evaluation sets: results/<set>/

PRIMARY_SETS = tuple(EVAL_SETS)  # val-broad (sources in no training shard), then val (in-domain)


def eval_sets(results: Path | str | None = None) -> list[str]:
    """Names of the folders under results/ that hold a metrics.csv (the primary
    val-broad first, then the in-domain val, then the others)."""
    results = Path(results) if results is not None else results_dir()
    if not results.is_dir():
        return []
    names = sorted(p.parent.name for p in results.glob("*/metrics.csv"))
    return sorted(names, key=lambda n: (PRIMARY_SETS.index(n) if n in PRIMARY_SETS else len(PRIMARY_SETS), n))


def read_budgets(base: Path | str | None = None) -> pd.DataFrame | None:
    """One row per shipped model: what its weights were trained on in total
    (weights/<model>/config.json through colorcore.provenance)."""
    from colorcore.provenance import training_budget

    base = Path(base) if base is not None else root()
    rows = []
    for path in sorted((base / "weights").glob("*/config.json")):
        cfg = read_json(path)
        if not isinstance(cfg, dict):
            continue
        b = training_budget(cfg)
        rows.append({"model": path.parent.name, "data": " then ".join(f"v{v}" for v in b["data_versions"]),
                     "steps": b["steps"], "images seen": b["images_seen"], "hours": round(b["hours"], 2),
                     "hardware": b["hardware"]})
    return pd.DataFrame(rows) if rows else None


def read_metrics(folder: Path | str) -> pd.DataFrame | None:
    """metrics.csv with numeric metric columns; the reference rows first."""
    df = _read_csv(Path(folder) / "metrics.csv")
    if df is None:
        return None
    if "model" not in df.columns:
        raise InputError(f"{Path(folder) / 'metrics.csv'}: no 'model' column")
    df["model"] = df["model"].astype(str)
    df = _numeric(df, METRICS + ("images", "net_size"))
    ref = df["model"].isin(REFERENCE_ROWS)
    order = {GRAY: 0, GROUND_TRUTH: 1}
    refs = df[ref].assign(_o=df.loc[ref, "model"].map(order)).sort_values("_o").drop(columns="_o")
    return pd.concat([refs, df[~ref]], ignore_index=True)


def read_per_image(folder: Path | str) -> pd.DataFrame | None:
    df = _read_csv(Path(folder) / "per_image.csv")
    if df is None:
        return None
    missing = {"image", "model"} - set(df.columns)
    if missing:
        raise InputError(f"{Path(folder) / 'per_image.csv'}: missing columns {sorted(missing)}")
    df["image"], df["model"] = df["image"].astype(str), df["model"].astype(str)
    return _numeric(df, PER_IMAGE_METRICS)


@dataclass
class AbHist:
    """ab_hist.npz: per row (model or reference) a 2-D histogram normalised to sum 1,
    indexed [a bin, b bin], and its marginals, on the bins centred at `centres`."""

    centres: np.ndarray
    hist: dict[str, np.ndarray] = field(default_factory=dict)
    a: dict[str, np.ndarray] = field(default_factory=dict)
    b: dict[str, np.ndarray] = field(default_factory=dict)
    pixels: int | None = None

    @property
    def rows(self) -> list[str]:
        return list(self.hist)

    @property
    def models(self) -> list[str]:
        return [r for r in self.hist if r not in REFERENCE_ROWS]


def read_ab_hist(folder: Path | str) -> AbHist | None:
    path = Path(folder) / "ab_hist.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise InputError(f"{path}: cannot be read ({type(e).__name__}: {e})") from None
    if "centres" in arrays:
        centres = arrays["centres"].astype(np.float64)
    elif "edges" in arrays:
        e = arrays["edges"].astype(np.float64)
        centres = (e[:-1] + e[1:]) / 2
    else:
        raise InputError(f"{path}: neither 'centres' nor 'edges' in it")
    names = [str(r) for r in arrays["rows"]] if "rows" in arrays else sorted(
        k[: -len("__hist2d")] for k in arrays if k.endswith("__hist2d"))
    out = AbHist(centres=centres, pixels=int(arrays["pixels"]) if "pixels" in arrays else None)
    n = len(centres)
    for name in names:
        h = arrays.get(f"{name}__hist2d")
        if h is None or h.shape != (n, n):
            continue
        h = h.astype(np.float64)
        total = h.sum()
        h = h / total if total > 0 else h
        out.hist[name] = h
        out.a[name] = arrays[f"{name}__a"].astype(np.float64) if f"{name}__a" in arrays else h.sum(1)
        out.b[name] = arrays[f"{name}__b"].astype(np.float64) if f"{name}__b" in arrays else h.sum(0)
    return out


def _quote(s: str) -> str:
    return s if s and all(c.isalnum() or c in "-_./=:,+" for c in s) else "'" + s.replace("'", "'\\''") + "'"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(root().resolve()))
    except ValueError:
        return str(path)


def eval_command(folder: Path | str, meta: dict | None) -> str:
    """The command that wrote results/<set>/, rebuilt from its meta.json."""
    meta = meta or {}
    models = ",".join(meta.get("models", {})) or "all"
    parts = ["python -m colorcore evaluate", "--data", _quote(str(meta.get("data", "?"))), "--models",
             _quote(models), "--out", _quote(_relative(Path(folder)))]
    if meta.get("limit"):
        parts += ["--limit", str(meta["limit"])]
    if meta.get("batch_size") not in (None, 16):
        parts += ["--batch-size", str(meta["batch_size"])]
    if meta.get("net_size"):
        parts += ["--net-size", str(meta["net_size"])]
    return " ".join(parts)


def _when(meta: dict) -> str:
    date = meta.get("date_utc") or meta.get("date") or "an unknown date"
    commit = str(meta.get("commit") or "unknown")
    commit = commit[:10] + (" + uncommitted changes" if meta.get("commit_dirty") else "")
    machine = meta.get("machine") or {}
    where = ""
    if isinstance(machine, dict) and machine:
        dev = machine.get("cuda_device") or machine.get("device") or ""
        threads = machine.get("torch_threads")
        where = f" on {machine.get('processor') or machine.get('platform', 'a machine')}"
        where += f" ({dev}{f', {threads} threads' if threads and 'cuda' not in str(dev) else ''})" if dev else ""
    return f"{date}, commit {commit}{where}"


def made_by(folder: Path | str, meta: dict | None) -> str:
    """One line for under a metrics table: which command made it, and when."""
    if not meta:
        return f"No meta.json in {_relative(Path(folder))}: the command and date that made this table are unknown."
    n = meta.get("images")
    return (f"`{eval_command(folder, meta)}` — {n if n is not None else '?'} images, "
            f"{_when(meta)}.")


# --------------------------------------------------------------------------
# Speed: results/bench.csv

def read_bench(path: Path | str | None = None) -> pd.DataFrame | None:
    path = Path(path) if path is not None else results_dir() / "bench.csv"
    df = _read_csv(path)
    if df is None:
        return None
    need = {"model", "megapixels", "latency_median_s"}
    if not need <= set(df.columns):
        raise InputError(f"{path}: missing columns {sorted(need - set(df.columns))}")
    df["model"] = df["model"].astype(str)
    df = _numeric(df, ("params", "threads", "megapixels", "latency_median_s", "latency_p90_s", "ratio_vs_reference",
                       "speedup_vs_reference", "throughput_img_s", "peak_rss_mb", "cuda_max_alloc_mb",
                       "weights_mb_fp16", "reference", "repeats"))
    if "device" not in df.columns:
        df["device"] = "cpu"
    df["device"] = df["device"].fillna("cpu").astype(str)
    if "reference" not in df.columns:
        df["reference"] = df["model"].str.endswith("-full").astype(int)
    df["reference"] = df["reference"].fillna(0).astype(bool)
    if "runtime" in df.columns:  # bench measures each model on PyTorch and on ONNX Runtime: one line each
        runtime = df["runtime"].astype("string").fillna("torch")
        other = runtime != "torch"
        df.loc[other, "model"] = df.loc[other, "model"] + " (" + runtime[other] + ")"
    return df.sort_values(["device", "reference", "model", "megapixels"], ascending=[True, False, True, True],
                          ignore_index=True)


def bench_made_by(path: Path | str, meta: dict | None) -> str:
    if not meta:
        meta_name = Path(path).with_suffix(".meta.json").name
        return f"No {meta_name} next to {_relative(Path(path))}: the command and date that made it are unknown."
    parts = ["python -m colorcore bench", "--models", _quote(",".join(meta.get("models", [])) or "all"),
             "--out", _quote(_relative(Path(path)))]
    if meta.get("sizes"):
        parts += ["--sizes", _quote(",".join(meta["sizes"]))]
    if meta.get("threads") not in (None, 2):
        parts += ["--threads", str(meta["threads"])]
    if meta.get("net_size"):
        parts += ["--net-size", str(meta["net_size"])]
    return f"`{' '.join(parts)}` — {_when(meta)}."


# --------------------------------------------------------------------------
# Colour hints: results/hints/ (python -m colorcore evaluate-hints)

HINTS = "hints"  # the folder under results/
HINT_FILES = {  # file -> the columns a page cannot do without, and the numeric ones
    "curve.csv": (("model", "hints", "psnr", "psnr_gain"), ("hints", "images", "psnr", "psnr_gain", "auc",
                                                           "colorfulness")),
    "per_image.csv": (("image", "model", "hints", "psnr"), ("hints", "psnr")),
    "edges.csv": (("model", "case", "leak"), ("hinted_change", "other_change", "leak")),
}


def hints_dir() -> Path:
    return results_dir() / HINTS


def read_hints(folder: Path | str, name: str) -> pd.DataFrame | None:
    """One of results/hints/{curve,per_image,edges}.csv, numbers as numbers, sorted
    by model (then hint count, image); rows without a hint count are dropped."""
    path = Path(folder) / name
    df = _read_csv(path)
    if df is None:
        return None
    need, numbers = HINT_FILES[name]
    missing = set(need) - set(df.columns)
    if missing:
        raise InputError(f"{path}: missing columns {sorted(missing)}")
    df["model"] = df["model"].astype(str)
    df = _numeric(df, numbers)
    if "hints" in df.columns:
        df = df.dropna(subset=["hints"]).astype({"hints": int})
    keys = [c for c in ("model", "hints", "image") if c in df.columns]  # edges keep the file's case order
    return df.sort_values(keys, kind="stable", ignore_index=True)


def hints_made_by(folder: Path | str, meta: dict | None) -> str:
    """The evaluate-hints command that wrote folder, its images and seed, and when."""
    if not meta:
        return f"No meta.json in {_relative(Path(folder))}: the command and date that made these results are unknown."
    parts = ["python -m colorcore evaluate-hints", "--data", _quote(str(meta.get("data", "?")))]
    if meta.get("models"):
        parts += ["--models", _quote(",".join(meta["models"]))]
    parts += ["--out", _quote(_relative(Path(folder)))]
    counts = meta.get("counts")
    if isinstance(counts, list) and counts != [0, 1, 2, 5, 10, 20]:
        parts += ["--counts", ",".join(str(c) for c in counts)]
    if meta.get("seed") not in (None, 0):
        parts += ["--seed", str(meta["seed"])]
    if meta.get("limit"):
        parts += ["--limit", str(meta["limit"])]
    n = meta.get("images")
    return (f"`{' '.join(parts)}` — {n if n is not None else '?'} images, hint seed {meta.get('seed', '?')}, "
            f"{_when(meta)}.")


# --------------------------------------------------------------------------
# Training logs

@dataclass(frozen=True)
class TrainLog:
    label: str  # what the legend says
    model: str
    path: Path
    status: str  # "final" (weights/) or "in progress" (runs/)


def find_train_logs(base: Path | str | None = None) -> list[TrainLog]:
    """weights/<model>/train_log.csv (final) and runs/<run>/train_log.csv (in progress)."""
    base = Path(base) if base is not None else root()
    logs = [TrainLog(p.parent.name, p.parent.name, p, "final")
            for p in sorted((base / "weights").glob("*/train_log.csv"))]
    logs += [TrainLog(f"{p.parent.name} ({IN_PROGRESS})", p.parent.name, p, IN_PROGRESS)
             for p in sorted((base / "runs").glob("*/train_log.csv"))]
    return logs


def read_train_log(path: Path | str) -> pd.DataFrame | None:
    """A train_log.csv as numbers, one row per step (a resumed run's last write wins)."""
    df = _read_csv(Path(path))
    if df is None:
        return None
    if "step" not in df.columns:
        raise InputError(f"{path}: no 'step' column")
    df = df.apply(pd.to_numeric, errors="coerce")
    df = df.dropna(subset=["step"]).drop_duplicates("step", keep="last").sort_values("step", ignore_index=True)
    return df


def loss_terms(df: pd.DataFrame) -> list[str]:
    """The loss columns of a log ("loss" first), those with at least one value."""
    terms = [c for c in df.columns if c not in LOG_META and not c.startswith("val_") and df[c].notna().any()]
    return sorted(terms, key=lambda c: (c != "loss", c))


def val_metrics(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith("val_") and df[c].notna().any()]

