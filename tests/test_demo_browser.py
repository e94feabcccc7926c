"""The demo in a real browser: Debian's chromium, headless, driven by Playwright
for Python (its bundled driver; no browser download). The first colorize after the
server is ready, every model's defaults against the API's, the page at a laptop's and a
phone's size, a bad file, Compare and a batch, and the PNGs the page hands back.
Screenshots go outside the repository: $COLORCORE_SCREENSHOTS, or
<tmp>/colorcore-demo-screenshots."""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

import pytest
from gradio_client import Client, handle_file
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from colorcore.models import all_specs
from colorcore.png_stamp import read_stamp
from test_demo import demo_server, photo, write_random_weights

LAPTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("COLORCORE_SCREENSHOTS", Path(tempfile.gettempdir()) / "colorcore-demo-screenshots"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                 reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)")]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return write_random_weights(tmp_path_factory.mktemp("weights"), skip=("pix2pix",))


@pytest.fixture(scope="module")
def server(weights, tmp_path_factory):
    s = demo_server(weights, tmp_path_factory.mktemp("server"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def open_page(browser, server, viewport):
    page = browser.new_page(viewport=viewport, accept_downloads=True)
    page.goto(server.url, wait_until="load")
    expect(page.locator("#colorize-btn")).to_be_visible(timeout=60_000)
    return page


@pytest.fixture(scope="module")
def page(browser, server):
    page = open_page(browser, server, LAPTOP)
    yield page
    page.close()


def open_tab(page, name: str) -> None:
    """Click a tab, through Gradio's "More tabs" menu where a narrow screen hides it."""
    tab = page.get_by_role("tab", name=name)
    if not tab.is_visible():
        page.get_by_role("button", name="More tabs").click()
        tab = page.locator(".overflow-dropdown button", has_text=name)
    tab.click()


def took(page) -> float:
    """The handler's own time, from the status line ("took X s")."""
    text = page.locator("#status").inner_text()
    return float(re.search(r"took (\d+\.\d+) s", text).group(1))


def colorize_and_wait(page, before: str | None = None) -> float:
    """Click Colorize and wait for a new status line; returns the time it reports."""
    page.locator("#colorize-btn").click()
    expect(page.locator("#status")).to_contain_text("took", timeout=60_000)
    if before is not None:
        expect(page.locator("#status")).not_to_have_text(before, timeout=60_000)
    return took(page)


def test_the_first_colorize_is_no_slower_than_three_times_the_next(page, tmp_path):
    """The server loads and warms up the flagship before it answers: the first visitor
    does not pay for it. Runs first in this module, on a server nobody has used."""
    big = photo(tmp_path / "street.png", size=(1600, 1200), gray=True)
    page.locator("#photo input[type=file]").set_input_files(str(big))
    expect(page.locator("#photo img")).to_be_visible(timeout=20_000)
    first = colorize_and_wait(page)
    second = colorize_and_wait(page, page.locator("#status").inner_text())
    assert first <= 3 * second, (first, second)


def test_black_and_white_examples_come_first(page):
    bw, colour = page.locator("#examples-bw"), page.locator("#examples-colour")
    expect(bw).to_be_visible()
    assert bw.bounding_box()["y"] < colour.bounding_box()["y"]
    assert "camera" in bw.locator("img").first.get_attribute("src")
    expect(colour).to_contain_text("colour is removed first")


def test_the_page_and_the_api_agree_on_every_models_defaults(page, server, tmp_path):
    """For each model: the values the page's controls show after choosing it give the
    same PNG through the API as a call that leaves every setting to the model."""
    client = Client(server.url, verbose=False, download_files=str(tmp_path), analytics_enabled=False)
    gray = handle_file(str(photo(tmp_path / "g.png", gray=True)))
    for spec in all_specs():
        if spec.name == "pix2pix":  # no weights on this server
            continue
        page.locator("#colorize-model input").click()
        page.get_by_role("option", name=re.compile(rf"^{re.escape(spec.name)} ")).first.click()
        vividness = page.locator("#vividness input[type=number]")
        expect(page.locator("#status")).to_contain_text(f"{spec.name} is ready", timeout=20_000)
        shown_t = None
        if page.locator("#temperature").is_visible():
            shown_t = float(page.locator("#temperature input[type=number]").input_value())
        shown_v = float(vividness.input_value())
        own = np.asarray(Image.open(client.predict(gray, spec.name, None, None, None, api_name="/colorize")))
        named = np.asarray(Image.open(client.predict(gray, spec.name, shown_t, None, shown_v,
                                                     api_name="/colorize")))
        assert np.array_equal(own, named), (spec.name, shown_t, shown_v)
        assert (shown_t is None) is (spec.kind == "ab"), spec.name
    page.locator("#colorize-model input").click()
    page.get_by_role("option", name=re.compile(r"^lite0-unet ")).first.click()


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_photo_button_result_and_download_on_the_first_screen(browser, server, tmp_path, size):
    viewport = {"laptop": LAPTOP, "phone": PHONE}[size]
    page = open_page(browser, server, viewport)
    try:
        page.locator("#photo input[type=file]").set_input_files(str(photo(tmp_path / "cat.png", size=(640, 480))))
        expect(page.locator("#photo img")).to_be_visible(timeout=20_000)
        colorize_and_wait(page)
        expect(page.locator("#result img").first).to_be_visible(timeout=60_000)
        page.evaluate("window.scrollTo(0, 0)")
        for what in ("#photo", "#colorize-btn", "#result", "#download"):
            box = page.locator(what).bounding_box()
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (what, box)
        page.screenshot(path=str(SHOTS / f"{size}-colorize.png"))
        for tab in ("Compare", "Many photos", "About the models"):
            open_tab(page, tab)
            page.wait_for_timeout(500)
            page.screenshot(path=str(SHOTS / f"{size}-{tab.split()[0].lower()}.png"), full_page=True)
    finally:
        page.close()


def test_the_downloaded_png_says_it_was_colorized(page, weights, tmp_path):
    page.locator("#photo input[type=file]").set_input_files(str(photo(tmp_path / "stamp.png", gray=True)))
    expect(page.locator("#photo img")).to_be_visible(timeout=20_000)
    colorize_and_wait(page)
    expect(page.locator("#download")).to_be_enabled()
    with page.expect_download(timeout=30_000) as d:
        page.locator("#download").click()
    chunks = read_stamp(d.value.path())
    assert chunks["Colorized"] == "true" and chunks["Model"] == "lite0-unet"
    assert chunks["Weights-SHA256"] == json.loads((weights / "lite0-unet" / "config.json").read_text())["sha256"]


def test_upload_colorize_and_find_the_result(page, tmp_path):
    gray = photo(tmp_path / "cat_gray.png", size=(240, 160), gray=True)
    expect(page.get_by_role("heading", name="colorcore: automatic photo colorization")).to_be_visible()
    page.locator("#photo input[type=file]").set_input_files(str(gray))
    expect(page.locator("#photo img")).to_be_visible(timeout=20_000)
    page.locator("#colorize-btn").click()
    result = page.locator("#result img")
    expect(result.first).to_be_visible(timeout=60_000)
    expect(result).to_have_count(2)  # before and after
    for i in range(2):
        assert "gradio_api/file=" in result.nth(i).get_attribute("src")
    expect(page.locator("#status")).to_contain_text("lite0-unet")
    expect(page.locator("#status")).to_contain_text("240×160 px")
    expect(page.locator("#status")).to_contain_text("the PNG says so in its metadata")
    expect(page.locator("#download")).to_be_enabled()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "1-colorized.png"), full_page=True)
    assert (SHOTS / "1-colorized.png").stat().st_size > 10_000


