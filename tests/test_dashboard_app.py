"""Every dashboard page under streamlit.testing.v1.AppTest: on a synthetic
workbench (tables, controls, the model and image selectors), on an empty one
(plain notes, no exception), on unreadable inputs, and on the repository's own
results/ and logs, whatever they hold."""
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from colorcore import hub
from dashboard import images, sample

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGES = ["views/metrics.py", "views/ab.py", "views/training.py", "views/speed.py", "views/images.py", "views/hints.py"]
TIMEOUT = 120
WEIGHTED = "vae"  # the model given (random, exported) weights for the per-image page


@pytest.fixture(scope="module")
def fake_weights(tmp_path_factory):
    import torch

    from colorcore.models import get_spec

    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    hub.export_weights(get_spec(WEIGHTED).build(), folder / WEIGHTED, {"model": WEIGHTED})
    return folder


@pytest.fixture
def env(monkeypatch, fake_weights):
    """Only the fake weights are visible; one torch thread; caches empty."""
    monkeypatch.setenv("COLORCORE_WEIGHTS", str(fake_weights))
    monkeypatch.setenv("COLORCORE_REPO_WEIGHTS", str(fake_weights / "no-repo-weights"))
    monkeypatch.setenv("COLORCORE_DASHBOARD_THREADS", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("COLORCORE_RESULTS", raising=False)
    monkeypatch.delenv(images.DATA_ENV, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    images.forget()
    return monkeypatch


@pytest.fixture
def workbench(env, tmp_path):
    root = sample.write_sample(tmp_path / "root")
    env.setenv("COLORCORE_ROOT", str(root))
    return root


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at) -> list:
    return at.get("plotly_chart")


def test_metrics_page(workbench):
    at = open_page("views/metrics.py")
    assert at.title[0].value == "Metrics"
    sets = at.radio(key="metrics_set")
    assert sets.options == ["val", "holdout"] and sets.value == "val"  # one set at a time, the first in order
    standing, scores = at.table[0].value, at.table[1].value
    assert standing["model"].tolist() == [sample.TRAINED, sample.RANDOM]  # best first
    assert scores["model"].tolist() == ["gray", "ground-truth", sample.TRAINED, sample.RANDOM]
    assert {"PSNR (dB) ↑", "SSIM ↑", "AuC ↑", "AuC (rare colours) ↑", "Δ colourfulness ↓",
            "semantic agreement ↑"} <= set(scores.columns)  # labels, not raw column names
    assert not {"auc_rebal", "delta_cf", "semantic_lite1"} & set(scores.columns)
    captions = " ".join(c.value for c in at.caption)
    assert "python -m colorcore evaluate --data /data/sample/val.tar" in captions and "2026-01-02" in captions
    assert "random weights" in captions
    assert at.get("download_button"), "the report button"
    box = at.selectbox(key="metric_val")
    box.set_value("colorfulness").run()
    assert not at.exception and len(charts(at)) == 2  # the bars and the per-image boxes
    sets.set_value("holdout").run()
    assert not at.exception and at.selectbox(key="metric_holdout")


def test_verdict_names_the_best_model_by_the_stated_rule(workbench):
    at = open_page("views/metrics.py")
    text = " ".join(m.value for m in at.markdown)
    assert f"**{sample.TRAINED}** is the best model on `val`" in text and "not the primary set" in text
    assert "rank sum 9.5" in text and f"next {sample.RANDOM} with 11.5" in text
    assert any("lowest sum of ranks" in c.value for c in at.caption)  # the rule, said
    standing = at.table[0].value.set_index("model")
    # sample: gray PSNR 23.5, TRAINED 24.1; gray semantic 0.70, truth 1, TRAINED 0.72
    assert standing.loc[sample.TRAINED, "PSNR (dB) ↑"] == pytest.approx(0.6)
    assert standing.loc[sample.TRAINED, "semantic agreement ↑"] == pytest.approx(0.02 / 0.30)
    assert standing.loc[sample.RANDOM, "PSNR (dB) ↑"] < 0  # worse than gray
    assert "PSNR rewards caution" in text  # one sentence per metric

    # Make the other model better on most metrics: the verdict follows the numbers.
    csv = workbench / "results" / "val" / "metrics.csv"
    df = pd.read_csv(csv)
    df.loc[df["model"] == sample.RANDOM, ["psnr", "auc", "frechet_lite1"]] = [25.0, 0.95, 20.0]
    df.to_csv(csv, index=False)
    at = open_page("views/metrics.py")
    assert f"**{sample.RANDOM}** is the best model" in " ".join(m.value for m in at.markdown)


def test_dashboard_opens_on_val_broad(workbench):
    shutil.copytree(workbench / "results" / "val", workbench / "results" / "val-broad")
    at = open_page("views/metrics.py")
    sets = at.radio(key="metrics_set")
    assert sets.options[0] == "val-broad (primary)" and sets.value == "val-broad"
    assert "(the primary set)" in " ".join(m.value for m in at.markdown)


def test_budgets_beside_the_scores(workbench):
    at = open_page("views/metrics.py")
    scores = at.table[1].value.set_index("model")
    assert list(scores.columns[-4:]) == ["data", "steps", "images seen", "hours"]
    b = sample.SAMPLE_BUDGET  # weights/<TRAINED>/config.json, through colorcore.provenance
    row = scores.loc[sample.TRAINED]
    assert row["data"] == "v2" and row["steps"] == b["steps"] and row["images seen"] == b["steps"] * b["batch"]
    assert row["hours"] == pytest.approx(b["wall_s"] / 3600)
    assert scores.loc[[sample.RANDOM, "gray"], ["steps", "hours"]].isna().all().all()  # no config.json: no budget
    assert any(b["hardware"] in c.value for c in at.caption)


def test_ab_page_opens_on_the_flagship(workbench, monkeypatch):
    import colorcore.models

    monkeypatch.setattr(colorcore.models, "resolve", lambda name: sample.RANDOM if name == "default" else name)
    at = open_page("views/ab.py")
    assert at.selectbox(key="ab_model").value == sample.RANDOM
    assert at.multiselect(key="ab_overlay").value == [sample.RANDOM]


def test_ab_page_model_selector(workbench):
    at = open_page("views/ab.py")
    model = at.selectbox(key="ab_model")
    assert model.options == [sample.TRAINED, sample.RANDOM, "gray"]
    assert at.selectbox(key="ab_set").options == ["val", "holdout"]
    n = len(charts(at))
    assert n == 4  # histograms, marginals, uncovered bars, uncovered map
    model.set_value(sample.RANDOM).run()
    assert not at.exception
    stats = at.dataframe[0].value
    assert stats["row"].tolist()[0] == "ground-truth" and len(stats) == 4
    at.select_slider(key="ab_cell").set_value(5).run()
    at.multiselect(key="ab_overlay").set_value([sample.TRAINED, sample.RANDOM, "gray"]).run()
    at.toggle(key="ab_log").set_value(False).run()
    assert not at.exception and len(charts(at)) == n


def test_training_page(workbench):
    at = open_page("views/training.py")
    runs = at.multiselect(key="train_runs")
    assert runs.options == [sample.TRAINED, f"{sample.IN_PROGRESS} (in progress)"]
    summary = at.dataframe[0].value
    assert summary["status"].tolist() == ["final", "in progress"]
    captions = " ".join(c.value for c in at.caption)
    assert "No training log for" in captions and "`eccv16`" in captions
    n_loss = len(charts(at))
    assert n_loss >= 3 + 4 + 2  # val metrics, loss terms (loss, l2, ce_a, ce_b), lr + throughput
    at.slider(key="train_smoothing").set_value(0.0).run()
    at.radio(key="train_x").set_value("wall_s").run()
    at.radio(key="train_group").set_value("by run (its terms overlaid)").run()
    at.selectbox(key="train_run").set_value(f"{sample.IN_PROGRESS} (in progress)").run()
    assert not at.exception
    runs = at.multiselect(key="train_runs")
    runs.set_value([]).run()
    assert not at.exception and any("Pick at least one run" in i.value for i in at.info)


def test_speed_page(workbench):
    at = open_page("views/speed.py")
    assert len(charts(at)) == 1
    table = at.dataframe[0].value
    assert table["model"].iloc[0] == "eccv16-full" and len(table) == 7
    at.radio(key="speed_metric").set_value("peak_rss_mb").run()
    at.toggle(key="speed_log").set_value(False).run()
    assert not at.exception
    assert any("python -m colorcore bench" in c.value for c in at.caption)


def test_images_page_selectors(workbench, tmp_path):
    at = open_page("views/images.py")
    image = at.selectbox(key="img_image")
    assert image.options[:2] == ["astronaut", "chelsea"]
    models = at.multiselect(key="img_models")
    assert models.options == [WEIGHTED] and models.value == [WEIGHTED]
    assert len(at.image) == 3  # ground truth, gray input, the model
    scores = at.dataframe[0].value
    assert scores["model"].tolist() == ["gray", WEIGHTED] and scores["psnr"].notna().all()
    assert any("No weights on this machine for" in c.value for c in at.caption)
    image.set_value("coffee").run()
    assert not at.exception and len(at.image) == 3
    at.multiselect(key="img_models").set_value([]).run()
    assert not at.exception and len(at.image) == 2

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for name in ("img0.png", "img1.png"):  # img0.png also has scores in results/*/per_image.csv
        Image.fromarray(rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)).save(photos / name)
    at.text_input(key="img_source").input(str(photos)).run()
    assert not at.exception
    image = at.selectbox(key="img_image")
    assert image.options == ["img0.png", "img1.png"]
    assert any(e.label.startswith("Scores from results/val") for e in at.expander)
    at.text_input(key="img_source").input(str(tmp_path / "nothing-here")).run()
    assert not at.exception and at.warning and at.selectbox(key="img_image").options[0] == "astronaut"


