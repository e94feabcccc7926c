#!/usr/bin/env bash
# Short ablations of the flagship's recipe on the version-2 shards, equal budgets:
# every arm starts from the same weights, trains the same steps with the same seed
# and data, and differs from configs/lite0-unet.toml in one setting. Arms train
# without the weight average (it would hide short runs' differences), are decoded
# alike (temperature $TEMP, no fade) and evaluated on the same val-broad photos. The
# `fade` arm is the base arm's weights with the confidence fade (tune, on train-105);
# `start` is the starting weights themselves, decoded like the arms.
#   scripts/ablate.sh [arm ...]            (default: every arm)
#   STEPS=150 INIT=weights/lite0-unet EVAL_LIMIT=300 scripts/ablate.sh
#   EVAL_ONLY=1 scripts/ablate.sh base     (re-score an arm that has trained)
# Writes runs/ablate-<arm>/ and results/ablations/<arm>/; then
#   python scripts/ablation_table.py > results/ablations/README.md
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
STEPS=${STEPS:-150}
INIT=${INIT:-weights/lite0-unet}
TEMP=${TEMP:-0.38}
EVAL_LIMIT=${EVAL_LIMIT:-300}  # evenly spaced val-broad photos (all 851: EVAL_LIMIT=0)
EVAL=(--data ../shared/data/val-broad.tar --models lite0-unet --threads "${THREADS:-1}")
[ "$EVAL_LIMIT" -gt 0 ] && EVAL+=(--limit "$EVAL_LIMIT")
# The recipe every arm shares, pinned here so that later changes to the config (the long
# run went on at lambda 0.95) do not move the arms: each differs from it in one setting.
PIN="--set loss.rebalance_lambda=0.9 --set optim.encoder_lr_scale=0.1 --set data.crop=160"
declare -A ARM=(
  [base]=""                                       # the pinned recipe: crop 160, lambda 0.9, encoder at 0.1x
  [crop128]="--set data.crop=128"
  [norebal]="--set loss.rebalance_lambda=1.0"     # lambda 1: uniform weights, no rebalancing
  [enclr002]="--set optim.encoder_lr_scale=0.02"
)
arms=("$@")
[ ${#arms[@]} -gt 0 ] || arms=(base crop128 norebal enclr002 fade start)
for a in "${arms[@]}"; do
  if [ "$a" = start ]; then  # no training: the starting weights, decoded like the arms
    run=runs/ablate-start
    echo "== $a $(date -u +%FT%TZ)"
    rm -rf "$run" && mkdir -p "$run/weights" && cp -r "$INIT" "$run/weights/lite0-unet" \
      && $PY -c "import json, sys; p = sys.argv[1]; c = json.load(open(p)); c['temperature'] = float(sys.argv[2]); \
c.pop('confidence_fade', None); json.dump(c, open(p, 'w'), indent=2)" "$run/weights/lite0-unet/config.json" "$TEMP" \
      && COLORCORE_WEIGHTS="$run/weights" $PY -m colorcore evaluate "${EVAL[@]}" --out "results/ablations/$a" \
      || echo "!! $a failed"
    continue
  fi
  if [ "$a" = fade ]; then  # decoding only: the base arm's weights with the fade tuned on held-out train-105
    run=runs/ablate-fade
    echo "== $a $(date -u +%FT%TZ)"
    rm -rf "$run" && mkdir -p "$run/weights" && cp -r runs/ablate-base/weights/lite0-unet "$run/weights/" \
      && OMP_NUM_THREADS=${THREADS:-1} $PY -m colorcore tune --model lite0-unet --weights "$run/weights/lite0-unet" \
        --data ../shared/data/train-105.tar --limit 200 --temperatures "$TEMP" --write >"$run/tune.log" 2>&1 \
      && COLORCORE_WEIGHTS="$run/weights" $PY -m colorcore evaluate "${EVAL[@]}" --out "results/ablations/$a" \
      || echo "!! $a failed (needs the base arm first), see $run/tune.log"
    continue
  fi
  run="runs/ablate-$a"
  echo "== $a $(date -u +%FT%TZ)"
  if [ -n "${EVAL_ONLY:-}" ]; then
    COLORCORE_WEIGHTS="$run/weights" $PY -m colorcore evaluate "${EVAL[@]}" --out "results/ablations/$a" \
      && cp "$run/train_log.csv" "results/ablations/$a/train_log.csv" \
      || echo "!! $a failed"
    continue
  fi
  rm -rf "$run" && mkdir -p "$run"
  # shellcheck disable=SC2086  # the arm's settings are several words
  OMP_NUM_THREADS=${THREADS:-1} $PY -m colorcore train --config configs/lite0-unet.toml --init-weights "$INIT" \
      --fine-tune --steps "$STEPS" --out "$run" --set train.ema=0 --set train.val_every=0 $PIN ${ARM[$a]} \
      >"$run/stdout.log" 2>&1 \
    && $PY -m colorcore export --config configs/lite0-unet.toml --run "$run" --out "$run/weights/lite0-unet" \
      --temperature "$TEMP" --hardware "ablation arm $a: ${ARM[$a]:-the config}" \
    && COLORCORE_WEIGHTS="$run/weights" $PY -m colorcore evaluate "${EVAL[@]}" --out "results/ablations/$a" \
    && cp "$run/train_log.csv" "results/ablations/$a/train_log.csv" \
    || echo "!! $a failed, see $run/stdout.log"
done
echo "== done $(date -u +%FT%TZ)"