def test_uncertainty_map(page):
    page.get_by_label("Where is it unsure?").check()
    page.locator("#colorize-btn").click()
    expect(page.locator("#unsure img")).to_be_visible(timeout=60_000)
    expect(page.locator("#status")).to_contain_text("uncertainty")
    page.screenshot(path=str(SHOTS / "2-uncertainty.png"), full_page=True)


def test_a_model_without_weights_says_so(page):
    page.locator("#colorize-model input").click()
    page.get_by_role("option", name="pix2pix (✗ no weights)").click()
    expect(page.locator("#status")).to_contain_text("no trained weights", timeout=20_000)
    page.locator("#colorize-btn").click()
    expect(page.get_by_text("has no trained weights here yet").first).to_be_visible(timeout=20_000)
    page.locator("#colorize-model input").click()
    page.get_by_role("option", name="lite0-unet — flagship (✓)").click()
    expect(page.locator("#status")).not_to_contain_text("no trained weights", timeout=20_000)


def test_a_bad_file_is_a_readable_error(page, tmp_path):
    bad = tmp_path / "holiday.jpg"
    bad.write_bytes(b"not really a photo\n" * 50)
    page.locator("#photo button[aria-label='Remove Image']").first.click()
    page.locator("#photo input[type=file]").set_input_files(str(bad))
    page.wait_for_timeout(1000)
    page.locator("#colorize-btn").click()
    expect(page.get_by_text("holiday.jpg: not an image file").first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SHOTS / "3-bad-file.png"), full_page=True)