def test_images_page_loads_each_model_once_and_colorizes_only_what_changed(workbench, monkeypatch):
    import colorcore

    loads = []
    real = colorcore.load_colorizer

    def counting(name, **kwargs):
        loads.append(name)
        return real(name, **kwargs)

    monkeypatch.setattr(colorcore, "load_colorizer", counting)
    at = open_page("views/images.py")
    first = at.session_state["img_timing"]
    assert loads == [WEIGHTED] and first["image"] == "astronaut"
    assert first["loaded"] == [WEIGHTED] and first["colorized"] == [WEIGHTED]
    assert [h.value for h in at.subheader][0] == "`astronaut`"  # the photo's name over its tiles

    at.selectbox(key="img_image").set_value("coffee").run()
    second = at.session_state["img_timing"]
    assert not at.exception and loads == [WEIGHTED]  # the second photo reuses the loaded model
    assert second["image"] == "coffee" and second["loaded"] == [] and second["colorized"] == [WEIGHTED]
    t = second["models"][WEIGHTED]  # the page's own clock
    assert t["load_s"] < t["run_s"] and t["model_s"] > 0 and t["score_s"] > 0
    assert "`coffee`: 1 of 1 models colorized and scored" in " ".join(c.value for c in at.caption)
    assert at.dataframe[0].value["model"].tolist() == ["gray", WEIGHTED]

    at.selectbox(key="img_image").set_value("astronaut").run()
    again = at.session_state["img_timing"]
    assert loads == [WEIGHTED] and again["colorized"] == []  # seen before: nothing is recomputed
    assert "all 1 results from this server's cache" in " ".join(c.value for c in at.caption)
    at.multiselect(key="img_models").set_value([]).run()
    at.multiselect(key="img_models").set_value([WEIGHTED]).run()
    assert not at.exception and loads == [WEIGHTED]


