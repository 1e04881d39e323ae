#!/usr/bin/env bash
# All tests: set up .venv, then pytest (unit tests, and integration tests that generate small days
# and run `dbt build` — models plus their dbt tests — on them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
