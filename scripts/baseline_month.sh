#!/usr/bin/env bash
# The README's baseline on a generated month, in one command: generate ~a month of test-scale
# sessions (plus warmup), build their Gold, write the dataset health report and print the baseline.
#   ./scripts/baseline_month.sh                 # data/month/{bronze,gold}, target/reports/
#   OUT=/tmp/month REPORTS=/tmp/month/reports SEED=7 SCALE=test WORKERS=2 ./scripts/baseline_month.sh
# Its stdout is the README's baseline (tests/integration/test_scripts.py compares them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OUT=${OUT:-data/month}
SEED=${SEED:-7}
SCALE=${SCALE:-test}
WORKERS=${WORKERS:-2}
REPORTS=${REPORTS:-target/reports}
WARMUP=2025-11-06 START=2025-11-17 END=2025-12-16   # 21 sessions evaluated; 7 warmup sessions before them
BB=.venv/bin/breakbounce
$BB generate --start-date "$WARMUP" --end-date "$END" --out "$OUT/bronze" --seed "$SEED" --scale "$SCALE" >/dev/null
$BB backfill --start-date "$START" --end-date "$END" --bronze "$OUT/bronze" --gold "$OUT/gold" \
  --workers "$WORKERS" --work-dir "$OUT/work" >/dev/null
$BB report --start-date "$START" --end-date "$END" --gold "$OUT/gold" --out "$REPORTS/health-${START}_${END}.html"
$BB report --date "$END" --bronze "$OUT/bronze" --gold "$OUT/gold" --db "$OUT/work/report.duckdb" \
  --out "$REPORTS/session-$END.html"
$BB evaluate --start-date "$START" --end-date "$END" --gold "$OUT/gold" --json "$OUT/evaluate.json"
