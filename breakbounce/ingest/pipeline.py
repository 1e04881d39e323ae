"""``ingest``: Databento files -> Bronze, one source file at a time (see docs/ingest.md)."""

from __future__ import annotations

import ctypes
import dataclasses
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import databento_dbn as dbn
import pyarrow as pa

from breakbounce import bronze
from breakbounce.ingest import SCHEMAS, dbn_reader, parquet_reader
from breakbounce.ingest.definitions import DefinitionBook
from breakbounce.ingest.errors import IngestError
from breakbounce.ingest.mappers import (
    MapStats,
    futures_trades_table,
    mbp10_table,
    option_trades_tables,
    outright_pattern,
)
from breakbounce.ingest.records import RTYPE_MBP10, RTYPE_TRADES, RecordColumns, from_dbn_array
from breakbounce.ingest.symbology import SymbolResolver
from breakbounce.ingest.writer import StagedWriter, output_prefix

#: Records per chunk (one Bronze file per touched partition per chunk). Memory is bounded by a few
#: copies of one chunk: ~37 MB of raw MBP-10 records per 100k, ~24 MB of trades per 500k.
DEFAULT_CHUNK_RECORDS = {"trades": 500_000, "mbp-10": 100_000, "opra-trades": 500_000}

_DBN_SCHEMA = {"trades": "trades", "mbp-10": "mbp-10", "opra-trades": "trades"}


@dataclass
class IngestOptions:
    schema: str
    bronze_root: Path
    definitions: list[Path] = field(default_factory=list)
    root: str = "ES"  # futures product: only its outright contracts are kept
    underlying: str = "SPY"  # options: only this underlying's contracts are kept
    max_dte: int = 0  # options: keep expiration - trading date in 0..max_dte calendar days
    chunk_records: int | None = None

    def __post_init__(self) -> None:
        if self.schema not in SCHEMAS:
            raise IngestError(f"unknown schema {self.schema!r} (choose from {', '.join(SCHEMAS)})")
        if self.max_dte < 0:
            raise IngestError("--max-dte must be >= 0")
        for name, value in (("--root", self.root), ("--underlying", self.underlying)):
            if not value or not value.replace(".", "").isalnum():
                raise IngestError(f"{name} must be a plain ticker root such as ES or SPY, not {value!r}")
        if self.chunk_records is not None and self.chunk_records < 1:
            raise IngestError("--chunk-records must be >= 1")
        self.bronze_root = Path(self.bronze_root)
        self.definitions = [Path(p) for p in self.definitions]

    @property
    def batch_records(self) -> int:
        return self.chunk_records or DEFAULT_CHUNK_RECORDS[self.schema]

    def table(self) -> bronze.BronzeTable:
        if self.schema == "trades":
            return _with_key(bronze.FUTURES_TRADES, "symbol", self.root)
        if self.schema == "mbp-10":
            return _with_key(bronze.FUTURES_MBP10, "symbol", self.root)
        return _with_key(bronze.OPTION_TRADES, "underlying", self.underlying)


def _with_key(spec: bronze.BronzeTable, key: str, value: str) -> bronze.BronzeTable:
    """``spec`` with its constant partition ``key=`` set to ``value`` (the contract's table for ES/SPY)."""
    subdir = spec.subdir.rsplit("/", 1)[0] + f"/{key}={value}"
    return spec if subdir == spec.subdir else dataclasses.replace(spec, subdir=subdir)


@dataclass
class FileReport:
    path: str
    format: str
    sha256: str = ""
    records: int = 0
    stats: MapStats = field(default_factory=MapStats)
    skipped_types: Counter = field(default_factory=Counter)
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, schema: str) -> str:
        s = self.stats
        parts = [
            f"{self.path}: {self.records:,} {schema} records -> {s.rows:,} Bronze rows in {len(self.written)} files"
        ]
        if s.dropped:
            parts.append("dropped " + ", ".join(f"{n:,} {why}" for why, n in sorted(s.dropped.items())))
        if self.skipped_types:
            parts.append("skipped " + ", ".join(f"{n:,} {t}" for t, n in sorted(self.skipped_types.items())))
        if self.removed:
            parts.append(f"removed {len(self.removed)} stale files of an earlier ingest")
        parts.append(f"sha256 {self.sha256[:16]}, {self.seconds:.1f} s")
        return "; ".join(parts)


def load_definitions(paths: list[Path]) -> DefinitionBook | None:
    if not paths:
        return None
    book = DefinitionBook()
    for p in paths:
        book.load(p)
    return book


def _record_batches(path: str, fmt: str, opts: IngestOptions, report: FileReport, resolver: SymbolResolver | None):
    """RecordColumns batches of the wanted record type, whatever the input format."""
    mbp = opts.schema == "mbp-10"
    if fmt == "parquet":
        yield from parquet_reader.iter_rendering(path, RTYPE_MBP10 if mbp else RTYPE_TRADES, opts.batch_records)
        return

    def on_metadata(metadata) -> None:
        _check_metadata(path, metadata, opts)
        if resolver is not None:
            resolver.add_metadata(metadata)

    stream = dbn_reader.DbnStream(
        path, dbn.MBP10Msg if mbp else dbn.TradeMsg, opts.batch_records, on_metadata=on_metadata
    )
    n_mappings = 0
    batches = stream.batches()
    for arr in batches:
        if resolver is not None and len(stream.mappings) > n_mappings:
            resolver.add_stream_mappings(stream.mappings[n_mappings:])
            n_mappings = len(stream.mappings)
        box = [arr]
        del arr  # only one copy of a batch is alive while it is mapped and written
        yield _columns(box, mbp)
    report.skipped_types.update(stream.skipped)
    report.sha256 = stream.sha256 or ""


