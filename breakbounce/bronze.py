"""The Bronze contract (SPEC §2): table layouts, Arrow schemas and an atomic, partitioned writer.

Both writers of Bronze — the synthetic generator and the Databento ingester — go through this
module, so the files they produce are indistinguishable to the staging models.

Layout (``date=``/``hour=`` are the UTC date and hour of ``ts_event_ns``)::

    futures/trades/symbol=ES/date=YYYY-MM-DD/hour=HH/<name>.parquet
    futures/mbp10/symbol=ES/date=YYYY-MM-DD/hour=HH/<name>.parquet
    options/trades/underlying=SPY/date=YYYY-MM-DD/<name>.parquet   (date = trading date, 0DTE only)
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

#: Databento's UNDEF_PRICE (i64::MAX) divided by 1e9, as the earlier pipeline stored empty book levels.
EMPTY_LEVEL_PRICE = 9223372036.854776
BOOK_DEPTH = 10
NS_PER_HOUR = 3_600_000_000_000
NS_PER_DAY = 24 * NS_PER_HOUR

FUTURES_TRADES_SCHEMA = pa.schema(
    [
        ("ts_event_ns", pa.int64()),
        ("ts_recv_ns", pa.int64()),
        ("source", pa.string()),
        ("symbol", pa.string()),  # the real contract, e.g. ESH6 (never the partition's "ES")
        ("price", pa.float64()),  # ES index points
        ("size", pa.int64()),
        ("aggressor", pa.int64()),  # +1 buy (lifted ask), -1 sell (hit bid), 0 unknown
        ("exchange", pa.string()),
        ("conditions", pa.list_(pa.int16())),
        ("seq", pa.int64()),
    ]
)


def _mbp10_fields() -> list[tuple[str, pa.DataType]]:
    fields: list[tuple[str, pa.DataType]] = [
        ("ts_event_ns", pa.int64()),
        ("ts_recv_ns", pa.int64()),
        ("source", pa.string()),
        ("symbol", pa.string()),
        ("is_snapshot", pa.bool_()),
        ("seq", pa.int64()),
    ]
    for i in range(1, BOOK_DEPTH + 1):
        fields += [
            (f"bid_px_{i}", pa.float64()),
            (f"bid_sz_{i}", pa.int64()),
            (f"ask_px_{i}", pa.float64()),
            (f"ask_sz_{i}", pa.int64()),
        ]
    return fields


MBP10_SCHEMA = pa.schema(_mbp10_fields())

OPTION_TRADES_SCHEMA = pa.schema(
    [
        ("ts_event_ns", pa.int64()),
        ("ts_recv_ns", pa.int64()),
        ("source", pa.string()),
        ("underlying", pa.string()),
        ("option_symbol", pa.string()),  # O:SPYyymmdd{C|P}{strike*1000:08d}
        ("exp_date", pa.string()),  # 'YYYY-MM-DD'
        ("strike", pa.float64()),  # SPY dollars
        ("right", pa.string()),  # 'C' | 'P'
        ("price", pa.float64()),  # premium, $ per share
        ("size", pa.int64()),
        ("opt_bid", pa.float64()),
        ("opt_ask", pa.float64()),
        ("seq", pa.int64()),
        ("aggressor", pa.int64()),  # +1 / -1, or 0 = unknown (staging applies the tick rule)
    ]
)


@dataclass(frozen=True)
class BronzeTable:
    """One Bronze table: where it lives and what its files hold."""

    name: str
    subdir: str  # relative to the Bronze root, up to and including the constant partition key
    schema: pa.Schema
    hourly: bool  # futures tables have an hour=HH level; options are partitioned by trading date only

    def date_dir(self, root: str | os.PathLike, date: str) -> Path:
        return Path(root) / self.subdir / f"date={date}"

    def hour_dir(self, root: str | os.PathLike, date: str, hour: int) -> Path:
        return self.date_dir(root, date) / f"hour={hour:02d}"


FUTURES_TRADES = BronzeTable("futures_trades", "futures/trades/symbol=ES", FUTURES_TRADES_SCHEMA, True)
FUTURES_MBP10 = BronzeTable("futures_mbp10", "futures/mbp10/symbol=ES", MBP10_SCHEMA, True)
OPTION_TRADES = BronzeTable("option_trades", "options/trades/underlying=SPY", OPTION_TRADES_SCHEMA, False)
TABLES = {t.name: t for t in (FUTURES_TRADES, FUTURES_MBP10, OPTION_TRADES)}


def utc_date_str(ts_ns: int) -> str:
    return str(np.datetime64(int(ts_ns), "ns").astype("datetime64[D]"))


def atomic_write_parquet(table: pa.Table, path: str | os.PathLike, compression_level: int = 3) -> None:
    """Write ``table`` to ``path`` via a temp file in the same directory and a rename.

    A reader never sees a partial file, and an interrupted write leaves any previous file intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            compression_level=compression_level,
            row_group_size=1_000_000,
            # dictionary-encode the low-cardinality strings only: on numeric book columns it costs
            # about a third of the encoding time and makes the files larger
            use_dictionary=[f.name for f in table.schema if pa.types.is_string(f.type)],
        )
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _sort_indices(table: pa.Table) -> np.ndarray:
    ts = table.column("ts_event_ns").to_numpy()
    seq = table.column("seq").to_numpy(zero_copy_only=False)
    return np.lexsort((seq, ts))


