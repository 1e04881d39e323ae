"""Validation of a run's planned Bronze files before anything is built (SPEC §12).

Every planned file — the run date's and its warmup sessions' alike — must

1. be a readable parquet file whose columns and types fit the contract (``validate_file``);
2. pass the row rules of its table (:data:`RULES`): prices positive and finite, sizes >= 1,
   timestamps inside the hour partition the file is in, known aggressor sides, a contract, and for
   options a right of C or P and an expiration that is a date.

A failure is a :class:`~breakbounce.errors.BronzeError`: one line naming the rule, the number of
rows, the session (and whose warmup it is) and the file(s), with up to five offending rows as
details; the CLI prints it and exits 2, before anything is written.

Cost. The rules are first decided from the parquet footer's statistics (min, max and null count per
row group), which prove every rule but NaN (statistics leave NaN out) and the string rules of option
files; for those, the float and string columns are read with Arrow (no DuckDB: a DuckDB connection
alone costs ~20-50 ms), and only files that may fail are counted with DuckDB for the message. A
file's outcome depends only on its bytes, so an ES trades or option file that passed is remembered by
its SHA-256 (computed anyway for the warmup cache's fingerprint): consecutive dates share six of their
seven warmup sessions, and a re-run shares everything. MBP-10 is decided from its footers alone (its
NaN prices are empty book levels, not errors). Measured on a full-scale week (120 planned ES trades
files, 5.7M prints; 8 MBP-10 files; 700k option prints) on the shared 2-core VM: every file new
~0.3-0.5 s (the price column read ~70 ms, the option file ~100 ms); a re-run or the next date of a
backfill ~20-40 ms; SHA-256 of the ES trades files ~17-30 ms (in planning).

Pages that do not decode behind a good footer are found here when the scan reads them, and
otherwise by :func:`find_corrupt_file` when the build fails: either way the message names the file.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from breakbounce import bronze, storage
from breakbounce.errors import BronzeError

if TYPE_CHECKING:
    from breakbounce.plan import RunPlan

#: version of :data:`RULES`; part of the memo of validated files, so a rule change re-validates them
RULES_VERSION = 1
SAMPLE_ROWS = 5


# --- schema ------------------------------------------------------------------------------------------


def _kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_null(t):
        return "null"
    return str(t)


_COMPATIBLE = {"integer": {"integer"}, "float": {"float", "integer"}, "string": {"string"}, "boolean": {"boolean"}}
#: Columns that may be all-null in Bronze (the earlier pipeline wrote them as the null type).
_NULLABLE = {"conditions", "opt_bid", "opt_ask", "seq", "is_snapshot"}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def read_metadata(path: str, entry: storage.Entry | None = None) -> pq.FileMetaData:
    """The parquet footer of a local file or an object (read by range: the footer only)."""
    try:
        with storage.parquet_source(path, entry) as source:
            return pq.read_metadata(source)
    except Exception as exc:  # pyarrow raises several types for corrupt footers
        raise BronzeError(f"unreadable parquet file {path}: {_first_line(exc)}") from None


def check_schema(path: str, schema: pa.Schema, spec: bronze.BronzeTable) -> None:
    for f in spec.schema:
        if f.name not in schema.names:
            raise BronzeError(f"{path}: missing column '{f.name}' ({spec.name})")
        got, want = _kind(schema.field(f.name).type), _kind(f.type)
        if want == "list<item: int16>" or f.name in _NULLABLE and got == "null":
            continue
        if got not in _COMPATIBLE.get(want, {want}):
            raise BronzeError(
                f"{path}: column '{f.name}' has type {schema.field(f.name).type}, expected {f.type} ({spec.name})"
            )


def validate_file(path: str, spec: bronze.BronzeTable, entry: storage.Entry | None = None) -> pq.FileMetaData:
    """Raise BronzeError naming the file (and column) when it is unreadable or off-contract."""
    md = read_metadata(path, entry)
    check_schema(path, md.schema.to_arrow_schema(), spec)
    return md


# --- row rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A row rule: ``sql`` holds for every valid row (NULL fails). ``column`` and ``stats`` (a test
    of one row group's (min, max, null_count) that proves the rule for it) let the footer decide it;
    ``float_nan`` means statistics cannot see NaN, so a float column still has to be scanned."""

    name: str
    sql: str  # may use {h0} / {h1}: the bounds of the file's hour partition, ns
    column: str | None = None
    stats: Callable[[object, object, int, int, int], bool] | None = None
    float_nan: bool = False
    #: for a rule without a statistics form: an Arrow test of the column, true when a row may fail
    #: (a quick scan without DuckDB; the SQL decides and counts)
    arrow: Callable[[pa.ChunkedArray], bool] | None = None


