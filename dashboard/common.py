"""What the pages share: cached reads (keyed on file times, so new results show up
without a restart), the model list, cached colorizers and outputs, and notes."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from dashboard import figures, images, loaders


def threads() -> int:
    return max(1, int(os.environ.get("COLORCORE_DASHBOARD_THREADS", "2")))


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


def bench_path() -> Path:
    return loaders.results_dir() / "bench.csv"


def bench():
    p = bench_path()
    return guard(_bench, str(p), loaders.stamp(p))


def train_log(path: Path):
    return guard(_train_log, str(path), loaders.stamp(path))


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


@st.cache_resource(show_spinner="Loading the model…", max_entries=6)
def colorizer(name: str, key: str):
    import torch

    from colorcore import load_colorizer

    torch.set_num_threads(threads())
    folder = key.split("#")[0]
    return load_colorizer(name, device="cpu", weights=folder)


@st.cache_data(show_spinner=False, max_entries=64)
def ground_truth(source: str, image_id: str):
    gt = images.ground_truth(source, image_id)
    gray = images.gray_input(gt)
    return gt, gray, images.scores(gray, gt)


@st.cache_data(show_spinner=False, max_entries=512)
def colorized(model: str, key: str, source: str, image_id: str):
    """(uint8 output, seconds, per-image scores) for one model and one photo; the
    weights key makes new weights miss the cache."""
    import torch

    torch.set_num_threads(threads())
    gt, _, _ = ground_truth(source, image_id)
    out, seconds = images.colorize(colorizer(model, key), gt)
    return out, seconds, images.scores(out, gt)


@st.cache_data(show_spinner=False, ttl=60)
def _weights_keys(names: tuple[str, ...], where: tuple) -> dict[str, str | None]:
    return {n: images.weights_key(n) for n in names}


@st.cache_data(show_spinner=False, max_entries=8)
def source_ids(source: str) -> list[str]:
    return images.list_source(source)


def weights_keys(names) -> dict[str, str | None]:
    """model -> weights key (see images.weights_key), None where there are none."""
    return _weights_keys(tuple(names), where_weights())
