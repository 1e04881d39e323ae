"""Unit tests for python_udfs.barrier (the state table) and its test oracle tests/oracles/barrier.py (depth
decomposition, zone depth, per-event reference)."""

from __future__ import annotations

import numpy as np
import pytest

from python_udfs import barrier as br
from tests.oracles import barrier as oracle

NS = 1_000_000_000
T_DEC = 1_765_900_000 * NS  # a whole second, so 250 ms buckets align with the window edges
L = 685.0


# ------------------------------------------------------------------------------------------- decomposition


def test_decompose_rise_fall_and_cap():
    added, canceled, filled = oracle.decompose_depth_change(
        [100, 300, 300, 300, 200, 200], [250, 200, 200, 100, 200, 150], [40, 30, 500, 50, 80, -5]
    )
    np.testing.assert_array_equal(added, [150, 0, 0, 0, 0, 0])  # a rise only adds, fills ignored
    np.testing.assert_array_equal(filled, [0, 30, 100, 50, 0, 0])  # fills capped at the fall; negative → 0
    np.testing.assert_array_equal(canceled, [0, 70, 0, 150, 0, 50])
    change = np.array([150, -100, -100, -200, 0, -50])
    np.testing.assert_array_equal(added - canceled - filled, change)


def test_decompose_nan_propagates():
    a, c, f = oracle.decompose_depth_change([np.nan, 10.0], [5.0, 5.0], [0.0, np.nan])
    assert np.isnan(a).all() and np.isnan(c).all() and np.isnan(f).all()


def test_replenishment_ratio():
    np.testing.assert_allclose(
        oracle.replenishment_ratio([0, 100, 300], [0, 50, 100], [0, 50, 0]), [0.0, 1.0, 3.0], rtol=1e-7
    )
    assert oracle.replenishment_ratio(250.0, 0.0, 0.0) == pytest.approx(2.5e8)


# ------------------------------------------------------------------------------------------- state table

# The SPEC's contract counts as multiples of a 100-contract size scale (s = S / N = 1000 / 10): flow 100,
# WEAK depth 50, contested |delta| 50 and activity 100.
SPEC_AT_100 = br.BarrierThresholds(0.3, 1.5, 1.0, 1.0, 0.5, 0.5, 1.0)
S, N = 1000, 10


@pytest.mark.parametrize(
    "added, canceled, filled, depth, n, expected",
    [
        (0, 300, 10, 500, 5, "VACUUM"),  # delta -310, R 0
        (0, 10, 300, 500, 5, "VACUUM"),  # VACUUM wins over CONSUMED (first match)
        (150, 0, 0, 500, 5, "WALL"),
        (200, 100, 400, 500, 5, "CONSUMED"),  # delta -300, R 0.4
        (200, 400, 100, 500, 5, "NEUTRAL"),  # falls through: canceled >= filled, depth >= 50
        (200, 400, 100, 20, 5, "WEAK"),
        (360, 200, 40, 500, 5, "ABSORPTION"),  # delta 120 but R = 360 / 240.000001 < 1.5: rule 5
        (220, 100, 100, 10, 5, "ABSORPTION"),  # rule 5 wins over WEAK
        (40, 20, 20, 10, 5, "WEAK"),  # delta 0
        (160, 100, 100, 500, 5, "ABSORPTION"),  # contested: |delta| 40 < 50, activity 360 > 100
        (0, 20, 20, 500, 5, "NEUTRAL"),  # activity 40 <= 100
        (0, 0, 0, 500, 5, "NEUTRAL"),
        (0, 300, 10, 500, 1, "NEUTRAL"),  # < 2 snapshots
        (0, 300, 10, 500, 0, "NEUTRAL"),
        (0, 100, 0, 500, 5, "NEUTRAL"),  # strict: delta = -100 is not < -100
        (100, 0, 0, 500, 5, "ABSORPTION"),  # delta = 100 is not > 100 -> rule 5
        (5, 5, 0, 50, 5, "NEUTRAL"),  # R < 1; depth = 50 is not < 50
        (150, 100, 100, 500, 5, "NEUTRAL"),  # |delta| = 50 is not < 50
    ],
)
def test_barrier_state_branches(added, canceled, filled, depth, n, expected):
    assert str(br.barrier_state(added, canceled, filled, depth, n, S, N, *SPEC_AT_100.as_tuple())) == expected


