"""Staging and bars end to end: exact bars, front month, dedup, partition pruning, subset runs for
another date, and one-line errors for bad Bronze."""

from __future__ import annotations

import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from breakbounce import bronze, calendar
from breakbounce.plan import plan_run

from . import reference
from .bronze_builders import NS, et, random_session, trades_table, write_trades
from .conftest import run_breakbounce

D1, D2, D3 = "2025-12-15", "2025-12-16", "2025-12-17"


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """Three sessions of hand-built tape, with the traps staging has to handle."""
    root = tmp_path_factory.mktemp("bronze")
    rng = np.random.default_rng(20251216)
    tables: dict[str, list[pa.Table]] = {}
    for i, d in enumerate((D1, D2, D3)):
        front = random_session(d, rng, n=6000, start_price=6000.0 + 10 * i, symbol="ESH6", seq0=i * 100_000)
        # the back month trades more in RTH (as on a roll day) but less before 09:30: the pre-open
        # volume decides the front month (SPEC §3), the whole session's RTH volume would not
        s = calendar.session(d)
        n_back = 300
        ts_back = np.sort(
            np.concatenate(
                [
                    rng.integers(s.globex_open_ns, s.pm_open_ns, 20),
                    rng.integers(s.rth_open_ns, s.rth_close_ns, n_back - 20),
                ]
            )
        )
        back = trades_table(
            ts_back,
            6060.0 + 0.25 * rng.integers(0, 8, n_back),
            np.full(n_back, 500),
            i * 100_000 + 50_000 + np.arange(n_back),
            symbol="ESM6",
        )
        # exact duplicates (a re-ingest that appended) and a tie whose file order disagrees with seq
        dup = front.slice(100, 25)
        t_tie = et(d, "10:00:30")
        tie_late = trades_table([t_tie], [6100.0], [5], [i * 100_000 + 90_001])
        tie_early = trades_table([t_tie], [6100.5], [3], [i * 100_000 + 90_000])
        # two sweeps reported as one venue message each (one ts and one seq for all fills), written in
        # scrambled file order: a buy ending bar 11:30 and a sell opening bar 11:40
        t_buy, t_sell = et(d, "11:30:59.999999999"), et(d, "11:40:00")
        buy = trades_table(
            [t_buy] * 3, [6101.25, 6101.5, 6101.0], [2, 4, 1], [i * 100_000 + 91_000] * 3, aggressor=[1, 1, 1]
        )
        sell = trades_table(
            [t_sell] * 3, [6099.0, 6099.5, 6099.25], [3, 1, 2], [i * 100_000 + 91_001] * 3, aggressor=[-1, -1, -1]
        )
        # prints in the 17:00-18:00 ET maintenance hour belong to no session
        gap = trades_table([s.globex_close_ns + 10 * NS], [6000.0], [1], [i * 100_000 + 95_000])
        write_trades(root, pa.concat_tables([front, back]), "part-a.parquet")
        write_trades(root, pa.concat_tables([dup, tie_late, gap]), "part-b.parquet")
        write_trades(root, pa.concat_tables([tie_early, buy.slice(2), sell.slice(0, 1)]), "part-c.parquet")
        write_trades(root, pa.concat_tables([sell.slice(1), buy.slice(0, 2)]), "part-d.parquet")
        tables[d] = [front, back, dup, tie_late, tie_early, gap, buy, sell]
    return root, tables


