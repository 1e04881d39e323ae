"""The run planner: which sessions count as having Bronze, which files a date opens, file validation."""

from __future__ import annotations

import pyarrow as pa
import pytest

from breakbounce import bronze, calendar
from breakbounce.plan import BronzeError, Gap, plan_run, sessions_with_bronze, validate_file, validate_plan


def _trade(ts: int) -> pa.Table:
    return pa.table(
        {
            "ts_event_ns": [ts],
            "ts_recv_ns": [ts],
            "source": ["t"],
            "symbol": ["ESH6"],
            "price": [6000.0],
            "size": [1],
            "aggressor": [1],
            "exchange": ["CME"],
            "conditions": pa.nulls(1, pa.list_(pa.int16())),
            "seq": [1],
        }
    )


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
    plan = plan_run("2025-12-16", tmp_path, sma_warmup_sessions=2, volume_lookback_sessions=3, allow_gaps=True)
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
    assert len(plan.warnings) == 3  # gaps (allowed), no MBP-10, no options (warmup is sufficient)


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


# --- completeness (SPEC §12) ----------------------------------------------------------------------

H = bronze.NS_PER_HOUR


def _full_session(root, date: str, skip_hours: tuple[int, ...] = ()) -> calendar.Session:
    """One print in every UTC hour in which ES trades in ``date``'s Globex day, but ``skip_hours``
    (hour keys = ts // 1 h)."""
    from breakbounce.plan import es_trading_span

    s = calendar.session(date)
    start, end = es_trading_span(s)
    for h in range(start // H, (end - 1) // H + 1):
        if h not in skip_hours:
            _put(root, max(h * H, start) + 5, f"h{h}.parquet")
    return s


def test_a_missing_hour_is_an_error_and_a_zero_row_file_a_quiet_hour(tmp_path):
    s = _full_session(tmp_path, "2025-12-16")
    plan_run("2025-12-16", tmp_path)  # complete
    victim = (s.rth_open_ns + 2 * H) // H
    hour_dir = bronze.FUTURES_TRADES.hour_dir(tmp_path, "2025-12-16", victim % 24)
    for f in hour_dir.glob("*.parquet"):
        f.unlink()
    with pytest.raises(
        BronzeError,
        match=r"incomplete Bronze for 2025-12-16: no parquet file in "
        r"futures/trades/symbol=ES/date=2025-12-16/hour=16 \(es_trades of session "
        r"2025-12-16\).*--allow-gaps",
    ):
        plan_run("2025-12-16", tmp_path)
    plan = plan_run("2025-12-16", tmp_path, allow_gaps=True)
    assert plan.gaps == [
        Gap("es_trades", "2025-12-16", "futures/trades/symbol=ES/date=2025-12-16/hour=16", victim * H, (victim + 1) * H)
    ]
    assert f'"start_ns":{victim * H}' in plan.gaps_json()
    assert any("--allow-gaps" in w and "hour=16" in w for w in plan.warnings)
    # the producer attests the hour was quiet: no gap
    bronze.write_quiet_hours(tmp_path, bronze.FUTURES_TRADES, victim * H, (victim + 1) * H, "quiet.parquet")
    assert plan_run("2025-12-16", tmp_path).gaps == []


def test_the_maintenance_break_and_an_early_close_are_not_gaps(tmp_path):
    # 2025-11-28 closes at 13:00 ET; ES halts at 13:15 ET: nothing is expected from 13:15 to 17:00
    s = _full_session(tmp_path, "2025-11-28")
    assert s.is_early_close
    plan = plan_run("2025-11-28", tmp_path)
    assert plan.gaps == []
    last = max(int(f.split("hour=")[1][:2]) for f in plan.es_trade_files if "date=2025-11-28" in f)
    assert last == 18  # 13:00-14:00 ET (EST = UTC-5) is the last hour that trades
    # a warmup session is checked like the run date; a volume-only session over its RTH only
    _full_session(tmp_path, "2025-12-01")
    _full_session(tmp_path, "2025-12-02", skip_hours=(calendar.session("2025-12-02").globex_open_ns // H,))
    with pytest.raises(BronzeError, match=r"date=2025-12-01/hour=23 \(es_trades of session 2025-12-02\)"):
        plan_run("2025-12-02", tmp_path)
    _full_session(tmp_path, "2025-12-03")
    plan = plan_run("2025-12-03", tmp_path, sma_warmup_sessions=1, volume_lookback_sessions=3, allow_gaps=True)
    # 2025-12-02 is an SMA session (its Globex open is missing); 2025-11-28 and 12-01 are complete
    assert [(g.session_date, g.partition.rsplit("/", 2)[1]) for g in plan.gaps] == [("2025-12-02", "date=2025-12-01")]


def test_mbp10_hours_are_checked_when_the_date_has_some(tmp_path):
    s = _full_session(tmp_path, "2025-12-16")
    assert any("no Bronze MBP-10" in w for w in plan_run("2025-12-16", tmp_path).warnings)
    from breakbounce.plan import mbp10_span

    start, end = mbp10_span(s)
    book = bronze.MBP10_SCHEMA.empty_table()
    for h in range(start // H, (end - 1) // H + 1):
        if h != (s.rth_open_ns // H):  # the hour holding 09:30 is missing
            bronze.atomic_write_parquet(
                book, bronze.FUTURES_MBP10.hour_dir(tmp_path, "2025-12-16", h % 24) / "b.parquet"
            )
    with pytest.raises(BronzeError, match=r"futures/mbp10/symbol=ES/date=2025-12-16/hour=14 \(es_mbp10"):
        plan_run("2025-12-16", tmp_path)


def test_a_nested_folder_under_a_partition_is_refused(tmp_path):
    s = _full_session(tmp_path, "2025-12-16")
    hour_dir = bronze.FUTURES_TRADES.hour_dir(tmp_path, "2025-12-16", (s.rth_open_ns // H) % 24)
    nested = hour_dir / "out.parquet" / "part-00000.parquet"
    nested.parent.mkdir()
    bronze.atomic_write_parquet(_trade(s.rth_open_ns + 9), nested)
    with pytest.raises(BronzeError, match=r"nested folder .*hour=14/out.parquet holds parquet files"):
        plan_run("2025-12-16", tmp_path)
    nested.unlink()  # an empty folder (or one without parquet files) is nothing to read
    plan_run("2025-12-16", tmp_path)


def test_warmup_fingerprints_follow_content_not_path_size_or_mtime(tmp_path):
    import os
    import shutil

    for d in ("2025-12-15", "2025-12-16"):
        _full_session(tmp_path / "a", d)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    fa = plan_run("2025-12-16", tmp_path / "a").warmup_fingerprints
    fb = plan_run("2025-12-16", tmp_path / "b").warmup_fingerprints
    assert fa == fb and set(fa) == {"2025-12-15"}  # the same content elsewhere: the same key
    victim = sorted(bronze.FUTURES_TRADES.date_dir(tmp_path / "b", "2025-12-15").rglob("*.parquet"))[3]
    st = victim.stat()
    data = bytearray(victim.read_bytes())
    i = data.find(b"ESH6")  # one byte of the data page's contract name; same size
    data[i + 3] = ord("7")
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert victim.stat().st_size == st.st_size and victim.stat().st_mtime_ns == st.st_mtime_ns
    assert plan_run("2025-12-16", tmp_path / "b").warmup_fingerprints != fa


# --- row rules of every planned file ---------------------------------------------------------------


def _plan_with(tmp_path, table: pa.Table, hour_key: int, name: str = "bad.parquet"):
    s = _full_session(tmp_path, "2025-12-16")
    path = bronze.FUTURES_TRADES.hour_dir(tmp_path, "2025-12-16", hour_key % 24) / name
    bronze.atomic_write_parquet(table, path)
    return s, path


@pytest.mark.parametrize(
    "column,value,rule",
    [
        ("price", float("nan"), "price_positive"),
        ("price", -1.0, "price_positive"),
        ("price", float("inf"), "price_positive"),
        ("size", 0, "size_at_least_one"),
        ("aggressor", 2, "aggressor_valid"),
        ("ts_event_ns", None, "ts_in_hour_partition"),
    ],
)
def test_row_rules_refuse_bad_values_naming_rule_rows_and_file(tmp_path, monkeypatch, column, value, rule):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # a private memo of validated files
    (tmp_path / "tmp").mkdir()
    s = calendar.session("2025-12-16")
    t = pa.concat_tables([_trade(s.rth_open_ns + i) for i in range(8)])
    values = t.column(column).to_pylist()
    if value is None:  # a print of the next hour filed in this one
        values[6] = s.rth_open_ns + H
        value = "misplaced"
    else:
        values[2] = values[5] = value
    t = t.set_column(t.schema.get_field_index(column), column, pa.array(values, t.schema.field(column).type))
    _, path = _plan_with(tmp_path / "lake", t, s.rth_open_ns // H)
    plan = plan_run("2025-12-16", tmp_path / "lake")
    with pytest.raises(BronzeError) as err:
        validate_plan(plan)
    n = 1 if value == "misplaced" else 2
    assert f"Bronze rule {rule} " in str(err.value) and f"failed on {n} row(s) of 2025-12-16 in {path}" in str(
        err.value
    )
    assert len([d for d in err.value.details if d.startswith("    ts_event_ns=")]) == n


def test_options_rules_and_the_memo_of_validated_files(tmp_path, monkeypatch):
    import tempfile

    from breakbounce import validation

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    _full_session(tmp_path / "lake", "2025-12-15")
    _full_session(tmp_path / "lake", "2025-12-16")
    plan = plan_run("2025-12-16", tmp_path / "lake")
    validate_plan(plan)  # scans the float prices of every ES trades file once ...

    def no_scans():
        raise AssertionError("scanned a file validated before")

    monkeypatch.setattr(validation, "_duckdb", no_scans)
    validate_plan(plan_run("2025-12-16", tmp_path / "lake"))  # ... and never again for the same content
    monkeypatch.undo()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    s = calendar.session("2025-12-16")
    opts = pa.table(
        {
            "ts_event_ns": [s.rth_open_ns + 1, 5],
            "ts_recv_ns": [s.rth_open_ns + 2, 6],
            "source": ["t", "t"],
            "underlying": ["SPY", "SPY"],
            "option_symbol": ["O:SPY251216C00600000"] * 2,
            "exp_date": ["2025-12-16"] * 2,
            "strike": [600.0, 600.0],
            "right": ["C", "X"],
            "price": [1.0, 1.0],
            "size": [1, 1],
            "opt_bid": [None, None],
            "opt_ask": [None, None],
            "seq": [1, 2],
            "aggressor": [1, 1],
        },
        schema=bronze.OPTION_TRADES_SCHEMA,
    )
    bronze.write_table(opts, tmp_path / "lake", bronze.OPTION_TRADES, "o.parquet", trading_date="2025-12-16")
    with pytest.raises(BronzeError, match=r"Bronze rule right_is_c_or_p .* failed on 1 row\(s\) of 2025-12-16"):
        validate_plan(plan_run("2025-12-16", tmp_path / "lake"))


def test_dates_outside_the_calendar_are_named_so():
    with pytest.raises(BronzeError, match=r"1999-12-31 is outside the calendar .*2000-01-03\.\.2035-12-31"):
        plan_run("1999-12-31", "/nonexistent")
    with pytest.raises(BronzeError, match="2025-12-13 is not an NYSE trading session"):
        plan_run("2025-12-13", "/nonexistent")
