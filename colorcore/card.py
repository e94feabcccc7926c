"""Write weights/<name>/README.md, a Hugging Face model card, from what the
repository measured: config.json (training), train_log.csv (curves) and
results/<dataset>/metrics.csv (evaluation). No number in it is typed by hand.

    python -m colorcore card --models all [--results results/val-broad,results/val]
"""
from __future__ import annotations

import csv
import importlib
import json
from pathlib import Path

from .hub import repo_weights
from .pipeline import takes_hints
from .models import all_specs, get_spec
from .provenance import DATA_VERSIONS, budget_line
from .schema import EVAL_SETS, SEMANTIC_COLUMN
from .tables import display_number

ROOT = Path(__file__).resolve().parent.parent
METRIC_COLUMNS = [("psnr", "PSNR (dB)"), ("ssim", "SSIM"), ("auc", "AuC"), ("auc_rebal", "AuC rebal."),
                  ("colorfulness", "CF"), ("delta_cf", "deltaCF"), (SEMANTIC_COLUMN, "semantic agr. (Lite1)"),
                  ("seconds_per_image", "s / image")]


def _read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def metrics_table(results: Path, name: str) -> str:
    rows = {r["model"]: r for r in _read_csv(results / "metrics.csv")}
    if rows.get(name, {}).get("weights") != "trained":
        return "_Not evaluated with trained weights yet: run the command below, then `python -m colorcore card`._\n"
    keep = [m for m in (name, "gray", "ground-truth") if m in rows]
    cols = [(k, t) for k, t in METRIC_COLUMNS if k in rows[name]]
    lines = ["| model | " + " | ".join(t for _, t in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for m in keep:
        lines.append(f"| {m} | " + " | ".join(display_number(rows[m].get(k, "")) for k, _ in cols) + " |")
    meta = results / "meta.json"
    info = json.loads(meta.read_text()) if meta.exists() else {}
    lines.append("")
    lines.append(f"On {info.get('images', '?')} images of `{info.get('data', results.name)}`, "
                 f"commit {str(info.get('commit', '?'))[:10]}, {info.get('date_utc', '?')}.")
    return "\n".join(lines) + "\n"


def loss_trend(log: list[dict], share: float = 0.2, since: int = 0) -> str:
    """How much the mean training loss still fell between the two last `share`s of
    the logged steps from step `since` on (where the loss last changed, so that a new
    weighting's other level never reads as progress): near zero when the curve has flattened."""
    losses = [float(r["loss"]) for r in log if r.get("loss") and int(r["step"]) >= since]
    n = int(len(losses) * share)
    if n < 2:
        return ""
    before, last = sum(losses[-2 * n:-n]) / n, sum(losses[-n:]) / n
    scope = f"logged steps since step {since} (the loss changed there)" if since else "logged steps"
    return (f"- Loss trend: mean {last:.4g} over the last {share:.0%} of {scope} against {before:.4g} "
            f"over the {share:.0%} before ({(last - before) / abs(before):+.1%}).")


def run_history(cfg: dict) -> str:
    """How the shipped run got there, in one paragraph: the text of the repository's
    results/history/<name>.md that export names in config.json (below its title), and
    where it is; weights exported before those files carry the text itself."""
    if not cfg.get("history_file"):
        return cfg.get("history", "")
    body = [line for line in (ROOT / cfg["history_file"]).read_text().splitlines() if not line.startswith("#")]
    return f"{' '.join(' '.join(body).split())} (`{cfg['history_file']}` in the repository)"


def training_summary(cfg: dict, log: list[dict]) -> str:
    last = log[-1] if log else {}
    val = [r for r in log if r.get("val_psnr")]
    version = int(cfg.get("data_version", 1))
    parts = [
        f"- Data: `{cfg.get('data', '?')}`, {DATA_VERSIONS.get(version, f'version {version}')} "
        f"(short side 160 px), random resized crops of {cfg.get('crop', '?')} px with horizontal flips, "
        f"batch {cfg.get('batch', '?')}.",
        f"- Budget in total: {budget_line(cfg)}.",
        f"- Loss: `{json.dumps(cfg.get('loss', {}))}`.",
        f"- Steps: {cfg.get('steps', '?')}; wall time {float(cfg.get('wall_s', 0)) / 60:.0f} min on {cfg.get('hardware', '?')}.",
        f"- Net resolution {cfg.get('net_size')} px, output `{cfg.get('kind')}`, {cfg.get('params', 0) / 1e6:.2f}M parameters, "
        f"{cfg.get('dtype', 'float16')} safetensors ({cfg.get('bytes', 0) / 1e6:.1f} MB).",
    ]
    history = run_history(cfg)
    if history:
        parts.append(f"- History: {history}")
    if cfg.get("weights"):
        parts.append(f"- Shipped weights: the {cfg['weights']}.")
    if "temperature" in cfg:
        parts.append(f"- Shipped annealed-mean temperature: {cfg['temperature']}.")
    fade = cfg.get("confidence_fade")
    if fade and fade.get("strength"):
        tuned = cfg.get("decoding_tuning", {})
        parts.append(f"- Confidence fade (strength {fade['strength']}, tuned on {tuned.get('images', '?')} photos of "
                     f"`{tuned.get('data', '?')}`): the chroma is scaled by "
                     + ", ".join(f"{s ** fade['strength']:.2f}" for s in fade["scale"][::3])
                     + " from the surest to the least sure pixels; `colorize(..., fade=False)` turns it off.")
    trend = loss_trend(log, since=int(cfg.get("loss_changed_at", 0)))
    if trend:
        parts.append(trend)
    if last:
        parts.append(f"- Final training loss {display_number(last.get('loss', ''))}"
                     + (f"; last validation check (64 images) PSNR {display_number(val[-1]['val_psnr'])} dB, "
                        f"CF {display_number(val[-1]['val_colorfulness'])}, AuC {display_number(val[-1]['val_auc'])}." if val else "."))
    return "\n".join(parts) + "\n"


DATA_LIMITS = {
    1: "Trained on about 17,000 small photographs (short side 160 px) dominated by scenes, flowers, cats and "
       "dogs; indoor scenes, people and generic objects are under-represented, so expect weaker colour there.",
    2: "Trained on about 21,000 small photographs (short side 160 px) from 25 sources; indoor scenes and crowds "
       "are still thin, so expect weaker colour there.",
}


def evaluation_sections(results: list[Path], name: str) -> str:
    out = []
    for folder in results:
        shown = folder.relative_to(ROOT) if folder.is_absolute() and folder.is_relative_to(ROOT) else folder
        meta = folder / "meta.json"
        data = json.loads(meta.read_text()).get("data", "?") if meta.exists() else "?"
        out.append(f"### `{folder.name}`: {EVAL_SETS.get(folder.name, 'photos')}\n\n{metrics_table(folder, name)}\n"
                   f"Made by `python -m colorcore evaluate --data {data} --models all --out {shown}`.\n")
    return "\n".join(out)


HINTS_RESULTS = ROOT / "results" / "hints"


def frozen_note(frozen: list[str]) -> str:
    if {"encoder", "decoder"} <= set(frozen):
        return ("only those layers learnt (encoder and decoder frozen), so with no hints the net is exactly "
                "the automatic one it started from.")
    if frozen:
        return f"the {' and '.join(frozen)} stayed frozen."
    return "every layer learnt."


def hints_section(name: str, cfg: dict, results: Path = HINTS_RESULTS) -> str:
    """For a model that takes colour hints: how it learnt them (from config.json) and how well it
    follows them (results/hints, `evaluate-hints`)."""
    loss = cfg.get("loss", {})
    lines = [
        "## Colour hints",
        "",
        "`colorize(image, hints=[(x, y, \"#rrggbb\"), ...])` pins the chroma of the given sRGB colours at those "
        "pixels (0-based, x right, y down); the photo keeps its own lightness, and no hints is the automatic "
        "colorization, exactly. The CLI takes `--hints hints.json` (a JSON list of `[x, y, \"#rrggbb\"]`), the demo "
        "takes clicks on the photo.",
        "",
        f"Training simulated hints from each photo's ground truth (Zhang et al. 2017): "
        f"{float(loss.get('hint_free', 0)):.0%} of the photos got none; the others a geometric number of points "
        f"({display_number(loss.get('hint_points', '?'))} on average, at most 64), uniform over the crop, each "
        "revealing the mean ab of a 1x1 to 5x5 patch around it. The hint map (ab and a mask) is read by "
        "zero-initialised layers of the decoder, so training began as the automatic net"
        + (f" (`{cfg['started_from'].get('weights', '?')}`)" if cfg.get("started_from") else "")
        + "; " + frozen_note(cfg.get("frozen", [])),
        "",
    ]
    rows = [r for r in _read_csv(results / "curve.csv") if r.get("model") == name]
    if not rows:
        lines.append("_Not evaluated with hints yet: run `python -m colorcore evaluate-hints --data "
                     "../shared/data/val-broad.tar --out results/hints`, then `python -m colorcore card`._")
        return "\n".join(lines) + "\n"
    meta = json.loads((results / "meta.json").read_text()) if (results / "meta.json").exists() else {}
    lines += ["| hints | PSNR (dB) | gain over no hints (dB) | AuC | CF |", "|---|---|---|---|---|"]
    lines += [f"| {r['hints']} | {display_number(r['psnr'])} | {display_number(r['psnr_gain'])} | "
              f"{display_number(r['auc'])} | {display_number(r['colorfulness'])} |" for r in rows]
    edges = [r for r in _read_csv(results / "edges.csv") if r.get("model") == name]
    lines.append("")
    lines.append(f"Hints drawn from the ground truth at fixed seeds, on {meta.get('images', '?')} photos of "
                 f"`{meta.get('data', '?')}`, commit {str(meta.get('commit', '?'))[:10]}, {meta.get('date_utc', '?')}.")
    if edges:
        worst = max(float(r["leak"]) for r in edges)
        lines.append(f"On {len(edges)} synthetic scenes (two flat regions split by an edge, one hint in one), the "
                     f"other region's chroma moved by at most {worst:.1%} of the hinted region's change.")
    return "\n".join(lines) + "\n"


def write_card(name: str, results: list[Path]) -> Path:
    spec = get_spec(name)
    folder = repo_weights() / spec.name
    cfg = json.loads((folder / "config.json").read_text())
    log = _read_csv(folder / "train_log.csv")
    version = int(cfg.get("data_version", 1))
    doc = (importlib.import_module(spec.factory.__module__).__doc__ or "").strip()
    metric_names = [k for k, _ in METRIC_COLUMNS]
    front = "\n".join([
        "---",
        "license: other",
        "license_name: research-only-training-data",
        "library_name: colorcore",
        "pipeline_tag: image-to-image",
        "tags:",
        "- image-colorization",
        "- pytorch",
        "- safetensors",
        f"- {spec.kind}",
        "metrics:",
        *[f"- {m}" for m in metric_names],
        "---",
    ])
    body = f"""
# {spec.name}

{spec.summary}.

{doc}

## Use

```python
import colorcore
colorizer = colorcore.load_colorizer("{spec.name}")   # weights/{spec.name}/ or the Hub repo {spec.hub_repo}
colorizer.colorize("photo.jpg").save("photo-colour.png")
```

## Training

{training_summary(cfg, log)}
The full log is `train_log.csv` beside this card (made by `python -m colorcore train --config configs/{spec.name}.toml`,
exported by `python -m colorcore export --config configs/{spec.name}.toml`).

## Evaluation

Protocol of the workbench (short side 256, centre crop 256x256, the model sees the ground truth's L), with the
`gray` (a = b = 0) and `ground-truth` rows for reference. Semantic agreement is judged by EfficientNet-Lite1,
which no model contains.

{evaluation_sections(results, spec.name)}
{hints_section(spec.name, cfg) + chr(10) if takes_hints(spec, folder) else ""}## Limits

- {spec.prototype.limitation}
- {DATA_LIMITS.get(version, DATA_LIMITS[1])}
- The training photos come from research datasets whose licences are unverified or research-only: use the
  weights for research and evaluation.
"""
    path = folder / "README.md"
    path.write_text(front + "\n" + body)
    return path


def main(models: str, results: str = "results/val-broad,results/val") -> None:
    names = [s.name for s in all_specs()] if models == "all" else [get_spec(m).name for m in models.split(",")]
    for name in names:
        if (repo_weights() / name / "config.json").exists():
            print(f"wrote {write_card(name, [Path(r) for r in results.split(',')])}")
        else:
            print(f"skipped {name}: no weights/{name}/config.json")
