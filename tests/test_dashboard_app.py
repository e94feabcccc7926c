"""Every dashboard page under streamlit.testing.v1.AppTest: on a synthetic
workbench (tables, controls, the model and image selectors), on an empty one
(plain notes, no exception), on unreadable inputs, and on the repository's own
results/ and logs, whatever they hold."""
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from colorcore import hub
from dashboard import images, sample

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGES = ["views/metrics.py", "views/ab.py", "views/training.py", "views/speed.py", "views/images.py"]
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
    monkeypatch.setattr(hub, "REPO_WEIGHTS", fake_weights / "no-repo-weights")
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
    assert len(at.dataframe) == 2  # one table per evaluation set: val, holdout
    table = at.dataframe[0].value
    assert table["model"].tolist() == ["gray", "ground-truth", sample.TRAINED, sample.RANDOM]
    assert {"psnr", "ssim", "auc", "auc_rebal", "delta_cf", "semantic_lite1"} <= set(table.columns)
    captions = " ".join(c.value for c in at.caption)
    assert "python -m colorcore evaluate --data /data/sample/val.tar" in captions and "2026-01-02" in captions
    assert "random weights" in captions
    box = at.selectbox(key="metric_val")
    box.set_value("colorfulness").run()
    assert not at.exception and len(charts(at)) == 4


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
