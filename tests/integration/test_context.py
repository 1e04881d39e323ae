"""Context, confluence and transform features (SPEC §8) against an independent plain-Python
re-statement computed straight from the prints of a hand-built day (``bronze_builders.random_day``:
two warmup sessions, a print every 5 s through RTH, no MBP-10 and no options), and consistency checks
on the generated day (options and book present: walls, fuel, gamma_bucket).

The reference shares no code or algorithm with the SQL: levels as known at t_dec from prefix scans of
the prints, SMAs as Fractions over the closed 2-minute bars, the close volatility with ``statistics``,
the approach by walking bars, attempt clusters and prior touches by loops over the events, and the
confluence level by its own statement of the decision table.
"""

from __future__ import annotations

import bisect
import math
import statistics
from fractions import Fraction

import pytest

from breakbounce import calendar

from . import bronze_builders as bb

MIN = bb.MIN
E9 = bb.E9
RATIO = bb.RATIO
KEYS = {0: 1.0, 1: 1.0, 2: 0.9, 3: 0.9, 6: 0.8, 12: 0.8, 7: 0.7, 4: 0.6, 5: 0.6, 10: 1.0, 11: 1.0}
APPROX = dict(rel=1e-9, abs=1e-9)


def spy(x) -> float | None:
    return None if x is None else float(Fraction(x) / E9 / RATIO)


