"""The bb_* DuckDB UDFs: registration, SQL results against the numpy functions, NULL handling."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from python_udfs import barrier, fuel, registry
from python_udfs import black_scholes as bs

T1 = 1.0 / 252.0  # one full 0DTE session in trading years
ROWS = [  # spot, strike, t_years, vol, rate, is_call, price
    (685.0, 685.0, T1, 0.20, 0.045, True, 3.75),
    (685.0, 690.0, T1 / 2, 0.15, 0.045, False, 5.40),
    (684.3, 680.0, 300 / bs.TRADING_SECONDS_PER_YEAR, 0.30, 0.045, True, 4.35),
    (684.3, 700.0, 0.0, 0.20, 0.045, False, 15.70),  # expired
    (-1.0, 685.0, T1, 0.20, 0.045, True, 1.00),  # invalid spot
    (None, 685.0, T1, 0.20, 0.045, True, 1.00),
    (685.0, 685.0, T1, 0.20, 0.045, None, 1.00),
    (685.0, 685.0, T1, None, 0.045, True, None),
]


@pytest.fixture()
def con():
    c = duckdb.connect()
    registry.register_all(c)
    c.execute(
        "create table o (spot double, strike double, t double, vol double, rate double, is_call boolean, price double)"
    )
    c.executemany("insert into o values (?, ?, ?, ?, ?, ?, ?)", ROWS)
    yield c
    c.close()


def _np_expected(fn, cols, *, nan_is_null=True):
    """Apply fn row-wise semantics of the UDF: None if any input is None (or the result is NaN)."""
    out = []
    for row in cols:
        if any(v is None for v in row):
            out.append(None)
            continue
        v = fn(*row)
        v = v.item() if isinstance(v, np.ndarray) else v
        out.append(None if (nan_is_null and isinstance(v, float) and np.isnan(v)) else v)
    return out


def _close(actual, expected, tol=1e-12):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        if e is None or a is None:
            assert a is None and e is None, (a, e)
        elif isinstance(e, str):
            assert a == e
        else:
            assert a == pytest.approx(e, rel=tol, abs=tol)


def test_registering_twice_is_fine_and_all_names_exist(con):
    registry.register_all(con)
    import python_udfs

    python_udfs.register(con)
    names = {
        r[0]
        for r in con.execute("select function_name from duckdb_functions() where function_name like 'bb_%'").fetchall()
    }
    assert set(registry.UDF_NAMES) <= names


def test_black_scholes_udfs_match_numpy(con):
    got = [r[0] for r in con.execute("select bb_bs_gamma(spot, strike, t, vol, rate) from o order by rowid").fetchall()]
    _close(got, _np_expected(bs.bs_gamma, [r[:5] for r in ROWS]))
    assert got[3] == 0.0 and got[4] is None  # expired → 0; invalid spot → NULL
    got = [
        r[0]
        for r in con.execute("select bb_dealer_gamma(-25, spot, strike, t, vol, rate) from o order by rowid").fetchall()
    ]
    _close(got, _np_expected(lambda *a: fuel.dealer_gamma(-25, *a), [r[:5] for r in ROWS]))


def test_implied_vol_udfs(con):
    inputs = [(r[6], *r[:3], r[4], r[5]) for r in ROWS]
    raw = [
        r[0]
        for r in con.execute(
            "select bb_implied_vol_raw(price, spot, strike, t, rate, is_call) from o order by rowid"
        ).fetchall()
    ]
    _close(raw, _np_expected(bs.implied_vol_raw, inputs), tol=1e-9)
    assert all(v is not None for v in raw[:3])
    assert raw[3] is None  # expired: unsolvable → NULL
    assert raw[4] is None  # invalid spot
    assert raw[5:] == [None, None, None]  # NULL inputs → NULL
    # round trip: the solved vols price the options back
    spot, strike, t, rate, is_call = (np.array([r[i] for r in ROWS[:3]]) for i in (0, 1, 2, 4, 5))
    back = bs.bs_price(spot, strike, t, np.array(raw[:3]), rate, is_call)
    assert list(back) == pytest.approx([r[6] for r in ROWS[:3]], abs=1e-8)


def test_every_udf_is_called_by_the_project_sql():
    """No dead UDF: each registered function is called by a model, macro or test of the dbt project."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sql = "\n".join(p.read_text() for d in ("models", "macros", "tests/dbt") for p in (root / d).rglob("*.sql"))
    assert [name for name in registry.UDF_NAMES if f"{name}(" not in sql] == []