def _is_iso_date(value) -> bool:
    import datetime as dt

    try:
        return isinstance(value, str) and dt.date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _positive_finite(lo, hi, nulls, h0, h1) -> bool:
    return nulls == 0 and lo > 0 and hi < math.inf


RULES: dict[str, list[Rule]] = {
    "futures_trades": [
        Rule(
            "ts_in_hour_partition",
            "ts_event_ns >= {h0} and ts_event_ns < {h1}",
            "ts_event_ns",
            lambda lo, hi, nulls, h0, h1: nulls == 0 and lo >= h0 and hi < h1,
        ),
        Rule("price_positive", "price > 0 and isfinite(price)", "price", _positive_finite, float_nan=True),
        Rule("size_at_least_one", "size >= 1", "size", lambda lo, hi, nulls, h0, h1: nulls == 0 and lo >= 1),
        Rule(
            "aggressor_valid",
            "aggressor in (-1, 0, 1)",
            "aggressor",
            lambda lo, hi, nulls, h0, h1: nulls == 0 and lo >= -1 and hi <= 1,
        ),
        Rule("contract_present", "symbol is not null", "symbol", lambda lo, hi, nulls, h0, h1: nulls == 0),
    ],
    "futures_mbp10": [
        Rule(
            "ts_in_hour_partition",
            "ts_event_ns >= {h0} and ts_event_ns < {h1}",
            "ts_event_ns",
            lambda lo, hi, nulls, h0, h1: nulls == 0 and lo >= h0 and hi < h1,
        ),
        Rule("contract_present", "symbol is not null", "symbol", lambda lo, hi, nulls, h0, h1: nulls == 0),
    ],
    # options are partitioned by trading date, not hour: prints outside the session are dropped and
    # counted by staging (int_quality__bronze_drops), not refused
    "option_trades": [
        Rule("ts_event_ns_present", "ts_event_ns is not null", "ts_event_ns", lambda lo, hi, nulls, h0, h1: nulls == 0),
        Rule("price_positive", "price > 0 and isfinite(price)", "price", _positive_finite, float_nan=True),
        Rule("size_at_least_one", "size >= 1", "size", lambda lo, hi, nulls, h0, h1: nulls == 0 and lo >= 1),
        Rule("strike_positive", "strike > 0 and isfinite(strike)", "strike", _positive_finite, float_nan=True),
        # strings: scanned
        Rule(
            "right_is_c_or_p",
            "\"right\" in ('C', 'P')",
            "right",
            arrow=lambda c: not set(pc.unique(c).to_pylist()) <= {"C", "P"},
        ),
        Rule(
            "exp_date_is_a_date",
            "try_cast(exp_date as date) is not null",
            "exp_date",
            arrow=lambda c: not all(_is_iso_date(v) for v in pc.unique(c).to_pylist()),
        ),
        Rule(
            "aggressor_valid",
            "aggressor in (-1, 0, 1)",
            "aggressor",
            lambda lo, hi, nulls, h0, h1: nulls == 0 and lo >= -1 and hi <= 1,
        ),
    ],
}
#: the columns shown for an offending row
SAMPLE_COLUMNS = {
    "futures_trades": ["ts_event_ns", "symbol", "price", "size", "aggressor", "seq"],
    "futures_mbp10": ["ts_event_ns", "symbol", "seq", "bid_px_1", "ask_px_1"],
    "option_trades": ["ts_event_ns", "option_symbol", "exp_date", "strike", "right", "price", "size", "aggressor"],
}


def hour_bounds(path: str) -> tuple[int, int]:
    """[start, end) ns of the hour partition a file is in (``.../date=YYYY-MM-DD/hour=HH/f``)."""
    import numpy as np

    hour_dir, date_dir = path.rsplit("/", 3)[1:3][::-1]  # (local path or URL: '/'-separated)
    date = date_dir.removeprefix("date=")
    start = int(np.datetime64(date, "ns").astype("int64")) + int(hour_dir.removeprefix("hour=")) * bronze.NS_PER_HOUR
    return start, start + bronze.NS_PER_HOUR