@pytest.fixture(scope="module")
def built_d2(lake, tmp_path_factory):
    root, _ = lake
    work = tmp_path_factory.mktemp("run-d2")
    proc = run_breakbounce(
        "run",
        "--date",
        D2,
        "--bronze",
        str(root),
        "--gold",
        str(work / "gold"),
        "--db",
        str(work / "w.duckdb"),
        "--target-path",
        str(work / "dbt"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work / "w.duckdb", proc


def _query(db, sql, params=None):
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_bars_equal_independent_reference(lake, built_d2):
    _, tables = lake
    db, _ = built_d2
    tape = reference.front_month_tape(tables[D2], D2)
    for width, model in ((60, "int_bars__es_1min"), (120, "int_bars__es_2min")):
        got = _query(
            db,
            f"select bar_start_ns, open, high, low, close, volume, trade_count from intermediate.{model} "
            "where session_date = ? order by bar_start_ns",
            [D2],
        )
        assert got == reference.bars(tape, width)  # exact equality, to the last bit
    atr = [
        r[0]
        for r in _query(
            db, "select atr from intermediate.int_bars__es_1min where session_date = ? order by bar_start_ns", [D2]
        )
    ]
    assert atr == reference.atr(tape)


def test_same_timestamp_tie_uses_seq_not_file_order(built_d2):
    db, _ = built_d2
    t_tie = et(D2, "10:00:30")
    bar = t_tie // (60 * NS) * 60 * NS
    # seq 90_000 (6100.5, written in a later file) precedes seq 90_001 (6100.0) at the same ns
    ((close, high),) = _query(
        db, "select close, high from intermediate.int_bars__es_1min where bar_start_ns = ?", [bar]
    )
    assert high >= 610.05
    trades = _query(db, "select price from staging.stg_bronze__es_trades where ts_event_ns = ? order by seq", [t_tie])
    assert [p for (p,) in trades] == [6100.5, 6100.0]


def test_one_message_sweep_orders_by_its_own_direction(built_d2):
    """Fills sharing (ts, seq) (SPEC §1's order leaves them tied): the buy sweep's last fill is its highest
    price, the sell sweep's first fill its highest price, whatever the file order; the warmup session's
    minute bars (built straight from Bronze) follow the same rule."""
    db, _ = built_d2
    for d in (D2, D1):  # the run date from staging, the warmup session from its cached minutes
        bars = dict(
            _query(
                db,
                "select bar_start_ns, {'open': open, 'close': close} from intermediate.int_bars__es_1min "
                "where session_date = ? and bar_start_ns in (?, ?)",
                [d, et(d, "11:30"), et(d, "11:40")],
            )
        )
        assert (bars[et(d, "11:30")]["close"], bars[et(d, "11:40")]["open"]) == (610.15, 609.95), d


def test_front_month_duplicates_and_quality_counts(lake, built_d2):
    _, tables = lake
    db, _ = built_d2
    # the run date's prints are in staging; the warmup sessions' only as minute aggregates
    fronts = _query(
        db,
        "select session_date::varchar, any_value(contract) from ("
        " select session_date, contract from staging.stg_bronze__es_trades where is_front_month"
        " union all select session_date, contract from intermediate.int_bars__es_warmup_minutes where is_front_month"
        ") group by 1 order by 1",
    )
    assert fronts == [(D1, "ESH6"), (D2, "ESH6")]
    drops = dict(
        ((r[0], r[1] and str(r[1]), r[2]), r[3])
        for r in _query(db, "select * from intermediate.int_quality__bronze_drops")
    )
    assert drops[("es_trades", D2, "exact_duplicate")] == 25
    assert drops[("es_trades", D2, "other_contract")] == 300
    assert drops[("es_trades", D1, "other_contract")] == 300
    # the maintenance-hour prints (17:00-18:00 ET) sit in hour files the plan never opens
    assert drops[("es_trades", None, "outside_session")] == 0
    assert drops[("es_trades", None, "read")] == sum(
        len(t)
        for d in (D1, D2)
        for i, t in enumerate(tables[d])
        if i != 5  # all but the maintenance hour
    )
    assert drops[("spy_option_trades", D2, "read")] == 0  # no options for this lake: empty, not an error


def test_warnings_for_missing_mbp10_and_options(built_d2):
    _, proc = built_d2
    # once each, also when the run first has dbt compile the project (the compile plans no date)
    assert proc.stderr.count("no Bronze MBP-10 for 2025-12-16") == 1
    assert proc.stderr.count("no Bronze option trades for 2025-12-16") == 1


def test_views_hold_no_date(built_d2):
    db, _ = built_d2
    for (sql,) in _query(db, "select sql from duckdb_views() where not internal"):
        assert D2 not in sql and D1 not in sql


def test_plan_reads_only_needed_partitions(lake):
    root, _ = lake
    plan = plan_run(D2, root)
    s2, s1 = calendar.session(D2), calendar.session(D1)
    assert plan.sma_sessions == [D2, D1] and plan.volume_sessions == [D2, D1]
    for f in plan.es_trade_files:
        assert "date=2025-12-17" not in f
    hours = {(p.split("date=")[1][:10], int(p.split("hour=")[1][:2])) for p in plan.es_trade_files}
    first = s1.globex_open_ns // bronze.NS_PER_HOUR
    last = (s2.globex_close_ns - 1) // bronze.NS_PER_HOUR
    assert all(first <= (np.datetime64(d).astype("datetime64[h]").astype(np.int64) + h) <= last for d, h in hours)


def test_partition_pruning_never_opens_other_files(lake, tmp_path):
    """Garbage planted everywhere the run must not look: the build still succeeds."""
    root, _ = lake
    lake2 = tmp_path / "bronze"
    shutil.copytree(root, lake2)
    garbage = b"this is not parquet"
    s2 = calendar.session(D2)
    after_close_hour = (s2.globex_close_ns // bronze.NS_PER_HOUR) + 1  # next session's 18:00 ET hour
    d = bronze.utc_date_str(after_close_hour * bronze.NS_PER_HOUR)
    plants = [
        bronze.FUTURES_TRADES.hour_dir(lake2, d, after_close_hour % 24) / "zz-garbage.parquet",
        bronze.FUTURES_TRADES.hour_dir(lake2, "2025-12-18", 15) / "zz-garbage.parquet",  # a later date
        bronze.FUTURES_MBP10.hour_dir(lake2, D2, 3) / "zz-garbage.parquet",  # before RTH - 1 h
        bronze.OPTION_TRADES.date_dir(lake2, D1) / "zz-garbage.parquet",  # options of another date
    ]
    for p in plants:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(garbage)
    work = tmp_path / "w"
    proc = run_breakbounce(
        "run",
        "--date",
        D2,
        "--bronze",
        str(lake2),
        "--gold",
        str(work / "gold"),
        "--db",
        str(work / "w.duckdb"),
        "--target-path",
        str(work / "dbt"),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    # and the same garbage inside a planned partition is caught, naming the file
    bad = bronze.FUTURES_TRADES.hour_dir(lake2, D2, 15) / "zz-garbage.parquet"
    bad.write_bytes(garbage)
    proc = run_breakbounce("run", "--date", D2, "--bronze", str(lake2), "--db", str(work / "w2.duckdb"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert str(bad) in proc.stderr and "unreadable parquet" in proc.stderr


@pytest.mark.slow
def test_subset_run_for_another_date_reads_only_that_date(lake, tmp_path):
    root, _ = lake
    lake2 = tmp_path / "bronze"
    shutil.copytree(root, lake2)
    work = tmp_path / "w"
    common = [
        "--bronze",
        str(lake2),
        "--gold",
        str(work / "gold"),
        "--db",
        str(work / "w.duckdb"),
        "--target-path",
        str(work / "dbt"),
    ]
    proc = run_breakbounce("run", "--date", D3, *common)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # a subset that skips the upstream would read the stale D3 tables: refused, loudly
    proc = run_breakbounce("run", "--date", D1, *common, "--select", "int_bars__es_2min")
    assert proc.returncode == 1
    assert "stg_bronze__es_trades, which was built for 2025-12-17, not 2025-12-15" in proc.stderr
    # D3's files become unreadable: a subset run for D1 with its upstream must not touch them
    for p in bronze.FUTURES_TRADES.date_dir(lake2, D3).rglob("*.parquet"):
        p.write_bytes(b"garbage")
    proc = run_breakbounce("run", "--date", D1, *common, "--select", "+int_bars__es_1min")
    assert proc.returncode == 0, proc.stderr[-2000:]
    sessions = _query(work / "w.duckdb", "select distinct session_date::varchar from intermediate.int_bars__es_1min")
    assert sessions == [(D1,)]


def test_missing_date_is_one_line_exit_2_nothing_written(lake, tmp_path):
    root, _ = lake
    db = tmp_path / "w.duckdb"
    proc = run_breakbounce(
        "run", "--date", "2025-12-18", "--bronze", str(root), "--gold", str(tmp_path / "gold"), "--db", str(db)
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "breakbounce run: error: no Bronze ES trades for 2025-12-18: "
        f"{bronze.FUTURES_TRADES.date_dir(root, '2025-12-18')} has no parquet files for the RTH hours"
    )
    assert not db.exists() and not (tmp_path / "gold").exists()


def test_not_a_session_and_bad_arguments(lake):
    root, _ = lake
    proc = run_breakbounce("run", "--date", "2025-12-13", "--bronze", str(root))
    assert proc.returncode == 2 and "2025-12-13 is not an NYSE trading session" in proc.stderr
    proc = run_breakbounce("run", "--date", "12/16/2025")
    assert proc.returncode == 2 and "not a date" in proc.stderr


@pytest.mark.parametrize("damage", ["missing_column", "wrong_type"])
def test_off_contract_file_names_file_and_column(lake, tmp_path, damage):
    root, tables = lake
    lake2 = tmp_path / "bronze"
    shutil.copytree(root, lake2)
    target = sorted(bronze.FUTURES_TRADES.date_dir(lake2, D2).rglob("part-a.parquet"))[5]
    t = pq.read_table(target)
    if damage == "missing_column":
        t = t.drop(["price"])
    else:
        t = t.set_column(t.schema.get_field_index("price"), "price", t.column("price").cast(pa.string()))
    pq.write_table(t, target)
    proc = run_breakbounce("run", "--date", D2, "--bronze", str(lake2), "--db", str(tmp_path / "w.duckdb"))
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "\n" not in line and str(target) in line and "'price'" in line


def test_plain_dbt_build_without_bronze_names_the_path(lake, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root, _ = lake
    env = {**os.environ, "BB_BRONZE": str(root), "BB_DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    dbt = Path(sys.executable).with_name("dbt")
    proc = subprocess.run(
        [str(dbt), "build", "--vars", "{date: 2025-12-18}", "--target-path", str(tmp_path / "t")],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode != 0
    assert "no Bronze ES trades for 2025-12-18" in proc.stdout + proc.stderr


def test_warmup_cache_reuses_sessions_and_rebuilds_changed_bronze(lake, tmp_path):
    """stg_bronze__es_session_minutes keeps warmup sessions across runs, keyed by Bronze fingerprint."""
    root, _ = lake
    lake2 = tmp_path / "bronze"
    shutil.copytree(root, lake2)
    work = tmp_path / "w"
    db = work / "w.duckdb"
    common = ["--bronze", str(lake2), "--gold", str(work / "gold"), "--db", str(db), "--target-path", str(work / "dbt")]
    proc = run_breakbounce("run", "--date", D3, *common)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cached = _query(
        db,
        "select session_date::varchar, count(distinct bronze_fingerprint) "
        "from staging.stg_bronze__es_session_minutes group by 1 order by 1",
    )
    assert cached == [(D1, 1), (D2, 1)]

    # mark D2's cached minutes (rename the back month, which no bar or count reads by name): a rerun
    # with unchanged Bronze must reuse them, not rebuild them
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(
        "update staging.stg_bronze__es_session_minutes set contract = 'MARKED' "
        "where session_date = ? and contract = 'ESM6'",
        [D2],
    )
    con.close()
    # D1 changes: one more print in a new file in its RTH
    extra = trades_table([et(D1, "11:00:00")], [6200.0], [11], [900_001])
    write_trades(lake2, extra, "part-z.parquet")

    proc = run_breakbounce("run", "--date", D3, *common)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _query(
        db,
        "select count(*) filter (where contract = 'MARKED') > 0, count(*) filter (where contract = 'ESM6') "
        "from staging.stg_bronze__es_session_minutes where session_date = ?",
        [D2],
    ) == [(True, 0)]
    # D1 was rebuilt from the new file set: its minute bars equal a fresh warehouse's, extra print included
    fresh = tmp_path / "fresh"
    proc = run_breakbounce(
        "run",
        "--date",
        D3,
        "--bronze",
        str(lake2),
        "--gold",
        str(fresh / "gold"),
        "--db",
        str(fresh / "w.duckdb"),
        "--target-path",
        str(fresh / "dbt"),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    bars_sql = (
        "select bar_start_ns, open_e9, high_e9, low_e9, close_e9, volume, trade_count "
        "from intermediate.int_bars__es_1min where session_date = ? order by bar_start_ns"
    )
    reused, rebuilt = _query(db, bars_sql, [D1]), _query(fresh / "w.duckdb", bars_sql, [D1])
    assert reused == rebuilt
    minute = et(D1, "11:00:00") // 60_000_000_000 * 60_000_000_000
    assert any(r[0] == minute and r[2] == 6200 * 10**9 for r in rebuilt)
    assert _query(
        db,
        "select count(distinct bronze_fingerprint) from staging.stg_bronze__es_session_minutes where session_date = ?",
        [D1],
    ) == [(1,)]
