"""MBP-10 book records consistent with the trades, vectorised and built one UTC hour at a time.

Each record is the top-10 book after one book event. Record kinds:

* touch-defining records (session start, quote moves in cells without trades, every print of a sweep,
  the new touch after a sweep, spread widening on/off) carry the touch (best bid / best ask tick);
  every other record inherits the touch of the last touch-defining record before it;
* size updates: random adds/cancels/modifies at depth k (P ∝ e^{-k/3}) with a fresh size from the
  depth profile D(side, price, t) (the bulk of the records), absolute-price sets (planted walls /
  vacuums switching on, stepping every 5 s while a wall builds / a vacuum is pulled, and off), and
  depletions of the touch queue by non-sweeping trade prints.

D(side, price, t) = regime base x phase of day x a flat depth growth (1 %/level) x a persistent
per-price factor x a slow per-side depth factor (OU, 5 min) x a small per-update noise (3 %): a queue
changes by a few orders at a time, so the barrier's adds and cancels (SPEC 7.2) come mostly from the
touch moving and from planted builds / pulls, not from redrawing whole queues. Planted queues are
uniform over their price range and follow their ramp exactly (no per-update noise); random updates that
would re-join a vacuum while it is pulled go to the other side of the book instead.

Sizes are remembered per (side, absolute tick), so a wall stays at its price while the touch moves:
the displayed size of (side, tick) at record r is the last set there up to r minus the depletions
since (floored at 1); a set older than two minutes is forgotten (fresh draw). Sizes are computed
with ``searchsorted`` at touch changes only (20 levels each) and a forward fill (``np.repeat``) per
level column between them — no Python loop per record. State (touch, per-tick memory, the last
row) is carried from one hour to the next, so only one hour of records is ever in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from breakbounce.bronze import BOOK_DEPTH, EMPTY_LEVEL_PRICE, NS_PER_HOUR
from breakbounce.synth.clock import Clock
from breakbounce.synth.params import CELL_NS, NS, TICK, Regime
from breakbounce.synth.path import Path
from breakbounce.synth.trades import TradeEvents, cluster_times, unique_parity

UPD_NONE, UPD_REL, UPD_ABS, UPD_DEP = 0, 1, 2, 3
BID, ASK = 0, 1
MEMORY_NS = 120 * NS
TICK_SIGMA = 0.08  # log-sd of the persistent per-price size factor
LEVEL_GROWTH = 1.01  # queues grow ~1 % per level away from the touch
SLOW_SIGMA = 0.3  # stationary log-sd of a side's slow depth factor
SLOW_TAU_NS = 300 * NS  # its correlation time
SLOW_KNOT_NS = 30 * NS
SET_SIGMA = 0.03  # log-sd of a queue's refreshed size around its profile (queues change by a few orders at a time)
RAMP_STEP_NS = 5 * NS  # a planted wall / vacuum steps its queues every 5 s while it builds / is pulled
PLANT_LEVEL_FAC = LEVEL_GROWTH**4.5  # planted queues are uniform across depth (the mean depth factor)
PLANT_NOISE_SIGMA = 0.02  # log-sd of a planted wall's per-tick size factor

SUB_BITS = 12
NCOL = 2 * BOOK_DEPTH
_LEVEL_P = np.exp(-np.arange(BOOK_DEPTH) / 3.0)
_LEVEL_P /= _LEVEL_P.sum()
# 15 random bits -> depth level with P(k) ∝ e^{-k/3}
_LEVEL_TABLE = np.searchsorted(np.cumsum(_LEVEL_P), (np.arange(1 << 15) + 0.5) / (1 << 15)).astype(np.int8)


def plant_multiplier(p: dict, ts) -> np.ndarray:
    """Size multiplier of a plant at ``ts``: 1 at start_ns, growing (wall) / shrinking (vacuum) geometrically
    to ``multiplier`` at full_ns, then held until end_ns. Uniform over the plant's price range (a tapered
    wall would make every one-tick shift of the visible book swap unequal queues in and out of the zone)."""
    start = p["start_ns"]
    full = p.get("full_ns", start)
    w = np.clip((np.asarray(ts, dtype=np.float64) - start) / max(full - start, 1), 0.0, 1.0)
    return float(p["multiplier"]) ** w


@dataclass
class BookStats:
    records: int = 0
    back_rows: int = 0
    duplicates: int = 0
    widened_rth: int = 0
    rows_rth: int = 0
    widened_on: int = 0
    rows_on: int = 0

    @property
    def widened_rth_frac(self) -> float:
        return self.widened_rth / max(self.rows_rth, 1)

    @property
    def widened_overnight_frac(self) -> float:
        return self.widened_on / max(self.rows_on, 1)


class _Parts:
    """Column-wise accumulator for the non-bulk record sources."""

    spec = {
        "ts": np.int64,
        "sub": np.int32,
        "tdef": bool,
        "bt": np.int32,
        "at": np.int32,
        "upd": np.int8,
        "side": np.int8,
        "uval": np.int32,
        "amount": np.int32,
        "link": np.int32,
        "lat": np.int32,
    }

    def __init__(self):
        self.parts = {k: [] for k in self.spec}

    def add(self, n, ts, sub=0, tdef=False, bt=0, at=0, upd=UPD_NONE, side=0, uval=0, amount=0, link=-1, lat=-1):
        vals = dict(
            ts=ts, sub=sub, tdef=tdef, bt=bt, at=at, upd=upd, side=side, uval=uval, amount=amount, link=link, lat=lat
        )
        for k, dt in self.spec.items():
            a = np.asarray(vals[k])
            self.parts[k].append(np.full(n, a, dtype=dt) if a.ndim == 0 else a.astype(dt))

    def concat(self) -> dict:
        return {k: np.concatenate(v) for k, v in self.parts.items()}


def _ffill_repeat(breaks: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Values held from each break position (sorted, first == 0) to the next, over n rows."""
    lengths = np.diff(np.append(breaks, n))
    return np.repeat(values, lengths)


