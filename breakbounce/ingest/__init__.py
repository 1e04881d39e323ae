"""Databento -> Bronze ingestion (``breakbounce ingest``); see docs/ingest.md.

Modules: ``dbn_reader`` (streaming DBN/.dbn.zst via databento_dbn), ``parquet_reader`` (Databento
parquet renderings), ``records`` (the source-neutral batch), ``definitions`` and ``symbology``
(instrument ids -> contracts), ``mappers`` (-> Bronze tables), ``writer`` (staged, idempotent
output), ``pipeline`` (orchestration) and ``cli``.
"""

import importlib

#: the Databento schemas `breakbounce ingest` reads
SCHEMAS = ("trades", "mbp-10", "opra-trades")

# attribute -> defining module, imported on first use (the CLI parser must stay cheap to build)
_EXPORTS = {
    "FileReport": "pipeline",
    "IngestOptions": "pipeline",
    "ingest": "pipeline",
    "ingest_file": "pipeline",
    "IngestError": "errors",
}

__all__ = ["SCHEMAS", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"breakbounce.ingest.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'breakbounce.ingest' has no attribute {name!r}")
