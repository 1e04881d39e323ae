"""``breakbounce sql``: the DuckDB shell on the warehouse and on Gold, with presets.

The shell is the DuckDB CLI that the set-up installs (the ``duckdb-cli`` package, pinned in
pyproject.toml), which reads the warehouse because the warehouse is written in a storage format
it knows (:data:`breakbounce.warehouse.STORAGE_COMPATIBILITY`; docs/decisions.md). This command
starts it with:

- the warehouse attached read-only under its own name, as the current database (``marts.…``,
  ``intermediate.…`` resolve; the compiled views name their tables ``"<name>".schema.table``);
- ``gold``: a view of the Gold files of every built date as one table (``union_by_name``, so dates
  written before a column was added read it as NULL);
- with ``--date``, the run variables of that date (:func:`breakbounce.warehouse.variable_statements`),
  so the staging views read that date's Bronze.

``breakbounce sql "select …"`` runs the statement and exits; without SQL the shell is interactive.
While it is open it holds a read lock on the warehouse: a build then stops with one line naming it.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys

from breakbounce.errors import UserError

DESCRIPTION = """\
Open the DuckDB shell on the warehouse (read-only) and on Gold. `gold` is a view of the Gold files
of every built date as one table; with --date the staging views read that date's Bronze. With SQL,
run it and exit; without, an interactive shell (.help for its commands, .quit to leave)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sql", help="DuckDB shell on the warehouse and Gold (view `gold`: every date)", description=DESCRIPTION
    )
    p.add_argument("sql", nargs="?", help="a statement to run (default: an interactive shell)")
    p.add_argument(
        "--db",
        default=os.environ.get("BB_DUCKDB_PATH", "target/breakbounce.duckdb"),
        help="the warehouse (default: $BB_DUCKDB_PATH or target/breakbounce.duckdb)",
    )
    p.add_argument(
        "--gold", default=os.environ.get("BB_GOLD", "data/gold"), help="Gold root (default: $BB_GOLD or data/gold)"
    )
    p.add_argument(
        "--bronze",
        default=os.environ.get("BB_BRONZE", "data/bronze"),
        help="Bronze root, with --date (default: $BB_BRONZE or data/bronze)",
    )
    p.add_argument("--date", default=None, help="set the run variables of this date, so the staging views read it")
    p.set_defaults(func=cmd_sql)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def gold_glob(gold_root: str) -> str:
    return os.path.join(os.path.abspath(gold_root), "signals", "date=*", "signals.parquet")


def init_statements(db: str | None, gold_root: str, variables: list[str] = ()) -> list[str]:
    """The statements the shell runs first (see the module docstring)."""
    out = []
    if db is not None:
        from breakbounce.graph import database_name

        name = '"' + database_name(db).replace('"', '""') + '"'
        out += [f"attach {_literal(os.path.abspath(db))} as {name} (read_only)", f"use {name}"]
    pattern = gold_glob(gold_root)
    if glob.glob(pattern):
        out.append(
            f"create or replace temp view gold as select * from read_parquet({_literal(pattern)}, "
            "union_by_name = true, hive_partitioning = false)"
        )
    out += list(variables)
    return out


def shell() -> str:
    """The DuckDB CLI of this environment (beside the interpreter), else the one on PATH."""
    here = os.path.dirname(sys.executable)
    found = shutil.which("duckdb", path=here) or shutil.which("duckdb")
    if not found:
        raise UserError(
            "no DuckDB shell: the `duckdb` command comes with the duckdb-cli package (bash scripts/setup.sh)", code=1
        )
    return found


#: the newest storage version number the DuckDB shell of the set-up (duckdb-cli 1.5.x) reads
SHELL_STORAGE_VERSION = 68


def storage_version(db: str) -> int | None:
    """The version number in a DuckDB file's header (None: not a DuckDB file)."""
    with open(db, "rb") as fh:
        head = fh.read(20)
    if len(head) < 20 or head[8:12] != b"DUCK":
        return None
    return int.from_bytes(head[12:20], "little")


def cmd_sql(args: argparse.Namespace) -> int:
    from breakbounce import storage

    for name, location in (("--gold", args.gold), ("--bronze", args.bronze)):
        if storage.is_url(location):
            raise UserError(
                f"{name} {location}: the DuckDB shell reads local files only (its httpfs extension "
                f"is not installed here); in Python, breakbounce.dataset.load_gold reads Gold from "
                f"an object store"
            )
    db = args.db if os.path.exists(args.db) else None
    version = storage_version(db) if db else None
    if version is not None and version > SHELL_STORAGE_VERSION:
        raise UserError(
            f"{db} was written in DuckDB 2.0's own storage format, which the DuckDB shell cannot open "
            f"(warehouses written since are in its format): delete it and build again"
        )
    if db is None and not glob.glob(gold_glob(args.gold)):
        raise UserError(f"neither a warehouse ({args.db}) nor Gold files ({gold_glob(args.gold)}): build a date first")
    variables: list[str] = []
    if args.date:
        from breakbounce import warehouse
        from breakbounce.plan import BronzeError, plan_run

        try:
            plan = plan_run(args.date, args.bronze)
        except BronzeError as exc:
            raise UserError(str(exc)) from None
        variables = warehouse.variable_statements(plan, os.path.abspath(args.gold))
    cmd = [shell(), "-bail"]
    for stmt in init_statements(db, args.gold, variables):
        cmd += ["-cmd", stmt]
    if args.sql:
        cmd += ["-c", args.sql]
    return subprocess.run(cmd).returncode
