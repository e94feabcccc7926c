"""What the pages share: cached reads (keyed on file times, so new results show up
without a restart), the model list, cached colorizers and outputs, and notes."""
from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import streamlit as st

from dashboard import figures, images, labels, loaders

# Work actually done in this server process (the cached functions' bodies run only on a
# miss): ("load", model) and ("colorize", model) counts, read by the per-image page.
WORK: Counter = Counter()


def threads() -> int:
    # One torch thread unless told otherwise: the dashboard shares its machine with
    # training and evaluations, and OpenMP threads that outnumber the free cores spin
    # against each other (2 threads beside a busy core made colorizing 10-50x slower).
    return max(1, int(os.environ.get("COLORCORE_DASHBOARD_THREADS", "1")))


def column_config(columns, helps: dict | None = None, **overrides) -> dict:
    """st.dataframe column_config: every column under its human label, with a help
    text (the given one, else what the metric rewards)."""
    helps = helps or {}
    out = {c: st.column_config.Column(labels.label(c), help=helps.get(c) or labels.REWARDS.get(c)) for c in columns}
    out.update(overrides)
    return out


def note(text: str) -> None:
    """A plain note for a missing input."""
    st.info(text, icon=":material/info:")


def guard(fn, *args, **kwargs):
    """fn(*args) or, when an input exists but cannot be read, a warning and None."""
    try:
        return fn(*args, **kwargs)
    except loaders.InputError as e:
        st.warning(str(e), icon=":material/warning:")
        return None


# --------------------------------------------------------------------------
# Results and logs

@st.cache_data(show_spinner=False, max_entries=32)
def _metrics(folder: str, key: float):
    return loaders.read_metrics(folder)


@st.cache_data(show_spinner=False, max_entries=32)
def _per_image(folder: str, key: float):
    return loaders.read_per_image(folder)


@st.cache_data(show_spinner=False, max_entries=8)
def _ab_hist(folder: str, key: float):
    return loaders.read_ab_hist(folder)


@st.cache_data(show_spinner=False, max_entries=32)
def _json(path: str, key: float):
    return loaders.read_json(path)


@st.cache_data(show_spinner=False, max_entries=8)
def _bench(path: str, key: float):
    return loaders.read_bench(path)


@st.cache_data(show_spinner=False, max_entries=64)
def _train_log(path: str, key: float):
    return loaders.read_train_log(path)


@st.cache_data(show_spinner=False, max_entries=16)
def _hints(folder: str, name: str, key: float):
    return loaders.read_hints(folder, name)


@st.cache_data(show_spinner=False, max_entries=4)
def _plane(centres: tuple, L: float):
    import numpy as np

    return figures.ab_plane_rgb(np.asarray(centres), L)


def set_folder(name: str) -> Path:
    return loaders.results_dir() / name


def metrics(name: str):
    f = set_folder(name)
    return guard(_metrics, str(f), loaders.stamp(f / "metrics.csv"))


def per_image(name: str):
    f = set_folder(name)
    return guard(_per_image, str(f), loaders.stamp(f / "per_image.csv"))


def ab_hist(name: str):
    f = set_folder(name)
    return guard(_ab_hist, str(f), loaders.stamp(f / "ab_hist.npz"))


def meta(path: Path):
    return guard(_json, str(path), loaders.stamp(path))


def hints(name: str):
    """results/hints/<name> (curve.csv, per_image.csv or edges.csv)."""
    f = loaders.hints_dir()
    return guard(_hints, str(f), name, loaders.stamp(f / name))


def bench_path() -> Path:
    return loaders.results_dir() / "bench.csv"


def bench():
    p = bench_path()
    return guard(_bench, str(p), loaders.stamp(p))


def train_log(path: Path):
    return guard(_train_log, str(path), loaders.stamp(path))


@st.cache_data(show_spinner=False, max_entries=4)
def _budgets(base: str, key: tuple):
    return loaders.read_budgets(base)


def budgets():
    """Per shipped model, what its weights were trained on (weights/*/config.json)."""
    base = loaders.root()
    return guard(_budgets, str(base), loaders.tree_stamp(base / "weights", "*/config.json"))


def plane(centres):
    return _plane(tuple(float(c) for c in centres), figures.PLANE_L)


# --------------------------------------------------------------------------
# Models, colorizers and their outputs

def where_weights() -> tuple:
    """Where colorcore looks for weights: part of the cache keys below."""
    from colorcore import hub

    return tuple(str(d) for d in hub.weight_dirs())


@st.cache_data(show_spinner="Listing models…", ttl=60)
def models(where: tuple = ()) -> list[dict]:
    """colorcore.list_models(), refreshed every minute (weights may land meanwhile)."""
    from colorcore import list_models

    return list_models()


def model_names() -> list[str]:
    try:
        return [m["name"] for m in models(where_weights())]
    except Exception as e:  # a broken model file must not take the whole dashboard down
        st.warning(f"colorcore.list_models() failed: {type(e).__name__}: {e}")
        return []


# Room for every registered model and a few replaced weights: fewer entries than
# models would evict one colorizer per photo and load it again (seconds each).
@st.cache_resource(show_spinner=False, max_entries=32)
def colorizer(name: str, key: str):
    import torch

    from colorcore import load_colorizer

    torch.set_num_threads(threads())
    folder = key.split("#")[0]
    WORK["load", name] += 1
    return load_colorizer(name, device="cpu", weights=folder)


@st.cache_data(show_spinner=False, max_entries=64)
def ground_truth(source: str, image_id: str):
    """(evaluation crop, gray input, gray's scores, images.truth of the crop: what
    every model's scoring shares)."""
    gt = images.ground_truth(source, image_id)
    gray = images.gray_input(gt)
    terms = images.truth(gt)
    return gt, gray, images.scores(gray, gt, terms), terms


@st.cache_data(show_spinner=False, max_entries=512)
def colorized(model: str, key: str, source: str, image_id: str) -> dict:
    """One model on one photo: its uint8 output ('image'), the model's own seconds
    ('seconds'), the per-image scores ('scores') and the seconds scoring took
    ('score_s'). The weights key makes new weights miss the cache."""
    import torch

    torch.set_num_threads(threads())
    gt, _, _, terms = ground_truth(source, image_id)
    out, seconds = images.colorize(colorizer(model, key), gt)
    WORK["colorize", model] += 1
    t0 = time.perf_counter()
    s = images.scores(out, gt, terms)
    return {"image": out, "seconds": seconds, "scores": s, "score_s": time.perf_counter() - t0}


@st.cache_data(show_spinner=False, ttl=60)
def _weights_keys(names: tuple[str, ...], where: tuple) -> dict[str, str | None]:
    return {n: images.weights_key(n) for n in names}


@st.cache_data(show_spinner=False, max_entries=8)
def source_ids(source: str) -> list[str]:
    return images.list_source(source)


def weights_keys(names) -> dict[str, str | None]:
    """model -> weights key (see images.weights_key), None where there are none."""
    return _weights_keys(tuple(names), where_weights())
