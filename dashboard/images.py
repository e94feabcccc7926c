"""Photos for the per-image comparison, and colorizing + scoring one of them under
the evaluation protocol (short side 256, centre crop 256x256, the model sees the
ground truth's L, its 8-bit output is scored against the ground-truth RGB).

The default source is the photos scikit-image bundles (nothing is downloaded or
written); a folder, tar shard or glob of photos can be given instead
(COLORCORE_DASHBOARD_DATA or the page's text box). No Streamlit here.
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import torch
from PIL import Image

from colorcore.schema import EVAL_SIZE

DATA_ENV = "COLORCORE_DASHBOARD_DATA"
BUNDLED = "bundled"  # the source name of the scikit-image photos
# name -> skimage.data loader (all ship inside the scikit-image wheel)
_BUNDLED = {
    "astronaut": lambda d: d.astronaut(),
    "chelsea": lambda d: d.chelsea(),
    "coffee": lambda d: d.coffee(),
    "rocket": lambda d: d.rocket(),
    "motorcycle": lambda d: d.stereo_motorcycle()[0],
    "hubble_deep_field": lambda d: d.hubble_deep_field(),
}


def default_source() -> str:
    return os.environ.get(DATA_ENV, "").strip() or BUNDLED


def bundled_names() -> list[str]:
    try:
        import skimage.data  # noqa: F401
    except ImportError:
        return []
    return list(_BUNDLED)


@lru_cache(maxsize=8)
def _refs(spec: str):
    from colorcore.data import list_images

    return tuple(list_images(spec))


def forget() -> None:
    """Drop the cached listings of folders and tars (after they changed)."""
    _refs.cache_clear()


def list_source(spec: str) -> list[str]:
    """Image ids of a source: the bundled photo names, or the file names (sorted) in
    a folder / tar / glob. Raises FileNotFoundError when there are none."""
    if spec == BUNDLED:
        names = bundled_names()
        if not names:
            raise FileNotFoundError("scikit-image is not installed, so there are no bundled photos")
        return names
    return [r.name for r in _refs(spec)]


def load_photo(spec: str, image_id: str) -> Image.Image:
    """The full photo, RGB."""
    if spec == BUNDLED:
        import skimage.data

        arr = np.asarray(_BUNDLED[image_id](skimage.data))
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, -1)
        return Image.fromarray(arr[..., :3].astype(np.uint8), "RGB")
    from colorcore.data import decode_rgb

    for ref in _refs(spec):
        if ref.name == image_id:
            return decode_rgb(ref)
    raise FileNotFoundError(f"no image {image_id!r} in {spec}")


def ground_truth(spec: str, image_id: str) -> np.ndarray:
    """The evaluation crop of a photo: uint8 (256, 256, 3)."""
    from colorcore.data import center_crop

    return np.asarray(center_crop(load_photo(spec, image_id), EVAL_SIZE), dtype=np.uint8).copy()


def _tensor(rgb8: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb8)).permute(2, 0, 1)[None].float() / 255


def gray_input(gt8: np.ndarray) -> np.ndarray:
    """What the models see, as a picture: the ground truth's Lab L as 8-bit gray (the
    evaluation's gray row)."""
    from colorcore.data import lab_batch
    from colorcore.render import render_gray

    g = render_gray(lab_batch(_tensor(gt8))[0])[0]
    return torch.round(g * 255).to(torch.uint8).permute(1, 2, 0).numpy()


def truth(gt8: np.ndarray) -> dict[str, torch.Tensor]:
    """What scoring needs of the ground truth alone (its tensor, ab and rare-colour
    weights, the costliest part): computed once per photo, not once per model."""
    from colorcore.metrics import truth_terms

    return truth_terms(_tensor(gt8))


def scores(out8: np.ndarray, gt8: np.ndarray, terms: dict | None = None) -> dict[str, float]:
    """The per-image metrics of colorcore.evaluate for one 8-bit output; terms:
    truth(gt8), when already at hand."""
    from colorcore.metrics import score_images

    return {k: float(v[0]) for k, v in score_images(_tensor(out8), terms or truth(gt8)).items()}


def weights_key(model: str) -> str | None:
    """Where a model's weights are and which file it is (its sha256): changes when
    new weights land, so a cache keyed on it never serves stale outputs. None when
    the model has no weights on this machine."""
    from colorcore import hub

    try:
        folder = hub.find_weights(model, network=False)
    except hub.WeightsNotFound:
        return None
    try:
        sha = hub.read_config(folder).get("sha256", "")
    except hub.WeightsCorrupt:
        sha = ""
    return f"{folder}#{sha or hub.sha256_of(folder / hub.WEIGHTS_FILE)}"


def colorize(colorizer, gt8: np.ndarray) -> tuple[np.ndarray, float]:
    """One model's 8-bit output for an evaluation crop, and the seconds it took."""
    img, out = colorizer.run(Image.fromarray(gt8, "RGB"), seed=0)
    return np.asarray(img, dtype=np.uint8).copy(), float(out.get("seconds", float("nan")))
