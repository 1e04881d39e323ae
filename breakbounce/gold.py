"""Gold files: where they live, and the one implementation of publishing them.

``gold/signals/date=YYYY-MM-DD/signals.parquet`` is published by the same SQL statements whichever
engine runs the build (:func:`publish_statements`):

1. refuse when the relation holds a row of another session than the run date;
2. ``bb_gold_prepare(final)``: create the date folder, remove temp files left by dead runs;
3. ``COPY`` the rows, ordered by (ts_ns, level_kind), to ``<final>.tmp-<host>-<pid>`` (parquet, zstd;
   zero rows still give a file with the schema; every column OPTIONAL; the key-value metadata of
   :func:`kv_metadata`);
4. ``bb_publish_file(tmp, final)``: fsync the temp file, rename it over the final one, fsync the folder.

Gold on an object store (``--gold s3://bucket/prefix``): the temp file is local (a per-user folder
under the system's temp directory, :func:`temp_path`), and step 4 uploads it whole in one PUT
(:func:`breakbounce.storage.upload_file`): the object appears complete or not at all, and a run that
fails or dies before that leaves the previous object as it was.

dbt's ``publish_gold`` post-hook (macros/gold/publish_gold.sql) and the fast engine both ask for the
statements with :data:`PLAN_SQL` (the ``bb_gold_publish_sql`` UDF, arguments read from the run
variables of the connection) and run them in order on their build connection, so both write
identical bytes. A run that dies before step 4 leaves the previous Gold file untouched; its temp
file is removed by the next run of any date (:func:`remove_stale_temp_files`). Temp files are named
after the host and the process: on a folder that several machines share (a cluster's NFS), a run
removes only the temp files of dead processes of its own host (and any older than
:data:`FOREIGN_TEMP_MAX_AGE_S`).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import socket
import tempfile
import time

import duckdb

from breakbounce import __version__, storage

#: the label configuration keys of ``breakbounce.labels``, in order (dbt vars: macros/gold/gold_metadata.sql)
LABEL_KEYS = ("threshold_unit", "thresholds", "confirmation_windows", "lookforward_seconds", "primary_window")

#: asks for the publishing statements; parameters: the relation (quoted name) and the labels JSON
PLAN_SQL = (
    "select bb_gold_publish_sql(?, getvariable('bb_date')::varchar, getvariable('bb_gold_file'), ?, "
    "to_json(getvariable('bb_gaps'))::varchar)"
)


def gold_file(gold_root: str, date: str) -> str:
    """The Gold file of ``date`` under ``gold_root`` (a local folder or an object-store URL)."""
    return storage.join(gold_root, "signals", f"date={date}", "signals.parquet")


#: a temp file of another host (on a shared folder) is removed once it is this old: no build takes so long
FOREIGN_TEMP_MAX_AGE_S = 6 * 3600


def _host() -> str:
    return socket.gethostname().split(".")[0] or "localhost"


def _upload_dir() -> str:
    """Local folder of the temp files of Gold bound for an object store."""
    return os.path.join(tempfile.gettempdir(), f"breakbounce-{os.getuid()}", "gold-upload")


def temp_path(final: str) -> str:
    """This process's temp file for ``final``: beside it, or for an object a local file."""
    suffix = f".tmp-{_host()}-{os.getpid()}"
    if storage.is_url(final):
        key = hashlib.sha256(final.encode()).hexdigest()[:16]
        return os.path.join(_upload_dir(), f"{key}-{storage.name(final)}{suffix}")
    return f"{final}{suffix}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead(stale: str) -> bool:
    """Whether the temp file ``stale`` (``…tmp-<host>-<pid>``, or ``…tmp-<pid>`` as older runs named
    them) belongs to no live process: of this host, its process is gone; of another host, it is old."""
    tail = stale.rsplit(".tmp-", 1)[-1]
    host, _, pid = tail.rpartition("-")
    if not pid.isdigit():
        return False
    if host and host != _host():
        try:
            return time.time() - os.path.getmtime(stale) > FOREIGN_TEMP_MAX_AGE_S
        except OSError:
            return False
    return int(pid) != os.getpid() and not pid_alive(int(pid))


def _remove_dead_temps(pattern: str) -> list[str]:
    removed = []
    for stale in glob.glob(pattern):
        if _dead(stale):
            try:
                os.unlink(stale)
                removed.append(stale)
            except FileNotFoundError:
                pass
    return removed


def remove_stale_temp_files(gold_root: str) -> list[str]:
    """Temp files of dead runs under every date of ``gold_root`` (a run killed while publishing); for
    Gold on an object store, the local temp files of dead runs."""
    if storage.is_url(gold_root):
        return _remove_dead_temps(os.path.join(glob.escape(_upload_dir()), "*.tmp-*"))
    return _remove_dead_temps(os.path.join(glob.escape(gold_root), "signals", "date=*", "signals.parquet.tmp-*"))


def prepare(final: str) -> str:
    """Create the date directory (or the local upload folder), remove stale temp files of dead runs,
    return this run's temp path."""
    tmp = temp_path(final)
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    _remove_dead_temps(glob.escape(tmp.rsplit(".tmp-", 1)[0]) + ".tmp-*")
    return tmp


