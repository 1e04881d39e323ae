"""Constants, scale presets, random streams, contracts and the per-day regime draw.

Every random number of a session comes from a stream seeded by
``np.random.SeedSequence([seed, date_ordinal, component, *extra])``: one stream per component, so a
date's bytes never depend on which range it was generated in, or on the other components.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass

import numpy as np

from breakbounce import calendar as _cal

TICK = 0.25  # ES tick, index points
NS = 1_000_000_000
CELL_NS = 250_000_000  # price-path grid: the touch can change at most once per 250 ms cell (or at a trade)

# random-stream components (never renumber: it changes every byte)
C_LEVEL_WALK = 1
C_REGIME = 2
C_PLAN = 3
C_PATH = 4
C_TRADES = 5
C_BOOK = 6
C_OPTIONS = 7
C_DUPS = 8
C_BACK = 9
C_SCENARIO = 10
C_ROLL = 11  # only drawn on a generated roll day (generate --roll-at): other sessions never touch it

BASE_ES_LEVEL = 5800.0
DAILY_LOG_VOL = 0.008  # sd of the session-to-session log move of the opening level
LEVEL_WALK_PHI = 1.0 - 1.0 / 250.0  # mean reversion of the daily walk (stationary sd ~9 %)

R_FUT, Q_DIV = 0.043, 0.013  # ES fair value: SPX * (r - q) * days / 360
R_OPT = 0.045  # Black-Scholes rate for the options (SPEC 7.3)
TRADING_YEAR_S = 252 * 6.5 * 3600.0


@dataclass(frozen=True)
class ScaleSpec:
    name: str
    trades: int  # ES trade prints per session (front + back month)
    mbp10: int  # MBP-10 records per session
    options: int  # option trades per session
    back_mbp_rows: int  # back-month rows mixed into the MBP-10 table
    dup_frac: float = 0.0005  # exact duplicate rows planted per table


SCALES = {
    "test": ScaleSpec("test", trades=35_000, mbp10=260_000, options=35_000, back_mbp_rows=20),
    "full": ScaleSpec("full", trades=700_000, mbp10=5_400_000, options=700_000, back_mbp_rows=300),
}


def stream(seed: int, ordinal: int, component: int, *extra: int) -> np.random.Generator:
    """The random stream of one component of one session."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(ordinal), int(component), *map(int, extra)]))


def date_ordinal(date: str) -> int:
    return _dt.date.fromisoformat(date).toordinal()


# ----------------------------------------------------------------------------------------------
# contracts


def third_friday(year: int, month: int) -> _dt.date:
    d = _dt.date(year, month, 15)
    return d + _dt.timedelta(days=(4 - d.weekday()) % 7)


def _quarterly_after(year: int, month: int):
    """Quarterly (year, month) pairs starting with the first contract month >= (year, month)."""
    m = ((month - 1) // 3 + 1) * 3
    y = year
    while True:
        yield y, m
        m += 3
        if m > 12:
            y, m = y + 1, 3


def contract_code(year: int, month: int) -> str:
    return "ES" + "HMUZ"[month // 3 - 1] + str(year % 10)


@dataclass(frozen=True)
class Contracts:
    front: str
    back: str
    front_expiry: _dt.date
    back_expiry: _dt.date


def contracts_for(date: str) -> Contracts:
    """Front = first quarterly contract more than 8 calendar days before its 3rd-Friday expiry."""
    d = _dt.date.fromisoformat(date)
    it = _quarterly_after(d.year, d.month)
    for y, m in it:
        exp = third_friday(y, m)
        if d < exp - _dt.timedelta(days=8):
            by, bm = next(it)
            return Contracts(contract_code(y, m), contract_code(by, bm), exp, third_friday(by, bm))
    raise AssertionError("unreachable")


# ----------------------------------------------------------------------------------------------
# the seeded daily level walk (connects consecutive sessions)


@functools.lru_cache(maxsize=8)
def _level_walk(seed: int) -> tuple[dict[str, int], np.ndarray]:
    dates = list(_cal.load_calendar().keys())
    z = stream(seed, 0, C_LEVEL_WALK).standard_normal(len(dates) + 1)
    y = np.empty(len(dates) + 1)
    acc = 0.0
    for i, zi in enumerate(z.tolist()):
        acc = LEVEL_WALK_PHI * acc + DAILY_LOG_VOL * zi
        y[i] = acc
    return {d: i for i, d in enumerate(dates)}, BASE_ES_LEVEL * np.exp(y)


def session_levels(seed: int, date: str) -> tuple[float, float]:
    """(ES level at this session's Globex open, level at its close = the next session's open)."""
    index, levels = _level_walk(int(seed))
    i = index[date]
    return float(levels[i]), float(levels[i + 1])


# ----------------------------------------------------------------------------------------------
# the day's regime


@dataclass(frozen=True)
class Regime:
    name: str  # quiet | normal | volatile
    rth_range_pct: float  # target RTH high-low range of the background path, % of price
    daily_vol_pct: float  # sd of the RTH return, % (range / 1.6)
    sigma_atm: float  # 0DTE at-the-money implied vol
    book_base: float  # RTH median size at the touch
    spy_ratio: float  # SPX / SPY
    calendar_spread: float  # back-month minus front-month ES, points
    jump_0830_pts: float  # sd of the 08:30 release jump (0 = no release today)
    sv_sigma: float  # stationary sd of the OU log-vol


def draw_regime(seed: int, ordinal: int) -> Regime:
    rng = stream(seed, ordinal, C_REGIME)
    u = rng.random()
    if u < 0.6:
        name, rng_pct, sig = "quiet", rng.uniform(0.5, 0.9), rng.uniform(0.10, 0.14)
        base = rng.uniform(70, 120)
    elif u < 0.9:
        name, rng_pct, sig = "normal", rng.uniform(0.9, 1.5), rng.uniform(0.14, 0.19)
        base = rng.uniform(50, 90)
    else:
        name, rng_pct, sig = "volatile", rng.uniform(1.5, 3.0), rng.uniform(0.19, 0.25)
        base = rng.uniform(40, 60)
    ratio = float(np.clip(rng.normal(10.02, 0.008), 9.99, 10.05))
    spread = round(rng.uniform(40.0, 70.0) / TICK) * TICK
    jump = rng.uniform(2.0, 6.0) if rng.random() < 0.6 else 0.0
    sv = rng.uniform(0.25, 0.45)
    return Regime(name, rng_pct, rng_pct / 1.6, sig, base, ratio, spread, jump, sv)
