#!/usr/bin/env bash
# Train (or resume) each seed-style zoo model in turn, then export its weights.
#   scripts/train_zoo.sh [model ...]     (default: every config but the flagship's)
#   MINUTES=8 scripts/train_zoo.sh       (a wall-time budget per model this time; --resume goes on later)
# Runs one thread per model so it can share the machine with the flagship's run.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(regression-l2 classification classification-rebal eccv16 unet-bins10 vae pix2pix)
for m in "${models[@]}"; do
  echo "== $m $(date -u +%FT%TZ)"
  mkdir -p "runs/$m"
  OMP_NUM_THREADS=${THREADS:-1} $PY -m colorcore train --config "configs/$m.toml" --resume ${MINUTES:+--minutes $MINUTES} >"runs/$m/stdout.log" 2>&1 \
    && $PY -m colorcore export --config "configs/$m.toml" --hardware "${HARDWARE:-2-core x86-64 CPU, 1 thread, shared with the flagship run}" \
    || echo "!! $m failed, see runs/$m/stdout.log"
done
echo "== done $(date -u +%FT%TZ)"