def publish(tmp: str, final: str) -> str:
    """Make ``tmp`` the Gold file ``final``, whole; return ``final``. A local file: fsync it, rename
    it over ``final``, fsync the folder. An object: one upload of the complete file, then the local
    temp file is removed."""
    if storage.is_url(final):
        try:
            storage.upload_file(tmp, final)
        finally:
            os.unlink(tmp)
        return final
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


# --- the Gold file's key-value metadata -----------------------------------------------------------


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def labels_json(labels: str | dict) -> str:
    """The ``breakbounce.labels`` value: the label configuration, keys in :data:`LABEL_KEYS` order."""
    value = json.loads(labels) if isinstance(labels, str) else labels
    if not isinstance(value, dict) or set(value) != set(LABEL_KEYS):
        raise ValueError(
            f"breakbounce: the Gold label configuration must have the keys {list(LABEL_KEYS)}, got {labels!r}"
        )
    return _compact({k: value[k] for k in LABEL_KEYS})


def gaps_json(raw: str | None) -> str:
    """The ``breakbounce.gaps`` value from ``to_json(getvariable('bb_gaps'))``: ``[]`` when unset;
    a VARCHAR variable holding JSON is decoded once more."""
    if raw is None:
        return "[]"
    value = json.loads(raw)
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list):
        raise ValueError(f"breakbounce: bb_gaps must be a list, got {raw!r}")
    return _compact(value)


def kv_metadata(labels: str | dict, gaps: str | None = None) -> dict[str, str]:
    """The Gold file's parquet key-value metadata."""
    return {
        "breakbounce.version": __version__,
        "breakbounce.labels": labels_json(labels),
        "breakbounce.gaps": gaps_json(gaps),
    }


# --- publishing -----------------------------------------------------------------------------------


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def publish_statements(relation: str, date: str | None, final: str | None, labels: str, gaps: str | None) -> list[str]:
    """The SQL statements that publish ``relation`` as the Gold file ``final`` of ``date``, in order."""
    if not date or not final:
        raise ValueError(
            "breakbounce: no run date / Gold target (bb_date, bb_gold_file); pass --vars '{date: YYYY-MM-DD}'"
        )
    tmp = temp_path(final)
    kv = ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in kv_metadata(labels, gaps).items())
    refusal = f"breakbounce: refusing to publish Gold for {date}: {relation} holds "
    return [
        # 1. never publish rows of another session (a subset run reading stale tables)
        f"select error({_literal(refusal)} || count(*) || ' row(s) of session ' || min(session_date)::varchar) "
        f"from {relation} where session_date is distinct from {_literal(date)}::date having count(*) > 0",
        # 2. the date's folder; temp files of dead runs removed
        f"select bb_gold_prepare({_literal(final)})",
        # 3. every column OPTIONAL: DuckDB marks a column REQUIRED when its statistics show no NULL,
        #    which would make the file schema depend on the day's data; a zero-row branch BY NAME
        #    that lacks every other column (NULL-filled) makes them all nullable, types unchanged
        f"copy (select * from (select * from {relation} union all by name select null as ts_ns from range(0)) "
        f"order by ts_ns, level_kind) to {_literal(tmp)} (format parquet, compression zstd, kv_metadata {{{kv}}})",
        # 4. fsync + rename over the final file
        f"select bb_publish_file({_literal(tmp)}, {_literal(final)})",
    ]


def publish_relation(con: duckdb.DuckDBPyConnection, relation: str, labels: str) -> str:
    """Publish ``relation`` as the run's Gold file on ``con`` (run variables set); return its path.

    The fast engine's side of dbt's ``publish_gold`` post-hook: the same :data:`PLAN_SQL`, the same
    statements, on the build connection.
    """
    statements = json.loads(con.execute(PLAN_SQL, [relation, labels]).fetchall()[0][0])
    final = None
    for stmt in statements:
        rows = con.execute(stmt).fetchall()
        final = rows[0][0] if rows else final
    return final


# --- UDFs (registered on every build connection) --------------------------------------------------
# Native (row by row) on purpose: they see one row, and the first Arrow UDF returning VARCHAR in a
# process imports pandas (~0.25 s).


def _prepare_udf(final: str | None) -> str | None:
    return None if final is None else prepare(final)


def _publish_udf(tmp: str | None, final: str | None) -> str | None:
    return None if tmp is None or final is None else publish(tmp, final)


def _publish_sql_udf(relation: str, date: str | None, final: str | None, labels: str, gaps: str | None) -> str:
    return json.dumps(publish_statements(relation, date, final, labels, gaps))


def function_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """UDFs live in the database instance, which DuckDB shares between connections to one file."""
    return bool(con.execute("select count(*) from duckdb_functions() where function_name = ?", [name]).fetchall()[0][0])


def register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """``bb_gold_prepare(final)``, ``bb_publish_file(tmp, final)`` and
    ``bb_gold_publish_sql(relation, date, final, labels, gaps) -> JSON list of statements``."""
    varchar = duckdb.sqltypes.VARCHAR
    for name, fn, params in (
        ("bb_gold_prepare", _prepare_udf, [varchar]),
        ("bb_publish_file", _publish_udf, [varchar, varchar]),
        ("bb_gold_publish_sql", _publish_sql_udf, [varchar] * 5),
    ):
        if function_exists(con, name):
            continue
        con.create_function(name, fn, params, varchar, type="native", side_effects=True, null_handling="special")
