#!/usr/bin/env bash
# All tests: set up .venv (and Chromium), then pytest (unit tests, and integration tests that generate
# small days and run `dbt build` — models plus their dbt tests — on them).
set -euo pipefail
cd "$(dirname "$0")/.."
BB_SETUP_BROWSER=1 bash scripts/setup.sh   # + Chromium for the report pages' browser tests
exec .venv/bin/python -m pytest "$@"
