"""Session clock: ES session bounds, the 250 ms grid, ET clock helpers and the intraday activity profile."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from breakbounce import calendar as _cal
from breakbounce.synth.params import CELL_NS, NS

H = 3600


@dataclass(frozen=True)
class Clock:
    session: _cal.Session
    t0: int  # ES session start (Globex open, 18:00 ET the evening before)
    t_end: int  # ES session end (17:00 ET; 13:15 ET halt on early-close days)
    opt_end: int  # option trading end (16:15 ET / 13:15 ET)
    n_cells: int

    @property
    def pm_open(self) -> int:
        return self.session.pm_open_ns

    @property
    def rth_open(self) -> int:
        return self.session.rth_open_ns

    @property
    def or_close(self) -> int:
        return self.session.or_close_ns

    @property
    def rth_close(self) -> int:
        return self.session.rth_close_ns

    def et(self, hhmm: str | float) -> int:
        """UTC ns of an ET clock time on the session date ('HH:MM[:SS]' or seconds after midnight).

        Negative seconds address the previous evening. The calendar resolves DST; no DST switch ever
        falls inside one session (they happen at 02:00 on Sundays, before the 18:00 Globex open)."""
        secs = parse_hhmm(hhmm) if isinstance(hhmm, str) else float(hhmm)
        return self.session.rth_open_ns + int(round((secs - 34200.0) * NS))

    def et_seconds(self, ts_ns):
        """Seconds after ET midnight of the session date (negative on the previous evening)."""
        return (np.asarray(ts_ns, dtype=np.int64) - self.session.rth_open_ns) / NS + 34200.0

    def cell_times(self) -> np.ndarray:
        return self.t0 + np.arange(self.n_cells, dtype=np.int64) * CELL_NS

    def cell_of(self, ts_ns) -> np.ndarray:
        return ((np.asarray(ts_ns, dtype=np.int64) - self.t0) // CELL_NS).astype(np.int64)


def parse_hhmm(s: str) -> float:
    parts = [float(p) for p in s.split(":")]
    if not 2 <= len(parts) <= 3:
        raise ValueError(f"bad clock time {s!r} (want HH:MM or HH:MM:SS)")
    return parts[0] * H + parts[1] * 60 + (parts[2] if len(parts) == 3 else 0.0)


def make_clock(date: str) -> Clock:
    try:
        sess = _cal.session(date)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from None
    t_end = _cal.es_trading_end_ns(sess)
    n_cells = (t_end - sess.globex_open_ns) // CELL_NS
    return Clock(sess, sess.globex_open_ns, t_end, sess.rth_close_ns + 15 * 60 * NS, int(n_cells))


# overnight / pre-market activity relative to the RTH mean (= 1), ET seconds after midnight of D
_KNOTS = np.array(
    [
        (-6.0 * H, 0.16),
        (-5.5 * H, 0.08),
        (-4.0 * H, 0.05),
        (-1.0 * H, 0.04),
        (2.0 * H, 0.05),
        (3.0 * H, 0.15),
        (4.0 * H, 0.17),
        (6.0 * H, 0.12),
        (8.0 * H, 0.10),
        (8.5 * H, 0.12),
        (9.5 * H, 0.25),
    ]
)


def activity(clock: Clock, ts_ns: np.ndarray) -> np.ndarray:
    """Relative trading intensity at ``ts_ns``: overnight low, European-open bump, 08:30 burst,
    RTH U-shape (mean 1), a short post-close tail, near zero after 16:15."""
    s = clock.et_seconds(ts_ns)
    out = np.interp(s, _KNOTS[:, 0], _KNOTS[:, 1])
    burst = s >= 8.5 * H
    out = out + np.where(burst, 0.9 * np.exp(-np.clip(s - 8.5 * H, 0, None) / 300.0), 0.0)
    open_s = 9.5 * H
    close_s = clock.et_seconds(clock.rth_close).item()
    rth = (s >= open_s) & (s < close_s)
    x = np.clip((s - open_s) / (close_s - open_s), 0.0, 1.0)
    u = 1.0 + 2.2 * np.exp(-x / 0.06) + 1.2 * np.exp(-(1.0 - x) / 0.05)
    out = np.where(rth, u / 1.192, out)
    post = s >= close_s
    tail = 0.06 + 0.30 * np.exp(-np.clip(s - close_s, 0, None) / 400.0)
    out = np.where(post, tail, out)
    return out


def option_activity(clock: Clock, ts_ns: np.ndarray) -> np.ndarray:
    """0DTE option intensity: RTH U-shape, thin 15-minute tail after the close."""
    s = clock.et_seconds(ts_ns)
    open_s = 9.5 * H
    close_s = clock.et_seconds(clock.rth_close).item()
    x = np.clip((s - open_s) / (close_s - open_s), 0.0, 1.0)
    u = (1.0 + 1.5 * np.exp(-x / 0.08) + 2.0 * np.exp(-(1.0 - x) / 0.08)) / 1.28
    return np.where(s < close_s, u, 0.12)
