"""SPY 0DTE option trades (Polygon-flat-file shaped) priced by Black–Scholes on a smile.

SPY spot is real SPY: SPX = ES / (1 + (r - q) d / 360) (fair-value basis to the front contract's
expiry), SPY = SPX / ratio (ratio ≈ 10.02 drawn per day). So ES / 10 - SPY is a positive basis of a
few dollars, which the pipeline estimates from put–call parity.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from breakbounce.bronze import option_symbol
from breakbounce.synth.clock import Clock, option_activity
from breakbounce.synth.params import CELL_NS, NS, R_OPT, TICK, TRADING_YEAR_S
from breakbounce.synth.trades import cluster_times

STRIKE_HALF_RANGE = 30
LAPLACE_B = 3.0
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def norm_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7)."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    y = t * (_A[0] + t * (_A[1] + t * (_A[2] + t * (_A[3] + t * _A[4])))) * np.exp(-z * z)
    return np.where(x >= 0, 1.0 - 0.5 * y, 0.5 * y)


def smile_vol(sigma_atm: float, S, K, tau, r=R_OPT):
    k = np.log(K / (S * np.exp(r * tau)))
    return sigma_atm * (1.0 - 1.5 * k + 8.0 * k * k)


def bs_price(S, K, tau, sigma, is_call, r=R_OPT):
    sq = sigma * np.sqrt(tau)
    d1 = (np.log(S / K) + (r + 0.5 * sigma * sigma) * tau) / sq
    d2 = d1 - sq
    disc = K * np.exp(-r * tau)
    call = S * norm_cdf(d1) - disc * norm_cdf(d2)
    put = disc * norm_cdf(-d2) - S * norm_cdf(-d1)
    return np.where(is_call, call, put)


def tau_years(clock: Clock, ts: np.ndarray) -> np.ndarray:
    return np.maximum(clock.rth_close - ts, 60 * NS) / NS / TRADING_YEAR_S


def spy_spot(clock: Clock, bid: np.ndarray, ts: np.ndarray, factor: float) -> np.ndarray:
    cell = np.clip(clock.cell_of(ts), 0, len(bid) - 1)
    return (bid[cell] + 0.5) * TICK / factor


def option_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Median 1, mean ≈ 8, Pareto tail (α ≈ 1.02), capped at 2,500."""
    u = rng.random(n)
    return np.minimum(np.floor(u ** (-1.0 / 1.02)), 2500).astype(np.int64)


def make_options(
    rng: np.random.Generator,
    clock: Clock,
    bid: np.ndarray,
    n_target: int,
    sigma_atm: float,
    factor: float,
    date: str,
    walls: list[tuple[float, str]],
    mix: float,
    buy_prob: float,
    dup_frac: float,
    dup_rng: np.random.Generator,
):
    ct = clock.cell_times()
    w = option_activity(clock, ct + CELL_NS // 2) * ((ct >= clock.rth_open) & (ct < clock.opt_end))
    ts = cluster_times(rng, clock, w, n_target, branching=0.5, mean_delay_s=0.05, t_hi=clock.opt_end)
    n = len(ts)
    S = spy_spot(clock, bid, ts, factor)
    s_open = float(spy_spot(clock, bid, np.array([clock.rth_open]), factor)[0])
    k0 = int(round(s_open))
    kmin, kmax = k0 - STRIKE_HALF_RANGE, k0 + STRIKE_HALF_RANGE

    K = np.rint(S + rng.laplace(0.0, LAPLACE_B, n))
    for _ in range(4):
        bad = (K < kmin) | (K > kmax)
        if not bad.any():
            break
        K[bad] = np.rint(S[bad] + rng.laplace(0.0, LAPLACE_B, int(bad.sum())))
    K = np.clip(K, kmin, kmax)
    is_call = rng.random(n) < 0.5
    buy_p = np.full(n, 0.5)
    on_wall = np.zeros(n, dtype=bool)
    if walls and mix > 0:
        on_wall = rng.random(n) < mix
        which = rng.integers(0, len(walls), n)
        wk = np.array([float(np.clip(k, kmin, kmax)) for k, _ in walls])
        wc = np.array([r == "C" for _, r in walls])
        K = np.where(on_wall, wk[which], K)
        is_call = np.where(on_wall, wc[which], is_call)
        buy_p = np.where(on_wall, buy_prob, buy_p)
    true_side = np.where(rng.random(n) < buy_p, 1, -1).astype(np.int64)
    tau = tau_years(clock, ts)
    sig = smile_vol(sigma_atm, S, K, tau)
    theo = bs_price(S, K, tau, sig, is_call)
    hs = np.minimum(0.01 + 0.005 * theo, 0.04)
    px = np.round(theo + true_side * hs * rng.uniform(0.3, 1.0, n), 2)
    intrinsic = np.where(is_call, S - K, K - S)
    px = np.maximum(px, np.ceil(np.maximum(intrinsic, 0.0) * 100.0 - 1e-9) / 100.0)
    px = np.maximum(px, 0.01)
    size = option_sizes(rng, n)
    shown = rng.random(n) < 0.7
    aggr = np.where(shown, true_side, 0).astype(np.int64)

    # listed contracts -> symbols by lookup, not one f-string per row
    right_idx = np.where(is_call, 0, 1)
    kid = (K - kmin).astype(np.int64)
    cid = right_idx * (kmax - kmin + 1) + kid
    syms = [option_symbol(date, r, float(k)) for r in ("C", "P") for k in range(kmin, kmax + 1)]
    # dictionary-encoded here; write_table casts them to the contract's string type
    sym_arr = pa.DictionaryArray.from_arrays(pa.array(cid.astype(np.int32)), pa.array(syms, pa.string()))
    right_arr = pa.DictionaryArray.from_arrays(pa.array(right_idx.astype(np.int32)), pa.array(["C", "P"]))
    seq = np.arange(1, n + 1, dtype=np.int64)
    tab = pa.Table.from_pydict(
        {
            "ts_event_ns": pa.array(ts, pa.int64()),
            "ts_recv_ns": pa.array(ts, pa.int64()),
            "source": pa.repeat(pa.scalar("polygon_flatfile"), n),
            "underlying": pa.repeat(pa.scalar("SPY"), n),
            "option_symbol": sym_arr,
            "exp_date": pa.repeat(pa.scalar(date), n),
            "strike": pa.array(K, pa.float64()),
            "right": right_arr,
            "price": pa.array(px, pa.float64()),
            "size": pa.array(size, pa.int64()),
            "opt_bid": pa.nulls(n, pa.float64()),
            "opt_ask": pa.nulls(n, pa.float64()),
            "seq": pa.array(seq, pa.int64()),
            "aggressor": pa.array(aggr, pa.int64()),
        }
    )
    nd = int(dup_rng.binomial(n, dup_frac))
    if nd:
        di = np.sort(dup_rng.choice(n, nd, replace=False))
        tab = pa.concat_tables([tab, tab.take(pa.array(di))])
    # customer net buying per listed contract (true side, all trades)
    nk = kmax - kmin + 1
    flow = np.bincount(cid, weights=(true_side * size).astype(float), minlength=2 * nk)
    net = {(float(kmin + i % nk), "C" if i < nk else "P"): int(f) for i, f in enumerate(flow) if f != 0}
    info = {"n": n, "duplicates": nd, "strike_min": kmin, "strike_max": kmax, "spot_open": s_open, "net_buy": net}
    return tab, info