def test_compare_a_colour_photo(page):
    page.locator("#photo button[aria-label='Remove Image']").first.click()
    page.locator("#examples-colour img[src*='astronaut']").first.click()
    expect(page.locator("#photo img")).to_be_visible(timeout=20_000)
    open_tab(page, "Compare")
    page.locator("#compare-btn").click()
    expect(page.locator("#scores")).to_contain_text("ground truth", timeout=120_000)
    expect(page.locator("#gallery")).to_contain_text("original (ground truth)")
    expect(page.locator("#gallery")).to_contain_text("lite0-unet ·")
    expect(page.locator("#scores")).to_contain_text("PSNR (dB)")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / "4-compare.png"), full_page=True)


def test_a_batch_of_five_photos(page, tmp_path):
    photos = [photo(tmp_path / f"p{i}.png", size=(120 + 20 * i, 90), gray=i % 2 == 0) for i in range(5)]
    open_tab(page, "Many photos")
    page.locator("#batch-files input[type=file]").set_input_files([str(p) for p in photos])
    expect(page.locator("#batch-files").get_by_role("row")).to_have_count(5, timeout=20_000)
    page.locator("#batch-btn").click()
    expect(page.locator("#batch-status")).to_contain_text("5 of 5 photos", timeout=120_000)
    expect(page.locator("#batch-gallery img")).to_have_count(5)
    with page.expect_download(timeout=30_000) as d:
        page.locator("#batch-zip").click()
    with zipfile.ZipFile(d.value.path()) as z:
        names = z.namelist()
        assert names == [f"p{i}-colorized.png" for i in range(5)]
        assert [Image.open(z.open(n)).size for n in names] == [(120 + 20 * i, 90) for i in range(5)]
        assert all(read_stamp(z.open(n))["Colorized"] == "true" for n in names)
    page.screenshot(path=str(SHOTS / "5-batch.png"), full_page=True)


# --------------------------------------------------------------------------
# Colour hints. This server's flagship follows hints by construction (hinting.follow_hints:
# its hint layer pulls the colour at a hint to the hint's), so the colours checked below
# depend on the page and the server only, not on how well some weights learned hints.


@pytest.fixture(scope="module")
def hint_page(browser, server):
    page = open_page(browser, server, LAPTOP)
    yield page
    page.close()


def show_photo(page, path: Path) -> None:
    """Put a photo in the Colorize tab, in place of one an earlier test left there."""
    remove = page.locator("#photo button[aria-label='Remove Image']")
    if remove.count():
        remove.first.click()
    page.locator("#photo input[type=file]").set_input_files(str(path))
    expect(page.locator("#photo img")).to_be_visible(timeout=20_000)


def mid_gray_points(path: Path, n: int, step: int = 40) -> list[tuple[int, int]]:
    """n points of a photo, far apart, each in a patch neither dark nor bright (where a colour
    shows whatever the lightness)."""
    gray = np.asarray(Image.open(path).convert("L"), dtype=float)
    h, w = gray.shape
    cands = [(abs(gray[y - 8:y + 9, x - 8:x + 9].mean() - 128) + gray[y - 8:y + 9, x - 8:x + 9].std(), x, y)
             for y in range(step, h - step, step) for x in range(step, w - step, step)]
    points: list[tuple[int, int]] = []
    for _, x, y in sorted(cands):
        if all(abs(x - px) + abs(y - py) > 6 * step for px, py in points):
            points.append((x, y))
        if len(points) == n:
            return points
    raise AssertionError("no such points")


