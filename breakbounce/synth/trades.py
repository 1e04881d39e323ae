"""ES trade events and prints: clustered arrivals, aggressor sides, sweeps, sizes, back month.

A trade *event* is one aggressive order at one ns timestamp (even ns; book-only records use odd ns,
so a trade is never tied with a book-only record). The touch only changes at the first event of a
250 ms cell (a sweep through the old touch levels) or, in cells without trades, by a quote move.
Prints of one event share ts_event_ns and are told apart by seq.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from breakbounce.synth.clock import Clock
from breakbounce.synth.params import CELL_NS, NS
from breakbounce.synth.path import Path


def cluster_times(
    rng: np.random.Generator,
    clock: Clock,
    weight: np.ndarray,
    n_events: float,
    branching: float,
    mean_delay_s: float,
    t_hi: int,
) -> np.ndarray:
    """Hawkes-like arrivals as a cluster process: Poisson immigrants with intensity ∝ ``weight`` per
    cell, each followed by a geometric chain of offspring at exponential delays. Sorted int64 ns."""
    lam = weight / weight.sum() * n_events * (1.0 - branching)
    cum = np.cumsum(lam)
    n_imm = rng.poisson(cum[-1])
    u = np.sort(rng.random(n_imm)) * cum[-1]
    c = np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)
    prev = np.where(c > 0, cum[c - 1], 0.0)
    frac = np.clip((u - prev) / np.maximum(lam[c], 1e-300), 0.0, 1.0 - 1e-9)
    imm = clock.t0 + ((c + frac) * CELL_NS).astype(np.int64)
    g = rng.geometric(1.0 - branching, n_imm)
    total = int(g.sum())
    parent = np.repeat(np.arange(n_imm), g)
    gaps = rng.exponential(mean_delay_s * NS, total)
    starts = np.cumsum(g) - g
    gaps[starts] = 0.0
    cs = np.cumsum(gaps)
    off = cs - np.repeat(cs[starts], g)
    t = imm[parent] + off.astype(np.int64)
    t = t[t < t_hi]
    t.sort()
    return t


def unique_parity(t: np.ndarray, parity: int) -> np.ndarray:
    """Sorted, strictly increasing (step >= 2) times with the given ns parity."""
    t = np.sort((t & ~1) | parity)
    i = 2 * np.arange(len(t), dtype=np.int64)
    return np.maximum.accumulate(t - i) + i


FILL_A, FILL_B, FILL_SIGMA = 0.9, 0.75, 2.0  # prints/event 1 + Poisson(a size^b); lognormal fill shares
# (print sizes then match the 2013 tape: 1 lot ~51 %, 2 lots ~20 %, mean ~3.4, q99 ~35)
EVENTS_PER_PRINT = 1.0 / 6.9  # calibrated: ~6.9 prints per event on average (incl. sweeps)

# 2013 ES event-size pmf: P(1..10) below, the rest a lognormal tail; median 2, mean ~26, q99 ~400
_SMALL_P = np.array([0.40, 0.14, 0.06, 0.04, 0.04, 0.012, 0.008, 0.007, 0.005, 0.028])


def event_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    u = rng.random(n)
    cum = np.cumsum(_SMALL_P)
    small = np.searchsorted(cum, u, side="right") + 1
    tail = np.clip(np.rint(rng.lognormal(3.80, 1.231, n)), 11, 3000).astype(np.int64)
    return np.where(u < cum[-1], small, tail).astype(np.int64)


def split_sizes(rng: np.random.Generator, total: np.ndarray, nparts: np.ndarray) -> np.ndarray:
    """Split each total into nparts positive integers (random proportions), concatenated."""
    m = int(nparts.sum())
    w = np.exp(rng.normal(0.0, FILL_SIGMA, m))
    starts = np.cumsum(nparts) - nparts
    cw = np.cumsum(w)
    base = np.repeat(np.where(starts > 0, cw[starts - 1], 0.0), nparts)
    seg_tot = np.repeat(cw[starts + nparts - 1], nparts) - base
    frac = (cw - base) / seg_tot
    extra = np.repeat(total - nparts, nparts)
    a = np.floor(frac * extra + 1e-9).astype(np.int64)
    a_prev = np.concatenate([[0], a[:-1]])
    first = np.zeros(m, dtype=bool)
    first[starts] = True
    a_prev[first] = 0
    return 1 + a - a_prev


@dataclass
class TradeEvents:
    t: np.ndarray  # even ns, strictly increasing
    cell: np.ndarray
    pre: np.ndarray  # bid tick just before the event
    post: np.ndarray  # bid tick after it
    side: np.ndarray  # +1 buy (lifts the ask) / -1 sell (hits the bid)
    size: np.ndarray  # event (aggressive order) size drawn from the 2013 pmf
    latency: np.ndarray  # ts_recv - ts_event, ns
    # prints (concatenated per event, in print order)
    p_event: np.ndarray
    p_sub: np.ndarray
    p_price: np.ndarray  # ticks
    p_size: np.ndarray  # 0 = sweep print whose size comes from the displayed book
    p_clear: np.ndarray  # True when the print clears a level (sweep)

    @property
    def n(self) -> int:
        return len(self.t)


def make_events(rng: np.random.Generator, clock: Clock, path: Path, n_target_prints: int, forced) -> TradeEvents:
    weight = path.act * path.vol_mult
    weight = np.where(np.arange(clock.n_cells) > 0, weight, 0.0)
    n_events = n_target_prints * EVENTS_PER_PRINT
    t = cluster_times(rng, clock, weight, n_events, branching=0.7, mean_delay_s=0.1, t_hi=clock.t_end - 1)
    f_t = np.array([x for x, _ in forced], dtype=np.int64)
    f_side = np.array([s for _, s in forced], dtype=np.int64)
    flag = np.concatenate([np.zeros(len(t), np.int64), np.arange(1, len(f_t) + 1)])
    allt = np.concatenate([t, f_t])
    order = np.argsort(allt, kind="stable")
    allt, flag = allt[order], flag[order]
    allt = unique_parity(allt, 0)
    allt = np.maximum(allt, clock.t0 + 2)
    cell = clock.cell_of(allt)
    keep = cell < clock.n_cells
    allt, flag, cell = allt[keep], flag[keep], cell[keep]
    n = len(allt)

    first = np.ones(n, dtype=bool)
    first[1:] = cell[1:] != cell[:-1]
    post = path.bid[cell]
    pre = np.where(first & (cell > 0), path.bid[np.maximum(cell - 1, 0)], post)
    delta = post - pre

    flips = rng.random(n) < 0.3
    side = np.where(np.cumsum(flips) % 2 == 0, 1, -1).astype(np.int64)
    side = np.where(delta > 0, 1, np.where(delta < 0, -1, side))
    isf = flag > 0
    if isf.any():
        fs = f_side[flag[isf] - 1]
        if np.any(delta[isf][fs != 0] != 0):
            raise AssertionError("a forced print fell on a touch change (plateau too short)")
        side[isf] = np.where(fs != 0, fs, side[isf])

    size = event_sizes(rng, n)
    nfill = np.minimum(size, 1 + rng.poisson(FILL_A * size**FILL_B))
    k = np.abs(delta)
    clear_ev = k > 0
    nprint = np.where(clear_ev, k, nfill)
    fill_sizes = split_sizes(rng, np.where(clear_ev, nprint, size), nprint)  # placeholder for sweeps
    p_event = np.repeat(np.arange(n), nprint)
    starts = np.cumsum(nprint) - nprint
    p_sub = np.arange(len(p_event)) - np.repeat(starts, nprint)
    p_clear = clear_ev[p_event]
    ps = side[p_event]
    pp = pre[p_event]
    step = np.where(p_clear, p_sub, 0)
    p_price = np.where(ps > 0, pp + 1 + step, pp - step)
    p_size = np.where(p_clear, 0, fill_sizes)
    latency = np.rint(rng.lognormal(np.log(250_000.0), 0.4, n)).astype(np.int64) + 20_000
    return TradeEvents(allt, cell, pre, post, side, size, latency, p_event, p_sub, p_price, p_size, p_clear)
