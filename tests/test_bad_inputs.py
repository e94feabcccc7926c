"""Bad and awkward input, through all three faces: the Python API, the CLI and the
demo's API (issue 7). The corpus is generated (tests/badfiles.py; nothing is
downloaded). Each file must give either a valid output (the decoded input's size,
its Lab lightness kept within 1 unit) or a clear error that names the file and
the problem: never a hang (every call has a timeout), a crash of the server or a
partial file. The same outcome on every face:

| kind | file | outcome |
| --- | --- | --- |
| 1x1 pixel | one_pixel.png | ok: same size (1x1), lightness kept |
| 20000x1 pixels | line.png | ok: same size (20000x1), lightness kept |
| 1x2000 pixels (tall strip) | column.png | ok: same size (1x2000), lightness kept |
| 16-bit gray PNG | gray16.png | ok: same size (40x30), lightness kept |
| 16-bit-per-channel RGB PNG | rgb16.png | ok: same size (40x24), lightness kept |
| CMYK JPEG | cmyk.jpg | ok: same size (40x30), lightness kept |
| palette PNG with a transparent index | palette_alpha.png | ok: same size (40x30), lightness kept |
| RGBA PNG, fully transparent | clear.png | ok: same size (20x10), lightness kept |
| gray+alpha PNG | gray_alpha.png | ok: same size (30x20), lightness kept |
| 1-bit (bilevel) PNG | bilevel.png | ok: same size (30x20), lightness kept |
| animated GIF (first frame used) | animated.gif | ok: same size (32x24), lightness kept |
| animated PNG (first frame used) | apng.png | ok: same size (32x24), lightness kept |
| multi-page TIFF (first page used) | pages.tif | ok: same size (30x20), lightness kept |
| float32 TIFF in [0, 1] | float.tif | ok: same size (40x30), lightness kept |
| float32 TIFF with NaN and inf | float_nan.tif | ok: same size (40x30), lightness kept |
| 32-bit integer TIFF | int32.tif | ok: same size (40x30), lightness kept |
| WebP | lossy.webp | ok: same size (48x32), lightness kept |
| lossless WebP with alpha | alpha.webp | ok: same size (30x20), lightness kept |
| EXIF-rotated JPEG (orientation 6) | rotated.jpg | ok: same size (20x60), lightness kept |
| EXIF orientation out of range (9) | bad_orientation.jpg | ok: same size (60x20), lightness kept |
| already-colour photo | colour.png | ok: same size (48x32), lightness kept |
| fully black | black.png | ok: same size (32x24), lightness kept |
| fully white | white.png | ok: same size (32x24), lightness kept |
| LAB-mode TIFF | lab.tif | ok: same size (40x30), lightness kept |
| BMP | gray.bmp | ok: same size (48x32), lightness kept |
| PNG with a broken CRC in IDAT only (pixels intact) | crc_idat.png | ok: same size (48x32), lightness kept |
| JPEG named .png | really_a_jpeg.png | ok: same size (40x30), lightness kept |
| MPO (multi-picture JPEG from a phone) | phone.jpg | ok: same size (40x30), lightness kept |
| 16-bit PGM | scan16.pgm | ok: same size (40x30), lightness kept |
| progressive JPEG | progressive.jpg | ok: same size (40x30), lightness kept |
| JPEG with corrupt EXIF | bad_exif.jpg | ok: same size (40x30), lightness kept |
| trailing garbage after PNG IEND | trailing.png | ok: same size (48x32), lightness kept |
| zero bytes | empty.jpg | error: "empty" |
| truncated JPEG | truncated.jpg | error: "truncated or corrupt" |
| JPEG cut short, end marker put back | cut_eoi.jpg | error: "truncated JPEG" |
| progressive JPEG cut short, end marker put back | cut_eoi_progressive.jpg | error: "truncated JPEG" |
| JPEG with restart markers cut short, end marker put back | cut_eoi_restarts.jpg | error: "truncated JPEG" |
| progressive JPEG cut between scans | missing_scans.jpg | error: "truncated JPEG" |
| JPEG of a few hundred bytes claiming 4000x3000 | forged_size.jpg | error: "cannot hold 4000x3000 pixels" |
| PNG with a broken header CRC | crc_ihdr.png | error: "corrupt PNG file" |
| PNG with scrambled pixel data | scrambled.png | error: "truncated or corrupt" |
| text file named .jpg | notes.jpg | error: "not an image file" |
| SVG named .png | drawing.png | error: "not an image file" |
| HTML named .png | page.png | error: "not an image file" |
| PNG header claiming 100000x100000 | huge_header.png | error: "over the limit" |
| TIFF header claiming 100000x100000 | huge_tiff_header.tif | error: "over the limit" |
| complete 45-megapixel 1-bit PNG (few kB) | bomb.png | error: "over the limit" |
| PNG header claiming 0x0 | zero_size.png | error: "corrupt PNG file" |
| PNG with bit depth 7 | depth7.png | error: "corrupt PNG file" |
| truncated GIF | cut_gif.gif | error: "corrupt GIF file" |
| truncated WebP | cut_webp.webp | error: "not a readable image" |
| truncated TIFF | cut_tiff.tif | error: "truncated or corrupt" |
| EPS named .jpg (Ghostscript must never run) | poster.jpg | error: "EPS files are not accepted" |
| ICO icon named .png | favicon.png | error: "ICO files are not accepted" |
| PDF named .jpg | scan.jpg | error: "not an image file" |

Also here: a user's file name never becomes a path (CLI and demo); the demo opens
only files that were uploaded to it, and its byte limit holds for data: URLs too; nothing in the project
unpickles, and weights that are not safetensors are never read.

python scripts/loadtest.py drives the same corpus through the demo with 32
concurrent clients (a benchmark; figures in results/loadtest.md).
"""
from __future__ import annotations

