"""Black-Scholes pricing, greeks and implied volatility, vectorised over numpy arrays (no scipy).

Conventions (SPEC §7.3)
-----------------------
* Prices, spots and strikes are dollars of the underlying. In this project the underlying is SPY in the
  **SPY frame** (ES price / ``es_spy_ratio``); pass spot and strike in the *same* frame (e.g. the SPY-frame
  spot with the basis-mapped strike ``K + basis``).
* ``t_years`` is time to expiry in **trading-year units**: seconds to the session close divided by
  ``252 × 6.5 × 3600`` (see :func:`trading_years_to_close`). ``rate`` is the continuously compounded risk-free
  rate per the same year (the project's is the dbt var ``fuel_rate``, passed in by the SQL). No dividend yield.
* ``vol`` is the annualised volatility as a fraction (0.20 = 20 %).
* ``is_call`` is boolean (True = call, False = put).
* Every function broadcasts its arguments like numpy and returns float64 arrays (0-d arrays for scalars).

Edge cases (identical in every function)
----------------------------------------
* NaN / ±inf in any input, ``spot <= 0``, ``strike <= 0`` or ``vol < 0`` → NaN.
* ``t_years <= 0`` (at or after expiry): the payoff, i.e. intrinsic value ``max(S − K, 0)`` /
  ``max(K − S, 0)``; delta 1 / 0 (call ITM / OTM), −1 / 0 for puts, ±0.5 exactly at the money; gamma 0 and
  vega 0 (the Dirac mass of gamma at the strike is dropped).
* ``vol == 0`` with ``t_years > 0``: the deterministic limit, ``max(S − K e^{−rT}, 0)`` for calls and
  ``max(K e^{−rT} − S, 0)`` for puts, delta 1 / 0 (0.5 at ``S == K e^{−rT}``), gamma 0, vega 0.
* Inputs so extreme that intermediate results overflow (e.g. vol or t_years ~1e300) give NaN; no numpy
  floating-point warnings are emitted.

The normal CDF is computed from a degree-20 polynomial for the scaled complementary error function
``erfcx(x) = exp(x²)·erfc(x)`` in ``t = (x − 3)/(x + 3)`` (coefficients fitted for this module by Chebyshev
interpolation against ``math.erfc``; see :func:`_fit_erfcx_coefficients`). Relative error of ``erfc`` on
``x ≥ 0`` is about 2e-14, so ``ndtr`` is accurate to ~1e-15 absolute and ~1e-13 relative deep in the lower tail.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = [
    "TRADING_SECONDS_PER_YEAR",
    "IV_LOWER",
    "IV_UPPER",
    "erfc",
    "erf",
    "ndtr",
    "norm_pdf",
    "bs_price",
    "bs_delta",
    "bs_gamma",
    "bs_vega",
    "implied_vol",
    "implied_vol_raw",
    "implied_vol_solved",
    "trading_years_to_close",
]

TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600  # 5,896,800 s
"""Seconds in one trading year: 252 sessions of 6.5 hours."""

IV_LOWER = 1e-4
IV_UPPER = 5.0
"""The implied-vol search bracket [IV_LOWER, IV_UPPER] (annualised, fraction)."""

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_ERFCX_SHIFT = 3.0
_ERFCX_X_MAX = 40.0  # erfc(x) underflows to 0 long before this; clipping avoids inf/inf in the map

# Monomial coefficients (ascending powers of t = (x − 3)/(x + 3)) of a degree-20 polynomial approximating
# erfcx(x) = exp(x²)·erfc(x) on x ∈ [0, ∞). Produced by _fit_erfcx_coefficients() below.
_ERFCX_POLY = (
    0.1790011511813909,
    -0.3262335600430323,
    0.24560380171221285,
    -0.15011593650126762,
    0.07166583720158531,
    -0.02439249930837105,
    0.0042691362814263134,
    0.0007077463426297582,
    -0.0005970615454196859,
    4.525580459588983e-05,
    6.40546571928314e-05,
    -1.2862161870979218e-05,
    -7.97247545125478e-06,
    2.123632833262628e-06,
    1.2415441504404071e-06,
    -2.992756787075182e-07,
    -2.208191727391371e-07,
    3.375297400868233e-08,
    3.57415208657483e-08,
    -2.242812839125055e-09,
    -3.479437170777212e-09,
)


def _quiet(fn):
    """Decorator: no floating-point warnings from a public function (under/overflow and NaN are handled by
    explicit masks; inputs so extreme that intermediate results overflow give NaN)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapper


