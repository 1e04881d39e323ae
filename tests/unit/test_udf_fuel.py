"""Unit tests for python_udfs.fuel (fuel effect, dealer gamma, parity-implied spot)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from python_udfs import black_scholes as bs
from python_udfs import fuel


def test_fuel_effect_against_the_gamma_scale():
    # scale g = (lo + hi) / 2 = 20,000 share-gamma (in 1e-9 units), c = 1.5: the band is +-30,000
    lo, hi = 18_000 * 10**9, 22_000 * 10**9
    e = [-50_000, -30_000.000000001, -30_000, 0, 30_000, 30_000.000000001, 50_000]
    e9 = [round(x * 10**9) for x in e]
    assert fuel.fuel_effect(e9, 12, lo, hi, 1.5, 10).tolist() == [
        "AMPLIFY",
        "AMPLIFY",
        "NEUTRAL",
        "NEUTRAL",
        "NEUTRAL",
        "DAMPEN",
        "DAMPEN",
    ]


def test_fuel_effect_is_neutral_without_a_scale():
    big = -(10**15)
    assert fuel.fuel_effect(big, 9, 5, 5, 1.0, 10).tolist() == "NEUTRAL"  # 9 marks < 10 needed
    assert fuel.fuel_effect(big, 40, 0, 0, 1.0, 10).tolist() == "NEUTRAL"  # g = 0
    assert fuel.fuel_effect(big, 40, 0, 2, 1.0, 10).tolist() == "AMPLIFY"  # g = 1e-9 share-gamma


def test_fuel_effect_is_scale_free_and_exact():
    rng = np.random.default_rng(3)
    e = rng.integers(-(10**13), 10**13, 5000)
    lo = rng.integers(0, 10**12, 5000)
    hi = lo + rng.integers(0, 10**12, 5000)
    e[:100] = (lo[:100] + hi[:100]) // 2 * 3 // 2  # exactly on the band edge (c = 1.5) where lo + hi is even
    base = fuel.fuel_effect(e, 30, lo, hi, 1.5, 10)
    assert set(base.tolist()) == {"AMPLIFY", "DAMPEN", "NEUTRAL"}
    for k in (3, 10):
        np.testing.assert_array_equal(fuel.fuel_effect(e * k, 30, lo * k, hi * k, 1.5, 10), base)


def test_dealer_gamma_is_position_times_100_times_gamma():
    t = 1.0 / 252.0
    gamma = bs.bs_gamma(685.0, 686.0, t, 0.18, 0.045)
    assert fuel.dealer_gamma(-25, 685.0, 686.0, t, 0.18, 0.045) == pytest.approx(-25 * 100 * gamma, rel=1e-15)
    out = fuel.dealer_gamma([10, 0, -3], 685.0, [684.0, 685.0, 690.0], [t, t, 0.0], 0.2, 0.045)
    np.testing.assert_allclose(out[:2], [10 * 100 * bs.bs_gamma(685.0, 684.0, t, 0.2, 0.045), 0.0])
    assert out[2] == 0.0  # expired: no gamma
    assert np.isnan(fuel.dealer_gamma(5, -1.0, 685.0, t, 0.2, 0.045))


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
