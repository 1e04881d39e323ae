"""Generate synthetic Bronze for whole sessions: the orchestration and the truth file."""

from __future__ import annotations

import datetime as _dt
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from breakbounce import calendar as _cal
from breakbounce import storage
from breakbounce.bronze import FUTURES_MBP10, FUTURES_TRADES, OPTION_TRADES, write_quiet_hours
from breakbounce.synth import params as P
from breakbounce.synth.book import BookBuilder
from breakbounce.synth.clock import make_clock
from breakbounce.synth.options import make_options
from breakbounce.synth.path import build_path
from breakbounce.synth.scenario import build_plan, default_scenario, validate_scenario
from breakbounce.synth.trades import make_events
from breakbounce.synth.verify import PlantError, check_plan
from breakbounce.synth.writer import FILE_NAME, BronzeSink, remove_stale, write_json_atomic

MAX_ATTEMPTS = 8
TRUTH_DIR = "_truth"
ES_SPY_RATIO_MODEL = 10.0


def truth_path(out: str | Path, date: str) -> Path:
    return Path(out) / TRUTH_DIR / f"date={date}" / "truth.json"


def truth_location(out: str | Path, date: str) -> str:
    """:func:`truth_path` for a local folder or an object-store URL."""
    return storage.join(out, TRUTH_DIR, f"date={date}", "truth.json")


def _r(x, nd=6):
    return None if x is None else round(float(x), nd)


def generate_session(
    date: str,
    out: str | Path,
    seed: int = 7,
    scale: str = "test",
    scenario: dict | None = None,
    sink: BronzeSink | None = None,
    roll_at: str | None = None,
) -> dict:
    """Write one session's Bronze (three tables) and its truth file; return a summary.

    Deterministic in (date, seed, scale, scenario, roll_at). ``roll_at`` ('HH:MM' ET, inside RTH) makes
    the session a roll day: from then on the back month trades twice the front month's size at every
    front print, so it leads the session's RTH volume while the front month leads the pre-open
    (its own random stream; without it every byte is as before). Raises ``ValueError`` for a
    non-session date, an unknown scale or a roll time outside RTH, ``ScenarioError`` for an
    unplantable scenario.
    """
    t_start = time.perf_counter()
    if scale not in P.SCALES:
        raise ValueError(f"unknown scale {scale!r} (want one of {sorted(P.SCALES)})")
    if int(seed) < 0:
        raise ValueError("seed must be >= 0")
    spec = P.SCALES[scale]
    clock = make_clock(date)
    ordn = P.date_ordinal(date)
    roll_ns = None
    if roll_at is not None:
        roll_ns = clock.et(roll_at)
        if not clock.rth_open <= roll_ns < clock.rth_close:
            raise ValueError(f"roll time {roll_at} is outside {date}'s RTH")
    scenario = validate_scenario(scenario) if scenario is not None else default_scenario(seed, ordn)
    regime = P.draw_regime(seed, ordn)
    con = P.contracts_for(date)
    a_start, a_end = P.session_levels(seed, date)
    mid = 0.5 * (a_start + a_end)
    back_frac = float(P.stream(seed, ordn, P.C_BACK).uniform(0.02, 0.04))
    n_front_prints = int(spec.trades * (1.0 - back_frac))

    errors = []
    for attempt in range(MAX_ATTEMPTS):
        plan = build_plan(clock, scenario, mid, P.stream(seed, ordn, P.C_PLAN, attempt))
        path = build_path(clock, plan, regime, mid, a_start, a_end, P.stream(seed, ordn, P.C_PATH, attempt))
        ev = make_events(P.stream(seed, ordn, P.C_TRADES, attempt), clock, path, n_front_prints, plan.forced)
        p_ts = ev.t[ev.p_event]
        p_px = ev.p_price * P.TICK
        levels_es = {k: v * P.TICK for k, v in plan.levels.items()}
        try:
            checks = check_plan(clock, p_ts, p_px, plan, levels_es)
            break
        except PlantError as exc:
            errors.append(str(exc))
    else:
        raise RuntimeError(f"{date}: planted constraints failed {MAX_ATTEMPTS} times: {errors}")

    own_sink = sink is None
    sink = sink or BronzeSink(out)
    try:
        # --- options (independent of the book; start writing early)
        days = (con.front_expiry - _dt.date.fromisoformat(date)).days
        factor = regime.spy_ratio * (1.0 + (P.R_FUT - P.Q_DIV) * days / 360.0)
        walls = []
        gw = scenario["gamma_walls"]
        for w in gw["walls"]:
            if w["near"] == "SPOT":
                ref = (path.bid[clock.cell_of(clock.rth_open)] + 0.5) * P.TICK
            elif w["near"] in levels_es:
                ref = levels_es[w["near"]]
            else:
                continue
            walls.append((float(round(ref / factor)), w["right"]))
        opt_tab, opt_info = make_options(
            P.stream(seed, ordn, P.C_OPTIONS),
            clock,
            path.bid,
            spec.options,
            regime.sigma_atm,
            factor,
            date,
            walls,
            float(gw["mix"]),
            float(gw["buy_prob"]),
            spec.dup_frac,
            P.stream(seed, ordn, P.C_DUPS, 2),
        )
        sink.submit(opt_tab, OPTION_TRADES, f"trades_{date}.parquet", trading_date=date)

        # --- MBP-10, hour by hour (fills the sweep print sizes as it goes)
        plants = plan.plants
        book = BookBuilder(
            clock,
            path,
            ev,
            plants,
            regime,
            spec.mbp10,
            spec.back_mbp_rows,
            spec.dup_frac,
            con.front,
            con.back,
            P.stream(seed, ordn, P.C_BOOK),
            P.stream(seed, ordn, P.C_DUPS, 1),
        )
        for build in book.builders():
            sink.submit_deferred(build, FUTURES_MBP10, FILE_NAME)

        # --- trades
        tr_tab, tr_info = _trades_table(ev, con, regime, back_frac, spec.dup_frac, seed, ordn, clock.t_end, roll_ns)
        sink.submit_hourly(tr_tab, FUTURES_TRADES, FILE_NAME)
        written = set(sink.drain())
    finally:
        if own_sink:
            sink.close()
    root = out
    stale = remove_stale(root, FUTURES_TRADES, FILE_NAME, clock.t0, clock.t_end, written)
    stale += remove_stale(root, FUTURES_MBP10, FILE_NAME, clock.t0, clock.t_end, written)
    # an hour of the session without a generated record gets a zero-row file: quiet, not missing
    for spec in (FUTURES_TRADES, FUTURES_MBP10):
        write_quiet_hours(root, spec, clock.t0, clock.t_end, FILE_NAME)

    rows = {"futures_trades": tr_tab.num_rows, "futures_mbp10": book.stats.records, "option_trades": opt_tab.num_rows}
    truth = _truth(
        date,
        seed,
        scale,
        clock,
        con,
        regime,
        plan,
        checks,
        levels_es,
        path,
        factor,
        days,
        rows,
        {
            "futures_trades": tr_info["duplicates"],
            "futures_mbp10": book.stats.duplicates,
            "option_trades": opt_info["duplicates"],
        },
        tr_info,
        book,
        opt_info,
        walls,
        attempt,
        p_ts,
        p_px,
    )
    truth["scenario"] = scenario["name"]
    if roll_ns is not None:
        truth["roll"] = {"at_ns": roll_ns, "at_et": roll_at, **tr_info["roll"]}
    tp = truth_location(out, date)
    write_json_atomic(truth, tp)
    return {
        "date": date,
        "rows": rows,
        "seconds": time.perf_counter() - t_start,
        "files": len(written),
        "stale_removed": stale,
        "truth": str(tp),
        "regime": regime.name,
        "scenario": scenario["name"],
    }