import ast
import itertools
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from PIL import Image

import badfiles
import colorcore
from colorcore import hub
from colorcore.color import rgb_to_lab
from colorcore.data import IMAGE_SUFFIXES
from colorcore.io import ImageError, load_image
from servers import DemoProcess, colorize_http
from conftest import gradient_photo

pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow's note on the corrupt-EXIF case

ROOT = Path(__file__).resolve().parent.parent
CASES = badfiles.cases()
MAX_UPLOAD = 1_000_000  # the test server's upload limit in bytes (every corpus file is smaller)
CALL_TIMEOUT = 120  # seconds for one image on any face; a hang fails the test instead of blocking


def _id(case: badfiles.Case) -> str:
    return Path(case.name).stem


def within(seconds: float, fn, *args, **kwargs):
    """fn(*args) in a daemon thread: its result, its exception, or a failure after `seconds`."""
    box: dict = {}

    def go():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["error"] = e

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        pytest.fail(f"{getattr(fn, '__name__', fn)} gave no answer in {seconds} s (a hang)")
    if "error" in box:
        raise box["error"]
    return box["value"]


def lab_l(im: Image.Image) -> np.ndarray:
    t = torch.from_numpy(np.asarray(im.convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)[None]
    return rgb_to_lab(t)[0, 0].numpy()


def assert_valid_output(out: Image.Image, case: badfiles.Case, source) -> None:
    """Same size as the decoded input, RGB, and the input's Lab lightness within 1 unit."""
    decoded = load_image(source, name=case.name)
    assert decoded.size == case.size, f"{case.kind}: decoded as {decoded.size}, the corpus says {case.size}"
    assert out.mode == "RGB" and out.size == case.size, f"{case.kind}: got {out.mode} {out.size}"
    diff = np.abs(lab_l(out) - lab_l(decoded)).max()
    assert diff <= 1.0, f"{case.kind}: lightness moved by {diff:.2f}"


def assert_clear_error(message: str, case: badfiles.Case) -> None:
    assert case.words in message and case.name in message, f"{case.kind}: unclear error {message!r}"
    assert "Traceback" not in message


# --------------------------------------------------------------------------
# The table in the docstring is the corpus


def test_the_docstring_table_is_the_corpus():
    assert badfiles.outcome_table() in __doc__, "paste badfiles.outcome_table() into this module's docstring"
    assert {c.ok for c in CASES} == {True, False}


# --------------------------------------------------------------------------
# Face 1: the Python API


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    return {case.name: path for case, path in badfiles.write_corpus(folder)}


@pytest.fixture(scope="module")
def colorizer(random_weights):
    return colorcore.load_colorizer("default", device="cpu", weights=random_weights / "lite0-unet")


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_python_api(colorizer, corpus, case):
    path = corpus[case.name]
    if case.ok:
        out = within(CALL_TIMEOUT, colorizer.colorize, path)
        assert_valid_output(out, case, path)
        from_bytes = within(CALL_TIMEOUT, colorizer.colorize, case.data, name=case.name)
        assert np.array_equal(np.asarray(from_bytes), np.asarray(out))  # a path or the bytes: the same
    else:
        with pytest.raises(ImageError) as err:
            within(CALL_TIMEOUT, colorizer.colorize, path)
        assert_clear_error(str(err.value), case)
        assert str(path) in str(err.value)  # a path is named in full


# --------------------------------------------------------------------------
# Face 2: the CLI, one process over the whole corpus


def cli(*args, weights: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLORCORE_WEIGHTS": str(weights), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "colorcore", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_cli_over_the_corpus(random_weights, corpus, tmp_path):
    """The corpus folder (its image suffixes are picked up) plus explicit files: one
    whose suffix a folder scan skips, one that does not exist. Good ones written,
    bad ones one error line each, nothing else in --out."""
    folder = next(iter(corpus.values())).parent
    scanned = {name for name in corpus if Path(name).suffix.lower() in IMAGE_SUFFIXES}
    explicit = [corpus[name] for name in corpus if name not in scanned]
    assert explicit, "the corpus should hold a file that only an explicit argument brings in"
    out = tmp_path / "out"
    done = cli("colorize", folder, *explicit, tmp_path / "missing.png", "--model", "default", "--out", out,
               weights=random_weights)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    bad = [c for c in CASES if not c.ok]
    assert len(errors) == len(bad) + 1, "\n".join(errors)
    for case in bad:
        mine = [e for e in errors if f"/{case.name}:" in e]
        assert len(mine) == 1, f"{case.kind}: {mine}"
        assert_clear_error(mine[0], case)
    assert any("missing.png: no such file" in e for e in errors)
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"{Path(c.name).stem}.png" for c in CASES if c.ok)  # no temp or partial files
    for case in (c for c in CASES if c.ok):
        with Image.open(out / f"{Path(case.name).stem}.png") as im:
            assert im.format == "PNG"
            assert_valid_output(im.convert("RGB"), case, corpus[case.name])


# --------------------------------------------------------------------------
# Face 3: the demo's API (gradio_client), one server for the module


@pytest.fixture(scope="module")
def server(random_weights, tmp_path_factory):
    env = {"OMP_NUM_THREADS": "1", "COLORCORE_DEMO_MAX_FILE_SIZE": str(MAX_UPLOAD)}
    s = DemoProcess(tmp_path_factory.mktemp("demo"), random_weights, env=env).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False, download_files=str(server.workdir / "downloads"),
                  analytics_enabled=False)


