"""Tape physics end to end (SPEC §7.1) on a trades-only day (no MBP-10 at all), against the numpy
oracle tests/oracles/tape.py tape_metrics, plus what a missing MBP-10 does to the barrier (NULL columns,
empty snapshot table, the run succeeds). One `breakbounce run`.

Planted UP touches of PM_HIGH 6850 (the bar trades 6848.75-6849.50, closing below 6850), each with a
burst of same-side prints inside the bar:
  10:00  buys at 3 prices, 60 contracts, 50 ms apart                  -> sweep
  10:30  the same with 49 contracts                                   -> no sweep (< 50)
  11:00  3 prices, 60 contracts, gaps of exactly 100 ms               -> sweep (100 ms continues a run)
  11:30  gaps 100 ms and 100 ms + 1 ns                                -> no sweep (the run breaks)
  12:00  3 buy prices, 60 contracts, a sell print in the middle      -> no sweep (side change)
  12:30  one aggressive buy as a venue reports it: 4 fills at one ts_event_ns, one per price level
         lifted (6848.75 .. 6849.50), sizes as displayed (14 + 22 + 9 + 31 = 76)  -> sweep
"""

from __future__ import annotations

import numpy as np
import pytest

from breakbounce import bronze, calendar
from tests.oracles import tape as oracle_tape

from .bronze_builders import attest_quiet_hours, trades_table
from .conftest import RunResult, run_breakbounce

DATE = "2025-12-16"
NS = 1_000_000_000
MS = 1_000_000
RATIO = 10.0
SESSION = calendar.session(DATE)


def et(clock: str) -> int:
    hh, mm, *rest = clock.split(":")
    sec = float(rest[0]) if rest else 0.0
    return SESSION.rth_open_ns + ((int(hh) * 60 + int(mm)) - 570) * 60 * NS + int(round(sec * 1000)) * MS


# (bar, [(offset ns from bar start + 22 s, price, size, side)], sweep expected)
BURSTS = {
    "10:00": (
        [(0, 6848.75, 15, 1), (50 * MS, 6849.0, 15, 1), (100 * MS, 6849.25, 15, 1), (150 * MS, 6849.25, 15, 1)],
        True,
    ),
    "10:30": (
        [(0, 6848.75, 13, 1), (50 * MS, 6849.0, 12, 1), (100 * MS, 6849.25, 12, 1), (150 * MS, 6849.25, 12, 1)],
        False,
    ),
    "11:00": ([(0, 6848.75, 20, 1), (100 * MS, 6849.0, 20, 1), (200 * MS, 6849.25, 20, 1)], True),
    "11:30": ([(0, 6848.75, 20, 1), (100 * MS, 6849.0, 20, 1), (200 * MS + 1, 6849.25, 20, 1)], False),
    "12:00": (
        [(0, 6848.75, 20, 1), (50 * MS, 6849.0, 20, 1), (70 * MS, 6849.0, 1, -1), (100 * MS, 6849.25, 20, 1)],
        False,
    ),
    "12:30": ([(0, 6848.75, 14, 1), (0, 6849.0, 22, 1), (0, 6849.25, 9, 1), (0, 6849.5, 31, 1)], True),
}


