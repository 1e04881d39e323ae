"""Streaming reader for Databento DBN files, plain (``.dbn``) or zstd-compressed (``.dbn.zst``).

Decoding is done by Databento's official ``databento_dbn.DBNDecoder``; this module only feeds it
and batches its output:

* the file is read in ``READ_SIZE`` pieces (zstd is decompressed on the fly by pyarrow's streaming
  codec, which — unlike a bare decoder — reports a truncated or corrupt zstd frame), so memory is
  bounded by one batch whatever the file size;
* each decoded record of the wanted type is turned into its raw bytes (``bytes(record)``) and the
  bytes of a batch are viewed as a numpy structured array whose layout is the package's own
  ``<RecordClass>._dtypes``; batches hold exactly ``batch_records`` records (the last one fewer),
  so batch boundaries depend only on the file's content, never on read sizes;
* in-stream ``SymbolMappingMsg`` records (live captures) are collected for the symbol resolver;
  other record types are counted and skipped (a mixed-schema live file can be ingested per schema);
* at the end, bytes left in the decoder (an incomplete record) mean the file is truncated.

The SHA-256 of the file's bytes (as stored, i.e. compressed for ``.zst``) is computed in the same
pass; it names the Bronze output files (idempotent re-ingest).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import databento_dbn as dbn
import numpy as np
import pyarrow as pa

from breakbounce.ingest.errors import IngestError

READ_SIZE = 1 << 20
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
DBN_MAGIC = b"DBN"
PARQUET_MAGIC = b"PAR1"

_MAPPING_TYPES = tuple(
    t for t in (getattr(dbn, "SymbolMappingMsg", None), getattr(dbn, "SymbolMappingMsgV1", None)) if t
)


def sniff_format(path: str | os.PathLike) -> str:
    """'dbn', 'dbn.zst' or 'parquet', from the file's first bytes (the extension is not trusted)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise IngestError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(ZSTD_MAGIC):
        return "dbn.zst"
    if head.startswith(DBN_MAGIC):
        return "dbn"
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if not head:
        raise IngestError(f"{path}: empty file")
    raise IngestError(f"{path}: not a DBN, zstd-compressed DBN or parquet file (starts with {head!r})")


class _HashingReader(io.RawIOBase):
    """A raw file reader that feeds every byte it returns into a SHA-256."""

    def __init__(self, fh):
        super().__init__()
        self._fh = fh
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        data = self._fh.read(len(buf))
        n = len(data)
        buf[:n] = data
        self.sha256.update(data)
        return n


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(READ_SIZE), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class StreamMapping:
    """One in-stream symbol mapping: ``instrument_id`` is ``symbol`` (the stype_out symbol)."""

    instrument_id: int
    symbol: str
    start_ts: int
    end_ts: int


def _decoded_chunks(path, stream, decoder) -> Iterator[list]:
    """Read ``stream`` in READ_SIZE chunks and yield each chunk's decoded records; a broken zstd frame
    or undecodable DBN becomes an IngestError naming ``path``."""
    while True:
        try:
            chunk = stream.read(READ_SIZE)
        except (OSError, pa.ArrowException) as exc:
            raise IngestError(f"{path}: corrupt or truncated zstd data ({_one_line(exc)})") from None
        if not chunk:
            return
        try:
            records = decoder.write_and_decode(chunk)
        except Exception as exc:  # DBNError, or ValueError/RuntimeError from the Rust side
            raise IngestError(f"{path}: corrupt DBN data ({_one_line(exc)})") from None
        yield records


