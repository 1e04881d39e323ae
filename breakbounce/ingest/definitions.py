"""Instrument definitions (Databento ``definition`` schema, rtype 19): instrument_id -> contract.

Loaded from DBN/``.dbn.zst`` files (any DBN version; upgraded to v3 by the decoder) or from their
parquet renderings (float or fixed). Records of other types in the same file (e.g. a mixed live
capture) are ignored.

Instrument ids are only unique per day (OPRA reassigns them daily), so a definition is keyed by
(instrument_id, UTC day of its ts_recv). A record looks up the definition of its own UTC day (of
its ts_recv); when there is none, it falls back to the other days' definitions of that id if they
all describe the same contract (CME ids are stable across days), else the id is unresolved.
Within one (id, day) the last definition in file order wins (later updates override).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from breakbounce.bronze import NS_PER_DAY
from breakbounce.ingest import dbn_reader, parquet_reader
from breakbounce.ingest.errors import IngestError
from breakbounce.ingest.records import RTYPE_DEFINITION, UNDEF_PRICE, UNDEF_TS

UNDEF_EXPIRATION = -1  # u64::MAX as int64


@dataclass(frozen=True)
class Definition:
    instrument_id: int
    day: int  # UTC day number (days since 1970-01-01) of the definition's ts_recv
    raw_symbol: str  # e.g. 'ESH1', or OCC 'SPY   250305C00580000'
    instrument_class: str  # 'F' future, 'C' call, 'P' put, ...
    strike_price: int  # fixed-point 1e-9, UNDEF_PRICE when not an option
    expiration: int  # ns UTC, UNDEF_EXPIRATION when undefined
    underlying: str  # e.g. 'SPY' (OPRA), '' for most futures
    source: str  # the file it came from (for messages)

    def contract_key(self) -> tuple:
        return (self.raw_symbol, self.instrument_class, self.strike_price, self.expiration, self.underlying)


class DefinitionBook:
    """All definitions given with ``--definitions``."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[int, int], Definition] = {}
        self._days: dict[int, list[int]] = {}
        self.files: list[str] = []

    def __len__(self) -> int:
        return len(self._by_key)

    def add(self, d: Definition) -> None:
        key = (d.instrument_id, d.day)
        if key not in self._by_key:
            self._days.setdefault(d.instrument_id, []).append(d.day)
        self._by_key[key] = d

    def lookup(self, instrument_id: int, day: int) -> Definition | None:
        d = self._by_key.get((instrument_id, day))
        if d is not None:
            return d
        days = self._days.get(instrument_id)
        if not days:
            return None
        candidates = [self._by_key[(instrument_id, x)] for x in days]
        if len({c.contract_key() for c in candidates}) == 1:
            return candidates[-1]
        return None  # the id meant different contracts on other days: ambiguous

    def load(self, path: str | os.PathLike) -> int:
        """Add every definition record of ``path``; returns how many were read."""
        path = str(path)
        fmt = dbn_reader.sniff_format(path)
        n = self._load_parquet(path) if fmt == "parquet" else self._load_dbn(path)
        if n == 0:
            raise IngestError(f"{path}: no instrument definition records (rtype 19) in this file")
        self.files.append(path)
        return n

    def _load_dbn(self, path: str) -> int:
        _, records = dbn_reader.decode_all(path)
        n = 0
        for r in records:
            if int(getattr(r, "rtype", -1)) != RTYPE_DEFINITION:
                continue
            ts = int(r.ts_recv)
            ts = int(r.ts_event) if ts >= 2**63 else ts
            self.add(
                Definition(
                    instrument_id=int(r.instrument_id),
                    day=ts // NS_PER_DAY,
                    raw_symbol=str(r.raw_symbol),
                    instrument_class=_char(r.instrument_class),
                    strike_price=int(r.strike_price),
                    expiration=_ts(int(r.expiration)),
                    underlying=str(r.underlying).strip(),
                    source=path,
                )
            )
            n += 1
        return n

    def _load_parquet(self, path: str) -> int:
        pf = parquet_reader.open_rendering(path)
        names = ["ts_event", "ts_recv", "rtype", "instrument_id", "raw_symbol", "instrument_class",
                 "strike_price", "expiration", "underlying"]  # fmt: skip
        parquet_reader._require(path, pf.schema_arrow, names)
        n = 0
        try:
            batches = list(pf.iter_batches(batch_size=100_000, columns=names))
        except (OSError, pa.ArrowException) as exc:
            raise IngestError(f"{path}: corrupt parquet data ({str(exc).strip().splitlines()[0]})") from None
        for batch in batches:
            batch = batch.filter(pc.equal(batch.column("rtype"), RTYPE_DEFINITION))
            if batch.num_rows == 0:
                continue
            ts = parquet_reader.ts_column(batch.column("ts_recv"))
            ts_ev = parquet_reader.ts_column(batch.column("ts_event"))
            ts = np.where(ts == UNDEF_TS, ts_ev, ts)
            strike = parquet_reader.price_column(batch.column("strike_price"))
            expiration = parquet_reader.ts_column(batch.column("expiration"))
            ids = parquet_reader.int_column(batch.column("instrument_id"))
            raw = batch.column("raw_symbol").cast(pa.string()).to_pylist()
            klass = batch.column("instrument_class").cast(pa.string()).to_pylist()
            und = batch.column("underlying").cast(pa.string()).to_pylist()
            for i in range(batch.num_rows):
                self.add(
                    Definition(
                        instrument_id=int(ids[i]),
                        day=int(ts[i]) // NS_PER_DAY,
                        raw_symbol=raw[i] or "",
                        instrument_class=(klass[i] or "").strip()[:1],
                        strike_price=int(strike[i]),
                        expiration=int(expiration[i]),
                        underlying=(und[i] or "").strip(),
                        source=path,
                    )
                )
                n += 1
        return n


def _char(value) -> str:
    """A DBN char field (plain str or an enum such as InstrumentClass) as a 1-character string."""
    v = getattr(value, "value", value)
    if isinstance(v, int):
        return chr(v) if v else ""
    return str(v).strip()[:1]


def _ts(value: int) -> int:
    return UNDEF_EXPIRATION if value >= 2**63 else value


def is_undefined_price(value: int) -> bool:
    return value == int(UNDEF_PRICE)