def build_tape(root) -> dict[str, np.ndarray]:
    tr = {"ts": [], "price": [], "size": [], "aggressor": [], "seq": []}

    def trade(ts, price, size, side):
        tr["ts"].append(int(ts))
        tr["price"].append(float(price))
        tr["size"].append(int(size))
        tr["aggressor"].append(int(side))
        tr["seq"].append(len(tr["seq"]) + 1)

    for k, t in enumerate(range(et("04:00"), et("09:30"), 60 * NS)):  # PM high 6850 at 07:00
        trade(t + 3 * NS, 6850.0 if t == et("07:00") else 6820.0 + (k % 9), 1 + k % 3, 1 if k % 2 else -1)
    bars = {et(b) for b in BURSTS}
    for k, t in enumerate(range(et("09:30"), et("12:40"), 5 * NS)):
        bar = t // (60 * NS) * (60 * NS)
        if bar in bars:
            # the planted bar drifts up 6848.75 -> 6849.50 (velocity > 0), closes at 6849.25
            i = (t - bar) // (5 * NS)
            price = 6849.25 if i == 11 else 6848.75 + 0.25 * (i % 4)
        else:
            # elsewhere 6836..6842, a slow zig-zag: never near 6850
            price = 6839.0 + 0.25 * ((k % 25) - 12) * (1 if (k // 25) % 2 else -1) / 2
            price = round(price * 4) / 4
        trade(t, price, 1 + k % 5, (1, -1, 0, -1, 1)[k % 5])
    for bar, (burst, _) in BURSTS.items():
        for off, price, size, side in burst:
            trade(et(bar) + 22 * NS + off, price, size, side)
    table = trades_table(tr["ts"], tr["price"], tr["size"], tr["seq"], symbol="ESH6", aggressor=tr["aggressor"])
    bronze.write_table(table, root, bronze.FUTURES_TRADES, "trades.parquet")
    attest_quiet_hours(root)
    out = {k: np.array(v) for k, v in tr.items()}
    o = np.lexsort((out["seq"], out["ts"]))
    return {k: v[o] for k, v in out.items()}


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tape")
    root = tmp / "bronze"
    trades = build_tape(root)
    work = tmp / "run"
    work.mkdir()
    proc = run_breakbounce(
        "run",
        "--date",
        DATE,
        "--bronze",
        str(root),
        "--gold",
        str(work / "gold"),
        "--db",
        str(work / "warehouse.duckdb"),
        "--target-path",
        str(work / "dbt"),
    )
    run = RunResult(proc.returncode, proc.stdout, proc.stderr, work / "warehouse.duckdb", work / "gold")
    assert run.returncode == 0, run.stderr[-3000:]
    rows = run.query(
        """select e.event_id, e.ts_ns, e.available_ts_ns, e.level_kind, e.direction, e.level_price,
                  t.tape_buy_vol, t.tape_sell_vol, t.tape_imbalance, t.tape_velocity, t.sweep_detected, t.tape_n_prints
           from intermediate.int_touches__detected e left join intermediate.int_physics__tape t using (event_id)
           order by e.ts_ns, e.level_kind"""
    )
    names = [
        "event_id",
        "ts_ns",
        "t_dec",
        "level_kind",
        "direction",
        "level_price",
        "tape_buy_vol",
        "tape_sell_vol",
        "tape_imbalance",
        "tape_velocity",
        "sweep_detected",
        "tape_n_prints",
    ]
    return {"root": root, "work": work, "run": run, "trades": trades, "rows": [dict(zip(names, r)) for r in rows]}


def test_every_event_matches_the_oracle(day):
    tr = day["trades"]
    assert len(day["rows"]) >= len(BURSTS)
    for ev in day["rows"]:
        want = oracle_tape.tape_metrics(
            tr["ts"],
            tr["price"] / RATIO,
            tr["size"],
            tr["aggressor"],
            ev["level_price"],
            ev["ts_ns"],
            ev["t_dec"],
            seq=tr["seq"],
        )
        for col in ("tape_buy_vol", "tape_sell_vol", "sweep_detected"):
            assert ev[col] == want[col], (col, ev, want)
        assert ev["tape_imbalance"] == pytest.approx(want["tape_imbalance"], rel=1e-12, abs=1e-15)
        assert ev["tape_velocity"] == pytest.approx(want["tape_velocity"], rel=1e-9, abs=1e-12)
        inside = (tr["ts"] >= ev["ts_ns"]) & (tr["ts"] < ev["t_dec"])
        assert ev["tape_n_prints"] == int(inside.sum())


def test_planted_sweeps(day):
    by_t0 = {(ev["ts_ns"], ev["level_kind"]): ev for ev in day["rows"]}
    for bar, (_, expected) in BURSTS.items():
        ev = by_t0.get((et(bar), 0))  # PM_HIGH
        assert ev is not None and ev["direction"] == "UP", bar
        assert ev["sweep_detected"] is expected, (bar, ev)


def test_velocity_is_the_numpy_ols_slope(day):
    tr = day["trades"]
    ev = next(e for e in day["rows"] if e["ts_ns"] == et("10:00") and e["level_kind"] == 0)
    m = (tr["ts"] >= ev["ts_ns"]) & (tr["ts"] < ev["t_dec"])
    slope = np.polyfit((tr["ts"][m] - ev["ts_ns"]) / 1e9, tr["price"][m] / RATIO, 1)[0]
    assert ev["tape_velocity"] > 0
    assert ev["tape_velocity"] == pytest.approx(slope, rel=1e-9)
    # volumes in the +/- $0.50 band (5 ES points): every print of that bar is within it
    assert ev["tape_buy_vol"] == int(tr["size"][m & (tr["aggressor"] == 1)].sum())
    assert ev["tape_sell_vol"] == int(tr["size"][m & (tr["aggressor"] == -1)].sum())


def test_velocity_is_deterministic_across_threads(day):
    """The compiled tape SQL gives bit-identical velocities with 1 and 2 threads (exact integer sums)."""
    import duckdb

    import python_udfs
    from breakbounce.plan import plan_run
    from breakbounce.warehouse import variable_statements

    sql = next((day["work"] / "dbt" / "compiled").rglob("int_physics__tape.sql")).read_text()
    stored = dict(day["run"].query("select event_id, tape_velocity from intermediate.int_physics__tape"))
    con = duckdb.connect(str(day["run"].db), read_only=True)
    try:
        python_udfs.register(con)
        for stmt in variable_statements(plan_run(DATE, day["root"]), str(day["work"] / "gold")):
            con.execute(stmt)
        for threads in (1, 2):
            con.execute(f"set threads = {threads}")
            got = dict((r[0], r[1]) for r in con.execute(f"select event_id, tape_velocity from ({sql})").fetchall())
            assert got == stored
    finally:
        con.close()


def test_missing_mbp10_gives_null_barrier(day):
    run = day["run"]
    n = run.query("select count(*) from intermediate.int_touches__detected")[0][0]
    assert n >= len(BURSTS)
    assert run.query("select count(*) from intermediate.int_book__snapshots_250ms") == [(0,)]
    assert run.query(
        """select count(*), count(barrier_state), count(barrier_delta_liq), count(barrier_replenishment_ratio),
                  count(depth_in_zone), count(wall_ratio), count(barrier_added), count(barrier_n_snapshots)
           from intermediate.int_physics__barrier"""
    ) == [(n, 0, 0, 0, 0, 0, 0, 0)]
