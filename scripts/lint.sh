#!/usr/bin/env bash
# The gates .ci/run runs before the tests (each one line of output when clean):
#   ruff check           Python lint (rules in pyproject.toml [tool.ruff])
#   ruff format --check  Python formatting
#   sqlfluff lint        the dbt models and singular tests, rendered by dbt with this project's macros
#                        and vars (.sqlfluff: the DuckDB dialect and the rules this project holds to)
# Usage: scripts/lint.sh [--no-format]   (--no-format skips the formatting check)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
format=1
[ "${1:-}" = "--no-format" ] && format=0

start=$(date +%s)
"$bin/ruff" check --quiet .
if [ "$format" = 1 ]; then
  "$bin/ruff" format --check --quiet .
fi
# the dbt templater opens a warehouse: a scratch file, so a build holding target/breakbounce.duckdb
# (or a read-only checkout) does not matter; DuckDB's exit-time nanobind notices are not findings
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
BB_DUCKDB_PATH="$scratch/lint.duckdb" "$bin/sqlfluff" lint models tests/dbt --disable-progress-bar --quiet \
  2> >(grep -v -e nanobind -e 'leaked ' -e 'skipped remainder' -e refleaks >&2)
echo "lint: ruff$([ "$format" = 1 ] && echo " + format") + sqlfluff clean in $(( $(date +%s) - start )) s" >&2