def test_hints_page(workbench):
    from test_dashboard import HINTED, MISSES, write_hints

    write_hints(workbench / "results" / "hints")
    at = open_page("views/hints.py")
    assert at.title[0].value == "Hints"
    text = " ".join(m.value for m in at.markdown)
    assert f"**{HINTED}**: :green[**all 3 targets met**]." in text
    assert f"**{MISSES}**: 0 of 3 targets met; :red[**missed**]: PSNR with 1 hint" in text
    targets = at.table[0].value
    assert targets.columns.tolist() == ["model", "target", "measured", "status"]
    assert targets["status"].tolist() == ["met"] * 3 + ["missed"] * 3
    assert targets["measured"].tolist()[:2] == ["+0.35 dB", "+2.04 dB"]
    fig = charts(at)[0]  # the curve over 0, 1, 2, 5, 10, 20 hints
    spec = fig.proto.spec.replace(" ", "")
    assert "againstthenumberofhints" in spec and '"tickvals":[0,1,2,5,10,20]' in spec
    assert f'"name":"{HINTED}"' in spec and f'"name":"{MISSES}"' in spec  # a line per model
    assert len(charts(at)) == 2  # the curve and the per-photo spread
    curve, spread, edges = (d.value for d in at.dataframe)  # the curve's numbers, the spread, the edge check
    assert curve["hints"].tolist() == [0, 1, 2, 5, 10, 20] * 2
    assert at.select_slider(key="hints_n").value == 10
    spread = spread.set_index("model")
    assert spread.loc[HINTED, "images"] == 12 and 0 <= spread.loc[MISSES, "share_worse"] <= 1
    assert edges["status"].tolist().count("missed") == 1 and len(edges) == 8
    captions = " ".join(c.value for c in at.caption)
    assert "python -m colorcore evaluate-hints --data ../shared/data/val-broad.tar" in captions
    assert "12 images, hint seed 0" in captions and "2026-03-04" in captions and "fedcba9876" in captions
    at.radio(key="hints_metric").set_value("psnr_gain").run()
    at.select_slider(key="hints_n").set_value(1).run()
    assert not at.exception and len(charts(at)) == 2
    assert "with 1 hints" in charts(at)[1].proto.spec


