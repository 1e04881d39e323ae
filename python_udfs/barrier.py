"""Barrier (resting liquidity at a level) maths, SPEC §7.2.

Units: depths, added / canceled / filled and ``delta_liq`` are **ES contracts**; prices are **SPY-frame dollars**
(ES price / es_spy_ratio); timestamps are int64 **epoch nanoseconds** (UTC).

The SQL models compute the per-snapshot zone depth, the per-pair decomposition and the per-event sums; the
per-row functions here (:func:`decompose_depth_change`, :func:`replenishment_ratio`, :func:`barrier_state`) are
the arithmetic they share, and :func:`barrier_metrics` is a complete numpy reference (test oracle) for one event.

The state thresholds are dbt vars (``dbt_project.yml``, declared there only): SQL passes them to the
``bb_barrier_state`` UDF as arguments, Python callers build :class:`BarrierThresholds` with
:meth:`BarrierThresholds.from_project`. Sizes are multiples of the book's causal size scale s (the
``wall_ratio`` denominator), so a book with every size x 10 gets the same states.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from fractions import Fraction

import numpy as np

from python_udfs.exact import decimals, whole_numbers

__all__ = [
    "REPLENISHMENT_EPS",
    "ZONE_HALF_WIDTH",
    "BARRIER_WINDOW_NS",
    "SNAPSHOT_BUCKET_NS",
    "WALL_LOOKBACK_NS",
    "BARRIER_STATES",
    "BarrierThresholds",
    "decompose_depth_change",
    "replenishment_ratio",
    "barrier_state",
    "zone_depth",
    "barrier_metrics",
]

REPLENISHMENT_EPS = 1e-6
ZONE_HALF_WIDTH = 0.20  # SPY-frame dollars = 8 ES ticks of 0.25 / 10
BARRIER_WINDOW_NS = 240 * 1_000_000_000
SNAPSHOT_BUCKET_NS = 250_000_000
WALL_LOOKBACK_NS = 1800 * 1_000_000_000
BARRIER_STATES = ("VACUUM", "WALL", "CONSUMED", "ABSORPTION", "WEAK", "NEUTRAL")


@dataclass(frozen=True)
class BarrierThresholds:
    """The state table's thresholds (SPEC §7.2), in the order ``bb_barrier_state`` takes them.

    Ratios compare with R = added / (canceled + filled + 1e-6); the ``*_scale`` values are multiples of the
    size scale s (mean size per non-empty book level over [t_dec − 30 min, t_dec)) and stand for the SPEC's
    contract counts: ``flow_scale`` the 100 of VACUUM / WALL / CONSUMED, ``weak_depth_scale`` the 50 of WEAK,
    ``contested_delta_scale`` and ``contested_activity_scale`` the 50 and 100 of the contested ABSORPTION.
    """

    vacuum_max_ratio: float
    wall_min_ratio: float
    absorb_min_ratio: float
    flow_scale: float
    weak_depth_scale: float
    contested_delta_scale: float
    contested_activity_scale: float

    #: dbt var of each field
    VARS = {
        "vacuum_max_ratio": "barrier_vacuum_max_ratio",
        "wall_min_ratio": "barrier_wall_min_ratio",
        "absorb_min_ratio": "barrier_absorption_min_ratio",
        "flow_scale": "barrier_flow_scale",
        "weak_depth_scale": "barrier_weak_depth_scale",
        "contested_delta_scale": "barrier_contested_delta_scale",
        "contested_activity_scale": "barrier_contested_activity_scale",
    }

    @classmethod
    def from_project(cls, overrides: dict | None = None) -> "BarrierThresholds":
        """The thresholds as ``dbt_project.yml`` declares them (``overrides``: dbt var name → value)."""
        from python_udfs.params import project_vars

        v = {**project_vars(), **(overrides or {})}
        return cls(**{field: float(v[var]) for field, var in cls.VARS.items()})

    def as_tuple(self) -> tuple[float, ...]:
        return astuple(self)


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


_EPS = Fraction(1, 10**6)  # REPLENISHMENT_EPS, exactly


def barrier_state(added, canceled, filled, depth, n_snapshots, scale_size_sum, scale_level_count,
                  vacuum_max_ratio, wall_min_ratio, absorb_min_ratio, flow_scale, weak_depth_scale,
                  contested_delta_scale, contested_activity_scale) -> np.ndarray:
    """Classify the barrier per row (vectorised; returns a numpy array of str), first match wins (SPEC §7.2):

    1. ``n_snapshots < 2``                                  → NEUTRAL
    2. VACUUM      R < vacuum_max_ratio and Δ < −flow_scale·s
    3. WALL        R > wall_min_ratio and Δ > +flow_scale·s
    4. CONSUMED    Δ < −flow_scale·s and filled > canceled
    5. ABSORPTION  Δ > 0 and R > absorb_min_ratio
    6. WEAK        depth < weak_depth_scale·s
    7. ABSORPTION  |Δ| < contested_delta_scale·s and added + canceled + filled > contested_activity_scale·s
    8. NEUTRAL

    Counts (``added``, ``canceled``, ``filled``, ``depth`` = last zone depth, all whole contracts) give
    Δ = added − canceled − filled and R = added / (canceled + filled + 1e-6). The size scale is
    s = ``scale_size_sum`` / ``scale_level_count`` (sizes and number of the non-empty book levels over the
    look-back, the ``wall_ratio`` denominator); with no level (count 0) every size condition is false.
    Every comparison is strict and exact: integers cross-multiplied with the thresholds' decimal values
    (0.3 is 3/10), so multiplying every size by a constant never changes a state. Threshold arguments
    may be scalars or per-row arrays (the UDF gets constant columns).
    """
    shape = np.broadcast_shapes(*(np.shape(x) for x in (added, canceled, filled, depth, n_snapshots,
                                                        scale_size_sum, scale_level_count)))
    a, c, f, dep, n, size_sum, levels = (whole_numbers(x, shape) for x in (added, canceled, filled, depth, n_snapshots,
                                                                  scale_size_sum, scale_level_count))
    r_vac, r_wall, r_abs, k_flow, k_weak, k_cd, k_ca = (
        decimals(x, shape) for x in (vacuum_max_ratio, wall_min_ratio, absorb_min_ratio, flow_scale,
                                      weak_depth_scale, contested_delta_scale, contested_activity_scale))
    delta = a - c - f
    outflow = c + f + _EPS
    has_scale = levels > 0
    # x < k·s  <=>  x·levels < k·size_sum (levels > 0)
    below = lambda x, k: has_scale & (x * levels < k * size_sum)  # noqa: E731
    above = lambda x, k: has_scale & (x * levels > k * size_sum)  # noqa: E731
    conditions = [
        n < 2,
        (a < r_vac * outflow) & below(delta, -k_flow),
        (a > r_wall * outflow) & above(delta, k_flow),
        below(delta, -k_flow) & (f > c),
        (delta > 0) & (a > r_abs * outflow),
        below(dep, k_weak),
        below(np.abs(delta), k_cd) & above(a + c + f, k_ca),
    ]
    choices = ["NEUTRAL", "VACUUM", "WALL", "CONSUMED", "ABSORPTION", "WEAK", "ABSORPTION"]
    return np.select([np.asarray(cnd, dtype=bool) for cnd in conditions], choices, default="NEUTRAL")


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

    thresholds = thresholds or BarrierThresholds.from_project()
    state = str(barrier_state(a, c, f, last_depth, n, level_sizes[present].sum(), int(present.sum()),
                              *thresholds.as_tuple()))
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
