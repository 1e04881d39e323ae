"""The source-neutral form of a batch of Databento records.

Every reader (DBN, `.dbn.zst`, the float and fixed-point parquet renderings) turns its input into
``RecordColumns``: plain numpy arrays in Databento's own units, so the mappers never care where a
record came from. Prices stay int64 fixed-point (1 unit = 1e-9) with ``UNDEF_PRICE`` for "no
price"; timestamps are int64 ns with ``UNDEF_TS`` (-1, Databento's u64::MAX reinterpreted) for
"undefined". Float renderings are brought back to fixed point exactly (``np.rint(x * 1e9)``), so a
DBN file and its parquet rendering map to byte-identical Bronze.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

#: Databento UNDEF_PRICE (i64::MAX).
UNDEF_PRICE = np.int64(9223372036854775807)
#: Databento UNDEF_TIMESTAMP (u64::MAX) as it reads after a cast to int64.
UNDEF_TS = np.int64(-1)
FIXED_PRICE_SCALE = 1_000_000_000
LEVELS = 10

SIDE_BID = ord("B")  # buy aggressor on a trade
SIDE_ASK = ord("A")  # sell aggressor on a trade
SIDE_NONE = ord("N")

#: Databento record types this package maps.
RTYPE_TRADES = 0
RTYPE_MBP10 = 10
RTYPE_DEFINITION = 19


@dataclass
class RecordColumns:
    """One batch of trade or MBP-10 records, column-wise."""

    ts_event: np.ndarray  # int64 ns
    ts_recv: np.ndarray  # int64 ns, UNDEF_TS when undefined
    instrument_id: np.ndarray  # int64
    publisher_id: np.ndarray  # int64
    side: np.ndarray  # uint8 character code: 'A', 'B' or 'N'
    price: np.ndarray  # int64 fixed 1e-9, UNDEF_PRICE when undefined
    size: np.ndarray  # int64
    flags: np.ndarray  # uint8
    sequence: np.ndarray  # int64
    # MBP-10 only: LEVELS arrays each (level 0 = best), prices fixed-point like ``price``
    bid_px: list[np.ndarray] = field(default_factory=list)
    bid_sz: list[np.ndarray] = field(default_factory=list)
    ask_px: list[np.ndarray] = field(default_factory=list)
    ask_sz: list[np.ndarray] = field(default_factory=list)
    #: the rendering's ``symbol`` column (parquet input only), aligned with the rows
    symbol: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.ts_event)

    def take(self, idx: np.ndarray) -> RecordColumns:
        """The rows at ``idx`` (an index array or boolean mask)."""
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return RecordColumns(
            ts_event=self.ts_event[idx],
            ts_recv=self.ts_recv[idx],
            instrument_id=self.instrument_id[idx],
            publisher_id=self.publisher_id[idx],
            side=self.side[idx],
            price=self.price[idx],
            size=self.size[idx],
            flags=self.flags[idx],
            sequence=self.sequence[idx],
            bid_px=[a[idx] for a in self.bid_px],
            bid_sz=[a[idx] for a in self.bid_sz],
            ask_px=[a[idx] for a in self.ask_px],
            ask_sz=[a[idx] for a in self.ask_sz],
            symbol=None if self.symbol is None else self.symbol.take(pa.array(idx)),
        )

    @property
    def symbology_ts(self) -> np.ndarray:
        """The timestamp that picks a record's symbology interval: ts_recv, or ts_event if undefined."""
        return np.where(self.ts_recv == UNDEF_TS, self.ts_event, self.ts_recv)


def from_dbn_array(arr: np.ndarray, with_levels: bool) -> RecordColumns:
    """Columns of a numpy structured array laid out like the DBN record (databento_dbn ``_dtypes``)."""
    cols = RecordColumns(
        ts_event=arr["ts_event"].astype(np.int64),
        ts_recv=arr["ts_recv"].astype(np.int64),
        instrument_id=arr["instrument_id"].astype(np.int64),
        publisher_id=arr["publisher_id"].astype(np.int64),
        side=arr["side"].view(np.uint8).copy(),
        price=arr["price"].astype(np.int64),
        size=arr["size"].astype(np.int64),
        flags=arr["flags"].astype(np.uint8),
        sequence=arr["sequence"].astype(np.int64),
    )
    if with_levels:
        for i in range(LEVELS):
            cols.bid_px.append(arr[f"bid_px_{i:02d}"].astype(np.int64))
            cols.bid_sz.append(arr[f"bid_sz_{i:02d}"].astype(np.int64))
            cols.ask_px.append(arr[f"ask_px_{i:02d}"].astype(np.int64))
            cols.ask_sz.append(arr[f"ask_sz_{i:02d}"].astype(np.int64))
    return cols


def fixed_to_float(px: np.ndarray) -> np.ndarray:
    """Fixed-point 1e-9 prices as float64 (correctly rounded division; UNDEF is not handled here)."""
    return px.astype(np.float64) / FIXED_PRICE_SCALE


def float_to_fixed(values: np.ndarray) -> np.ndarray:
    """Float prices (NaN = undefined) back to Databento fixed point, exactly for any 1e-9 grid value."""
    values = np.asarray(values, dtype=np.float64)
    undef = ~np.isfinite(values)
    out = np.rint(np.where(undef, 0.0, values) * FIXED_PRICE_SCALE).astype(np.int64)
    out[undef] = UNDEF_PRICE
    return out