def _fit_erfcx_coefficients(degree: int = 20, shift: float = _ERFCX_SHIFT) -> np.ndarray:
    """Re-derive :data:`_ERFCX_POLY` (provenance and test helper; not used at run time).

    Interpolates erfcx(x) at the Chebyshev nodes (first kind) of t ∈ (−1, 1) with x = shift·(1 + t)/(1 − t),
    using ``math.erfc(x)·exp(x²)`` (with exp(x²) computed from an exactly squared high part of x) below x = 25
    and the asymptotic series above, and returns the monomial coefficients in t.
    """
    from numpy.polynomial import chebyshev

    def exp_sq(x: float) -> float:
        hi = math.ldexp(math.floor(math.ldexp(x, 20)), -20)
        lo = x - hi
        return math.exp(hi * hi) * math.exp(2.0 * hi * lo + lo * lo)

    def erfcx_ref(x: float) -> float:
        if x < 25.0:
            return math.erfc(x) * exp_sq(x)
        total, term, y = 1.0, 1.0, 1.0 / (2.0 * x * x)
        for n in range(1, 12):
            term *= -(2 * n - 1) * y
            total += term
        return total / (x * math.sqrt(math.pi))

    n = degree + 1
    t = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    x = shift * (1.0 + t) / (1.0 - t)
    g = np.array([erfcx_ref(v) for v in x])
    return np.asarray(chebyshev.cheb2poly(chebyshev.chebfit(t, g, degree)))


def _erfc_nonneg(x: np.ndarray) -> np.ndarray:
    """erfc(x) for x ≥ 0 (float64 array), relative error ≈ 2e-14; NaN propagates."""
    xc = np.minimum(x, _ERFCX_X_MAX)
    t = (xc - _ERFCX_SHIFT) / (xc + _ERFCX_SHIFT)
    acc = np.full_like(t, _ERFCX_POLY[-1])
    for coef in _ERFCX_POLY[-2::-1]:
        acc *= t
        acc += coef
    return np.exp(-(x * x)) * acc


@_quiet
def erfc(x) -> np.ndarray:
    """Complementary error function, vectorised (float64). Relative error ≈ 2e-14 for x ≥ 0."""
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    r = _erfc_nonneg(ax)
    return np.where(x < 0, 2.0 - r, r)


@_quiet
def erf(x) -> np.ndarray:
    """Error function, vectorised (float64). Absolute error ≈ 1e-15 (computed as 1 − erfc(|x|), sign-restored)."""
    x = np.asarray(x, dtype=np.float64)
    return np.copysign(1.0 - _erfc_nonneg(np.abs(x)), x)


@_quiet
def ndtr(z) -> np.ndarray:
    """Standard normal CDF Φ(z), vectorised. Absolute error ~1e-15; relative error ~1e-13 in the lower tail."""
    z = np.asarray(z, dtype=np.float64)
    half = 0.5 * _erfc_nonneg(np.abs(z) * _INV_SQRT2)
    return np.where(z < 0, half, 1.0 - half)


@_quiet
def norm_pdf(z) -> np.ndarray:
    """Standard normal density φ(z) = exp(−z²/2)/√(2π), vectorised."""
    z = np.asarray(z, dtype=np.float64)
    return _INV_SQRT_2PI * np.exp(-0.5 * z * z)


# ---------------------------------------------------------------------------------------------------------
# Black-Scholes core
# ---------------------------------------------------------------------------------------------------------


def _prepare(spot, strike, t_years, vol, rate, is_call=None):
    """Broadcast inputs to float64 (and bool for is_call) arrays of one shape."""
    arrays = [np.asarray(a, dtype=np.float64) for a in (spot, strike, t_years, vol, rate)]
    if is_call is not None:
        arrays.append(np.asarray(is_call, dtype=bool))
    return np.broadcast_arrays(*arrays)


