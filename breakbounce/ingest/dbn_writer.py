"""Writing real DBN files (for tests, benchmarks and synthetic vendor-format data).

A DBN file is ``databento_dbn.Metadata(...).encode()`` followed by packed records. Records are
built either as numpy structured arrays with the official layout (``<Msg>._dtypes``: fast, for
millions of records) or as ``databento_dbn`` record objects (``bytes(record)``: for definitions and
symbol mappings). ``.zst`` output is zstd-compressed in a streaming fashion.
"""

from __future__ import annotations

import datetime as dt
import os
import types
from collections.abc import Iterable

import databento_dbn as dbn
import numpy as np
import pyarrow as pa

RECORD_CLASSES = {"trades": dbn.TradeMsg, "mbp-10": dbn.MBP10Msg}
RTYPES = {"trades": 0, "mbp-10": 10}
SCHEMAS = {"trades": dbn.Schema.TRADES, "mbp-10": dbn.Schema.MBP_10, "definition": dbn.Schema.DEFINITION}


def metadata(
    dataset: str,
    schema: str | None,
    start: int,
    end: int | None = None,
    mappings: dict[str, list[tuple[dt.date, dt.date, int]]] | None = None,
    stype_in=dbn.SType.RAW_SYMBOL,
) -> dbn.Metadata:
    """DBN v3 metadata; ``mappings`` = {raw_symbol: [(start_date, end_date_exclusive, instrument_id)]}."""
    maps = [
        types.SimpleNamespace(
            raw_symbol=raw,
            intervals=[types.SimpleNamespace(start_date=s, end_date=e, symbol=str(iid)) for s, e, iid in ivs],
        )
        for raw, ivs in (mappings or {}).items()
    ]
    return dbn.Metadata(
        dataset=dataset,
        start=start,
        end=end,
        stype_in=stype_in,
        stype_out=dbn.SType.INSTRUMENT_ID,
        schema=SCHEMAS[schema] if schema else None,
        symbols=list(mappings or {}),
        mappings=maps,
    )


def empty_records(schema: str, n: int) -> np.ndarray:
    """``n`` zeroed records of ``schema`` with the header (length, rtype) filled in."""
    dtype = np.dtype(RECORD_CLASSES[schema]._dtypes)
    a = np.zeros(n, dtype)
    a["length"] = dtype.itemsize // 4
    a["rtype"] = RTYPES[schema]
    return a


def write_dbn(path: str | os.PathLike, meta: dbn.Metadata, parts: Iterable[np.ndarray | bytes | object]) -> None:
    """Write ``meta`` then each part (a record array, raw bytes or a databento_dbn record object).

    The output is zstd-compressed when ``path`` ends with ``.zst``.
    """
    path = str(path)
    zst = path.endswith(".zst")
    sink = pa.CompressedOutputStream(path, "zstd") if zst else open(path, "wb")
    with sink as out:
        out.write(meta.encode())
        for part in parts:
            out.write(part.tobytes() if isinstance(part, np.ndarray) else bytes(part))
