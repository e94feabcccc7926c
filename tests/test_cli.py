"""`python -m colorcore` end to end, in a real subprocess."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import gradient_photo

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, weights: Path, timeout=600):
    """Run the CLI with `weights` as the only weights it can find (none shipped)."""
    env = {**os.environ, "COLORCORE_WEIGHTS": str(weights), "HF_HUB_OFFLINE": "1",
           "COLORCORE_REPO_WEIGHTS": str(weights / "no-shipped-weights")}
    return subprocess.run([sys.executable, "-m", "colorcore", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_colorize_files_and_folders_good_ones_done_bad_ones_reported(random_weights, tmp_path):
    src = tmp_path / "in"
    (src / "album").mkdir(parents=True)
    gradient_photo(70, 50).convert("L").save(src / "one.png")
    gradient_photo(40, 60, seed=2).save(src / "album" / "two.jpg")
    gradient_photo(30, 30, seed=3).convert("L").save(src / "album" / "three.tif")
    (src / "album" / "notes.txt").write_text("not an image, and not picked up from a folder")
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    out = tmp_path / "out"
    done = cli("colorize", src / "one.png", src / "album", src / "broken.jpg", src / "missing.png",
               "--model", "default", "--out", out, "--temperature", "0.3", weights=random_weights)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert any("broken.jpg" in e for e in errors) and any("missing.png" in e for e in errors)
    assert sorted(p.name for p in out.iterdir()) == ["one.png", "three.png", "two.png"]
    assert Image.open(out / "one.png").size == (70, 50)
    assert Image.open(out / "two.png").size == (40, 60)
    assert np.asarray(Image.open(out / "three.png")).ndim == 3


def test_all_good_inputs_exit_zero(random_weights, tmp_path):
    gradient_photo(20, 20).save(tmp_path / "a.png")
    done = cli("colorize", tmp_path / "a.png", "--out", tmp_path / "o", weights=random_weights)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "a.png").exists()


def test_a_photo_that_fails_after_decoding_does_not_stop_the_batch(random_weights, tmp_path):
    """Not only bad files: any one photo's failure (here its output cannot be
    written) is reported by name and the rest of the batch is still done."""
    for name in ("a.png", "b.png"):
        gradient_photo(20, 20).save(tmp_path / name)
    (tmp_path / "o" / "a.png").mkdir(parents=True)  # a folder where a's result should go
    done = cli("colorize", tmp_path / "a.png", tmp_path / "b.png", "--out", tmp_path / "o", weights=random_weights)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "a.png" in errors[0]
    assert Image.open(tmp_path / "o" / "b.png").size == (20, 20)


def test_vividness_zero_gives_gray_and_a_bad_one_is_refused(random_weights, tmp_path):
    gradient_photo(20, 20).convert("L").save(tmp_path / "a.png")
    done = cli("colorize", tmp_path / "a.png", "--out", tmp_path / "o", "--vividness", "0", "--no-fade",
               weights=random_weights)
    assert done.returncode == 0, done.stderr
    rgb = np.asarray(Image.open(tmp_path / "o" / "a.png"), dtype=int)
    assert np.abs(rgb - rgb[..., :1]).max() <= 1  # gray, up to 8-bit rounding
    bad = cli("colorize", tmp_path / "a.png", "--out", tmp_path / "p", "--vividness", "-2", weights=random_weights)
    assert bad.returncode == 2 and "--vividness" in bad.stderr and not (tmp_path / "p").exists()


def test_every_png_written_says_it_was_colorized(random_weights, tmp_path):
    import json

    from colorcore.png_stamp import read_stamp

    gradient_photo(20, 20).convert("L").save(tmp_path / "a.png")
    done = cli("colorize", tmp_path / "a.png", "--out", tmp_path / "o", "--temperature", "0.3", "--vividness",
               "1.5", weights=random_weights)
    assert done.returncode == 0, done.stderr
    chunks = read_stamp(tmp_path / "o" / "a.png")
    config = json.loads((random_weights / "lite0-unet" / "config.json").read_text())
    assert chunks["Colorized"] == "true" and chunks["Model"] == "lite0-unet"
    assert chunks["Weights-SHA256"] == config["sha256"] and chunks["Software"].startswith("colorcore ")
    assert json.loads(chunks["Settings"]) == {"temperature": 0.3, "vividness": 1.5, "seed": None,
                                             "confidence_fade": False}
    assert read_stamp(tmp_path / "a.png") == {}  # the input was not stamped


def test_unknown_model_and_model_without_weights(random_weights, tmp_path):
    gradient_photo(20, 20).save(tmp_path / "a.png")
    done = cli("colorize", tmp_path / "a.png", "--model", "nope", "--out", tmp_path / "o", weights=random_weights)
    assert done.returncode == 2 and "unknown model 'nope'" in done.stderr
    done = cli("colorize", tmp_path / "a.png", "--model", "eccv16", "--out", tmp_path / "o",
               weights=tmp_path / "empty")
    assert done.returncode == 2 and "no weights for model 'eccv16'" in done.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_models_table(random_weights):
    done = cli("models", weights=random_weights)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.strip().splitlines()
    assert header.split()[:5] == ["name", "aliases", "params", "net_size", "kind"]
    names = {r.split()[0] for r in rows}
    assert {"lite0-unet", "eccv16", "pix2pix", "vae", "unet-bins10", "regression-l2", "classification",
            "classification-rebal"} <= names