def generate_range(
    start: str,
    end: str,
    out: str | Path,
    seed: int = 7,
    scale: str = "test",
    scenario: dict | None = None,
    progress=None,
    roll_at: str | None = None,
) -> list[dict]:
    """Generate every calendar session with start <= date <= end (inclusive); one summary per date.
    ``roll_at``: make every one of them a roll day (generate_session)."""
    sessions = _cal.sessions_between(start, end)
    if not sessions:
        raise ValueError(f"no trading session between {start} and {end}")
    sink = BronzeSink(out)
    out_list = []
    try:
        for s in sessions:
            if progress:
                progress("start", s.session_date, None)
            res = generate_session(s.session_date, out, seed, scale, scenario, sink=sink, roll_at=roll_at)
            out_list.append(res)
            if progress:
                progress("done", s.session_date, res)
    finally:
        sink.close()
    return out_list


# ----------------------------------------------------------------------------------------------


def _roll_prints(ev, spread, seed, ordn, t_end, roll_ns):
    """A roll day's extra back-month prints: one per front print from ``roll_ns`` on, just after it, at
    the front price + the calendar spread, same side, twice the size. Its own stream (C_ROLL)."""
    rng = P.stream(seed, ordn, P.C_ROLL)
    pe = ev.p_event
    idx = np.flatnonzero(ev.t[pe] >= roll_ns)
    n = len(idx)
    ts = np.minimum(ev.t[pe][idx] + 2 * rng.integers(1, 100_000, n), t_end - 2)
    lat = np.rint(rng.lognormal(np.log(250_000.0), 0.4, n)).astype(np.int64) + 20_000
    return ts, ev.p_price[idx] + spread, 2 * ev.p_size[idx], ev.side[pe][idx], lat