def test_barrier_state_is_scale_free():
    """Every size (and so the size scale) x 7 or x 10: the same states, at every boundary of the table."""
    rng = np.random.default_rng(12)
    a, c, f, dep = (rng.integers(0, 400, 4000) for _ in range(4))
    n = rng.integers(0, 6, 4000)
    size_sum, levels = rng.integers(1, 3000, 4000), rng.integers(1, 40, 4000)
    base = br.barrier_state(a, c, f, dep, n, size_sum, levels, *SPEC_AT_100.as_tuple())
    assert set(base.tolist()) == set(br.BARRIER_STATES)
    for k in (7, 10):
        scaled = br.barrier_state(a * k, c * k, f * k, dep * k, n, size_sum * k, levels, *SPEC_AT_100.as_tuple())
        np.testing.assert_array_equal(scaled, base)


def test_barrier_state_thresholds_follow_the_size_scale():
    # the same 150-contract rise is a WALL against 100-lot levels, only ABSORPTION against 200-lot levels
    wall = br.barrier_state(150, 0, 0, 500, 5, 1000, 10, *SPEC_AT_100.as_tuple())
    assert str(wall) == "WALL"
    assert str(br.barrier_state(150, 0, 0, 500, 5, 2000, 10, *SPEC_AT_100.as_tuple())) == "ABSORPTION"
    # no non-empty level in the look-back: no size scale, so no size condition holds
    assert str(br.barrier_state(0, 300, 10, 0, 5, 0, 0, *SPEC_AT_100.as_tuple())) == "NEUTRAL"


def test_barrier_state_ratio_thresholds_are_exact_decimals():
    # R = 3 / (10 + 1e-6) is just below 0.3; with a flow threshold of 1 contract (s = 1) this is a VACUUM
    t = br.BarrierThresholds(0.3, 1.5, 1.0, 1.0, 0.5, 0.5, 1.0)
    assert str(br.barrier_state(3, 10, 0, 500, 5, 10, 10, *t.as_tuple())) == "VACUUM"
    assert str(br.barrier_state(4, 10, 0, 500, 5, 10, 10, *t.as_tuple())) != "VACUUM"


def test_barrier_state_vectorised():
    out = br.barrier_state(
        [0, 150, 40], [300, 0, 20], [10, 0, 20], [500, 500, 10], [5, 5, 5], S, N, *SPEC_AT_100.as_tuple()
    )
    assert out.tolist() == ["VACUUM", "WALL", "WEAK"]


def test_thresholds_come_from_dbt_project():
    from breakbounce.params import project_vars

    v = project_vars()
    t = oracle.project_thresholds()
    assert t.as_tuple() == tuple(float(v[name]) for name in br.BarrierThresholds.VARS.values())
    assert oracle.project_thresholds({"barrier_flow_scale": 9}).flow_scale == 9.0


# ------------------------------------------------------------------------------------------- zone depth


def test_zone_depth_inclusive_edges_and_empty_levels():
    prices = np.array(
        [
            [684.8, 684.825, 684.85, 685.2, 685.225, np.nan, 684.775, 685.0, np.nan, 686.0],
            [6848.0 / 10, 6852.0 / 10, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan],
        ]
    )
    sizes = np.array([[1, 2, 4, 8, 16, 32, 64, 128, np.nan, 256], [5, 7, 0, 0, 0, 0, 0, 0, 0, 0]], dtype=float)
    # zone [684.8, 685.2]: 684.8 and 685.2 (edges, within eps) count; 685.225, 684.775, 686.0 and NaN levels don't
    np.testing.assert_array_equal(oracle.zone_depth(prices, sizes, L - 0.2, L + 0.2), [1 + 2 + 4 + 8 + 128, 12])
    np.testing.assert_array_equal(oracle.zone_depth(prices, sizes, [685.0, 684.0], [685.3, 684.9]), [8 + 16 + 128, 5])


