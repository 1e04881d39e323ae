"""Independent reference computations (numpy / pyarrow, no SQL) that the models are checked against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from breakbounce import bronze, calendar

NS = 1_000_000_000
RATIO = 10.0


def read_es_trades(root: Path, dates: list[str]) -> pa.Table:
    """Every Bronze ES trades file of the given UTC dates, read with pyarrow (not DuckDB)."""
    files = [p for d in dates for p in sorted(bronze.FUTURES_TRADES.date_dir(root, d).rglob("*.parquet"))]
    return pa.concat_tables([pq.read_table(f, schema=bronze.FUTURES_TRADES_SCHEMA) for f in files])


def front_month_tape(tables: list[pa.Table] | pa.Table, date: str) -> dict[str, np.ndarray]:
    """Distinct front-month prints of one session's Globex day in (ts, seq) order (exact ties: a buy
    sweep's fills by rising price, a sell sweep's by falling price).

    Front month (SPEC §3, rule 1) = the contract with the largest volume over distinct prints in
    [Globex open, 09:30 ET); a session without a unique leader there is not supported here.
    """
    s = calendar.session(date)
    t = pa.concat_tables(tables) if isinstance(tables, list) else tables
    names = ("ts_event_ns", "ts_recv_ns", "seq", "price", "size", "symbol", "aggressor")
    cols = {c: t.column(c).to_numpy(zero_copy_only=False) for c in names}
    keep = (cols["ts_event_ns"] >= s.globex_open_ns) & (cols["ts_event_ns"] < s.globex_close_ns)
    rows = sorted(set(zip(*(cols[c][keep].tolist() for c in names))))
    arr = {c: np.array([r[i] for r in rows]) for i, c in enumerate(names)}
    pre_open = arr["ts_event_ns"] < s.rth_open_ns
    vol: dict[str, int] = {}
    for sym, size in zip(arr["symbol"][pre_open].tolist(), arr["size"][pre_open].tolist()):
        vol[sym] = vol.get(sym, 0) + size
    ranked = sorted(vol.values(), reverse=True)
    if not ranked or (len(ranked) > 1 and ranked[0] == ranked[1]):
        raise ValueError(f"{date}: no unique pre-open volume leader")
    front = max(vol, key=vol.get)
    m = arr["symbol"] == front
    # (ts, seq); prints sharing both are one sweep: a buy's fills go up in price, a sell's down
    price, side = arr["price"][m], arr["aggressor"][m]
    order = np.lexsort((price, side * price, arr["seq"][m], arr["ts_event_ns"][m]))
    return {c: arr[c][m][order] for c in ("ts_event_ns", "seq", "price", "size")}


def bars(tape: dict[str, np.ndarray], width_s: int) -> list[tuple]:
    """(bar_start_ns, open, high, low, close, volume, trade_count), SPY frame, empty bars absent."""
    key = tape["ts_event_ns"] // (width_s * NS)
    out = []
    bounds = np.flatnonzero(np.diff(key)) + 1
    for idx in np.split(np.arange(len(key)), bounds):
        p = tape["price"][idx]
        out.append(
            (
                int(key[idx[0]] * width_s * NS),
                p[0] / RATIO,
                p.max() / RATIO,
                p.min() / RATIO,
                p[-1] / RATIO,
                int(tape["size"][idx].sum()),
                len(idx),
            )
        )
    return out


def atr(tape: dict[str, np.ndarray], n_bars: int = 14) -> list[float]:
    """14-bar mean true range through each 1-min bar (first bar: high - low), exact integer sums."""
    key = tape["ts_event_ns"] // (60 * NS)
    e9 = np.round(tape["price"] * 1e9).astype(np.int64)
    bounds = np.flatnonzero(np.diff(key)) + 1
    highs, lows, closes = [], [], []
    for idx in np.split(np.arange(len(key)), bounds):
        highs.append(int(e9[idx].max()))
        lows.append(int(e9[idx].min()))
        closes.append(int(e9[idx][-1]))
    trs = [highs[0] - lows[0]] + [
        max(highs[i] - lows[i], abs(highs[i] - closes[i - 1]), abs(lows[i] - closes[i - 1]))
        for i in range(1, len(highs))
    ]
    return [
        sum(trs[max(0, i - n_bars + 1) : i + 1]) / len(trs[max(0, i - n_bars + 1) : i + 1]) / 1e9 / RATIO
        for i in range(len(trs))
    ]
