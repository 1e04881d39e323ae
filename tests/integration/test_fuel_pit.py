"""Fuel physics on a random session: an independent plain-Python re-statement of SPEC §7.3 (parity
pairs and basis grid, greeks per print, dealer gamma per contract and minute, gamma_exposure, walls,
dealer-flow windows) computed by scanning the prints, compared with the SQL models (which use ASOF
joins, running sums and exact integer totals); and a point-in-time check: the run on Bronze truncated
at a cut time X gives identical fuel columns, basis and walls for everything decided at or before X.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from breakbounce import bronze, calendar, params
from python_udfs import black_scholes as bs

from .bronze_builders import attest_quiet_hours, truncate_bronze
from .test_fuel import FUEL_COLUMNS, MIN, NS, es_table, et, expected_fuel_effect, option_table, query, run_date

#: every test here reads a module build of > 10 s (pytest -m "not slow" leaves them out)
pytestmark = pytest.mark.slow

DATE = "2025-12-18"
RATE = float(params.var("fuel_rate"))
DEFAULT_IV = float(params.var("fuel_default_iv"))
RATIO = 10.0
PLANTED_BASIS = 3.0
CUT = "12:10:20"


def random_bronze(root, seed: int = 20251218):
    """Random-walk ES (SPY frame ~$600) and ~5,000 0DTE prints around the real spot (frame - $3), with
    frequent call/put prints at one strike close in time (parity pairs), same-timestamp prints and prints
    after the close. Every Bronze aggressor is +1/-1, so staging keeps it (no tick rule involved)."""
    rng = np.random.default_rng(seed)
    s = calendar.session(DATE)
    es_ts = np.concatenate(
        [
            np.arange(s.globex_open_ns + 7 * NS, s.rth_open_ns, 5 * MIN),
            np.arange(s.rth_open_ns + 1 * NS, s.rth_close_ns, 3 * NS),
            np.arange(s.rth_close_ns, s.globex_close_ns - MIN, 5 * MIN),
        ]
    )
    steps = rng.choice([-1, 0, 0, 1], len(es_ts)) * 0.25
    es_px = 6000.0 + np.cumsum(steps)
    bronze.write_table(es_table(es_ts, es_px), root, bronze.FUTURES_TRADES, "tape.parquet")
    attest_quiet_hours(root)

    def es_frame_at(t):  # last ES print <= t, SPY frame
        i = np.searchsorted(es_ts, t, side="right") - 1
        return es_px[max(i, 0)] / RATIO

    rows = []
    t = s.rth_open_ns + 20 * NS
    end = s.rth_close_ns + 10 * MIN
    while t < end:
        spot = es_frame_at(t) - PLANTED_BASIS
        k = float(round(spot + rng.laplace(0, 2.0)))
        right = "C" if rng.random() < 0.5 else "P"
        tau = max(s.rth_close_ns - t, 0) / 1e9 / bs.TRADING_SECONDS_PER_YEAR
        vol = 0.15 + 0.02 * abs(k - spot)

        def price(r, spot=spot, k=k, tau=tau, vol=vol):
            # priced with r = 0, so C - P + K = spot exactly before the noise (no carry term)
            theo = float(bs.bs_price(spot, k, tau, vol, 0.0, r == "C"))
            return max(round(theo + rng.uniform(-0.02, 0.02), 2), 0.01)

        aggr = 1 if rng.random() < 0.55 else -1
        rows.append((t, k, right, price(right), int(rng.integers(1, 30)), aggr))
        u = rng.random()
        if u < 0.35:  # the opposite right at the same strike shortly after (or at the same ns)
            dt = 0 if u < 0.05 else int(rng.integers(1, 40)) * NS
            other = "P" if right == "C" else "C"
            rows.append((t + dt, k, other, price(other), int(rng.integers(1, 30)), -aggr))
        elif u < 0.40:  # a second print of the same contract at the same timestamp
            rows.append((t, k, right, price(right), int(rng.integers(1, 30)), aggr))
        t += int(rng.exponential(4.5) * NS) + 1
    rows.sort(key=lambda r: r[0])
    bronze.write_table(option_table(DATE, rows), root, bronze.OPTION_TRADES, "opts.parquet", trading_date=DATE)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("bronze-fuel-random")
    random_bronze(root)
    cut_root = tmp_path_factory.mktemp("bronze-fuel-cut")
    cut = et(DATE, CUT)
    truncate_bronze(root, cut_root, cut)
    work = tmp_path_factory.mktemp("run-fuel-random")
    full, _ = run_date(root, work / "full", DATE)
    part, _ = run_date(cut_root, work / "cut", DATE)
    return full, part, cut


# --- the independent reference -------------------------------------------------------------------


class Reference:
    """SPEC §7.3 restated by scanning the staged prints (from the warehouse) and the ES tape."""

    def __init__(self, db):
        s = calendar.session(DATE)
        self.open, self.close = s.rth_open_ns, s.rth_close_ns
        es = query(
            db,
            "select ts_event_ns, seq, price_e9 from staging.stg_bronze__es_trades "
            "where session_date = ? and is_front_month order by ts_event_ns, seq",
            [DATE],
        )
        self.es_ts = np.array([r[0] for r in es], dtype=np.int64)
        self.es_spot = [r[2] / 1e9 / RATIO for r in es]
        self.prints = query(
            db,
            "select ts_event_ns, seq, strike, option_right, price, size, aggressor "
            "from intermediate.int_options__trades_as_of_spot order by ts_event_ns, seq",
        )
        self.marks = list(range(self.open, self.close + MIN, MIN))
        self.print_spot = [self.spot_le(p[0]) for p in self.prints]
        self.basis = self._basis()
        self.greeks = self._greeks()

    def spot_le(self, t):  # last ES print with ts <= t (ties: highest seq)
        i = int(np.searchsorted(self.es_ts, t, side="right")) - 1
        return self.es_spot[i] if i >= 0 else None

    def spot_lt(self, t):  # last ES print with ts < t
        i = int(np.searchsorted(self.es_ts, t, side="left")) - 1
        return self.es_spot[i] if i >= 0 else None

    def _pairs(self):
        """Each print with the latest opposite-right print at its strike (a call: ts <= its ts; a put: ts < its
        ts; ties: highest seq), at most 60 s earlier."""
        import bisect

        usable = [i for i, p in enumerate(self.prints) if p[4] > 0 and self.print_spot[i] is not None]
        by_contract = defaultdict(list)  # (K, right) -> [(ts, seq, index)] in (ts, seq) order
        for i in usable:
            by_contract[(self.prints[i][2], self.prints[i][3])].append((self.prints[i][0], self.prints[i][1], i))
        pairs = []
        for i in usable:
            ts, _, k, right, px = self.prints[i][:5]
            other = by_contract.get((k, "P" if right == "C" else "C"), [])
            # calls see puts at their own ts (any seq); puts only see calls strictly before
            pos = (
                bisect.bisect_right(other, (ts, math.inf, math.inf))
                if right == "C"
                else bisect.bisect_left(other, (ts,))
            )
            if pos == 0:
                continue
            ts2, _, j = other[pos - 1]
            if ts - ts2 > 60 * NS:
                continue
            c, p = (px, self.prints[j][4]) if right == "C" else (self.prints[j][4], px)
            cs, ps = (
                (self.print_spot[i], self.print_spot[j]) if right == "C" else (self.print_spot[j], self.print_spot[i])
            )
            implied = c - p + k
            pairs.append((ts, k, implied, (cs + ps) / 2 - implied))
        return pairs

    def _basis(self):
        pairs = self._pairs()
        by_minute = defaultdict(list)
        for ts, k, implied, b in pairs:
            by_minute[ts // MIN * MIN].append((k, implied, b))
        basis, last = {}, None
        for t in self.marks:
            minutes = [m for m in range(t - 10 * MIN, t, MIN) if by_minute.get(m)]
            est = None
            if minutes:
                ref = float(np.median([np.median([x[1] for x in by_minute[m]]) for m in minutes]))
                window = [x for m in minutes for x in by_minute[m]]
                strikes = sorted({x[0] for x in window}, key=lambda k: (abs(k - ref), k))[:3]
                est = float(np.median([x[2] for x in window if x[0] in strikes]))
            last = est if est is not None else last
            basis[t] = last if last is not None else 0.0
        return basis

    def basis_at_print(self, ts):
        m = ts // MIN * MIN
        return self.basis[min(m, self.close)] if m >= self.open else 0.0

    def _greeks(self):
        out = []
        for i, (ts, _seq, k, right, px, size, aggr) in enumerate(self.prints):
            spy = self.print_spot[i] - self.basis_at_print(ts)
            tau = max(self.close - ts, 0) / 1e9 / bs.TRADING_SECONDS_PER_YEAR
            iv = float(bs.implied_vol_raw(px, spy, k, tau, RATE, right == "C"))
            iv = None if math.isnan(iv) else iv
            gamma = float(bs.bs_gamma(spy, k, tau, DEFAULT_IV if iv is None else iv, RATE))
            out.append(
                {
                    "ts": ts,
                    "k": k,
                    "right": right,
                    "size": size,
                    "aggr": aggr,
                    "iv": iv,
                    "flow": -aggr * size * 100 * gamma,
                }
            )
        return out

    def contracts_at(self, t):
        """{(K, right): dealer gamma} at mark t for open positions."""
        pos, iv = defaultdict(int), {}
        for g in self.greeks:
            if g["ts"] >= t:
                break
            key = (g["k"], g["right"])
            pos[key] -= g["aggr"] * g["size"]
            if g["iv"] is not None:
                iv[key] = g["iv"]
        spy = self.spot_lt(t) - self.basis[t]
        tau = max(self.close - t, 0) / 1e9 / bs.TRADING_SECONDS_PER_YEAR
        return {
            key: p * 100 * float(bs.bs_gamma(spy, key[0], tau, iv.get(key, DEFAULT_IV), RATE))
            for key, p in pos.items()
            if p != 0
        }

    def walls_at(self, t):
        spot, b = self.spot_lt(t), self.basis[t]
        out, contracts = [], self.contracts_at(t)
        for right in ("C", "P"):
            cands = [
                (abs(dg), -abs(k + b - spot), -k, k + b)
                for (k, r), dg in contracts.items()
                if r == right and abs(k + b - spot) <= 15 + 1e-9 and dg != 0
            ]
            out.append(max(cands)[3] if cands else None)
        return tuple(out)

    def near_spot_gamma(self):
        """{mark: dealer gamma of the contracts mapped within $2 of spot} from the first mark with an open
        position on (the marks the gamma scale counts)."""
        if not hasattr(self, "_near_spot"):
            self._near_spot = {}
            for t in self.marks:
                contracts = self.contracts_at(t)
                if not contracts and not self._near_spot:
                    continue
                spot, b = self.spot_lt(t), self.basis[t]
                self._near_spot[t] = sum(dg for (k, _), dg in contracts.items() if abs(k + b - spot) <= 2.0 + 1e-9)
        return self._near_spot

    def event(self, t_dec, level):
        if not any(g["ts"] < t_dec for g in self.greeks):
            return {c: None for c in FUEL_COLUMNS}
        b = self.basis[t_dec]

        def near(k):
            return abs(k + b - level) <= 2.0 + 1e-9

        gex = sum(dg for (k, _), dg in self.contracts_at(t_dec).items() if near(k))
        effect, _ = expected_fuel_effect(gex, [g for m, g in self.near_spot_gamma().items() if m < t_dec])

        def f(a_min, b_min):
            lo, hi = t_dec - a_min * MIN, t_dec - b_min * MIN
            return sum(g["flow"] for g in self.greeks if lo <= g["ts"] < hi and near(g["k"]))

        vel, base = f(5, 0) / 5, f(20, 0) / 20
        a1 = f(1, 0) - f(2, 1)
        return {
            "gamma_exposure": gex,
            "fuel_effect": effect,
            "option_basis": b,
            "gamma_flow_velocity": vel,
            "gamma_flow_impulse": (vel - base) / abs(base) if abs(base) > 1e-6 else 0.0,
            "gamma_flow_accel_1m": a1,
            "gamma_flow_accel_3m": f(3, 0) / 3 - f(6, 3) / 3,
            "dealer_pressure": math.tanh(-vel / 50_000),
            "dealer_pressure_accel": math.tanh(-a1 / 50_000),
        }


@pytest.fixture(scope="module")
def reference(runs):
    return Reference(runs[0])


def _close(got, want, rel=1e-9, abs_=1e-4):
    if want is None or isinstance(want, str):
        return got == want
    return got is not None and math.isclose(got, want, rel_tol=rel, abs_tol=abs_)


def test_basis_grid_matches_reference(runs, reference):
    db = runs[0]
    rows = query(db, "select asof_ns, option_basis from intermediate.int_options__basis_by_minute order by 1")
    assert [r[0] for r in rows] == reference.marks
    estimated = [r for r in rows if r[0] > et(DATE, "09:45:00")]
    assert all(abs(b - PLANTED_BASIS) < 0.05 for _, b in estimated)  # the planted basis, within the price noise
    for t, b in rows:
        assert b == pytest.approx(reference.basis[t], abs=1e-9), t


def test_greeks_match_reference(runs, reference):
    rows = query(
        runs[0],
        "select ts_event_ns, seq, iv_raw, dealer_flow from intermediate.int_options__trade_greeks "
        "order by ts_event_ns, seq",
    )
    assert len(rows) == len(reference.greeks) > 4000
    n_iv = 0
    for (ts, _, iv, flow), g in zip(rows, reference.greeks):
        assert ts == g["ts"]
        assert (iv is None) == (g["iv"] is None)
        if iv is not None:
            n_iv += 1
            assert iv == pytest.approx(g["iv"], rel=1e-9)
        assert flow == pytest.approx(g["flow"], rel=1e-9, abs=1e-9)
    assert n_iv > 0.9 * len(rows)


def test_fuel_columns_match_reference(runs, reference):
    db = runs[0]
    events = query(
        db,
        f"""
        select e.available_ts_ns, e.level_price, {", ".join("f." + c for c in FUEL_COLUMNS)}
        from intermediate.int_physics__fuel as f join intermediate.int_touches__detected as e using (event_id)
        order by e.ts_ns, e.level_kind""",
    )
    assert len(events) >= 50
    assert {r[2] is None for r in events} == {False}  # every event after the first print (09:30:20)
    for t_dec, level, *values in events[:: max(1, len(events) // 120)]:
        want = reference.event(t_dec, level)
        for col, got in zip(FUEL_COLUMNS, values):
            assert _close(got, want[col]), (t_dec, level, col, got, want[col])
    effects = {r[3] for r in events}
    assert "NEUTRAL" in effects and len(effects) >= 2


def test_walls_match_reference(runs, reference):
    rows = query(runs[0], "select asof_ns, call_wall, put_wall from intermediate.int_levels__option_walls order by 1")
    assert [r[0] for r in rows] == reference.marks
    assert rows[0][1:] == (None, None)
    n_walls = 0
    for t, c, p in rows[::7]:
        want = reference.walls_at(t)
        for got, w in zip((c, p), want):
            assert (got is None) == (w is None), t
            if w is not None:
                n_walls += 1
                assert got == pytest.approx(w, abs=1e-9), t
    assert n_walls > 50


def test_point_in_time(runs):
    """Bronze truncated at X: everything decided at or before X is unchanged (exactly)."""
    full, part, cut = runs
    cols = ", ".join(FUEL_COLUMNS)
    sql = f"select event_id, available_ts_ns, {cols} from intermediate.int_physics__fuel where available_ts_ns <= ? order by 1"
    a, b = query(full, sql, [cut]), query(part, sql, [cut])
    assert len(a) >= 20 and a == b
    assert query(full, "select count(*) from intermediate.int_physics__fuel where available_ts_ns > ?", [cut])[0][0] > 0
    for model, key_cols in (
        ("int_options__basis_by_minute", "asof_ns, option_basis, basis_estimate, n_pairs"),
        ("int_levels__option_walls", "asof_ns, call_wall, put_wall"),
        ("int_options__dealer_gamma", "asof_ns, strike, option_right, dealer_position, dealer_gamma"),
    ):
        sql = f"select {key_cols} from intermediate.{model} where asof_ns <= ? order by all"
        assert query(full, sql, [cut]) == query(part, sql, [cut]), model
