"""Hand-built tiny sessions for the level / touch / label / Gold tests, and an independent reference.

Two halves:

* **Builders**: ``et(date, "HH:MM[:SS[.fffffffff]]")`` turns an America/New_York clock time of a
  session's Globex day into UTC ns (through the calendar seed, so DST is the seed's), ``Tape``
  collects ES prints (ES points) and writes them through the Bronze contract, ``trades_table`` makes a
  Bronze ES trades table from columns (``random_session``: a random-walk Globex day of them),
  ``truncate_bronze`` copies a Bronze root keeping only records with ``ts_event_ns < cut``
  (point-in-time tests).
* **Reference**: a plain-Python re-statement of SPEC §4–6 (levels as known at T0, touches, labels at
  trade level, relative volume) computed straight from the prints by scanning them, with no shared
  code or algorithm with the SQL models (which use bars, cumulative sums and ASOF joins). Prices are
  exact integers of 1e-9 ES points and ratios are ``Fraction``s, so boundary cases are exact.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from breakbounce import bronze, calendar

NS = 1_000_000_000
MIN = 60 * NS
E9 = 1_000_000_000
RATIO = 10  # es_spy_ratio (dbt var default)
TOUCH_BAND_E9 = 1 * E9  # $0.10 SPY = 1.00 ES point
MONITOR_BAND_E9 = 25 * E9 // 10  # $0.25 SPY = 2.50 ES points
TOLERANCE_E9 = 10  # $1e-9 SPY
WINDOWS = (120, 240, 480)
LOOKFORWARD = 480
DOLLAR_THRESHOLDS_E9 = (10 * E9, 20 * E9)  # $1 / $2 SPY in ES e9 (label_threshold_unit 'dollars', [1, 2])
ATR_BARS = 14
KIND_NAMES = {
    0: "PM_HIGH",
    1: "PM_LOW",
    2: "OR_HIGH",
    3: "OR_LOW",
    4: "SESSION_HIGH",
    5: "SESSION_LOW",
    6: "SMA_200",
    7: "VWAP",
    10: "CALL_WALL",
    11: "PUT_WALL",
    12: "SMA_400",
}
PROJECT_DIR = Path(__file__).resolve().parents[2]


# --- builders ------------------------------------------------------------------------------------


def et(date: str, clock: str) -> int:
    """UTC ns of an ET clock time on ``date``'s Globex day; hours >= 18 are the previous evening.

    Offsets are taken from the seed's 09:30 (rth_open_ns); no DST switch happens inside a Globex day
    (switches are at 02:00 on Sundays, before a Monday session's 18:00 Sunday open).
    """
    s = calendar.session(date)
    hh, mm, *rest = clock.split(":")
    sec_ns = 0
    if rest:
        whole, _, frac = rest[0].partition(".")
        sec_ns = int(whole) * NS + int((frac + "000000000")[:9])
    minutes = int(hh) * 60 + int(mm)
    if int(hh) >= 18:
        minutes -= 24 * 60
    return s.rth_open_ns + (minutes - 570) * MIN + sec_ns


def e9(price: float) -> int:
    """ES points -> exact 1e-9 points (test prices are on the 0.25 tick grid)."""
    return round(price * E9)


@dataclass
class Print:
    ts: int
    price_e9: int
    size: int
    contract: str
    seq: int


@dataclass
class Tape:
    """ES prints of one Bronze root, possibly several sessions."""

    prints: list[Print] = field(default_factory=list)

    def add(self, ts: int, price: float, size: int = 1, contract: str = "ESH6") -> Tape:
        self.prints.append(Print(int(ts), e9(price), int(size), contract, len(self.prints)))
        return self

    def every(self, start: int, end: int, step: int, price_fn, size_fn=lambda i: 1, contract: str = "ESH6") -> Tape:
        """A print every ``step`` ns in [start, end); price_fn(i) / size_fn(i) of the print index."""
        for i, ts in enumerate(range(start, end, step)):
            self.add(ts, price_fn(i), size_fn(i), contract)
        return self

    def table(self) -> pa.Table:
        p = self.prints
        return trades_table(
            [x.ts for x in p],
            [x.price_e9 / E9 for x in p],
            [x.size for x in p],
            [x.seq for x in p],
            symbol=[x.contract for x in p],
            aggressor=[1 if i % 2 else -1 for i in range(len(p))],
            recv_delay_ns=1000,
        )

    def write(self, root: Path, name: str = "tape.parquet") -> None:
        bronze.write_table(self.table(), root, bronze.FUTURES_TRADES, name)
        attest_quiet_hours(root)


def trades_table(ts, price, size, seq, symbol="ESH6", aggressor=None, recv_delay_ns: int = 250_000) -> pa.Table:
    """A Bronze ES trades table from columns (aggressor +1 for every print unless given)."""
    n = len(ts)
    symbols = [symbol] * n if isinstance(symbol, str) else list(symbol)
    ts = np.asarray(ts, dtype=np.int64)
    return pa.table(
        {
            "ts_event_ns": pa.array(ts),
            "ts_recv_ns": pa.array(ts + recv_delay_ns),
            "source": ["test"] * n,
            "symbol": symbols,
            "price": pa.array(np.asarray(price, dtype=np.float64)),
            "size": pa.array(np.asarray(size, dtype=np.int64)),
            "aggressor": pa.array(np.asarray(aggressor if aggressor is not None else np.ones(n), dtype=np.int64)),
            "exchange": ["CME"] * n,
            "conditions": pa.nulls(n, pa.list_(pa.int16())),
            "seq": pa.array(np.asarray(seq, dtype=np.int64)),
        },
        schema=bronze.FUTURES_TRADES_SCHEMA,
    )


def write_trades(root: Path, table: pa.Table, name: str = "part-0.parquet") -> list[Path]:
    written = bronze.write_table(table, root, bronze.FUTURES_TRADES, name)
    attest_quiet_hours(root)
    return written


def attest_quiet_hours(root: Path) -> None:
    """Hand-built Bronze holds every print there is: an hour a session should fill (SPEC §12) but
    without a print is quiet, not missing. Give each such hour a zero-row file, for ES trades of
    every session with Bronze and for MBP-10 of every date that has some, as a producer would."""
    from breakbounce import plan

    for d in plan.sessions_with_bronze(root):
        s = calendar.session(d)
        bronze.write_quiet_hours(root, bronze.FUTURES_TRADES, *plan.es_trading_span(s), "quiet-hour.parquet")
        start, end = plan.mbp10_span(s)
        mbp_hours = [
            bronze.FUTURES_MBP10.hour_dir(root, bronze.utc_date_str(h * bronze.NS_PER_HOUR), h % 24)
            for h in range(start // bronze.NS_PER_HOUR, (end - 1) // bronze.NS_PER_HOUR + 1)
        ]
        if any(any(h.glob("*.parquet")) for h in mbp_hours if h.is_dir()):
            bronze.write_quiet_hours(root, bronze.FUTURES_MBP10, start, end, "quiet-hour.parquet")


def random_session(
    date: str, rng: np.random.Generator, n: int = 6000, start_price: float = 6000.0, symbol: str = "ESH6", seq0: int = 0
) -> pa.Table:
    """A Globex day of random-walk prints on the 0.25 grid, with bursts of same-timestamp prints."""
    s = calendar.session(date)
    ts = np.sort(rng.integers(s.globex_open_ns, s.globex_close_ns - 3600 * NS, n))
    # every 7th print shares the previous timestamp (a sweep through several prices)
    ts[7::7] = ts[6::7][: len(ts[7::7])]
    ts = np.sort(ts)
    steps = rng.choice([-1, 0, 0, 1], n) * 0.25
    price = start_price + np.cumsum(steps)
    size = rng.integers(1, 40, n)
    seq = seq0 + rng.permutation(n)  # seq is not monotone in ts within ties: order must come from (ts, seq)
    order = np.lexsort((seq, ts))
    seq = seq[order]
    return trades_table(ts, price, size, seq, symbol=symbol, aggressor=rng.choice([-1, 1], n))


def truncate_bronze(src: Path, dst: Path, cut_ns: int) -> None:
    """Copy every Bronze parquet file under ``src`` to ``dst`` keeping only rows with ts_event_ns < cut
    (SPEC §11: every record with ts >= cut removed; a file left without rows stays, as an empty file,
    so the truncated day is complete, not missing hours)."""
    for path in sorted(Path(src).rglob("*.parquet")):
        table = pq.read_table(path)
        keep = pc.less(table.column("ts_event_ns"), pa.scalar(cut_ns, pa.int64()))
        table = table.filter(keep)
        out = Path(dst) / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out, compression="zstd")


def rewrite_bronze(src: Path, dst: Path, transforms: dict[str, callable]) -> None:
    """Copy the Bronze tree ``src`` to ``dst``, passing each file of a table named in ``transforms``
    ("futures_trades", "futures_mbp10", "option_trades") through its function (pa.Table -> pa.Table);
    other files are hard-linked. The truth files are not copied."""
    specs = {
        "futures_trades": bronze.FUTURES_TRADES,
        "futures_mbp10": bronze.FUTURES_MBP10,
        "option_trades": bronze.OPTION_TRADES,
    }
    roots = {name: Path(src) / spec.subdir for name, spec in specs.items()}
    for path in sorted(Path(src).rglob("*.parquet")):
        table_name = next((n for n, r in roots.items() if r in path.parents), None)
        if table_name is None:
            continue
        out = Path(dst) / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        fn = transforms.get(table_name)
        if fn is None:
            os.link(path, out)
        else:
            bronze.atomic_write_parquet(fn(pq.read_table(path)), out)


# --- running -------------------------------------------------------------------------------------


@dataclass
class Build:
    returncode: int
    stdout: str
    stderr: str
    db: Path
    gold_root: Path
    date: str

    @property
    def gold_file(self) -> Path:
        return self.gold_root / "signals" / f"date={self.date}" / "signals.parquet"

    def gold(self) -> list[dict]:
        return pq.read_table(self.gold_file).to_pylist()

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        import duckdb

        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def run_args(date: str, bronze_root: Path, gold_root: Path, work: Path) -> list[str]:
    work.mkdir(parents=True, exist_ok=True)
    return [
        sys.executable,
        "-m",
        "breakbounce.cli",
        "run",
        "--date",
        date,
        "--bronze",
        str(bronze_root),
        "--gold",
        str(gold_root),
        "--db",
        str(work / "warehouse.duckdb"),
        "--target-path",
        str(work / "dbt"),
    ]


def build(
    date: str,
    bronze_root: Path,
    gold_root: Path,
    work: Path,
    select: str | None = None,
    db: Path | None = None,
    dbt_vars: dict | None = None,
) -> Build:
    """``breakbounce run`` in a fresh process (dbt keeps process-wide state); ``dbt_vars``: its --vars."""
    import json

    args = run_args(date, bronze_root, gold_root, work)
    if db is not None:
        args[args.index("--db") + 1] = str(db)
    if select:
        args += ["--select", select]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=PROJECT_DIR)
    return Build(proc.returncode, proc.stdout, proc.stderr, db or work / "warehouse.duckdb", gold_root, date)


def build_and_kill(date: str, bronze_root: Path, gold_root: Path, work: Path, marker: str, timeout: float = 120) -> int:
    """Start ``breakbounce run`` and SIGKILL it as soon as ``marker`` appears on its stderr; returns
    the process's exit status (negative = killed by that signal)."""
    proc = subprocess.Popen(
        run_args(date, bronze_root, gold_root, work),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
    )
    deadline = time.monotonic() + timeout
    try:
        for line in proc.stderr:
            if marker in line or time.monotonic() > deadline:
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.stderr.close()
        proc.wait()
    return proc.returncode


# --- reference -----------------------------------------------------------------------------------


def front_prints(tape: Tape, date: str) -> list[Print]:
    """The session's distinct front-month prints in (ts, seq) order (SPEC §3, rule 1: the largest
    pre-open volume; these tapes always have a unique leader)."""
    cache = tape.__dict__.setdefault("_front", {})
    if (date, len(tape.prints)) not in cache:
        cache[(date, len(tape.prints))] = _front_prints(tape, date)
    return cache[(date, len(tape.prints))]


def _front_prints(tape: Tape, date: str) -> list[Print]:
    s = calendar.session(date)
    inside = [p for p in tape.prints if s.globex_open_ns <= p.ts < s.globex_close_ns]
    volume: dict[str, int] = {}
    for p in inside:
        if p.ts < s.rth_open_ns:
            volume[p.contract] = volume.get(p.contract, 0) + p.size
    if volume:
        ranked = sorted(volume.values(), reverse=True)
        assert len(ranked) == 1 or ranked[0] > ranked[1], f"{date}: the reference needs a unique pre-open leader"
        front = max(volume, key=volume.get)
    else:  # rule 3 (these tapes have no earlier session with pre-open prints): the first RTH print's contract
        rth = sorted((p for p in inside if s.rth_open_ns <= p.ts < s.rth_close_ns), key=lambda p: (p.ts, p.seq))
        if not rth:
            return []
        front = rth[0].contract
    return sorted((p for p in inside if p.contract == front), key=lambda p: (p.ts, p.seq))


def bars(prints: list[Print], width_ns: int) -> list[dict]:
    """OHLCV bars keyed by floor(ts / width) (prints already in (ts, seq) order)."""
    out: dict[int, dict] = {}
    for p in prints:
        start = p.ts // width_ns * width_ns
        b = out.get(start)
        if b is None:
            out[start] = {
                "start": start,
                "open": p.price_e9,
                "high": p.price_e9,
                "low": p.price_e9,
                "close": p.price_e9,
                "volume": p.size,
            }
        else:
            b["high"] = max(b["high"], p.price_e9)
            b["low"] = min(b["low"], p.price_e9)
            b["close"] = p.price_e9
            b["volume"] += p.size
    return [out[k] for k in sorted(out)]


def reference_levels(tape: Tape, date: str, sma_sessions: list[str]) -> dict[int, dict[int, Fraction]]:
    """{T0: {level_kind: level in e9 ES points}} for every RTH 1-min bar of ``date``, as known at T0."""
    s = calendar.session(date)
    prints = front_prints(tape, date)
    pm = [p.price_e9 for p in prints if s.pm_open_ns <= p.ts < s.rth_open_ns]
    orng = [p.price_e9 for p in prints if s.rth_open_ns <= p.ts < s.or_close_ns]
    two_min = []
    for d in sorted(sma_sessions):
        two_min += bars(front_prints(tape, d), 2 * MIN)
    two_min.sort(key=lambda b: b["start"])
    out: dict[int, dict[int, Fraction]] = {}
    for b in bars(prints, MIN):
        t0 = b["start"]
        if not (s.rth_open_ns <= t0 < s.rth_close_ns):
            continue
        lv: dict[int, Fraction] = {}
        if pm:
            lv[0], lv[1] = Fraction(max(pm)), Fraction(min(pm))
        if orng and t0 >= s.or_close_ns:
            lv[2], lv[3] = Fraction(max(orng)), Fraction(min(orng))
        before = [p for p in prints if s.rth_open_ns <= p.ts < t0]
        if before:  # RTH trades with ts < T0
            lv[4] = Fraction(max(p.price_e9 for p in before))
            lv[5] = Fraction(min(p.price_e9 for p in before))
            lv[7] = Fraction(sum(p.price_e9 * p.size for p in before), sum(p.size for p in before))
        closed = [x["close"] for x in two_min if x["start"] + 2 * MIN <= t0]
        for kind, n in ((6, 200), (12, 400)):
            if len(closed) >= n:
                lv[kind] = Fraction(sum(closed[-n:]), n)
        out[t0] = lv
    return out


def label_config(overrides: dict | None = None) -> tuple[str, list[Fraction]]:
    """(label_threshold_unit, label_thresholds as exact decimals) as dbt_project.yml declares them."""
    from breakbounce.params import project_vars

    v = {**project_vars(), **(overrides or {})}
    return v["label_threshold_unit"], [Fraction(str(m)) for m in v["label_thresholds"]]


def reference_thresholds_e9(atr_e9: Fraction, config: tuple[str, list[Fraction]]) -> list[int]:
    """SPEC §6 thresholds in whole 1e-9 ES points: 'dollars' m x ratio x 1e9; 'atr' the smallest whole
    unit >= m x ATR (so `price - L >= it` is `price - L >= m x ATR` on whole-unit prices), at least 1."""
    unit, ms = config
    if unit == "dollars":
        return [int(m * RATIO * E9) for m in ms]
    return [max(-((-m * atr_e9).numerator // (m * atr_e9).denominator), 1) for m in ms]


def reference_events(tape: Tape, date: str, sma_sessions: list[str], config=None) -> list[dict]:
    """Touch events of ``date`` (SPEC §5), ordered by (ts_ns, level_kind), with their labels (``config``:
    label_config(); default the project's)."""
    s = calendar.session(date)
    config = config or label_config()
    prints = front_prints(tape, date)
    levels = reference_levels(tape, date, sma_sessions)
    horizon = (max(WINDOWS) + LOOKFORWARD) * NS
    ts = [p.ts for p in prints]
    events = []
    minute_bars = bars(prints, MIN)
    true_ranges = [
        b["high"] - b["low"]
        if i == 0
        else max(
            b["high"] - b["low"],
            abs(b["high"] - minute_bars[i - 1]["close"]),
            abs(b["low"] - minute_bars[i - 1]["close"]),
        )
        for i, b in enumerate(minute_bars)
    ]
    for i, b in enumerate(minute_bars):
        window = true_ranges[max(0, i - ATR_BARS + 1) : i + 1]
        atr_e9 = Fraction(sum(window), len(window))  # SPEC §4: the touch bar's 14-bar ATR, exact
        t0 = b["start"]
        if not (s.rth_open_ns <= t0 and t0 + horizon <= s.rth_close_ns):
            continue
        for kind, level in sorted(levels[t0].items()):
            if not (b["low"] - TOUCH_BAND_E9 - TOLERANCE_E9 <= level <= b["high"] + TOUCH_BAND_E9 + TOLERANCE_E9):
                continue
            if abs(b["close"] - level) > MONITOR_BAND_E9 + TOLERANCE_E9:
                continue
            direction = "UP" if b["close"] < level else "DOWN"
            key = f"{date}|{t0}|{kind}|{direction}"
            h = hashlib.md5(key.encode()).hexdigest()
            ev = {
                "event_id": f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}",
                "ts_ns": t0,
                "available_ts_ns": t0 + MIN,
                "date": date,
                "symbol": "SPY",
                "level_kind": kind,
                "level_kind_name": KIND_NAMES[kind],
                "level_e9": level,
                "level_price": float(level / E9 / RATIO),
                "direction": direction,
                "direction_sign": 1 if direction == "UP" else -1,
                "distance": float(abs(b["close"] - level) / E9 / RATIO),
                "spot": b["close"] / E9 / RATIO,
                "atr": float(atr_e9 / E9 / RATIO),
            }
            thresholds = reference_thresholds_e9(atr_e9, config)
            for k, m in enumerate(config[1], start=1):
                ev[f"label_threshold_{k}"] = float(m) if config[0] == "dollars" else float(m * atr_e9 / E9 / RATIO)
            for w in WINDOWS:
                suffix = f"_{w // 60}min"
                for col, val in reference_label(prints, ev, w, ts, thresholds).items():
                    ev[col + suffix] = val
            for col in list(ev):
                if col.endswith("_4min") and not col.startswith("future_price"):
                    ev[col[: -len("_4min")]] = ev[col]
            ev["future_price_5min"] = ev["future_price_4min"]
            events.append(ev)
    return events


def reference_label(
    prints: list[Print], ev: dict, window_s: int, ts: list[int] | None = None, thresholds_e9=DOLLAR_THRESHOLDS_E9
) -> dict:
    """SPEC §6 for one event and window, by scanning the prints (``ts``: their timestamps, for bisect;
    ``thresholds_e9``: the event's thresholds in whole 1e-9 ES points)."""
    ts = ts if ts is not None else [p.ts for p in prints]
    level = ev["level_e9"]
    sign = ev["direction_sign"]
    t1 = ev["ts_ns"] + window_s * NS
    end = t1 + LOOKFORWARD * NS
    out = {"confirm_ts_ns": t1}
    nk = len(thresholds_e9)
    undefined = not prints or prints[0].ts > t1 or prints[-1].ts < end
    if undefined:
        out.update(
            {
                "outcome": "UNDEFINED",
                "excursion_max": None,
                "excursion_min": None,
                "strength_signed": None,
                "strength_abs": None,
                "anchor_spot": None,
                "future_price": None,
            }
        )
        for k in range(1, nk + 1):
            out.update(
                {
                    f"time_to_threshold_{k}": None,
                    f"time_to_break_{k}": None,
                    f"time_to_bounce_{k}": None,
                    f"tradeable_{k}": 0,
                }
            )
        return out
    lo, hi = bisect.bisect_left(ts, t1), bisect.bisect_right(ts, end)
    window = prints[lo:hi]
    anchor = prints[bisect.bisect_right(ts, t1) - 1]
    future = prints[hi - 1]
    above = max(max(p.price_e9 for p in window) - level, 0) if window else 0
    below = max(level - min(p.price_e9 for p in window), 0) if window else 0
    exc_max, exc_min = (above, below) if sign == 1 else (below, above)

    def to_spy(x):
        return float(Fraction(x) / E9 / RATIO)

    out.update(
        {
            "excursion_max": to_spy(exc_max),
            "excursion_min": to_spy(exc_min),
            "strength_signed": to_spy(exc_max - exc_min),
            "strength_abs": to_spy(max(exc_max, exc_min)),
            "anchor_spot": anchor.price_e9 / E9 / RATIO,
            "future_price": future.price_e9 / E9 / RATIO,
        }
    )
    firsts = {}
    for k, thr in enumerate(thresholds_e9, start=1):
        up = next((p.ts for p in window if p.price_e9 >= level + thr), None)
        down = next((p.ts for p in window if p.price_e9 <= level - thr), None)
        brk, bnc = (up, down) if sign == 1 else (down, up)
        firsts[k] = (brk, bnc)

        def secs(t):
            return None if t is None else (t - t1) / 1e9

        out[f"time_to_break_{k}"] = secs(brk)
        out[f"time_to_bounce_{k}"] = secs(bnc)
        out[f"time_to_threshold_{k}"] = secs(min([x for x in (brk, bnc) if x is not None], default=None))
        out[f"tradeable_{k}"] = int(brk is not None or bnc is not None)
    brk, bnc = firsts[nk]
    if brk is None and bnc is None:
        outcome = "CHOP"
    elif bnc is None or (brk is not None and brk < bnc):
        outcome = "BREAK"
    elif brk is None or bnc < brk:
        outcome = "BOUNCE"
    else:  # same timestamp: the sign of strength_signed decides
        outcome = "BREAK" if exc_max > exc_min else "BOUNCE" if exc_max < exc_min else "CHOP"
    out["outcome"] = outcome
    return out


def reference_rel_vol(tape: Tape, date: str, prior_sessions: list[str], t_dec: int) -> float | None:
    """SPEC §4: cumulative RTH volume of ``date`` up to t_dec over the prior sessions' mean at that offset."""
    s = calendar.session(date)
    offset = t_dec - s.rth_open_ns

    def cum(d: str) -> int:
        c = calendar.session(d)
        stop = min(c.rth_open_ns + offset, c.rth_close_ns)
        prints = front_prints(tape, d)
        ts = [p.ts for p in prints]
        return sum(p.size for p in prints[bisect.bisect_left(ts, c.rth_open_ns) : bisect.bisect_left(ts, stop)])

    if not prior_sessions:
        return None
    mean = Fraction(sum(cum(d) for d in prior_sessions), len(prior_sessions))
    return None if mean == 0 else float(cum(date) / mean)


# --- scenarios -----------------------------------------------------------------------------------


def _idle(i: int) -> float:
    """A quiet price pattern around 6000 (5998.00 .. 6002.00 ES)."""
    return 6000 + 0.25 * ((i * 7) % 17 - 8)


class _Walk:
    """A deterministic bounded random walk on the 0.25 tick grid (LCG, no global RNG state)."""

    def __init__(self, seed: int, center: float = 6000.0, span_ticks: int = 40):
        self.state, self.k, self.center, self.span = seed, 0, center, span_ticks

    def __call__(self, _i: int = 0) -> float:
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % 2**64
        step = (self.state >> 33) % 3 - 1
        if abs(self.k + step) <= self.span:
            self.k += step
        return self.center + 0.25 * self.k


def prior_session(tape: Tape, date: str, start: str = "19:00", minutes_step: int = 1, seed: int = 1) -> None:
    """A warmup session: a print every ``minutes_step`` minutes from ``start`` (ET, evening = D-1) to the
    Globex close, plus a few prints of a back-month contract late in RTH (dropped by the front-month
    rule; late, so that a session starting in RTH still has the front month's print first, which
    decides when there is no pre-open print, SPEC §3 rule 3).

    Starting after 18:59 ET keeps every print inside the UTC date partitions of the session itself in
    winter and summer alike (18:00 ET of D-1 is still D-1 in UTC), so no other date "has Bronze"."""
    s = calendar.session(date)
    walk = _Walk(seed)
    tape.every(et(date, start), s.globex_close_ns, minutes_step * MIN, walk, lambda i: 1 + i % 5)
    for i in range(5):
        tape.add(et(date, f"15:{10 + i}:15"), 6100.0 + i, 1, contract="ESZ9")


def winter_day() -> tuple[Tape, str, list[str]]:
    """2025-12-16 (Tuesday, EST) with two warmup sessions and planted touches / label paths.

    PM_HIGH = 6010.00 ES ($601.000), PM_LOW = 5990.00 ($599.000), OR_HIGH 6004, OR_LOW 5996.
    Planted (ET): 10:00-10:05 band boundaries at PM_HIGH; 11:00 BREAK (UP at PM_HIGH); 12:00 BOUNCE
    (DOWN at PM_LOW); 13:00 CHOP; 14:00 same-timestamp tie -> BREAK on strength; 15:00 tie -> CHOP;
    15:44 OR_HIGH touch whose 4/8-min windows pass the session's last print (15:55:00) -> UNDEFINED.
    """
    d = "2025-12-16"
    tape = Tape()
    prior_session(tape, "2025-12-12", seed=11)
    prior_session(tape, "2025-12-15", seed=12)
    t = lambda c: et(d, c)  # noqa: E731
    # overnight and pre-market: a print every 2 minutes; PM extremes planted
    tape.every(t("18:00"), t("09:30"), 2 * MIN, _idle, lambda i: 1 + i % 3)
    tape.add(t("05:00:30"), 6010.00, 2)
    tape.add(t("06:00:30"), 5990.00, 2)
    # opening range 09:30-09:45: extremes 6004 / 5996
    tape.every(t("09:30"), t("09:45"), 30 * NS, _idle, lambda i: 2 + i % 4)
    tape.add(t("09:31:10"), 6004.00, 1)
    tape.add(t("09:32:10"), 5996.00, 1)
    planted: list[tuple[str, str]] = []

    def seg(start: str, end: str, prints: list[tuple[str, float]]) -> None:
        """Prints of a planted segment [start, end) (idle prints are kept out of it)."""
        planted.append((start, end))
        for c, px in prints:
            tape.add(t(c), px, 1)

    # A. band boundaries at PM_HIGH 6010 (L - high = 1.00 ES = $0.10; |close - L| = 2.50 ES = $0.25)
    seg(
        "10:00",
        "10:06",
        [
            ("10:00:00", 6008.00),
            ("10:00:20", 6009.00),
            ("10:00:40", 6008.75),  # touch UP, distance 0.125
            ("10:01:00", 6008.00),
            ("10:01:20", 6008.75),
            ("10:01:40", 6008.75),  # high 0.125 below: no touch
            ("10:02:00", 6009.50),
            ("10:02:40", 6007.50),  # touch UP, distance 0.25
            ("10:03:00", 6009.50),
            ("10:03:40", 6007.25),  # distance 0.275: no touch
            ("10:04:00", 6011.50),
            ("10:04:20", 6011.00),
            ("10:04:40", 6011.00),  # low - 0.10 = L: DOWN 0.10
            ("10:05:00", 6010.00),  # close = L: DOWN 0.00
        ],
    )
    # B. BREAK: UP at PM_HIGH on the 11:00 bar, 2-min anchor 11:02:00
    seg(
        "11:00",
        "11:20",
        [
            ("11:00:00", 6009.00),
            ("11:00:30", 6009.75),
            ("11:00:50", 6009.50),
            ("11:01:00", 6009.00),
            ("11:01:30", 6009.00),
            ("11:02:00", 6010.00),
            ("11:02:45", 6021.00),
            ("11:03:30.5", 6030.00),
        ]
        + [(f"11:{m:02d}:{s:02d}", 6025.00) for m in range(4, 20) for s in (0, 30) if (m, s) != (10, 0)]
        + [("11:10:00", 6026.00)],
    )
    # C. BOUNCE: DOWN at PM_LOW on the 12:00 bar; 12:02:10 reaches L + $2 (both thresholds)
    seg(
        "12:00",
        "12:20",
        [
            ("12:00:00", 5990.50),
            ("12:00:20", 5989.50),
            ("12:00:40", 5990.50),
            ("12:01:00", 5990.50),
            ("12:02:00", 5991.00),
            ("12:02:10", 6010.00),
        ]
        + [(f"12:{m:02d}:{s:02d}", 6005.00) for m in range(3, 20) for s in (0, 30)],
    )
    # D. CHOP: DOWN at PM_LOW on the 13:00 bar, then 5991..5995 (never $1 away)
    seg(
        "13:00",
        "13:22",
        [("13:00:00", 5990.00), ("13:00:40", 5990.25)]
        + [(f"13:{m:02d}:{s:02d}", 5991.0 + 0.25 * ((m * 2 + s // 30) % 17)) for m in range(1, 22) for s in (0, 30)],
    )
    # E. same-timestamp tie at 14:03:00 on both $2 sides; a later 5965 makes the break side larger
    seg(
        "14:00",
        "14:20",
        [
            ("14:00:00", 5990.50),
            ("14:00:20", 5989.75),
            ("14:00:40", 5990.25),
            ("14:01:00", 5990.25),
            ("14:02:00", 5990.00),
            ("14:03:00", 6010.00),
            ("14:03:00", 5970.00),
            ("14:05:00", 5965.00),
        ]
        + [(f"14:{m:02d}:{s:02d}", 5985.00) for m in range(5, 20) for s in (0, 30) if (m, s) != (5, 0)],
    )
    # F. the same tie with equal excursions -> CHOP
    seg(
        "15:00",
        "15:20",
        [
            ("15:00:00", 5990.50),
            ("15:00:20", 5989.75),
            ("15:00:40", 5990.25),
            ("15:01:00", 5990.25),
            ("15:02:00", 5990.00),
            ("15:03:00", 6010.00),
            ("15:03:00", 5970.00),
        ]
        + [(f"15:{m:02d}:{s:02d}", 5990.00) for m in range(4, 20) for s in (0, 30)],
    )
    # G. OR_HIGH touch at 15:44, then the session's last print at 15:55:00
    seg(
        "15:40",
        "15:56",
        [(f"15:{m:02d}:{s:02d}", 6003.50) for m in range(40, 55) for s in (0, 30)] + [("15:55:00", 6003.50)],
    )
    # idle RTH minutes outside the planted segments: prints at :00 and :30
    busy = [(t(a), t(b)) for a, b in planted]
    i = 0
    for ts in range(t("09:45"), t("15:40"), 30 * NS):
        if not any(a <= ts < b for a, b in busy):
            tape.add(ts, _idle(i), 1 + i % 4)
            i += 1
    return tape, d, ["2025-12-15", "2025-12-12"]


def dst_day() -> tuple[Tape, str, list[str]]:
    """2025-03-10 (Monday after the switch to EDT): one short warmup session, so SMA_200 is NULL at the
    open and defined later, SMA_400 never; rel_vol NULL until the warmup session's prints begin."""
    d = "2025-03-10"
    tape = Tape()
    prior_session(tape, "2025-03-07", start="12:00", seed=21)  # 150 2-min bars, RTH from 12:00 only
    t = lambda c: et(d, c)  # noqa: E731
    walk = _Walk(22)
    tape.every(t("07:00"), t("09:30"), 4 * MIN, walk, lambda i: 1 + i % 2)  # 38 2-min bars of PM
    tape.every(t("09:30"), t("16:30"), 20 * NS, walk, lambda i: 1 + i % 7)
    return tape, d, ["2025-03-07"]


def early_close_day() -> tuple[Tape, str, list[str]]:
    """2025-11-28 (13:00 close): no pre-market prints (PM_* NULL, so no PM events), overnight prints
    before 04:00, and prints until 13:15."""
    d = "2025-11-28"
    tape = Tape()
    prior_session(tape, "2025-11-26", seed=31)
    t = lambda c: et(d, c)  # noqa: E731
    walk = _Walk(32)
    tape.every(t("18:00"), t("03:59"), 2 * MIN, walk)
    tape.every(t("09:30"), t("13:15"), 20 * NS, walk, lambda i: 1 + i % 5)
    return tape, d, ["2025-11-26"]


def random_day(seed: int = 5) -> tuple[Tape, str, list[str]]:
    """2025-12-16 with two warmup sessions, a print every 5 s through RTH (random walk), a little of
    a back-month contract: the point-in-time / determinism / Gold-file tests' Bronze."""
    d = "2025-12-16"
    tape = Tape()
    prior_session(tape, "2025-12-12", seed=seed + 1)
    prior_session(tape, "2025-12-15", seed=seed + 2)
    walk = _Walk(seed, span_ticks=60)
    t = lambda c: et(d, c)  # noqa: E731
    tape.every(t("18:00"), t("09:30"), MIN, walk, lambda i: 1 + i % 3)
    tape.every(t("09:30"), t("17:00"), 5 * NS, walk, lambda i: 1 + (i * 7) % 11)
    for i in range(20):
        tape.add(t(f"11:{i:02d}:07"), 6150.0, 1, contract="ESZ9")
    return tape, d, ["2025-12-15", "2025-12-12"]


def shared(tmp_path_factory, name: str, make):
    """Memoise ``make(directory)`` across test modules of one pytest session (module fixtures of
    several files share one dbt run this way). The result is pickled next to the directory."""
    import pickle

    base = tmp_path_factory.getbasetemp() / f"shared-{name}"
    done = base / "result.pickle"
    if done.exists():
        return pickle.loads(done.read_bytes())
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    result = make(base)
    done.write_bytes(pickle.dumps(result))
    return result


# --- shared runs ---------------------------------------------------------------------------------

SCENARIOS = {"winter": winter_day, "dst": dst_day, "early_close": early_close_day}


@dataclass
class ScenarioRun:
    tape: Tape
    date: str
    priors: list[str]
    build: Build


def hand_built_runs(tmp_path_factory) -> dict[str, ScenarioRun]:
    """The three hand-built scenarios, each built once per pytest session (3 dbt runs)."""

    def make(base: Path) -> dict[str, ScenarioRun]:
        out = {}
        for name, fn in SCENARIOS.items():
            tape, d, priors = fn()
            root = base / name
            tape.write(root / "bronze")
            out[name] = ScenarioRun(tape, d, priors, build(d, root / "bronze", root / "gold", root / "work"))
        return out

    return shared(tmp_path_factory, "hand_built", make)


OVERNIGHT_ONLY_DATE = "2025-12-17"


def random_runs(tmp_path_factory) -> dict:
    """Bronze of ``random_day`` plus a session (2025-12-17) with overnight prints and a few prints after
    15:45 only (it has Bronze, but no bar early enough for a label window, so zero events), and the
    full build of 2025-12-16 into a Gold root shared by the Gold-file tests."""

    def make(base: Path) -> dict:
        tape, d, priors = random_day()
        late = Tape()
        late.every(et(OVERNIGHT_ONLY_DATE, "18:30"), et(OVERNIGHT_ONLY_DATE, "02:00"), 10 * MIN, lambda i: 6000.0)
        late.every(et(OVERNIGHT_ONLY_DATE, "15:50"), et(OVERNIGHT_ONLY_DATE, "15:58"), MIN, lambda i: 6000.0)
        tape.write(base / "bronze")
        late.write(base / "bronze", "late.parquet")
        full = build(d, base / "bronze", base / "gold", base / "full")
        return {
            "tape": tape,
            "date": d,
            "priors": priors,
            "bronze": base / "bronze",
            "full": full,
            "base": base,
            "gold_bytes": full.gold_file.read_bytes() if full.returncode == 0 else None,
        }

    return shared(tmp_path_factory, "random", make)


def cut_runs(tmp_path_factory, cuts: list[int]) -> dict[int, Build]:
    """Builds of ``random_day``'s Bronze truncated at each cut (ts >= cut removed), one per cut."""
    rnd = random_runs(tmp_path_factory)

    def make(base: Path) -> dict[int, Build]:
        out = {}
        for cut in cuts:
            root = base / f"cut-{cut}"
            truncate_bronze(rnd["bronze"], root / "bronze", cut)
            out[cut] = build(rnd["date"], root / "bronze", root / "gold", root / "work")
        return out

    return shared(tmp_path_factory, "cuts-" + "-".join(str(c) for c in cuts), make)
