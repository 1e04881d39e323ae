"""Contract symbols for futures records: instrument_id -> 'ESH1'.

Sources, in the order they are tried for each (instrument_id, UTC day of ts_recv):

1. the file's own symbology —
   * DBN metadata ``mappings`` when the file was requested with ``stype_in=raw_symbol``
     (the mapping key is the raw symbol, the interval symbol the instrument id; intervals are
     [start_date, end_date) UTC dates);
   * in-stream ``SymbolMappingMsg`` records (live captures): ``stype_out_symbol``;
   * the ``symbol`` column of a parquet rendering;
   a symbol containing '.' (parent 'ES.FUT', continuous 'ES.c.0') is not a contract and is ignored;
2. ``--definitions`` (``raw_symbol``, see ``definitions.DefinitionBook``).

When both the file and the definitions name a contract and they disagree, the ingest fails. When
neither does, it fails naming the instrument ids. A contract is never replaced by a made-up name.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from breakbounce.bronze import NS_PER_DAY
from breakbounce.ingest.dbn_reader import StreamMapping
from breakbounce.ingest.definitions import DefinitionBook
from breakbounce.ingest.errors import IngestError

_EPOCH = dt.date(1970, 1, 1)
_DAY_BITS = 20  # days since 1970 fit in 20 bits until year 4840


def day_number(d) -> int:
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return (d - _EPOCH).days


def is_contract_symbol(sym: str | None) -> bool:
    return bool(sym) and "." not in sym and not sym.isdigit()


class SymbolResolver:
    def __init__(self, source: str, definitions: DefinitionBook | None = None):
        self.source = source
        self.definitions = definitions
        # instrument_id -> [(start_day, end_day_exclusive, symbol)]
        self._intervals: dict[int, list[tuple[int, int, str]]] = {}
        self._stream: dict[int, str] = {}

    def add_metadata(self, metadata) -> None:
        """Use a DBN Metadata's mappings (only meaningful when stype_in is raw_symbol)."""
        import databento_dbn as dbn

        if metadata is None or metadata.stype_in != dbn.SType.RAW_SYMBOL:
            return
        for raw_symbol, intervals in (metadata.mappings or {}).items():
            for iv in intervals:
                get = iv.get if isinstance(iv, dict) else (lambda k, _iv=iv: getattr(_iv, k))
                target = str(get("symbol"))
                if not target.isdigit() or not is_contract_symbol(raw_symbol):
                    continue
                self._intervals.setdefault(int(target), []).append(
                    (day_number(get("start_date")), day_number(get("end_date")), raw_symbol)
                )

    def add_stream_mappings(self, mappings: list[StreamMapping]) -> None:
        for m in mappings:
            if is_contract_symbol(m.symbol):
                self._stream[m.instrument_id] = m.symbol

    def _from_file(self, iid: int, day: int, file_symbol: str | None) -> str | None:
        for start, end, sym in self._intervals.get(iid, ()):
            if start <= day < end:
                return sym
        if iid in self._stream:
            return self._stream[iid]
        if is_contract_symbol(file_symbol):
            return file_symbol
        return None

    def resolve(self, instrument_id: np.ndarray, ts_ns: np.ndarray, file_symbol: pa.Array | None) -> pa.Array:
        """The contract symbol of every row (a string array), or IngestError."""
        n = len(instrument_id)
        if n == 0:
            return pa.array([], pa.string())
        day = ts_ns // NS_PER_DAY
        key = (instrument_id.astype(np.int64) << _DAY_BITS) | day.astype(np.int64)
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        file_syms = file_symbol.take(pa.array(first)).to_pylist() if file_symbol is not None else [None] * len(uniq)
        names: list[str] = []
        unresolved: list[tuple[int, int]] = []
        for k, fsym in zip(uniq.tolist(), file_syms):
            iid, d = k >> _DAY_BITS, k & ((1 << _DAY_BITS) - 1)
            sym = self._from_file(iid, d, fsym)
            if self.definitions is not None:
                defn = self.definitions.lookup(iid, d)
                if defn is not None:
                    if sym is not None and sym != defn.raw_symbol:
                        raise IngestError(
                            f"{self.source}: instrument_id {iid} is {sym!r} in the file's symbology but "
                            f"{defn.raw_symbol!r} in {defn.source} on {_EPOCH + dt.timedelta(days=d)}"
                        )
                    sym = defn.raw_symbol
            if sym is None:
                unresolved.append((iid, d))
                sym = ""
            names.append(sym)
        if unresolved:
            ids = sorted({iid for iid, _ in unresolved})
            shown = ", ".join(str(i) for i in ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
            day = _EPOCH + dt.timedelta(days=unresolved[0][1])
            hint = (
                "pass the definition file(s) for those dates with --definitions"
                if self.definitions is None or not len(self.definitions)
                else "and the given --definitions do not cover them"
            )
            raise IngestError(
                f"{self.source}: cannot resolve the contract symbol of instrument_id {shown} "
                f"(first on {day}, UTC date of ts_recv): the file's symbology does not name it; {hint}"
            )
        dictionary = pa.array(names, pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(inverse.astype(np.int32)), dictionary).cast(pa.string())
