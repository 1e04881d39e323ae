#!/usr/bin/env bash
# Create .venv (if needed) and install breakbounce with its pinned dependencies and dev extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)" >&2
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import breakbounce, dbt.adapters.duckdb, pytest" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  echo "setup: installing pinned dependencies (pyproject.toml)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
  touch .venv/.installed
fi
# byte-compile the project's own modules: with PYTHONDONTWRITEBYTECODE set (as on CI machines) every
# `breakbounce run` would otherwise recompile them (~60 ms of a small day's 2 s budget)
.venv/bin/python -m compileall -q breakbounce python_udfs >/dev/null
