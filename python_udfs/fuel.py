"""Fuel (dealer gamma) maths, SPEC §7.3. Vectorised numpy, per row.

Units and signs:
* Option prices and strikes are per-share dollars; ``spot`` and ``strike`` must be in the same frame (the SPY
  frame with basis-mapped strikes ``K + basis``, see SPEC §7.3). ``t_years`` in trading years, ``iv``/``rate``
  annualised fractions (see :mod:`python_udfs.black_scholes`).
* ``position`` is the **dealer** position in option contracts: −Σ customer aggressor·size (a customer buy makes
  the dealer short). One SPY option contract = 100 shares.
* Gamma exposures are "share-gamma": shares of delta change per $1 move of the underlying (BS gamma × 100 ×
  contracts); they are **not** dollar-gamma. Negative = dealers short gamma = moves get amplified.

``fuel_effect``'s thresholds are dbt vars (``fuel_effect_scale``, ``fuel_gamma_scale_min_marks`` in
dbt_project.yml, declared there only); SQL passes them to ``bb_fuel_effect`` as arguments.
"""

from __future__ import annotations

import numpy as np

from python_udfs.black_scholes import bs_gamma
from python_udfs.exact import decimals, whole_numbers

__all__ = [
    "CONTRACT_MULTIPLIER",
    "fuel_effect",
    "dealer_gamma",
    "dealer_gamma_flow",
    "parity_implied_spot",
]

CONTRACT_MULTIPLIER = 100.0  # shares per SPY option contract


def fuel_effect(exposure_e9, n_scale_marks, scale_lo_e9, scale_hi_e9, scale_multiplier, min_marks) -> np.ndarray:
    """fuel_effect per row (SPEC §7.3), exact; returns a numpy array of str.

    ``exposure_e9`` is the dealer gamma near the level (gamma_exposure) and ``scale_lo_e9`` / ``scale_hi_e9``
    the two middle values of the causal gamma scale's sample (g = their mean, the median), all whole numbers
    of 1e-9 share-gamma; ``n_scale_marks`` is that sample's size. With c = ``scale_multiplier`` (taken as its
    shortest decimal, 1.5 = 3/2):

    * NEUTRAL while ``n_scale_marks < min_marks`` or g = 0 (no scale yet);
    * AMPLIFY when exposure < −c·g, DAMPEN when exposure > +c·g (strict), else NEUTRAL.

    The comparisons are integer cross-multiplications (2·exposure vs c·(lo + hi)), so scaling every option
    size — hence every position, exposure and scale — by a constant never changes the result.
    """
    shape = np.broadcast_shapes(*(np.shape(x) for x in (exposure_e9, n_scale_marks, scale_lo_e9, scale_hi_e9)))
    e, n, lo, hi, need = (
        whole_numbers(x, shape) for x in (exposure_e9, n_scale_marks, scale_lo_e9, scale_hi_e9, min_marks)
    )
    bound = decimals(scale_multiplier, shape) * (lo + hi)  # c·(lo + hi) = 2·c·g
    ready = (n >= need) & (lo + hi > 0)
    amplify = ready & (2 * e < -bound)
    dampen = ready & (2 * e > bound)
    return np.select(
        [np.asarray(amplify, dtype=bool), np.asarray(dampen, dtype=bool)], ["AMPLIFY", "DAMPEN"], default="NEUTRAL"
    )


def dealer_gamma(position, spot, strike, t_years, iv, rate) -> np.ndarray:
    """Dealer share-gamma of a position: ``position · 100 · bs_gamma(spot, strike, t_years, iv, rate)``.

    ``position`` in contracts (dealer side, signed). 0 at/after expiry (t_years ≤ 0) or with zero position;
    NaN for invalid spot/strike/iv (see :func:`python_udfs.black_scholes.bs_gamma`).
    """
    pos = np.asarray(position, dtype=np.float64)
    return pos * CONTRACT_MULTIPLIER * bs_gamma(spot, strike, t_years, iv, rate)


def dealer_gamma_flow(aggressor, size, gamma) -> np.ndarray:
    """Dealer gamma flow of option prints: ``−aggressor · size · 100 · gamma`` (share-gamma, SPEC §7.3 / §6.6).

    ``aggressor`` is the customer side (+1 buy, −1 sell, 0 unknown → 0 flow), ``size`` in contracts, ``gamma``
    the BS gamma per share at print time.
    """
    return (
        -np.asarray(aggressor, dtype=np.float64)
        * np.asarray(size, dtype=np.float64)
        * CONTRACT_MULTIPLIER
        * (np.asarray(gamma, dtype=np.float64))
    )


def parity_implied_spot(call_px, put_px, strike, rate=0.0, t_years=0.0, discount: bool = False) -> np.ndarray:
    """Spot implied by put-call parity from a call and a put at the same strike: ``C − P + K`` (dollars).

    With ``discount=True``: ``C − P + K·exp(−rate·t_years)`` (European parity, no dividends).

    Why the discount is off by default: for 0DTE options the financing term K·(1 − e^{−rT}) is at most about
    $0.02 for a $700 strike over the remaining session in calendar time (and shrinks to 0 at the close): within
    the noise of two option prints (quoted in $0.01 ticks, spreads of several ticks) and below one ES tick in the
    SPY frame ($0.025); using the
    trading-year T of the greeks (252 × 6.5 h per year) would overstate it about 5-fold (up to ~$0.12) because
    interest accrues on calendar time. SPY options are also American and SPY pays dividends, so European parity
    with r alone is not more exact. The project only uses the median of ``C − P + K`` to estimate the slowly
    varying ES-to-SPY basis (SPEC §7.3), where leaving out the carry shifts the basis by at most those ~$0.02.
    """
    c = np.asarray(call_px, dtype=np.float64)
    p = np.asarray(put_px, dtype=np.float64)
    k = np.asarray(strike, dtype=np.float64)
    if discount:
        k = k * np.exp(-np.asarray(rate, dtype=np.float64) * np.asarray(t_years, dtype=np.float64))
    return c - p + k
