"""Hand-built ES trade tapes for integration tests: explicit rows, written through the Bronze contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from breakbounce import bronze, calendar

NS = 1_000_000_000


def et_ns(date: str, clock: str) -> int:
    """UTC ns of an America/New_York clock time on a session date (via the calendar seed's 09:30)."""
    s = calendar.session(date)
    h, m, *rest = (int(x) for x in clock.replace(".", ":").split(":"))
    sec = rest[0] if rest else 0
    return s.rth_open_ns + ((h * 60 + m) - (9 * 60 + 30)) * 60 * NS + sec * NS


def trades_table(ts, price, size, seq, symbol="ESH6", aggressor=None) -> pa.Table:
    n = len(ts)
    symbols = [symbol] * n if isinstance(symbol, str) else list(symbol)
    return pa.table(
        {
            "ts_event_ns": pa.array(np.asarray(ts, dtype=np.int64)),
            "ts_recv_ns": pa.array(np.asarray(ts, dtype=np.int64) + 250_000),
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
    return bronze.write_table(table, root, bronze.FUTURES_TRADES, name)


def random_session(date: str, rng: np.random.Generator, n: int = 6000, start_price: float = 6000.0,
                   symbol: str = "ESH6", seq0: int = 0) -> pa.Table:
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