def _needs_scan(md: pq.FileMetaData, rules: list[Rule], bounds: tuple[int, int]) -> tuple[bool, bool]:
    """(a rule fails or cannot be decided from the statistics, a scan is needed for what they cannot
    see: NaN in a float column, a rule without a statistics form)."""
    names = [md.schema.column(i).path for i in range(md.num_columns)]
    nan_scan = False
    for rule in rules:
        if rule.stats is None:  # decided by the scan
            nan_scan = True
            continue
        i = names.index(rule.column)
        for rg in range(md.num_row_groups):
            chunk = md.row_group(rg).column(i)
            if md.row_group(rg).num_rows == 0:
                continue
            s = chunk.statistics
            if s is None or not s.has_null_count or (not s.has_min_max and s.null_count < chunk.num_values):
                return True, True
            lo, hi = (s.min, s.max) if s.has_min_max else (0, 0)
            if not rule.stats(lo, hi, s.null_count, *bounds):
                return True, True
            if rule.float_nan and chunk.physical_type in ("DOUBLE", "FLOAT"):
                nan_scan = True
    return False, nan_scan


def _may_fail(path: str, rules: list[Rule], entry: storage.Entry | None = None) -> bool:
    """Whether a row of ``path`` may fail what the statistics cannot see: a non-finite value in a
    float column of a ``float_nan`` rule, or an ``arrow`` rule's test. Reads only those columns."""
    columns = sorted({r.column for r in rules if r.float_nan or r.arrow})
    with storage.parquet_source(path, entry) as source:
        table = pq.ParquetFile(source).read(columns=columns)
    for r in rules:
        if not (r.float_nan or r.arrow):
            continue
        col = table.column(r.column)
        if r.float_nan and pa.types.is_floating(col.type) and not pc.all(pc.is_finite(col)).as_py():
            return True
        if r.arrow is not None and r.arrow(col):
            return True
    return False


def _duckdb(plan: RunPlan | None = None):
    import duckdb

    con = duckdb.connect()
    con.execute("set threads = 2")
    if plan is not None:  # an object store's files are read through its fsspec filesystem
        storage.register(con, plan.bronze_root, known=plan.file_entries)
    return con


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _failed_rules(con, path: str, spec: bronze.BronzeTable, rules: list[Rule]) -> list[tuple[Rule, int]]:
    """Rows of ``path`` failing each rule (rules with no failure left out)."""
    bounds = hour_bounds(path) if spec.hourly else (0, 0)
    counts = ", ".join(
        f"count(*) filter (where not coalesce(({r.sql.format(h0=bounds[0], h1=bounds[1])}), false))" for r in rules
    )
    row = con.execute(f"select {counts} from read_parquet({_sql_str(path)}, hive_partitioning = false)").fetchone()
    return [(r, n) for r, n in zip(rules, row) if n]


def _samples(con, path: str, spec: bronze.BronzeTable, rule: Rule) -> list[str]:
    bounds = hour_bounds(path) if spec.hourly else (0, 0)
    cols = SAMPLE_COLUMNS[spec.name]
    rows = con.execute(
        f"select {', '.join(chr(34) + c + chr(34) for c in cols)} "
        f"from read_parquet({_sql_str(path)}, hive_partitioning = false) "
        # coalesce(...) keeps DuckDB from pruning row groups on NaN-blind statistics (see above)
        f"where not coalesce(({rule.sql.format(h0=bounds[0], h1=bounds[1])}), false) "
        f"order by ts_event_ns nulls first limit {SAMPLE_ROWS}"
    ).fetchall()
    return [
        "    " + " ".join(f"{c}={v!r}" if isinstance(v, str) else f"{c}={v}" for c, v in zip(cols, r)) for r in rows
    ]


def _whose(plan: RunPlan, path: str) -> str:
    session = plan.file_sessions.get(path, plan.date)
    return session if session == plan.date else f"{session} (a warmup session of {plan.date})"


def _refuse(con, plan: RunPlan, spec: bronze.BronzeTable, candidates: list[str]) -> None:
    """Raise the BronzeError for the ``candidates`` of one table that fail: the first failing rule, its rows
    across those files, the session, the files and up to five offending rows."""
    rules = RULES[spec.name]
    found: dict[str, list[tuple[str, int]]] = {}
    for path in candidates:
        for rule, n in _failed_rules(con, path, spec, rules):
            found.setdefault(rule.name, []).append((path, n))
    if not found:  # the statistics said so, the rows do not (e.g. +inf in a footer): nothing to refuse
        return
    name = next(r.name for r in rules if r.name in found)
    rule = next(r for r in rules if r.name == name)
    hits = found[name]
    total = sum(n for _, n in hits)
    files = ", ".join(p for p, _ in hits[:3]) + (f" and {len(hits) - 3} more file(s)" if len(hits) > 3 else "")
    sessions = sorted({_whose(plan, p) for p, _ in hits})
    others = [f"{r} ({sum(n for _, n in found[r])} row(s))" for r in found if r != name]
    message = (
        f"Bronze rule {name} ({rule.sql.format(h0='<hour start>', h1='<hour end>')}) failed on {total} "
        f"row(s) of {', '.join(sessions)} in {files}"
    )
    if others:
        message += "; also failing: " + ", ".join(others)
    raise BronzeError(
        message,
        [f"  first {min(total, SAMPLE_ROWS)} offending row(s) of {hits[0][0]}:"]
        + _samples(con, hits[0][0], spec, rule),
    )


