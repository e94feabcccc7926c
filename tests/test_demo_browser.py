"""The demo in a real browser: Debian's chromium, headless, driven by Playwright
for Python (its bundled driver; no browser download). Opens the page, uploads a
photo, clicks Colorize and finds the result; then a bad file and the Compare tab.
Screenshots go outside the repository: $COLORCORE_SCREENSHOTS, or
<tmp>/colorcore-demo-screenshots."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from test_demo import DemoServer, photo, write_random_weights

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("COLORCORE_SCREENSHOTS", Path(tempfile.gettempdir()) / "colorcore-demo-screenshots"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    weights = write_random_weights(tmp_path_factory.mktemp("weights"), skip=("pix2pix",))
    s = DemoServer(weights, tmp_path_factory.mktemp("server")).wait()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def page(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server.url, wait_until="networkidle")
        yield page
        browser.close()


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
    page.locator("#examples img[src*='astronaut'], img[src*='astronaut']").first.click()
    expect(page.locator("#photo img")).to_be_visible(timeout=20_000)
    page.get_by_role("tab", name="Compare").click()
    page.locator("#compare-btn").click()
    expect(page.locator("#scores")).to_contain_text("ground truth", timeout=120_000)
    expect(page.locator("#gallery")).to_contain_text("original (ground truth)")
    expect(page.locator("#gallery")).to_contain_text("lite0-unet ·")
    expect(page.locator("#scores")).to_contain_text("PSNR (dB)")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / "4-compare.png"), full_page=True)
