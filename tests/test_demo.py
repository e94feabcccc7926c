"""The Gradio demo (demo/app.py), served on a free local port and called the way
visitors and scripts call it: gradio_client and plain HTTP. Random weights for
every registered model, written to a temp folder (COLORCORE_WEIGHTS), small
photos; one server for the whole module."""
from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import select
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

import colorcore.io
from colorcore.color import AB_SCALE
from colorcore.io import ImageError
from colorcore.models import all_specs, get_spec
from colorcore.png_stamp import read_stamp

import servers
from hinting import follow_hints

ROOT = Path(__file__).resolve().parent.parent

MAX_FILE_SIZE = 1_000_000  # the test server's upload limit (COLORCORE_DEMO_MAX_FILE_SIZE)
UPLOAD_PER_MINUTE = 4 * MAX_FILE_SIZE  # what one client may send a minute (COLORCORE_DEMO_UPLOAD_PER_MINUTE)
CACHE_SIZE = 8 * MAX_FILE_SIZE  # the bound on Gradio's cache folder (COLORCORE_DEMO_CACHE_SIZE)


# --------------------------------------------------------------------------
# Helpers shared with tests/test_demo_browser.py


# Settings shipped in one model's config.json, unlike the model's own defaults: the page,
# the API and the CLI must all start from these.
SHIPPED_SETTINGS = {"eccv16": {"temperature": 0.55, "vividness": 1.25}}


def write_random_weights(folder: Path, skip: tuple[str, ...] = ()) -> Path:
    """Random-init weights for every registered model, with SHIPPED_SETTINGS; the flagship's
    hint layers set so that it follows colour hints (follow_hints)."""
    servers.write_random_weights(folder, skip=skip, settings=SHIPPED_SETTINGS)
    if "lite0-unet" not in skip:
        import colorcore
        from colorcore.hub import export_weights

        where = folder / "lite0-unet"
        config = json.loads((where / "config.json").read_text())
        model = follow_hints(colorcore.load_colorizer("lite0-unet", weights=str(where), freeze=False).model,
                             strength=AB_SCALE ** 2)  # -|ab - hint|^2 in ab units: sharp
        # fp32: the hint layer's weights are large terms whose differences matter
        export_weights(model, where, {k: config[k] for k in ("name", "architecture")}, half=False)
    return folder


def hue_of(rgb) -> tuple[float, float]:
    """(hue angle in degrees, chroma) in Lab of an sRGB colour: (r, g, b) 0-255 or '#rrggbb'."""
    from colorcore.hints import hex_to_ab

    if not isinstance(rgb, str):
        rgb = "#" + "".join(f"{int(v):02x}" for v in rgb[:3])
    a, b = hex_to_ab(rgb)
    return math.degrees(math.atan2(b, a)), math.hypot(a, b)


def hue_gap(one: float, other: float) -> float:
    return abs((one - other + 180) % 360 - 180)


def shipped_defaults(weights: Path, name: str) -> dict:
    """What a model's weights folder says its defaults are, read from config.json directly
    (not through colorcore), or the model's own where it says nothing."""
    config = json.loads((weights / name / "config.json").read_text())
    model = get_spec(name).build_for_weights()
    temperature = config.get("temperature", model.default_temperature) if model.predicts_distribution else None
    return {"temperature": temperature, "vividness": config.get("vividness", 1.0)}


def demo_server(weights: Path, workdir: Path, extra_env: dict | None = None) -> servers.DemoProcess:
    """The demo on `weights` only, with this module's limits, started."""
    env = {"OMP_NUM_THREADS": "1", "COLORCORE_DEMO_MAX_FILE_SIZE": str(MAX_FILE_SIZE),
           "COLORCORE_DEMO_UPLOAD_PER_MINUTE": str(UPLOAD_PER_MINUTE), "COLORCORE_DEMO_CACHE_SIZE": str(CACHE_SIZE),
           **(extra_env or {})}
    return servers.DemoProcess(workdir, weights, env=env).start(timeout=180)


def photo(path: Path, size=(96, 64), gray: bool = False) -> Path:
    """A small real photo (scikit-image's cat), colour or black and white."""
    import skimage.data

    im = Image.fromarray(skimage.data.chelsea()).resize(size, Image.Resampling.BICUBIC)
    (im.convert("L") if gray else im).save(path)
    return path