# --- corrupt pages ----------------------------------------------------------------------------------


def find_corrupt_file(files: list[str]) -> tuple[str, str] | None:
    """The first file whose pages do not decode (every column read), with pyarrow's reason."""
    for path in files:
        try:
            with storage.parquet_source(path) as source:
                pf = pq.ParquetFile(source)
                for rg in range(pf.metadata.num_row_groups):
                    pf.read_row_group(rg)
        except Exception as exc:
            return path, _first_line(exc)
    return None


def corrupt_file_error(path: str, reason: str) -> BronzeError:
    return BronzeError(f"corrupt parquet file {path}: its footer reads but its pages do not ({reason})")


# --- the memo of validated files --------------------------------------------------------------------


def _memo_dir() -> Path | None:
    """A per-user folder of empty marker files named after the SHA-256 of validated ES trades files."""
    d = Path(tempfile.gettempdir()) / f"breakbounce-{os.getuid()}" / f"validated-r{RULES_VERSION}"
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        if d.stat().st_uid != os.getuid():
            return None
    except OSError:
        return None
    return d


# --- the plan ---------------------------------------------------------------------------------------


def file_digest(path: str) -> str:
    """SHA-256 of a local file's bytes (hex; ~1 GB/s: a full-scale week of ES trades, 21 MB, in ~17 ms);
    an object's ETag and size (:func:`breakbounce.storage.content_digest`)."""
    return storage.content_digest(path)


def validate_plan(plan: RunPlan) -> None:
    """Validate every planned file (schema, then row rules); raise the first BronzeError.

    ES trades and option files that passed before (same SHA-256, same rules) are skipped; MBP-10 is
    decided from its footers on every run.
    """
    memo = _memo_dir()
    digests = dict(plan.file_digests)
    if memo is not None:
        digests.update({f: plan.file_digests.get(f) or file_digest(f) for f in plan.option_files})
    remembered = {f for f, dg in digests.items() if memo is not None and (memo / dg).exists()}
    con = None
    try:
        for files, spec in (
            (plan.es_trade_files, bronze.FUTURES_TRADES),
            (plan.mbp10_files, bronze.FUTURES_MBP10),
            (plan.option_files, bronze.OPTION_TRADES),
        ):
            rules = RULES[spec.name]
            to_check, to_scan = [], []  # files to check rule by rule; files to scan for what stats miss
            for path in files:
                if path in remembered:
                    continue
                md = validate_file(path, spec, plan.file_entries.get(path))
                bounds = hour_bounds(path) if spec.hourly else (0, 0)
                undecided, scan = _needs_scan(md, rules, bounds)
                (to_check if undecided else to_scan if scan else []).append(path)
            if not to_check and not to_scan:
                continue
            try:
                # what the statistics cannot see (NaN in float columns, string rules): read those
                # columns with Arrow, two files at a time (no DuckDB unless something may fail)
                if to_scan:
                    with ThreadPoolExecutor(max_workers=2) as pool:
                        flags = list(
                            pool.map(
                                _may_fail, to_scan, [rules] * len(to_scan), [plan.file_entries.get(f) for f in to_scan]
                            )
                        )
                    to_check += [f for f, bad in zip(to_scan, flags) if bad]
                if to_check:
                    con = con or _duckdb(plan)
                    _refuse(con, plan, spec, sorted(set(to_check)))
            except BronzeError:
                raise
            except Exception:  # a page that does not decode: name its file
                hit = find_corrupt_file(to_check + to_scan)
                if hit is None:
                    raise
                raise corrupt_file_error(*hit) from None
    finally:
        if con is not None:
            con.close()
    if memo is not None:
        for f, dg in digests.items():
            if f not in remembered:
                (memo / dg).touch()
