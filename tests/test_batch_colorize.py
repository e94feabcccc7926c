"""Colorizing a folder (colorcore.batch_colorize): photos of any sizes share the net's
batches, decoding and writing overlap it, and each photo gets the pixels that colorize()
gives it alone; a bad file is named and the others are done."""
import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

import colorcore
from colorcore.batch_colorize import colorize_files
from colorcore.onnx_export import CACHE_ENV


@pytest.fixture
def folder(tmp_path):
    """Real photos of mixed sizes and modes, two odd shapes and a broken file."""
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(skimage.data.astronaut()).save(src / "astronaut.jpg", quality=90)
    Image.fromarray(skimage.data.coffee()).save(src / "coffee.png")
    Image.fromarray(skimage.data.chelsea()).resize((301, 203)).save(src / "chelsea.jpg")
    Image.fromarray(skimage.data.camera()).save(src / "camera.png")  # gray
    Image.fromarray(skimage.data.rocket()[:7, :1]).save(src / "sliver.png")  # 1x7
    Image.fromarray(skimage.data.coins()[:3, :]).save(src / "strip.png")  # 384x3
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    return src


def colorizer(name: str, runtime: str):
    torch.manual_seed(0)
    return colorcore.load_colorizer(name, device="cpu", random_init=True, runtime=runtime)


def run_folder(c, folder, out, batch, **options):
    out.mkdir()
    jobs = [(p, out / f"{p.stem}.png") for p in sorted(folder.iterdir())]
    return colorize_files(c, jobs, options, batch=batch)


def one_by_one(c, folder, **options):
    return {p.stem: np.asarray(c.colorize(p, **options), dtype=int)
            for p in sorted(folder.iterdir()) if p.name != "broken.jpg"}


@pytest.mark.parametrize("name,runtime,options", [
    ("regression-l2", "onnx", {}),
    ("regression-l2", "torch", {}),
    ("vae", "torch", {"seed": 5}),  # one latent for the whole batch: a seed gives a photo its colours in any batch
    pytest.param("lite0-unet", "onnx", {"temperature": 0.3}, marks=pytest.mark.slow),
])
def test_a_folder_gets_the_pixels_of_one_by_one(name, runtime, options, folder, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "onnx-cache"))
    c = colorizer(name, runtime)
    report = run_folder(c, folder, tmp_path / "out", batch=4, **options)
    assert (report.done, report.failed) == (6, 1) and report.images_per_second > 0
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.jpg" in errors[0]
    for stem, alone in one_by_one(c, folder, **options).items():
        batched = np.asarray(Image.open(tmp_path / "out" / f"{stem}.png"), dtype=int)
        assert batched.shape == alone.shape, stem
        if runtime == "onnx":  # ONNX Runtime's output does not depend on the batch: the very pixels
            assert np.array_equal(batched, alone), stem
        else:  # PyTorch's kernels may differ in the last bits between batch sizes
            differ = np.abs(batched - alone)
            assert differ.max() <= 1 and (differ > 0).mean() < 0.01, (stem, differ.max(), (differ > 0).mean())


def test_batch_sizes_and_many_workers_change_nothing(folder, tmp_path):
    c = colorizer("regression-l2", "torch")
    run_folder(c, folder, tmp_path / "one", batch=1)
    run_folder(c, folder, tmp_path / "three", batch=3)
    for png in (tmp_path / "one").iterdir():
        a = np.asarray(Image.open(png), dtype=int)
        b = np.asarray(Image.open(tmp_path / "three" / png.name), dtype=int)
        assert np.abs(a - b).max() <= 1, png.name


def test_a_photo_that_fails_after_decoding_is_named_and_the_rest_done(folder, tmp_path, capsys):
    c = colorizer("regression-l2", "torch")
    out = tmp_path / "out"
    (out / "coffee.png").mkdir(parents=True)  # a folder where coffee's result should go
    jobs = [(p, out / f"{p.stem}.png") for p in sorted(folder.iterdir()) if p.name != "broken.jpg"]
    report = colorize_files(c, jobs, {}, batch=2)
    assert (report.done, report.failed) == (5, 1)
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "coffee.png" in errors[0] and "IsADirectoryError" in errors[0]
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        "astronaut.png", "camera.png", "chelsea.png", "sliver.png", "strip.png"]
