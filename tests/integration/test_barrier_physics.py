"""Barrier physics end to end (SPEC §7.2): int_book__snapshots_250ms, int_physics__barrier and the
tape columns of the same session, on a hand-built Bronze day, against the numpy oracles
tests/oracles/barrier.py barrier_metrics / tests/oracles/tape.py tape_metrics computed on the raw records.

The session (2025-12-16) has a background book (one record a second) and three scripted 4-minute
windows before planted touches:
  * 10:00 UP touch of PM_HIGH 6850: the ask in the zone keeps being replenished      -> WALL
  * 11:00 DOWN touch of PM_LOW 6790: the bid in the zone is pulled by cancels        -> VACUUM
  * 12:00 DOWN touch of PM_LOW 6790: the bid in the zone is eaten by sells at 6791   -> CONSUMED
plus bucket-edge records (a record exactly on a 250 ms boundary, a same-ns tie broken by seq across
two files), a crossed record, a back-month record, an empty bid side and exact duplicate copies.
Runs: the full day, and the day truncated at X (point in time); the generator's planted book
events are checked when `breakbounce generate` is available (a third run).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from breakbounce import bronze, calendar
from tests.oracles import barrier as oracle_barrier
from tests.oracles import tape as oracle_tape

from .bronze_builders import attest_quiet_hours, trades_table, truncate_bronze
from .conftest import RunResult, run_breakbounce

DATE = "2025-12-16"
NS = 1_000_000_000
MS = 1_000_000
RATIO = 10.0
FRONT, BACK = "ESH6", "ESZ5"
SESSION = calendar.session(DATE)


def et(clock: str) -> int:
    """UTC ns of an ET clock 'HH:MM[:SS[.fff]]' on DATE (offsets from the seed's 09:30)."""
    hh, mm, *rest = clock.split(":")
    sec = float(rest[0]) if rest else 0.0
    return SESSION.rth_open_ns + ((int(hh) * 60 + int(mm)) - 570) * 60 * NS + int(round(sec * 1000)) * MS


# ------------------------------------------------------------------------------------------ builder


class Book:
    """MBP-10 rows under construction (prices in ES points; NaN-free: empty = sentinel + size 0)."""

    def __init__(self):
        self.rows: list[dict] = []

    def add(self, ts, bid1, ask1, bid_sz, ask_sz, seq, symbol=FRONT, file="book"):
        row = {"ts": int(ts), "seq": int(seq), "symbol": symbol, "file": file}
        for i in range(10):
            if bid1 is None:
                row[f"bid_px_{i + 1}"], row[f"bid_sz_{i + 1}"] = bronze.EMPTY_LEVEL_PRICE, 0
            else:
                row[f"bid_px_{i + 1}"], row[f"bid_sz_{i + 1}"] = bid1 - 0.25 * i, int(bid_sz[i])
            row[f"ask_px_{i + 1}"], row[f"ask_sz_{i + 1}"] = ask1 + 0.25 * i, int(ask_sz[i])
        self.rows.append(row)
        return row

    def tables(self) -> dict[str, pa.Table]:
        out = {}
        for f in sorted({r["file"] for r in self.rows}):
            rows = [r for r in self.rows if r["file"] == f]
            cols = {
                "ts_event_ns": pa.array([r["ts"] for r in rows], pa.int64()),
                "ts_recv_ns": pa.array([r["ts"] + 200_000 for r in rows], pa.int64()),
                "source": ["test"] * len(rows),
                "symbol": [r["symbol"] for r in rows],
                "is_snapshot": [False] * len(rows),
                "seq": pa.array([r["seq"] for r in rows], pa.int64()),
            }
            for i in range(1, 11):
                for s in ("bid", "ask"):
                    cols[f"{s}_px_{i}"] = pa.array([float(r[f"{s}_px_{i}"]) for r in rows], pa.float64())
                    cols[f"{s}_sz_{i}"] = pa.array([int(r[f"{s}_sz_{i}"]) for r in rows], pa.int64())
            out[f] = pa.table(cols).select(bronze.MBP10_SCHEMA.names).cast(bronze.MBP10_SCHEMA)
        return out


def _path_price(t: int, knots: list[tuple[int, float]]) -> float:
    """Piecewise-linear price path through (ts, ES price) knots, rounded to the 0.25 tick."""
    xs = [k[0] for k in knots]
    ys = [k[1] for k in knots]
    return round(float(np.interp(t, xs, ys)) * 4) / 4


def build_session(root: Path) -> dict:
    """Write the Bronze day; return the rows written and the planted events."""
    rng = np.random.default_rng(20251216)
    # ---- trades -------------------------------------------------------------------------------
    tr = {"ts": [], "price": [], "size": [], "aggressor": [], "symbol": [], "seq": []}

    def trade(ts, price, size, aggressor, symbol=FRONT):
        tr["ts"].append(int(ts))
        tr["price"].append(float(price))
        tr["size"].append(int(size))
        tr["aggressor"].append(int(aggressor))
        tr["symbol"].append(symbol)
        tr["seq"].append(len(tr["seq"]) + 1)

    # pre-market 04:00-09:30: one print a minute in 6805..6835, PM high 6850 at 08:00, low 6790 at 06:00
    for k, t in enumerate(range(et("04:00"), et("09:30"), 60 * NS)):
        p = (
            6850.0
            if t == et("08:00")
            else 6790.0
            if t == et("06:00")
            else 6820.0 + round(12 * np.sin(k / 7)) * 0.25 * 4
        )
        trade(t + 7 * NS, p, 1 + k % 4, 1 if k % 2 else -1)
    # RTH path (prints every 5 s), planted bars scripted separately
    knots = [
        (et("09:30"), 6838.0),
        (et("09:45"), 6840.0),
        (et("09:55:55"), 6839.0),
        (et("09:56"), 6847.0),
        (et("09:59:59"), 6847.0),
        (et("10:01"), 6846.0),
        (et("10:10"), 6830.0),
        (et("10:55"), 6795.0),
        (et("10:56"), 6793.0),
        (et("10:59:59"), 6793.0),
        (et("11:01"), 6793.0),
        (et("11:30"), 6805.0),
        (et("11:55"), 6796.0),
        (et("11:56"), 6795.0),
        (et("11:59:59"), 6795.0),
        (et("12:01"), 6796.0),
        (et("12:40"), 6810.0),
    ]
    planted_bars = {et("10:00"), et("11:00"), et("12:00")}
    for k, t in enumerate(range(et("09:30"), et("12:40"), 5 * NS)):
        if t // (60 * NS) * (60 * NS) in planted_bars:
            continue
        side = (1, -1, 1, -1, 0)[k % 5]
        trade(t, _path_price(t, knots), 1 + k % 7, side)
    # 10:00 bar: buys lifting the ask into the wall, close 6849.25 (< 6850: UP)
    for k, t in enumerate(range(et("10:00"), et("10:01"), 5 * NS)):
        trade(t, 6848.5 + 0.25 * (k % 4), 2 + k % 3, 1 if k % 3 else -1)
    # 11:00 bar: only buys, in the bid zone (no fills for the bid side), close 6791.0 (>= 6790: DOWN)
    for k, t in enumerate(range(et("11:00"), et("11:01"), 5 * NS)):
        trade(t, 6791.5 if k < 6 else 6791.0, 3, 1)
    # back month: a few small prints
    for k in range(20):
        trade(et("10:30") + k * 30 * NS, 6870.0 + k % 3, 1, 1, symbol=BACK)

    # ---- book ---------------------------------------------------------------------------------
    book = Book()
    seq = [1_000]

    def nseq():
        seq[0] += 1
        return seq[0]

    trade_ts = np.array(tr["ts"])
    trade_px = np.array(tr["price"])
    front = np.array(tr["symbol"]) == FRONT
    ft, fp = trade_ts[front], trade_px[front]
    order = np.argsort(ft, kind="stable")
    ft, fp = ft[order], fp[order]

    windows = [(et("09:57"), et("10:01")), (et("10:57"), et("11:01")), (et("11:57"), et("12:01"))]

    def in_window(t):
        return any(a <= t < b for a, b in windows)

    # background: one record a second at +0.6 s, book around the as-of trade price
    for t in range(et("08:50"), et("12:40"), NS):
        t = t + 600 * MS
        if in_window(t):
            continue
        j = np.searchsorted(ft, t, side="right") - 1
        p = fp[max(j, 0)]
        bid_sz = rng.integers(20, 61, 10)
        ask_sz = rng.integers(20, 61, 10)
        row = book.add(t, p - 0.25, p, bid_sz, ask_sz, nseq())
        k = len(book.rows)
        if k % 97 == 0:  # an empty deepest ask level
            row["ask_px_10"], row["ask_sz_10"] = bronze.EMPTY_LEVEL_PRICE, 0
    # exact duplicate copies of 150 background records in another file
    for r in book.rows[100:250]:
        book.rows.append({**r, "file": "dup"})

    # WALL window 09:57-10:01: ask 6847.25.. fixed; levels 4..10 (6848.00-6849.50) in the zone grow
    ask = np.array([30] * 3 + [100] * 7)
    bid = np.full(10, 40)
    for k, t in enumerate(range(et("09:57"), et("10:01"), 100 * MS)):
        ask[3 + k % 7] += 1
        if k % 20 == 19:
            ask[3 + (k // 20) % 7] -= 5
        book.add(t, 6847.0, 6847.25, bid, ask, nseq())
    # VACUUM window 10:57-11:01: bid 6792.75.. fixed; levels 4..10 (6792.00-6790.50) pulled to ~10
    bid = np.array([30] * 3 + [150] * 7)
    ask = np.full(10, 40)
    for k, t in enumerate(range(et("10:57"), et("11:01"), 100 * MS)):
        if k < 980:
            bid[3 + k % 7] -= 1
        if k % 100 == 99:
            bid[3 + (k // 100) % 7] += 3
        book.add(t, 6792.75, 6793.0, bid, ask, nseq())
    # CONSUMED window 11:57-12:01: bid 6792.75.. fixed, 3000 at 6791.00 (level 8); static until 12:00,
    # then 50 cycles of 1.2 s: -100 at 6791.00 with a 100-lot sell printed 1 ms before, +50 0.6 s later
    bid = np.array([30] * 3 + [150] * 7)
    bid[7] = 3000
    ask = np.full(10, 40)
    start = et("12:00")
    for t in range(et("11:57"), et("12:01"), 100 * MS):
        if t >= start:
            c, r = divmod((t - start) // (100 * MS), 12)
            if c < 50 and r == 0:
                bid[7] -= 100
                trade(t - MS, 6791.0, 100, -1)
            elif c < 50 and r == 6:
                bid[7] += 50
        book.add(t, 6792.75, 6793.0, bid, ask, nseq())
    trade(et("12:00:59"), 6791.25, 2, 1)  # close 6791.25 >= 6790: DOWN

    # bucket edges at 09:10:00 (no background record within 0.6 s of it)
    b = et("09:10")
    flat = np.full(10, 50)
    book.add(b - 1, 6837.0, 6837.25, [901] + [50] * 9, flat, 900_000)
    book.add(b, 6837.0, 6837.25, [902] + [50] * 9, flat, 900_001)
    book.add(b + 100 * MS, 6837.0, 6837.25, [904] + [50] * 9, flat, 900_003, file="a_edges")
    book.add(b + 100 * MS, 6837.0, 6837.25, [903] + [50] * 9, flat, 900_002, file="b_edges")
    # crossed record last in its bucket (09:20:00.000-.250): the earlier record is the snapshot
    c = et("09:20")
    book.add(c + 50 * MS, 6837.0, 6837.25, [911] + [50] * 9, flat, 900_010)
    book.add(c + 200 * MS, 6837.25, 6837.25, [912] + [50] * 9, flat, 900_011)
    # back-month record last in its bucket (09:25:00.000-.250)
    d = et("09:25")
    book.add(d + 50 * MS, 6837.0, 6837.25, [921] + [50] * 9, flat, 900_020)
    book.add(d + 200 * MS, 6857.0, 6857.25, [922] + [50] * 9, flat, 900_021, symbol=BACK)
    # an empty bid side (not crossed: kept, bid levels NULL) at 09:35:00.050
    book.add(et("09:35") + 50 * MS, None, 6838.25, flat, flat, 900_030)

    # ---- write --------------------------------------------------------------------------------
    trades = trades_table(tr["ts"], tr["price"], tr["size"], tr["seq"], symbol=tr["symbol"], aggressor=tr["aggressor"])
    bronze.write_table(trades, root, bronze.FUTURES_TRADES, "trades.parquet")
    for name, table in book.tables().items():
        bronze.write_table(table, root, bronze.FUTURES_MBP10, f"{name}.parquet")
    attest_quiet_hours(root)
    return {
        "trades": {k: np.array(v) for k, v in tr.items()},
        "book": book.rows,
        "edges": {"b": b, "c": c, "d": d},
        "planted": {
            ("WALL", et("10:00"), 0, "UP"),
            ("VACUUM", et("11:00"), 1, "DOWN"),
            ("CONSUMED", et("12:00"), 1, "DOWN"),
        },
    }


# ------------------------------------------------------------------------------------------ oracle inputs


def oracle_book(rows: list[dict], cut_ns: int | None = None) -> dict[str, np.ndarray]:
    """Front-month, non-crossed book rows as the oracle's arrays (SPY frame, NaN = empty level)."""
    keep = [r for r in rows if r["symbol"] == FRONT and (cut_ns is None or r["ts"] < cut_ns)]

    def side(s):
        px = np.array([[r[f"{s}_px_{i}"] for i in range(1, 11)] for r in keep], dtype=float)
        sz = np.array([[r[f"{s}_sz_{i}"] for i in range(1, 11)] for r in keep], dtype=float)
        empty = ~((sz > 0) & (px < 1e9))
        return np.where(empty, np.nan, px / RATIO), np.where(empty, np.nan, sz)

    bpx, bsz = side("bid")
    apx, asz = side("ask")
    crossed = ~np.isnan(apx[:, 0]) & ~np.isnan(bpx[:, 0]) & (apx[:, 0] <= bpx[:, 0])
    ok = ~crossed
    return {
        "ts": np.array([r["ts"] for r in keep], dtype=np.int64)[ok],
        "seq": np.array([r["seq"] for r in keep], dtype=np.int64)[ok],
        "bid_px": bpx[ok],
        "bid_sz": bsz[ok],
        "ask_px": apx[ok],
        "ask_sz": asz[ok],
    }


def oracle_trades(tr: dict, cut_ns: int | None = None) -> dict[str, np.ndarray]:
    m = tr["symbol"] == FRONT
    if cut_ns is not None:
        m &= tr["ts"] < cut_ns
    o = np.lexsort((tr["seq"][m], tr["ts"][m]))
    return {k: tr[k][m][o] for k in ("ts", "price", "size", "aggressor", "seq")}


BARRIER_COLS = [
    "barrier_state",
    "barrier_delta_liq",
    "barrier_replenishment_ratio",
    "depth_in_zone",
    "wall_ratio",
    "barrier_added",
    "barrier_canceled",
    "barrier_filled",
    "barrier_n_snapshots",
    "barrier_mean_level_size",
]
TAPE_COLS = ["tape_buy_vol", "tape_sell_vol", "tape_imbalance", "tape_velocity", "sweep_detected", "tape_n_prints"]


def physics_rows(run: RunResult) -> dict[str, dict]:
    cols = ", ".join(
        [
            "e.event_id",
            "e.ts_ns",
            "e.available_ts_ns",
            "e.level_kind",
            "e.level_kind_name",
            "e.direction",
            "e.level_price",
        ]
        + [f"b.{c}" for c in BARRIER_COLS]
        + [f"t.{c}" for c in TAPE_COLS]
    )
    rows = run.query(
        f"""select {cols}
        from intermediate.int_touches__detected e
        left join intermediate.int_physics__barrier b using (event_id)
        left join intermediate.int_physics__tape t using (event_id)
        order by e.ts_ns, e.level_kind"""
    )
    names = (
        ["event_id", "ts_ns", "t_dec", "level_kind", "level_kind_name", "direction", "level_price"]
        + BARRIER_COLS
        + TAPE_COLS
    )
    return {r[0]: dict(zip(names, r)) for r in rows}


# ------------------------------------------------------------------------------------------ fixtures


def _run(tmp: Path, bronze_root: Path, name: str, date: str = DATE) -> RunResult:
    work = tmp / name
    work.mkdir()
    db = work / "warehouse.duckdb"
    proc = run_breakbounce(
        "run",
        "--date",
        date,
        "--bronze",
        str(bronze_root),
        "--gold",
        str(work / "gold"),
        "--db",
        str(db),
        "--target-path",
        str(work / "dbt"),
    )
    return RunResult(proc.returncode, proc.stdout, proc.stderr, db, work / "gold")


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("barrier")
    root = tmp / "bronze"
    data = build_session(root)
    run = _run(tmp, root, "full")
    assert run.returncode == 0, run.stderr[-3000:]
    return {"tmp": tmp, "root": root, "data": data, "run": run, "rows": physics_rows(run)}


CUT = et("10:59:30")


@pytest.fixture(scope="module")
def truncated(day):
    tmp = day["tmp"]
    root = tmp / "bronze_cut"
    truncate_bronze(day["root"], root, CUT)
    run = _run(tmp, root, "cut")
    assert run.returncode == 0, run.stderr[-3000:]
    return {"run": run, "rows": physics_rows(run)}


# ------------------------------------------------------------------------------------------ tests


def test_snapshots_match_numpy_reduction(day):
    """Every 250 ms snapshot equals the (ts, seq)-last front-month non-crossed record of its bucket."""
    ob = oracle_book(day["data"]["book"])
    lo = SESSION.rth_open_ns + 60 * NS - 1800 * NS - 240 * NS
    m = (ob["ts"] >= lo) & (ob["ts"] < SESSION.rth_close_ns)
    idx = np.flatnonzero(m)[oracle_barrier._last_per_bucket(ob["ts"][m], ob["seq"][m], 250_000_000)]
    got = day["run"].query(
        "select bucket_start_ns, snapshot_ts_ns, seq, bid_px_e9_1, bid_sz_1, ask_px_e9_10, ask_sz_10, "
        "level_size_sum, level_count from intermediate.int_book__snapshots_250ms "
        "order by bucket_start_ns"
    )
    assert len(got) == idx.size
    ts = np.array([g[1] for g in got])
    np.testing.assert_array_equal(ts, ob["ts"][idx])
    np.testing.assert_array_equal([g[0] for g in got], ob["ts"][idx] // 250_000_000 * 250_000_000)
    np.testing.assert_array_equal([g[2] for g in got], ob["seq"][idx])
    bid1 = np.array([np.nan if g[3] is None else g[3] / 1e10 for g in got])
    np.testing.assert_allclose(bid1, ob["bid_px"][idx, 0], rtol=0, atol=1e-12)
    ask10 = np.array([np.nan if g[6] is None else g[6] for g in got], dtype=float)
    np.testing.assert_array_equal(ask10, ob["ask_sz"][idx, 9])
    sizes = np.concatenate([ob["bid_sz"][idx], ob["ask_sz"][idx]], axis=1)
    np.testing.assert_array_equal([g[7] for g in got], np.nansum(sizes, axis=1))
    np.testing.assert_array_equal([g[8] for g in got], (~np.isnan(sizes)).sum(axis=1))


def test_snapshot_bucket_edges_and_ties(day):
    e = day["data"]["edges"]
    q = (
        "select bucket_start_ns, snapshot_ts_ns, seq, bid_sz_1 from intermediate.int_book__snapshots_250ms "
        "where bucket_start_ns between ? and ? order by bucket_start_ns"
    )
    b = e["b"]
    # the record 1 ns before the boundary closes the earlier bucket; the one exactly on it opens the
    # later bucket but loses to the two records at +100 ms, whose tie goes to the larger seq even
    # though its file is read first
    assert day["run"].query(q, [b - 250 * MS, b]) == [
        (b - 250 * MS, b - 1, 900_000, 901),
        (b, b + 100 * MS, 900_003, 904),
    ]
    c, d = e["c"], e["d"]
    assert day["run"].query(q, [c, c]) == [(c, c + 50 * MS, 900_010, 911)]  # crossed record excluded
    assert day["run"].query(q, [d, d]) == [(d, d + 50 * MS, 900_020, 921)]  # back-month record excluded
    empty = day["run"].query(
        "select bid_px_e9_1, bid_sz_1, bid_px_e9_10, ask_px_e9_1, level_count from intermediate.int_book__snapshots_250ms "
        "where seq = 900030"
    )
    assert empty == [(None, None, None, 6_838_250_000_000, 10)]


class _ViewRun:
    """Queries of the warehouse's views, which read Bronze through the plugin's bb_* variables."""

    def __init__(self, db: Path, root: Path):
        self.db, self.root = db, root

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        import duckdb

        from breakbounce.plan import plan_run
        from breakbounce.warehouse import variable_statements

        con = duckdb.connect(str(self.db), read_only=True)
        try:
            for stmt in variable_statements(plan_run(DATE, self.root), str(self.root / "gold")):
                con.execute(stmt)
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def test_staging_view_semantics(day):
    """stg_bronze__es_mbp10 (rewritten on the shared macro): front month, window, crossed, dedup, NULLs."""
    run = _ViewRun(day["run"].db, day["root"])
    rows = day["data"]["book"]
    lo, hi = SESSION.rth_open_ns - 3600 * NS, SESSION.rth_close_ns
    ob = oracle_book(rows)
    m = (ob["ts"] >= lo) & (ob["ts"] < hi)
    _, first = np.unique(np.stack([ob["ts"], ob["seq"]]), axis=1, return_index=True)
    m &= np.isin(np.arange(ob["ts"].size), first)  # one copy per record
    distinct = int(m.sum())
    assert run.query("select count(*), count(distinct (ts_event_ns, seq)) from staging.stg_bronze__es_mbp10") == [
        (distinct, distinct)
    ]
    assert run.query("select count(*) from staging.stg_bronze__es_mbp10 where seq in (900011, 900021)") == [(0,)]
    assert run.query(
        "select contract, bid_px_1, bid_sz_1, ask_px_1 from staging.stg_bronze__es_mbp10 where seq = 900030"
    ) == [(FRONT, None, None, 6838.25)]
    assert run.query(
        "select count(*) from staging.stg_bronze__es_mbp10 where ask_px_10 is null and ask_sz_10 is null"
    ) == [(int(np.isnan(ob["ask_px"][m, 9]).sum()),)]


def test_every_event_matches_the_oracles(day):
    """Barrier and tape columns of every event equal barrier_metrics / tape_metrics on the raw records."""
    ob = oracle_book(day["data"]["book"])
    ot = oracle_trades(day["data"]["trades"])
    rows = day["rows"]
    assert len(rows) >= 10
    for ev in rows.values():
        want = oracle_barrier.barrier_metrics(
            ob["ts"],
            ob["bid_px"],
            ob["bid_sz"],
            ob["ask_px"],
            ob["ask_sz"],
            ot["ts"],
            ot["price"] / RATIO,
            ot["size"],
            ot["aggressor"],
            ev["level_price"],
            ev["direction"],
            ev["t_dec"],
            book_seq=ob["seq"],
        )
        assert ev["barrier_state"] == want["barrier_state"], ev
        for col, key in [
            ("barrier_delta_liq", "barrier_delta_liq"),
            ("barrier_replenishment_ratio", "barrier_replenishment_ratio"),
            ("depth_in_zone", "depth_in_zone"),
            ("wall_ratio", "wall_ratio"),
            ("barrier_added", "added"),
            ("barrier_canceled", "canceled"),
            ("barrier_filled", "filled"),
            ("barrier_n_snapshots", "n_snapshots"),
        ]:
            assert ev[col] == pytest.approx(want[key], rel=1e-12, abs=1e-9), (col, ev)
        tw = oracle_tape.tape_metrics(
            ot["ts"],
            ot["price"] / RATIO,
            ot["size"],
            ot["aggressor"],
            ev["level_price"],
            ev["ts_ns"],
            ev["t_dec"],
            seq=ot["seq"],
        )
        for col in ("tape_buy_vol", "tape_sell_vol", "sweep_detected"):
            assert ev[col] == tw[col], (col, ev)
        assert ev["tape_imbalance"] == pytest.approx(tw["tape_imbalance"], rel=1e-12, abs=1e-15)
        assert ev["tape_velocity"] == pytest.approx(tw["tape_velocity"], rel=1e-9, abs=1e-12)


def test_planted_book_states(day):
    rows = day["rows"]
    found = {}
    for ev in rows.values():
        for state, t0, kind, direction in day["data"]["planted"]:
            if (ev["ts_ns"], ev["level_kind"], ev["direction"]) == (t0, kind, direction):
                found[state] = ev
    assert set(found) == {"WALL", "VACUUM", "CONSUMED"}
    for state, ev in found.items():
        assert ev["barrier_state"] == state, ev
        assert ev["barrier_n_snapshots"] == 960
    wall, vac, con = found["WALL"], found["VACUUM"], found["CONSUMED"]
    assert wall["barrier_replenishment_ratio"] > 1.5 and wall["barrier_delta_liq"] > 100
    assert wall["wall_ratio"] > 10  # ~2500 contracts in the zone vs ~40 per level over the last 30 min
    assert vac["barrier_replenishment_ratio"] < 0.3 and vac["barrier_delta_liq"] < -100
    assert vac["barrier_filled"] == 0 and vac["depth_in_zone"] == 7 * 150 - 980 + 24 * 3
    # 50 falls of 100, each filled by a 100-lot sell at 6791.00; 50 rises of 50
    assert (con["barrier_filled"], con["barrier_canceled"], con["barrier_added"]) == (5000, 0, 2500)
    assert con["barrier_delta_liq"] == -2500.0


def test_columns_are_typed_and_complete(day):
    run = day["run"]
    n_events = run.query("select count(*) from intermediate.int_touches__detected")[0][0]
    assert run.query(
        "select count(*), count(distinct event_id), count(barrier_state) from intermediate.int_physics__barrier"
    ) == [(n_events, n_events, n_events)]
    types = dict(
        run.query(
            "select column_name, data_type from information_schema.columns where table_name = 'int_physics__barrier'"
        )
    )
    assert types["barrier_state"] == "VARCHAR" and types["barrier_delta_liq"] == "DOUBLE"
    assert types["depth_in_zone"] == "BIGINT" and types["wall_ratio"] == "DOUBLE"


def test_point_in_time(day, truncated):
    """Bronze cut at X: every barrier/tape column of every event with t_dec <= X is unchanged."""
    full, cut = day["rows"], truncated["rows"]
    early = [k for k, v in full.items() if v["t_dec"] <= CUT]
    assert len(early) >= 5
    assert any(full[k]["barrier_n_snapshots"] == 960 for k in early)
    for k in early:
        assert k in cut
        for col in BARRIER_COLS + TAPE_COLS:
            assert cut[k][col] == full[k][col], (col, full[k], cut[k])
    # and the snapshots before the cut are the same rows
    q = "select * from intermediate.int_book__snapshots_250ms where snapshot_ts_ns < ? order by bucket_start_ns"
    assert day["run"].query(q, [CUT]) == truncated["run"].query(q, [CUT])


# ------------------------------------------------------------------------------------------ generator


def test_generator_book_plants(tmp_path_factory):
    """Planted ask walls / bid vacuums of the synthetic generator show in wall_ratio (and state)."""
    tmp = tmp_path_factory.mktemp("gen")
    root = tmp / "bronze"
    proc = run_breakbounce(
        "generate", "--start-date", DATE, "--end-date", DATE, "--out", str(root), "--seed", "7", "--scale", "test"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    truth = json.loads((root / "_truth" / f"date={DATE}" / "truth.json").read_text())
    plants = truth.get("book_plants") or []
    assert plants, "the generator planted no book events"
    run = _run(tmp, root, "gen")
    assert run.returncode == 0, run.stderr[-3000:]
    rows = physics_rows(run)
    by_key = {
        (r["ts_ns"], k, r["direction"]): r for r in rows.values() for k in (r["level_kind"], r["level_kind_name"])
    }
    truth_events = {e["id"]: e for e in truth["events"]}
    checked = 0
    for p in plants:
        te = truth_events.get(p["event_id"])
        if te is None:
            continue
        ev = by_key.get((te["t0_ns"], te["level_kind"], te["direction"]))
        if ev is None:
            continue
        others = [
            r["wall_ratio"]
            for r in rows.values()
            if r["event_id"] != ev["event_id"] and r["direction"] == ev["direction"] and r["barrier_n_snapshots"] >= 2
        ]
        median = float(np.median(others)) if others else 1.0
        if p["kind"] == "wall":
            assert ev["wall_ratio"] > 2 * median, (p, ev, median)
            assert ev["barrier_state"] not in ("VACUUM", "WEAK"), (p, ev)
        else:
            assert ev["wall_ratio"] < 0.5 * median, (p, ev, median)
            assert ev["barrier_state"] != "WALL", (p, ev)
        checked += 1
    assert checked >= 1