def click_photo(page, x: int, y: int, picture: str = "#photo") -> None:
    """Click a picture on screen where its pixel (x, y) is shown. The <img> box is laid out
    by CSS (object-fit: scale-down: the picture is scaled down to fit, never up, and centred),
    so the pixel's place follows from the box and the picture's natural size."""
    img = page.locator(f"{picture} img")
    box = img.bounding_box()
    w, h = img.evaluate("e => [e.naturalWidth, e.naturalHeight]")
    assert img.evaluate("e => getComputedStyle(e).objectFit") == "scale-down"
    r = min(box["width"] / w, box["height"] / h, 1)
    left, top = (box["width"] - w * r) / 2, (box["height"] - h * r) / 2
    img.click(position={"x": left + (x + 0.5) * r, "y": top + (y + 0.5) * r})


def hint_rows(page) -> list[list[str]]:
    """The hint table's rows: [number, x, y, colour] as shown (Gradio's grid cells, read at once:
    the grid is redrawn as hints change)."""
    table = page.locator("#hints")
    if not table.is_visible():
        return []
    cells = table.evaluate("t => [...t.querySelectorAll('[role=gridcell]')]"
                           ".map(c => [+c.dataset.row, +c.dataset.col, c.innerText.trim()])")
    rows: dict[int, dict[int, str]] = {}
    for r, c, text in cells:
        rows.setdefault(r, {})[c] = text
    return [[row[c] for c in sorted(row)] for _, row in sorted(rows.items())]


def wait_rows(page, n: int) -> list[list[str]]:
    for _ in range(100):
        rows = hint_rows(page)
        if len(rows) == n:
            return rows
        page.wait_for_timeout(100)
    raise AssertionError(f"{n} hint rows expected, the table shows {hint_rows(page)}")


def near(row: list[str], x: int, y: int, scale: float) -> bool:
    """A hint's place is the clicked one, to the screen's resolution (one CSS pixel = 1/scale)."""
    return abs(int(row[1]) - x) <= 1 + 1 / scale and abs(int(row[2]) - y) <= 1 + 1 / scale


def pick_colour(page, colour: str) -> None:
    """Type a colour into the picker's dialog, as a visitor would."""
    page.locator("#hint-colour .dialog-button").click()
    field = page.locator("#hint-colour input[type=text]")
    field.fill(colour)
    field.press("Enter")
    page.keyboard.press("Escape")
    page.locator("#hint-note").click()  # closes the dialog


def download_png(page) -> Path:
    expect(page.locator("#download")).to_be_enabled()
    with page.expect_download(timeout=30_000) as d:
        page.locator("#download").click()
    return Path(d.value.path())


def test_click_pick_a_colour_and_colorize(hint_page, tmp_path):
    """Click a photo shown scaled down, pick a colour: the hint is at the pixel clicked, in that
    colour; Colorize: that pixel has the colour's hue in the full-size PNG. After a result, a new
    hint starts with the result's colour at its pixel."""
    from test_demo import hue_gap, hue_of

    page = hint_page
    path = photo(tmp_path / "cat-big.png", size=(1200, 800), gray=True)
    show_photo(page, path)
    expect(page.locator("#hint-note")).to_contain_text("Click your photo")
    scale = page.locator("#photo img").bounding_box()["width"] / 1200
    assert scale < 0.6, "the photo should be shown scaled down"
    (x, y), (x2, y2) = mid_gray_points(path, 2)
    click_photo(page, x, y)
    [row] = wait_rows(page, 1)
    assert row[0] == "1" and near(row, x, y, scale), (row, x, y)
    x, y = int(row[1]), int(row[2])
    expect(page.locator("#hint-view img")).to_be_visible()
    pick_colour(page, "#20b040")
    expect(page.locator("#hints")).to_contain_text("#20b040", timeout=10_000)
    colorize_and_wait(page)
    expect(page.locator("#status")).to_contain_text("1 colour hint")
    png = download_png(page)
    assert json.loads(read_stamp(png)["Settings"])["hints"] == 1
    rgb = np.asarray(Image.open(png).convert("RGB"), dtype=int)
    assert rgb.shape == (800, 1200, 3)
    hue, chroma = hue_of(rgb[y, x])
    assert hue_gap(hue, hue_of("#20b040")[0]) < 25 and chroma > 10, (rgb[y, x], hue, chroma)
    page.screenshot(path=str(SHOTS / "6-hints.png"), full_page=True)

    click_photo(page, x2, y2)  # after a result: the model's colour there
    rows = wait_rows(page, 2)
    assert near(rows[1], x2, y2, scale)
    expected = "#%02x%02x%02x" % tuple(rgb[int(rows[1][2]), int(rows[1][1])])
    assert rows[1][3] == expected, (rows[1], expected)
    page.locator("#hint-colour .dialog-button").click()
    expect(page.locator("#hint-colour input[type=text]")).to_have_value(expected)
    page.locator("#hint-note").click()

    page.locator("#hints [data-testid='cell-0-0']").click()  # select the first, remove it
    page.locator("#hint-remove").click()
    rows = wait_rows(page, 1)
    assert rows[0][0] == "1" and rows[0][3] == expected
    # the marked copy (1024 px wide here, shown smaller): a click there lands on the photo's pixel
    marked = page.locator("#hint-view img")
    assert marked.evaluate("e => [e.naturalWidth, e.naturalHeight]") == [1024, 683]
    click_photo(page, 256, 500, "#hint-view")
    rows = wait_rows(page, 2)
    assert near(rows[1], 256.5 * 1200 / 1024, 500.5 * 800 / 683, marked.bounding_box()["width"] / 1200), rows[1]
    page.locator("#hint-clear").click()
    expect(page.locator("#hints")).to_be_hidden()
    expect(page.locator("#hint-view")).to_be_hidden()


