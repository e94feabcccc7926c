"""The ablation table: results/ablations/<arm>/metrics.csv (made by scripts/ablate.sh)
as markdown, each arm against the base arm and against gray.

    .venv/bin/python scripts/ablation_table.py > results/ablations/README.md
"""
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from colorcore.schema import FRECHET_COLUMN, SEMANTIC_COLUMN  # noqa: E402

ARMS = {  # what each arm changes (scripts/ablate.sh), in the table's order
    "start": "no training: the version-1 weights the arms start from",
    "base": "the shared recipe: crop 160, rebalancing lambda 0.9, encoder at 0.1x the rate",
    "crop128": "training crop 128 instead of 160",
    "norebal": "no class rebalancing (lambda 1)",
    "enclr002": "encoder at 0.02x the decoder's rate instead of 0.1x",
    "fade": "the base arm's weights, decoded with the confidence fade (tuned on 200 held-out train-105 photos)",
    "long-run": "not an arm: the long run of the base recipe with its weight average, step 750, decoded like the arms",
}
COLUMNS = [("psnr", "PSNR", 2), ("auc", "AuC", 4), ("colorfulness", "CF", 1), (SEMANTIC_COLUMN, "semantic (Lite1)", 3),
           (FRECHET_COLUMN, "Frechet (Lite1)", 2)]


def rows(folder: Path) -> dict:
    with open(folder / "metrics.csv", newline="") as f:
        return {r["model"]: r for r in csv.DictReader(f)}


# Arms whose run folders were lost with their machine before ablate.sh kept the training
# log beside the scores: their final CE as the table committed at 8dd7444 gave it.
LOST_LOGS = {"base": "3.126", "crop128": "3.111", "norebal": "3.075"}


def final_loss(arm: str) -> str:
    logs = [ROOT / "results" / "ablations" / arm / "train_log.csv", ROOT / "runs" / f"ablate-{arm}" / "train_log.csv"]
    log = next((p for p in logs if p.exists()), None)  # start, fade, long-run: none of their own
    if log is None:
        return LOST_LOGS.get(arm, "-")
    with open(log, newline="") as f:
        last = list(csv.DictReader(f))[-4:]
    return f"{sum(float(r['ce']) for r in last) / len(last):.3f}" if last else "-"


def main() -> None:
    base = ROOT / "results" / "ablations"
    found = [a for a in ARMS if (base / a / "metrics.csv").exists()]
    if not found:
        raise SystemExit("no results/ablations/<arm>/metrics.csv yet: run scripts/ablate.sh")
    meta = json.loads((base / found[0] / "meta.json").read_text())
    ref = rows(base / found[0])
    print("# Ablations of the flagship's recipe (version-2 data)\n")
    print("Made by `STEPS=150 INIT=<version-1 weights> EVAL_LIMIT=300 scripts/ablate.sh` then "
          "`python scripts/ablation_table.py > results/ablations/README.md`. Every arm fine-tunes the version-1 "
          "flagship (step 19250) for the same 150 steps (batch 32, 4,800 crops, seed 0, the warm-up part of the "
          "schedule) on `train-10[0-4].tar`, without the weight average, and is decoded at temperature 0.38; "
          f"scored on {meta['images']} evenly spaced photos of `{meta['data']}` (the evaluation protocol, judge "
          "EfficientNet-Lite1). Short runs: they rank how fast each setting moves the model, not where it ends. "
          "On 300 photos one standard error of a semantic-agreement share is about 0.028 (sqrt(p (1 - p) / 300)): "
          "differences under 0.03 are noise.\n")
    head = ["arm", "what changes", "train CE (last 4 logs)"] + [t for _, t, _ in COLUMNS]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name in ("gray", "ground-truth"):
        r = ref[name]
        print(f"| {name} | reference | - | " + " | ".join(f"{float(r[k]):.{d}f}" for k, _, d in COLUMNS) + " |")
    for arm in found:
        r = rows(base / arm)["lite0-unet"]
        print(f"| {arm} | {ARMS[arm]} | {final_loss(arm)} | "
              + " | ".join(f"{float(r[k]):.{d}f}" for k, _, d in COLUMNS) + " |")


if __name__ == "__main__":
    main()