@pytest.fixture(scope="module")
def good_photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "good.png"
    gradient_photo(40, 30).convert("L").save(path)
    return path


def predict(client, path: Path, model: str = "default") -> str:
    from gradio_client import handle_file

    job = client.submit(handle_file(str(path)), model, api_name="/colorize")
    return job.result(timeout=CALL_TIMEOUT)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_demo_api(client, server, corpus, good_photo, case):
    from gradio_client.exceptions import AppError

    path = corpus[case.name]
    if case.ok:
        with Image.open(predict(client, path)) as out:
            assert out.format == "PNG"
            assert_valid_output(out.convert("RGB"), case, path)
    else:
        with pytest.raises(AppError) as err:
            predict(client, path)
        assert_clear_error(str(err.value), case)
        assert str(path.parent) not in str(err.value)  # the visitor's file name, not a server path
        with Image.open(predict(client, good_photo)) as out:  # the next good call still works
            assert out.size == (40, 30)
    assert server.alive()


def test_demo_log_has_no_tracebacks(client, server, corpus, good_photo):
    """Runs after the corpus went through the demo: every bad file was an expected error."""
    predict(client, good_photo)
    assert "Traceback" not in server.log_text(), server.log_text()[-3000:]


# --------------------------------------------------------------------------
# File names from users never become paths