class _Parts:
    """Intermediate quantities shared by price / delta / gamma / vega (arrays of the broadcast shape)."""

    __slots__ = ("valid", "smooth", "d1", "d2", "sqrt_t", "disc", "s", "k")

    def __init__(self, s, k, t, v, r):
        finite = np.isfinite(s) & np.isfinite(k) & np.isfinite(t) & np.isfinite(v) & np.isfinite(r)
        valid = finite & (s > 0) & (k > 0) & (v >= 0)
        t_eff = np.where(valid & (t > 0), t, 0.0)
        sqrt_t = np.sqrt(t_eff)
        v_eff = np.where(valid, v, 0.0)
        vs = v_eff * sqrt_t
        smooth = valid & (vs > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            safe_vs = np.where(smooth, vs, 1.0)
            safe_s = np.where(valid, s, 1.0)
            safe_k = np.where(valid, k, 1.0)
            d1 = (np.log(safe_s / safe_k) + (np.where(valid, r, 0.0) + 0.5 * v_eff * v_eff) * t_eff) / safe_vs
        d1 = np.where(smooth, d1, 0.0)
        self.valid = valid
        self.smooth = smooth
        self.d1 = d1
        self.d2 = d1 - np.where(smooth, vs, 0.0)
        self.sqrt_t = sqrt_t
        self.disc = np.exp(-np.where(valid, r, 0.0) * t_eff)
        self.s = s
        self.k = k


def _sign(is_call: np.ndarray) -> np.ndarray:
    return np.where(is_call, 1.0, -1.0)


@_quiet
def bs_price(spot, strike, t_years, vol, rate, is_call) -> np.ndarray:
    """Black-Scholes price of a European option, in the dollars of ``spot`` (per share, not ×100).

    ``t_years`` in trading years (see module docstring), ``vol`` and ``rate`` annualised fractions.
    At expiry (t ≤ 0) the intrinsic value; at vol = 0 the discounted-forward limit; NaN for invalid inputs.
    The result is floored at the no-arbitrage lower bound (guards round-off in deep OTM/ITM cases).
    """
    s, k, t, v, r, c = _prepare(spot, strike, t_years, vol, rate, is_call)
    p = _Parts(s, k, t, v, r)
    sgn = _sign(c)
    kd = k * p.disc
    with np.errstate(invalid="ignore"):
        lower = np.maximum(sgn * (s - kd), 0.0)
        n = ndtr(np.concatenate([(sgn * p.d1).ravel(), (sgn * p.d2).ravel()])).reshape((2,) + s.shape)
        smooth_px = sgn * (s * n[0] - kd * n[1])
        price = np.where(p.smooth, np.maximum(smooth_px, lower), lower)
    return np.where(p.valid, price, np.nan)


@_quiet
def bs_delta(spot, strike, t_years, vol, rate, is_call) -> np.ndarray:
    """Black-Scholes delta ∂price/∂spot (per share): N(d1) for calls, N(d1) − 1 = −N(−d1) for puts.

    At expiry / zero vol: 1 or 0 (calls), −1 or 0 (puts), ±0.5 exactly at the (discounted) strike.
    call delta − put delta = 1 for any valid input. NaN for invalid inputs.
    """
    s, k, t, v, r, c = _prepare(spot, strike, t_years, vol, rate, is_call)
    p = _Parts(s, k, t, v, r)
    sgn = _sign(c)
    smooth_delta = sgn * ndtr(sgn * p.d1)
    with np.errstate(invalid="ignore"):
        fwd_moneyness = s - k * p.disc
    step_call = np.where(fwd_moneyness > 0, 1.0, np.where(fwd_moneyness < 0, 0.0, 0.5))
    step = np.where(c, step_call, step_call - 1.0)
    delta = np.where(p.smooth, smooth_delta, step)
    return np.where(p.valid, delta, np.nan)


@_quiet
def bs_gamma(spot, strike, t_years, vol, rate) -> np.ndarray:
    """Black-Scholes gamma ∂²price/∂spot² per $1 move of the underlying, per share (same for calls and puts).

    gamma = φ(d1) / (S·σ·√T). 0 at expiry (t ≤ 0) and at zero vol; NaN for invalid inputs.
    Multiply by 100 (shares per SPY option contract) and a position for "share-gamma" exposure.
    """
    s, k, t, v, r = _prepare(spot, strike, t_years, vol, rate)
    p = _Parts(s, k, t, v, r)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = norm_pdf(p.d1) / (np.where(p.smooth, s * v * p.sqrt_t, 1.0))
    g = np.where(p.smooth, g, 0.0)
    return np.where(p.valid, g, np.nan)


@_quiet
def bs_vega(spot, strike, t_years, vol, rate) -> np.ndarray:
    """Black-Scholes vega ∂price/∂vol per 1.00 of vol (not per vol point) = S·φ(d1)·√T; 0 at expiry/zero vol."""
    s, k, t, v, r = _prepare(spot, strike, t_years, vol, rate)
    p = _Parts(s, k, t, v, r)
    vega = np.where(p.smooth, s * norm_pdf(p.d1) * p.sqrt_t, 0.0)
    return np.where(p.valid, vega, np.nan)


# ---------------------------------------------------------------------------------------------------------
# Implied volatility
# ---------------------------------------------------------------------------------------------------------


# Starting guess of the implied-vol iteration. In normalised terms θ = |ln(S / K e^{−rT})|, β = (OTM price) /
# √(S·K e^{−rT}) and s = σ√T, the Black price of an option is close to the Bachelier price β = s·h(θ/s) with
# h(u) = φ(u) − u·Φ(−u), up to a relative s²/24 · (u²·h(u)/φ(u) − 1) (expansion in s at fixed u = θ/s).
# :func:`_iv_guess` inverts the Bachelier relation with two polynomial fits in y = β/θ = h(u)/u (relative error
# of s below 6e-5 for u ≤ 12), then applies that second-order correction:
#   near the money, u ≤ 1 (y ≥ 1/_IVG_W1 − 1/2): ln h(u) = P_near(t), t = 2w/_IVG_W1 − 1, w = 1/(y + 1/2);
#     s = β / h(u)
#   out of the money, 1 ≤ u ≤ 12: ln u = P_far(t), t = (2ℓ − _IVG_L1 − _IVG_L2)/(_IVG_L2 − _IVG_L1),
#     ℓ = ln(−ln y); s = θ / u
# On 0DTE prints the guess is within ~1e-4 of the implied vol, so the iteration below needs 2 price evaluations.
# Coefficients (ascending powers of t) from _fit_iv_guess_coefficients().
_IVG_W1 = 1.7143382104926979
_IVG_L1 = 0.9103213608627206
_IVG_L2 = 4.386939636028728
_IVG_NEAR = (
    -1.4149683423056088,
    -0.6113856313652458,
    -0.1856533881071198,
    -0.10355326976582754,
    -0.0570150093734885,
    -0.055748496637508575,
    -0.03651717149885416,
    0.022824076506637543,
    0.01669142707497036,
    -0.03519398772855967,
    -0.024543226011923897,
)
_IVG_FAR = (
    1.4324125588574086,
    1.2107028083085056,
    -0.22882294334862888,
    0.07771262199234051,
    0.012064058891830156,
    -0.041988881746925534,
    0.03547088173075316,
    -0.010675356334069247,
    -0.007392982513686357,
    0.006704846086487634,
    -0.0012804202389453886,
)


def _fit_iv_guess_coefficients(degree: int = 10):
    """Re-derive (_IVG_W1, _IVG_L1, _IVG_L2, _IVG_NEAR, _IVG_FAR) (provenance and test helper; not used at run time).

    Chebyshev interpolation (first-kind nodes) of ln h(u) in w on u ∈ [0, 1] and of ln u in ℓ on u ∈ [1, 12],
    u found by bisection; h(u) = φ(u) − u·Φ(−u) from ``math.erfc``. Returns monomial coefficients in t.
    """
    from numpy.polynomial import chebyshev

    def h(u: float) -> float:
        return math.exp(-0.5 * u * u) * _INV_SQRT_2PI - 0.5 * u * math.erfc(u * _INV_SQRT2)

    def w_of(u: float) -> float:
        return 0.0 if u == 0.0 else 1.0 / (h(u) / u + 0.5)

    def l_of(u: float) -> float:
        return math.log(-math.log(h(u) / u))

    def invert(fn, v: float, lo: float, hi: float) -> float:  # fn increasing on [lo, hi]
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if fn(mid) < v else (lo, mid)
        return 0.5 * (lo + hi)

    nodes = np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1))
    w1, l1, l2 = w_of(1.0), l_of(1.0), l_of(12.0)
    u_near = [invert(w_of, 0.5 * (t + 1.0) * w1, 0.0, 1.5) for t in nodes]
    u_far = [invert(l_of, l1 + 0.5 * (t + 1.0) * (l2 - l1), 0.5, 18.0) for t in nodes]
    near = chebyshev.chebfit(nodes, [math.log(h(u)) for u in u_near], degree)
    far = chebyshev.chebfit(nodes, [math.log(u) for u in u_far], degree)
    return w1, l1, l2, chebyshev.cheb2poly(near), chebyshev.cheb2poly(far)


