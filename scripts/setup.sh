#!/usr/bin/env bash
# Create .venv (if needed) and install breakbounce with its pinned dependencies and the extras the
# tests use (dev, report, ml, s3). With BB_SETUP_BROWSER=1 (scripts/test.sh sets it) also install
# Chromium (Debian's package) for the report pages' browser tests, when it is missing and we can
# (root with apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)" >&2
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import breakbounce, dbt.adapters.duckdb, pytest, plotly, sklearn, s3fs, moto, distributed, sqlfluff, sqlfluff_templater_dbt" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  echo "setup: installing pinned dependencies (pyproject.toml)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,report,ml,s3]'
  touch .venv/.installed
fi
# headless Chromium renders the report pages in tests (tests/integration/test_report_pages.py); the
# browser cannot come from playwright's downloader here, Debian's package works offline
if [ "${BB_SETUP_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/lib/chromium/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (apt-get)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } \
      >/dev/null || echo "setup: warning: could not install chromium; the browser tests will fail on CI and skip elsewhere" >&2
  else
    echo "setup: note: chromium is not installed (apt-get install chromium); the report browser tests will be skipped" >&2
  fi
fi
# byte-compile the project's own modules: with PYTHONDONTWRITEBYTECODE set (as on CI machines) every
# `breakbounce run` would otherwise recompile them (~60 ms of a small day's 2 s budget)
.venv/bin/python -m compileall -q breakbounce python_udfs >/dev/null
