"""Staged, idempotent Bronze output for one source file.

* Every chunk is written with ``bronze.write_table`` (partitioning, sort, atomic zstd write) into a
  private staging tree ``<bronze>/.ingest-staging-XXXX/`` that mirrors the Bronze layout. Nothing
  under the real table directories changes while the source is being read, so a corrupt or
  truncated source (or any crash) leaves the existing Bronze untouched; ``abort`` removes the
  staging tree.
* ``commit`` moves each staged file into place with ``os.replace`` under its final, deterministic
  name ``<prefix>-<chunk:05d>.parquet`` where ``prefix`` = ``db-<schema>-<sha256[:16]>`` of the
  source file's bytes; then it deletes files of the same prefix in the same table scope that this
  run did not write (left over from an earlier ingest of the same content with other options).
  Re-ingesting the same content therefore replaces its files and never duplicates rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa

from breakbounce.bronze import BronzeTable, write_table

STAGING_PREFIX = ".ingest-staging-"


def output_prefix(schema: str, sha256: str) -> str:
    return f"db-{schema}-{sha256[:16]}"


class StagedWriter:
    def __init__(self, bronze_root: str | os.PathLike):
        self.root = Path(bronze_root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
        self.scopes: set[str] = set()  # table subdirs (relative) this source writes to
        self.files_staged = 0

    def write(self, spec: BronzeTable, table: pa.Table, chunk: int, trading_date: str | None = None) -> None:
        self.scopes.add(spec.subdir)
        written = write_table(table, self.staging, spec, f"{chunk:05d}.parquet", trading_date=trading_date)
        self.files_staged += len(written)

    def commit(self, prefix: str, extra_scopes: set[str] = frozenset()) -> tuple[list[Path], list[Path]]:
        """Move staged files into place; delete stale files of ``prefix``. Returns (written, removed)."""
        written: list[Path] = []
        for staged in sorted(self.staging.rglob("*.parquet")):
            rel = staged.relative_to(self.staging)
            final = self.root / rel.parent / f"{prefix}-{rel.name}"
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
            written.append(final)
        keep = set(written)
        removed: list[Path] = []
        for scope in sorted(self.scopes | set(extra_scopes)):
            base = self.root / scope
            if not base.is_dir():
                continue
            for old in sorted(base.rglob(f"{prefix}-*.parquet")):
                if old not in keep:
                    old.unlink()
                    removed.append(old)
                    _prune_empty_dirs(old.parent, base)
        self.abort()
        return written, removed

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _prune_empty_dirs(directory: Path, stop: Path) -> None:
    while directory != stop and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
