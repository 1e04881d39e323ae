"""The run planner: which sessions count as having Bronze, which files a date opens, file validation."""

from __future__ import annotations

import pyarrow as pa
import pytest

from breakbounce import bronze, calendar
from breakbounce.plan import BronzeError, plan_run, sessions_with_bronze, validate_file


def _trade(ts: int) -> pa.Table:
    return pa.table({
        "ts_event_ns": [ts], "ts_recv_ns": [ts], "source": ["t"], "symbol": ["ESH6"], "price": [6000.0],
        "size": [1], "aggressor": [1], "exchange": ["CME"], "conditions": pa.nulls(1, pa.list_(pa.int16())), "seq": [1],
    })


def _put(root, ts: int, name: str = "p.parquet") -> None:
    bronze.write_table(_trade(ts), root, bronze.FUTURES_TRADES, name)


def test_evening_hour_alone_does_not_make_a_session(tmp_path):
    mon, thu = calendar.session("2025-12-15"), calendar.session("2025-12-11")
    _put(tmp_path, mon.rth_open_ns + 60 * 10**9)
    # Thursday's UTC folder holds only 18:00 ET Thursday = the start of Friday's Globex day
    _put(tmp_path, thu.globex_close_ns + 3600 * 10**9 + 5, "evening.parquet")
    assert sessions_with_bronze(tmp_path) == ["2025-12-15"]
    _put(tmp_path, thu.rth_open_ns + 5, "rth.parquet")
    assert sessions_with_bronze(tmp_path) == ["2025-12-11", "2025-12-15"]


def test_plan_files_and_warmup(tmp_path):
    dates = ["2025-12-10", "2025-12-11", "2025-12-12", "2025-12-15", "2025-12-16"]
    for d in dates:
        s = calendar.session(d)
        _put(tmp_path, s.globex_open_ns + 5, "open.parquet")
        _put(tmp_path, s.rth_open_ns + 5, "rth.parquet")
    plan = plan_run("2025-12-16", tmp_path, sma_warmup_sessions=2, volume_lookback_sessions=3)
    assert plan.sma_sessions == ["2025-12-16", "2025-12-15", "2025-12-12"]
    assert plan.volume_sessions == ["2025-12-16", "2025-12-15", "2025-12-12", "2025-12-11"]
    assert plan.prior_sessions == ["2025-12-15", "2025-12-12", "2025-12-11"]
    # every warmup session is read over its whole Globex day, the volume-only one too (its front month
    # is its pre-open volume leader, SPEC §3): 2025-12-11 opens at 2025-12-10 23:00 UTC; the session
    # before the look-back (2025-12-10's RTH) is not read
    assert any("date=2025-12-11/hour=14" in f for f in plan.es_trade_files)
    assert any(f.endswith("open.parquet") and "date=2025-12-10/hour=23" in f for f in plan.es_trade_files)
    assert not any("date=2025-12-10/hour=14" in f for f in plan.es_trade_files)
    assert plan.warmup_fingerprints["2025-12-11"] != plan.warmup_fingerprints["2025-12-12"]
    assert len(plan.warnings) == 2  # no MBP-10, no options (warmup is sufficient)


def test_missing_date_and_non_session(tmp_path):
    with pytest.raises(BronzeError, match="no Bronze ES trades for 2025-12-16"):
        plan_run("2025-12-16", tmp_path)
    with pytest.raises(BronzeError, match="2025-12-13 is not an NYSE trading session"):
        plan_run("2025-12-13", tmp_path)


def test_validate_file_names_file_and_column(tmp_path):
    good = tmp_path / "good.parquet"
    bronze.atomic_write_parquet(_trade(1), good)
    validate_file(str(good), bronze.FUTURES_TRADES)
    bad = tmp_path / "bad.parquet"
    bronze.atomic_write_parquet(_trade(1).drop(["seq"]), bad)
    with pytest.raises(BronzeError, match=r"bad.parquet: missing column 'seq'"):
        validate_file(str(bad), bronze.FUTURES_TRADES)
    junk = tmp_path / "junk.parquet"
    junk.write_text("nope")
    with pytest.raises(BronzeError, match="unreadable parquet file .*junk.parquet"):
        validate_file(str(junk), bronze.FUTURES_TRADES)
