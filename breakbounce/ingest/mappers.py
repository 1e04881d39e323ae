"""Databento records (``RecordColumns``) -> Bronze Arrow tables (``breakbounce.bronze`` schemas).

Mapping (see docs/ingest.md for the full table):

* prices: fixed-point int64 / 1e9 -> float64 (correctly rounded);
* trades with an undefined price (UNDEF_PRICE) are dropped and counted, as are records with an
  undefined ts_event (they cannot be partitioned);
* MBP-10 levels with an undefined price are empty: (EMPTY_LEVEL_PRICE, size 0) per the contract;
* ``side`` -> ``aggressor``: 'B' (buy aggressor, lifted the ask) +1, 'A' (sell aggressor) -1, else 0;
* ``is_snapshot`` = the F_SNAPSHOT flag bit (32);
* ``seq`` = the venue ``sequence``; ``ts_recv_ns`` is null when Databento's ts_recv is undefined;
* options: the trading date is the America/New_York date of ts_event; contract fields come from the
  definition (strike_price, instrument_class C/P, expiration's UTC date, underlying).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from breakbounce.bronze import (
    BOOK_DEPTH,
    EMPTY_LEVEL_PRICE,
    FUTURES_TRADES_SCHEMA,
    MBP10_SCHEMA,
    NS_PER_DAY,
    NS_PER_HOUR,
    OPTION_TRADES_SCHEMA,
)
from breakbounce.ingest.definitions import UNDEF_EXPIRATION, Definition, DefinitionBook
from breakbounce.ingest.errors import IngestError
from breakbounce.ingest.records import (
    SIDE_ASK,
    SIDE_BID,
    UNDEF_PRICE,
    UNDEF_TS,
    RecordColumns,
    fixed_to_float,
)
from breakbounce.ingest.symbology import SymbolResolver

SOURCE = "databento"
F_SNAPSHOT = 32
NEW_YORK = ZoneInfo("America/New_York")
#: Databento publisher_id -> Bronze ``exchange``. GLBX.MDP3 (CME Globex) is publisher 1.
PUBLISHER_EXCHANGE = {1: "CME"}
_MONTH_CODES = "FGHJKMNQUVXZ"


@dataclass
class MapStats:
    """Per-file counts of what the mappers kept and dropped."""

    rows: int = 0
    dropped: Counter = field(default_factory=Counter)  # reason -> rows
    other_symbols: Counter = field(default_factory=Counter)  # futures: contract -> rows dropped
    other_underlyings: Counter = field(default_factory=Counter)  # options: underlying -> rows dropped
    expirations_dropped: Counter = field(default_factory=Counter)  # options: exp_date -> rows dropped
    trading_dates: Counter = field(default_factory=Counter)  # options: trading date -> rows kept


def outright_pattern(root: str) -> re.Pattern:
    """Outright futures of ``root``: 'ESH1', 'ESZ24' (not spreads like 'ESH1-ESM1', not 'MESH1')."""
    return re.compile(rf"^{re.escape(root)}[{_MONTH_CODES}]\d{{1,2}}$")


# -- small Arrow helpers -------------------------------------------------------------------------


def _const_str(value: str, n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([value])).cast(pa.string())


def _mapped_str(keys: np.ndarray, mapping) -> pa.Array:
    """Strings for integer ``keys`` via ``mapping(key) -> str`` evaluated once per distinct key."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    dictionary = pa.array([mapping(int(k)) for k in uniq], pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(inverse.astype(np.int32)), dictionary).cast(pa.string())


def _ts_recv(cols: RecordColumns) -> pa.Array:
    undef = cols.ts_recv == UNDEF_TS
    return pa.array(cols.ts_recv, pa.int64(), mask=undef if undef.any() else None)


def _aggressor(side: np.ndarray) -> np.ndarray:
    out = np.zeros(len(side), np.int64)
    out[side == SIDE_BID] = 1
    out[side == SIDE_ASK] = -1
    return out


def exchange_of(publisher_id: int) -> str:
    return PUBLISHER_EXCHANGE.get(publisher_id, f"publisher_{publisher_id}")


def _drop(cols: RecordColumns, bad: np.ndarray, reason: str, stats: MapStats) -> RecordColumns:
    n = int(bad.sum())
    if n:
        stats.dropped[reason] += n
        cols = cols.take(~bad)
    return cols


# -- futures -------------------------------------------------------------------------------------