def write_table(
    table: pa.Table,
    bronze_root: str | os.PathLike,
    spec: BronzeTable,
    file_name: str,
    trading_date: str | None = None,
) -> list[Path]:
    """Write rows of ``spec`` into their partitions under ``bronze_root``; return the files written.

    Futures rows are split by the UTC date and hour of ``ts_event_ns``; option rows go to
    ``date=<trading_date>`` (required for options). Each file is sorted by (ts_event_ns, seq) and
    written atomically as ``file_name``, replacing a file of that name (re-writes are idempotent).
    """
    table = table.select(spec.schema.names).cast(spec.schema)
    if table.num_rows == 0:
        return []
    order = _sort_indices(table)
    if not np.array_equal(order, np.arange(len(order))):  # skip the copy when already sorted
        table = table.take(pa.array(order))
    written: list[Path] = []
    if not spec.hourly:
        if trading_date is None:
            raise ValueError("option trades need the trading date for their partition")
        path = spec.date_dir(bronze_root, trading_date) / file_name
        atomic_write_parquet(table, path)
        return [path]
    ts = table.column("ts_event_ns").to_numpy()
    hour_key = ts // NS_PER_HOUR  # sorted, so each hour is one contiguous slice
    bounds = np.flatnonzero(np.diff(hour_key)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(ts)]])
    for s, e in zip(starts, ends):
        h = int(hour_key[s])
        date = utc_date_str(h * NS_PER_HOUR)
        path = spec.hour_dir(bronze_root, date, h % 24) / file_name
        atomic_write_parquet(table.slice(s, e - s), path)
        written.append(path)
    return written


def write_quiet_hours(root: str | os.PathLike, spec: BronzeTable, start_ns: int, end_ns: int,
                      file_name: str) -> list[Path]:
    """Attest the UTC hours of [start_ns, end_ns) that hold no record: a zero-row file (contract
    schema) named ``file_name`` in each hour partition without a parquet file; return those written.

    A producer that covered a span calls this for it, so that a quiet hour (a file with no rows) is
    told apart from a missing one (no file), which a run refuses as a gap (SPEC §12).
    """
    written = []
    for h in range(start_ns // NS_PER_HOUR, (end_ns - 1) // NS_PER_HOUR + 1):
        d = spec.hour_dir(root, utc_date_str(h * NS_PER_HOUR), h % 24)
        if not (d.is_dir() and any(p.is_file() for p in d.glob("*.parquet"))):
            atomic_write_parquet(spec.schema.empty_table(), d / file_name)
            written.append(d / file_name)
    return written


def option_symbol(trading_date: str, right: str, strike: float) -> str:
    """OCC-style ticker used by the earlier pipeline's Bronze, e.g. ``O:SPY251216C00676000``."""
    yymmdd = trading_date[2:4] + trading_date[5:7] + trading_date[8:10]
    return f"O:SPY{yymmdd}{right}{int(round(strike * 1000)):08d}"