def test_barrier_state_udf(con):
    t = barrier.BarrierThresholds(0.3, 1.5, 1.0, 1.0, 0.5, 0.5, 1.0)
    rows = [  # added, canceled, filled, depth, n_snapshots, size sum, level count (s = 100)
        (0, 300, 10, 500, 5, 1000, 10),
        (150, 0, 0, 500, 5, 1000, 10),
        (200, 100, 400, 500, 5, 1000, 10),
        (220, 100, 100, 10, 5, 1000, 10),
        (40, 20, 20, 10, 5, 1000, 10),
        (0, 300, 10, 500, 1, 1000, 10),
        (0, None, 10, 500, 5, 1000, 10),
        (0, 300, 10, 500, None, 1000, 10),
    ]
    con.execute("create table b (a bigint, c bigint, f bigint, dep bigint, n bigint, s bigint, l bigint)")
    con.executemany("insert into b values (?, ?, ?, ?, ?, ?, ?)", rows)
    args = ", ".join(f"{x}::double" for x in t.as_tuple())
    got = [
        r[0]
        for r in con.execute(f"select bb_barrier_state(a, c, f, dep, n, s, l, {args}) from b order by rowid").fetchall()
    ]
    assert got == ["VACUUM", "WALL", "CONSUMED", "ABSORPTION", "WEAK", "NEUTRAL", None, None]
    _close(got, _np_expected(lambda *a: str(barrier.barrier_state(*a, *t.as_tuple())), rows))
    # the compiled model's call: literal thresholds, integer counts
    assert con.execute(f"select bb_barrier_state(0, 200, 0, 10, 3, 1000, 10, {args})").fetchone()[0] == "VACUUM"


def test_fuel_effect_udf(con):
    got = con.execute(
        "select bb_fuel_effect(e, n, 10, 10, 1.0, 10) from (values (1, -11, 10), (2, 11, 10), (3, 0, 10), (4, -11, 9), "
        "(5, NULL, 10)) v(i, e, n) order by i"
    ).fetchall()
    assert [g[0] for g in got] == ["AMPLIFY", "DAMPEN", "NEUTRAL", "NEUTRAL", None]


def test_large_query_runs_in_chunks(con):
    total = con.execute(
        "select sum(bb_bs_gamma(680 + (range % 100) / 10.0, 685.0, ((range % 1000) + 1) / 1000.0 / 252, 0.2, 0.045)) "
        "from range(200000)"
    ).fetchone()[0]
    i = np.arange(200_000)
    expected = bs.bs_gamma(680 + (i % 100) / 10.0, 685.0, ((i % 1000) + 1) / 1000.0 / 252, 0.2, 0.045).sum()
    assert total == pytest.approx(expected, rel=1e-10)


def test_udfs_do_not_load_pandas_or_pyarrow_compute():
    """Loading either costs 0.3-0.4 s on a run's first UDF call (pa.array() imports pandas when it
    is installed): the wrappers build Arrow arrays from buffers instead."""
    import subprocess
    import sys

    code = (
        "import sys, duckdb, python_udfs\n"
        "con = duckdb.connect(); python_udfs.register(con)\n"
        'con.execute("select bb_fuel_effect(x::bigint, 20, 1, 1, 1.0, 10), bb_bs_gamma(680, 680, 0.001, x, 0.045), '
        'bb_implied_vol_raw(1.0, 680, 680, 0.001, 0.045, x > 0) from (values (null::double), (0.2)) t(x)").fetchall()\n'
        "print(sorted(m for m in ('pandas', 'pyarrow.compute') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
