"""Per-row maths for the physics features, as plain numpy functions plus DuckDB UDF wrappers.

Set-based work (windows, joins, as-of lookups) is done in SQL; what lives here is arithmetic that SQL
expresses badly (Black-Scholes greeks, implied-vol root finding, state machines). ``register(con)``
declares every function on a DuckDB connection; the dbt-duckdb plugin in ``breakbounce.dbt_plugin``
calls it for each dbt connection.
"""

from __future__ import annotations

import duckdb


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Declare all UDFs on ``con`` (idempotent: an existing function of the same name is replaced)."""
    from python_udfs import registry

    registry.register_all(con)