def test_hints_page_without_results(workbench):
    at = open_page("views/hints.py")
    notes = " ".join(i.value for i in at.info)
    assert "No hint evaluation yet" in notes and str(workbench / "results" / "hints" / "curve.csv") in notes
    assert "python -m colorcore evaluate-hints" in notes
    assert not charts(at) and not at.table and not at.dataframe


def test_hints_page_on_broken_files(workbench):
    from test_dashboard import write_hints

    folder = write_hints(workbench / "results" / "hints")
    (folder / "edges.csv").write_text("model,case\nm,x\n")  # no leak column
    (folder / "per_image.csv").unlink()
    at = open_page("views/hints.py")
    warnings = " ".join(w.value for w in at.warning)
    assert "edges.csv: missing columns ['leak']" in warnings
    assert "per_image.csv` is missing" in " ".join(i.value for i in at.info)
    assert len(charts(at)) == 1  # the curve still shows
    assert at.table[0].value["status"].tolist().count("not measured") == 2  # no leak to judge
    (folder / "meta.json").write_text("{not json")
    at = open_page("views/hints.py")
    assert "meta.json: not valid JSON" in " ".join(w.value for w in at.warning) and len(charts(at)) == 1
    (folder / "curve.csv").write_bytes(b"\x00\x01\x02")
    at = open_page("views/hints.py")
    assert "curve.csv: missing columns" in " ".join(w.value for w in at.warning)
    assert not charts(at) and not at.table and not at.info  # unreadable, not absent: a warning only


