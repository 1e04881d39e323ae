"""Black-Scholes pricing, greeks and implied volatility, vectorised over numpy arrays (no scipy).

Conventions (SPEC §7.3)
-----------------------
* Prices, spots and strikes are dollars of the underlying. In this project the underlying is SPY in the
  **SPY frame** (ES price / ``es_spy_ratio``); pass spot and strike in the *same* frame (e.g. the SPY-frame
  spot with the basis-mapped strike ``K + basis``).
* ``t_years`` is time to expiry in **trading-year units**: seconds to the session close divided by
  ``252 × 6.5 × 3600`` (see :func:`trading_years_to_close`). ``rate`` is the continuously compounded risk-free
  rate per the same year (project value :data:`RISK_FREE_RATE` = 0.045). No dividend yield.
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
    "RISK_FREE_RATE",
    "DEFAULT_IV",
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

RISK_FREE_RATE = 0.045
"""Continuously compounded risk-free rate used for every greek (SPEC §7.3)."""

DEFAULT_IV = 0.20
"""Implied vol used where no implied vol can be solved from the trade price (SPEC §7.3)."""

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


def _otm_price_vega(s, k, t, v, r, sgn):
    """Price and vega of the option whose side is given by sgn (+1 call, −1 put); flat arrays, v > 0, t > 0."""
    sqrt_t = np.sqrt(t)
    vs = v * sqrt_t
    d1 = (np.log(s / k) + (r + 0.5 * v * v) * t) / vs
    d2 = d1 - vs
    n = ndtr(np.concatenate([sgn * d1, sgn * d2]))
    m = d1.size
    price = sgn * (s * n[:m] - k * np.exp(-r * t) * n[m:])
    vega = s * norm_pdf(d1) * sqrt_t
    return np.maximum(price, 0.0), vega, d1 * d2 / v


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
    bracket ends decide solvability. From a Corrado-Miller starting guess, a vectorised safeguarded iteration
    solves log(price(σ)) = log(target): Halley steps (Newton where Halley is unstable) using vega and volga,
    inside a bisection bracket that shrinks every iteration; a step that leaves the bracket is replaced by
    bisection. Convergence: step or bracket width ≤ ``tol`` (absolute, in vol units); typically 2-3 iterations.
    Every element is solved independently (results do not depend on how rows are batched).

    NaN (no solution) where: any input non-finite; spot, strike or t_years ≤ 0; the price is at or below the
    no-arbitrage lower bound (intrinsic value against the discounted strike, within round-off) or at/above the
    upper bound (S for calls, K e^{−rT} for puts); or the implied vol lies outside [vol_lo, vol_hi].
    """
    px, s, k, t, r = (np.asarray(a, dtype=np.float64) for a in (price, spot, strike, t_years, rate))
    px, s, k, t, r, c = np.broadcast_arrays(px, s, k, t, r, np.asarray(is_call, dtype=bool))
    shape = s.shape
    px, s, k, t, r, c = (np.ascontiguousarray(a).ravel() for a in (px, s, k, t, r, c))
    out = np.full(s.shape, np.nan)

    ok = np.isfinite(px) & np.isfinite(s) & np.isfinite(k) & np.isfinite(t) & np.isfinite(r)
    ok &= (s > 0) & (k > 0) & (t > 0)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out.reshape(shape)
    s_, k_, t_, r_, c_, p_ = s[idx], k[idx], t[idx], r[idx], c[idx], px[idx]
    kd = k_ * np.exp(-r_ * t_)
    # Side of the out-of-the-money (or at-the-forward) option and its price (= time value of the given option).
    otm_call = s_ <= kd
    sgn = np.where(otm_call, 1.0, -1.0)
    intrinsic = np.where(c_, np.maximum(s_ - kd, 0.0), np.maximum(kd - s_, 0.0))
    tv = p_ - intrinsic
    upper = np.where(c_, s_, kd)
    roundoff = 16.0 * np.finfo(np.float64).eps * (np.abs(p_) + s_ + kd)
    in_bounds = (tv > roundoff) & (p_ < upper)

    sel = np.flatnonzero(in_bounds)
    if sel.size == 0:
        return out.reshape(shape)
    s_, k_, t_, r_, sgn, tv = s_[sel], k_[sel], t_[sel], r_[sel], sgn[sel], tv[sel]
    target_idx = idx[sel]
    m = sel.size

    # Prices at the bracket ends decide whether a solution exists inside [vol_lo, vol_hi].
    both, _, _ = _otm_price_vega(
        np.tile(s_, 2), np.tile(k_, 2), np.tile(t_, 2),
        np.concatenate([np.full(m, vol_lo), np.full(m, vol_hi)]), np.tile(r_, 2), np.tile(sgn, 2),
    )
    p_lo, p_hi = both[:m], both[m:]
    slack = 1e-12
    too_low = tv < p_lo * (1.0 - slack)
    too_high = tv > p_hi * (1.0 + slack)
    at_lo = ~too_low & (tv <= p_lo)
    at_hi = ~too_high & (tv >= p_hi)
    solvable = ~(too_low | too_high)

    sigma = np.full(m, np.nan)
    sigma[at_lo & solvable] = vol_lo
    sigma[at_hi & solvable] = vol_hi
    run = solvable & ~at_lo & ~at_hi

    ri = np.flatnonzero(run)
    if ri.size:
        S, K, T, R, G, TV = s_[ri], k_[ri], t_[ri], r_[ri], sgn[ri], tv[ri]
        ln_tv = np.log(TV)
        a = np.full(ri.size, vol_lo)
        b = np.full(ri.size, vol_hi)
        # Start: the Corrado-Miller closed-form approximation (accurate near the money), computed from the
        # equivalent call price; where it is not usable, the Brenner-Subrahmanyam ATM estimate. Clipped.
        kd_r = K * np.exp(-R * T)
        call_px = np.where(G > 0, TV, TV + S - kd_r)
        half_gap = call_px - 0.5 * (S - kd_r)
        with np.errstate(invalid="ignore"):
            radicand = half_gap * half_gap - (S - kd_r) ** 2 / math.pi
            guess = (
                math.sqrt(2.0 * math.pi) / ((S + kd_r) * np.sqrt(T))
                * (half_gap + np.sqrt(np.maximum(radicand, 0.0)))
            )
        fallback_guess = TV * math.sqrt(2.0 * math.pi) / (S * np.sqrt(T))
        guess = np.where(np.isfinite(guess) & (guess > 0), guess, fallback_guess)
        x = np.clip(guess, vol_lo * 1.01, vol_hi * 0.99)
        sol = np.empty(ri.size)
        live = np.arange(ri.size)
        for _ in range(max_iter):
            if live.size == 0:
                break
            xs = x[live]
            pr, vg, vv = _otm_price_vega(S[live], K[live], T[live], xs, R[live], G[live])
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                f = np.log(pr) - ln_tv[live]
                g1 = vg / pr  # d log(price) / d vol
                g2 = g1 * vv - g1 * g1  # d² log(price) / d vol²  (volga = vega · d1 · d2 / vol)
                newton = f / g1
                denom = 1.0 - 0.5 * newton * g2 / g1
                step = np.where(denom > 0.5, newton / denom, newton)  # Halley, Newton where unstable
            high = f > 0
            a_l = np.where(high, a[live], xs)
            b_l = np.where(high, xs, b[live])
            raw_next = xs - step
            # A step below tol is convergence (even if it rounds onto the bracket edge); any other step that
            # is not finite or leaves the open bracket is replaced by bisection.
            small = np.isfinite(step) & (np.abs(step) <= tol)
            inside = np.isfinite(raw_next) & (raw_next > a_l) & (raw_next < b_l)
            nxt = np.where(inside, raw_next, 0.5 * (a_l + b_l))
            nxt = np.where(small, np.clip(raw_next, a_l, b_l), nxt)
            nxt = np.where(f == 0, xs, nxt)
            done = (f == 0) | small | (b_l - a_l <= tol)
            a[live], b[live], x[live] = a_l, b_l, nxt
            sol[live[done]] = nxt[done]
            live = live[~done]
        if live.size:  # max_iter exhausted: keep the latest iterate (always inside the bracket)
            sol[live] = x[live]
        sigma[ri] = sol

    out[target_idx] = sigma
    return out.reshape(shape)


def implied_vol(
    price,
    spot,
    strike,
    t_years,
    rate,
    is_call,
    fallback: float = DEFAULT_IV,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> np.ndarray:
    """Implied vol as :func:`implied_vol_raw`, with ``fallback`` (default 0.20) wherever no solution exists."""
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