# ------------------------------------------------------------------------------------------- per-event oracle


def _book(depths_at_level, ts_list, side="bid"):
    """Books whose defending side holds depths_at_level[i] at L (plus 40 lots outside the zone)."""
    n = len(ts_list)
    px = np.full((n, 10), np.nan)
    sz = np.full((n, 10), np.nan)
    px[:, 0], sz[:, 0] = L, depths_at_level
    px[:, 1], sz[:, 1] = (L - 0.5, 40) if side == "bid" else (L + 0.5, 40)
    other_px = np.full((n, 10), np.nan)
    other_sz = np.full((n, 10), np.nan)
    other_px[:, 0], other_sz[:, 0] = (L + 0.025, 10) if side == "bid" else (L - 0.025, 10)
    if side == "bid":
        return np.asarray(ts_list, dtype=np.int64), px, sz, other_px, other_sz
    return np.asarray(ts_list, dtype=np.int64), other_px, other_sz, px, sz


def _snap_times(k, step_ms=500):
    return [T_DEC - 200 * NS + i * step_ms * 1_000_000 for i in range(k)]


NO_TRADES = (np.array([], dtype=np.int64), np.array([]), np.array([]), np.array([], dtype=np.int64))


def test_planted_vacuum_is_vacuum():
    # Support (DOWN, bid side): 800 lots pulled to 100 without any trades.
    ts, bpx, bsz, apx, asz = _book([800, 800, 600, 300, 100], _snap_times(5))
    out = oracle.barrier_metrics(ts, bpx, bsz, apx, asz, *NO_TRADES, level=L, direction="DOWN", t_dec_ns=T_DEC)
    assert out["barrier_state"] == "VACUUM"
    assert out["canceled"] == 700 and out["filled"] == 0 and out["added"] == 0
    assert out["barrier_delta_liq"] == -700
    assert out["barrier_replenishment_ratio"] == 0.0
    assert out["depth_in_zone"] == 100
    assert out["n_snapshots"] == 5


def test_refilling_wall_is_wall():
    # Resistance (UP, ask side): size keeps coming back while buyers lift 100 lots in the zone.
    ts, bpx, bsz, apx, asz = _book([300, 250, 400, 350, 550], _snap_times(5), side="ask")
    trade_ts = np.array([ts[1] - 1, ts[3] - 1], dtype=np.int64)
    out = oracle.barrier_metrics(
        ts,
        bpx,
        bsz,
        apx,
        asz,
        trade_ts,
        np.array([L, L]),
        np.array([50.0, 50.0]),
        np.array([1, 1]),
        level=L,
        direction="UP",
        t_dec_ns=T_DEC,
    )
    assert out["barrier_state"] == "WALL"
    assert (out["added"], out["filled"], out["canceled"]) == (350, 100, 0)
    assert out["barrier_delta_liq"] == 250
    assert out["barrier_replenishment_ratio"] == pytest.approx(3.5)


def test_consumed_by_fills():
    ts, bpx, bsz, apx, asz = _book([400, 600, 100], _snap_times(3))
    trade_ts = np.array([ts[2] - 10, ts[2]], dtype=np.int64)  # a print at exactly the snapshot's ts counts
    out = oracle.barrier_metrics(
        ts,
        bpx,
        bsz,
        apx,
        asz,
        trade_ts,
        np.array([L, L - 0.1]),
        np.array([250.0, 150.0]),
        np.array([-1, -1]),
        level=L,
        direction="DOWN",
        t_dec_ns=T_DEC,
    )
    assert (out["added"], out["filled"], out["canceled"]) == (200, 400, 100)
    assert out["barrier_replenishment_ratio"] == pytest.approx(0.4)
    assert out["barrier_state"] == "CONSUMED"


