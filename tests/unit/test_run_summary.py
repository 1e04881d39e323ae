"""The summary `breakbounce run` prints on stdout: bars built, where Gold is and what it holds."""

from __future__ import annotations

import os

import duckdb

from breakbounce import gold
from breakbounce.runner import summarize


def test_summary_counts_events_by_level_kind_and_outcome(tmp_path):
    db = str(tmp_path / "w.duckdb")
    con = duckdb.connect(db)
    con.execute("create schema intermediate")
    con.execute("create table intermediate.int_bars__es_1min as select date '2025-12-16' as session_date from range(3)")
    con.close()
    path = gold.gold_file(str(tmp_path / "gold"), "2025-12-16")
    os.makedirs(os.path.dirname(path))
    duckdb.execute(f"""copy (select * from (values ('VWAP', 'BREAK'), ('VWAP', 'CHOP'), ('PM_HIGH', 'CHOP'))
                      t(level_kind_name, outcome)) to '{path}' (format parquet)""")
    text = summarize("2025-12-16", db, str(tmp_path / "gold"), 1.23)
    assert text.splitlines() == [
        f"2025-12-16: built in 1.2s; warehouse {db}",
        "  1-min bars: 3",
        f"  gold: {path} (3 events)",
        "  events by level: PM_HIGH 1, VWAP 2",
        "  outcomes (4-min window): BREAK 1, CHOP 2",
    ]
