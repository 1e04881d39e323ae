"""Recompute the planted levels, touch bars and labels from the generated front-month prints.

A plain-numpy reference of the pipeline's rules (SPEC §5-6), used by the generator to check its own
output before writing (and by the tests). Prices here are ES points; thresholds are the SPY-frame
values times 10 (es_spy_ratio = 10).
"""

from __future__ import annotations

from breakbounce.synth.params import NS

TOUCH_BAND_ES = 1.0  # 0.10 SPY $
MONITOR_BAND_ES = 2.5  # 0.25 SPY $
THR2_ES = 20.0  # $2
WINDOWS_S = (120, 240, 480)
LOOKFORWARD_S = 480
EPS = 1e-9


class PlantError(AssertionError):
    """The generated path does not satisfy a planted constraint."""


def window_max(ts, px, t0, t1):
    m = (ts >= t0) & (ts < t1)
    return float(px[m].max()) if m.any() else None


def window_min(ts, px, t0, t1):
    m = (ts >= t0) & (ts < t1)
    return float(px[m].min()) if m.any() else None


def bar(ts, px, t0, width_s=60):
    """OHLC of trades in [t0, t0 + width); inputs ordered by (ts, seq)."""
    m = (ts >= t0) & (ts < t0 + width_s * NS)
    if not m.any():
        return None
    p = px[m]
    return {"open": float(p[0]), "high": float(p.max()), "low": float(p.min()), "close": float(p[-1])}


def is_touch(b: dict, level: float) -> bool:
    return (
        b["low"] - TOUCH_BAND_ES - EPS <= level <= b["high"] + TOUCH_BAND_ES + EPS
        and abs(b["close"] - level) <= MONITOR_BAND_ES + EPS
    )


def label(ts, px, level: float, direction: str, T0: int, W: int, thr: float = THR2_ES) -> dict:
    """SPEC §6 outcome of one window (trade level)."""
    t1 = T0 + W * NS
    t2 = t1 + LOOKFORWARD_S * NS
    if not (ts <= t1).any() or ts[-1] < t2:
        return {"outcome": "UNDEFINED"}
    m = (ts >= t1) & (ts <= t2)
    t, p = ts[m], px[m]
    up = direction == "UP"
    brk = p >= level + thr - EPS if up else p <= level - thr + EPS
    bnc = p <= level - thr + EPS if up else p >= level + thr - EPS
    tb = t[brk][0] if brk.any() else None
    tc = t[bnc][0] if bnc.any() else None
    if tb is None and tc is None:
        out = "CHOP"
    elif tc is None or (tb is not None and tb < tc):
        out = "BREAK"
    elif tb is None or tc < tb:
        out = "BOUNCE"
    else:
        out = "TIE"
    return {
        "outcome": out,
        "time_to_break_s": None if tb is None else (tb - t1) / NS,
        "time_to_bounce_s": None if tc is None else (tc - t1) / NS,
    }


def check_event(ts, px, ev: dict, level: float) -> dict:
    """Realised facts of one planted event; raises PlantError when the plan did not hold."""
    T0 = ev["t0_ns"]
    b = bar(ts, px, T0)
    if b is None:
        raise PlantError(f"{ev['id']}: no trade in the touch bar")
    if not is_touch(b, level):
        raise PlantError(f"{ev['id']}: bar {b} does not touch {level}")
    direction = "UP" if b["close"] < level else "DOWN"
    if direction != ev["direction"]:
        raise PlantError(f"{ev['id']}: direction {direction}, planned {ev['direction']}")
    labels = {}
    for W in WINDOWS_S:
        lab = label(ts, px, level, direction, T0, W)
        labels[f"{W // 60}min"] = lab
        if lab["outcome"] != ev["outcome"]:
            raise PlantError(f"{ev['id']}: window {W}s labels {lab['outcome']}, planned {ev['outcome']}")
    # margins of the brief: >= 25 points of reaction before T0 + 5 min, then >= 21 points away
    # through T0 + 20 min, never back beyond 15 points on the other side after the touch bar
    bounce = ev["outcome"] == "BOUNCE"
    sign = -1.0 if (direction == "UP") == bounce else 1.0
    rel = sign * (px - level)
    m5 = (ts >= T0 + 60 * NS) & (ts < T0 + 300 * NS)
    hold = (ts >= T0 + 300 * NS) & (ts <= T0 + 1200 * NS)
    after = (ts >= T0 + 60 * NS) & (ts <= T0 + 1200 * NS)
    if not m5.any() or rel[m5].max() < 25.0:
        raise PlantError(f"{ev['id']}: reaction < 25 points before T0 + 5 min")
    if not hold.any() or rel[hold].min() <= 21.0:
        raise PlantError(f"{ev['id']}: price came back within 21 points before T0 + 20 min")
    if rel[after].min() <= -15.0:
        raise PlantError(f"{ev['id']}: price went 15 points the wrong way")
    hi = window_max(ts, px, T0, T0 + 960 * NS)
    lo = window_min(ts, px, T0, T0 + 960 * NS)
    up = direction == "UP"
    pen = max(0.0, (hi - level) if up else (level - lo))
    exc = max(0.0, (level - lo) if up else (hi - level))
    return {"bar": b, "direction": direction, "labels": labels, "max_penetration_es": pen, "max_excursion_es": exc}


def check_plan(clock, ts, px, plan, levels_es: dict) -> dict:
    """Check every planted constraint on the front-month prints (ts ordered, px in ES points)."""
    out = {}
    pm_hi = window_max(ts, px, clock.pm_open, clock.rth_open)
    pm_lo = window_min(ts, px, clock.pm_open, clock.rth_open)
    or_hi = window_max(ts, px, clock.rth_open, clock.or_close)
    or_lo = window_min(ts, px, clock.rth_open, clock.or_close)
    actual = {"PM_HIGH": pm_hi, "PM_LOW": pm_lo, "OR_HIGH": or_hi, "OR_LOW": or_lo}
    for kind, lv in levels_es.items():
        if actual[kind] is None or abs(actual[kind] - lv) > EPS:
            raise PlantError(f"{kind} is {actual[kind]}, planned {lv}")
    # bands: recheck the raw constraint list at trade level
    for t0, t1, blo, bhi in plan.bands:
        m = (ts >= t0) & (ts < t1)
        if not m.any():
            continue
        p = px[m] / 0.25
        if p.min() < blo - EPS or p.max() > bhi + 1 + EPS:
            raise PlantError(f"band [{blo}, {bhi + 1}] ticks violated in [{t0}, {t1})")
    for ev in plan.events:
        lv = levels_es[ev["level_kind"]]
        # no earlier touch of the level after it is defined
        start = clock.rth_open if ev["level_kind"].startswith("PM") else clock.or_close
        for tb in range(start, ev["t0_ns"], 60 * NS):
            bb = bar(ts, px, tb)
            if bb is not None and is_touch(bb, lv):
                raise PlantError(f"{ev['id']}: earlier touch at bar {tb}")
        out[ev["id"]] = check_event(ts, px, ev, lv)
    out["_levels"] = actual
    return out
