#!/usr/bin/env bash
# The main job end to end on generated data: set up .venv, generate synthetic Bronze for a few
# sessions (warmup + the run date), build Gold for the last one, print where Gold is and a summary.
#   DATE=2025-12-16 SCALE=test|full SEED=7 ./scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DATE=${DATE:-2025-12-16}
START=${START:-2025-12-04}   # 8 sessions: 7 prior sessions of warmup for relative volume
SCALE=${SCALE:-test}
SEED=${SEED:-7}
export BB_BRONZE=${BB_BRONZE:-data/bronze} BB_GOLD=${BB_GOLD:-data/gold}
.venv/bin/breakbounce generate --start-date "$START" --end-date "$DATE" --out "$BB_BRONZE" --seed "$SEED" --scale "$SCALE"
.venv/bin/breakbounce run --date "$DATE"