class BookBuilder:
    def __init__(
        self,
        clock: Clock,
        path: Path,
        ev: TradeEvents,
        plants: list[dict],
        regime: Regime,
        n_target: int,
        n_back_rows: int,
        dup_frac: float,
        front: str,
        back: str,
        rng: np.random.Generator,
        dup_rng: np.random.Generator,
    ):
        self.clock, self.path, self.ev, self.plants = clock, path, ev, plants
        self.regime, self.n_target, self.n_back_rows, self.dup_frac = regime, n_target, n_back_rows, dup_frac
        self.front, self.back = front, back
        self.rng, self.dup_rng = rng, dup_rng
        self.stats = BookStats()
        # a planted queue's size is the same on every tick of the plant up to a little noise for a wall
        # (none for a vacuum): a one-tick move of the touch inside the plant swaps equal queues
        self.plant_noise = [
            rng.lognormal(0.0, PLANT_NOISE_SIGMA, p["hi_tick"] - p["lo_tick"] + 1) ** (p["kind"] == "wall")
            for p in plants
        ]
        # the resting depth of each side drifts over minutes (an OU log factor per side on a 30 s grid)
        n_knots = int((clock.t_end - clock.t0) // SLOW_KNOT_NS) + 2
        phi = float(np.exp(-SLOW_KNOT_NS / SLOW_TAU_NS))
        z = rng.standard_normal((n_knots, 2)) * (SLOW_SIGMA * np.sqrt(1.0 - phi * phi))
        z[0] = z[0] / np.sqrt(1.0 - phi * phi)
        slow = np.empty_like(z)
        acc = np.zeros(2)
        for i, zi in enumerate(z):  # ~2,800 knots: cheap
            acc = phi * acc + zi
            slow[i] = acc
        self.slow = slow
        self._assemble()

    # ------------------------------------------------------------------------------------------
    def size_profile(self, side, tick, level, ts, sigma=SET_SIGMA):
        """Fresh displayed size D(side, tick, t) at book depth ``level`` (integers >= 1)."""
        c = self.clock
        ph = np.where(ts < c.pm_open, 0.35, np.where(ts < c.rth_open, 0.55, np.where(ts < c.rth_close, 1.0, 0.5)))
        base = self.regime.book_base * ph * self.level_fac[np.clip(level, 0, BOOK_DEPTH - 1)]
        base *= self.tick_fac[np.clip(tick - self.tmin, 0, len(self.tick_fac) - 1)]
        base *= np.exp(self._side_factor(side, ts))
        z = base * self.rng.lognormal(0.0, sigma, np.shape(base))
        for p, noise in zip(self.plants, self.plant_noise):
            hit = self._in_plant(p, side, tick, ts)
            if hit.any():
                # a planted wall / vacuum is a smooth, uniform queue profile (no per-update noise): its
                # size only follows the build / pull ramp, so its adds and cancels are the ramp itself
                sf = np.exp(self._side_factor(side, np.full(np.shape(ts), p["start_ns"])))
                pb = self.regime.book_base * ph * sf * PLANT_LEVEL_FAC * plant_multiplier(p, ts)
                pb = pb * noise[np.clip(tick - p["lo_tick"], 0, len(noise) - 1)]
                z = np.where(hit, pb, z)
        return np.maximum(np.rint(z), 1).astype(np.int64)

    def _side_factor(self, side, ts):
        """The slow log-depth factor of one book side at ``ts`` (linear between 30 s knots)."""
        k = (np.asarray(ts, dtype=np.float64) - self.clock.t0) / SLOW_KNOT_NS
        i = np.clip(k.astype(np.int64), 0, self.slow.shape[0] - 2)
        f = np.clip(k - i, 0.0, 1.0)
        sd = np.asarray(side, dtype=np.int64)
        return self.slow[i, sd] * (1.0 - f) + self.slow[i + 1, sd] * f

    @staticmethod
    def _in_plant(p, side, tick, ts):
        """Whether (side, tick, ts) is a planted queue: from ``uniform_from_ns`` (uniform queues at 1x until
        ``start_ns``; = ``start_ns`` when absent) to ``end_ns``."""
        sd = BID if p["side"] == "bid" else ASK
        t_on = p.get("uniform_from_ns", p["start_ns"])
        return (side == sd) & (tick >= p["lo_tick"]) & (tick <= p["hi_tick"]) & (ts >= t_on) & (ts < p["end_ns"])

    # ------------------------------------------------------------------------------------------
    def _assemble(self) -> None:
        c, path, ev, rng = self.clock, self.path, self.ev, self.rng
        B = path.bid
        P = _Parts()
        # 1. session start
        P.add(1, c.t0 + 1, tdef=True, bt=B[0], at=B[0] + 1)
        # 2. quote moves in cells without trades (a new order joins at the new touch)
        has_trade = np.zeros(c.n_cells, dtype=bool)
        has_trade[ev.cell] = True
        chg = np.flatnonzero((B[1:] != B[:-1]) & ~has_trade[1:]) + 1
        up = B[chg] > B[chg - 1]
        q_t = c.t0 + chg.astype(np.int64) * CELL_NS + 1
        P.add(
            len(chg),
            q_t,
            tdef=True,
            bt=B[chg],
            at=B[chg] + 1,
            upd=UPD_ABS,
            side=np.where(up, BID, ASK),
            uval=np.where(up, B[chg], B[chg] + 1),
        )
        # 3. trade prints: depletions at the touch, or the sweep's level-by-level touch moves
        pe = ev.p_event
        pts = ev.t[pe]
        plat = ev.latency[pe]
        buy = ev.side[pe] > 0
        pre = ev.pre[pe]
        nc = ~ev.p_clear
        P.add(
            int(nc.sum()),
            pts[nc],
            sub=ev.p_sub[nc] + 1,
            upd=UPD_DEP,
            side=np.where(buy[nc], ASK, BID),
            uval=np.where(buy[nc], pre[nc] + 1, pre[nc]),
            amount=ev.p_size[nc],
            lat=plat[nc],
        )
        cl = ev.p_clear
        m = ev.p_sub[cl]
        P.add(
            int(cl.sum()),
            pts[cl],
            sub=m + 1,
            tdef=True,
            bt=np.where(buy[cl], pre[cl], pre[cl] - 1 - m),
            at=np.where(buy[cl], pre[cl] + 2 + m, pre[cl] + 1),
            link=np.where(m == 0, pe[cl], -1),
            lat=plat[cl],
        )
        ce = np.flatnonzero(ev.post != ev.pre)
        k = np.abs(ev.post[ce] - ev.pre[ce])
        cbuy = ev.side[ce] > 0
        P.add(
            len(ce),
            ev.t[ce],
            sub=k + 1,
            tdef=True,
            bt=ev.post[ce],
            at=ev.post[ce] + 1,
            upd=UPD_ABS,
            side=np.where(cbuy, BID, ASK),
            uval=np.where(cbuy, ev.post[ce], ev.post[ce] + 1),
            lat=ev.latency[ce],
        )
        # 4. spread widening inside gaps between touch events (never across a trade or a quote move)
        tt = np.concatenate([ev.t, q_t])
        tb = np.concatenate([ev.post, B[chg]])
        o = np.argsort(tt, kind="stable")
        tt, tb = tt[o], tb[o]
        ga, gb, gbid = tt[:-1], tt[1:], tb[:-1]
        in_rth = (ga >= c.rth_open) & (ga < c.rth_close)
        p_w = np.where(in_rth, 0.03, 0.15)
        ok = (gb - ga > 3_000_000) & (rng.random(len(ga)) < p_w)
        ga, gb, gbid = ga[ok], gb[ok], gbid[ok]
        w1 = ga + 1_000_000 + (rng.uniform(0.0, 0.4, len(ga)) * (gb - ga - 2_000_000)).astype(np.int64)
        w2 = w1 + (rng.uniform(0.3, 0.9, len(ga)) * (gb - 1_000_000 - w1)).astype(np.int64)
        w1, w2 = w1 | 1, w2 | 1
        wside = (rng.random(len(ga)) < 0.5).astype(np.int8)
        P.add(len(ga), w1, tdef=True, bt=gbid - (wside == BID), at=gbid + 1 + (wside == ASK))
        P.add(
            len(ga),
            w2,
            tdef=True,
            bt=gbid,
            at=gbid + 1,
            upd=UPD_ABS,
            side=wside,
            uval=np.where(wside == BID, gbid, gbid + 1),
        )
        # 5. planted walls / vacuums switch on and off as absolute-price sets
        #    (plus a set per tick every few seconds while the wall builds / the vacuum is pulled)
        for p in self.plants:
            ticks = np.arange(p["lo_tick"], p["hi_tick"] + 1, dtype=np.int64)
            sd = BID if p["side"] == "bid" else ASK
            full = p.get("full_ns", p["start_ns"])
            steps = list(range(int(p["start_ns"]), int(full), RAMP_STEP_NS)) + [int(full), int(p["end_ns"])]
            steps.append(int(p.get("uniform_from_ns", p["start_ns"])))
            for t_sw in sorted(set(steps)):
                P.add(len(ticks), int(t_sw) | 1, upd=UPD_ABS, side=sd, uval=ticks)
        R = P.concat()
        key = ((R["ts"] - c.t0) << SUB_BITS) | np.minimum(R["sub"], (1 << SUB_BITS) - 1)
        order = np.argsort(key, kind="stable")
        self.o_key = key[order]
        self.o = {k: v[order] for k, v in R.items()}
        n_fixed = len(order)

        # 6. the bulk: random adds / cancels / modifies at odd ns (clustered after trades, a
        #    background ∝ activity, and one per 250 ms bucket in RTH)
        ct = c.cell_times()
        rth_cells = np.flatnonzero((ct >= c.rth_open) & (ct < c.rth_close))
        hb = c.t0 + rth_cells * CELL_NS + rng.integers(0, CELL_NS // 2, len(rth_cells)) * 2 + 1
        n_a = max(self.n_target - n_fixed - len(hb), 0)
        n_child = int(0.6 * n_a)
        kids = rng.poisson(n_child / max(ev.n, 1), ev.n)
        par = np.repeat(np.arange(ev.n), kids)
        gaps = rng.exponential(0.04 * NS, len(par))
        st = np.cumsum(kids) - kids
        cs = np.cumsum(gaps)
        off = cs - np.repeat(np.where(st > 0, cs[np.maximum(st - 1, 0)], 0.0), kids) if len(cs) else cs
        t_child = ev.t[par] + 1 + off.astype(np.int64)
        del par, gaps, cs, off
        t_bg = cluster_times(rng, c, path.act * path.vol_mult, n_a - n_child, 0.0, 0.01, c.t_end - 1)
        ta = np.concatenate([t_child, t_bg, hb])
        del t_child, t_bg
        ta = ta[(ta > c.t0 + 2) & (ta < c.t_end)]
        ta = unique_parity(ta, 1)
        self.a_ts = ta[ta < c.t_end]
        self.a_rand = rng.integers(0, 1 << 16, len(self.a_ts), dtype=np.uint16)  # bit 0 side, rest depth

        # price range, per-tick factors (memory of a price x round-number walls), per-level growth
        lo_t = int(min(B.min(), self.o["bt"].min())) - BOOK_DEPTH - 4
        hi_t = int(max(B.max(), self.o["at"].max())) + BOOK_DEPTH + 4
        for p in self.plants:
            lo_t, hi_t = min(lo_t, p["lo_tick"]), max(hi_t, p["hi_tick"])
        self.tmin, self.TR = lo_t, hi_t - lo_t + 1
        tk = np.arange(lo_t, hi_t + 1)
        rnd = np.where((tk % 100 == 0) | (tk % 40 == 0), 3.0, np.where(tk % 20 == 0, 2.0, 1.0))
        self.tick_fac = rng.lognormal(0.0, TICK_SIGMA, self.TR) * rnd
        self.level_fac = LEVEL_GROWTH ** np.arange(BOOK_DEPTH)

        # carried state between hours
        self.mem_val = np.full(2 * self.TR, -1, dtype=np.int64)  # last set value per (side, tick)
        self.mem_ts = np.zeros(2 * self.TR, dtype=np.int64)
        self.mem_dep = np.zeros(2 * self.TR, dtype=np.int64)  # depletions since that set
        self.touch = (int(B[0]), int(B[0]) + 1)
        self.last_row = np.ones(NCOL, dtype=np.int64)
        self.seq_next = 1
        # back-month rows: copies of the first visible record at/after a few random RTH times
        self.back_times = np.sort(rng.integers(c.rth_open, c.rth_close, self.n_back_rows))
        # sweep bookkeeping: event id of the first record of each sweep (in the fixed records)
        self.o_link = self.o["link"]

    # ------------------------------------------------------------------------------------------
    def _lookup(self, rows, bt, at, ts, s_key, s_r, s_val, s_ts, d_key, d_cs, n):
        """Displayed sizes of the 20 levels at chunk rows ``rows`` -> (len(rows), 20)."""
        k = len(rows)
        j = np.arange(BOOK_DEPTH)
        tick = np.concatenate([bt[rows][:, None] - j, at[rows][:, None] + j], axis=1).ravel()
        side = np.tile(np.repeat([BID, ASK], BOOK_DEPTH), k)
        lvl = np.tile(np.concatenate([j, j]), k)
        r = np.repeat(rows, NCOL)
        tq = np.repeat(ts[rows], NCOL)
        sk = side * self.TR + (tick - self.tmin)
        q = sk * n + r
        dpos = np.searchsorted(d_key, q, side="right")
        stream_start = np.searchsorted(d_key, np.arange(2 * self.TR, dtype=np.int64) * n, side="left")
        dep_to_r = d_cs[dpos] - d_cs[stream_start[sk]]  # depletions of that (side, tick) in this hour up to r
        i = np.searchsorted(s_key, q, side="right") - 1
        ic = np.maximum(i, 0)
        local = (i >= 0) & (s_key[ic] // n == sk) if len(s_key) else np.zeros(len(q), bool)
        out = np.empty(len(q), dtype=np.int64)
        set_ts = np.empty(len(q), dtype=np.int64)
        if local.any():
            li = ic[local]
            d_at_set = d_cs[np.searchsorted(d_key, sk[local] * n + s_r[li], side="right")]
            out[local] = s_val[li] - (d_cs[dpos[local]] - d_at_set)
            set_ts[local] = s_ts[li]
        carried = ~local
        skc = sk[carried]
        out[carried] = self.mem_val[skc] - self.mem_dep[skc] - dep_to_r[carried]
        set_ts[carried] = self.mem_ts[skc]
        fresh = (carried & (self.mem_val[sk] < 0)) | (tq - set_ts > MEMORY_NS)
        out = np.maximum(out, 1)
        if fresh.any():
            out[fresh] = self.size_profile(side[fresh], tick[fresh], lvl[fresh], tq[fresh])
        return out.reshape(k, NCOL)

    # ------------------------------------------------------------------------------------------
    def tables(self):
        """Yield one Arrow table (MBP10_SCHEMA column order) per UTC hour; fills sweep print sizes."""
        for build in self.builders():
            yield build()

    def builders(self):
        """Yield one zero-argument table builder per UTC hour (all state and randomness resolved in
        hour order here; the builder only materialises the Arrow columns, e.g. in a writer thread).
        Fills the sweep print sizes of the trades as it goes."""
        c, ev = self.clock, self.ev
        clear_prints = np.flatnonzero(ev.p_clear)
        cp_event = ev.p_event[clear_prints]
        sweep_k = np.abs(ev.post - ev.pre)
        h_first = c.t0 // NS_PER_HOUR
        h_last = (c.t_end - 1) // NS_PER_HOUR
        for h in range(h_first, h_last + 1):
            lo_key = max(h * NS_PER_HOUR - c.t0, 0) << SUB_BITS
            hi_key = ((h + 1) * NS_PER_HOUR - c.t0) << SUB_BITS
            os_, oe = np.searchsorted(self.o_key, [lo_key, hi_key])
            as_, ae = np.searchsorted(self.a_ts, [h * NS_PER_HOUR, (h + 1) * NS_PER_HOUR])
            if oe == os_ and ae == as_:
                continue
            yield self._chunk(slice(os_, oe), slice(as_, ae), clear_prints, cp_event, sweep_k)

    def _chunk(self, so, sa, clear_prints, cp_event, sweep_k):
        c, ev, o = self.clock, self.ev, self.o
        ko = self.o_key[so]
        a_ts = self.a_ts[sa]
        ka = (a_ts - c.t0) << SUB_BITS
        no, na = len(ko), len(ka)
        n = no + na
        pos_o = np.arange(no) + np.searchsorted(ka, ko, side="left")
        pos_a = np.arange(na) + np.searchsorted(ko, ka, side="right")
        ts = np.empty(n, dtype=np.int64)
        ts[pos_o] = o["ts"][so]
        ts[pos_a] = a_ts
        tdef = np.zeros(n, dtype=bool)
        tdef[pos_o] = o["tdef"][so]
        upd = np.full(n, UPD_REL, dtype=np.int8)
        upd[pos_o] = o["upd"][so]
        side = np.empty(n, dtype=np.int8)
        ar = self.a_rand[sa]
        side[pos_a] = (ar & 1).astype(np.int8)
        side[pos_o] = o["side"][so]
        # touch: forward fill of the touch-defining records (carried touch before the first one)
        seg_id = np.cumsum(tdef)
        bt_t = np.concatenate([[self.touch[0]], o["bt"][so][o["tdef"][so]]]).astype(np.int64)
        at_t = np.concatenate([[self.touch[1]], o["at"][so][o["tdef"][so]]]).astype(np.int64)
        bt, at = bt_t[seg_id], at_t[seg_id]
        if np.any(at <= bt):
            raise AssertionError("generator produced a crossed book")
        tick = np.empty(n, dtype=np.int64)
        lvl_a = _LEVEL_TABLE[ar >> 1]
        tick[pos_a] = np.where(side[pos_a] == BID, bt[pos_a] - lvl_a, at[pos_a] + lvl_a)
        tick[pos_o] = o["uval"][so]
        # nobody re-joins a vacuum while it is pulled: random updates there go to the other side instead
        for p in self.plants:
            if p["kind"] != "vacuum":
                continue
            flip = self._in_plant(p, side[pos_a], tick[pos_a], a_ts) & (a_ts >= p["start_ns"])
            if flip.any():
                fi = pos_a[flip]
                side[fi] = 1 - side[fi]
                tick[fi] = np.where(side[fi] == BID, bt[fi] - lvl_a[flip], at[fi] + lvl_a[flip])
        level = np.where(side == BID, bt - tick, tick - at)
        is_set = (upd == UPD_REL) | (upd == UPD_ABS)
        visible_set = is_set & (level >= 0) & (level < BOOK_DEPTH)
        vis = tdef | (upd != UPD_ABS) | visible_set
        amount = np.zeros(n, dtype=np.int64)
        amount[pos_o] = o["amount"][so]
        si = np.flatnonzero(is_set)
        setval = self.size_profile(side[si], tick[si], level[si], ts[si])

        # hour-local memory: sets and depletions sorted by (side, tick) stream then row
        sk = side.astype(np.int64) * self.TR + (tick - self.tmin)
        sk_dt = np.uint16 if 2 * self.TR < 65536 else np.int64
        oset = np.argsort(sk[si].astype(sk_dt), kind="stable")
        s_r = si[oset]
        s_key = sk[s_r] * n + s_r
        s_val = setval[oset]
        s_ts = ts[s_r]
        di = np.flatnonzero(upd == UPD_DEP)
        odep = np.argsort(sk[di].astype(sk_dt), kind="stable")
        d_r = di[odep]
        d_key = sk[d_r] * n + d_r
        d_cs = np.concatenate([[0], np.cumsum(amount[d_r])])

        seg_pos = np.flatnonzero(tdef)
        if n and (len(seg_pos) == 0 or seg_pos[0] != 0):
            seg_pos = np.concatenate([[0], seg_pos])
        lk = self._lookup(seg_pos, bt, at, ts, s_key, s_r, s_val, s_ts, d_key, d_cs, n)

        # level columns: forward fill from (segment starts ∪ sets at that column)
        colid = np.full(n, -1, dtype=np.int8)
        vsi = visible_set[si]
        colid[si[vsi]] = (side[si[vsi]] * BOOK_DEPTH + level[si[vsi]]).astype(np.int8)
        val_full = np.zeros(n, dtype=np.int64)
        val_full[si] = setval
        oc = np.argsort(colid, kind="stable")
        bounds = np.searchsorted(colid[oc], np.arange(-1, NCOL + 1))
        is_dep = upd == UPD_DEP
        sizes_buf = pa.allocate_buffer(NCOL * n * 8)
        sizes = np.frombuffer(sizes_buf, dtype=np.int64).reshape(NCOL, n)
        seg_tag = np.zeros(n, dtype=bool)
        seg_tag[seg_pos] = True
        for cc in range(NCOL):
            sp = oc[bounds[cc + 1] : bounds[cc + 2]]
            sp = sp[~seg_tag[sp]]  # a set on a segment start is already in the lookup
            brk = np.concatenate([seg_pos, sp])
            vals = np.concatenate([lk[:, cc], val_full[sp]])
            ob = np.argsort(brk, kind="stable")
            brk, vals = brk[ob], vals[ob]
            col = _ffill_repeat(brk, vals, n)
            if cc % BOOK_DEPTH == 0:
                dep = np.where(is_dep & (side == cc // BOOK_DEPTH), amount, 0)
                C = np.cumsum(dep)
                last = _ffill_repeat(brk, brk, n)
                col = np.maximum(col - (C - C[last]), 1)
            sizes[cc] = col

        # sweep prints take the size displayed just before the sweep
        first_local = pos_o[self.o_link[so] >= 0]
        sweep_ev = self.o_link[so][self.o_link[so] >= 0]
        if len(sweep_ev):
            sel = np.flatnonzero(np.isin(cp_event, sweep_ev))
            fl = first_local[np.searchsorted(sweep_ev, cp_event[sel])]  # sweeps are in event (= time) order
            cpm = ev.p_sub[clear_prints[sel]]
            colx = np.where(ev.side[cp_event[sel]] > 0, BOOK_DEPTH, 0) + np.minimum(cpm, BOOK_DEPTH - 1)
            prev = fl - 1
            got = np.where(prev >= 0, sizes[colx, np.maximum(prev, 0)], self.last_row[colx])
            deep = cpm >= BOOK_DEPTH
            if deep.any():
                e = cp_event[sel][deep]
                got[deep] = self.size_profile(
                    np.where(ev.side[e] > 0, ASK, BID), ev.p_price[clear_prints[sel][deep]], BOOK_DEPTH - 1, ev.t[e]
                )
            # the last level of a sweep prints at most the order's size (the rest of that queue is
            # cancelled in the same event); the levels before it are consumed whole
            last_lvl = cpm == sweep_k[cp_event[sel]] - 1
            got = np.where(last_lvl, np.minimum(got, ev.size[cp_event[sel]]), got)
            ev.p_size[clear_prints[sel]] = np.maximum(got, 1)

        # carry state to the next hour
        self.touch = (int(bt[-1]), int(at[-1]))
        self.last_row = sizes[:, -1].copy()
        dep_tot = np.bincount(sk[d_r], weights=amount[d_r], minlength=2 * self.TR).astype(np.int64)
        self.mem_dep += dep_tot
        if len(s_r):
            s_sk = sk[s_r]
            last_of_stream = np.flatnonzero(np.append(s_sk[1:] != s_sk[:-1], True))
            lsk = s_sk[last_of_stream]
            lr = s_r[last_of_stream]
            d_after = (
                d_cs[np.searchsorted(d_key, (lsk + 1) * n, side="left")]
                - d_cs[np.searchsorted(d_key, lsk * n + lr, side="right")]
            )
            self.mem_val[lsk] = s_val[last_of_stream]
            self.mem_ts[lsk] = s_ts[last_of_stream]
            self.mem_dep[lsk] = d_after

        # output rows
        out = np.flatnonzero(vis)
        latency = np.rint(self.rng.lognormal(np.log(250_000.0), 0.4, n)).astype(np.int64) + 20_000
        lat_o = o["lat"][so].astype(np.int64)  # records emitted by a trade share its ts_recv
        latency[pos_o] = np.where(lat_o >= 0, lat_o, latency[pos_o])
        depth = np.clip(1 + (9 * (ts - c.t0)) // (60 * NS), 1, BOOK_DEPTH)
        rth = (ts >= c.rth_open) & (ts < c.rth_close)
        wide = (at - bt) > 1
        self.stats.widened_rth += int((wide & rth & vis).sum())
        self.stats.rows_rth += int((rth & vis).sum())
        self.stats.widened_on += int((wide & ~rth & vis).sum())
        self.stats.rows_on += int((~rth & vis).sum())

        bsel = np.zeros(n, dtype=bool)
        bt_in = self.back_times[(self.back_times >= ts[0]) & (self.back_times <= ts[-1])]
        if len(bt_in):
            cand = np.searchsorted(ts[out], bt_in)
            cand = out[cand[cand < len(out)]]
            bsel[cand] = True
        wgt = vis.astype(np.int64) * (1 + bsel)
        seq = self.seq_next + np.cumsum(wgt) - wgt
        self.seq_next += int(wgt.sum())

        # exact duplicates of a few front-month rows (staging's dedup work) and back-month copies;
        # every random draw happens here, in hour order, so the output never depends on threads
        nf = len(out)
        nd = int(self.dup_rng.binomial(nf, self.dup_frac))
        dsel = np.sort(self.dup_rng.choice(nf, nd, replace=False)) if nd else None
        g = out[bsel[out]]
        self.stats.duplicates += nd
        self.stats.back_rows += len(g)
        self.stats.records += nf + nd + len(g)
        spread = int(round(self.regime.calendar_spread / TICK))
        front, back = self.front, self.back

        def build() -> pa.Table:
            cols = BookBuilder._columns(ts, latency, seq, bt, at, sizes, depth, front, out, sizes_buf)
            parts = [pa.Table.from_pydict(cols)]
            if nd:
                parts.append(parts[0].take(pa.array(dsel)))
            if len(g):
                bsz = np.maximum(np.rint(sizes[:, g] * 0.3), 1).astype(np.int64)
                bcols = BookBuilder._columns(
                    ts[g], latency[g] + 1000, seq[g] + 1, bt[g] + spread, at[g] + spread, bsz, depth[g], back
                )
                parts.append(pa.Table.from_pydict(bcols))
            return pa.concat_tables(parts)

        return build

    @staticmethod
    def _columns(ts, latency, seq, bt, at, sizes, depth, symbol, rows=None, sizes_buf=None) -> dict:
        """The MBP-10 columns of ``rows`` (all when None), written straight into Arrow buffers
        (Arrow's pool recycles them hour after hour; fresh numpy arrays would page-fault)."""
        if rows is None:
            rows = np.arange(len(ts))
        n = len(rows)
        cols = {
            "ts_event_ns": _take_i64(ts, rows),
            "ts_recv_ns": _i64_from(ts[rows] + latency[rows]),
            "source": pa.repeat(pa.scalar("direct_feed"), n),
            "symbol": pa.repeat(pa.scalar(symbol), n),
            "is_snapshot": pa.array(np.zeros(n, dtype=bool)),
            "seq": _take_i64(seq, rows),
        }
        all_rows = n == len(ts)
        btf = (bt if all_rows else bt[rows]) * TICK
        atf = (at if all_rows else at[rows]) * TICK
        empty_any = bool(n) and bool((depth[rows] < BOOK_DEPTH).any())
        dr = depth[rows] if empty_any else None
        for j in range(BOOK_DEPTH):
            bpx, bpx_a = _f64_buffer(n)
            np.subtract(btf, j * TICK, out=bpx)
            apx, apx_a = _f64_buffer(n)
            np.add(atf, j * TICK, out=apx)
            if all_rows and not empty_any and sizes_buf is not None:
                # zero-copy views of the (Arrow-allocated) size matrix
                bsz_a = _i64_view(sizes_buf, n, j)
                asz_a = _i64_view(sizes_buf, n, BOOK_DEPTH + j)
            else:
                bsz_a = _take_i64(sizes[j], rows)
                asz_a = _take_i64(sizes[BOOK_DEPTH + j], rows)
            if empty_any:
                empty = dr <= j
                bpx[empty] = EMPTY_LEVEL_PRICE
                apx[empty] = EMPTY_LEVEL_PRICE
                bsz_np = np.frombuffer(bsz_a.buffers()[1], dtype=np.int64)
                asz_np = np.frombuffer(asz_a.buffers()[1], dtype=np.int64)
                bsz_np[empty] = 0
                asz_np[empty] = 0
            cols[f"bid_px_{j + 1}"] = bpx_a
            cols[f"bid_sz_{j + 1}"] = bsz_a
            cols[f"ask_px_{j + 1}"] = apx_a
            cols[f"ask_sz_{j + 1}"] = asz_a
        return cols


def _f64_buffer(n: int):
    buf = pa.allocate_buffer(n * 8)
    return np.frombuffer(buf, dtype=np.float64), pa.Array.from_buffers(pa.float64(), n, [None, buf])


def _i64_view(buf: pa.Buffer, n: int, row: int) -> pa.Array:
    return pa.Array.from_buffers(pa.int64(), n, [None, buf.slice(row * n * 8, n * 8)])


def _take_i64(src: np.ndarray, rows: np.ndarray) -> pa.Array:
    n = len(rows)
    buf = pa.allocate_buffer(n * 8)
    np.take(src, rows, out=np.frombuffer(buf, dtype=np.int64))
    return pa.Array.from_buffers(pa.int64(), n, [None, buf])


def _i64_from(a: np.ndarray) -> pa.Array:
    n = len(a)
    buf = pa.allocate_buffer(n * 8)
    np.frombuffer(buf, dtype=np.int64)[:] = a
    return pa.Array.from_buffers(pa.int64(), n, [None, buf])