@dataclass
class DbnStream:
    """Iterates a DBN file as numpy batches of one record type; see the module docstring."""

    path: str
    record_class: type  # e.g. databento_dbn.TradeMsg
    batch_records: int
    metadata: dbn.Metadata | None = None
    mappings: list[StreamMapping] = field(default_factory=list)  # in-stream, in stream order
    skipped: Counter = field(default_factory=Counter)  # record type name -> count
    records_read: int = 0
    sha256: str | None = None
    #: called with the Metadata as soon as it is decoded (before any record is read)
    on_metadata: Callable[[dbn.Metadata], None] | None = None

    def batches(self) -> Iterator[np.ndarray]:
        fmt = sniff_format(self.path)
        if fmt not in ("dbn", "dbn.zst"):
            raise IngestError(f"{self.path}: not a DBN file")
        dtype = None
        pending: list[bytes] = []
        pending_n = 0
        with open(self.path, "rb") as raw_fh:
            hashing = _HashingReader(raw_fh)
            stream = pa.PythonFile(hashing, mode="r")
            if fmt == "dbn.zst":
                stream = pa.CompressedInputStream(stream, "zstd")
            decoder = dbn.DBNDecoder(upgrade_policy=dbn.VersionUpgradePolicy.UPGRADE_TO_V3)
            for records in _decoded_chunks(self.path, stream, decoder):
                wanted = self._split(records)
                if not wanted:
                    continue
                blob = b"".join(map(bytes, wanted))
                if dtype is None:
                    dtype = self._dtype(len(bytes(wanted[0])))
                if len(blob) != len(wanted) * dtype.itemsize:
                    raise IngestError(f"{self.path}: corrupt DBN data (records of unequal length)")
                del records, wanted
                pending.append(blob)
                pending_n += len(blob) // dtype.itemsize
                del blob
                while pending_n >= self.batch_records:
                    joined = b"".join(pending) if len(pending) > 1 else pending[0]
                    pending.clear()
                    cut = self.batch_records * dtype.itemsize
                    if len(joined) > cut:
                        pending.append(joined[cut:])
                    pending_n -= self.batch_records
                    box = [np.frombuffer(memoryview(joined)[:cut], dtype=dtype)]
                    del joined
                    yield box.pop()  # no reference stays in this frame while the consumer works
            leftover = len(decoder.buffer())
            if self.metadata is None:
                raise IngestError(f"{self.path}: truncated DBN file (no complete metadata header)")
            if leftover:
                raise IngestError(
                    f"{self.path}: truncated DBN file ({leftover} trailing bytes of an incomplete record)"
                )
            self.sha256 = hashing.sha256.hexdigest()
        if pending_n:
            box = [np.frombuffer(b"".join(pending), dtype=dtype)]
            pending.clear()
            yield box.pop()

    def _split(self, records: list) -> list:
        """Keep the wanted records; collect metadata and mappings; count the rest."""
        cls = self.record_class
        if records and isinstance(records[0], dbn.Metadata):
            self.metadata = records[0]
            records = records[1:]
            if self.on_metadata is not None:
                self.on_metadata(self.metadata)
        wanted = [r for r in records if type(r) is cls]
        self.records_read += len(wanted)
        if len(wanted) != len(records):
            for r in records:
                if type(r) is cls:
                    continue
                if isinstance(r, _MAPPING_TYPES):
                    self.mappings.append(
                        StreamMapping(int(r.instrument_id), str(r.stype_out_symbol), int(r.start_ts), int(r.end_ts))
                    )
                elif isinstance(r, dbn.Metadata):  # pragma: no cover - only one metadata per file
                    continue
                else:
                    self.skipped[type(r).__name__] += 1
        return wanted

    def _dtype(self, record_len: int) -> np.dtype:
        base = np.dtype(self.record_class._dtypes)
        if record_len == base.itemsize:
            return base
        if record_len == base.itemsize + 8:  # the file was written with ts_out
            return np.dtype(list(self.record_class._dtypes) + [("ts_out", "u8")])
        raise IngestError(
            f"{self.path}: unexpected {self.record_class.__name__} record length {record_len} "
            f"(expected {base.itemsize})"
        )


def decode_all(path: str | os.PathLike) -> tuple[dbn.Metadata, Iterator]:
    """Metadata and an iterator over every decoded record object of a small DBN file (definitions)."""
    fmt = sniff_format(path)
    if fmt not in ("dbn", "dbn.zst"):
        raise IngestError(f"{path}: not a DBN file")

    def gen(fh, stream, decoder):
        with fh:
            for records in _decoded_chunks(path, stream, decoder):
                yield from records
            if decoder.buffer():
                raise IngestError(f"{path}: truncated DBN file ({len(decoder.buffer())} trailing bytes)")

    fh = open(path, "rb")
    stream = pa.PythonFile(fh, mode="r")
    if fmt == "dbn.zst":
        stream = pa.CompressedInputStream(stream, "zstd")
    decoder = dbn.DBNDecoder(upgrade_policy=dbn.VersionUpgradePolicy.UPGRADE_TO_V3)
    it = gen(fh, stream, decoder)
    first = next(it, None)
    if not isinstance(first, dbn.Metadata):
        raise IngestError(f"{path}: truncated DBN file (no complete metadata header)")
    return first, it


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ")
    return text or type(exc).__name__
