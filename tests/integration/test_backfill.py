"""`breakbounce backfill`: dry run, parallel dates in separate processes, one failing date does not
affect the others, per-date result table, non-zero exit."""

from __future__ import annotations

import shutil

from breakbounce import bronze

from .conftest import run_breakbounce


def test_dry_run_lists_dates_and_skips(generated_day, tmp_path):
    proc = run_breakbounce("backfill", "--start-date", "2025-12-10", "--end-date", "2025-12-16",
                           "--bronze", str(generated_day.bronze), "--gold", str(tmp_path / "gold"), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "would build 4 date(s) with 1 worker(s):", "  2025-12-11", "  2025-12-12", "  2025-12-15", "  2025-12-16",
    ]
    assert "skip 2025-12-10: no Bronze ES trades" in proc.stderr
    assert not (tmp_path / "gold").exists()


def test_bad_arguments_are_usage_errors(generated_day):
    proc = run_breakbounce("backfill", "--start-date", "2025-12-16", "--bronze", str(generated_day.bronze))
    assert proc.returncode == 2 and "--start-date needs --end-date" in proc.stderr
    proc = run_breakbounce("backfill", "--dates", "2025-12-15", "--workers", "0")
    assert proc.returncode == 2 and "must be a positive integer" in proc.stderr
    proc = run_breakbounce("backfill")
    assert proc.returncode == 2


def test_parallel_backfill_isolates_a_failing_date(generated_day, tmp_path):
    lake = tmp_path / "bronze"
    shutil.copytree(generated_day.bronze, lake)
    # an RTH file of the later date: 2025-12-16 cannot build, 2025-12-15 (which never reads it) can
    victim = sorted(bronze.FUTURES_TRADES.hour_dir(lake, "2025-12-16", 16).glob("*.parquet"))[0]
    victim.write_bytes(b"not parquet")
    gold = tmp_path / "gold"
    proc = run_breakbounce("backfill", "--dates", "2025-12-16,2025-12-15,2025-12-13", "--workers", "2",
                           "--bronze", str(lake), "--gold", str(gold), "--work-dir", str(tmp_path / "work"))
    assert proc.returncode == 1
    table = proc.stdout.splitlines()
    assert table[0].split() == ["date", "status", "seconds", "detail"]
    rows = {line.split()[0]: line.split()[1] for line in table[1:3]}
    assert rows == {"2025-12-16": "FAILED", "2025-12-15": "ok"}
    assert str(victim) in table[2]
    assert table[-1] == "1 built, 1 failed, 1 skipped"
    assert "skip 2025-12-13: not a trading session" in proc.stderr
    assert (gold / "signals" / "date=2025-12-15" / "signals.parquet").exists()
    assert not (gold / "signals" / "date=2025-12-16").exists()
