"""Barrier (resting liquidity at a level) maths, SPEC §7.2.

Units: depths, added / canceled / filled and ``delta_liq`` are **ES contracts**; prices are **SPY-frame dollars**
(ES price / es_spy_ratio); timestamps are int64 **epoch nanoseconds** (UTC).

The SQL models compute the per-snapshot zone depth, the per-pair decomposition and the per-event sums; the
per-row functions here (:func:`decompose_depth_change`, :func:`replenishment_ratio`, :func:`barrier_state`) are
the arithmetic they share, and :func:`barrier_metrics` is a complete numpy reference (test oracle) for one event.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "VACUUM_MAX_R",
    "WALL_MIN_R",
    "FLOW_THRESHOLD",
    "WEAK_MAX_DEPTH",
    "CONTESTED_MAX_DELTA",
    "CONTESTED_MIN_ACTIVITY",
    "REPLENISHMENT_EPS",
    "ZONE_HALF_WIDTH",
    "BARRIER_WINDOW_NS",
    "SNAPSHOT_BUCKET_NS",
    "WALL_LOOKBACK_NS",
    "BARRIER_STATES",
    "decompose_depth_change",
    "replenishment_ratio",
    "barrier_state",
    "zone_depth",
    "barrier_metrics",
]

VACUUM_MAX_R = 0.3
WALL_MIN_R = 1.5
FLOW_THRESHOLD = 100.0  # contracts
WEAK_MAX_DEPTH = 50.0  # contracts
CONTESTED_MAX_DELTA = 50.0  # contracts
CONTESTED_MIN_ACTIVITY = 100.0  # contracts
REPLENISHMENT_EPS = 1e-6
ZONE_HALF_WIDTH = 0.20  # SPY-frame dollars = 8 ES ticks of 0.25 / 10
BARRIER_WINDOW_NS = 240 * 1_000_000_000
SNAPSHOT_BUCKET_NS = 250_000_000
WALL_LOOKBACK_NS = 1800 * 1_000_000_000
BARRIER_STATES = ("VACUUM", "WALL", "CONSUMED", "ABSORPTION", "WEAK", "NEUTRAL")


def decompose_depth_change(depth_prev, depth_now, filled_between):
    """Split the zone-depth change between two consecutive snapshots into (added, canceled, filled).

    All in contracts, vectorised (numpy broadcasting), float64 results:
    * a rise (depth_now > depth_prev) is ``added = rise``, ``canceled = filled = 0``;
    * a fall is split into ``filled = min(fall, filled_between)`` (trades that hit the defending side in the zone
      between the two snapshots; negative values count as 0) and ``canceled = fall − filled``;
    * no change gives zeros.
    So ``added − canceled − filled == depth_now − depth_prev`` always. NaN inputs propagate as NaN.
    """
    prev = np.asarray(depth_prev, dtype=np.float64)
    now = np.asarray(depth_now, dtype=np.float64)
    fills = np.maximum(np.asarray(filled_between, dtype=np.float64), 0.0)
    change = now - prev
    added = np.maximum(change, 0.0)
    fall = np.maximum(-change, 0.0)
    filled = np.minimum(fall, fills)
    canceled = fall - filled
    nan = np.isnan(change) | np.isnan(fills)
    if np.any(nan):
        added, canceled, filled = (np.where(nan, np.nan, a) for a in (added, canceled, filled))
    return added, canceled, filled


def replenishment_ratio(added, canceled, filled) -> np.ndarray:
    """``added / (canceled + filled + 1e-6)`` (dimensionless, vectorised). 0 when nothing was added."""
    a = np.asarray(added, dtype=np.float64)
    return a / (np.asarray(canceled, dtype=np.float64) + np.asarray(filled, dtype=np.float64) + REPLENISHMENT_EPS)


def barrier_state(delta_liq, replenishment_ratio, filled, canceled, added, depth, n_snapshots) -> np.ndarray:
    """Classify the barrier per row (vectorised; returns a numpy array of str), first match wins (SPEC §7.2):

    1. ``n_snapshots < 2``                         → NEUTRAL
    2. VACUUM      R < 0.3 and Δ < −100
    3. WALL        R > 1.5 and Δ > +100
    4. CONSUMED    Δ < −100 and filled > canceled
    5. ABSORPTION  Δ > 0 and R > 1.0
    6. WEAK        depth < 50
    7. ABSORPTION  |Δ| < 50 and added + canceled + filled > 100   ("contested")
    8. NEUTRAL

    Δ = ``delta_liq`` (= added − canceled − filled, contracts), R = ``replenishment_ratio``, ``depth`` = zone depth
    of the last snapshot (contracts). All comparisons are strict; a NaN input makes its comparisons false.
    """
    d, r, f, c, a, dep, n = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (delta_liq, replenishment_ratio, filled, canceled, added, depth)),
        np.asarray(n_snapshots, dtype=np.float64),
    )
    with np.errstate(invalid="ignore"):
        conditions = [
            ~(n >= 2),
            (r < VACUUM_MAX_R) & (d < -FLOW_THRESHOLD),
            (r > WALL_MIN_R) & (d > FLOW_THRESHOLD),
            (d < -FLOW_THRESHOLD) & (f > c),
            (d > 0) & (r > 1.0),
            dep < WEAK_MAX_DEPTH,
            (np.abs(d) < CONTESTED_MAX_DELTA) & (a + c + f > CONTESTED_MIN_ACTIVITY),
        ]
    choices = ["NEUTRAL", "VACUUM", "WALL", "CONSUMED", "ABSORPTION", "WEAK", "ABSORPTION"]
    return np.select(conditions, choices, default="NEUTRAL")


def zone_depth(prices, sizes, lo, hi, eps: float = 1e-9) -> np.ndarray:
    """Sum of book sizes whose price lies in ``[lo − eps, hi + eps]``, per snapshot.

    ``prices`` and ``sizes`` are (n, L) arrays (L = 10 book levels of one side; SPY-frame dollars and contracts);
    empty levels are NaN (price or size) and ignored. ``lo`` / ``hi`` are scalars or per-snapshot (n,) arrays.
    ``eps`` absorbs the float error of ES/ratio conversions at the zone edges. Returns float64 (n,).
    """
    px = np.atleast_2d(np.asarray(prices, dtype=np.float64))
    sz = np.atleast_2d(np.asarray(sizes, dtype=np.float64))
    lo_ = np.asarray(lo, dtype=np.float64)
    hi_ = np.asarray(hi, dtype=np.float64)
    if lo_.ndim == 1:
        lo_ = lo_[:, None]
    if hi_.ndim == 1:
        hi_ = hi_[:, None]
    with np.errstate(invalid="ignore"):
        inside = (px >= lo_ - eps) & (px <= hi_ + eps) & ~np.isnan(sz)
    return np.where(inside, sz, 0.0).sum(axis=1)


def _last_per_bucket(ts: np.ndarray, seq: np.ndarray, bucket_ns: int | None) -> np.ndarray:
    """Indices of the rows kept by '(ts, seq)-last row per floor(ts / bucket_ns) bucket', in time order."""
    order = np.lexsort((seq, ts))
    if bucket_ns is None:
        return order
    bucket = ts[order] // np.int64(bucket_ns)
    last = np.ones(order.size, dtype=bool)
    last[:-1] = bucket[1:] != bucket[:-1]
    return order[last]


def barrier_metrics(
    book_ts_ns,
    bid_px,
    bid_sz,
    ask_px,
    ask_sz,
    trade_ts_ns,
    trade_px,
    trade_size,
    trade_aggressor,
    level: float,
    direction: str,
    t_dec_ns: int,
    book_seq=None,
    window_ns: int = BARRIER_WINDOW_NS,
    bucket_ns: int | None = SNAPSHOT_BUCKET_NS,
    zone_half_width: float = ZONE_HALF_WIDTH,
    wall_lookback_ns: int = WALL_LOOKBACK_NS,
    eps: float = 1e-9,
) -> dict:
    """Reference (oracle) barrier output of one touch event, straight from MBP-10 rows and trades (SPEC §7.2).

    Inputs (numpy-convertible; prices in SPY-frame dollars, NaN = empty level; sizes in contracts):
    * book rows: ``book_ts_ns`` (n,), ``bid_px``/``bid_sz``/``ask_px``/``ask_sz`` (n, 10), optional ``book_seq``
      (n,) for ordering ties (default: input order);
    * front-month trades: ``trade_ts_ns``, ``trade_px``, ``trade_size``, ``trade_aggressor`` (+1 buy, −1 sell);
    * the event: ``level`` L (SPY frame), ``direction`` 'UP' (resistance, defending side = ask, filled by buys)
      or 'DOWN' (support, bid side, filled by sells), and the decision time ``t_dec_ns``.

    Procedure:
    1. Snapshots = the (ts, seq)-last book row per ``floor(ts / bucket_ns)`` bucket (``bucket_ns=None``: every row),
       among rows with ts < t_dec. Barrier snapshots are those with ts ≥ t_dec − ``window_ns``.
    2. depth = :func:`zone_depth` of the defending side in [L − half_width, L + half_width] (± ``eps``).
    3. For each consecutive pair (prev, curr): ``filled_between`` = size of trades with prev.ts < ts ≤ curr.ts,
       price in the zone (± ``eps``) and aggressor hitting the defending side; then
       :func:`decompose_depth_change`; added / canceled / filled are summed over pairs.
    4. delta_liq = added − canceled − filled; R = :func:`replenishment_ratio`; depth_in_zone = last depth.
    5. wall_ratio = depth_in_zone / mean size per book level, the mean over every non-empty level (both sides)
       of the snapshots with ts in [t_dec − ``wall_lookback_ns``, t_dec); 0 if that mean is not positive.
    6. With fewer than 2 barrier snapshots: state NEUTRAL and every number 0.

    Returns a dict with keys barrier_state, barrier_delta_liq, barrier_replenishment_ratio, depth_in_zone,
    wall_ratio, added, canceled, filled, n_snapshots.
    """
    if direction not in ("UP", "DOWN"):
        raise ValueError(f"direction must be 'UP' or 'DOWN', got {direction!r}")
    ts = np.asarray(book_ts_ns, dtype=np.int64)
    seq = np.arange(ts.size, dtype=np.int64) if book_seq is None else np.asarray(book_seq, dtype=np.int64)
    bpx, bsz, apx, asz = (np.asarray(x, dtype=np.float64).reshape(ts.size, -1) for x in (bid_px, bid_sz, ask_px, ask_sz))
    t_dec = np.int64(t_dec_ns)

    before = ts < t_dec
    kept = np.flatnonzero(before)[_last_per_bucket(ts[before], seq[before], bucket_ns)]
    snap_ts = ts[kept]

    in_window = snap_ts >= t_dec - np.int64(window_ns)
    win = kept[in_window]
    n = int(win.size)
    zero = {
        "barrier_state": "NEUTRAL",
        "barrier_delta_liq": 0.0,
        "barrier_replenishment_ratio": 0.0,
        "depth_in_zone": 0.0,
        "wall_ratio": 0.0,
        "added": 0.0,
        "canceled": 0.0,
        "filled": 0.0,
        "n_snapshots": n,
    }
    if n < 2:
        return zero

    lo, hi = level - zone_half_width, level + zone_half_width
    side_px, side_sz = (apx, asz) if direction == "UP" else (bpx, bsz)
    depth = zone_depth(side_px[win], side_sz[win], lo, hi, eps=eps)

    tts = np.asarray(trade_ts_ns, dtype=np.int64)
    tpx = np.asarray(trade_px, dtype=np.float64)
    tsz = np.asarray(trade_size, dtype=np.float64)
    tag = np.asarray(trade_aggressor, dtype=np.int64)
    hitting = 1 if direction == "UP" else -1
    relevant = (tag == hitting) & (tpx >= lo - eps) & (tpx <= hi + eps)
    rts, rsz = tts[relevant], tsz[relevant]
    order = np.argsort(rts, kind="stable")
    rts, csum = rts[order], np.concatenate([[0.0], np.cumsum(rsz[order])])
    w_ts = ts[win]
    # Σ size over prev.ts < trade.ts ≤ curr.ts, via a cumulative sum and right-side binary searches.
    upto = csum[np.searchsorted(rts, w_ts, side="right")]
    fills_between = upto[1:] - upto[:-1]

    added, canceled, filled = decompose_depth_change(depth[:-1], depth[1:], fills_between)
    a, c, f = float(added.sum()), float(canceled.sum()), float(filled.sum())
    delta = a - c - f
    ratio = float(replenishment_ratio(a, c, f))
    last_depth = float(depth[-1])

    in_lookback = snap_ts >= t_dec - np.int64(wall_lookback_ns)
    lk = kept[in_lookback]
    level_sizes = np.concatenate([bsz[lk].ravel(), asz[lk].ravel()])
    level_prices = np.concatenate([bpx[lk].ravel(), apx[lk].ravel()])
    present = ~np.isnan(level_sizes) & ~np.isnan(level_prices)
    mean_size = float(level_sizes[present].mean()) if present.any() else 0.0
    wall_ratio = last_depth / mean_size if mean_size > 0 else 0.0

    state = str(barrier_state(delta, ratio, f, c, a, last_depth, n))
    return {
        "barrier_state": state,
        "barrier_delta_liq": delta,
        "barrier_replenishment_ratio": ratio,
        "depth_in_zone": last_depth,
        "wall_ratio": wall_ratio,
        "added": a,
        "canceled": c,
        "filled": f,
        "n_snapshots": n,
    }
