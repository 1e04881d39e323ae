"""Reader for Databento's own parquet renderings (``DBNStore.to_parquet``).

Two renderings exist and both are accepted, detected from the file's schema:

* float (the default): prices ``double`` with NaN/null for UNDEF, timestamps ``timestamp[ns, UTC]``;
* fixed (``price_type="fixed", pretty_ts=False``): prices int64 at 1e-9, timestamps uint64 ns.

Both carry the ``symbol`` column added by ``map_symbols=True``. The file is read in record batches
(``ParquetFile.iter_batches``), so memory stays bounded; the batches have the same fixed size as on
the DBN path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from breakbounce.ingest.errors import IngestError
from breakbounce.ingest.records import (
    LEVELS,
    SIDE_ASK,
    SIDE_BID,
    SIDE_NONE,
    UNDEF_PRICE,
    UNDEF_TS,
    RecordColumns,
    float_to_fixed,
)

_RTYPE_NAMES = {0: "trades", 1: "mbp-1/tbbo", 10: "mbp-10", 19: "definition", 160: "mbo", 24: "statistics"}


def open_rendering(path: str | os.PathLike) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise IngestError(f"{path}: unreadable parquet file ({str(exc).strip().splitlines()[0]})") from None


def _require(path, schema: pa.Schema, names: list[str]) -> None:
    missing = [n for n in names if n not in schema.names]
    if missing:
        raise IngestError(
            f"{path}: not a Databento parquet rendering of this schema (missing columns: {', '.join(missing)})"
        )


def ts_column(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """int64 ns from a tz-aware timestamp or a uint64 column; null/NaT and u64::MAX -> UNDEF_TS."""
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.timestamp("ns", tz=col.type.tz)).cast(pa.int64())
    else:
        col = col.cast(pa.uint64()).view(pa.int64()) if pa.types.is_unsigned_integer(col.type) else col.cast(pa.int64())
    return col.fill_null(int(UNDEF_TS)).to_numpy()


def price_column(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Fixed-point int64 from a float (NaN/null = UNDEF) or fixed (int64) price column."""
    if pa.types.is_floating(col.type):
        return float_to_fixed(col.cast(pa.float64()).fill_null(np.nan).to_numpy())
    return col.cast(pa.int64()).fill_null(int(UNDEF_PRICE)).to_numpy()


def int_column(col) -> np.ndarray:
    return col.cast(pa.int64()).fill_null(0).to_numpy()


def side_column(col) -> np.ndarray:
    col = col.cast(pa.string())
    out = np.full(len(col), SIDE_NONE, dtype=np.uint8)
    out[pc.fill_null(pc.equal(col, "B"), False).to_numpy(zero_copy_only=False)] = SIDE_BID
    out[pc.fill_null(pc.equal(col, "A"), False).to_numpy(zero_copy_only=False)] = SIDE_ASK
    return out


def iter_rendering(path: str | os.PathLike, rtype: int, batch_records: int) -> Iterator[RecordColumns]:
    """Batches of a trades (rtype 0) or MBP-10 (rtype 10) rendering as ``RecordColumns``."""
    pf = open_rendering(path)
    schema = pf.schema_arrow
    with_levels = rtype == 10
    names = ["ts_event", "ts_recv", "rtype", "publisher_id", "instrument_id", "side", "price", "size", "flags",
             "sequence"]  # fmt: skip
    if with_levels:
        for i in range(LEVELS):
            names += [f"bid_px_{i:02d}", f"bid_sz_{i:02d}", f"ask_px_{i:02d}", f"ask_sz_{i:02d}"]
    _require(path, schema, names)
    if "symbol" in schema.names:
        names.append("symbol")
    try:
        for batch in pf.iter_batches(batch_size=batch_records, columns=names):
            rtypes = pc.unique(batch.column("rtype")).to_pylist()
            bad = [r for r in rtypes if r != rtype]
            if bad:
                found = ", ".join(f"{r} ({_RTYPE_NAMES.get(r, '?')})" for r in bad)
                raise IngestError(f"{path}: holds records of rtype {found}, not {_RTYPE_NAMES[rtype]} (rtype {rtype})")
            cols = RecordColumns(
                ts_event=ts_column(batch.column("ts_event")),
                ts_recv=ts_column(batch.column("ts_recv")),
                instrument_id=int_column(batch.column("instrument_id")),
                publisher_id=int_column(batch.column("publisher_id")),
                side=side_column(batch.column("side")),
                price=price_column(batch.column("price")),
                size=int_column(batch.column("size")),
                flags=batch.column("flags").cast(pa.uint8()).fill_null(0).to_numpy(),
                sequence=int_column(batch.column("sequence")),
                symbol=batch.column("symbol").cast(pa.string()) if "symbol" in batch.schema.names else None,
            )
            if with_levels:
                for i in range(LEVELS):
                    cols.bid_px.append(price_column(batch.column(f"bid_px_{i:02d}")))
                    cols.bid_sz.append(int_column(batch.column(f"bid_sz_{i:02d}")))
                    cols.ask_px.append(price_column(batch.column(f"ask_px_{i:02d}")))
                    cols.ask_sz.append(int_column(batch.column(f"ask_sz_{i:02d}")))
            yield cols
    except (OSError, pa.ArrowException) as exc:
        raise IngestError(f"{path}: corrupt parquet data ({str(exc).strip().splitlines()[0]})") from None