def close_to(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(b, **APPROX)


class Reference:
    """SPEC §8 restated from the prints of one session."""

    def __init__(self, tape: bb.Tape, date: str, priors: list[str]):
        self.s = s = calendar.session(date)
        self.prints = prints = bb.front_prints(tape, date)
        pm = [p.price_e9 for p in prints if s.pm_open_ns <= p.ts < s.rth_open_ns]
        orng = [p.price_e9 for p in prints if s.rth_open_ns <= p.ts < s.or_close_ns]
        self.pm = (max(pm), min(pm)) if pm else (None, None)
        self.orng = (max(orng), min(orng)) if orng else (None, None)
        rth = [p for p in prints if s.rth_open_ns <= p.ts < s.rth_close_ns]
        self.rth_ts = [p.ts for p in rth]
        self.rth_hi, self.rth_lo, self.rth_pv, self.rth_v = [], [], [], []
        hi = lo = None
        pv = v = 0
        for p in rth:
            hi = p.price_e9 if hi is None else max(hi, p.price_e9)
            lo = p.price_e9 if lo is None else min(lo, p.price_e9)
            pv += p.price_e9 * p.size
            v += p.size
            self.rth_hi.append(hi), self.rth_lo.append(lo), self.rth_pv.append(pv), self.rth_v.append(v)
        two = []
        for d in sorted(priors + [date]):
            two += bb.bars(bb.front_prints(tape, d), 2 * MIN)
        two.sort(key=lambda b: b["start"])
        self.two_close_ns = [b["start"] + 2 * MIN for b in two]
        self.two_cum = [0]
        for b in two:
            self.two_cum.append(self.two_cum[-1] + b["close"])
        self.minute = bb.bars(prints, MIN)
        self.minute_start = [b["start"] for b in self.minute]

    def levels_at(self, t: int) -> dict[int, Fraction | None]:
        """Every key level as known at t (data with ts < t), 1e-9 ES points."""
        s = self.s
        n = bisect.bisect_left(self.rth_ts, t)
        out = {0: self.pm[0], 1: self.pm[1]} if t >= s.rth_open_ns else {0: None, 1: None}
        out[2], out[3] = self.orng if t >= s.or_close_ns else (None, None)
        out[4] = self.rth_hi[n - 1] if n else None
        out[5] = self.rth_lo[n - 1] if n else None
        out[7] = Fraction(self.rth_pv[n - 1], self.rth_v[n - 1]) if n else None
        out[6], out[12] = self.sma(200, t), self.sma(400, t)
        out[10] = out[11] = None  # no options on this day
        return {k: (None if v is None else Fraction(v)) for k, v in out.items()}

    def sma(self, n: int, t: int) -> Fraction | None:
        k = bisect.bisect_right(self.two_close_ns, t)  # bars closed at or before t
        return Fraction(self.two_cum[k] - self.two_cum[k - n], n) if k >= n else None

    def close_volatility(self, t0: int) -> float | None:
        i = self.minute_start.index(t0)
        if i < 20:
            return None
        closes = [b["close"] for b in self.minute[i - 20 : i + 1]]
        diffs = [Fraction(b - a) for a, b in zip(closes, closes[1:])]
        return spy(Fraction(math.sqrt(statistics.variance(diffs))))

    def approach(self, t0: int, sign: int) -> tuple[float, float, int]:
        window = [b for b in self.minute if t0 - 10 * MIN < b["start"] <= t0]
        if len(window) < 2:
            return 0.0, 0.0, 0
        dist = sign * (window[-1]["close"] - window[0]["close"])
        minutes = Fraction(window[-1]["start"] - window[0]["start"], MIN)
        count = 0
        for prev, cur in zip(reversed(window[:-1]), reversed(window)):
            if sign * (cur["close"] - prev["close"]) > 0:
                count += 1
            else:
                break
        return spy(dist), float(Fraction(dist) / E9 / RATIO / minutes), count


def decide(spot, pm_h, pm_l, or_h, or_l, s200, s400, rel_vol, first_hour, cw, pw, fuel):
    """The confluence decision table, stated again (floats in $)."""
    if None in (pm_h, pm_l, or_h, or_l):
        return 0, 0, 0
    above, below = spot > pm_h and spot > or_h, spot < pm_l and spot < or_l
    up, down = spot > pm_h or spot > or_h, spot < pm_l or spot < or_l
    state = 2 if above else 3 if below else 1 if (up or down) else 0
    aligned = fuel == "AMPLIFY" and ((up and cw is not None and spot > cw) or (down and pw is not None and spot < pw))
    opposed = fuel == "DAMPEN" and (
        (up and cw is not None and abs(spot - cw) < 1.0) or (down and pw is not None and abs(spot - pw) < 1.0)
    )
    gex = 1 if aligned else -1 if opposed else 0
    if None in (s200, s400, rel_vol):
        return state, gex, 0
    close = spot > 0 and abs(spot - s200) / spot < 0.005 and abs(spot - s400) / spot < 0.005
    high = rel_vol >= 1.3
    full = state in (2, 3)
    if full:
        if first_hour:
            level = (
                1
                if close and aligned and high
                else 2
                if close and aligned
                else 3
                if close
                else 4
                if aligned and high
                else 5
            )
        else:
            level = 6 if close and high else 7
    elif state == 1:
        level = 8 if close and aligned and high else 9
    else:
        level = 10
    return state, gex, level


@pytest.fixture(scope="module")
def random_day(tmp_path_factory):
    rnd = bb.random_runs(tmp_path_factory)
    full: bb.Build = rnd["full"]
    assert full.returncode == 0, full.stderr[-3000:]
    ref = Reference(rnd["tape"], rnd["date"], rnd["priors"])
    cols = (
        "event_id, ts_ns, available_ts_ns, level_kind, level_e9, direction, direction_sign, spot_e9, spot, "
        "level_price, atr, distance"
    )
    events = [
        dict(zip([c.strip() for c in cols.split(",")], r))
        for r in full.query(f"select {cols} from intermediate.int_touches__detected order by ts_ns, level_kind")
    ]
    feats = full.query("select * from intermediate.int_context__features")
    names = [
        r[0]
        for r in full.query(
            "select column_name from information_schema.columns where table_name = 'int_context__features' "
            "order by ordinal_position"
        )
    ]
    features = {r[0]: dict(zip(names, r)) for r in feats}
    extra = {
        r[0]: r[1:]
        for r in full.query(
            "select t.event_id, t.tape_velocity, t.tape_imbalance, r.rel_vol_ratio from intermediate.int_physics__tape t "
            "join intermediate.int_touches__relative_volume r using (event_id)"
        )
    }
    assert len(events) > 100 and features.keys() == {e["event_id"] for e in events}
    return ref, events, features, extra


def test_mean_reversion(random_day):
    ref, events, features, _ = random_day
    checked = 0
    for e in events:
        f, t = features[e["event_id"]], e["available_ts_ns"]
        L = Fraction(e["level_e9"])
        for n in (200, 400):
            now, ago20, ago10 = ref.sma(n, t), ref.sma(n, t - 20 * MIN), ref.sma(n, t - 10 * MIN)
            assert close_to(f[f"sma_{n}"], spy(now))
            assert close_to(f[f"dist_to_sma_{n}"], None if now is None else spy(L - now))
            assert close_to(f[f"sma_{n}_slope"], None if None in (now, ago20) else spy((now - ago20) / 20))
            assert close_to(f[f"sma_{n}_slope_5bar"], None if None in (now, ago10) else spy((now - ago10) / 10))
            assert close_to(
                f[f"mean_reversion_velocity_{n}"], None if None in (now, ago10) else spy((ago10 - now) / 10)
            )
            checked += now is not None and ago20 is not None
        s200, s400 = ref.sma(200, t), ref.sma(400, t)
        assert close_to(f["sma_spread"], None if None in (s200, s400) else spy(s200 - s400))
        vol = ref.close_volatility(e["ts_ns"])
        assert close_to(f["close_volatility"], vol)
        for n, s in ((200, s200), (400, s400)):
            expected = spy(L - s) / (vol + 1e-6) if (s is not None and vol) else None
            assert close_to(f[f"mean_reversion_pressure_{n}"], expected)
    assert checked > 100  # the slopes were really compared, not only NULLs


def test_sma_at_t_dec_equals_the_level_model(tmp_path_factory):
    full = bb.random_runs(tmp_path_factory)["full"]
    rows = full.query(
        "select f.sma_200, f.sma_400, l.sma_200, l.sma_400 from intermediate.int_context__features f "
        "join intermediate.int_touches__detected e using (event_id) "
        "join intermediate.int_levels__as_of_minute l on l.asof_ns = e.available_ts_ns"
    )
    assert rows and all(r[0] == r[2] and r[1] == r[3] for r in rows)  # bit-identical


def test_structural_and_normalised_distances(random_day):
    ref, events, features, _ = random_day
    for e in events:
        f = features[e["event_id"]]
        L, spot, atr = Fraction(e["level_e9"]), e["spot"], e["atr"]
        assert close_to(f["dist_to_pm_high"], spy(L - ref.pm[0]))
        assert close_to(f["dist_to_pm_low"], spy(L - ref.pm[1]))
        assert close_to(f["distance_signed"], spy(L - e["spot_e9"]))
        assert (f["distance_signed"] > 0) == (e["direction"] == "UP")
        for x in (
            "distance",
            "distance_signed",
            "dist_to_pm_high",
            "dist_to_pm_low",
            "dist_to_sma_200",
            "dist_to_sma_400",
            "confluence_min_distance",
            "approach_distance",
        ):
            v = e["distance"] if x == "distance" else f[x]
            assert close_to(f[x + "_atr"], None if v is None else v / (atr + 1e-6))
            assert close_to(f[x + "_pct"], None if v is None else v / (spot + 1e-6))
        assert f["level_price_pct"] == f["distance_signed_pct"]


def test_approach_and_time_of_day(random_day):
    ref, events, features, _ = random_day
    bars_seen = set()
    for e in events:
        f = features[e["event_id"]]
        dist, vel, n = ref.approach(e["ts_ns"], e["direction_sign"])
        assert close_to(f["approach_distance"], dist)
        assert close_to(f["approach_velocity"], vel)
        assert f["approach_bars"] == n
        bars_seen.add(n)
        minutes = (e["ts_ns"] - ref.s.rth_open_ns) // MIN
        assert f["bars_since_open"] == minutes
        assert f["is_first_15m"] == (minutes < 15)
        prior = sum(1 for p in events if p["ts_ns"] < e["ts_ns"] and abs(p["level_e9"] - e["level_e9"]) <= E9 + 10)
        assert f["prior_touches"] == prior
    assert len(bars_seen) >= 3
    assert any(features[e["event_id"]]["approach_distance"] < 0 for e in events)  # signed
    assert any(features[e["event_id"]]["approach_distance"] > 0 for e in events)


def test_attempt_clusters(random_day):
    _, events, features, extra = random_day
    groups: dict[tuple, list] = {}
    for e in events:
        groups.setdefault((e["level_kind"], e["direction"]), []).append(e)
    clusters = []
    for evs in groups.values():
        mine: list[list] = []
        for e in sorted(evs, key=lambda e: e["ts_ns"]):
            prev = mine[-1][-1] if mine else None
            if (
                prev is None
                or e["ts_ns"] - prev["ts_ns"] > 15 * MIN
                or abs(Fraction(e["level_e9"]) - Fraction(prev["level_e9"])) > E9 + 10
            ):
                mine.append([])
            mine[-1].append(e)
        clusters += mine
    clusters.sort(key=lambda c: (c[0]["ts_ns"], c[0]["level_kind"], c[0]["direction"]))
    for cid, cluster in enumerate(clusters, start=1):
        first = extra[cluster[0]["event_id"]]
        for idx, e in enumerate(cluster, start=1):
            f, x = features[e["event_id"]], extra[e["event_id"]]
            assert (f["attempt_cluster_id"], f["attempt_index"]) == (cid, idx)
            assert f["tape_velocity_trend"] == pytest.approx(x[0] - first[0], abs=1e-12)
            assert f["tape_imbalance_trend"] == pytest.approx(x[1] - first[1], abs=1e-12)
            assert f["barrier_delta_liq_trend"] is None and f["barrier_replenishment_trend"] is None  # no book
    assert max(len(c) for c in clusters) > 1


def test_dynamic_confluence(random_day):
    ref, events, features, _ = random_day
    counts = set()
    for e in events:
        f = features[e["event_id"]]
        L = Fraction(e["level_e9"])
        lv = ref.levels_at(e["available_ts_ns"])
        d = {k: abs(v - L) for k, v in lv.items() if v is not None and k != e["level_kind"]}
        near = {k: x for k, x in d.items() if x <= 2 * E9 + 10}
        score = sum(KEYS[k] * max(1 - float(x / (2 * E9)), 0.0) for k, x in near.items())
        assert f["confluence_count"] == len(near)
        assert f["confluence_weighted_score"] == pytest.approx(score, abs=1e-12)
        assert f["confluence_pressure"] == pytest.approx(score / 9.3, abs=1e-12)
        assert close_to(f["confluence_min_distance"], spy(min(d.values())) if d else None)
        counts.add(len(near))
        # alignment
        s200, s400 = f["sma_200"], f["sma_400"]
        sl200, sl400 = f["sma_200_slope"], f["sma_400_slope"]
        expected = 0
        if None not in (s200, s400, sl200, sl400):
            lp = e["level_price"]
            below, above = lp < s200 and lp < s400, lp > s200 and lp > s400
            neg, pos, ss = sl200 < 0 and sl400 < 0, sl200 > 0 and sl400 > 0, sl200 - sl400
            if e["direction"] == "UP":
                expected = 1 if below and neg and ss > 0 else -1 if above and pos and ss < 0 else 0
            else:
                expected = 1 if above and pos and ss > 0 else -1 if below and neg and ss < 0 else 0
        assert f["confluence_alignment"] == expected
    assert len(counts) >= 2


def test_confluence_level_per_event(random_day):
    ref, events, features, extra = random_day
    seen = set()
    for e in events:
        f, t = features[e["event_id"]], e["available_ts_ns"]
        lv = ref.levels_at(t)
        or_h, or_l = (lv[4], lv[5]) if t < ref.s.or_close_ns else (lv[2], lv[3])  # running OR before 09:45
        got = (f["breakout_state"], f["gex_alignment"], f["confluence_level"])
        expected = decide(
            e["spot"],
            spy(lv[0]),
            spy(lv[1]),
            spy(or_h),
            spy(or_l),
            spy(lv[6]),
            spy(lv[12]),
            extra[e["event_id"]][2],
            e["ts_ns"] < ref.s.rth_open_ns + 60 * MIN,
            None,
            None,
            None,
        )
        assert got == expected, e
        seen.add(got[2])
    assert len(seen) >= 3


def test_pressures_without_book_or_options(random_day):
    _, events, features, extra = random_day
    for e in events:
        f, x = features[e["event_id"]], extra[e["event_id"]]
        sign = e["direction_sign"]
        tape = max(-1.0, min(1.0, sign * (x[1] + max(-1.0, min(1.0, x[0] / 0.05))) / 2))
        assert f["tape_pressure"] == pytest.approx(tape, abs=1e-12)
        mrp = [v for v in (f["mean_reversion_pressure_200"], f["mean_reversion_pressure_400"]) if v is not None]
        m = sum(mrp) / len(mrp) if mrp else 0.0
        assert f["reversion_pressure"] == pytest.approx(math.tanh(-sign * m), abs=1e-12)
        assert f["liquidity_pressure"] is None and f["gamma_pressure"] is None and f["gamma_pressure_accel"] is None
        assert f["wall_ratio_nonzero"] is None and f["barrier_delta_liq_log"] is None
        net = max(-1.0, min(1.0, (tape + f["reversion_pressure"] + f["confluence_pressure"]) / 5))
        assert f["net_break_pressure"] == pytest.approx(net, abs=1e-12)
        assert f["gamma_bucket"] == "UNKNOWN"


# --- the generated day: options and book present -------------------------------------------------


def test_generated_day_walls_fuel_and_buckets(generated_day):
    run = generated_day.run
    assert run.returncode == 0, run.stderr[-3000:]
    rows = run.query("""
        select f.*, e.level_kind, e.level_e9, e.level_price, e.direction_sign, b.wall_ratio, b.barrier_delta_liq,
            u.gamma_exposure, u.gamma_flow_accel_3m, u.fuel_effect, w.call_wall, w.put_wall,
            l.pm_high_e9, l.pm_low_e9, l.or_high_e9, l.or_low_e9, l.session_high_e9, l.session_low_e9,
            l.vwap_e9, l.sma_200_e9, l.sma_400_e9
        from intermediate.int_context__features f
        join intermediate.int_touches__detected e using (event_id)
        join intermediate.int_physics__barrier b using (event_id)
        join intermediate.int_physics__fuel u using (event_id)
        join intermediate.int_levels__option_walls w on w.asof_ns = e.available_ts_ns
        join intermediate.int_levels__as_of_minute l on l.asof_ns = e.available_ts_ns
    """)
    names = [r[0] for r in run.query("describe intermediate.int_context__features")]
    names += [
        "level_kind",
        "level_e9",
        "level_price",
        "direction_sign",
        "wall_ratio",
        "barrier_delta_liq",
        "gamma_exposure",
        "gamma_flow_accel_3m",
        "fuel_effect",
        "call_wall",
        "put_wall",
        "pm_high_e9",
        "pm_low_e9",
        "or_high_e9",
        "or_low_e9",
        "session_high_e9",
        "session_low_e9",
        "vwap_e9",
        "sma_200_e9",
        "sma_400_e9",
    ]
    rows = [dict(zip(names, r)) for r in rows]
    assert len(rows) > 50
    keys = {
        0: "pm_high_e9",
        1: "pm_low_e9",
        2: "or_high_e9",
        3: "or_low_e9",
        4: "session_high_e9",
        5: "session_low_e9",
        6: "sma_200_e9",
        7: "vwap_e9",
        12: "sma_400_e9",
    }
    with_walls = 0
    for r in rows:
        # gamma bucket and pressures from the physics columns of the same event
        if r["gamma_exposure"] is None or r["gamma_n_contracts"] == 0:
            assert r["gamma_bucket"] == "UNKNOWN"
        else:
            assert r["gamma_bucket"] == ("SHORT_GAMMA" if r["gamma_exposure"] < 0 else "LONG_GAMMA")
            assert r["gamma_pressure"] == pytest.approx(math.tanh(-r["gamma_exposure"] / 1e5), abs=1e-12)
        liq = max(
            -1.0,
            min(1.0, (math.tanh(-r["barrier_delta_liq"] / 200) + max(-1.0, min(1.0, 1 - r["wall_ratio"] / 2))) / 2),
        )
        assert r["liquidity_pressure"] == pytest.approx(liq, abs=1e-12)
        assert r["wall_ratio_nonzero"] == int(r["wall_ratio"] != 0)
        assert r["barrier_delta_liq_log"] == pytest.approx(
            math.copysign(math.log1p(abs(r["barrier_delta_liq"])), r["barrier_delta_liq"])
            if r["barrier_delta_liq"]
            else 0.0,
            abs=1e-12,
        )
        # dynamic confluence with the walls as known at t_dec
        values = {k: r[c] for k, c in keys.items()}
        values[10] = None if r["call_wall"] is None else r["call_wall"] * RATIO * E9
        values[11] = None if r["put_wall"] is None else r["put_wall"] * RATIO * E9
        d = {k: abs(v - r["level_e9"]) for k, v in values.items() if v is not None and k != r["level_kind"]}
        near = [k for k, x in d.items() if x <= 2 * E9 + 10]
        assert r["confluence_count"] == len(near)
        with_walls += any(k in (10, 11) for k in near)
    assert with_walls > 0  # walls really took part
    buckets = {r["gamma_bucket"] for r in rows}
    assert {"SHORT_GAMMA", "LONG_GAMMA"} <= buckets
