"""Unit tests for python_udfs.black_scholes (normal CDF, BS price/greeks, implied vol, time convention)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from python_udfs import black_scholes as bs

R = 0.045
S0 = 685.0
SECONDS = np.array([1.0, 30.0, 60.0, 300.0, 1800.0, 3 * 3600.0, 6.5 * 3600.0, 30 * 6.5 * 3600.0])
T_GRID = SECONDS / bs.TRADING_SECONDS_PER_YEAR


# ------------------------------------------------------------------------------------------- normal CDF


def test_erf_matches_math_erf_on_grid():
    x = np.linspace(-7.0, 7.0, 14001)
    ref = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(bs.erf(x) - ref)) < 1e-14


def test_erfc_relative_accuracy_on_positive_axis():
    x = np.linspace(0.0, 26.0, 13001)
    ref = np.array([math.erfc(v) for v in x])
    assert np.max(np.abs(bs.erfc(x) / ref - 1.0)) < 1e-12
    neg = -x[:3000]
    assert np.max(np.abs(bs.erfc(neg) - np.array([math.erfc(v) for v in neg]))) < 1e-14


def test_ndtr_absolute_accuracy_and_symmetry():
    z = np.linspace(-38.0, 38.0, 15201)
    ref = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in z])
    assert np.max(np.abs(bs.ndtr(z) - ref)) < 1e-14
    lower = (z < -1) & (ref > 1e-300)  # relative accuracy down to the start of the subnormal range
    assert np.max(np.abs(bs.ndtr(z[lower]) / ref[lower] - 1.0)) < 1e-11
    assert np.max(np.abs(bs.ndtr(z) + bs.ndtr(-z) - 1.0)) < 1e-15
    assert bs.ndtr(0.0) == pytest.approx(0.5, abs=1e-15)
    assert bs.ndtr(np.inf) == 1.0 and bs.ndtr(-np.inf) == 0.0
    assert np.isnan(bs.ndtr(np.nan))


def test_norm_pdf():
    assert bs.norm_pdf(0.0) == pytest.approx(1.0 / math.sqrt(2.0 * math.pi), rel=1e-15)
    assert bs.norm_pdf(1.5) == pytest.approx(math.exp(-1.125) / math.sqrt(2.0 * math.pi), rel=1e-14)


def test_erfcx_coefficients_are_reproducible():
    # Compare the polynomials, not their monomial coefficients: the degree-20 Chebyshev -> monomial
    # conversion amplifies last-bit differences of the least-squares solve (which vary with the
    # machine's BLAS kernels) to ~1e-9 in the high-order coefficients, while the values agree to ~1e-14.
    refit = bs._fit_erfcx_coefficients()
    x = np.linspace(0.0, bs._ERFCX_X_MAX, 200001)
    t = (x - bs._ERFCX_SHIFT) / (x + bs._ERFCX_SHIFT)
    ours = np.polynomial.polynomial.polyval(t, np.array(bs._ERFCX_POLY))
    again = np.polynomial.polynomial.polyval(t, refit)
    assert np.max(np.abs(again / ours - 1.0)) < 2e-13
    np.testing.assert_allclose(refit[:4], np.array(bs._ERFCX_POLY)[:4], rtol=1e-10)


# ------------------------------------------------------------------------------------------- prices, greeks


def test_hand_computed_values():
    assert bs.bs_price(100.0, 100.0, 1.0, 0.2, 0.05, True) == pytest.approx(10.4506, abs=5e-5)
    assert bs.bs_price(100.0, 100.0, 1.0, 0.2, 0.05, False) == pytest.approx(5.5735, abs=5e-5)
    assert bs.bs_delta(100.0, 100.0, 1.0, 0.2, 0.05, True) == pytest.approx(0.6368, abs=5e-5)
    assert bs.bs_delta(100.0, 100.0, 1.0, 0.2, 0.05, False) == pytest.approx(0.6368 - 1.0, abs=5e-5)
    assert bs.bs_gamma(100.0, 100.0, 1.0, 0.2, 0.05) == pytest.approx(0.018762, abs=5e-7)
    assert bs.bs_vega(100.0, 100.0, 1.0, 0.2, 0.05) == pytest.approx(37.524, abs=5e-4)
    # 0DTE at the open (T = 1/252 trading year), ATM: the magnitude quoted in the reference document.
    assert bs.bs_gamma(685.0, 685.0, 1.0 / 252.0, 0.2, R) == pytest.approx(0.0462, abs=1e-4)


def _grid():
    k = np.arange(600.0, 771.0, 5.0)
    kk, tt, vv = np.meshgrid(k, T_GRID, np.array([0.05, 0.2, 0.8, 3.0]), indexing="ij")
    return kk.ravel(), tt.ravel(), vv.ravel()


def test_put_call_parity():
    k, t, v = _grid()
    c = bs.bs_price(S0, k, t, v, R, True)
    p = bs.bs_price(S0, k, t, v, R, False)
    np.testing.assert_allclose(c - p, S0 - k * np.exp(-R * t), rtol=0, atol=1e-10)


def test_delta_call_minus_put_is_one_including_edge_cases():
    k, t, v = _grid()
    t = np.concatenate([t, np.zeros(3), np.full(3, 0.01)])
    v = np.concatenate([v, np.full(3, 0.2), np.zeros(3)])
    k = np.concatenate([k, [680.0, 685.0, 690.0], [680.0, 685.0 * math.exp(R * 0.01), 690.0]])
    diff = bs.bs_delta(S0, k, t, v, R, True) - bs.bs_delta(S0, k, t, v, R, False)
    np.testing.assert_allclose(diff, 1.0, rtol=0, atol=1e-14)


def test_gamma_is_the_same_for_calls_and_puts_and_matches_finite_difference():
    k, t, v = _grid()
    keep = (v * np.sqrt(t)) > 1e-3  # keep the finite difference well conditioned
    k, t, v = k[keep], t[keep], v[keep]
    h = 1e-3
    gamma = bs.bs_gamma(S0, k, t, v, R)
    for is_call in (True, False):
        fd = (bs.bs_delta(S0 + h, k, t, v, R, is_call) - bs.bs_delta(S0 - h, k, t, v, R, is_call)) / (2 * h)
        np.testing.assert_allclose(fd, gamma, rtol=1e-5, atol=1e-9)


def test_delta_matches_price_finite_difference():
    k, t, v = _grid()
    keep = (v * np.sqrt(t)) > 1e-3
    k, t, v = k[keep], t[keep], v[keep]
    h = 1e-4
    for is_call in (True, False):
        fd = (bs.bs_price(S0 + h, k, t, v, R, is_call) - bs.bs_price(S0 - h, k, t, v, R, is_call)) / (2 * h)
        np.testing.assert_allclose(fd, bs.bs_delta(S0, k, t, v, R, is_call), rtol=0, atol=1e-6)


def test_expiry_gives_intrinsic_value_and_zero_gamma():
    k = np.array([680.0, 685.0, 690.0])
    for t in (0.0, -0.001):
        np.testing.assert_array_equal(bs.bs_price(S0, k, t, 0.2, R, True), [5.0, 0.0, 0.0])
        np.testing.assert_array_equal(bs.bs_price(S0, k, t, 0.2, R, False), [0.0, 0.0, 5.0])
        np.testing.assert_array_equal(bs.bs_delta(S0, k, t, 0.2, R, True), [1.0, 0.5, 0.0])
        np.testing.assert_array_equal(bs.bs_delta(S0, k, t, 0.2, R, False), [0.0, -0.5, -1.0])
        np.testing.assert_array_equal(bs.bs_gamma(S0, k, t, 0.2, R), [0.0, 0.0, 0.0])
        np.testing.assert_array_equal(bs.bs_vega(S0, k, t, 0.2, R), [0.0, 0.0, 0.0])


def test_zero_vol_gives_discounted_forward_limit():
    t = 0.5
    kd = 690.0 * math.exp(-R * t)
    assert bs.bs_price(S0, 690.0, t, 0.0, R, True) == pytest.approx(max(S0 - kd, 0.0), abs=1e-12)
    assert bs.bs_price(S0, 690.0, t, 0.0, R, False) == pytest.approx(max(kd - S0, 0.0), abs=1e-12)
    assert bs.bs_delta(S0, 690.0, t, 0.0, R, True) == (1.0 if S0 > kd else 0.0)
    assert bs.bs_gamma(S0, 690.0, t, 0.0, R) == 0.0


def test_short_times_converge_to_expiry_values():
    # One second before the close, deep ITM/OTM prices equal the payoff and gamma is ~0 away from the strike.
    t = 1.0 / bs.TRADING_SECONDS_PER_YEAR
    expected = [S0 - 675.0 * math.exp(-R * t), 0.0]
    np.testing.assert_allclose(bs.bs_price(S0, [675.0, 695.0], t, 0.2, R, True), expected, rtol=0, atol=1e-12)
    assert np.all(np.isfinite(bs.bs_gamma(S0, np.arange(680.0, 691.0), t, 0.2, R)))
    # ATM gamma grows like φ(0)/(S σ √T) as T → 0.
    assert bs.bs_gamma(S0, S0, t, 0.2, R) == pytest.approx(
        1 / math.sqrt(2 * math.pi) / (S0 * 0.2 * math.sqrt(t)), rel=1e-6
    )


def test_invalid_inputs_give_nan():
    bad = [
        (0.0, 685.0, 0.01, 0.2, R),
        (-1.0, 685.0, 0.01, 0.2, R),
        (685.0, 0.0, 0.01, 0.2, R),
        (685.0, 685.0, 0.01, -0.2, R),
        (np.nan, 685.0, 0.01, 0.2, R),
        (685.0, 685.0, np.nan, 0.2, R),
        (685.0, 685.0, np.inf, 0.2, R),
        (685.0, 685.0, 0.01, np.inf, R),
        (685.0, 685.0, 0.01, 0.2, np.nan),
    ]
    for args in bad:
        assert np.isnan(bs.bs_price(*args, True)), args
        assert np.isnan(bs.bs_delta(*args, False)), args
        assert np.isnan(bs.bs_gamma(*args)), args
        assert np.isnan(bs.bs_vega(*args)), args


def test_broadcasting_and_scalar_shapes():
    assert bs.bs_gamma(S0, 685.0, 0.01, 0.2, R).shape == ()
    out = bs.bs_price(S0, np.array([[680.0], [690.0]]), np.array([0.001, 0.002, 0.003]), 0.2, R, [True, False, True])
    assert out.shape == (2, 3)
    assert out[0, 1] == pytest.approx(bs.bs_price(S0, 680.0, 0.002, 0.2, R, False), abs=0)


# ------------------------------------------------------------------------------------------- implied vol


def test_implied_vol_hand_value():
    assert bs.implied_vol(10.450583572185657, 100.0, 100.0, 1.0, 0.05, True, fallback=0.2) == pytest.approx(
        0.2, abs=1e-10
    )
    assert bs.implied_vol(5.573526022257056, 100.0, 100.0, 1.0, 0.05, False, fallback=0.2) == pytest.approx(
        0.2, abs=1e-10
    )


def test_implied_vol_round_trip_grid():
    k = np.arange(600.0, 771.0, 1.0)
    vols = np.array([0.03, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0])
    kk, tt, vv, cc = np.meshgrid(k, T_GRID, vols, [True, False], indexing="ij")
    price = bs.bs_price(S0, kk, tt, vv, R, cc)
    iv = bs.implied_vol_raw(price, S0, kk, tt, R, cc)
    kd = kk * np.exp(-R * tt)
    time_value = price - np.where(cc, np.maximum(S0 - kd, 0.0), np.maximum(kd - S0, 0.0))
    meaningful = time_value > 1e-9  # below this the price is indistinguishable from the payoff
    assert meaningful.sum() > 0.4 * price.size
    assert np.all(~np.isnan(iv[meaningful]))
    solved = ~np.isnan(iv)
    repriced = bs.bs_price(S0, kk[solved], tt[solved], iv[solved], R, cc[solved])
    assert np.max(np.abs(repriced - price[solved])) < 1e-6
    vega = bs.bs_vega(S0, kk, tt, vv, R)
    identifiable = solved & (vega > 1e-3)
    assert np.max(np.abs(iv[identifiable] - vv[identifiable])) < 1e-6


def test_implied_vol_of_0dte_prints_on_cent_grid():
    rng = np.random.default_rng(7)
    n = 4000
    spot = S0 + rng.normal(0.0, 2.0, n)
    strike = np.round(spot + rng.normal(0.0, 6.0, n))
    t = rng.uniform(60.0, 6.5 * 3600.0, n) / bs.TRADING_SECONDS_PER_YEAR
    is_call = rng.random(n) < 0.5
    price = np.maximum(np.round(bs.bs_price(spot, strike, t, rng.uniform(0.08, 0.6, n), R, is_call), 2), 0.01)
    iv = bs.implied_vol_raw(price, spot, strike, t, R, is_call)
    kd = strike * np.exp(-R * t)
    intrinsic = np.where(is_call, np.maximum(spot - kd, 0.0), np.maximum(kd - spot, 0.0))
    solved = ~np.isnan(iv)
    assert solved.mean() > 0.9
    assert np.all(price[~solved] <= intrinsic[~solved] + 1e-9)  # only prints at/below intrinsic are unsolved
    repriced = bs.bs_price(spot[solved], strike[solved], t[solved], iv[solved], R, is_call[solved])
    assert np.max(np.abs(repriced - price[solved])) < 1e-6
    assert np.all((iv[solved] >= bs.IV_LOWER) & (iv[solved] <= bs.IV_UPPER))


def test_implied_vol_unsolvable_cases_fall_back():
    t = 0.002
    kd = 690.0 * math.exp(-R * t)
    cases = [  # (price, spot, strike, t_years, rate, is_call)
        (S0 - 680.0 * math.exp(-R * t) - 0.01, S0, 680.0, t, R, True),  # below intrinsic (ITM call)
        (S0 - 680.0 * math.exp(-R * t), S0, 680.0, t, R, True),  # exactly intrinsic: IV would be 0
        (kd - S0 - 0.5, S0, 690.0, t, R, False),  # below intrinsic (ITM put)
        (-0.05, S0, 690.0, t, R, True),  # negative price
        (0.0, S0, 690.0, t, R, True),  # zero price
        (S0 + 1.0, S0, 690.0, t, R, True),  # call above spot
        (kd + 0.01, S0, 690.0, t, R, False),  # put above discounted strike
        (3.0, S0, 685.0, 0.0, R, True),  # at expiry
        (3.0, S0, 685.0, -1.0, R, True),  # after expiry
        (np.nan, S0, 685.0, t, R, True),
        (3.0, np.nan, 685.0, t, R, True),
        (3.0, 0.0, 685.0, t, R, True),
        (3.0, S0, -685.0, t, R, True),
        (3.0, S0, 685.0, t, np.nan, True),
        (3.0, S0, 685.0, np.inf, R, True),
        (bs.bs_price(S0, 700.0, t, 6.0, R, True), S0, 700.0, t, R, True),  # IV above the bracket (600 %)
        (bs.bs_price(S0, 685.0, t, 5e-5, R, True), S0, 685.0, t, R, True),  # IV below the bracket
    ]
    for args in cases:
        assert np.isnan(bs.implied_vol_raw(*args)), args
        assert bs.implied_vol(*args, fallback=0.2) == 0.2
        assert bs.implied_vol(*args, fallback=0.33) == 0.33
        assert not bs.implied_vol_solved(*args)


def test_implied_vol_bracket_ends_are_solved():
    t = 0.002
    at_forward = S0 * math.exp(R * t)  # at σ = 1e-4 only an at-the-forward option has a visible time value
    for vol in (bs.IV_LOWER, bs.IV_UPPER):
        price = bs.bs_price(S0, at_forward, t, vol, R, True)
        assert bs.implied_vol_raw(price, S0, at_forward, t, R, True) == pytest.approx(vol, rel=1e-6)


def test_implied_vol_vectorised_mixed_and_solved_flag():
    price = np.array([10.450583572185657, np.nan, 200.0, 5.573526022257056])
    is_call = np.array([True, True, True, False])
    iv = bs.implied_vol(price, 100.0, 100.0, 1.0, 0.05, is_call, fallback=0.2)
    np.testing.assert_allclose(iv, [0.2, 0.2, 0.2, 0.2], atol=1e-10)
    np.testing.assert_array_equal(
        bs.implied_vol_solved(price, 100.0, 100.0, 1.0, 0.05, is_call), [True, False, False, True]
    )


def test_implied_vol_guess_coefficients_are_reproducible():
    w1, l1, l2, near, far = bs._fit_iv_guess_coefficients()
    assert (w1, l1, l2) == pytest.approx((bs._IVG_W1, bs._IVG_L1, bs._IVG_L2), rel=1e-12)
    np.testing.assert_allclose(near, np.array(bs._IVG_NEAR), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(far, np.array(bs._IVG_FAR), rtol=1e-8, atol=1e-12)


def test_implied_vol_guess_is_close_for_short_dated_options():
    # the starting guess (not a result): within 2e-4 of the implied vol for σ√T ≤ 0.05, u = θ / σ√T up to 8
    u = np.concatenate([[0.0], np.geomspace(1e-6, 8.0, 400)])
    uu, ss = np.meshgrid(u, np.geomspace(1e-5, 0.05, 30), indexing="ij")
    theta = uu * ss  # |ln(S / K e^{-rT})|
    price = bs.bs_price(1.0, np.exp(-theta), 1.0, ss, 0.0, False)  # OTM put, K < S = 1, T = 1: β = price / √K
    beta = price / np.sqrt(np.exp(-theta))
    usable = price > 1e-300
    with np.errstate(all="ignore"):  # as inside implied_vol_raw (θ = 0 gives y = inf)
        guess = bs._iv_guess(theta[usable], beta[usable])
    assert usable.mean() > 0.95
    assert np.max(np.abs(guess / ss[usable] - 1.0)) < 2e-4


def test_implied_vol_does_not_depend_on_batching():
    rng = np.random.default_rng(11)
    n = 3 * bs._IV_BLOCK + 123  # several blocks, converged elements dropped at different times in each
    spot = S0 + rng.normal(0.0, 2.0, n)
    strike = np.round(spot + rng.normal(0.0, 8.0, n))
    t = rng.uniform(1.0, 6.5 * 3600.0, n) / bs.TRADING_SECONDS_PER_YEAR
    is_call = rng.random(n) < 0.5
    price = np.round(bs.bs_price(spot, strike, t, rng.uniform(0.05, 1.5, n), R, is_call), 2)
    full = bs.implied_vol_raw(price, spot, strike, t, R, is_call)
    perm = rng.permutation(n)
    permuted = bs.implied_vol_raw(price[perm], spot[perm], strike[perm], t[perm], R, is_call[perm])
    np.testing.assert_array_equal(permuted, full[perm])
    pieces = [
        bs.implied_vol_raw(
            price[i : i + 700], spot[i : i + 700], strike[i : i + 700], t[i : i + 700], R, is_call[i : i + 700]
        )
        for i in range(0, n, 700)
    ]
    np.testing.assert_array_equal(np.concatenate(pieces), full)
    one = [bs.implied_vol_raw(price[i], spot[i], strike[i], t[i], R, is_call[i]) for i in range(0, n, 997)]
    np.testing.assert_array_equal(one, full[::997])


def test_implied_vol_bracket_end_decisions_match_the_exact_rule():
    # Prices a few ulps around the prices at the bracket ends, from 1 ns to 10 years before expiry: NaN / bracket
    # end exactly where the exact end prices say so (the solver skips them only where the outcome is certain).
    rng = np.random.default_rng(5)
    n = 6000
    spot = S0 * np.exp(rng.normal(0.0, 0.002, n))
    strike = np.round(S0 * np.exp(rng.normal(0.0, 0.03, n)))
    t = np.exp(rng.uniform(np.log(1e-9 / bs.TRADING_SECONDS_PER_YEAR), np.log(10.0), n))
    near_fwd = rng.random(n) < 0.3  # strikes within a few σ√T of the forward at σ = IV_LOWER: p_lo > 0
    strike[near_fwd] = (spot * np.exp(R * t + rng.normal(0.0, 3.0 * bs.IV_LOWER * np.sqrt(t))))[near_fwd]
    is_call = rng.random(n) < 0.5
    end = np.where(rng.random(n) < 0.5, bs.IV_LOWER, bs.IV_UPPER)
    price = bs.bs_price(spot, strike, t, end, R, is_call)
    price += rng.integers(-4, 5, n) * np.spacing(price)
    iv = bs.implied_vol_raw(price, spot, strike, t, R, is_call)

    kd = strike * np.exp(-R * t)
    intrinsic = np.where(is_call, np.maximum(spot - kd, 0.0), np.maximum(kd - spot, 0.0))
    tv = price - intrinsic
    ok = (tv > 16.0 * np.finfo(float).eps * (np.abs(price) + spot + kd)) & (price < np.where(is_call, spot, kd))
    otm_call = spot <= kd
    p_lo = bs._otm_price_exact(bs.IV_LOWER, spot, strike, t, R, otm_call)
    p_hi = bs._otm_price_exact(bs.IV_UPPER, spot, strike, t, R, otm_call)
    too_low, too_high = tv < p_lo * (1.0 - 1e-12), tv > p_hi * (1.0 + 1e-12)
    expected_nan = ~ok | too_low | too_high
    assert 0.05 < expected_nan.mean() < 0.95
    np.testing.assert_array_equal(np.isnan(iv), expected_nan)
    at_hi = ~expected_nan & (tv >= p_hi)
    at_lo = ~expected_nan & (tv <= p_lo) & ~at_hi
    assert at_hi.any() and at_lo.any() and (ok & too_low).any() and (ok & too_high).any()
    assert np.all(iv[at_hi] == bs.IV_UPPER) and np.all(iv[at_lo] == bs.IV_LOWER)


# ------------------------------------------------------------------------------------------- time convention


def test_trading_years_to_close():
    close = 1_765_918_800_000_000_000  # 2025-12-16 21:00:00 UTC (16:00 ET)
    six_and_a_half_hours = int(6.5 * 3600) * 1_000_000_000
    assert bs.trading_years_to_close(close - six_and_a_half_hours, close) == pytest.approx(1.0 / 252.0, rel=1e-15)
    assert bs.trading_years_to_close(close - 1, close) == pytest.approx(1e-9 / 5_896_800.0, rel=1e-12)
    assert bs.trading_years_to_close(close, close) == 0.0
    assert bs.trading_years_to_close(close + 60_000_000_000, close) == 0.0  # after the close: expired
    out = bs.trading_years_to_close(np.array([close - 3_600_000_000_000, close]), close)
    np.testing.assert_allclose(out, [3600.0 / 5_896_800.0, 0.0], rtol=1e-15)