def _trades_table(ev, con, regime, back_frac, dup_frac, seed, ordn, t_end, roll_ns=None):
    rng = P.stream(seed, ordn, P.C_BACK, 1)
    pe = ev.p_event
    n_front = len(pe)
    ts_f = ev.t[pe]
    n_back = int(round(n_front * back_frac / (1.0 - back_frac)))
    bi = np.sort(rng.choice(n_front, n_back, replace=False))
    ts_b = np.minimum(ts_f[bi] + 2 * rng.integers(1, 500_000, n_back), t_end - 2)  # stays in the session
    spread = int(round(regime.calendar_spread / P.TICK))
    side_b = np.where(rng.random(n_back) < 0.5, 1, -1)
    base_b = np.where(ev.side[pe[bi]] > 0, ev.p_price[bi] - 1, ev.p_price[bi])  # front bid at that print
    px_b = np.where(side_b > 0, base_b + 1, base_b) + spread
    size_b = np.minimum(rng.geometric(0.55, n_back), 50)
    lat_b = np.rint(rng.lognormal(np.log(250_000.0), 0.4, n_back)).astype(np.int64) + 20_000

    roll = {}
    if roll_ns is not None:
        ts_r, px_r, size_r, side_r, lat_r = _roll_prints(ev, spread, seed, ordn, t_end, roll_ns)
        ts_b, px_b, size_b = (
            np.concatenate([ts_b, ts_r]),
            np.concatenate([px_b, px_r]),
            np.concatenate([size_b, size_r]),
        )
        side_b, lat_b = np.concatenate([side_b, side_r]), np.concatenate([lat_b, lat_r])
        n_back = len(ts_b)
        roll = {"back_prints": len(ts_r)}

    ts = np.concatenate([ts_f, ts_b])
    isb = np.concatenate([np.zeros(n_front, np.int64), np.ones(n_back, np.int64)])
    sub = np.concatenate([ev.p_sub, np.zeros(n_back, np.int64)])
    order = np.lexsort((sub, isb, ts))
    ts = ts[order]
    recv = np.concatenate([ts_f + ev.latency[pe], ts_b + lat_b])[order]
    px = np.concatenate([ev.p_price, px_b])[order] * P.TICK
    size = np.concatenate([ev.p_size, size_b])[order]
    aggr = np.concatenate([ev.side[pe], side_b])[order]
    isb = isb[order]
    n = len(ts)
    if np.any(size[isb == 0] < 1):
        raise AssertionError("a front-month print has no size")
    tab = pa.Table.from_pydict(
        {
            "ts_event_ns": pa.array(ts, pa.int64()),
            "ts_recv_ns": pa.array(recv, pa.int64()),
            "source": pa.repeat(pa.scalar("direct_feed"), n),
            # dictionary-encoded here; write_table casts it to the contract's string type
            "symbol": pa.DictionaryArray.from_arrays(pa.array(isb.astype(np.int32)), pa.array([con.front, con.back])),
            "price": pa.array(px, pa.float64()),
            "size": pa.array(size.astype(np.int64), pa.int64()),
            "aggressor": pa.array(aggr.astype(np.int64), pa.int64()),
            "exchange": pa.repeat(pa.scalar("CME"), n),
            "conditions": pa.nulls(n, pa.list_(pa.int16())),
            "seq": pa.array(np.arange(1, n + 1, dtype=np.int64), pa.int64()),
        }
    )
    drng = P.stream(seed, ordn, P.C_DUPS, 0)
    front_rows = np.flatnonzero(isb == 0)  # duplicates only of front-month prints (unambiguous counts)
    nd = int(drng.binomial(len(front_rows), dup_frac))
    if nd:
        di = np.sort(drng.choice(front_rows, nd, replace=False))
        tab = pa.concat_tables([tab, tab.take(pa.array(di))])
    if roll_ns is not None:  # what the roll day is for: the RTH leader is the back month, the pre-open's the front
        s = _cal.session(_dt.date.fromordinal(ordn).isoformat())
        for name, sel in (("front", isb == 0), ("back", isb == 1)):
            roll[f"{name}_pre_open_volume"] = int(size[sel & (ts < s.rth_open_ns)].sum())
            roll[f"{name}_rth_volume"] = int(size[sel & (ts >= s.rth_open_ns) & (ts < s.rth_close_ns)].sum())
    return tab, {"duplicates": nd, "back_month": n_back, "front": n_front, "roll": roll}


