"""End-to-end tests of `python -m colorcore evaluate` and `... bench` on tiny inputs."""
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorcore import bench as B
from colorcore import evaluate as E
from colorcore.models import all_specs
from conftest import gradient_photo

ROOT = Path(__file__).resolve().parent.parent
PREFERRED = ("regression-l2", "unet-bins10", "eccv16", "classification", "lite0-unet")


def small_model() -> str:
    names = [s.name for s in all_specs()]
    return next((n for n in PREFERRED if n in names), names[0])


def run_cli(*args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "colorcore", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(path, newline="") as f:
        header = next(csv.reader(f))
    return header, rows


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Four synthetic 300x200 colour photos (smooth fields, one nearly gray: an exactly
    gray one would make the gray row's PSNR inf, as it should)."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(4):
        small = rng.integers(0, 256, size=(4, 6, 3), dtype=np.uint8)
        if i == 3:
            small[..., 1:] = small[..., :1]  # a nearly gray photo
            small[..., 2] = np.clip(small[..., 2].astype(int) + 4, 0, 255)
        img = Image.fromarray(small, "RGB").resize((300, 200), Image.BICUBIC)
        img.save(folder / f"img{i}.png")
    return folder


@pytest.fixture(scope="module")
def evaluated(photos, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    model = small_model()
    proc = run_cli("evaluate", "--data", str(photos), "--models", model, "--out", str(out),
                   "--batch-size", "3", "--random-init", "--device", "cpu")
    return proc, out, model


def test_evaluate_cli_exit_code_and_files(evaluated):
    proc, out, _ = evaluated
    assert proc.returncode == 0, proc.stderr[-3000:]
    for f in ("metrics.csv", "per_image.csv", "ab_hist.npz", "meta.json"):
        assert (out / f).is_file(), f
    assert not list(out.glob("*.png")) and not list(out.glob("*.jpg"))  # numbers only


def test_metrics_table(evaluated):
    _, out, model = evaluated
    header, rows = read_csv(out / "metrics.csv")
    assert header == E.METRIC_COLUMNS
    by = {r["model"]: r for r in rows}
    assert [r["model"] for r in rows] == ["gray", "ground-truth", model]
    assert all(int(r["images"]) == 4 for r in rows)

    gt = by["ground-truth"]
    assert float(gt["psnr"]) == math.inf
    assert float(gt["ssim"]) == pytest.approx(1, abs=1e-6)
    assert float(gt["auc"]) == pytest.approx(1, abs=1e-6)
    assert float(gt["auc_rebal"]) == pytest.approx(1, abs=1e-6)
    assert float(gt[E.SEMANTIC_COLUMN]) == 1
    assert float(gt["delta_cf"]) == 0
    assert float(gt[E.FRECHET_COLUMN]) == 0
    assert gt["weights"] == "none" and gt["seconds_per_image"] == ""

    gray = by["gray"]
    assert float(gray["colorfulness"]) == pytest.approx(0, abs=1e-6)
    assert float(gray["delta_cf"]) == pytest.approx(float(gt["colorfulness"]), rel=1e-4)
    assert float(gt["colorfulness"]) > 5  # the photos are colourful
    assert 0 < float(gray["auc"]) < 1 and math.isfinite(float(gray["psnr"]))

    m = by[model]
    assert m["weights"] == "random"
    assert float(m["seconds_per_image"]) > 0
    for key in ("psnr", "ssim", "auc", "auc_rebal", E.SEMANTIC_COLUMN, E.FRECHET_COLUMN):
        assert math.isfinite(float(m[key])), key
    assert 0 <= float(m["auc"]) <= 1 and 0 <= float(m[E.SEMANTIC_COLUMN]) <= 1


def test_per_image_table(evaluated):
    _, out, model = evaluated
    header, rows = read_csv(out / "per_image.csv")
    assert header == E.PER_IMAGE_COLUMNS
    assert len(rows) == 3 * 4
    assert {r["image"] for r in rows} == {f"img{i}.png" for i in range(4)}
    for r in rows:
        if r["model"] == "ground-truth":
            assert r["top1_agrees"] == "1" and float(r["auc"]) == pytest.approx(1)
        if r["model"] == "gray":
            assert float(r["colorfulness"]) == pytest.approx(0, abs=1e-6)
    # The gray photo: the gray row is (almost) the ground truth itself.
    gray3 = next(r for r in rows if r["model"] == "gray" and r["image"] == "img3.png")
    assert float(gray3["auc"]) > 0.97 and 30 < float(gray3["psnr"]) < math.inf


def test_ab_hist(evaluated):
    _, out, model = evaluated
    with np.load(out / "ab_hist.npz") as z:
        assert len(z["edges"]) == 222 and z["edges"][0] == -110.5
        for row in ("gray", "ground-truth", model):
            h = z[f"{row}__hist2d"]
            assert h.shape == (221, 221) and h.dtype == np.float32
            assert h.sum() == pytest.approx(1, abs=1e-4)
            assert np.allclose(z[f"{row}__a"], h.sum(1)) and np.allclose(z[f"{row}__b"], h.sum(0))
        gray = z["gray__hist2d"]
        assert gray[108:113, 108:113].sum() == pytest.approx(1, abs=1e-4)  # all ab within 2 of 0
        assert int(z["pixels"]) == 4 * 256 * 256


def test_meta(evaluated, photos):
    _, out, model = evaluated
    meta = json.loads((out / "meta.json").read_text())
    assert meta["images"] == 4 and meta["data"] == str(photos) and meta["net_size"] is None
    assert meta["models"][model]["weights"] == "random"
    assert len(meta["commit"]) == 40 or meta["commit"] == "unknown"
    for key in ("date_utc", "machine", "protocol", "batch_size"):
        assert key in meta
    assert meta["machine"]["torch_threads"] == 2
    assert "load_average_at_start" in meta["machine"] and "load_average_at_end" in meta["machine"]


@pytest.mark.slow
def test_evaluate_is_deterministic(evaluated, photos, tmp_path):
    _, out, model = evaluated
    E.evaluate(str(photos), model, tmp_path, batch_size=3, device="cpu", random_init=True, progress=False)
    assert (tmp_path / "per_image.csv").read_text() == (out / "per_image.csv").read_text()


def test_model_names():
    names = [s.name for s in all_specs()]
    assert E.model_names("all") == names
    assert E.model_names("default,lite0-unet,gray") == ["lite0-unet"]
    with pytest.raises(KeyError):
        E.model_names("no-such-model")


# ---------------------------------------------------------------- bench

def test_parse_sizes():
    assert B.parse_sizes("64,512x256,12mp") == [(64, 64), (512, 256), (4000, 3000)]


@pytest.mark.slow
def test_bench_tiny(tmp_path):
    model = small_model()
    out = tmp_path / "bench.csv"
    proc = run_cli("bench", "--models", model, "--out", str(out), "--sizes", "64", "--repeats", "1",
                   "--warmup", "0", "--batch", "1", "--devices", "cpu", "--net-size", "96")
    assert proc.returncode == 0, proc.stderr[-3000:]
    header, rows = read_csv(out)
    assert header == B.COLUMNS
    assert len(rows) == 3  # the reference, then the model on each runtime, side by side
    ref, row, onnx = rows
    assert (row["runtime"], onnx["runtime"]) == ("torch", "onnx") and onnx["model"] == model
    assert float(onnx["latency_median_s"]) > 0 and onnx["size"] == row["size"]
    assert ref["reference"] == "1" and ref["model"] == B.REFERENCE_NAME and ref["size"] == "256x256"
    assert int(ref["params"]) > 30e6  # the full-width ECCV16 (~32M parameters)
    assert float(ref["ratio_vs_reference"]) == pytest.approx(1)
    assert row["reference"] == "0" and row["model"] == model and row["size"] == "64x64"
    assert row["device"] == "cpu" and row["threads"] == "2" and row["repeats"] == "1"
    assert row["net_size"] == "96" and ref["net_size"] == "224"  # --net-size moves the model, not the yardstick
    lat, ref_lat = float(row["latency_median_s"]), float(ref["latency_median_s"])
    assert lat > 0 and float(row["ratio_vs_reference"]) == pytest.approx(lat / ref_lat, rel=1e-3)
    assert float(row["speedup_vs_reference"]) == pytest.approx(ref_lat / lat, rel=1e-3)
    assert float(row["throughput_img_s"]) > 0 and float(row["peak_rss_mb"]) > 50
    assert float(row["weights_mb_fp16"]) == pytest.approx(int(row["params"]) * 2 / 1e6, rel=0.05)
    meta = json.loads(out.with_suffix(".meta.json").read_text())
    assert meta["reference"]["options"] == {"width": 1.0} and not meta["failures"] and meta["net_size"] == 96


def test_a_limit_spreads_over_the_sources(tmp_path):
    """Names sort by source (<source>-<id>.jpg), so the first N would all be one
    source: a limit takes N evenly spaced images instead."""
    from colorcore.data import EvalImages

    for source in ("aaa", "bbb", "ccc"):
        for i in range(4):
            gradient_photo(8, 8, seed=i).save(tmp_path / f"{source}-{i}.jpg")
    names = [ref.name for ref in EvalImages(str(tmp_path), 8, limit=3).refs]
    assert [n.split("-")[0] for n in names] == ["aaa", "bbb", "ccc"]
    assert len(EvalImages(str(tmp_path), 8, limit=50)) == 12


@pytest.mark.slow
def test_update_replaces_one_models_rows_and_keeps_the_others(photos, tmp_path):
    """evaluate --update: a re-scored model replaces its own rows; the other
    models' rows stay as they were; other images are refused."""
    out = tmp_path / "set"
    E.evaluate(str(photos), "regression-l2,classification", out, batch_size=4, device="cpu", random_init=True,
               progress=False)
    before = {r["model"]: r for r in read_csv(out / "metrics.csv")[1]}
    tmp_new = tmp_path / "new"
    E.evaluate(str(photos), "regression-l2", tmp_new, batch_size=4, device="cpu", random_init=True, progress=False)
    # make the new run's row distinguishable, as a retrained model's would be
    header, rows = read_csv(tmp_new / "metrics.csv")
    rows = [{**r, "psnr": "99"} if r["model"] == "regression-l2" else r for r in rows]
    E.write_csv(tmp_new / "metrics.csv", rows, header)
    merged = {r["model"]: r for r in E.merge_results(tmp_new, out)}
    registry = [n for n in E.model_names("all") if n in ("regression-l2", "classification")]
    assert list(merged) == ["gray", "ground-truth", *registry]  # references first, then registry order
    assert merged["regression-l2"]["psnr"] == "99" and merged["classification"] == before["classification"]
    _, per = read_csv(out / "per_image.csv")
    assert sorted({r["model"] for r in per}) == sorted(merged) and len(per) == 4 * len(merged)
    meta = json.loads((out / "meta.json").read_text())
    assert set(meta["models"]) == {"regression-l2", "classification"}
    assert all("scored_at" in m for m in meta["models"].values())
    with np.load(out / "ab_hist.npz") as h:
        assert list(h["rows"]) == list(merged) and "classification__hist2d" in h.files
    other = tmp_path / "other"
    other.mkdir()
    gradient_photo(64, 64).save(other / "x.png")
    E.evaluate(str(other), "regression-l2", tmp_path / "o", batch_size=4, device="cpu", random_init=True,
               progress=False)
    with pytest.raises(SystemExit, match="image_list_sha256|data"):
        E.merge_results(tmp_path / "o", out)
    # the command line's way: evaluate into a temporary folder, merge, clean up
    assert E.main(str(photos), "regression-l2", str(out), batch_size=4, device="cpu", random_init=True,
                  update=True) == 0
    assert [r["model"] for r in read_csv(out / "metrics.csv")[1]] == list(merged)
