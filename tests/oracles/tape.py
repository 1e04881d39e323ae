"""Tape (ES trade flow near a level) reference maths, SPEC §7.1.

These are numpy reference implementations (test oracles) of what the SQL tape model computes per event from the
front-month ES trades in ``[T0, t_dec)``. The SPEC's fixed constants are written here again on purpose (an
oracle must not read them from the SQL it checks); the tunable ``sweep_min_contracts`` is the dbt var
(:func:`sweep_min_contracts`, from dbt_project.yml). Units: prices in **SPY-frame dollars** (ES / es_spy_ratio), sizes in
**ES contracts**, timestamps in int64 **epoch nanoseconds**, aggressor/side +1 buy, −1 sell, 0 unknown.
"""

from __future__ import annotations

import numpy as np

from breakbounce import params

__all__ = [
    "TAPE_BAND",
    "SWEEP_MAX_GAP_NS",
    "SWEEP_MIN_PRICES",
    "sweep_min_contracts",
    "ols_slope",
    "tape_imbalance",
    "detect_sweep",
    "tape_metrics",
]

TAPE_BAND = 0.50  # SPY-frame dollars around the level for buy/sell volume
SWEEP_MAX_GAP_NS = 100_000_000  # 100 ms, inclusive
SWEEP_MIN_PRICES = 3


def sweep_min_contracts() -> int:
    """Contracts a same-side run needs to count as a sweep: the dbt var of dbt_project.yml."""
    return int(params.var("sweep_min_contracts"))


def ols_slope(t_seconds, price) -> float:
    """Ordinary-least-squares slope of ``price`` on ``t_seconds`` (price units per second; $/s in the SPY frame).

    0.0 with fewer than 2 points or when all times are equal. Times may use any origin (they are centred
    internally); to keep sub-microsecond precision, pass seconds relative to a nearby origin rather than
    ``ts_ns / 1e9`` since the epoch.
    """
    t = np.asarray(t_seconds, dtype=np.float64).ravel()
    p = np.asarray(price, dtype=np.float64).ravel()
    if t.size < 2 or t.size != p.size or np.all(t == t[0]):
        return 0.0
    dt = t - t.mean()
    dp = p - p.mean()
    sxx = float(np.dot(dt, dt))
    if sxx <= 0.0:
        return 0.0
    return float(np.dot(dt, dp) / sxx)


def tape_imbalance(buy, sell) -> np.ndarray:
    """``(buy − sell) / (buy + sell)`` per row (vectorised), 0 where ``buy + sell == 0``. Range [−1, 1]."""
    b = np.asarray(buy, dtype=np.float64)
    s = np.asarray(sell, dtype=np.float64)
    total = b + s
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (b - s) / np.where(total == 0, 1.0, total)
    return np.where(total == 0, 0.0, out)


def detect_sweep(
    ts_ns,
    price,
    side,
    size,
    max_gap_ns: int = SWEEP_MAX_GAP_NS,
    min_prices: int = SWEEP_MIN_PRICES,
    min_contracts: float | None = None,
) -> bool:
    """True if one window's trades (already sorted by (ts, seq)) contain a sweep.

    A run is a maximal sequence of consecutive prints with the same non-zero ``side`` in which every gap between
    consecutive prints is ≤ ``max_gap_ns`` (inclusive: exactly 100 ms continues the run). A side change, a side-0
    print or a longer gap ends it. A run that covers ≥ ``min_prices`` distinct prices and ≥ ``min_contracts``
    contracts in total is a sweep. (Checking maximal runs suffices: extending a run never lowers either count.)
    """
    ts = np.asarray(ts_ns, dtype=np.int64).ravel()
    px = np.asarray(price, dtype=np.float64).ravel()
    sd = np.asarray(side, dtype=np.int64).ravel()
    sz = np.asarray(size, dtype=np.float64).ravel()
    n = ts.size
    if n == 0:
        return False
    starts = np.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = (sd[1:] != sd[:-1]) | ((ts[1:] - ts[:-1]) > max_gap_ns) | (sd[1:] == 0)
    starts |= sd == 0
    run_id = np.cumsum(starts) - 1
    keep = sd != 0
    if not keep.any():
        return False
    rid, rpx, rsz = run_id[keep], px[keep], sz[keep]
    n_runs = int(run_id[-1]) + 1
    contracts = np.bincount(rid, weights=rsz, minlength=n_runs)
    pairs = np.unique(np.stack([rid.astype(np.float64), rpx]), axis=1)
    distinct = np.bincount(pairs[0].astype(np.int64), minlength=n_runs)
    if min_contracts is None:
        min_contracts = sweep_min_contracts()
    return bool(np.any((distinct >= min_prices) & (contracts >= min_contracts)))


def tape_metrics(
    ts_ns,
    price,
    size,
    aggressor,
    level: float,
    t0_ns: int,
    t_dec_ns: int,
    seq=None,
    band: float = TAPE_BAND,
    eps: float = 1e-9,
    sweep_min_contracts: float | None = None,
) -> dict:
    """Reference (oracle) tape output of one event from front-month ES trades (SPEC §7.1).

    Trades with ``t0_ns ≤ ts < t_dec_ns`` (sorted by (ts, seq); ``seq`` defaults to input order):
    * ``tape_buy_vol`` / ``tape_sell_vol``: contracts of aggressor +1 / −1 trades with |price − level| ≤ band (+eps);
    * ``tape_imbalance``: :func:`tape_imbalance` of those;
    * ``tape_velocity``: :func:`ols_slope` of price ($, SPY frame) on time (s since ``t0_ns``) over all window
      trades (no band), 0 with < 2 trades;
    * ``sweep_detected``: :func:`detect_sweep` over all window trades.
    """
    ts = np.asarray(ts_ns, dtype=np.int64).ravel()
    px = np.asarray(price, dtype=np.float64).ravel()
    sz = np.asarray(size, dtype=np.float64).ravel()
    ag = np.asarray(aggressor, dtype=np.int64).ravel()
    sq = np.arange(ts.size, dtype=np.int64) if seq is None else np.asarray(seq, dtype=np.int64).ravel()
    inside = (ts >= np.int64(t0_ns)) & (ts < np.int64(t_dec_ns))
    idx = np.flatnonzero(inside)
    idx = idx[np.lexsort((sq[idx], ts[idx]))]
    ts, px, sz, ag = ts[idx], px[idx], sz[idx], ag[idx]
    near = np.abs(px - level) <= band + eps
    buy = float(sz[near & (ag == 1)].sum())
    sell = float(sz[near & (ag == -1)].sum())
    t_rel = (ts - np.int64(t0_ns)).astype(np.float64) / 1e9
    return {
        "tape_buy_vol": buy,
        "tape_sell_vol": sell,
        "tape_imbalance": float(tape_imbalance(buy, sell)),
        "tape_velocity": ols_slope(t_rel, px),
        "sweep_detected": detect_sweep(ts, px, ag, sz, min_contracts=sweep_min_contracts),
    }