@pytest.mark.parametrize("odd", ["../../etc/passwd.png", "a/b\\c.png", "..\\..\\win.ini.png", "x\x00y.png"])
def test_demo_upload_names_never_become_paths(server, good_photo, odd):
    """The visitor's file name is only used, cleaned, in the result's name; files stay in
    the server's upload folder."""
    upload_dir = server.upload_dir.resolve()
    with httpx.Client() as c:
        up = c.post(server.url + "gradio_api/upload", files={"files": (odd, good_photo.read_bytes())}).json()[0]
        outcome = colorize_http(c, server.url, odd, good_photo.read_bytes(), timeout=CALL_TIMEOUT)
    assert outcome.status == "ok", outcome.message
    for path in (Path(up), Path(outcome.path)):
        assert path.resolve().parent.parent == upload_dir, path  # <upload folder>/<hash>/<name>
    assert re.fullmatch(r"\w[\w-]*-colorized-lite0-unet\.png", Path(outcome.path).name), outcome.path
    assert not (server.workdir / "etc").exists() and not Path("/etc/passwd.png").exists()


def test_cli_names_never_become_paths(random_weights, tmp_path):
    """Odd file names, and inputs named through '..', all land as <stem>.png directly in --out."""
    odd = tmp_path / "odd"
    odd.mkdir()
    names = ["a\\b c.png", "-starts-with-dash.png", "ünïcødé фото.png", "..png", "...png", "x;rm -rf ~.png"]
    for name in names:
        gradient_photo(12, 10).save(odd / name, format="PNG")
    deep = tmp_path / "in" / "deeper"
    deep.mkdir(parents=True)
    gradient_photo(12, 10).save(tmp_path / "in" / "passwd.png")
    out = tmp_path / "out"
    done = cli("colorize", odd, deep / ".." / ".." / "in" / "passwd.png", "--out", out, weights=random_weights)
    assert done.returncode == 0, done.stderr[-3000:]
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted([f"{Path(n).stem}.png" for n in names] + ["passwd.png"])
    assert all(p.parent == out and p.is_file() for p in out.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "odd", "out"]  # nothing written beside


def test_demo_refuses_paths_that_were_not_uploaded(server, tmp_path):
    """A client can send {"path": ...} itself; only files Gradio received may be opened. With
    Gradio's "meta" mark, Gradio itself refuses the path before the app runs; without it, the
    app does. Either way the caller gets the same one-line reason and the log no traceback."""
    secret = tmp_path / "secret.png"
    gradient_photo(30, 20).save(secret)
    log_before = server.log.read_text()
    with httpx.Client() as c:
        for path, meta in itertools.product((str(secret), "/etc/passwd", str(tmp_path / "nothing-here.png")),
                                            ({}, {"meta": {"_type": "gradio.FileData"}})):
            body = {"data": [{"path": path, **meta}, "default", None, None]}
            call = c.post(server.url + "gradio_api/call/colorize", json=body)
            assert call.status_code == 200, call.text  # taken, then refused with its reason below
            stream = c.get(server.url + f"gradio_api/call/colorize/{call.json()['event_id']}",
                           timeout=CALL_TIMEOUT).text
            kind = re.findall(r"^event: (\w+)", stream, re.M)[-1]
            message = re.findall(r"^data: (.*)$", stream, re.M)[-1]
            assert kind == "error", f"{path} was read from the server's disk"
            # the same answer whether the file exists, is an image or not: no oracle on the server's disk
            reason = json.loads(message)["error"]
            assert reason and reason.startswith("No image was received: the file named was not uploaded"), message
    assert "Traceback" not in server.log.read_text()[len(log_before):]


def _noise_png(nbytes: int) -> bytes:
    side = int(nbytes ** 0.5) + 8
    im = Image.fromarray(np.random.default_rng(0).integers(0, 256, (side, side), dtype=np.uint8), "L")
    data = badfiles.encode(im, "PNG", compress_level=0)
    assert len(data) > nbytes
    return data