def _futures_common(
    cols: RecordColumns, resolver: SymbolResolver, pattern: re.Pattern, stats: MapStats, trades: bool
) -> tuple[RecordColumns, pa.Array]:
    cols = _drop(cols, cols.ts_event < 0, "undefined ts_event", stats)
    if trades:
        cols = _drop(cols, cols.price == UNDEF_PRICE, "undefined trade price", stats)
    symbols = resolver.resolve(cols.instrument_id, cols.symbology_ts, cols.symbol)
    others = [s for s in pc.unique(symbols).to_pylist() if not pattern.match(s)]
    if others:
        bad = pc.is_in(symbols, value_set=pa.array(others, pa.string())).to_numpy(zero_copy_only=False)
        for item in pc.value_counts(symbols.filter(pa.array(bad))).to_pylist():
            stats.other_symbols[item["values"]] += item["counts"]
        cols = _drop(cols, bad, "not an outright of the product", stats)
        symbols = symbols.filter(pa.array(~bad))
    return cols, symbols


def futures_trades_table(
    cols: RecordColumns, resolver: SymbolResolver, pattern: re.Pattern, stats: MapStats
) -> pa.Table:
    cols, symbols = _futures_common(cols, resolver, pattern, stats, trades=True)
    n = len(cols)
    stats.rows += n
    return pa.table(
        {
            "ts_event_ns": pa.array(cols.ts_event, pa.int64()),
            "ts_recv_ns": _ts_recv(cols),
            "source": _const_str(SOURCE, n),
            "symbol": symbols,
            "price": pa.array(fixed_to_float(cols.price), pa.float64()),
            "size": pa.array(cols.size, pa.int64()),
            "aggressor": pa.array(_aggressor(cols.side), pa.int64()),
            "exchange": _mapped_str(cols.publisher_id, exchange_of),
            "conditions": pa.nulls(n, pa.list_(pa.int16())),
            "seq": pa.array(cols.sequence, pa.int64()),
        },
        schema=FUTURES_TRADES_SCHEMA,
    )


def mbp10_table(cols: RecordColumns, resolver: SymbolResolver, pattern: re.Pattern, stats: MapStats) -> pa.Table:
    cols, symbols = _futures_common(cols, resolver, pattern, stats, trades=False)
    n = len(cols)
    stats.rows += n
    data: dict[str, pa.Array] = {
        "ts_event_ns": pa.array(cols.ts_event, pa.int64()),
        "ts_recv_ns": _ts_recv(cols),
        "source": _const_str(SOURCE, n),
        "symbol": symbols,
        "is_snapshot": pa.array((cols.flags & F_SNAPSHOT) != 0, pa.bool_()),
        "seq": pa.array(cols.sequence, pa.int64()),
    }
    for i in range(BOOK_DEPTH):
        for side, px, sz in (("bid", cols.bid_px[i], cols.bid_sz[i]), ("ask", cols.ask_px[i], cols.ask_sz[i])):
            empty = px == UNDEF_PRICE
            data[f"{side}_px_{i + 1}"] = pa.array(np.where(empty, EMPTY_LEVEL_PRICE, fixed_to_float(px)), pa.float64())
            data[f"{side}_sz_{i + 1}"] = pa.array(np.where(empty, 0, sz), pa.int64())
    return pa.table(data, schema=MBP10_SCHEMA)


# -- options -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=200_000)
def _ny_offset_ns(utc_hour: int) -> int:
    """America/New_York UTC offset (ns) during the UTC hour ``utc_hour`` (DST switches on the hour)."""
    when = dt.datetime.fromtimestamp(utc_hour * 3600, tz=dt.UTC)
    return int(when.astimezone(NEW_YORK).utcoffset().total_seconds()) * 1_000_000_000


def new_york_day(ts_ns: np.ndarray) -> np.ndarray:
    """The America/New_York calendar day (days since 1970-01-01) of each UTC ns timestamp."""
    hours = ts_ns // NS_PER_HOUR
    uniq, inverse = np.unique(hours, return_inverse=True)
    offsets = np.array([_ny_offset_ns(int(h)) for h in uniq], np.int64)
    return (ts_ns + offsets[inverse]) // NS_PER_DAY


