"""Open the warehouse for ad-hoc SQL with the same run variables dbt had.

Tables (intermediate, marts) can be queried from any DuckDB client; the staging *views* read
Bronze through ``getvariable('bb_...')``, so a plain client must first be told which date to read::

    from breakbounce.warehouse import connect
    con = connect("target/breakbounce.duckdb", date="2025-12-16", bronze="data/bronze")
    con.sql("select * from staging.stg_bronze__es_mbp10 limit 5").show()
"""

from __future__ import annotations

import os

import duckdb

from breakbounce.dbt_plugin import variable_statements
from breakbounce.plan import plan_run


def connect(db_path: str = "target/breakbounce.duckdb", date: str | None = None,
            bronze: str | None = None, gold: str | None = None, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to the warehouse; with ``date``, the staging views read that date."""
    con = duckdb.connect(db_path, read_only=read_only)
    if date is not None:
        bronze = bronze or os.environ.get("BB_BRONZE", "data/bronze")
        gold = os.path.abspath(gold or os.environ.get("BB_GOLD", "data/gold"))
        for stmt in variable_statements(plan_run(date, bronze), gold):
            con.execute(stmt)
    return con
