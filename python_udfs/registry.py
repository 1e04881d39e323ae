"""Declare the physics maths as vectorised (Arrow) DuckDB scalar UDFs.

Each UDF wraps a plain numpy function of this package. DuckDB hands the function Arrow arrays of up to 2048
rows; the wrapper converts them to numpy, calls the numpy function once per chunk and returns an Arrow array.

SQL signatures (all ``DOUBLE`` unless stated; ``*_ns`` are ``BIGINT`` epoch nanoseconds):

=================================================================================  ============================
``bb_bs_gamma(spot, strike, t_years, vol, rate)``                                   DOUBLE  (per $1, per share)
``bb_implied_vol_raw(price, spot, strike, t_years, rate, is_call BOOLEAN)``         DOUBLE  (NULL if unsolvable)
``bb_barrier_state(added, canceled, filled, depth, n_snapshots, scale_size_sum,
scale_level_count BIGINT..., then 7 DOUBLE thresholds)``                            VARCHAR
``bb_fuel_effect(exposure_e9, n_scale_marks, scale_lo_e9, scale_hi_e9 BIGINT,
multiplier DOUBLE, min_marks BIGINT)``                                               VARCHAR
``bb_dealer_gamma(position, spot, strike, t_years, iv, rate)``                      DOUBLE  (share-gamma)
=================================================================================  ============================

NULL handling: a NULL in any argument gives NULL. DOUBLE results are also NULL where the numpy function
returns NaN (invalid inputs such as spot ≤ 0, or an unsolvable implied vol for ``bb_implied_vol_raw``), so
SQL aggregates skip them instead of turning into NaN. Integer arguments are implicitly cast to DOUBLE by DuckDB.
All functions are deterministic (``side_effects=False``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa

from python_udfs import barrier, black_scholes, fuel

__all__ = ["register_all", "UDF_NAMES"]

_T = duckdb.sqltypes
_KINDS = {
    "double": (_T.DOUBLE, pa.float64(), 0.0, np.float64),
    "bigint": (_T.BIGINT, pa.int64(), 0, np.int64),
    "boolean": (_T.BOOLEAN, pa.bool_(), False, np.bool_),
    "varchar": (_T.VARCHAR, pa.string(), None, None),
}


def _bits(buf: pa.Buffer, offset: int, n: int) -> np.ndarray:
    """An Arrow bitmap (validity or boolean values) as a numpy bool array of length n."""
    return np.unpackbits(np.frombuffer(buf, dtype=np.uint8), count=offset + n, bitorder="little")[offset:].astype(bool)


def _to_numpy(col, kind: str):
    """Arrow (Chunked)Array → (numpy values with NULLs filled by a neutral value, NULL mask or None).

    Reads the Arrow buffers directly: pyarrow.compute costs ~0.4 s to load on first use, more than
    a small day's whole UDF work.
    """
    _, pa_type, fill, np_type = _KINDS[kind]
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if col.type != pa_type:
        col = col.cast(pa_type)  # not reached from SQL: DuckDB casts arguments to the declared types
    n, offset = len(col), col.offset
    validity, data = col.buffers()[:2]
    if pa_type == pa.bool_():
        values = _bits(data, offset, n) if n else np.zeros(0, dtype=bool)
    else:
        values = np.frombuffer(data, dtype=np_type, count=offset + n)[offset:] if n else np.zeros(0, dtype=np_type)
    mask = None
    if col.null_count:
        mask = ~_bits(validity, offset, n)
        values = np.where(mask, np.asarray(fill, dtype=np_type), values)
    return values, mask


# Results are built from buffers: pa.array() imports pandas (~0.3 s) on first use when it is installed.


def _validity(mask: np.ndarray | None) -> pa.Buffer | None:
    return None if mask is None else pa.py_buffer(np.packbits(~mask, bitorder="little"))


def _string_array(values: np.ndarray, mask: np.ndarray | None) -> pa.Array:
    """A string Arrow array of ``values`` (str objects; few distinct labels), NULL where ``mask``."""
    labels, codes = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
    encoded = [label.encode() for label in labels]
    lengths = np.array([len(e) for e in encoded], dtype=np.int32)[codes]
    if mask is not None:
        lengths[mask] = 0
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    pieces = np.array(encoded, dtype=object)[codes]
    if mask is not None:
        pieces[mask] = b""
    data = b"".join(pieces.tolist())
    return pa.Array.from_buffers(
        pa.string(),
        len(values),
        [_validity(mask), pa.py_buffer(offsets), pa.py_buffer(data)],
        null_count=0 if mask is None else int(mask.sum()),
    )


def _arrow_udf(fn: Callable, in_kinds: tuple[str, ...], out_kind: str, nan_is_null: bool) -> Callable:
    out_pa_type = _KINDS[out_kind][1]

    def udf(*cols):
        n = len(cols[0])
        values, mask = [], None
        for col, kind in zip(cols, in_kinds):
            v, m = _to_numpy(col, kind)
            values.append(v)
            if m is not None:
                mask = m if mask is None else (mask | m)
        if mask is not None and mask.all():
            return pa.nulls(n, type=out_pa_type)
        out = np.broadcast_to(fn(*values), (n,))
        if out_kind == "varchar":
            return _string_array(out, mask)
        out = np.ascontiguousarray(out, dtype=np.float64)
        if nan_is_null:
            nan = np.isnan(out)
            if nan.any():
                mask = nan if mask is None else (mask | nan)
        return pa.Array.from_buffers(
            pa.float64(), n, [_validity(mask), pa.py_buffer(out)], null_count=0 if mask is None else int(mask.sum())
        )

    udf.__name__ = f"arrow_{fn.__name__}"
    udf.__doc__ = fn.__doc__
    # DuckDB checks the declared parameter count against the Python signature: expose a fixed arity.
    udf.__signature__ = inspect.Signature(
        [inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(len(in_kinds))]
    )
    return udf


_D = "double"
# name → (numpy function, argument kinds, result kind, NaN result → NULL)
_SPECS: dict[str, tuple[Callable, tuple[str, ...], str, bool]] = {
    "bb_bs_gamma": (black_scholes.bs_gamma, (_D, _D, _D, _D, _D), _D, True),
    "bb_implied_vol_raw": (black_scholes.implied_vol_raw, (_D, _D, _D, _D, _D, "boolean"), _D, True),
    "bb_barrier_state": (barrier.barrier_state, ("bigint",) * 7 + (_D,) * 7, "varchar", False),
    "bb_fuel_effect": (fuel.fuel_effect, ("bigint",) * 4 + (_D, "bigint"), "varchar", False),
    "bb_dealer_gamma": (fuel.dealer_gamma, (_D, _D, _D, _D, _D, _D), _D, True),
}

UDF_NAMES: tuple[str, ...] = tuple(_SPECS)


def register_all(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Declare every ``bb_*`` UDF on ``con``; idempotent (an existing function of the same name is replaced)."""
    for name, (fn, in_kinds, out_kind, nan_is_null) in _SPECS.items():
        try:
            con.remove_function(name)
        except (duckdb.InvalidInputException, duckdb.CatalogException):
            pass
        con.create_function(
            name,
            _arrow_udf(fn, in_kinds, out_kind, nan_is_null),
            parameters=[_KINDS[k][0] for k in in_kinds],
            return_type=_KINDS[out_kind][0],
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
    return con
