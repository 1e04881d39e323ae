"""The Bronze contract (SPEC §2): table layouts, Arrow schemas and an atomic, partitioned writer.

Both writers of Bronze — the synthetic generator and the Databento ingester — go through this
module, so the files they produce are indistinguishable to the staging models. The root may be a
local folder or an object-store URL (``s3://bucket/prefix``, breakbounce/storage.py); every file is
written whole (:func:`atomic_write_parquet`).

Layout (``date=``/``hour=`` are the UTC date and hour of ``ts_event_ns``)::

    futures/trades/symbol=ES/date=YYYY-MM-DD/hour=HH/<name>.parquet
    futures/mbp10/symbol=ES/date=YYYY-MM-DD/hour=HH/<name>.parquet
    options/trades/underlying=SPY/date=YYYY-MM-DD/<name>.parquet   (date = trading date, 0DTE only)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from breakbounce import storage

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

    # the same folders as strings, for a local root or an object-store URL (breakbounce/storage.py)
    def table_location(self, root: str | os.PathLike) -> str:
        return storage.join(root, *self.subdir.split("/"))

    def date_location(self, root: str | os.PathLike, date: str) -> str:
        return storage.join(self.table_location(root), f"date={date}")

    def hour_location(self, root: str | os.PathLike, date: str, hour: int) -> str:
        return storage.join(self.date_location(root, date), f"hour={hour:02d}")


FUTURES_TRADES = BronzeTable("futures_trades", "futures/trades/symbol=ES", FUTURES_TRADES_SCHEMA, True)
FUTURES_MBP10 = BronzeTable("futures_mbp10", "futures/mbp10/symbol=ES", MBP10_SCHEMA, True)
OPTION_TRADES = BronzeTable("option_trades", "options/trades/underlying=SPY", OPTION_TRADES_SCHEMA, False)
TABLES = {t.name: t for t in (FUTURES_TRADES, FUTURES_MBP10, OPTION_TRADES)}


def utc_date_str(ts_ns: int) -> str:
    return str(np.datetime64(int(ts_ns), "ns").astype("datetime64[D]"))


def atomic_write_parquet(table: pa.Table, path: str | os.PathLike, compression_level: int = 3) -> None:
    """Write ``table`` to ``path`` (a local path or an object URL) whole: via a temp file in the same
    directory and a rename, or one upload (:func:`breakbounce.storage.write_atomic`).

    A reader never sees a partial file, and an interrupted write leaves any previous file intact.
    """
    storage.write_atomic(
        path,
        lambda tmp: pq.write_table(
            table,
            tmp,
            compression="zstd",
            compression_level=compression_level,
            row_group_size=1_000_000,
            # dictionary-encode the low-cardinality strings only: on numeric book columns it costs
            # about a third of the encoding time and makes the files larger
            use_dictionary=[f.name for f in table.schema if pa.types.is_string(f.type)],
        ),
    )


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
) -> list[str]:
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
    written: list[str] = []
    if not spec.hourly:
        if trading_date is None:
            raise ValueError("option trades need the trading date for their partition")
        path = storage.join(spec.date_location(bronze_root, trading_date), file_name)
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
        path = storage.join(spec.hour_location(bronze_root, date, h % 24), file_name)
        atomic_write_parquet(table.slice(s, e - s), path)
        written.append(path)
    return written


def write_quiet_hours(
    root: str | os.PathLike, spec: BronzeTable, start_ns: int, end_ns: int, file_name: str
) -> list[str]:
    """Attest the UTC hours of [start_ns, end_ns) that hold no record: a zero-row file (contract
    schema) named ``file_name`` in each hour partition without a parquet file; return those written.

    A producer that covered a span calls this for it, so that a quiet hour (a file with no rows) is
    told apart from a missing one (no file), which a run refuses as a gap (SPEC §12).
    """
    written = []
    root = storage.absolute(root)
    hours = range(start_ns // NS_PER_HOUR, (end_ns - 1) // NS_PER_HOUR + 1)
    listed: dict[str, dict] = {}  # one listing per date folder
    for h in hours:
        date = utc_date_str(h * NS_PER_HOUR)
        if date not in listed:
            listed[date] = storage.find(spec.date_location(root, date))
        d = spec.hour_location(root, date, h % 24)
        prefix = storage.join(d, "")
        if not any(
            p.startswith(prefix) and p.endswith(".parquet") and "/" not in p[len(prefix) :] for p in listed[date]
        ):
            atomic_write_parquet(spec.schema.empty_table(), storage.join(d, file_name))
            written.append(storage.join(d, file_name))
    return written


def option_symbol(trading_date: str, right: str, strike: float) -> str:
    """OCC-style ticker used by the earlier pipeline's Bronze, e.g. ``O:SPY251216C00676000``."""
    yymmdd = trading_date[2:4] + trading_date[5:7] + trading_date[8:10]
    return f"O:SPY{yymmdd}{right}{int(round(strike * 1000)):08d}"
