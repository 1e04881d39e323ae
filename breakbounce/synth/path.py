"""The front-month price path: bid tick per 250 ms cell.

Stochastic volatility (OU log-vol) times the intraday activity profile gives the variance clock;
Student-t innovations ride on it. Anchors from the plan are joined by Brownian bridges in variance
time, then each cell is folded (reflected) into its band, and rounded to the tick grid. Anchors are
integer ticks inside their bands, so they are hit exactly; reflection keeps the path rough.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from breakbounce.synth.clock import Clock, activity
from breakbounce.synth.params import CELL_NS, NS, TICK, Regime
from breakbounce.synth.scenario import Plan, ScenarioError

T_DOF = 5.0


@dataclass
class Path:
    bid: np.ndarray  # int64 bid tick per cell (ask = bid + 1)
    act: np.ndarray  # activity per cell (RTH mean 1)
    vol_mult: np.ndarray  # exp(h - sigma^2/2): stochastic-vol multiplier per cell
    band_lo: np.ndarray
    band_hi: np.ndarray


def ou_logvol(rng: np.random.Generator, n_cells: int, sigma: float, half_life_s: float = 1200.0) -> np.ndarray:
    step_cells = 40  # 10 s
    n = n_cells // step_cells + 2
    phi = np.exp(-np.log(2.0) * (step_cells * CELL_NS / NS) / half_life_s)
    eps = rng.standard_normal(n) * sigma * np.sqrt(1.0 - phi * phi)
    h = np.empty(n)
    acc = rng.standard_normal() * sigma
    for i, e in enumerate(eps.tolist()):
        acc = phi * acc + e
        h[i] = acc
    x = np.arange(n_cells) / step_cells
    return np.interp(x, np.arange(n), h)


def cell_bands(clock: Clock, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    lo = np.full(clock.n_cells, -np.inf)
    hi = np.full(clock.n_cells, np.inf)
    for t0, t1, blo, bhi in plan.bands:
        ca = max(int((t0 - clock.t0) // CELL_NS) - 1, 0)
        cb = min(int((t1 - 1 - clock.t0) // CELL_NS), clock.n_cells - 1)
        if cb < ca:
            continue
        np.maximum(lo[ca : cb + 1], blo, out=lo[ca : cb + 1])
        np.minimum(hi[ca : cb + 1], bhi, out=hi[ca : cb + 1])
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        t = clock.t0 + int(bad[0]) * CELL_NS
        raise ScenarioError(f"planted constraints contradict each other at {clock.et_seconds(t):.0f}s ET")
    return lo, hi


def fold(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Reflect each value into [lo, hi] (either side may be infinite)."""
    x = x.copy()
    both = np.isfinite(lo) & np.isfinite(hi)
    only_hi = ~np.isfinite(lo) & np.isfinite(hi)
    only_lo = np.isfinite(lo) & ~np.isfinite(hi)
    if both.any():
        l, h, v = lo[both], hi[both], x[both]
        w = h - l
        y = np.mod(v - l, np.where(w > 0, 2 * w, 1.0))
        y = np.where(y <= w, y, 2 * w - y)
        x[both] = np.where(w > 0, l + y, l)
    if only_hi.any():
        v, h = x[only_hi], hi[only_hi]
        x[only_hi] = np.where(v > h, 2 * h - v, v)
    if only_lo.any():
        v, l = x[only_lo], lo[only_lo]
        x[only_lo] = np.where(v < l, 2 * l - v, v)
    return x


def build_path(
    clock: Clock, plan: Plan, regime: Regime, mid_es: float, start_es: float, end_es: float, rng: np.random.Generator
) -> Path:
    n = clock.n_cells
    t = clock.cell_times()
    act = activity(clock, t + CELL_NS // 2)
    h = ou_logvol(rng, n, regime.sv_sigma)
    vm = np.exp(h - 0.5 * regime.sv_sigma**2)
    var = act * vm * vm
    rth = (t >= clock.rth_open) & (t < clock.rth_close)
    sigma_rth = regime.daily_vol_pct / 100.0 * mid_es / TICK
    var *= sigma_rth**2 / var[rth].sum()
    inc = rng.standard_t(T_DOF, n) * np.sqrt(var / (T_DOF / (T_DOF - 2.0)))
    if regime.jump_0830_pts > 0:
        c = int((clock.et("08:30") - clock.t0) // CELL_NS)
        jump = rng.normal(0.0, regime.jump_0830_pts / TICK)
        inc[c : c + 8] += jump / 8.0
        var[c : c + 8] += (jump / 8.0) ** 2
    W = np.concatenate([[0.0], np.cumsum(inc[1:])])
    V = np.concatenate([[0.0], np.cumsum(var[1:])])

    lo, hi = cell_bands(clock, plan)
    anchors = {0: int(round(start_es / TICK)), n - 1: int(round(end_es / TICK))}
    for ta, b in sorted(plan.anchors):
        c = int((ta - clock.t0) // CELL_NS)
        if 0 < c < n - 1 and c not in anchors:
            anchors[c] = b
    cells = np.array(sorted(anchors), dtype=np.int64)
    vals = np.array([anchors[c] for c in cells], dtype=float)
    vals = np.clip(vals, lo[cells], hi[cells])  # an anchor never asks for the impossible

    seg = np.searchsorted(cells, np.arange(n), side="right") - 1
    seg = np.clip(seg, 0, len(cells) - 2)
    ca, cb = cells[seg], cells[seg + 1]
    va, vb = vals[seg], vals[seg + 1]
    dV = V[cb] - V[ca]
    frac = np.where(dV > 0, (V - V[ca]) / np.where(dV > 0, dV, 1.0), 0.0)
    x = va + (W - W[ca]) - frac * ((W[cb] - W[ca]) - (vb - va))
    x = fold(x, lo, hi)
    bid = np.rint(x).astype(np.int64)
    return Path(bid=bid, act=act, vol_mult=vm, band_lo=lo, band_hi=hi)
