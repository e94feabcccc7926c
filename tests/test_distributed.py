"""`colorize` and `evaluate` under torchrun: two gloo processes on the CPU split the
inputs and end with what one process makes."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import gradient_photo
from servers import free_port, write_random_weights

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def colorcore(*args, processes: int = 1, env: dict | None = None):
    """python -m colorcore ARGS, or under torchrun with `processes` CPU processes."""
    launcher = [sys.executable, "-m", "colorcore"]
    if processes > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
                    "--master_port", str(free_port()), "-m", "colorcore"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run([*launcher, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def rows(path: Path, drop: tuple[str, ...] = ()) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for i in range(5):
        gradient_photo(90 + 10 * i, 70, seed=i).save(folder / f"p{i}.png")
    return folder


def test_evaluate_under_torchrun_writes_the_single_process_tables(photos, tmp_path):
    # batch size 1: every photo is its own batch, so both processes score some; vae samples with a seed
    common = ["evaluate", "--data", str(photos), "--models", "vae,unet-bins10", "--batch-size", "1",
              "--random-init", "--device", "cpu", "--threads", "1"]
    one = colorcore(*common, "--out", str(tmp_path / "one"))
    two = colorcore(*common, "--out", str(tmp_path / "two"), processes=2)
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, two.stderr[-3000:]
    assert rows(tmp_path / "two" / "metrics.csv", ("seconds_per_image",)) == \
        rows(tmp_path / "one" / "metrics.csv", ("seconds_per_image",))
    assert rows(tmp_path / "two" / "per_image.csv") == rows(tmp_path / "one" / "per_image.csv")
    with np.load(tmp_path / "one" / "ab_hist.npz") as a, np.load(tmp_path / "two" / "ab_hist.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            assert np.array_equal(a[k], b[k]), k
    assert '"processes": 2' in (tmp_path / "two" / "meta.json").read_text()


def test_colorize_under_torchrun_splits_the_inputs_and_waits_for_all(photos, tmp_path):
    weights = write_random_weights(tmp_path / "weights", names=("lite0-unet",))
    inputs = tmp_path / "in"
    inputs.mkdir()
    for p in photos.iterdir():
        (inputs / p.name).write_bytes(p.read_bytes())
    (inputs / "a-broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not a png")  # sorted first: rank 0's
    env = {"COLORCORE_WEIGHTS": str(weights)}
    one = colorcore("colorize", str(inputs), "--model", "lite0-unet", "--out", str(tmp_path / "one"), env=env)
    two = colorcore("colorize", str(inputs), "--model", "lite0-unet", "--out", str(tmp_path / "two"),
                    processes=2, env=env)
    assert one.returncode == 1 and "a-broken.png" in one.stderr
    assert two.returncode != 0 and "a-broken.png" in two.stderr  # the bad file is reported, ...
    made = sorted(p.name for p in (tmp_path / "two").glob("*.png"))
    assert made == sorted(f"p{i}.png" for i in range(5))  # ... and the other process still did all its share
    for name in made:
        assert np.array_equal(np.asarray(Image.open(tmp_path / "two" / name)),
                              np.asarray(Image.open(tmp_path / "one" / name))), name
