"""Barrier (resting liquidity at a level) maths, SPEC §7.2.

Units: depths, added / canceled / filled and ``delta_liq`` are **ES contracts**; prices are **SPY-frame dollars**
(ES price / es_spy_ratio); timestamps are int64 **epoch nanoseconds** (UTC).

The SQL models compute the per-snapshot zone depth, the per-pair decomposition and the per-event sums;
the state table is :func:`barrier_state` (the ``bb_barrier_state`` UDF). The numpy reference of the whole
computation for one event (the test oracle) is ``tests/oracles/barrier.py``.

The state thresholds are dbt vars (``dbt_project.yml``, declared there only): SQL passes them to the
``bb_barrier_state`` UDF as arguments. Sizes are multiples of the book's causal size scale s (the
``wall_ratio`` denominator), so a book with every size x 10 gets the same states.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from fractions import Fraction

import numpy as np

from python_udfs.exact import decimals, whole_numbers

__all__ = [
    "REPLENISHMENT_EPS",
    "BARRIER_STATES",
    "BarrierThresholds",
    "barrier_state",
]

REPLENISHMENT_EPS = 1e-6
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

    def as_tuple(self) -> tuple[float, ...]:
        return astuple(self)


_EPS = Fraction(1, 10**6)  # REPLENISHMENT_EPS, exactly


def barrier_state(
    added,
    canceled,
    filled,
    depth,
    n_snapshots,
    scale_size_sum,
    scale_level_count,
    vacuum_max_ratio,
    wall_min_ratio,
    absorb_min_ratio,
    flow_scale,
    weak_depth_scale,
    contested_delta_scale,
    contested_activity_scale,
) -> np.ndarray:
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
    shape = np.broadcast_shapes(
        *(np.shape(x) for x in (added, canceled, filled, depth, n_snapshots, scale_size_sum, scale_level_count))
    )
    a, c, f, dep, n, size_sum, levels = (
        whole_numbers(x, shape)
        for x in (added, canceled, filled, depth, n_snapshots, scale_size_sum, scale_level_count)
    )
    r_vac, r_wall, r_abs, k_flow, k_weak, k_cd, k_ca = (
        decimals(x, shape)
        for x in (
            vacuum_max_ratio,
            wall_min_ratio,
            absorb_min_ratio,
            flow_scale,
            weak_depth_scale,
            contested_delta_scale,
            contested_activity_scale,
        )
    )
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