def day_str(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def occ_ticker(root: str, exp_day: int, right: str, strike_fixed: int) -> str:
    """Polygon/OCC-style ticker 'O:SPY250305C00580000' (strike in 1/1000 dollars, 8 digits)."""
    ymd = day_str(exp_day)
    milli = (strike_fixed + 500_000) // 1_000_000
    return f"O:{root}{ymd[2:4]}{ymd[5:7]}{ymd[8:10]}{right}{milli:08d}"


def occ_root(d: Definition) -> str:
    """The OCC option root: the first 6 characters of a 21-character OSI raw_symbol, else underlying."""
    raw = d.raw_symbol
    if len(raw) == 21 and raw[12] in "CP" and raw[6:12].isdigit():
        return raw[:6].strip()
    return d.underlying


def definition_underlying(d: Definition) -> str:
    return d.underlying or occ_root(d)


@dataclass(frozen=True)
class _Contract:
    ok: bool
    reason: str = ""
    underlying: str = ""
    option_symbol: str = ""
    exp_day: int = 0
    strike: float = 0.0
    right: str = ""


def _contract(d: Definition, underlying: str) -> _Contract:
    und = definition_underlying(d)
    if d.instrument_class not in ("C", "P"):
        return _Contract(False, "not a call or put", und)
    if und != underlying:
        return _Contract(False, "other underlying", und)
    if d.strike_price == int(UNDEF_PRICE) or d.expiration == UNDEF_EXPIRATION:
        return _Contract(False, "definition without strike or expiration", und)
    exp_day = d.expiration // NS_PER_DAY
    return _Contract(
        True,
        underlying=und,
        option_symbol=occ_ticker(occ_root(d), exp_day, d.instrument_class, d.strike_price),
        exp_day=exp_day,
        strike=d.strike_price / 1e9,
        right=d.instrument_class,
    )


def option_trades_tables(
    cols: RecordColumns,
    book: DefinitionBook,
    underlying: str,
    max_dte: int,
    source: str,
    stats: MapStats,
) -> list[tuple[str, pa.Table]]:
    """(trading date, table) per trading date of the batch's kept trades."""
    cols = _drop(cols, cols.ts_event < 0, "undefined ts_event", stats)
    cols = _drop(cols, cols.price == UNDEF_PRICE, "undefined trade price", stats)
    if len(cols) == 0:
        return []
    key_day = cols.symbology_ts // NS_PER_DAY
    key = (cols.instrument_id << 20) | key_day
    uniq, inverse = np.unique(key, return_inverse=True)
    contracts: list[_Contract] = []
    unresolved: list[int] = []
    for k in uniq.tolist():
        d = book.lookup(k >> 20, k & ((1 << 20) - 1))
        if d is None:
            unresolved.append(k >> 20)
            contracts.append(_Contract(False, "unresolved"))
        else:
            contracts.append(_contract(d, underlying))
    if unresolved:
        ids = sorted(set(unresolved))
        shown = ", ".join(str(i) for i in ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        raise IngestError(
            f"{source}: no definition for option instrument_id {shown} on the trade date; "
            "pass the matching definition file(s) with --definitions"
        )
    ok = np.array([c.ok for c in contracts])[inverse]
    if not ok.all():
        per_key = np.bincount(inverse, minlength=len(contracts))
        for j, c in enumerate(contracts):
            if not c.ok:
                rows = int(per_key[j])
                stats.dropped[c.reason] += rows
                if c.reason == "other underlying":
                    stats.other_underlyings[c.underlying] += rows
        keep = np.flatnonzero(ok)
        cols, inverse = cols.take(keep), inverse[keep]
        if len(cols) == 0:
            return []
    trade_day = new_york_day(cols.ts_event)
    exp_day = np.array([c.exp_day for c in contracts], np.int64)[inverse]
    dte = exp_day - trade_day
    in_window = (dte >= 0) & (dte <= max_dte)
    if not in_window.all():
        out = ~in_window
        stats.dropped["not 0DTE" if max_dte == 0 else f"DTE outside 0..{max_dte}"] += int(out.sum())
        days, counts = np.unique(exp_day[out], return_counts=True)
        stats.expirations_dropped.update({day_str(d): int(c) for d, c in zip(days.tolist(), counts.tolist())})
        keep = np.flatnonzero(in_window)
        cols, inverse, trade_day = cols.take(keep), inverse[keep], trade_day[keep]
    tables = []
    for day in np.unique(trade_day).tolist():
        idx = np.flatnonzero(trade_day == day)
        part, inv = cols.take(idx), inverse[idx]
        n = len(part)
        used, local = np.unique(inv, return_inverse=True)
        cs = [contracts[j] for j in used.tolist()]

        def strings(values: list[str], _local=local) -> pa.Array:
            indices = pa.array(_local.astype(np.int32))
            return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string())).cast(pa.string())

        table = pa.table(
            {
                "ts_event_ns": pa.array(part.ts_event, pa.int64()),
                "ts_recv_ns": _ts_recv(part),
                "source": _const_str(SOURCE, n),
                "underlying": _const_str(underlying, n),
                "option_symbol": strings([c.option_symbol for c in cs]),
                "exp_date": strings([day_str(c.exp_day) for c in cs]),
                "strike": pa.array(np.array([c.strike for c in cs], np.float64)[local], pa.float64()),
                "right": strings([c.right for c in cs]),
                "price": pa.array(fixed_to_float(part.price), pa.float64()),
                "size": pa.array(part.size, pa.int64()),
                "opt_bid": pa.nulls(n, pa.float64()),
                "opt_ask": pa.nulls(n, pa.float64()),
                "seq": pa.array(part.sequence, pa.int64()),
                "aggressor": pa.array(_aggressor(part.side), pa.int64()),
            },
            schema=OPTION_TRADES_SCHEMA,
        )
        date = day_str(day)
        stats.rows += n
        stats.trading_dates[date] += n
        tables.append((date, table))
    return tables
