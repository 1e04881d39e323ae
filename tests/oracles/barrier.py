"""Numpy reference (test oracle) of the barrier physics of one touch event, SPEC §7.2, straight from
MBP-10 rows and trades: what the SQL models (int_book__snapshots_250ms, int_book__trade_fills,
int_physics__barrier) must reproduce. Independent of the SQL: the SPEC's constants are written here
again on purpose (an oracle that read them from the SQL would agree with a wrong SQL value); the
calibrated thresholds are read from dbt_project.yml (:func:`project_thresholds`).

Units: depths, added / canceled / filled and ``delta_liq`` are ES contracts; prices SPY-frame dollars;
timestamps int64 epoch nanoseconds (UTC).
"""

from __future__ import annotations

import numpy as np

from breakbounce import params
from python_udfs.barrier import REPLENISHMENT_EPS, BarrierThresholds, barrier_state

ZONE_HALF_WIDTH = 0.20  # SPY-frame dollars = 8 ES ticks of 0.25 / 10
BARRIER_WINDOW_NS = 240 * 1_000_000_000
SNAPSHOT_BUCKET_NS = 250_000_000
WALL_LOOKBACK_NS = 1800 * 1_000_000_000


def project_thresholds(overrides: dict | None = None) -> BarrierThresholds:
    """The thresholds as ``dbt_project.yml`` declares them (``overrides``: dbt var name -> value)."""
    v = params.resolve(overrides)
    return BarrierThresholds(**{field: float(v[var]) for field, var in BarrierThresholds.VARS.items()})


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
    thresholds: BarrierThresholds | None = None,
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
    7. The state: :func:`barrier_state` with ``thresholds`` (default: ``dbt_project.yml``'s) and the size
       scale of step 5 (sizes must be whole contracts).

    Returns a dict with keys barrier_state, barrier_delta_liq, barrier_replenishment_ratio, depth_in_zone,
    wall_ratio, added, canceled, filled, n_snapshots.
    """
    if direction not in ("UP", "DOWN"):
        raise ValueError(f"direction must be 'UP' or 'DOWN', got {direction!r}")
    ts = np.asarray(book_ts_ns, dtype=np.int64)
    seq = np.arange(ts.size, dtype=np.int64) if book_seq is None else np.asarray(book_seq, dtype=np.int64)
    bpx, bsz, apx, asz = (
        np.asarray(x, dtype=np.float64).reshape(ts.size, -1) for x in (bid_px, bid_sz, ask_px, ask_sz)
    )
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

    thresholds = thresholds or project_thresholds()
    state = str(
        barrier_state(a, c, f, last_depth, n, level_sizes[present].sum(), int(present.sum()), *thresholds.as_tuple())
    )
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