def test_demo_data_url_obeys_the_upload_limit(server):
    """The byte limit holds however the photo arrives: an upload, or a data: URL in the call."""
    import base64

    data = _noise_png(MAX_UPLOAD + 100_000)
    with httpx.Client(timeout=CALL_TIMEOUT) as c:
        assert c.post(server.url + "gradio_api/upload", files={"files": ("big.png", data)}).status_code == 413
        url = "data:image/png;base64," + base64.b64encode(data).decode()
        call = c.post(server.url + "gradio_api/call/colorize",
                      json={"data": [{"url": url, "orig_name": "big.png"}, "default", None, None]})
        # refused before it is decoded, with the limit in the answer
        assert call.status_code == 413, f"a data: URL got past the upload limit: {call.status_code} {call.text[:300]}"
        assert "size limit" in call.json()["error"] and "at most" in call.json()["error"]


def _colorize_with_hints(c: httpx.Client, server, path: Path, hints) -> tuple[str, object]:
    """/colorize over plain HTTP with a sixth value, the hints, sent exactly as given."""
    uploaded = c.post(server.url + "gradio_api/upload", files={"files": (path.name, path.read_bytes())}).json()[0]
    data = [{"path": uploaded, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}, "default", None, None,
            None, hints]
    call = c.post(server.url + "gradio_api/call/colorize", json={"data": data})
    assert call.status_code == 200, call.text
    stream = c.get(server.url + f"gradio_api/call/colorize/{call.json()['event_id']}", timeout=CALL_TIMEOUT).text
    kind = re.findall(r"^event: (\w+)", stream, re.M)[-1]
    payload = json.loads(re.findall(r"^data: (.*)$", stream, re.M)[-1])
    return kind, payload["error"] if kind == "error" else payload


@pytest.mark.parametrize("hints, words", [
    (True, "hints must be a list"), (12, "hints must be a list"), ({"x": 1, "y": 2}, "hint 0 'x': expected"),
    ([[None, None, "#ffffff"]], "x and y must be numbers"), ([["a", "b", "#ffffff"]], "x and y must be numbers"),
    ([[1, 1, "#ff0000", "extra"]], "expected [x, y, '#rrggbb']"), ([[1, 1, None]], "is not '#rrggbb'"),
    ([[1, 1, "#" + "f" * 100_000]], "is not '#rrggbb'"), ([[1.5e300, 1, "#ff0000"]], "is outside the 40x30 image"),
    ([[[1, 2], 3, "#ff0000"]], "x and y must be numbers"), ([[1, 1, "#ff0000"]] * 20_000, "at most 256"),
    ("not json", "must be a JSON list"),
])
def test_demo_odd_hints_are_clear_errors(server, good_photo, hints, words):
    """Whatever a client sends as hints: a one-line error naming the problem (and the hint),
    never a traceback or a stuck worker; the next call works."""
    log_before = server.log.read_text()
    with httpx.Client(timeout=CALL_TIMEOUT) as c:
        kind, message = _colorize_with_hints(c, server, good_photo, hints)
        assert kind == "error" and words in message and "\n" not in message, message
        assert _colorize_with_hints(c, server, good_photo, [[39, 29, "#ff0000"]])[0] == "complete"
    assert "Traceback" not in server.log.read_text()[len(log_before):]


def test_demo_hints_are_in_the_upright_photos_pixels(server, corpus):
    """An EXIF-rotated photo (60x20 as stored, 20x60 upright): hints are checked against the
    photo as colorcore decodes it, upright; a bad file with hints is the file's error."""
    with httpx.Client(timeout=CALL_TIMEOUT) as c:
        assert _colorize_with_hints(c, server, corpus["rotated.jpg"], [[19, 59, "#ff0000"]])[0] == "complete"
        kind, message = _colorize_with_hints(c, server, corpus["rotated.jpg"], [[59, 19, "#ff0000"]])
        assert kind == "error" and "(59, 19) is outside the 20x60 image" in message, message
        kind, message = _colorize_with_hints(c, server, corpus["notes.jpg"], [[1, 1, "#ff0000"]])
        assert kind == "error" and message.startswith("notes.jpg: not an image file"), message


# --------------------------------------------------------------------------
# Trust: nothing unpickles


def project_python_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"], cwd=ROOT,
                                capture_output=True, text=True, timeout=60, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        pytest.skip("not a git checkout")
    return [ROOT / f for f in listed if (ROOT / f).is_file()]