def test_dataset_from_environment(env, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(photos / "only.png")
    env.setenv(images.DATA_ENV, str(photos))
    env.setenv("COLORCORE_ROOT", str(tmp_path))
    at = open_page("views/images.py")
    assert at.text_input(key="img_source").value == str(photos)
    assert at.selectbox(key="img_image").options == ["only.png"]


@pytest.mark.parametrize("page", PAGES)
def test_pages_with_nothing_to_show(env, tmp_path, page):
    env.setenv("COLORCORE_ROOT", str(tmp_path))  # no results/, weights/ or runs/
    at = open_page(page)
    if page != "views/images.py":
        assert at.info, "a missing input gives a plain note"
        assert not charts(at) and not at.dataframe


def test_unreadable_inputs_give_warnings(workbench):
    (workbench / "results" / "val" / "metrics.csv").write_bytes(b"\x00\x01\x02")
    (workbench / "results" / "val" / "ab_hist.npz").write_text("not an npz")
    (workbench / "results" / "bench.csv").write_text("a,b\n1,2\n")
    (workbench / "weights" / sample.TRAINED / "train_log.csv").write_text("no step column\n1\n")
    for page in PAGES[:4]:
        at = open_page(page)
        if page in ("views/ab.py", "views/speed.py"):
            assert at.warning, page


@pytest.mark.parametrize("page", PAGES)
def test_pages_on_the_repository(monkeypatch, page):
    """Against the committed results/ and logs (whatever they hold today)."""
    monkeypatch.delenv("COLORCORE_ROOT", raising=False)
    monkeypatch.delenv("COLORCORE_RESULTS", raising=False)
    monkeypatch.delenv(images.DATA_ENV, raising=False)
    monkeypatch.setenv("COLORCORE_DASHBOARD_THREADS", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    st.cache_data.clear()
    st.cache_resource.clear()
    at = open_page(page)
    assert at.title


@pytest.fixture(scope="module")
def server(fake_weights, tmp_path_factory):
    """`streamlit run dashboard/app.py` on the synthetic workbench, on a free port."""
    import os

    from servers import DashboardProcess, free_port

    root = sample.write_sample(tmp_path_factory.mktemp("served"))
    env = {**os.environ, "COLORCORE_ROOT": str(root), "COLORCORE_WEIGHTS": str(fake_weights), "HF_HUB_OFFLINE": "1",
           "COLORCORE_DASHBOARD_THREADS": "1"}
    env.pop("COLORCORE_RESULTS", None)
    server = DashboardProcess(free_port(), env)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.skipif(not Path("/usr/bin/chromium").is_file(), reason="Debian's chromium is not installed")
def test_deep_links_offline_and_the_exported_report(server, tmp_path):
    """In headless chromium with every request off the server refused: /metrics and /ab open
    directly, the page asks nothing of another host (the favicon included), and the report
    the button exports opens with the network refused too."""
    import re

    from playwright.sync_api import sync_playwright

    from test_dashboard import CHROME_ARGS, CHROMIUM, open_offline

    outside = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800}, accept_downloads=True)

            def route(r):
                if r.request.url.startswith((server, "data:", "blob:")):
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            for path, title in (("ab", "ab distributions"), ("metrics", "Metrics")):
                page.goto(f"{server}/{path}", wait_until="load")
                page.locator("h1", has_text=title).wait_for(timeout=60_000)
                assert page.get_by_text("Page not found").count() == 0, path
            button = page.get_by_role("button", name=re.compile("Export report"))
            button.wait_for(timeout=60_000)
            favicon = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href")
            assert favicon.startswith(server), favicon
            with page.expect_download(timeout=120_000) as download:
                button.click()
            path = tmp_path / download.value.suggested_filename
            download.value.save_as(path)
        finally:
            browser.close()
    assert outside == []
    assert path.name == "colorcore-val-report.html"
    seen = open_offline(path)
    assert seen["blocked"] == [] and seen["failed"] == [] and seen["errors"] == []
    assert seen["figures"] == 2 and f"{sample.TRAINED} is the best model" in seen["text"]
    assert "images seen" in seen["text"] and "Verdict on val" in seen["text"]
