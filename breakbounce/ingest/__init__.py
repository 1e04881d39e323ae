"""Databento -> Bronze ingestion (``breakbounce ingest``); see docs/ingest.md.

Modules: ``dbn_reader`` (streaming DBN/.dbn.zst via databento_dbn), ``parquet_reader`` (Databento
parquet renderings), ``records`` (the source-neutral batch), ``definitions`` and ``symbology``
(instrument ids -> contracts), ``mappers`` (-> Bronze tables), ``writer`` (staged, idempotent
output), ``pipeline`` (orchestration) and ``cli``.
"""

from breakbounce.ingest.errors import IngestError
from breakbounce.ingest.pipeline import FileReport, IngestOptions, ingest, ingest_file

__all__ = ["FileReport", "IngestError", "IngestOptions", "ingest", "ingest_file"]
