"""Unit tests for python_udfs.fuel (fuel effect, dealer gamma, parity-implied spot)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from python_udfs import black_scholes as bs
from python_udfs import fuel


def test_fuel_effect_thresholds():
    g = [-50_000, -10_000.01, -10_000, 0, 5_000, 10_000, 10_000.01, np.nan]
    assert fuel.fuel_effect(g).tolist() == [
        "AMPLIFY", "AMPLIFY", "NEUTRAL", "NEUTRAL", "NEUTRAL", "NEUTRAL", "DAMPEN", "NEUTRAL"
    ]
    assert fuel.fuel_effect(-600, threshold=500).tolist() == "AMPLIFY"


def test_fuel_effect_of_summed_strike_flows():
    # dealer gamma by strike {684P: +30k, 685C: −25k, 686C: +15k} near a level at 685 sums to +20k
    assert str(fuel.fuel_effect(sum([30_000, -25_000, 15_000]))) == "DAMPEN"


def test_dealer_gamma_is_position_times_100_times_gamma():
    t = 1.0 / 252.0
    gamma = bs.bs_gamma(685.0, 686.0, t, 0.18, bs.RISK_FREE_RATE)
    assert fuel.dealer_gamma(-25, 685.0, 686.0, t, 0.18) == pytest.approx(-25 * 100 * gamma, rel=1e-15)
    out = fuel.dealer_gamma([10, 0, -3], 685.0, [684.0, 685.0, 690.0], [t, t, 0.0], 0.2, 0.045)
    np.testing.assert_allclose(out[:2], [10 * 100 * bs.bs_gamma(685.0, 684.0, t, 0.2, 0.045), 0.0])
    assert out[2] == 0.0  # expired: no gamma
    assert np.isnan(fuel.dealer_gamma(5, -1.0, 685.0, t, 0.2))


def test_dealer_gamma_flow_sign():
    np.testing.assert_allclose(fuel.dealer_gamma_flow([1, -1, 0], [10, 4, 7], 0.05), [-50.0, 20.0, 0.0])


def test_parity_implied_spot():
    s, k, t = 684.37, 686.0, 2.5 / 252.0
    c = bs.bs_price(s, k, t, 0.2, 0.0, True)
    p = bs.bs_price(s, k, t, 0.2, 0.0, False)
    assert fuel.parity_implied_spot(c, p, k) == pytest.approx(s, abs=1e-10)
    c = bs.bs_price(s, k, t, 0.2, 0.045, True)
    p = bs.bs_price(s, k, t, 0.2, 0.045, False)
    assert fuel.parity_implied_spot(c, p, k, rate=0.045, t_years=t, discount=True) == pytest.approx(s, abs=1e-10)
    undiscounted = fuel.parity_implied_spot(c, p, k)
    assert undiscounted - s == pytest.approx(k * (1 - math.exp(-0.045 * t)), abs=1e-10)
    np.testing.assert_allclose(fuel.parity_implied_spot([1.0, 2.5], [2.0, 0.5], [685.0, 684.0]), [684.0, 686.0])
