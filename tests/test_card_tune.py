"""Model cards are written from measured files only; the temperature choice rule."""
import csv
import json

import pytest

from colorcore import card, tune
from colorcore.hub import export_weights
from colorcore.models import get_spec


@pytest.fixture
def weights_root(tmp_path, monkeypatch):
    spec = get_spec("regression-l2")
    folder = tmp_path / "weights" / spec.name
    export_weights(spec.build_for_weights(), folder,
                   {"name": spec.name, "net_size": spec.net_size, "kind": spec.kind, "params": 123,
                    "steps": 77, "wall_s": 600, "hardware": "test box", "loss": {"name": "ab_l2"},
                    "history": "Loss changed at step 40.",
                    "weights": "exponential moving average of the training weights (decay 0.9, over the last 30 steps)"})
    with open(folder / "train_log.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "loss", "val_psnr", "val_colorfulness", "val_auc"])
        for step, loss in zip(range(7, 77, 7), (3, 2, 1.5, 1.2, 1.1, 1.0, 0.9, 0.8, 0.5, 0.5)):
            w.writerow([step, loss, "", "", ""])
        w.writerow([77, 0.5, 21.5, 12.0, 0.88])
    monkeypatch.setenv("COLORCORE_REPO_WEIGHTS", str(tmp_path / "weights"))
    return tmp_path


def write_results(root, weights: str):
    res = root / "results"
    res.mkdir(exist_ok=True)
    cols = ["model", "weights", "psnr", "auc", "colorfulness"]
    with open(res / "metrics.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerow(["gray", "none", 22.5, 0.88, 0.0])
        w.writerow(["ground-truth", "none", "inf", 1.0, 41.0])
        w.writerow(["regression-l2", weights, 23.25, 0.9012, 17.5])
    (res / "meta.json").write_text(json.dumps({"images": 300, "data": "val.tar", "commit": "abc", "date_utc": "today"}))
    return res


def test_card_has_hugging_face_front_matter_and_measured_numbers(weights_root):
    res = write_results(weights_root, "trained")
    text = card.write_card("regression-l2", [res]).read_text()
    front = text.split("---")[1]
    for key in ("license:", "library_name: colorcore", "tags:", "metrics:", "- psnr"):
        assert key in front
    assert "| regression-l2 | 23.25 | 0.901 | 17.50 |" in text and "| gray |" in text
    assert "Steps: 77" in text and "PSNR 21.50 dB" in text
    assert "data v1, 77 steps, 0 images seen, 0.2 h on test box" in text  # the budget beside the scores
    assert "History: Loss changed at step 40." in text
    assert "Shipped weights: the exponential moving average of the training weights (decay 0.9" in text
    assert "mean 0.5 over the last 20% of logged steps against 0.65 over the 20% before (-23.1%)" in text
    assert f"## Limits\n\n- {get_spec('regression-l2').prototype.limitation}\n" in text  # the net's own words


def test_card_never_quotes_numbers_of_random_weights(weights_root):
    res = write_results(weights_root, "random")
    text = card.write_card("regression-l2", [res]).read_text()
    assert "23.25" not in text and "Not evaluated with trained weights yet" in text


def test_decoding_choice_is_the_most_accurate_that_keeps_the_colour():
    ref = {"gray_psnr": 22.0, "truth_colorfulness": 40.0}
    rows = [{"temperature": 0.1, "strength": 0.0, "psnr": 20.0, "colorfulness": 45.0, "auc": 0.90},
            {"temperature": 0.3, "strength": 0.0, "psnr": 21.6, "colorfulness": 38.0, "auc": 0.88},
            {"temperature": 0.3, "strength": 0.5, "psnr": 22.9, "colorfulness": 31.0, "auc": 0.89},
            {"temperature": 0.3, "strength": 1.0, "psnr": 23.5, "colorfulness": 22.0, "auc": 0.91}]
    assert tune.choose(rows, ref)["strength"] == 0.5  # 1.0 is more accurate but too gray, 0.1 too vivid
    assert tune.choose(rows, ref, cf_floor=0.5)["strength"] == 1.0
    assert tune.choose(rows, ref, cf_floor=0.9)["colorfulness"] == 38.0
    assert tune.choose(rows[3:], ref)["strength"] == 1.0  # none in the band: the nearest


def test_loss_trend_starts_where_the_loss_changed():
    """A reweighted loss sits at another level: the trend compares only rows from
    the change on, so a drop that the new weighting made never reads as progress."""
    log = [{"step": str(s), "loss": "3.0" if s < 300 else "2.0"} for s in range(0, 400, 10)]
    assert "(-27.3%)" in card.loss_trend(log, share=0.2)  # windows across the change: a drop that is not progress
    flat = card.loss_trend(log, share=0.2, since=300)
    assert "(+0.0%)" in flat and "since step 300" in flat


def test_tune_writes_a_temperature_and_a_fade_that_the_colorizer_then_uses(tmp_path):
    """End to end on throw-away weights and generated photos: the choice lands in the
    weights' config.json, and a colorizer loaded from them decodes with it."""
    import torch

    from colorcore import load_colorizer
    from colorcore.hub import export_weights
    from conftest import gradient_photo

    spec = get_spec("classification")
    torch.manual_seed(0)
    folder = tmp_path / spec.name
    export_weights(spec.build_for_weights(), folder, {"name": spec.name, "architecture": spec.name})
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(4):
        gradient_photo(64, 64, seed=i).save(photos / f"p{i}.png")
    best = tune.main(spec.name, str(photos), limit=4, write=True, temperatures="0.38,1.0", weights=str(folder),
                     strengths="0,0.5,1")
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["temperature"] == best["temperature"] and cfg["confidence_fade"]["strength"] == best["strength"]
    assert len(cfg["confidence_fade"]["scale"]) == len(cfg["confidence_fade"]["entropy"])
    assert cfg["decoding_tuning"]["images"] == 4 and cfg["decoding_tuning"]["chosen"] == best
    colorizer = load_colorizer(spec.name, weights=str(folder))
    assert colorizer.default_temperature == best["temperature"] and colorizer.fade_curve == cfg["confidence_fade"]
