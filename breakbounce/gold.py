"""Gold files: where they live and how they are published atomically.

``gold/signals/date=YYYY-MM-DD/signals.parquet`` is written by the marts model's post-hook as
``COPY ... TO '<final>.tmp-<pid>'`` followed by ``bb_publish_file(tmp, final)``, a UDF that fsyncs
and renames the temporary file over the final one. A run that dies before the rename leaves the
previous Gold file untouched; stale temporary files are removed by the next publish.
"""

from __future__ import annotations

import glob
import os

import duckdb
import pyarrow as pa


def gold_file(gold_root: str, date: str) -> str:
    return os.path.join(gold_root, "signals", f"date={date}", "signals.parquet")


def temp_path(final: str) -> str:
    return f"{final}.tmp-{os.getpid()}"


def prepare(final: str) -> str:
    """Create the date directory, remove stale temp files of dead runs, return this run's temp path."""
    os.makedirs(os.path.dirname(final), exist_ok=True)
    for stale in glob.glob(glob.escape(final) + ".tmp-*"):
        pid = stale.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass
    return temp_path(final)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def publish(tmp: str, final: str) -> str:
    """fsync ``tmp`` and atomically rename it to ``final``; return ``final``."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, final)
    dfd = os.open(os.path.dirname(final), os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return final


def _prepare_udf(final: pa.Array) -> pa.Array:
    return pa.array([None if f is None else prepare(f) for f in final.to_pylist()], pa.string())


def _publish_udf(tmp: pa.Array, final: pa.Array) -> pa.Array:
    pairs = zip(tmp.to_pylist(), final.to_pylist())
    return pa.array([None if t is None or f is None else publish(t, f) for t, f in pairs], pa.string())


def function_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """UDFs live in the database instance, which DuckDB shares between connections to one file."""
    return bool(con.execute("select count(*) from duckdb_functions() where function_name = ?", [name]).fetchall()[0][0])


def register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """``bb_gold_prepare(final) -> temp path`` and ``bb_publish_file(tmp, final) -> final``."""
    varchar = duckdb.sqltypes.VARCHAR
    for name, fn, params in (
        ("bb_gold_prepare", _prepare_udf, [varchar]),
        ("bb_publish_file", _publish_udf, [varchar, varchar]),
    ):
        if function_exists(con, name):
            continue
        con.create_function(
            name, fn, params, varchar, type="arrow", side_effects=True, null_handling="special"
        )


def copy_sql(relation: str, columns: list[tuple[str, str]], tmp: str) -> str:
    """The COPY writing ``relation`` to ``tmp`` as Gold: ordered by (ts_ns, level_kind), zstd, every
    column OPTIONAL (a typed zero-row UNION ALL branch; see macros/gold/publish_gold.sql)."""
    nullable = ", ".join(f'null::{dtype} as "{name}"' for name, dtype in columns)
    return (
        f"copy (select * from (select * from {relation} union all select {nullable} from range(0)) "
        f"order by ts_ns, level_kind) to '{tmp.replace(chr(39), chr(39) * 2)}' (format parquet, compression zstd)"
    )


def publish_relation(con: duckdb.DuckDBPyConnection, relation: str, date: str, final: str) -> str:
    """Publish ``relation`` (the Gold view) as the Gold file of ``date``, atomically.

    The fast engine's version of the ``publish_gold`` post-hook, step for step: refuse rows of another
    session, write a temp file beside ``final``, fsync and rename it over ``final``.
    """
    foreign, other = con.execute(
        f"select count(*), min(session_date)::varchar from {relation} where session_date is distinct from ?::date",
        [date],
    ).fetchall()[0]
    if foreign:
        raise RuntimeError(f"refusing to publish Gold for {date}: {relation} holds {foreign} row(s) of session {other}")
    tmp = prepare(final)
    columns = [(r[0], r[1]) for r in con.execute(f"describe {relation}").fetchall()]
    con.execute(copy_sql(relation, columns, tmp))
    return publish(tmp, final)
