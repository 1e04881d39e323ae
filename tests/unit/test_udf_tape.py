"""Unit tests for the tape test oracle tests/oracles/tape.py (OLS slope, imbalance, sweep detection, per-event oracle)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.oracles import tape

MS = 1_000_000
T0 = 1_765_900_000_000_000_000


def test_ols_slope_exact_line_and_degenerate_cases():
    t = np.array([0.0, 1.5, 2.0, 7.25])
    assert tape.ols_slope(t, 685.0 + 0.02 * t) == pytest.approx(0.02, rel=1e-12)
    assert tape.ols_slope(t + 1.7e9, 685.0 - 0.5 * t) == pytest.approx(-0.5, rel=1e-6)  # any time origin
    assert tape.ols_slope([], []) == 0.0
    assert tape.ols_slope([3.0], [685.0]) == 0.0
    assert tape.ols_slope([0.1, 0.1, 0.1], [685.0, 686.0, 684.0]) == 0.0  # zero variance in t
    # symmetric noise around a flat line
    assert tape.ols_slope([0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 2.0, 1.0]) == pytest.approx(0.0, abs=1e-15)


def test_tape_imbalance():
    np.testing.assert_allclose(tape.tape_imbalance([10, 0, 0, 30], [0, 10, 0, 10]), [1.0, -1.0, 0.0, 0.5])
    assert tape.tape_imbalance(0, 0) == 0.0


def _prints(gaps_ms, prices, sides, sizes):
    ts = T0 + np.concatenate([[0], np.cumsum(np.asarray(gaps_ms, dtype=np.int64) * MS)])
    return ts, np.asarray(prices, float), np.asarray(sides), np.asarray(sizes, float)


def test_sweep_detected_basic_buy_and_sell():
    assert tape.detect_sweep(*_prints([50, 50, 50, 50], [685.0, 685.025, 685.05, 685.05, 685.075], [1] * 5, [10] * 5))
    assert tape.detect_sweep(*_prints([20, 20], [685.05, 685.025, 685.0], [-1] * 3, [20, 20, 10]))


def test_sweep_gap_exactly_100ms_counts_and_longer_breaks():
    assert tape.detect_sweep(*_prints([100, 100], [685.0, 685.025, 685.05], [1] * 3, [20, 20, 10]))
    ts, px, sd, sz = _prints([100, 100], [685.0, 685.025, 685.05], [1] * 3, [20, 20, 10])
    ts[2] += 1  # 100 ms + 1 ns
    assert not tape.detect_sweep(ts, px, sd, sz)


def test_sweep_side_change_and_unknown_side_break_runs():
    assert not tape.detect_sweep(*_prints([10, 10, 10], [685.0, 685.025, 685.0, 685.05], [1, 1, -1, 1], [20] * 4))
    assert not tape.detect_sweep(*_prints([10, 10, 10], [685.0, 685.025, 685.0, 685.05], [1, 1, 0, 1], [20] * 4))
    assert not tape.detect_sweep(*_prints([10, 10], [685.0, 685.025, 685.05], [0, 0, 0], [40] * 3))


def test_sweep_thresholds():
    assert not tape.detect_sweep(*_prints([10, 10], [685.0, 685.025, 685.05], [1] * 3, [20, 20, 9]))  # 49 lots
    assert tape.detect_sweep(*_prints([10, 10], [685.0, 685.025, 685.05], [1] * 3, [20, 20, 10]))  # 50 lots
    assert not tape.detect_sweep(
        *_prints([10, 10, 10], [685.0, 685.025, 685.0, 685.025], [1] * 4, [30] * 4)
    )  # 2 prices
    assert tape.detect_sweep(*_prints([10, 10], [685.0, 685.025, 685.05], [1] * 3, [2, 2, 1]), min_contracts=5)
    assert not tape.detect_sweep(*_prints([], [685.0], [1], [500]))
    assert not tape.detect_sweep([], [], [], [])


def test_sweep_found_in_a_later_run():
    ts, px, sd, sz = _prints(
        [10, 500, 30, 30, 30],
        [685.0, 685.1, 685.0, 685.025, 685.05, 685.075],
        [1, 1, -1, -1, -1, -1],
        [60, 60, 5, 5, 20, 30],
    )
    assert tape.detect_sweep(ts, px, sd, sz)


def test_tape_metrics_window_band_and_velocity():
    t_dec = T0 + 60_000 * MS
    ts = np.array([T0 - 1, T0, T0 + 10_000 * MS, T0 + 30_000 * MS, T0 + 59_999 * MS, t_dec], dtype=np.int64)
    px = np.array([600.0, 685.0, 685.5, 686.0, 685.2, 600.0])
    size = np.array([999, 10, 5, 7, 3, 999])
    ag = np.array([1, 1, -1, 1, 0, -1])
    out = tape.tape_metrics(ts, px, size, ag, level=685.0, t0_ns=T0, t_dec_ns=t_dec)
    assert out["tape_buy_vol"] == 10  # 686.0 is outside ±0.50; the prints at T0 − 1 and t_dec are outside
    assert out["tape_sell_vol"] == 5  # 685.5 is exactly on the band edge (inclusive)
    assert out["tape_imbalance"] == pytest.approx(5 / 15)
    t = np.array([0.0, 10.0, 30.0, 59.999])
    assert out["tape_velocity"] == pytest.approx(tape.ols_slope(t, px[1:5]), rel=1e-12)
    assert out["sweep_detected"] is False
    empty = tape.tape_metrics(ts[:1], px[:1], size[:1], ag[:1], level=685.0, t0_ns=T0, t_dec_ns=t_dec)
    assert empty == {
        "tape_buy_vol": 0.0,
        "tape_sell_vol": 0.0,
        "tape_imbalance": 0.0,
        "tape_velocity": 0.0,
        "sweep_detected": False,
    }


def test_tape_metrics_orders_by_ts_then_seq():
    ts = np.array([T0 + 20 * MS, T0 + 10 * MS, T0 + 10 * MS], dtype=np.int64)
    px = np.array([685.05, 685.025, 685.0])
    out = tape.tape_metrics(
        ts, px, [20, 20, 20], [1, 1, 1], level=685.0, t0_ns=T0, t_dec_ns=T0 + 60_000 * MS, seq=[3, 2, 1]
    )
    assert out["sweep_detected"] is True
    assert out["tape_velocity"] > 0
