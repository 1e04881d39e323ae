"""DuckDB connections to the warehouse: how a build connection is set up, and ad-hoc access.

Every connection that builds models (dbt's, through the plugin, and the fast engine's) gets the
same settings, UDFs and run variables from :func:`configure_build_connection` and
:func:`variable_statements`. No dbt import here: the fast engine must not pay for it.

Ad-hoc SQL: open the warehouse with the same run variables dbt had.

Tables (intermediate, marts) can be queried from any DuckDB client; the staging *views* read
Bronze through ``getvariable('bb_...')``, so a plain client must first be told which date to read::

    from breakbounce.warehouse import connect
    con = connect("target/breakbounce.duckdb", date="2025-12-16", bronze="data/bronze")
    con.sql("select * from staging.stg_bronze__es_mbp10 limit 5").show()
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path

import duckdb

from breakbounce import bronze, gold, storage
from breakbounce.errors import UserError
from breakbounce.plan import RunPlan, plan_run

#: storage format of a new warehouse file: the newest one the DuckDB shell installed by the set-up
#: (duckdb-cli on the package index, 1.5.x) can open; duckdb 2.0's own format (storage version 69)
#: is unreadable to it. Set on dbt's connection by the plugin and on the fast engine's; an existing
#: file keeps the format it was created in (docs/decisions.md, "DuckDB shell").
STORAGE_COMPATIBILITY = "v1.5.0"


def file_config() -> dict[str, str]:
    """The DuckDB config dbt's connection opens the warehouse with (the plugin sets it); another
    connection in the same process must use the same config."""
    return {"storage_compatibility_version": STORAGE_COMPATIBILITY}


_LOCK = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def lock_message(error: str, db_path: str) -> str | None:
    """One line naming the process that holds ``db_path`` if ``error`` is DuckDB's lock error, else None."""
    m = _LOCK.search(error)
    if m is None:
        return None
    return (
        f"the warehouse {db_path} is in use by PID {m['pid']} ({m['program']}), which has it open; "
        f"close that connection or wait for that process to end, then run again "
        f"(or build into another file with --db / BB_DUCKDB_PATH)"
    )


DEFAULT_MEMORY_LIMIT = "1500MB"


@functools.lru_cache(maxsize=8)
def _check_memory_limit(value: str) -> None:
    """DuckDB itself decides what a memory size is (e.g. 1500MB, 2GB, 1.5GiB)."""
    try:
        duckdb.connect().execute(f"set memory_limit = '{value.replace(chr(39), '')}'")
    except duckdb.Error as exc:
        reason = (str(exc).strip().splitlines() or ["not accepted"])[0]
        raise UserError(
            f"BB_MEMORY_LIMIT={value!r} is not a memory size DuckDB accepts "
            f"(e.g. 1500MB, 2GB; default {DEFAULT_MEMORY_LIMIT}): {reason}"
        ) from None