def test_a_hint_on_an_exif_rotated_photo(hint_page, tmp_path):
    """A phone photo stored sideways with an EXIF orientation: the page shows it upright, and
    the hint lands on the pixel clicked in the upright photo, which is what colorcore decodes."""
    from test_demo import hue_gap, hue_of

    page = hint_page
    upright = Image.open(photo(tmp_path / "up.png", size=(320, 480), gray=True)).convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # 480x320 on disk; orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    stored.save(path, quality=95, exif=exif)
    show_photo(page, path)
    img = page.locator("#photo img")
    assert img.evaluate("e => [e.naturalWidth, e.naturalHeight]") == [320, 480]  # shown upright
    scale = img.bounding_box()["height"] / 480
    upright.save(tmp_path / "up-rgb.png")
    [(x, y)] = mid_gray_points(tmp_path / "up-rgb.png", 1, step=30)
    click_photo(page, x, y)
    [row] = wait_rows(page, 1)
    assert near(row, x, y, min(scale, 1)), (row, x, y)
    x, y = int(row[1]), int(row[2])
    pick_colour(page, "#2060e0")
    expect(page.locator("#hints")).to_contain_text("#2060e0", timeout=10_000)
    colorize_and_wait(page, page.locator("#status").inner_text())  # not an earlier test's result
    rgb = np.asarray(Image.open(download_png(page)).convert("RGB"), dtype=int)
    assert rgb.shape == (480, 320, 3)
    hue, chroma = hue_of(rgb[y, x])
    assert hue_gap(hue, hue_of("#2060e0")[0]) < 25 and chroma > 10, (rgb[y, x], hue, chroma)


def test_hints_with_a_model_that_takes_none(hint_page, tmp_path):
    """The note says so, the picker is off, and a click says why nothing was added."""
    page = hint_page
    show_photo(page, photo(tmp_path / "plain.png", size=(640, 480), gray=True))
    before = hint_rows(page)
    page.locator("#colorize-model input").click()
    page.get_by_role("option", name=re.compile(r"^eccv16 ")).first.click()
    expect(page.locator("#hint-note")).to_contain_text("eccv16 does not take colour hints", timeout=20_000)
    expect(page.locator("#hint-colour .dialog-button")).to_be_disabled()
    img = page.locator("#photo img")
    box = img.bounding_box()
    img.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    expect(page.locator("[data-testid='toast-body']").filter(has_text="does not take colour hints").first
           ).to_be_visible(timeout=20_000)
    assert hint_rows(page) == before
    page.locator("#colorize-model input").click()
    page.get_by_role("option", name=re.compile(r"^lite0-unet ")).first.click()
    expect(page.locator("#hint-note")).to_contain_text("Click your photo", timeout=20_000)
