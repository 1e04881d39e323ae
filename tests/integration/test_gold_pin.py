"""Gold's bytes on two generated days are pinned: a refactor (renamed models, moved macros, parameters
read from one place) must not change one byte of Gold.

The pins are the SHA-256 of the whole Gold file (columns, row order, parquet layout and key-value
metadata) of:

- 2025-12-16 of ``generate --seed 7 --scale test`` (a ``pm_high_bounce`` day), built by ``breakbounce
  run`` (the fast engine); ``test_engine_equivalence`` checks that ``dbt build`` writes the same bytes;
- 2025-12-12 of ``generate --seed 7 --scale test --scenario pm_high_break`` (a break day), built by both
  the fast engine and ``dbt build`` (``run --engine dbt``).

A change that is MEANT to change Gold (a new column, a fixed feature, a new default, a new project
version in the metadata, a different pyarrow writer) updates the pins below in the same commit, and
says why in its message. A pin that moved without such a reason is a regression.
"""

from __future__ import annotations

import hashlib

import pytest

from .conftest import BREAK_DATE, run_breakbounce

GOLD_SHA256 = {
    "2025-12-16": "5e0d858c441a9ae73e4ff719f48164269a54a860c045de0506e183a66e5eda9b",
    BREAK_DATE: "fa8a9749374a8eb8e1ded269234b2c3702eab48eb74efca5cdb6dc6f9fefdc20",
}


def _sha256(gold_root, date: str) -> str:
    return hashlib.sha256((gold_root / "signals" / f"date={date}" / "signals.parquet").read_bytes()).hexdigest()


def test_bounce_day_gold_is_pinned(generated_day):
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    assert _sha256(generated_day.run.gold, generated_day.date) == GOLD_SHA256[generated_day.date]


@pytest.mark.slow
def test_break_day_gold_is_pinned_on_both_engines(breakout_day, tmp_path):
    base, fast = breakout_day
    assert _sha256(fast.gold_root, BREAK_DATE) == GOLD_SHA256[BREAK_DATE]
    proc = run_breakbounce(
        "run",
        "--engine",
        "dbt",
        "--date",
        BREAK_DATE,
        "--bronze",
        str(base / "bronze"),
        "--gold",
        str(tmp_path / "gold"),
        "--db",
        str(tmp_path / "warehouse.duckdb"),
        "--target-path",
        str(tmp_path / "dbt"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _sha256(tmp_path / "gold", BREAK_DATE) == GOLD_SHA256[BREAK_DATE]