def _columns(box: list, mbp: bool) -> RecordColumns:
    return from_dbn_array(box.pop(), with_levels=mbp)


def _check_metadata(path: str, metadata, opts: IngestOptions) -> None:
    if metadata is None:
        return
    file_schema = str(metadata.schema) if metadata.schema is not None else None
    want = _DBN_SCHEMA[opts.schema]
    if file_schema is not None and file_schema != want:
        hints = {"mbp-10": " (use --schema mbp-10)", "trades": " (use --schema trades or opra-trades)"}
        hint = hints.get(file_schema, "")
        raise IngestError(f"{path}: holds {file_schema} records, not {want}{hint}")
    dataset = str(metadata.dataset or "")
    is_opra = dataset.upper().startswith("OPRA")
    if opts.schema == "opra-trades" and dataset and not is_opra:
        raise IngestError(f"{path}: dataset {dataset} is not OPRA; --schema opra-trades needs OPRA option trades")
    if opts.schema != "opra-trades" and is_opra:
        raise IngestError(f"{path}: dataset {dataset} holds options; use --schema opra-trades")


def ingest_file(
    path: str | os.PathLike,
    opts: IngestOptions,
    definitions: DefinitionBook | None,
    progress: Callable[[str], None] | None = None,
) -> FileReport:
    """Ingest one source file; all-or-nothing for that file (see ``writer``)."""
    path = str(path)
    start = time.perf_counter()
    fmt = dbn_reader.sniff_format(path)
    report = FileReport(path=path, format=fmt)
    spec = opts.table()
    options = opts.schema == "opra-trades"
    if options and definitions is None:
        raise IngestError("--schema opra-trades needs --definitions (OPRA definition file(s) for the trade dates)")
    resolver = None if options else SymbolResolver(path, definitions)
    pattern = outright_pattern(opts.root)
    writer = StagedWriter(opts.bronze_root)
    try:
        for chunk, cols in enumerate(_record_batches(path, fmt, opts, report, resolver)):
            report.records += len(cols)
            tables = _map(cols, opts, definitions, resolver, pattern, report, path)
            del cols  # the Arrow tables hold everything still needed
            for date, table in tables:
                writer.write(spec, table, chunk, trading_date=date)
            del tables
            release_memory()
            if progress is not None:
                progress(f"{path}: {report.records:,} records, {report.stats.rows:,} rows staged")
        _check_nothing_filtered_out(path, opts, report)
        if fmt == "parquet":
            report.sha256 = dbn_reader.file_sha256(path)
        report.written, report.removed = writer.commit(output_prefix(opts.schema, report.sha256), {spec.subdir})
    finally:
        writer.abort()
    report.seconds = time.perf_counter() - start
    return report


def _map(
    cols: RecordColumns,
    opts: IngestOptions,
    definitions: DefinitionBook | None,
    resolver: SymbolResolver | None,
    pattern,
    report: FileReport,
    path: str,
) -> list[tuple[str | None, object]]:
    """The batch's Bronze tables, each with its trading date (options) or None (futures)."""
    if opts.schema == "trades":
        return [(None, futures_trades_table(cols, resolver, pattern, report.stats))]
    if opts.schema == "mbp-10":
        return [(None, mbp10_table(cols, resolver, pattern, report.stats))]
    return option_trades_tables(cols, definitions, opts.underlying, opts.max_dte, path, report.stats)


def _check_nothing_filtered_out(path: str, opts: IngestOptions, report: FileReport) -> None:
    """A file whose every record is another product/underlying is a usage error, not an empty day."""
    s = report.stats
    if s.rows or not report.records:
        return
    if opts.schema == "opra-trades" and s.other_underlyings and sum(s.other_underlyings.values()) == report.records:
        found = ", ".join(f"{u} ({n:,})" for u, n in s.other_underlyings.most_common(5))
        raise IngestError(
            f"{path}: no option trades on underlying {opts.underlying} (found: {found}); "
            f"pass --underlying <ROOT> to ingest them under options/trades/underlying=<ROOT>/"
        )
    if opts.schema != "opra-trades" and s.other_symbols and sum(s.other_symbols.values()) == report.records:
        found = ", ".join(f"{u} ({n:,})" for u, n in s.other_symbols.most_common(5))
        raise IngestError(f"{path}: no outright {opts.root} futures contracts (found: {found}); see --root")


def ingest(
    paths: list[str | os.PathLike], opts: IngestOptions, progress: Callable[[str], None] | None = None
) -> Iterator[FileReport]:
    """Ingest ``paths`` in order, yielding each file's report; stops at the first bad file."""
    definitions = load_definitions(opts.definitions)
    for p in paths:
        yield ingest_file(p, opts, definitions, progress)


def release_memory() -> None:
    """Hand freed chunk buffers back to the OS so the resident set stays at about one chunk."""
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


_LIBC = _load_libc()


def stderr_progress() -> Callable[[str], None] | None:
    """A progress callback that rewrites one stderr line, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(msg: str) -> None:
        print(f"\r{msg[-150:]}", end="", file=sys.stderr, flush=True)

    return show
