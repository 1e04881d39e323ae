"""Planted events: the scenario spec and the per-session plan (anchors, bands, forced prints, book plants).

A scenario is a JSON file, or one of the built-in day templates (DAY_TEMPLATE_SPECS) that a session
generated without a scenario draws (default_scenario).

The plan is expressed on the *bid tick* of the front-month book (price / 0.25). A trade always prints
at the bid (sell) or at bid + 1 tick (buy), and a sweep prints between the bid before and the bid
after it, so "every trade price in [lo, hi]" over a time span is the bid band [lo, hi - 1] over the
250 ms cells of that span (plus the cell before it, whose bid a sweep at the start of the span uses).

Each event is written once in the *resistance frame* (a level approached from below) and mirrored
around its level for a support level: bid b -> 2L - 1 - b, price p -> 2L - p, buy <-> sell, ask <-> bid.

Thresholds are derived from the pipeline's labeler (SPEC §5-6, SPY frame = ES / 10):
touch = low - 1 <= L <= high + 1 and |close - L| <= 2.5 ES points; label thr2 = 20 ES points over
[T0 + W, T0 + W + 480 s], W = 120/240/480 s. The plan keeps >= 1 point of margin everywhere.

Around an event with a book plant the price is also held, through the barrier window (SPEC §7.2), where
every visible level of the plant's side of the MBP-10 book lies inside the barrier zone, so the pipeline
reads the plant (WALL / VACUUM) by construction (``_shape_around_plant``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import numpy as np

from breakbounce.synth.clock import Clock, parse_hhmm
from breakbounce.synth.params import C_SCENARIO, CELL_NS, NS, TICK, stream

INF = float("inf")

PM_KINDS = ("PM_HIGH", "PM_LOW")
OR_KINDS = ("OR_HIGH", "OR_LOW")
RESISTANCE = {"PM_HIGH": True, "OR_HIGH": True, "PM_LOW": False, "OR_LOW": False}

# what the pipeline's barrier sees (SPEC 7.2): the window [t_dec - 240 s, t_dec), t_dec = T0 + 60 s, and the
# zone L +- $0.20 (SPY frame) = L +- 8 ES ticks, on a book of 10 visible levels per side
BARRIER_WINDOW_NS = 240 * NS
ZONE_TICKS = 8
BOOK_LEVELS = 10
NEAR_LO = ZONE_TICKS + 1  # bid >= lv - 9: the best ask is inside the zone
NEAR_HI = BOOK_LEVELS - ZONE_TICKS  # bid <= lv - 2: the 10th ask is inside the zone
APPROACH_HI = 6  # bid <= lv - 6 before the touch bar (trades <= lv - 5: no earlier touch)
PAD_NS = 1 * NS
MAX_PIN_NS = 15 * NS

# customers buy 0DTE at the planted walls' strikes (dealers short gamma there) with this probability,
# over a share `mix` of the option prints; a wall's "near" = the SPY strike closest to that planted level
GAMMA_WALL_DEFAULTS = {"mix": 0.15, "buy_prob": 0.85}


class ScenarioError(ValueError):
    """The scenario file is malformed or cannot be planted."""


def _template(pm: str, pm_outcome: str, or_level: str, pm_right: str, or_right: str) -> dict:
    other = "BREAK" if pm_outcome == "BOUNCE" else "BOUNCE"
    return {
        "events": [
            {"id": f"{pm.lower()}_{pm_outcome.lower()}", "level": pm, "outcome": pm_outcome, "at": "10:05"},
            {"id": f"{or_level.lower()}_{other.lower()}", "level": or_level, "outcome": other, "at": "11:20"},
        ],
        "gamma_walls": {"walls": [{"near": pm, "right": pm_right}, {"near": or_level, "right": or_right}]},
    }


# The built-in day templates. Without a scenario file each session draws one (its own random stream of
# (seed, date), see default_scenario), so a generated multi-day run has resistance and support days, and
# bounces and breaks of both planted levels. The "break" days run beyond the PM range in the first hour:
# those are the events that reach confluence levels 1-5 (SPEC §8). Book plants follow the outcome (a wall
# before a bounce, a vacuum before a break); customers buy calls near the upper level, puts near the lower.
DAY_TEMPLATE_SPECS: dict[str, dict] = {
    "pm_high_bounce": _template("PM_HIGH", "BOUNCE", "OR_LOW", "C", "P"),
    "pm_low_bounce": _template("PM_LOW", "BOUNCE", "OR_HIGH", "P", "C"),
    "pm_high_break": _template("PM_HIGH", "BREAK", "OR_LOW", "C", "P"),
    "pm_low_break": _template("PM_LOW", "BREAK", "OR_HIGH", "P", "C"),
}
#: what a scenario file leaves out (its events, its walls) comes from this template
DEFAULT_TEMPLATE = "pm_high_bounce"


def load_scenario(path: str | None) -> dict | None:
    """A scenario file (JSON) or the name of a day template, validated; None (no scenario) stays None:
    each session then draws its day template (default_scenario)."""
    if path is None:
        return None
    if path in DAY_TEMPLATE_SPECS:
        return day_template(path)
    try:
        with open(path) as fh:
            raw = json.load(fh)
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"scenario {path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    return validate_scenario(raw)


def validate_scenario(raw: dict) -> dict:
    if not isinstance(raw, dict):
        raise ScenarioError("scenario must be a JSON object")
    unknown = set(raw) - {"name", "events", "gamma_walls"}
    if unknown:
        raise ScenarioError(f"unknown scenario keys: {sorted(unknown)}")
    base = DAY_TEMPLATE_SPECS[DEFAULT_TEMPLATE]
    sc = {}
    evs = raw.get("events", base["events"])
    if not isinstance(evs, list) or len(evs) > 2:
        raise ScenarioError("'events' must be a list of at most 2 events")
    out = []
    for ev in evs:
        if not isinstance(ev, dict):
            raise ScenarioError("each event must be an object")
        bad = set(ev) - {"id", "level", "outcome", "at", "book"}
        if bad:
            raise ScenarioError(f"unknown event keys: {sorted(bad)}")
        level = ev.get("level")
        if level not in PM_KINDS + OR_KINDS:
            raise ScenarioError(f"event level must be one of {PM_KINDS + OR_KINDS}, got {level!r}")
        outcome = str(ev.get("outcome", "BOUNCE")).upper()
        if outcome not in ("BOUNCE", "BREAK"):
            raise ScenarioError(f"event outcome must be BOUNCE or BREAK, got {outcome!r}")
        at = ev.get("at")
        try:
            secs = parse_hhmm(at)
        except (ValueError, AttributeError, TypeError):
            raise ScenarioError(f"event 'at' must be 'HH:MM' (ET), got {at!r}") from None
        if secs % 60:
            raise ScenarioError(f"event 'at' must be on a minute boundary, got {at!r}")
        book = {
            "kind": "wall" if outcome == "BOUNCE" else "vacuum",
            "multiplier": 10.0 if outcome == "BOUNCE" else 0.02,
            "minutes": 1.25 if outcome == "BOUNCE" else 3.99,
            "zone_pts": 2.0,
        }
        book.update(ev.get("book") or {})
        if "build_s" not in book:
            default_build = 65.0 if book["kind"] == "wall" else 2.0
            book["build_s"] = min(default_build, 60.0 * float(book["minutes"]))
        if book["kind"] not in ("wall", "vacuum") or not 0 < float(book["multiplier"]) <= 20:
            raise ScenarioError(f"bad book plant {book}")
        if not 0 < float(book["minutes"]) <= 60 or not 0 < float(book["zone_pts"]) <= 5:
            raise ScenarioError(f"bad book plant {book}")
        if not 0 <= float(book["build_s"]) <= 60 * float(book["minutes"]):
            raise ScenarioError(f"bad book plant {book}")
        out.append(
            {
                "id": str(ev.get("id", f"{level.lower()}_{outcome.lower()}")),
                "level": level,
                "outcome": outcome,
                "at": at,
                "book": book,
            }
        )
    kinds = [e["level"] for e in out]
    if sum(k in PM_KINDS for k in kinds) > 1 or sum(k in OR_KINDS for k in kinds) > 1:
        raise ScenarioError("at most one PM_* and one OR_* event")
    if len(kinds) == 2 and RESISTANCE[kinds[0]] == RESISTANCE[kinds[1]]:
        raise ScenarioError("the two events must pair a PM_HIGH with an OR_LOW, or a PM_LOW with an OR_HIGH")
    ors = [e for e in out if e["level"] in OR_KINDS]
    pms = [e for e in out if e["level"] in PM_KINDS]
    for e in out:
        if parse_hhmm(e["at"]) < parse_hhmm("09:46"):
            raise ScenarioError(f"event {e['id']} must touch at or after 09:46 ET")
    if ors and pms and parse_hhmm(ors[0]["at"]) < parse_hhmm(pms[0]["at"]) + 25 * 60:
        raise ScenarioError("the OR_* event must come at least 25 minutes after the PM_* event")
    sc["events"] = out
    gw = raw.get("gamma_walls", {})
    if not isinstance(gw, dict):
        raise ScenarioError("'gamma_walls' must be an object")
    merged = {**GAMMA_WALL_DEFAULTS, "walls": base["gamma_walls"]["walls"], **gw}
    if not 0 <= float(merged["mix"]) <= 0.5 or not 0.5 <= float(merged["buy_prob"]) <= 1:
        raise ScenarioError("gamma_walls: mix in [0, 0.5], buy_prob in [0.5, 1]")
    for w in merged["walls"]:
        if w.get("right") not in ("C", "P") or w.get("near") not in PM_KINDS + OR_KINDS + ("SPOT",):
            raise ScenarioError(f"bad gamma wall {w}")
    sc["gamma_walls"] = copy.deepcopy(merged)
    sc["name"] = str(raw.get("name", "custom"))
    return sc


def day_template(name: str) -> dict:
    """The validated scenario of one built-in day template (DAY_TEMPLATE_SPECS)."""
    return validate_scenario({"name": name, **DAY_TEMPLATE_SPECS[name]})


def default_scenario(seed: int, ordinal: int) -> dict:
    """The day template of a session generated without a scenario: drawn uniformly from its own stream,
    so the draw leaves every other random stream of the session unchanged."""
    names = list(DAY_TEMPLATE_SPECS)
    return day_template(names[int(stream(seed, ordinal, C_SCENARIO).integers(len(names)))])


#: the validated default template (what a scenario file's missing parts come from)
DEFAULT_SCENARIO = day_template(DEFAULT_TEMPLATE)


# ----------------------------------------------------------------------------------------------


@dataclass
class Plan:
    anchors: list[tuple[int, int]] = field(default_factory=list)  # (ts_ns, bid tick)
    bands: list[tuple[int, int, float, float]] = field(default_factory=list)  # (t0, t1, bid lo, bid hi)
    forced: list[tuple[int, int]] = field(default_factory=list)  # (ts_ns even, side +1/-1/0)
    plants: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    levels: dict = field(default_factory=dict)  # kind -> tick
    resistance_pm: bool = True


class _Frame:
    """Collects constraints for one event in the resistance frame, mirrored around ``pivot``."""

    def __init__(self, plan: Plan, pivot: int, mirror: bool):
        self.plan, self.pivot, self.mirror = plan, pivot, mirror

    def b(self, bid: float) -> float:
        return 2 * self.pivot - 1 - bid if self.mirror else bid

    def anchor(self, t: int, bid: int) -> None:
        self.plan.anchors.append((int(t), int(self.b(bid))))

    def trades_in(self, t0: int, t1: int, lo: float = -INF, hi: float = INF) -> None:
        """Every trade price (ticks) in [t0, t1) lies in [lo, hi]."""
        if self.mirror:
            lo, hi = 2 * self.pivot - hi, 2 * self.pivot - lo
        self.plan.bands.append((int(t0), int(t1), lo, hi - 1))

    def plateau(self, t: int, seconds: float, bid: int, side: int) -> None:
        t1 = t + int(seconds * NS)
        bb = self.b(bid)
        self.plan.bands.append((int(t), int(t1), bb, bb))
        self.plan.anchors.append((int(t), int(bb)))
        self.plan.anchors.append((int(t1), int(bb)))
        self.force(t + int(seconds * NS / 2), side)

    def force(self, t: int, side: int) -> None:
        self.plan.forced.append((int(t) & ~1, -side if self.mirror else side))


def _even(t: int) -> int:
    return int(t) & ~1


def build_plan(clock: Clock, scenario: dict, mid_es: float, rng: np.random.Generator) -> Plan:
    """Place the planted levels around ``mid_es`` (the day's mean level) and write their constraints."""
    plan = Plan()
    evs = scenario["events"]
    pm_ev = next((e for e in evs if e["level"] in PM_KINDS), None)
    or_ev = next((e for e in evs if e["level"] in OR_KINDS), None)
    # orientation: PM_HIGH (+ OR_LOW) is the default frame; PM_LOW (+ OR_HIGH) is its mirror image
    if pm_ev is not None:
        mirror = pm_ev["level"] == "PM_LOW"
    elif or_ev is not None:
        mirror = or_ev["level"] == "OR_HIGH"
    else:
        mirror = False
    plan.resistance_pm = not mirror
    sgn = -1 if mirror else 1
    pm_outcome = pm_ev["outcome"] if pm_ev else "BOUNCE"

    # levels, in the default frame: PM level H above, OR level L below
    H = int(round((mid_es + sgn * rng.uniform(15.0, 30.0)) / TICK))
    drop = rng.uniform(32.0, 35.0) if pm_outcome == "BOUNCE" else rng.uniform(14.0, 18.0)
    L = H - int(round(drop / TICK))
    fr = _Frame(plan, H, mirror)  # global frame: mirror the whole day around H
    plan.levels = {
        ("PM_LOW" if mirror else "PM_HIGH"): int(H),
        ("OR_HIGH" if mirror else "OR_LOW"): int(2 * H - L if mirror else L),
    }

    ro, oc = clock.rth_open, clock.or_close
    # shape anchors: 04:00 below H, 09:30 open below H, OR level reached inside the OR
    fr.anchor(clock.pm_open - CELL_NS, H - int(rng.integers(16, 49)))
    o_bid = H - int(rng.integers(32, 57))
    o_bid = int(np.clip(o_bid, L + 12, H - 8))
    fr.anchor(ro - CELL_NS, o_bid)
    fr.anchor(oc - CELL_NS, L + int(rng.integers(16, 33)))

    # PM level: max over the pre-market == H (exactly one buy prints at H on a plateau)
    t_pm = clock.et(float(rng.uniform(5.0 * 3600, 9.0 * 3600)))
    fr.trades_in(clock.pm_open, ro, hi=H)
    fr.plateau(t_pm, 3.0, H - 1, +1)
    # OR level: min over 09:30-09:45 == L; the whole OR stays below the PM level's approach cap
    t_or = clock.et(float(rng.uniform(9 * 3600 + 33 * 60, 9 * 3600 + 42 * 60)))
    fr.trades_in(ro, oc, lo=L)
    fr.plateau(t_or, 3.0, L, -1)

    rth_last = clock.rth_close
    for ev, lv, res_frame_mirror, def_start in (
        (pm_ev, H, False, ro),
        (or_ev, L, True, oc),
    ):
        if ev is None:
            continue
        T0 = clock.et(ev["at"])
        kind = ev["level"]
        rec = {
            "id": ev["id"],
            "level_kind": kind,
            "level_tick": int(2 * H - lv if mirror else lv),
            "t0_ns": int(T0),
            "t0_et": ev["at"][:5],
            "outcome": ev["outcome"],
            "direction": "UP" if RESISTANCE[kind] else "DOWN",
            "book": ev["book"],
        }
        if T0 + 960 * NS > rth_last or T0 + 1200 * NS > clock.t_end:
            rec["skipped_reason"] = "touch + 16 min label horizon does not fit before the RTH close"
            plan.skipped.append(rec)
            continue
        # the event frame: resistance frame around lv, mirrored for the support level (OR_LOW in the
        # default frame), composed with the global mirror
        local_mirror = res_frame_mirror
        ef = _EventFrame(fr, lv, local_mirror)
        t_touch = _event_template(ef, clock, def_start, T0, ev["outcome"], rng)
        z = float(ev["book"]["zone_pts"]) / TICK
        # plant on the approaching side: ask for a resistance, bid for a support
        side_res = "ask"
        lo_t, hi_t = lv - z, lv + z
        side = side_res if not local_mirror else "bid"
        if mirror:
            side = "bid" if side == "ask" else "ask"
            lo_t, hi_t = 2 * H - hi_t, 2 * H - lo_t
        # the plant starts `minutes` before the decision time t_dec = T0 + 60 s, builds (wall) / is pulled
        # (vacuum) over its first `build_s` seconds, then holds until t_dec. Defaults (barrier window
        # [t_dec - 240 s, t_dec), SPEC 7.2): the vacuum is pulled within 2 s just after the window opens (the
        # window sees the zone's visible depth cancelled, then nothing re-joins), the wall builds 10x over
        # [t_dec - 75 s, t_dec - 10 s]. From 1 s before the window opens (or the plant's start, if earlier)
        # the plant's price range holds uniform queues (at 1x until the plant starts), and the price is held
        # where the whole visible side of the book is inside the zone (_shape_around_plant).
        start = T0 + 60 * NS - int(float(ev["book"]["minutes"]) * 60 * NS)
        full = start + int(float(ev["book"]["build_s"]) * NS)
        uniform_from = min(start, T0 + 60 * NS - BARRIER_WINDOW_NS - PAD_NS)
        _shape_around_plant(ef, T0, t_touch, full, ev["book"]["kind"], rng)
        plan.plants.append(
            {
                "id": f"{ev['id']}_{ev['book']['kind']}",
                "event_id": ev["id"],
                "side": side,
                "kind": ev["book"]["kind"],
                "lo_tick": int(round(lo_t)),
                "hi_tick": int(round(hi_t)),
                "uniform_from_ns": int(uniform_from),
                "start_ns": int(start),
                "full_ns": int(full),
                "end_ns": int(T0 + 60 * NS),
                "multiplier": float(ev["book"]["multiplier"]),
            }
        )
        plan.events.append(rec)
    return plan


class _EventFrame:
    """Resistance frame of one event (level ``lv``), optionally mirrored around lv, inside the global frame."""

    def __init__(self, outer: _Frame, lv: int, mirror: bool):
        self.o, self.lv, self.m = outer, lv, mirror

    def _b(self, bid: int) -> int:
        return 2 * self.lv - 1 - bid if self.m else bid

    def anchor(self, t: int, bid: int) -> None:
        self.o.anchor(t, self._b(bid))

    def trades_in(self, t0: int, t1: int, lo: float = -INF, hi: float = INF) -> None:
        if self.m:
            lo, hi = 2 * self.lv - hi, 2 * self.lv - lo
        self.o.trades_in(t0, t1, lo, hi)

    def plateau(self, t: int, seconds: float, bid: int, side: int) -> None:
        self.o.plateau(t, seconds, self._b(bid), -side if self.m else side)

    def force(self, t: int, side: int) -> None:
        self.o.force(t, -side if self.m else side)


def _event_template(f: _EventFrame, clock: Clock, approach_start: int, T0: int, outcome: str, rng) -> int:
    """One touch of level lv at bar T0 (approach from below), then a bounce back down or a break up.
    Returns the start of the 3 s plateau on which the touching print happens."""
    lv = f.lv
    s = NS
    f.trades_in(approach_start, T0, hi=lv - 5)  # no bar touches before T0 (high <= L - 1.25)
    f.anchor(T0 - CELL_NS, lv - int(rng.integers(6, 9)))
    # bar, first 50 s: trades <= L, one buy prints exactly L on a 3 s plateau
    f.trades_in(T0, T0 + 50 * s, hi=lv)
    t1 = T0 + int(rng.uniform(8.0, 38.0) * s)
    f.plateau(t1, 3.0, lv - 1, +1)
    f.anchor(T0 + 50 * s - CELL_NS, lv - int(rng.integers(3, 6)))
    # bar, last 10 s: close in [L - 2.25, L - 0.25] -> direction is set by the approach side
    f.trades_in(T0 + 50 * s, T0 + 60 * s, lo=lv - 9, hi=lv - 1)
    f.force(T0 + 58 * s, 0)
    if outcome == "BOUNCE":
        f.anchor(T0 + 60 * s - CELL_NS, lv - int(rng.integers(8, 10)))
        f.trades_in(T0 + 60 * s, T0 + 280 * s, hi=lv - 7)  # next bars cannot touch
        f.anchor(T0 + 280 * s - CELL_NS, lv - int(round(4 * rng.uniform(27.5, 29.0))))
        f.trades_in(T0 + 280 * s, T0 + 1200 * s, hi=lv - 85)  # stays >= 21.25 points away
        f.force(T0 + 281 * s, 0)  # the reaction prints (>= 25 points) before T0 + 5 min
        f.anchor(T0 + 1200 * s - CELL_NS, lv - int(round(4 * rng.uniform(23.0, 27.0))))
    else:
        f.anchor(T0 + 60 * s - CELL_NS, lv - int(rng.integers(2, 4)))
        f.trades_in(T0 + 60 * s, T0 + 75 * s, lo=lv - 9, hi=lv + 60)
        f.anchor(T0 + 75 * s - CELL_NS, lv + int(rng.integers(14, 19)))
        f.trades_in(T0 + 75 * s, T0 + 280 * s, lo=lv + 12)  # next bar closes > 2.5 points through
        f.force(T0 + 115 * s, 0)
        f.anchor(T0 + 280 * s - CELL_NS, lv + int(round(4 * rng.uniform(27.5, 29.0))))
        f.trades_in(T0 + 280 * s, T0 + 1200 * s, lo=lv + 85)
        f.force(T0 + 281 * s, 0)
        f.anchor(T0 + 1200 * s - CELL_NS, lv + int(round(4 * rng.uniform(23.0, 27.0))))
    return t1


def _shape_around_plant(f: _EventFrame, T0: int, t_touch: int, full: int, kind: str, rng) -> None:
    """Hold the price where the barrier window sees the plant's whole zone, so that by construction the
    window shows the plant acting and little else moving liquidity in or out of the zone.

    MBP-10 shows 10 levels per side and the zone has 17 ticks. In the resistance frame (the plant is on the
    ask, the price approaches from below) a bid in [lv - 9, lv - 2] puts all 10 visible asks inside the
    zone: the zone shows 10 queues, and a one-tick move of the touch swaps one zone queue for another
    (of the same size: the plant's queues are uniform). Anywhere else near the level every one-tick move
    carries a whole queue across the zone edge, which the barrier reads as liquidity added or cancelled
    (of wall size once a wall stands), and below lv - 19 no visible ask is in the zone (nothing to pull).
    So from 1 s before the window opens until t_dec the bid stays in [lv - 9, lv - 6] before the touch
    bar (the approach cap: trades <= lv - 5) and in [lv - 9, lv - 2] in the touch bar, except on the
    touching print's plateau (bid lv - 1). A vacuum pulled within 15 s of the window opening (the default)
    is pulled with the bid pinned on one tick, so the window's first snapshot shows the 10 queues it pulls.
    """
    lv = f.lv
    t_dec = T0 + 60 * NS
    a = t_dec - BARRIER_WINDOW_NS - PAD_NS
    k = lv - int(rng.integers(APPROACH_HI, NEAR_LO + 1))
    f.anchor(a - CELL_NS, k)
    b = full + PAD_NS
    if kind == "vacuum" and b - a <= MAX_PIN_NS and b < T0 - 10 * NS:
        f.trades_in(a, b, lo=k, hi=k + 1)
        f.anchor(b - CELL_NS, k)
        a = b
    f.trades_in(a, T0, lo=lv - NEAR_LO, hi=lv - APPROACH_HI + 1)
    # touch bar: around the plateau (cell_bands widens each band by the cell before it and the plateau's
    # bands and anchors cover the cells of its ends: two cells of slack on either side)
    t_end = t_touch + 3 * NS
    f.trades_in(T0, t_touch - 2 * CELL_NS, lo=lv - NEAR_LO, hi=lv - NEAR_HI + 1)
    f.trades_in(t_end + 2 * CELL_NS, t_dec, lo=lv - NEAR_LO, hi=lv - NEAR_HI + 1)