def _truth(
    date,
    seed,
    scale,
    clock,
    con,
    regime,
    plan,
    checks,
    levels_es,
    path,
    factor,
    days,
    rows,
    dups,
    tr_info,
    book,
    opt_info,
    walls,
    attempt,
    p_ts,
    p_px,
):
    ct = clock.cell_times()
    rth = (ct >= clock.rth_open) & (ct < clock.rth_close)
    mid = (path.bid[rth] + 0.5) * P.TICK
    basis = float(np.mean(mid / ES_SPY_RATIO_MODEL - mid / factor))
    m_rth = (p_ts >= clock.rth_open) & (p_ts < clock.rth_close)
    rth_hi, rth_lo = float(p_px[m_rth].max()), float(p_px[m_rth].min())
    events = []
    for ev in plan.events:
        lv = levels_es[ev["level_kind"]]
        ch = checks[ev["id"]]
        events.append(
            {
                "id": ev["id"],
                "level_kind": ev["level_kind"],
                "level_price_es": lv,
                "level_price_spy": round(lv / ES_SPY_RATIO_MODEL, 6),
                "t0_ns": ev["t0_ns"],
                "t0_et": ev["t0_et"],
                "direction": ev["direction"],
                "expected_outcome": ev["outcome"],  # the same for the 2, 4 and 8 minute windows
                "expected_outcome_by_window": {k: v["outcome"] for k, v in ch["labels"].items()},
                "touch_bar": ch["bar"],
                "max_penetration_es": _r(ch["max_penetration_es"], 4),
                "max_excursion_es": _r(ch["max_excursion_es"], 4),
                "label_detail": {
                    k: {kk: _r(vv, 6) if isinstance(vv, float) else vv for kk, vv in v.items()}
                    for k, v in ch["labels"].items()
                },
            }
        )
    skipped = [
        {"id": e["id"], "level_kind": e["level_kind"], "t0_et": e["t0_et"], "reason": e["skipped_reason"]}
        for e in plan.skipped
    ]
    plants = [
        {
            "id": p["id"],
            "event_id": p["event_id"],
            "side": p["side"],
            "kind": p["kind"],
            "price_lo_es": p["lo_tick"] * P.TICK,
            "price_hi_es": p["hi_tick"] * P.TICK,
            "uniform_from_ns": p["uniform_from_ns"],
            "start_ns": p["start_ns"],
            "full_ns": p["full_ns"],
            "end_ns": p["end_ns"],
            "multiplier": p["multiplier"],
        }
        for p in plan.plants
    ]
    net = opt_info["net_buy"]
    gws = [
        {
            "strike": k,
            "right": r,
            "mapped_strike_spy_frame": round(k + basis, 4),
            "customer_net_buy_contracts": int(net.get((k, r), 0)),
        }
        for k, r in walls
    ]
    lv = checks["_levels"]
    return {
        "session_date": date,
        "seed": int(seed),
        "scale": scale,
        "generator": "breakbounce.synth/1",
        "front_symbol": con.front,
        "back_symbol": con.back,
        "front_expiry": con.front_expiry.isoformat(),
        "calendar_spread_es": regime.calendar_spread,
        "regime": {
            "name": regime.name,
            "rth_range_target_pct": _r(regime.rth_range_pct, 4),
            "daily_vol_pct": _r(regime.daily_vol_pct, 4),
            "sigma_atm": _r(regime.sigma_atm, 4),
            "book_base_size": _r(regime.book_base, 2),
            "jump_0830_sd_es": _r(regime.jump_0830_pts, 3),
        },
        "es_spy_ratio_model": ES_SPY_RATIO_MODEL,
        "spx_spy_ratio": _r(regime.spy_ratio, 6),
        "fair_value": {"r": P.R_FUT, "q": P.Q_DIV, "days_to_expiry": days, "es_per_spy": _r(factor, 8)},
        "mean_basis_spy": _r(basis, 4),
        "realised": {
            "globex_open_level_es": _r(path.bid[0] * P.TICK, 2),
            "globex_close_level_es": _r(path.bid[-1] * P.TICK, 2),
            "rth_high_es": rth_hi,
            "rth_low_es": rth_lo,
            "rth_range_pct": _r(100 * (rth_hi - rth_lo) / rth_lo, 4),
            "pm_high_es": lv["PM_HIGH"],
            "pm_low_es": lv["PM_LOW"],
            "or_high_es": lv["OR_HIGH"],
            "or_low_es": lv["OR_LOW"],
            "widened_spread_frac_rth": _r(book.stats.widened_rth_frac, 4),
            "widened_spread_frac_overnight": _r(book.stats.widened_overnight_frac, 4),
            "option_spot_open_spy": _r(opt_info["spot_open"], 4),
        },
        "rows": rows,
        "duplicates": dups,
        "back_month_rows": {"futures_trades": tr_info["back_month"], "futures_mbp10": book.stats.back_rows},
        "plan_attempt": attempt,
        "events": events,
        "skipped_events": skipped,
        "book_plants": plants,
        "gamma_walls": gws,
    }


__all__ = ["generate_session", "generate_range", "truth_path"]