def _poly(t: np.ndarray, coefs) -> np.ndarray:
    acc = np.multiply(t, coefs[-1])
    acc += coefs[-2]
    for coef in coefs[-3::-1]:
        acc *= t
        acc += coef
    return acc


def _iv_guess(theta: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Approximate s = σ√T from θ ≥ 0 and β > 0 (see the comment above _IVG_W1), positive and finite for valid
    inputs. Only a starting point: the results of the safeguarded iteration do not depend on its accuracy."""
    y = beta / theta  # +inf at the money
    # Near the money: s = β / h(u), ln h(u) = P_near(t).
    t = np.add(y, 0.5)
    np.divide(2.0 / _IVG_W1, t, out=t)
    t -= 1.0
    near = _poly(t, _IVG_NEAR)
    np.negative(near, out=near)
    np.exp(near, out=near)
    near *= beta
    # Out of the money: s = θ / u, ln u = P_far(t).
    t = np.log(y)
    np.negative(t, out=t)
    np.log(t, out=t)
    t *= 2.0 / (_IVG_L2 - _IVG_L1)
    t -= (_IVG_L2 + _IVG_L1) / (_IVG_L2 - _IVG_L1)
    np.clip(t, -1.0, 1.0, out=t)
    far = _poly(t, _IVG_FAR)
    np.negative(far, out=far)
    np.exp(far, out=far)
    far *= theta
    s = np.where(y >= 1.0 / _IVG_W1 - 0.5, near, far)
    # Second-order (Black vs Bachelier) correction: s·(1 − s²/24·(u²·h(u)/φ(u) − 1)), h(u) = β/s, u = θ/s;
    # limited to a factor in [0.5, 2] (fmax/fmin also turn a NaN from an underflowing φ into a bound).
    u = theta / s
    u *= u
    corr = np.multiply(u, -0.5)
    np.exp(corr, out=corr)  # √(2π)·φ(u)
    np.divide(u, corr, out=corr)
    corr *= beta / s * math.sqrt(2.0 * math.pi)
    corr -= 1.0
    corr *= s * s * (-1.0 / 24.0)
    corr += 1.0
    np.fmax(corr, 0.5, out=corr)
    np.fmin(corr, 2.0, out=corr)
    s *= corr
    return s


# The solver works on blocks of rows so that its working set stays in the CPU cache (every element is solved
# independently, so the block size does not change any result).
_IV_BLOCK = 8192

# |z| beyond which exp(−z²/2) underflows to exactly 0 (z²/2 > 746 > 745.14), so that ndtr(z) is exactly 0 for z < 0.
_NDTR_ZERO_BELOW = -38.7


_HALF_ERFCX_POLY = tuple(0.5 * c for c in _ERFCX_POLY)  # halving is exact


def _half_erfc_and_exp(x: np.ndarray):
    """(erfc(x) / 2, exp(−x²)) for x ≥ 0: the polynomial and operation order of :func:`_erfc_nonneg`, with the
    factor 1/2 folded into the coefficients (an exact scaling, short of subnormal results)."""
    e = np.multiply(x, x)
    np.negative(e, out=e)
    np.exp(e, out=e)
    xc = np.minimum(x, _ERFCX_X_MAX)
    t = xc - _ERFCX_SHIFT
    xc += _ERFCX_SHIFT
    t /= xc
    acc = np.multiply(t, _HALF_ERFCX_POLY[-1])
    for coef in _HALF_ERFCX_POLY[-2:0:-1]:
        acc += coef
        acc *= t
    acc += _HALF_ERFCX_POLY[0]
    acc *= e
    return acc, e


def _otm_price_exact(vol: float, s, k, t, r, otm_call) -> np.ndarray:
    """Price at a scalar vol of the out-of-the-money option (call where ``otm_call``, else put), floored at 0.

    The arithmetic that decides solvability at the bracket ends; kept bit for bit: d1 from log(S/K), ndtr of
    ±d1 and ±d2, the price against K e^{−rT}.
    """
    sgn = np.where(otm_call, 1.0, -1.0)
    sqrt_t = np.sqrt(t)
    vs = vol * sqrt_t
    d1 = (np.log(s / k) + (r + 0.5 * vol * vol) * t) / vs
    d2 = d1 - vs
    n = ndtr(np.stack([sgn * d1, sgn * d2]))
    return np.maximum(sgn * (s * n[0] - k * np.exp(-r * t) * n[1]), 0.0)


def _iv_block(px, s, k, t, r, c, out, tol, max_iter, vol_lo, vol_hi) -> None:
    """implied_vol_raw of one block of flat arrays, written into ``out`` (pre-filled with NaN)."""
    n = s.size
    kd = k * np.exp(-r * t)
    # The OTM (or at-the-forward) side and its price (= time value of the given option), by put-call parity.
    # Branch-free forms throughout: calls/puts and the OTM side are unpredictable masks (np.where is slow on them).
    fwd_gap = s - kd
    put = ~c
    # Intrinsic value: max(S − K e^{−rT}, 0) for calls; for puts max(K e^{−rT} − S, 0), which is exactly
    # max(S − K e^{−rT}, 0) − (S − K e^{−rT}).
    intrinsic = np.maximum(fwd_gap, 0.0)
    intrinsic -= np.multiply(fwd_gap, put)
    tv = px - intrinsic
    roundoff = 16.0 * np.finfo(np.float64).eps * (np.abs(px) + s + kd)
    # Solvable inputs: S, K, T > 0 and the price strictly between the bounds. Non-finite inputs fail these tests
    # too (a NaN or +inf price, spot, strike or rate makes tv or the round-off allowance NaN/inf; T = +inf gives
    # K e^{−rT} ∈ {0, NaN, inf}, which leaves no price strictly inside the bounds).
    ok = (s > 0) & (k > 0) & (t > 0) & (tv > roundoff)
    ok &= ((px < s) & c) | ((px < kd) & put)
    if not ok.any():
        return
    otm_call = fwd_gap <= 0.0  # S <= K e^{−rT}
    sqrt_t = np.sqrt(t)
    log_sk = np.log(s / k)
    rt = r * t
    lnm = log_sk + rt  # ln(S / K e^{−rT})

    # Prices at the bracket ends decide whether a solution exists inside [vol_lo, vol_hi]:
    #   too low  tv < p_lo (1 − 1e-12)   too high  tv > p_hi (1 + 1e-12)   (no solution)
    #   at_lo    tv ≤ p_lo               at_hi     tv ≥ p_hi                 (the bracket end is the solution)
    # Both prices are computed exactly only where they can matter; elsewhere their outcome is certain.
    slack = 1e-12
    no_sol = np.zeros(n, dtype=bool)
    at_lo = np.zeros(n, dtype=bool)
    at_hi = np.zeros(n, dtype=bool)
    # Low end. Where both ±d1, ±d2 at vol_lo are below _NDTR_ZERO_BELOW the exact p_lo is 0 (and tv > 0).
    sgn = 1.0 - 2.0 * (fwd_gap > 0.0)  # +1 for an OTM call, −1 for an OTM put (as in _otm_price_exact)
    vs = vol_lo * sqrt_t
    d1 = (log_sk + (r + 0.5 * vol_lo * vol_lo) * t) / vs
    z_max = np.maximum(sgn * d1, sgn * (d1 - vs))
    idx = np.flatnonzero(ok & (z_max >= _NDTR_ZERO_BELOW))
    if idx.size:
        p_lo = _otm_price_exact(vol_lo, s[idx], k[idx], t[idx], r[idx], otm_call[idx])
        tv_i = tv[idx]
        low = tv_i < p_lo * (1.0 - slack)
        no_sol[idx] = low
        at_lo[idx] = ~low & (tv_i <= p_lo)
    # High end. Vega = S √T φ(d1(σ)) is unimodal in σ (d1 = ln(S / K e^{−rT}) / w + w / 2, w = σ√T), so
    #   p_hi ≥ p(vol_hi) − p(vol_mid) ≥ (vol_hi − vol_mid) · S √T · min(φ(d1(vol_mid)), φ(d1(vol_hi))).
    # Where this lower bound exceeds tv by more than the rounding errors, tv < p_hi (neither too high nor at the
    # bracket end) is certain and the exact p_hi is not needed. Rounding, where 1 + |ln(S/K)| + |rT| ≤ 1e5·w_mid
    # and w_hi ≤ 1e3: the computed bound is within a relative 2e-9 of the true one, and the exact p_hi within
    # 1e-10·(S + K e^{−rT}) of the true price (ndtr's absolute error ≤ 1e-14, plus the rounding of ±d1, ±d2,
    # ≲ 4e-16·(1 + |ln(S/K)| + |rT|) / w_hi + 4e-16·w_hi, times φ ≤ 0.4); both are allowed for many times over.
    vol_mid = 0.5 * (vol_lo + vol_hi)
    w_mid = vol_mid * sqrt_t
    w_hi = vol_hi * sqrt_t
    d_max = lnm / w_mid
    d_max += 0.5 * w_mid
    np.abs(d_max, out=d_max)
    d_hi = lnm / w_hi
    d_hi += 0.5 * w_hi
    np.abs(d_hi, out=d_hi)
    np.maximum(d_max, d_hi, out=d_max)  # max |d1| at the two ends: φ is the smaller one there
    d_max *= d_max
    d_max *= -0.5
    bound = np.exp(d_max, out=d_max)
    bound *= s * sqrt_t
    bound *= (vol_hi - vol_mid) * _INV_SQRT_2PI * (1.0 - 1e-6)
    needed = 1e-8 * (s + kd)
    needed += tv * (1.0 + 2.0 * slack)
    sure = bound > needed
    sure &= w_hi <= 1e3
    cond = np.abs(log_sk)
    cond += np.abs(rt)
    cond += 1.0
    sure &= cond <= 1e5 * w_mid
    idx = np.flatnonzero(ok & ~sure)
    if idx.size:
        p_hi = _otm_price_exact(vol_hi, s[idx], k[idx], t[idx], r[idx], otm_call[idx])
        tv_i = tv[idx]
        high = tv_i > p_hi * (1.0 + slack)
        no_sol[idx] |= high
        at_hi[idx] = ~high & (tv_i >= p_hi)
    at_lo &= ~no_sol
    at_hi &= ~no_sol
    sigma = out  # the result (pre-filled with NaN)
    sigma[at_lo] = vol_lo
    sigma[at_hi] = vol_hi
    run = ok & ~no_sol & ~at_lo & ~at_hi

    # Iteration state, one row per quantity (compressed together as elements converge): x (iterate), lo, hi
    # (bracket), √T, a = −|ln(S / K e^{−rT})|, A, B (the OTM price is A·Φ(a/w + w/2) − B·Φ(a/w − w/2) with
    # w = σ√T), A·√T/√(2π) (vega = that × exp(−(a/w + w/2)²/2)), log(target), position in the block.
    st = np.empty((10, n))
    x, lo, hi, sqt, aa, a_, b_, av, ln_tv, pos = st
    # Start: see _iv_guess (θ = |ln(S / K e^{−rT})|, β = tv / √(A·B)); clipped into the bracket.
    np.abs(lnm, out=aa)
    np.minimum(s, kd, out=a_)  # S for an OTM call, K e^{−rT} for an OTM put
    np.maximum(s, kd, out=b_)
    beta = np.multiply(a_, b_)
    np.sqrt(beta, out=beta)
    np.divide(tv, beta, out=beta)
    guess = _iv_guess(aa, beta)
    guess /= sqrt_t
    np.fmax(guess, vol_lo * 1.01, out=guess)
    np.fmin(guess, vol_hi * 0.99, out=x)
    lo.fill(vol_lo)
    hi.fill(vol_hi)
    sqt[:] = sqrt_t
    np.negative(aa, out=aa)
    np.multiply(a_, sqrt_t, out=av)
    av *= _INV_SQRT_2PI
    np.log(tv, out=ln_tv)
    pos[:] = np.arange(n)
    if not run.all():
        st = st.take(np.flatnonzero(run), axis=1)

    for _ in range(max_iter):
        m = st.shape[1]
        if m == 0:
            break
        x, lo, hi, sqt, aa, a_, b_, av, ln_tv, pos = st
        # OTM price, vega and d1·d2/σ at x: z = (a/w + w/2, a/w − w/2) = ±(d1, d2), the second always < 0.
        w = x * sqt
        z = np.empty((2, m))
        zp, zm = z
        np.divide(aa, w, out=zp)
        w *= 0.5
        np.subtract(zp, w, out=zm)
        zp += w
        xz = np.abs(z)
        xz *= _INV_SQRT2
        half, e = _half_erfc_and_exp(xz)  # Φ(−|z|), exp(−z²/2)
        price = np.copysign(half[0], zp)  # Φ(zp) = 1 − Φ(−zp) for zp ≥ 0 (zp is never −0)
        price = np.subtract(zp >= 0, price, out=price)
        price *= a_
        price -= np.multiply(b_, half[1], out=half[1])
        np.maximum(price, 0.0, out=price)
        vega = np.multiply(av, e[0], out=e[0])
        vv = np.multiply(zp, zm, out=zm)
        vv /= x  # volga / vega = d1·d2 / σ
        # Halley step on f = log(price) − log(target) (Newton where Halley is unstable), as the correction dx
        # to add to x, computed from g = −f = log(target) − log(price).
        g = np.log(price)
        np.subtract(ln_tv, g, out=g)
        g1 = np.divide(vega, price, out=vega)  # f'
        dx = g / g1  # Newton: −f / f'
        den = np.subtract(vv, g1, out=vv)  # f'' / f' = d1·d2/σ − f'
        den *= dx
        den *= 0.5
        den += 1.0  # Halley: dx / (1 − f·f'' / (2 f'²))
        dx = np.where(den > 0.5, dx / den, dx)
        # Bracket: x becomes hi where f > 0 (g < 0), lo where f < 0 (lo <= x <= hi; u = ±inf with the sign of g).
        u = np.copysign(np.inf, g)
        np.maximum(np.minimum(x, u), lo, out=lo)
        np.minimum(np.maximum(x, u, out=u), hi, out=hi)
        # A step below tol is convergence (even if it rounds onto the bracket edge); any other step that
        # is not finite or leaves the open bracket is replaced by bisection. f == 0 is convergence at x.
        raw = np.add(x, dx, out=price)
        small = np.abs(dx) <= tol
        use = (raw > lo) & (raw < hi)
        use |= small
        np.maximum(raw, lo, out=raw)
        np.minimum(raw, hi, out=raw)
        exact = g == 0
        exact_any = exact.any()
        if exact_any:
            x_exact = x[exact]
        np.add(lo, hi, out=x)
        x *= 0.5
        np.copyto(x, raw, where=use)
        done = np.subtract(hi, lo, out=g) <= tol
        done |= small
        if exact_any:
            x[exact] = x_exact
            done |= exact
        if done.any():
            ended = np.flatnonzero(done)
            sigma[pos[ended].astype(np.intp)] = x[ended]
            st = st.take(np.flatnonzero(~done), axis=1)
    else:  # max_iter exhausted: keep the latest iterate (always inside the bracket)
        sigma[st[9].astype(np.intp)] = st[0]


@_quiet
def implied_vol_raw(
    price,
    spot,
    strike,
    t_years,
    rate,
    is_call,
    tol: float = 1e-10,
    max_iter: int = 100,
    vol_lo: float = IV_LOWER,
    vol_hi: float = IV_UPPER,
) -> np.ndarray:
    """Black-Scholes implied volatility of an option price, NaN where there is no solution.

    ``price`` is the option price per share in the dollars of ``spot``; other arguments as in :func:`bs_price`.

    Method: the price is first turned into the equivalent out-of-the-money price by put-call parity
    (an ITM call's time value C − (S − K e^{−rT}) is the OTM put's price at the same vol). Prices at the
    bracket ends decide solvability (computed exactly wherever the outcome is not certain from a bound).
    From a starting guess that inverts the Bachelier approximation of the price (see :func:`_iv_guess`), a
    vectorised safeguarded iteration solves log(price(σ)) = log(target): Halley steps (Newton where Halley is
    unstable) using vega and volga, inside a bisection bracket that shrinks every iteration; a step that leaves
    the bracket is replaced by bisection. Convergence: step or bracket width ≤ ``tol`` (absolute, in vol units);
    typically 2 price evaluations. Every element is solved independently (the rows are processed in blocks of
    :data:`_IV_BLOCK`, and converged elements are dropped; results do not depend on how rows are batched).

    NaN (no solution) where: any input non-finite; spot, strike or t_years ≤ 0; the price is at or below the
    no-arbitrage lower bound (intrinsic value against the discounted strike, within round-off) or at/above the
    upper bound (S for calls, K e^{−rT} for puts); or the implied vol lies outside [vol_lo, vol_hi].
    """
    px, s, k, t, r = (np.asarray(a, dtype=np.float64) for a in (price, spot, strike, t_years, rate))
    px, s, k, t, r, c = np.broadcast_arrays(px, s, k, t, r, np.asarray(is_call, dtype=bool))
    shape = s.shape
    px, s, k, t, r, c = (a.reshape(-1) for a in (px, s, k, t, r, c))
    out = np.full(s.size, np.nan)
    for i in range(0, s.size, _IV_BLOCK):
        j = i + _IV_BLOCK
        _iv_block(px[i:j], s[i:j], k[i:j], t[i:j], r[i:j], c[i:j], out[i:j], tol, max_iter, vol_lo, vol_hi)
    return out.reshape(shape)


def implied_vol(
    price,
    spot,
    strike,
    t_years,
    rate,
    is_call,
    fallback: float,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> np.ndarray:
    """Implied vol as :func:`implied_vol_raw`, with ``fallback`` wherever no solution exists (the project's is
    the dbt var ``fuel_default_iv``, applied in SQL to ``bb_implied_vol_raw``)."""
    raw = implied_vol_raw(price, spot, strike, t_years, rate, is_call, tol=tol, max_iter=max_iter)
    return np.where(np.isnan(raw), fallback, raw)


def implied_vol_solved(price, spot, strike, t_years, rate, is_call) -> np.ndarray:
    """Boolean array: True where :func:`implied_vol_raw` found a solution (i.e. the fallback was not used)."""
    return ~np.isnan(implied_vol_raw(price, spot, strike, t_years, rate, is_call))


def trading_years_to_close(ts_ns, close_ns) -> np.ndarray:
    """Time to the session close in trading-year units: max(close_ns − ts_ns, 0) / 1e9 / (252 × 6.5 × 3600).

    ``ts_ns`` and ``close_ns`` are int64 epoch nanoseconds (UTC); the difference is taken in exact integer
    arithmetic. Times at or after the close give 0 (so greeks are at expiry: gamma 0, intrinsic price).
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    close = np.asarray(close_ns, dtype=np.int64)
    diff = np.maximum(close - ts, 0)
    return diff.astype(np.float64) / (1e9 * TRADING_SECONDS_PER_YEAR)