def _calls(text: str, needle: str) -> list[str]:
    """The argument text of every `needle(...)` call written in text (strings included)."""
    found = []
    for m in re.finditer(re.escape(needle) + r"\s*\(", text):
        depth, i = 0, m.end() - 1
        while i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        found.append(text[m.end():i])
    return found


UNPICKLERS = ("pickle", "_pickle", "cPickle", "cloudpickle", "dill", "joblib", "shelve")
IMPORT = re.compile(r"(?:^|[\"';]|\\n)[ \t]*(?:import|from)[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)", re.M)


def test_nothing_in_the_project_unpickles():
    """Every torch.load passes weights_only=True (only our own checkpoints and the pinned
    encoder are read that way); no module imports a pickle library; np.load and pandas
    never take pickles."""
    torch_load = "torch" + ".load"  # spelled apart so that this file passes its own test
    problems = []
    files = project_python_files()
    assert any(f.name == "hub.py" for f in files)
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        rel = f.relative_to(ROOT)
        for args in _calls(text, torch_load):
            if not re.search(r"\bweights_only\s*=\s*True\b", args):
                problems.append(f"{rel}: {torch_load}({args.strip()[:80]}) without weights_only=True")
        for args in _calls(text, "np.load") + _calls(text, "numpy.load"):
            if re.search(r"allow_pickle\s*=\s*True", args):
                problems.append(f"{rel}: np.load with allow_pickle=True")
        if re.search(r"\bread_" + r"pickle\s*\(", text):
            problems.append(f"{rel}: pandas read_" + "pickle")
        for m in IMPORT.finditer(text):  # imports, in code or in code strings ("import x\n...")
            if any(mod.strip().split(".")[0] in UNPICKLERS for mod in m.group(1).split(",")):
                problems.append(f"{rel}: {m.group(0).strip()}")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
                mods = [a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            else:
                continue
            if any(m.split(".")[0] in UNPICKLERS for m in mods):
                problems.append(f"{rel}:{node.lineno}: imports {mods}")
    assert not problems, "\n".join(sorted(set(problems)))


def test_weights_are_only_ever_safetensors(use_weights, tmp_path):
    """A folder with a pickled checkpoint and no model.safetensors is not weights; a
    pickle posing as model.safetensors, its sha256 duly recorded, is refused and
    never runs."""
    good = use_weights / "lite0-unet"
    config = json.loads((good / "config.json").read_text())

    only_pickle = tmp_path / "only_pickle"
    only_pickle.mkdir()
    (only_pickle / "pytorch_model.bin").write_bytes(b"\x80\x02}q\x00.")  # an empty dict, pickled
    (only_pickle / "config.json").write_text(json.dumps(config))
    with pytest.raises(colorcore.WeightsNotFound, match="incomplete weights folder, model.safetensors missing"):
        colorcore.load_colorizer("default", weights=only_pickle)

    marker = tmp_path / "pwned"
    payload = f"open({str(marker)!r}, 'w').close()"
    evil = tmp_path / "evil"
    evil.mkdir()
    # a protocol-0 pickle that calls builtins.exec(payload) when unpickled, written by hand
    (evil / "model.safetensors").write_bytes(b"cbuiltins\nexec\n(V" + payload.encode() + b"\ntR.")
    (evil / "config.json").write_text(json.dumps({**config, "sha256": hub.sha256_of(evil / "model.safetensors")}))
    with pytest.raises(colorcore.WeightsCorrupt, match="not a valid safetensors"):
        colorcore.load_colorizer("default", weights=evil)
    assert not marker.exists()


@pytest.mark.slow
def test_the_load_test_sends_photos_at_real_sizes():
    """results/loadtest.md is measured on photos from a thumbnail to 12 MP, each in its share."""
    from loadtest import PHOTO_SIZES, plan

    jobs = plan(100, 0.25, seed=0)
    sizes = [j.size for j in jobs if j.kind.startswith("photo ")]
    assert {s for s, *_ in PHOTO_SIZES} == set(sizes)
    assert min(w * h for w, h in sizes) <= 256 * 256 and max(w * h for w, h in sizes) >= 12_000_000
    assert sum(w * h >= 12_000_000 for w, h in sizes) >= 0.1 * len(sizes)
    assert sum(j.words is not None for j in jobs) == 25