def build_settings() -> dict[str, str]:
    """DuckDB settings of every build connection (``BB_MEMORY_LIMIT`` caps the engine's memory; a value
    DuckDB does not accept is a :class:`UserError` naming the variable)."""
    memory = os.environ.get("BB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    _check_memory_limit(memory)
    return {
        "memory_limit": memory,
        # tables keep the order their SQL produced: Gold and the ordered models are deterministic
        "preserve_insertion_order": "true",
        "checkpoint_threshold": "1GB",
    }


def configure_build_connection(con: duckdb.DuckDBPyConnection) -> None:
    """Settings and UDFs of a build connection: python_udfs, and the Gold publishing functions
    (breakbounce/gold.py) that both engines publish through."""
    import python_udfs

    for name, value in build_settings().items():
        con.execute(f"set {name} = '{value}'")
    python_udfs.register(con)
    gold.register_udfs(con)


def _empty_file(spec: bronze.BronzeTable) -> str:
    """A zero-row parquet file with the contract schema, read in place of an absent table."""
    path = Path(tempfile.gettempdir()) / "breakbounce-empty" / f"{spec.name}-v1.parquet"
    if not path.exists():
        bronze.atomic_write_parquet(spec.schema.empty_table(), path)
    return str(path)


def _sql_list(values: list[str], cast: str) -> str:
    if not values:
        return f"[]::{cast}[]"
    # one cast of the whole list: parsed on every dbt node's cursor, a cast per element costs ms
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + f"]::{cast}[]"


_FINGERPRINT_TYPE = "struct(session_date date, bronze_fingerprint varchar)"


def variable_statements(plan: RunPlan | None, gold_root: str) -> list[str]:
    """The ``set variable bb_* = ...`` statements that hand ``plan`` to a DuckDB connection."""
    empty = {s.name: _empty_file(s) for s in bronze.TABLES.values()}
    if plan is None:
        values = {
            "bb_date": "null::date",
            "bb_sma_sessions": "[]::date[]",
            "bb_volume_sessions": "[]::date[]",
            "bb_es_trades_files": _sql_list([empty["futures_trades"]], "varchar"),
            "bb_mbp10_files": _sql_list([empty["futures_mbp10"]], "varchar"),
            "bb_option_files": _sql_list([empty["option_trades"]], "varchar"),
            "bb_gold_file": "null::varchar",
            "bb_warmup_fingerprints": f"[]::{_FINGERPRINT_TYPE}[]",
            "bb_gaps": "'[]'",
            "bb_session_start_ns": "null::bigint",
            "bb_session_end_ns": "null::bigint",
        }
    else:
        values = {
            "bb_date": f"'{plan.date}'::date",
            "bb_sma_sessions": _sql_list(plan.sma_sessions, "date"),
            "bb_volume_sessions": _sql_list(plan.volume_sessions, "date"),
            "bb_es_trades_files": _sql_list(plan.es_trade_files, "varchar"),
            "bb_mbp10_files": _sql_list(plan.mbp10_files or [empty["futures_mbp10"]], "varchar"),
            "bb_option_files": _sql_list(plan.option_files or [empty["option_trades"]], "varchar"),
            "bb_gold_file": "'" + gold.gold_file(gold_root, plan.date).replace("'", "''") + "'",
            "bb_warmup_fingerprints": "["
            + ", ".join(
                f"{{'session_date': '{d}', 'bronze_fingerprint': '{fp}'}}"
                for d, fp in sorted(plan.warmup_fingerprints.items())
            )
            + f"]::{_FINGERPRINT_TYPE}[]",
            # JSON text: [{"table", "session_date", "partition", "start_ns", "end_ns"}, ...] ('[]' without gaps)
            "bb_gaps": "'" + plan.gaps_json().replace("'", "''") + "'",
            # the run date's Globex window [18:00 ET D-1, 17:00 ET D) (the calendar seed's): constants
            # the planner sees, so a filter on them is a scan filter (a join to the calendar made
            # DuckDB estimate a few rows and turn the options' ASOF join into a nested loop)
            "bb_session_start_ns": f"{plan.session.globex_open_ns}::bigint",
            "bb_session_end_ns": f"{plan.session.globex_close_ns}::bigint",
        }
    values["bb_has_mbp10"] = "true" if plan is not None and plan.mbp10_files else "false"
    values["bb_has_options"] = "true" if plan is not None and plan.option_files else "false"
    return [f"set variable {k} = {v}" for k, v in values.items()]


def connect(
    db_path: str = "target/breakbounce.duckdb",
    date: str | None = None,
    bronze: str | None = None,
    gold: str | None = None,
    read_only: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to the warehouse; with ``date``, the staging views read that date."""
    con = duckdb.connect(db_path, read_only=read_only)
    if date is not None:
        bronze = bronze or os.environ.get("BB_BRONZE", "data/bronze")
        gold = storage.absolute(gold or os.environ.get("BB_GOLD", "data/gold"))
        # reading, not building: a date with missing hours is still explorable (bb_gaps lists them)
        plan = plan_run(date, bronze, allow_gaps=True)
        storage.register(con, plan.bronze_root, known=plan.file_entries)
        for stmt in variable_statements(plan, gold):
            con.execute(stmt)
    return con