# --------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return write_random_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture(scope="module")
def server(weights, tmp_path_factory):
    s = demo_server(weights, tmp_path_factory.mktemp("server"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    return Client(server.url, verbose=False, download_files=str(server.log.parent / "downloads"),
                  analytics_enabled=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    colour, gray = photo(d / "cat.png"), photo(d / "cat_gray.png", gray=True)
    data = colour.read_bytes()
    bad = {
        "empty": (d / "empty.png", b"", "empty"),
        "not an image": (d / "notes.png", b"these are my holiday notes, not a picture\n" * 20,
                         "not an image file"),
        "truncated": (d / "cut.png", data[: len(data) // 2], "truncated or corrupt"),
        "corrupt": (d / "scrambled.png", _scramble(data), "truncated or corrupt"),
        "too many pixels": (d / "huge.png", None, "over the limit of 16 megapixels"),  # the demo's own limit
    }
    for path, content, _ in bad.values():
        if content is None:
            Image.new("1", (8000, 6000)).save(path)  # 48 MP, a few kB on disk
        else:
            path.write_bytes(content)
    big = d / "big.png"
    big.write_bytes(os.urandom(MAX_FILE_SIZE + 1000))
    return {"colour": colour, "gray": gray, "bad": bad, "big": big}


def _scramble(png: bytes) -> bytes:
    """A PNG whose compressed pixel data is overwritten: the header is fine, the pixels are not."""
    start = png.index(b"IDAT") + 4
    junk = bytes((i * 37 + 11) % 256 for i in range(len(png) - start - 16))
    return png[:start] + junk + png[start + len(junk):]


def lightness_of(path) -> np.ndarray:
    from colorcore.render import lightness

    return lightness(np.asarray(Image.open(path).convert("RGB")))[0, 0].numpy()


# --------------------------------------------------------------------------
# The API


def test_api_lists_named_endpoints(client):
    info = client.view_api(print_info=False, return_format="dict")
    named = info["named_endpoints"]
    assert {"/colorize", "/compare", "/colorize_batch"} <= set(named)
    params = [p["parameter_name"] for p in named["/colorize"]["parameters"]]
    assert params == ["image", "model", "temperature", "seed", "vividness", "hints"]
    assert all(p["parameter_has_default"] for p in named["/colorize"]["parameters"][1:])


def test_colorize_default_model(client, files, weights, monkeypatch):
    out = client.predict(handle_file(str(files["gray"])), api_name="/colorize")
    assert out.endswith(".png") and "lite0-unet" in Path(out).name  # "default" is the flagship
    result = Image.open(out)
    assert result.mode == "RGB" and result.size == Image.open(files["gray"]).size
    # the photo's own lightness is kept, and the pixels are the pipeline's own
    assert np.abs(lightness_of(out) - lightness_of(files["gray"])).mean() < 1.0
    monkeypatch.setenv("COLORCORE_WEIGHTS", str(weights))
    import colorcore

    expected = np.asarray(colorcore.load_colorizer("default", device="cpu").colorize(files["gray"]), dtype=int)
    assert np.abs(np.asarray(result, dtype=int) - expected).max() <= 2


@pytest.mark.parametrize("name", [s.name for s in all_specs()])
def test_colorize_each_model(client, files, name):
    out = client.predict(handle_file(str(files["colour"])), name, api_name="/colorize")
    assert f"-colorized-{name}" in Path(out).name
    result = Image.open(out)
    assert result.size == Image.open(files["colour"]).size and result.mode == "RGB"


def test_aliases_and_unknown_models(client, files):
    for alias in {a for s in all_specs() for a in s.aliases}:
        out = client.predict(handle_file(str(files["gray"])), alias, api_name="/colorize")
        assert get_spec(alias).name in Path(out).name
    with pytest.raises(AppError, match="unknown model 'no-such-model'"):
        client.predict(handle_file(str(files["gray"])), "no-such-model", api_name="/colorize")


def test_temperature_and_seed(client, files):
    bins = next(s.name for s in all_specs() if s.kind == "bins")
    hot, cold = (np.asarray(Image.open(client.predict(handle_file(str(files["gray"])), bins, t,
                                                      api_name="/colorize")), dtype=int) for t in (1.0, 0.05))
    assert np.abs(hot - cold).max() > 0, "the annealed-mean temperature must change a bin model's colours"

    def vae(seed):
        return np.asarray(Image.open(client.predict(handle_file(str(files["gray"])), "vae", None, seed,
                                                    api_name="/colorize")), dtype=int)

    mean, zero, one, two = vae(None), vae(0), vae(1), vae(2)
    assert np.array_equal(mean, zero)  # 0 / None: the mean colorization
    assert np.abs(one - two).max() > 0 and np.array_equal(one, vae(1))  # samples differ, and repeat


def test_the_api_starts_from_the_shipped_settings(client, files):
    """A call without settings uses the weights' config.json: the same pixels as a call
    naming those settings, other pixels than the model's built-in defaults."""
    gray = handle_file(str(files["gray"]))

    def call(*settings):
        return np.asarray(Image.open(client.predict(gray, "eccv16", *settings, api_name="/colorize")), dtype=int)

    shipped = SHIPPED_SETTINGS["eccv16"]
    assert np.array_equal(call(), call(shipped["temperature"], None, shipped["vividness"]))
    assert not np.array_equal(call(), call(0.38, None, 1.0))


def test_vividness_for_every_model(client, files):
    """0 gives the gray photo, more gives stronger colour, for models with and without bins."""
    colour = handle_file(str(files["colour"]))
    for name in ("regression-l2", "lite0-unet"):
        chroma = []
        for v in (0, 1, 2):
            rgb = np.asarray(Image.open(client.predict(colour, name, None, None, v, api_name="/colorize")), dtype=int)
            chroma.append(np.abs(rgb - rgb.mean(-1, keepdims=True)).mean())
        assert chroma[0] < 0.6 and chroma[0] < chroma[1] < chroma[2], (name, chroma)
    with pytest.raises(AppError, match="vividness must be a number, not 'lots'"):
        client.predict(colour, "vae", None, None, "lots", api_name="/colorize")


def test_the_page_starts_from_the_shipped_settings(weights, monkeypatch):
    """The Colorize tab's controls show each model's shipped settings, at start and after
    switching models, as read from its config.json by the test itself."""
    monkeypatch.setenv("COLORCORE_WEIGHTS", str(weights))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from demo import app
    from demo import engine as E

    E._models.clear()
    try:
        blocks = app.build_demo()
        sliders = {b.elem_id: b for b in blocks.blocks.values() if getattr(b, "elem_id", None) in
                   ("temperature", "vividness")}
        start = shipped_defaults(weights, E.FLAGSHIP)
        assert sliders["temperature"].value == pytest.approx(start["temperature"])
        assert sliders["vividness"].value == pytest.approx(start["vividness"])
        for spec in all_specs():
            temperature, vividness, *_ = app.model_changed(spec.name)
            expected = shipped_defaults(weights, spec.name)
            assert temperature["visible"] is (expected["temperature"] is not None), spec.name
            if expected["temperature"] is not None:
                assert temperature["value"] == pytest.approx(expected["temperature"]), spec.name
            assert vividness["value"] == pytest.approx(expected["vividness"]), spec.name
    finally:
        E._models.clear()


def test_kept_results_redraw_without_the_model(monkeypatch):
    """The uncertainty map and the reveal come from what the last colorize kept."""
    from demo import app
    from demo import engine as E

    def boom(*a, **k):
        raise AssertionError("the model ran again")

    monkeypatch.setattr(E, "colorize_photo", boom)
    gray, after, original = (Image.new("RGB", (40, 30), c) for c in ((90, 90, 90), (200, 40, 40), (10, 200, 10)))
    kept = {"gray": app._jpeg(gray), "after": app._jpeg(after), "original": app._jpeg(original),
            "share": np.full((8, 8), 0.9, np.float16)}
    unsure = app.toggle_unsure(kept, True)
    assert unsure["visible"] is True and unsure["value"].size[0] == 40
    assert app.toggle_unsure(kept, False)["visible"] is False
    assert app.toggle_unsure({**kept, "share": None}, True)["visible"] is False
    left, right = app.reveal_view(kept, app.REVEAL[1])
    assert np.asarray(left)[0, 0, 0] > 150 and np.asarray(right)[0, 0, 1] > 150  # colorized, then the original
    left, right = app.reveal_view(kept, app.REVEAL[0])
    assert abs(int(np.asarray(left)[0, 0, 0]) - 90) < 4 and np.asarray(right)[0, 0, 0] > 150


def test_bad_options_are_clear_errors(client, files):
    gray = handle_file(str(files["gray"]))
    with pytest.raises(AppError, match="temperature must be a number, not 'hot'"):
        client.predict(gray, "eccv16", "hot", None, api_name="/colorize")
    with pytest.raises(AppError, match="seed must be a whole number, not 1.5"):
        client.predict(gray, "vae", None, 1.5, api_name="/colorize")
    with pytest.raises(AppError, match="model must be a name"):
        client.predict(gray, ["vae"], None, None, api_name="/colorize")
    assert Image.open(client.predict(gray, "eccv16", 5, None, api_name="/colorize")).mode == "RGB"  # clipped


# --------------------------------------------------------------------------
# Colour hints through the API (the flagship's weights here follow hints: follow_hints)


def _rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=int)


def test_colorize_with_hints(client, files):
    """A hint pins its colour's hue at its point and changes nothing far from it; the PNG
    says how many hints made it. Hints may also come as JSON text (plain HTTP)."""
    gray = handle_file(str(files["gray"]))
    plain = _rgb(client.predict(gray, api_name="/colorize"))
    assert np.array_equal(plain, _rgb(client.predict(gray, "default", None, None, None, None, api_name="/colorize")))
    assert np.array_equal(plain, _rgb(client.predict(gray, "default", None, None, None, [], api_name="/colorize")))
    hints = [[20, 40, "#20b040"], [70, 15, "#2060e0"]]  # hues far from what this random net gives
    out = client.predict(gray, "default", None, None, None, hints, api_name="/colorize")
    hinted = _rgb(out)
    for x, y, colour in hints:
        assert hue_gap(hue_of(hinted[y, x])[0], hue_of(colour)[0]) < 25, (x, y, hinted[y, x], colour)
        assert hue_of(hinted[y, x])[1] > 10
        assert hue_gap(hue_of(plain[y, x])[0], hue_of(colour)[0]) > 25 or hue_of(plain[y, x])[1] < 5
    changed = np.abs(hinted - plain).sum(-1) > 6
    assert changed[35:46, 15:26].any() and changed[10:21, 65:76].any()
    assert not changed[:, 35:55].any(), "a hint changed colours far from it"
    assert json.loads(read_stamp(out)["Settings"])["hints"] == 2
    as_text = client.predict(gray, "default", None, None, None, json.dumps(hints), api_name="/colorize")
    assert np.array_equal(_rgb(as_text), hinted)


@pytest.mark.parametrize("hints, message", [
    ([[96, 10, "#ff0000"]], r"hint 0 \[96, 10, '#ff0000'\]: \(96, 10\) is outside the 96x64 image"),
    ([[5, 5, "#ff0000"], [5, -1, "#00ff00"]], r"hint 1 \[5, -1, '#00ff00'\]: \(5, -1\) is outside"),
    ([[5, 5, "red"]], r"hint 0 \[5, 5, 'red'\]: colour 'red' is not '#rrggbb'"),
    ([[5, 5]], r"hint 0 \[5, 5\]: expected \[x, y, '#rrggbb'\]"),
    ([["5", 5, "#ff0000"]], r"hint 0 .*x and y must be numbers"),
    ([[1, 1, "#ff0000"]] * 257, "257 hints: at most 256"),
    ("[[1, 2, '#ff0000']", "hints must be a JSON list"),
])
def test_bad_hints_are_clear_errors(client, server, files, hints, message):
    with pytest.raises(AppError, match=message) as err:
        client.predict(handle_file(str(files["gray"])), "default", None, None, None, hints, api_name="/colorize")
    assert str(err.value).startswith("Bad colour hint") or "JSON list" in str(err.value)
    assert "Traceback" not in server.log_text() and server.alive()


def test_hints_for_a_model_that_takes_none(client, server, files):
    gray = handle_file(str(files["gray"]))
    for name in ("eccv16", "vae"):
        with pytest.raises(AppError, match=f"{name} does not take colour hints: choose lite0-unet to use them"):
            client.predict(gray, name, None, None, None, [[5, 5, "#ff0000"]], api_name="/colorize")
        assert Image.open(client.predict(gray, name, None, None, None, [], api_name="/colorize")).mode == "RGB"
    assert "Traceback" not in server.log_text()


def test_ui_colorize_view(client, files):
    """The Colorize button's event: before/after pair, uncertainty map, PNG, status line."""
    bins = next(s.name for s in all_specs() if s.kind == "bins")
    pair, unsure, download, status, reveal = client.predict(handle_file(str(files["colour"])), bins, 0.38, 1.0, 0,
                                                             True, api_name="/colorize_view")
    before, after = (Image.open(p) for p in pair)
    assert before.size == after.size == Image.open(files["colour"]).size
    b = np.asarray(before.convert("RGB"), dtype=int)
    assert np.abs(b[..., 0] - b[..., 1]).max() <= 2, "'before' shows what the model sees: the lightness"
    assert unsure["visible"] is True
    legend = Image.open(unsure["value"])  # the map at most 1024 px wide, its colour scale under it
    assert legend.size[0] == before.size[0] and legend.size[1] > before.size[1]
    assert download["value"].endswith(f"cat-colorized-{bins}.png")
    assert bins in status and "uncertainty" in status and "took " in status
    assert reveal["visible"] is True and "in colour" in status  # a colour photo: its original can be revealed
    _, unsure, _, status, reveal = client.predict(handle_file(str(files["gray"])), "regression-l2", 0.38, 1.0, 0,
                                                  True, api_name="/colorize_view")
    assert unsure["visible"] is False and "regression-l2" in status  # no distribution, no map
    assert reveal["visible"] is False  # nothing to reveal for a black-and-white photo


def test_compare_against_colour_original(client, files):
    names = ["lite0-unet", "vae", "regression-l2"]
    gallery, table, note, archive, _, closer = client.predict(handle_file(str(files["colour"])), names, 0,
                                                              api_name="/compare")
    captions = [g["caption"] for g in gallery]
    assert captions[0] == "original (ground truth)"
    for caption, name in zip(captions[1:], names):
        assert re.fullmatch(rf"{name} · \d+ ms", caption)
    assert all(Image.open(g["image"]).size == Image.open(files["colour"]).size for g in gallery)
    assert table["headers"] == ["model", "time (s)", "PSNR (dB)", "AuC", "colourfulness"]
    rows = {r[0]: r for r in table["data"]}
    assert list(rows) == ["ground truth", "gray (lightness only)", *names]
    for name in names:
        seconds, psnr, auc_, cf = rows[name][1:]  # numbers, not strings
        assert all(isinstance(v, float) for v in rows[name][1:])
        assert 5 < psnr < 60 and 0 < auc_ <= 1 and cf >= 0 and seconds > 0
    assert rows["ground truth"][4] > 10  # the cat photo is colourful
    assert "ground truth" in note
    # the page marks the best model's value of each column: highest PSNR and AuC, quickest,
    # colourfulness closest to the ground truth's
    bold = [[("bold" in c) for c in row] for row in table["metadata"]["styling"]]
    models = {r[0]: (r, b) for r, b in zip(table["data"], bold) if r[0] in names}
    truth_cf = rows["ground truth"][4]
    for col, best in ((1, min(names, key=lambda n: rows[n][1])), (2, max(names, key=lambda n: rows[n][2])),
                      (3, max(names, key=lambda n: rows[n][3])),
                      (4, min(names, key=lambda n: abs(rows[n][4] - truth_cf)))):
        assert [n for n in names if models[n][1][col]] == [best], col
    assert not any(any(b) for r, b in zip(table["data"], bold) if r[0] not in names)
    # every full-size result in one zip, and a closer look at the first against the original
    import zipfile

    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == sorted(f"cat-colorized-{n}.png" for n in names)
        assert all(Image.open(z.open(n)).size == Image.open(files["colour"]).size for n in z.namelist())
    assert len(closer) == 2


def test_compare_black_and_white_photo_and_all_models(client, files):
    names = [s.name for s in all_specs()]
    gallery, table, note, *_ = client.predict(handle_file(str(files["gray"])), names, 0, api_name="/compare")
    assert [g["caption"].split(" · ")[0] for g in gallery] == ["input (black and white)", *names]
    assert table["headers"] == ["model", "time (s)"] and len(table["data"]) == len(names)
    assert "no ground truth" in note


def test_every_png_handed_back_says_it_was_colorized(client, files, weights):
    png = client.predict(handle_file(str(files["gray"])), "eccv16", None, None, None, api_name="/colorize")
    chunks = read_stamp(png)
    config = json.loads((weights / "eccv16" / "config.json").read_text())
    assert chunks["Colorized"] == "true" and chunks["Model"] == "eccv16"
    assert chunks["Software"].startswith("colorcore ") and "guess" in chunks["Description"]
    assert chunks["Weights-SHA256"] == config["sha256"]
    assert json.loads(chunks["Settings"]) == {"temperature": 0.55, "vividness": 1.25, "seed": None,
                                             "confidence_fade": False}  # the shipped settings, resolved
    png = client.predict(handle_file(str(files["gray"])), "vae", None, 7, 0.5, api_name="/colorize")
    assert json.loads(read_stamp(png)["Settings"]) == {"temperature": None, "vividness": 0.5, "seed": 7,
                                                      "confidence_fade": False}
    *_, archive, _, _ = client.predict(handle_file(str(files["colour"])), ["lite0-unet", "vae"], 0,
                                       api_name="/compare")
    import zipfile

    with zipfile.ZipFile(archive) as z:
        assert [read_stamp(z.open(n))["Model"] for n in sorted(z.namelist())] == ["lite0-unet", "vae"]


def _zip_of(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_a_batch_of_photos_and_zips(client, files, tmp_path):
    """3 photos, a zip holding 2 more (and things that are not photos), and a bad file:
    5 results in the gallery and the zip, each stamped, and the bad file named."""
    import zipfile

    colour, gray = files["colour"].read_bytes(), files["gray"].read_bytes()
    singles = [files["colour"], files["gray"], photo(tmp_path / "dog.png", size=(80, 60))]
    archive = _zip_of(tmp_path / "album.zip", {"trip/cat.png": colour, "trip/b.png": gray, "trip/readme.txt": b"hi",
                                               "__MACOSX/trip/._b.png": b"junk", ".hidden.png": gray})
    bad = files["bad"]["not an image"][0]
    gallery, out, status = client.predict([handle_file(str(p)) for p in [*singles, archive, bad]], "default",
                                          None, None, api_name="/colorize_batch")
    names = ["cat-colorized.png", "cat_gray-colorized.png", "dog-colorized.png", "cat-colorized-2.png",
             "b-colorized.png"]
    assert [g["caption"] for g in gallery] == names
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == names
        sizes = [Image.open(z.open(n)).size for n in names]
        assert all(read_stamp(z.open(n))["Model"] == "lite0-unet" for n in names)
    assert sizes == [(96, 64), (96, 64), (80, 60), (96, 64), (96, 64)]  # full size, whatever the gallery shows
    assert "5 of 6 photos" in status and "notes.png: not an image file" in status


def test_bad_batches_are_refused_whole(client, files, tmp_path):
    def refused(paths, *words):
        with pytest.raises(AppError) as e:
            client.predict([handle_file(str(p)) for p in paths], "default", None, None, api_name="/colorize_batch")
        assert all(w in str(e.value) for w in words), str(e.value)

    refused([_zip_of(tmp_path / "empty.zip", {"notes.txt": b"no photos"})], "empty.zip", "holds no photos")
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"PK\x03\x04 this is not a zip at all")
    refused([fake], "fake.zip", "not a readable zip")
    refused([files["bad"]["not an image"][0]], "None of the photos", "notes.png: not an image file")
    with pytest.raises(AppError, match="Add some photos"):
        client.predict([], "default", None, None, api_name="/colorize_batch")


def test_batch_limits(tmp_path, monkeypatch):
    """Past the photo limit, a zip listing too many entries, and a member that unpacks
    past the upload limit (whatever its header says) are refused before decoding."""
    from demo import batch as B

    stem = lambda n: Path(n).stem  # noqa: E731
    monkeypatch.setattr(B, "MAX_PHOTOS", 3)
    one = photo(tmp_path / "a.png")
    with pytest.raises(B.BatchError, match="more than 3 photos"):
        B.expand([(str(one), "a.png", "a")] * 4, 10**6, stem)
    assert len(B.expand([(str(one), "a.png", "a")] * 3, 10**6, stem)) == 3
    many = _zip_of(tmp_path / "many.zip", {f"{i}.txt": b"" for i in range(B.MAX_ZIP_ENTRIES + 1)})
    with pytest.raises(B.BatchError, match="1,001 entries"):
        B.expand([(str(many), "many.zip", "many")], 10**6, stem)
    bomb = _zip_of(tmp_path / "bomb.zip", {"big.png": bytes(2_000_000)})  # 2 MB of zeros, a few kB packed
    with pytest.raises(B.BatchError, match="big.png unpacks to 2,000,000 bytes"):
        B.expand([(str(bomb), "bomb.zip", "bomb")], 10**6, stem)
    lying = bytearray(bomb.read_bytes())  # the same member, its sizes in both headers claiming 100 bytes
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = lying.index(header) + offset
        lying[at:at + 4] = (100).to_bytes(4, "little")
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(lying))
    with pytest.raises(B.BatchError, match="liar.zip"):
        B.expand([(str(liar), "liar.zip", "liar")], 10**6, stem)


def test_compare_needs_a_model(client, files):
    with pytest.raises(AppError, match="Choose at least one model"):
        client.predict(handle_file(str(files["gray"])), [], 0, api_name="/compare")


@pytest.mark.parametrize("kind", ["empty", "not an image", "truncated", "corrupt", "too many pixels"])
def test_bad_file_is_a_clear_error_and_the_server_stays_up(client, server, files, kind):
    path, _, reason = files["bad"][kind]
    for endpoint, args in (("/colorize", ()), ("/compare", (["lite0-unet"], 0))):
        with pytest.raises(AppError) as err:
            client.predict(handle_file(str(path)), *args, api_name=endpoint)
        message = str(err.value)
        assert reason in message and path.name in message, message
        assert "Traceback" not in message and "/tmp" not in message
    assert server.alive()
    out = client.predict(handle_file(str(files["gray"])), api_name="/colorize")  # the next good call works
    assert Image.open(out).size == Image.open(files["gray"]).size


def test_file_over_the_upload_limit(client, server, files):
    with pytest.raises(ValueError, match="exceeds the maximum file size"):
        client.predict(handle_file(str(files["big"])), api_name="/colorize")
    r = httpx.post(server.url + "gradio_api/upload", files={"files": ("big.png", files["big"].read_bytes())})
    assert r.status_code == 413 and "maximum allowed size" in r.text
    assert Image.open(client.predict(handle_file(str(files["gray"])), api_name="/colorize")).mode == "RGB"


def _http_colorize(base: str, path: Path, model="default", settings=(None, None, None)):
    """The plain-HTTP recipe from demo/README.md: upload, call, read the event stream."""
    uploaded = httpx.post(base + "gradio_api/upload", files={"files": (path.name, path.read_bytes())}).json()[0]
    data = [{"path": uploaded, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}, model, *settings]
    event = httpx.post(base + "gradio_api/call/colorize", json={"data": data}).json()["event_id"]
    stream = httpx.get(base + f"gradio_api/call/colorize/{event}", timeout=120).text
    kind = re.search(r"^event: (\w+)", stream, re.M).group(1)
    payload = json.loads(re.findall(r"^data: (.*)$", stream, re.M)[-1])
    return kind, payload


def test_plain_http(server, files):
    kind, payload = _http_colorize(server.url, files["gray"])
    assert kind == "complete"
    png = httpx.get(payload[0]["url"]).content
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    kind, payload = _http_colorize(server.url, files["bad"]["not an image"][0])
    assert kind == "error" and "notes.png: not an image file" in payload["error"]
    # a script written before vividness was added leaves it out: the model's own
    kind, payload = _http_colorize(server.url, files["gray"], "eccv16", (None, None))
    assert kind == "complete", payload
    png = httpx.get(payload[0]["url"]).content
    assert json.loads(read_stamp(io.BytesIO(png))["Settings"])["vividness"] == SHIPPED_SETTINGS["eccv16"]["vividness"]


# --------------------------------------------------------------------------
# Limits: request bodies, what one client may send, and the disk
#
# The server trusts X-Forwarded-For from 127.0.0.1 (uvicorn's default), so each test
# below speaks as its own client address and leaves the others' budgets alone.


def _raw_post(port: int, path: str, headers: dict, chunks=(), timeout: float = 10):
    """A POST written by hand, so that the body can be announced and never sent, or streamed
    chunked without end. Sending stops as soon as the server answers.
    Returns (status, headers, parsed JSON body or None, body bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall((head + "\r\n").encode())
    sent = 0
    for chunk in chunks:
        if select.select([sock], [], [], 0)[0]:
            break  # answered already
        try:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:  # the server hung up after answering
            break
        sent += len(chunk)
    data = b""
    try:
        while True:
            part = sock.recv(65536)
            if not part:
                break
            data += part
            head_end = data.find(b"\r\n\r\n")
            m = re.search(rb"content-length: (\d+)", data[:head_end], re.I) if head_end >= 0 else None
            if m and len(data) >= head_end + 4 + int(m.group(1)):
                break
    except ConnectionResetError:  # a hang-up with our unread body in its buffer; the answer came first
        pass
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    return int(lines[0].split()[1]), hdrs, payload, sent


def _is_one_line_reason(payload, *words) -> bool:
    reason = (payload or {}).get("error", "")
    return bool(reason) and "\n" not in reason and "Traceback" not in reason and all(w in reason for w in words)


def _upload(base: str, name: str, data: bytes, client: str) -> httpx.Response:
    return httpx.post(base + "gradio_api/upload", files={"files": (name, data)},
                      headers={"X-Forwarded-For": client}, timeout=30)


def test_an_oversized_body_is_refused_before_it_is_read(server, tmp_path):
    """A body over the bound gets 413 and a one-line reason at once: a declared Content-Length
    before any of it is sent, a chunked one cut off as it crosses the bound. Memory stays put."""
    client = {"X-Forwarded-For": "198.51.100.1"}
    rss = server.rss_mb()
    t0 = time.monotonic()
    for path, kind in (("/gradio_api/call/colorize", "application/json"), ("/gradio_api/queue/join", "application/json"),
                       ("/gradio_api/upload", "multipart/form-data; boundary=x")):
        status, _, payload, _ = _raw_post(server.port, path, {"Content-Type": kind, "Content-Length": 200_000_000,
                                                              **client}, timeout=5)
        assert status == 413 and _is_one_line_reason(payload, "size limit"), (path, status, payload)
    assert time.monotonic() - t0 < 5  # nothing was waited for

    def endless_data_url():
        yield b'{"data": [{"url": "data:image/png;base64,'
        while True:
            yield b"A" * 65536

    status, _, payload, sent = _raw_post(server.port, "/gradio_api/call/colorize",
                                         {"Content-Type": "application/json", "Transfer-Encoding": "chunked", **client},
                                         (c for c, _ in zip(endless_data_url(), range(1024))))  # up to 64 MB
    assert status == 413 and _is_one_line_reason(payload, "size limit"), (status, payload)
    assert sent < 8 * MAX_FILE_SIZE, f"the server read {sent} bytes of a body over the bound"
    assert server.rss_mb() - rss < 64
    assert server.alive()

    # The bound fits the largest legitimate request: a photo just under the upload limit, as a data: URL.
    big = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (540, 560, 3), dtype=np.uint8)).save(big)
    assert 0.9 * MAX_FILE_SIZE < big.stat().st_size < MAX_FILE_SIZE
    url = "data:image/png;base64," + base64.b64encode(big.read_bytes()).decode()
    r = httpx.post(server.url + "gradio_api/call/colorize", headers=client, timeout=30,
                   json={"data": [{"url": url, "orig_name": "noise.png", "meta": {"_type": "gradio.FileData"}},
                                  "regression-l2", None, None]})
    assert r.status_code == 200, r.text
    stream = httpx.get(server.url + f"gradio_api/call/colorize/{r.json()['event_id']}", timeout=120).text
    assert "event: complete" in stream, stream[-500:]


def test_uploads_over_the_per_minute_budget_get_429(server, files):
    """One client may send UPLOAD_PER_MINUTE a minute; past it, 429 with a reason and
    Retry-After, for uploads and JSON bodies alike. Other clients are not affected."""
    client = "198.51.100.2"
    data = os.urandom(MAX_FILE_SIZE * 9 // 10)
    statuses = [_upload(server.url, f"part{i}.bin", data, client).status_code for i in range(4)]
    assert statuses == [200] * 4  # 3.6 MB of 4 MB
    r = _upload(server.url, "one-more.bin", data, client)
    assert r.status_code == 429 and _is_one_line_reason(r.json(), "a minute"), r.text
    assert 1 <= int(r.headers["retry-after"]) <= 60
    r = httpx.post(server.url + "gradio_api/call/colorize", headers={"X-Forwarded-For": client},
                   json={"data": [{"url": "data:image/png;base64," + "A" * 500_000}, "default", None, None]})
    assert r.status_code == 429, r.text
    assert _upload(server.url, "other.bin", data, "198.51.100.3").status_code == 200  # another address
    kind, _ = _http_colorize(server.url, files["gray"])  # and the plain local client
    assert kind == "complete"


def _results_named(server, stem: str) -> list[Path]:
    """The result files for a photo named stem, wherever the server put them."""
    roots = [server.log.parent / "gradio", Path(tempfile.gettempdir()) / "colorcore-demo"]
    return [p for root in roots if root.is_dir() for p in root.rglob(f"{stem}-colorized-*")]


def test_a_result_is_stored_once(server, files, tmp_path):
    """The PNG to download is the very file the slider shows, and there is one copy on disk."""
    stem = f"once-{os.getpid()}-{time.monotonic_ns()}"
    path = tmp_path / f"{stem}.png"
    path.write_bytes(files["gray"].read_bytes())
    uploaded = httpx.post(server.url + "gradio_api/upload", files={"files": (path.name, path.read_bytes())}).json()[0]
    photo_data = {"path": uploaded, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}
    event = httpx.post(server.url + "gradio_api/call/colorize_view",
                       json={"data": [photo_data, "lite0-unet", 0.38, None, 0, False]}).json()["event_id"]
    stream = httpx.get(server.url + f"gradio_api/call/colorize_view/{event}", timeout=120).text
    assert "event: complete" in stream, stream[-500:]
    pair, _, download, *_ = json.loads(re.findall(r"^data: (.*)$", stream, re.M)[-1])
    assert pair[1]["path"] == download["value"]["path"], "the slider shows a second copy of the result"
    assert len(_results_named(server, stem)) == 1, _results_named(server, stem)
    kind, _ = _http_colorize(server.url, path)  # the API endpoint, too
    assert kind == "complete"
    assert len(_results_named(server, stem)) == 2  # one more request, one more file


def test_the_cache_stays_bounded(server):
    """However much is uploaded, the files Gradio holds stay under CACHE_SIZE (oldest out
    first); the newest upload is kept."""
    cache = server.log.parent / "gradio"
    size = MAX_FILE_SIZE * 9 // 10
    last = None
    for i in range(2 * CACHE_SIZE // size):  # twice the bound, a few uploads from each address
        r = _upload(server.url, f"fill{i}.bin", os.urandom(size), f"198.51.101.{i // 3}")
        assert r.status_code == 200, r.text
        last = r.json()[0]
    examples = {f"{name}.png" for name in ("astronaut", "coffee", "chelsea", "rocket", "camera", "moon")}
    held = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file() and p.name not in examples)
    assert held <= CACHE_SIZE + MAX_FILE_SIZE, f"{held} bytes in the cache"
    assert Path(last).is_file()


def test_an_upload_gone_from_the_cache_is_a_clear_error(server, files):
    uploaded = httpx.post(server.url + "gradio_api/upload",
                          files={"files": ("gone.png", files["gray"].read_bytes() + b"gone")}).json()[0]
    Path(uploaded).unlink()  # as the bounded cache would
    data = [{"path": uploaded, "orig_name": "gone.png", "meta": {"_type": "gradio.FileData"}}, "default", None, None]
    event = httpx.post(server.url + "gradio_api/call/colorize", json={"data": data}).json()["event_id"]
    stream = httpx.get(server.url + f"gradio_api/call/colorize/{event}", timeout=120).text
    assert "event: error" in stream and "gone.png is no longer on the server" in stream, stream


# --------------------------------------------------------------------------
# In-process: the engine and the page


@pytest.fixture
def engine(weights, monkeypatch):
    monkeypatch.setenv("COLORCORE_WEIGHTS", str(weights))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from demo import engine as E

    E._models.clear()
    yield E
    E._models.clear()


def test_the_engine_keeps_a_bounded_number_of_results(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "OUT_DIR", tmp_path / "out")
    image = Image.new("RGB", (8, 8))
    paths = [Path(engine.save_png(image, f"r{i}")) for i in range(engine.OUT_KEEP + 10)]
    assert len(list((tmp_path / "out").iterdir())) == engine.OUT_KEEP
    assert all(p.is_file() for p in paths[-engine.OUT_KEEP:]) and not paths[0].exists()


def test_the_demo_has_its_own_lower_pixel_limit(engine):
    """A 5 kB 1-bit PNG of 6300x6300 is a real file the library takes (it is under
    40 MP and deflate does compress that well), but a shared server refuses it from its
    header, before decoding, quoting its own limit."""
    buf = io.BytesIO()
    Image.new("1", (6300, 6300)).save(buf, "PNG")
    assert len(buf.getvalue()) < 8000
    assert engine.MAX_PIXELS < 6300 * 6300 <= colorcore.io.default_max_pixels()
    with pytest.raises(ImageError, match="6300x6300 pixels is over the limit of 16 megapixels"):
        engine.decode(buf.getvalue(), "scan.png")


@pytest.mark.parametrize("name", ["eccv16", "default"])
def test_batched_forward_passes_match_single_ones(engine, files, name):
    """Requests that arrive while the net is busy share the next forward pass, and
    get the pixels they would have got alone; for the flagship, a photo with colour hints
    shares it with photos without."""
    photos = [engine.decode(files["colour"]), engine.decode(files["gray"]), engine.decode(files["colour"])]
    colorizer = engine.get_colorizer(name)
    hints = [None, engine.parse_hints([[20, 40, "#20b040"]], 96, 64) if colorizer.accepts_hints else None, None]
    alone = [np.asarray(engine.colorize_photo(p, colorizer, hints=h).image, dtype=int) for p, h in zip(photos, hints)]

    release = threading.Event()
    real_predict = colorizer.predict
    calls = []

    def slow_predict(x, temperature=None, seed=None, vividness=None, **hints):
        calls.append(len(x))
        if len(calls) == 1:
            release.wait(10)  # hold the first batch until the others are queued
        return real_predict(x, temperature, seed, vividness=vividness, **hints)

    def wait_for(condition):
        deadline = time.monotonic() + 30
        while not condition():
            assert time.monotonic() < deadline, "the batcher never got the requests"
            time.sleep(0.01)

    batcher = engine.Batcher()
    engine_batcher, engine.BATCHER = engine.BATCHER, batcher
    colorizer.predict = slow_predict
    try:
        results = [None] * 4
        work, work_hints = [photos[0], *photos], [None, *hints]

        def go(i):
            results[i] = np.asarray(engine.colorize_photo(work[i], colorizer, hints=work_hints[i]).image, dtype=int)

        first = threading.Thread(target=go, args=(0,))
        first.start()
        wait_for(lambda: calls)
        rest = [threading.Thread(target=go, args=(i,)) for i in (1, 2, 3)]
        for t in rest:
            t.start()
        wait_for(lambda: batcher._queue.qsize() >= 3)
        release.set()
        for t in [first, *rest]:
            t.join(30)
    finally:
        colorizer.predict = real_predict
        engine.BATCHER = engine_batcher
    assert calls == [1, 3]
    for got, want in zip(results[1:], alone):
        assert np.abs(got - want).max() <= 1
    if hints[1]:  # and the hints made a difference
        assert np.abs(results[2] - np.asarray(engine.colorize_photo(photos[1], colorizer).image, int)).max() > 30


def test_hints_reach_the_model_in_its_one_forward_pass(engine, files):
    """The engine hands hints to the model with the photo, in the one forward pass of a
    colorize (no extra cost), and gets the library's own pixels for them wherever they are."""
    from colorcore.models import HintsNotSupported

    colorizer = engine.get_colorizer("default")
    photo = engine.decode(files["gray"])
    real_predict, calls = colorizer.predict, []

    def counting(*args, **kwargs):
        calls.append(kwargs.get("hints"))
        return real_predict(*args, **kwargs)

    colorizer.predict = counting
    try:
        plain = np.asarray(engine.colorize_photo(photo, colorizer).image, dtype=int)
        hinted = engine.colorize_photo(photo, colorizer, hints=engine.parse_hints([[20, 40, "#20b040"]], 96, 64))
    finally:
        colorizer.predict = real_predict
    assert len(calls) == 2 and calls[0] is None and len(calls[1]) == 1 and len(calls[1][0]) == 1
    assert hinted.hints == 1
    changed = np.abs(np.asarray(hinted.image, dtype=int) - plain).sum(-1)
    assert changed[35:46, 15:26].max() > 30 and changed[:, 35:].max() == 0
    for x, y in ((20, 40), (0, 0), (95, 63), (47, 31)):  # the same cells as the library's hints, edges too
        hint = [x, y, "#2060e0"]
        ours = np.asarray(engine.colorize_photo(photo, colorizer, hints=engine.parse_hints([hint], 96, 64)).image,
                          dtype=int)
        lib = np.asarray(colorizer.colorize(files["gray"], hints=[hint]), dtype=int)
        assert np.abs(ours - lib).max() <= 2, hint
        assert np.abs(ours - plain)[max(0, y - 2):y + 3, max(0, x - 2):x + 3].max() > 20, hint
    with pytest.raises(HintsNotSupported, match="does not take colour hints"):
        engine.colorize_photo(photo, engine.get_colorizer("eccv16"), hints=engine.parse_hints([[1, 1, "#ff0000"]],
                                                                                               96, 64))


def test_clicks_map_to_the_photos_pixels():
    """Gradio's SelectData.index is [x, y] in the shown picture's own pixels (its frontend
    divides out the on-screen scale; the browser test checks that part). On the photo itself
    that is the photo's pixel; on the marked copy it is scaled up to the photo's."""
    from demo import engine as E

    assert E.click_to_pixel([0, 0], (96, 64), (96, 64)) == (0, 0)
    assert E.click_to_pixel([95, 63], (96, 64), (96, 64)) == (95, 63)
    assert E.click_to_pixel([37, 12], (96, 64), (96, 64)) == (37, 12)
    # a copy a quarter the size: each shown pixel covers 4x4 of the photo's, the hint goes to its centre
    assert E.click_to_pixel([0, 0], (300, 200), (1200, 800)) == (2, 2)
    assert E.click_to_pixel([150, 100], (300, 200), (1200, 800)) == (602, 402)
    assert E.click_to_pixel([299, 199], (300, 200), (1200, 800)) == (1198, 798)
    assert E.click_to_pixel([511, 0], (512, 341), (1200, 800)) == (1198, 1)  # not an exact multiple
    for bad in ([300, 0], [0, 200], [-1, 5], None, [1], "ab", [float("nan"), 1]):
        with pytest.raises(ValueError):
            E.click_to_pixel(bad, (300, 200), (1200, 800))
    # a hint placed from the marked copy is drawn where it was clicked, in its colour
    x, y = E.click_to_pixel([75, 150], (300, 200), (1200, 800))
    marked = E.draw_hints(Image.new("RGB", (300, 200), (128, 128, 128)), [[x, y, "#ff0000"]], (1200, 800))
    assert marked.getpixel((75, 150)) == (255, 0, 0) and marked.getpixel((150, 50)) == (128, 128, 128)
    # the colour at a photo's pixel, read from a result's copy at any scale
    half = Image.new("RGB", (600, 400), (10, 20, 30))
    half.putpixel((301, 200), (200, 100, 50))
    assert E.colour_at(half, 602, 401, (1200, 800)) == "#c86432"
    assert E.colour_at(half, 600, 401, (1200, 800)) == "#0a141e"


@pytest.fixture
def uploaded(files, tmp_path):
    """The gray test photo as the page sends it: a file in Gradio's upload folder."""
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()) / f"colorcore-test-{os.getpid()}-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    path = folder / "cat.png"
    path.write_bytes(files["gray"].read_bytes())
    yield {"path": str(path), "orig_name": "cat.png", "meta": {"_type": "gradio.FileData"}}
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def test_a_click_adds_a_hint_in_the_results_colour(engine, uploaded, monkeypatch):
    """Clicking the photo adds a hint there: before any result in the picker's colour, after one
    in the result's colour at that pixel; the picker shows it; Colorize uses the hints."""
    from demo import app

    state, table, view, colour = app.add_hint(uploaded, None, None, "default", "#ABCDEF", [10, 12])
    assert state["items"] == [[10, 12, "#abcdef"]] and state["selected"] == 0 and colour == "#abcdef"
    assert state["size"] == (96, 64) and table["visible"] and view["visible"]
    assert view["value"].getpixel((10, 12)) == (0xAB, 0xCD, 0xEF)  # the marker, on the gray copy
    pair, _, download, status, _, kept = app.colorize_view(uploaded, "default", None, None, 0, False, state)
    assert "1 colour hint" in status
    png = np.asarray(Image.open(download["value"]).convert("RGB"))
    state, _, _, colour = app.add_hint(uploaded, state, kept, "default", "#abcdef", [30, 50])
    assert colour == "#%02x%02x%02x" % tuple(png[50, 30]) and state["items"][1] == [30, 50, colour]
    assert state["selected"] == 1
    # on the marked copy (here a half-size one), a click is scaled to the photo's pixels
    monkeypatch.setattr(app.E, "HINT_VIEW_MAX", 48)
    fresh = {**uploaded, "path": uploaded["path"]}
    small, *_ = app.add_hint(fresh, None, None, "default", "#00ff00", [10, 20], on_marked=True)
    assert small["shown"] == (48, 32) and small["items"] == [[21, 41, "#00ff00"]]
    # a stale result (another photo's) is not used for the colour
    other = {**kept, "key": "another photo"}
    state2, *_, colour = app.add_hint(uploaded, state, other, "default", "#123456", [5, 5])
    assert colour == "#123456"


def test_editing_the_hints(engine, uploaded):
    """The picker recolours the selected hint; a row click selects one; Remove takes the
    selected (or the newest) away, Clear all of them."""
    import gradio as gr

    from demo import app

    state = None
    for x in (10, 20, 30):
        state, *_ = app.add_hint(uploaded, state, None, "default", "#ff0000", [x, 5])
    state, table, view = app.recolour_hint("#00FF00", state)  # the newest is selected
    assert [c for *_, c in state["items"]] == ["#ff0000", "#ff0000", "#00ff00"]
    assert all(u == {"__type__": "update"} for u in app.recolour_hint("#00ff00", state))  # nothing to change
    assert "background-color: #00ff00" in table["value"].to_html()
    state, _, _, colour = app.select_hint(state, gr.SelectData(None, {"index": [0, 2], "value": 10}))
    assert state["selected"] == 0 and colour == "#ff0000"
    state, *_ = app.recolour_hint("#0000ff", state)
    assert [c for *_, c in state["items"]] == ["#0000ff", "#ff0000", "#00ff00"]
    state, table, view = app.remove_hint(state)
    assert [x for x, *_ in state["items"]] == [20, 30] and state["selected"] is None
    state, *_ = app.remove_hint(state)  # none selected: the newest
    assert [x for x, *_ in state["items"]] == [20]
    state, table, view = app.clear_hints(state)
    assert state["items"] == [] and table["visible"] is False and view["visible"] is False
    assert app.photo_changed()[0] is None  # another photo: no hints


def test_hints_and_a_model_that_takes_none(engine, uploaded):
    """Clicking with such a model says so (and adds nothing); hints placed for the flagship
    stay, and Colorize with the other model says they were not used."""
    from demo import app

    state, *_ = app.add_hint(uploaded, None, None, "default", "#ff0000", [10, 12])
    with pytest.warns(UserWarning, match="eccv16 does not take colour hints: choose lite0-unet"):
        outputs = app.add_hint(uploaded, state, None, "eccv16", "#ff0000", [20, 12])
    assert all(u == {"__type__": "update"} for u in outputs)
    *_, status, _, _ = app.colorize_view(uploaded, "eccv16", None, None, 0, False, state)
    assert "1 colour hint not used: eccv16 does not take colour hints" in status
    *_, note, picker = app.model_changed("eccv16")
    assert "does not take colour hints" in note and picker["interactive"] is False
    *_, note, picker = app.model_changed("lite0-unet")  # the dropdown gives names
    assert "Click your photo" in note and picker["interactive"] is True


def test_a_model_without_weights_is_a_message_not_a_crash(tmp_path, monkeypatch):
    write_random_weights(tmp_path, skip=("vae",))
    monkeypatch.setenv("COLORCORE_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from demo import app
    from demo import engine as E

    monkeypatch.setenv("COLORCORE_REPO_WEIGHTS", str(tmp_path / "no-shipped-weights"))  # as if none were shipped
    monkeypatch.setattr(E, "CACHE", tmp_path / "cache")  # the example photos
    E._models.clear()
    with pytest.raises(E.DemoError, match="'vae' has no trained weights here yet") as err:
        E.get_colorizer("vae")
    assert str(tmp_path) not in str(err.value)  # where it looked goes to the log, not to visitors
    labels = {m.name: m.label for m in E.model_infos()}
    assert labels["vae"].endswith("(✗ no weights)") and labels["lite0-unet"].endswith("(✓)")
    demo = app.build_demo()  # builds with the model marked, and its about panel says so
    assert "No trained weights" in E.about_markdown("vae")
    assert any(getattr(b, "label", None) == "Model" for b in demo.blocks.values())
    E._models.clear()


def test_examples_are_written_outside_the_repository(tmp_path, monkeypatch):
    from demo import engine as E

    monkeypatch.setattr(E, "CACHE", tmp_path / "cache")
    examples = E.example_photos()
    bw, colour = ([Path(p) for p in examples[k]] for k in ("bw", "colour"))
    assert [p.stem for p in bw] == ["camera", "chelsea-bw", "astronaut-bw", "moon", "coffee-bw"]
    assert [p.stem for p in colour] == ["astronaut", "coffee", "chelsea", "rocket"]
    assert all(p.is_file() and ROOT not in p.parents for p in bw + colour)
    assert all(Image.open(p).mode == "L" for p in bw)  # black and white first: what visitors bring
    assert all(E.is_colour(E.decode(p)) for p in colour)
    assert not list((ROOT / "demo").glob("*.png"))


def test_space_card_is_written_at_publish_time(tmp_path, monkeypatch):
    """The Space's README.md is demo/README.md with front matter that demo/publish.py adds
    from gradio and the registry: the Hub repo of each shipped model (weights/<name>/).
    Nothing a new model would make stale is committed, so none needs regenerating."""
    import gradio
    import yaml

    from demo import publish

    committed = yaml.safe_load((ROOT / "demo" / "README.md").read_text().split("---\n")[1])
    assert not {"sdk_version", "models", "preload_from_hub"} & set(committed)
    monkeypatch.setenv("COLORCORE_REPO_WEIGHTS", str(servers.write_random_weights(tmp_path, names=("vae", "eccv16"))))
    front = yaml.safe_load(publish.render_card().split("---\n")[1])
    assert {k: front[k] for k in committed} == committed
    assert front["sdk"] == "gradio" and (ROOT / front["app_file"]).is_file() and front["suggested_hardware"]
    assert front["sdk_version"] == gradio.__version__
    assert front["models"] == ["colorcore/eccv16", "colorcore/vae"]
    assert front["preload_from_hub"] == [f"colorcore/{n} config.json,model.safetensors" for n in ("eccv16", "vae")]


def test_space_staging(tmp_path):
    from demo import publish

    out = publish.stage(tmp_path / "space")
    assert (out / "README.md").read_text().startswith("---\ntitle:")
    for f in ("demo/app.py", "demo/engine.py", "demo/batch.py", "colorcore/pipeline.py", "colorcore/assets/ab_gamut.npz",
              "requirements.txt"):
        assert (out / f).is_file(), f
    assert "gradio==" in (out / "requirements.txt").read_text()
    names = {p.name for p in out.rglob("*")}
    assert not names & {"__pycache__", "weights", "tests", "publish.py", "app.pyi"}


def test_about_panel_reads_the_model_card(tmp_path, monkeypatch):
    write_random_weights(tmp_path)
    card = "---\nlicense: mit\ntags: [colorization]\n---\n# eccv16\n\n## Training\n\n20000 steps on 2 CPU cores.\n"
    (tmp_path / "eccv16" / "README.md").write_text(card)
    monkeypatch.setenv("COLORCORE_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from demo import engine as E

    about = E.about_markdown("eccv16")
    assert "## Training" in about and "20000 steps on 2 CPU cores." in about
    assert "license: mit" not in about and "sha256" in about and get_spec("eccv16").summary in about
    assert "No model card" in E.about_markdown("vae")
    assert "the flagship" in E.about_markdown("default")


@pytest.mark.slow
def test_the_awkward_file_corpus_through_the_web(client, server, tmp_path):
    """tests/badfiles.py's corpus through /colorize: each good file gives a same-size PNG,
    each bad one a clear error naming it, and the server stays up throughout. (The exact
    wording of each error is colorcore.io's business, tested on its own.)"""
    badfiles = pytest.importorskip("badfiles")
    failures = []
    for case, path in badfiles.write_corpus(tmp_path / "corpus"):
        try:
            out = client.predict(handle_file(str(path)), "regression-l2", api_name="/colorize")
        except AppError as e:
            if case.ok or not str(e).startswith(f"{path.name}: ") or "Traceback" in str(e):
                failures.append(f"{case.kind}: {e}")
            continue
        if not case.ok:
            failures.append(f"{case.kind}: no error")
        elif Image.open(out).size != case.size:
            failures.append(f"{case.kind}: {Image.open(out).size} != {case.size}")
    assert not failures, "\n".join(failures)
    assert server.alive()


def test_uncertainty_map_is_dark_where_sure_and_bright_where_unsure():
    from demo import engine as E

    entropy = torch.linspace(0, 1, 16).repeat(8, 1) * math.log(229)  # sure on the left, unsure on the right
    result = E.Colorized("x", Image.new("RGB", (640, 320)), entropy, math.log(229), 0.0, 0.38, None)
    share = E.uncertainty_share(result)
    assert share.shape == (8, 16) and share.dtype == np.float16  # small enough to keep with the result
    picture, mean = E.uncertainty_map(share, Image.new("L", (640, 320), 128))
    a = np.asarray(picture, dtype=float).sum(-1)
    assert picture.size[0] == 640 and picture.size[1] > 320 and abs(mean - 0.5) < 0.01
    assert a[:320, :80].mean() < a[:320, 280:360].mean() < a[:320, -80:].mean()
    legend = a[320:]  # the colour scale: dark on the left, bright on the right, labels in black
    bar = legend[legend.shape[0] // 4]
    assert bar[40:80].mean() < bar[300:340].mean() < bar[-80:-40].mean()
    assert (legend[60:] < 60).sum() > 50  # the labels under the bar: dark text on the white ground
    assert E.uncertainty_share(E.Colorized("y", result.image, None, 0.0, 0.0, None, None)) is None