def test_trade_attribution_rules():
    ts, bpx, bsz, apx, asz = _book([500, 300], _snap_times(2))
    trade_ts = np.array([ts[0], ts[0] + 1, ts[0] + 2, ts[0] + 3, ts[1] + 1], dtype=np.int64)
    trade_px = np.array([L, L, L + 0.5, L, L])
    trade_sz = np.array([1000.0, 30.0, 1000.0, 1000.0, 1000.0])
    trade_ag = np.array([-1, -1, -1, 1, -1])
    # counted: only the 30-lot sell at L after the first snapshot. Not counted: at prev.ts, out of zone,
    # wrong side (a buy does not hit the bid), after the last snapshot.
    out = oracle.barrier_metrics(
        ts, bpx, bsz, apx, asz, trade_ts, trade_px, trade_sz, trade_ag, level=L, direction="DOWN", t_dec_ns=T_DEC
    )
    assert (out["filled"], out["canceled"]) == (30, 170)


def test_downsampling_window_and_wall_ratio():
    bucket = oracle.SNAPSHOT_BUCKET_NS
    ts = [
        T_DEC - 600 * NS,  # before the barrier window: only in the wall-ratio lookback
        T_DEC - 240 * NS,  # first barrier snapshot (window start is inclusive)
        T_DEC - 240 * NS + bucket // 2,  # same bucket, later → replaces the previous row
        T_DEC - 100 * NS,
        T_DEC - 100 * NS,  # same ts: the higher seq wins
        T_DEC,  # at t_dec: excluded
    ]
    seq = [1, 2, 3, 5, 4, 6]
    depth = [9999, 7777, 300, 200, 450, 9999]
    t, bpx, bsz, apx, asz = _book(depth, ts)
    out = oracle.barrier_metrics(
        t, bpx, bsz, apx, asz, *NO_TRADES, level=L, direction="DOWN", t_dec_ns=T_DEC, book_seq=seq
    )
    assert out["n_snapshots"] == 2
    assert (out["added"], out["canceled"]) == (0, 100)  # 300 → 200 (seq 5 is the later row)
    assert out["depth_in_zone"] == 200
    # lookback snapshots: rows 0, 2 and 3 (row 1 is replaced by row 2 in its bucket) → bid sizes (9999, 40),
    # (300, 40), (200, 40) and ask sizes 10, 10, 10.
    mean_level = (9999 + 40 + 300 + 40 + 200 + 40 + 10 + 10 + 10) / 9
    assert out["wall_ratio"] == pytest.approx(200 / mean_level)
    no_bucketing = oracle.barrier_metrics(
        t, bpx, bsz, apx, asz, *NO_TRADES, level=L, direction="DOWN", t_dec_ns=T_DEC, book_seq=seq, bucket_ns=None
    )
    assert no_bucketing["n_snapshots"] == 4


def test_fewer_than_two_snapshots_gives_neutral_zeros():
    ts, bpx, bsz, apx, asz = _book([10], _snap_times(1))
    out = oracle.barrier_metrics(ts, bpx, bsz, apx, asz, *NO_TRADES, level=L, direction="UP", t_dec_ns=T_DEC)
    assert out["barrier_state"] == "NEUTRAL" and out["n_snapshots"] == 1
    assert all(out[k] == 0 for k in ("barrier_delta_liq", "barrier_replenishment_ratio", "depth_in_zone", "wall_ratio"))
    with pytest.raises(ValueError):
        oracle.barrier_metrics(ts, bpx, bsz, apx, asz, *NO_TRADES, level=L, direction="SIDEWAYS", t_dec_ns=T_DEC)
