"""How the fast engine builds one node on a DuckDB cursor, with the statements dbt's materializations
run: seeds (loaded when their CSV changed), views, tables (checked against an enforced contract),
delete+insert incrementals, the run-date stamp, data tests and their one-line failure description,
and the project hooks. :mod:`breakbounce.engine` decides when each runs.
"""

from __future__ import annotations

import duckdb

from breakbounce.graph import EngineError, Node


def _stamp_sql(node: Node, date: str) -> str:
    return f"comment on table {node.relation} is 'breakbounce run date {date}'"


def _schema_and_name(node: Node) -> tuple[str, str]:
    schema, name = [p.strip('"') for p in node.relation.split(".")[-2:]]
    return schema, name


def catalog(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """(schema, name) -> 'table' | 'view' for the warehouse's relations, read once per run."""
    rows = con.execute(
        "select schema_name, table_name, 'table' from duckdb_tables() where database_name = current_database() "
        "union all select schema_name, view_name, 'view' from duckdb_views() "
        "where database_name = current_database() and not internal"
    ).fetchall()
    return {(schema, name): kind for schema, name, kind in rows}


def ensure_schema(con: duckdb.DuckDBPyConnection, node: Node, catalog: dict) -> None:
    schema = _schema_and_name(node)[0]
    if ("schema", schema) not in catalog:
        con.execute(f"create schema if not exists {'.'.join(node.relation.split('.')[:-1])}")
        catalog[("schema", schema)] = "schema"


def _replace_other_type(con: duckdb.DuckDBPyConnection, node: Node, wanted: str, catalog: dict) -> None:
    """Drop the node's relation if it exists as the other type (a model changed materialization)."""
    key = _schema_and_name(node)
    existing = catalog.get(key)
    if existing is not None and existing != wanted:
        con.execute(f"drop {existing} {node.relation}")
    catalog[key] = wanted


def _canonical_types(con: duckdb.DuckDBPyConnection, dtypes: list[str]) -> list[str]:
    """DuckDB's own spelling of each type name (e.g. ``bigint`` -> ``BIGINT``), in one query."""
    return list(con.execute("select " + ", ".join(f"typeof(null::{t})" for t in dtypes)).fetchall()[0])


def _check_contract(con: duckdb.DuckDBPyConnection, node: Node, select_sql: str) -> None:
    """The SQL's columns must be the contract's, with the same types (dbt's contract check)."""
    actual = [(r[0], r[1]) for r in con.execute(f"describe {select_sql}").fetchall()]
    expected = list(zip([name for name, _ in node.contract], _canonical_types(con, [t for _, t in node.contract])))
    if sorted(actual) != sorted(expected):
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        raise EngineError(f"{node.name}: the SQL does not match its contract: expected {missing}, got {extra}")


def _contract_ddl(node: Node) -> str:
    return ", ".join(f'"{name}" {dtype}' for name, dtype in node.contract)


def _column_list(node: Node) -> str:
    return ", ".join(f'"{name}"' for name, _ in node.contract)


SEED_STAMP_SQL = "select 'breakbounce seed md5:' || md5(content) from read_text(?)"  # as macros/run/seeds.sql


def build_seed(con: duckdb.DuckDBPyConnection, node: Node, catalog: dict) -> None:
    """Load the seed unless its table carries the stamp of this very CSV (macros/run/seeds.sql)."""
    stamp = con.execute(SEED_STAMP_SQL, [node.seed_path]).fetchall()[0][0]
    schema, name = _schema_and_name(node)
    row = con.execute(
        "select comment from duckdb_tables() where database_name = current_database() and schema_name = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    if row and row[0][0] == stamp:
        return  # loaded from this very CSV already
    header = con.execute(
        "select * from read_csv(?, header = true, all_varchar = true) limit 0", [node.seed_path]
    ).description
    names = [d[0] for d in header]
    untyped = [c for c in names if c not in node.seed_types]
    if untyped:
        raise EngineError(f"{node.name}: seed columns without column_types: {untyped}")
    columns = "{" + ", ".join(f"'{c}': '{node.seed_types[c]}'" for c in names) + "}"
    ensure_schema(con, node, catalog)
    con.execute("begin")
    try:
        _replace_other_type(con, node, "table", catalog)
        con.execute(
            f"create or replace table {node.relation} as select * from read_csv(?, header = true, "
            f"delim = ?, columns = {columns})",
            [node.seed_path, node.seed_delimiter],
        )
        con.execute(f"comment on table {node.relation} is '{stamp}'")
        con.execute("commit")
    except BaseException:
        rollback(con)
        raise


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back after a failure without masking it: when the failure was the commit itself (e.g. a
    full disk), DuckDB has already ended the transaction and ``rollback`` would raise a follow-on
    error ("cannot rollback - no transaction is active") in place of the first cause."""
    try:
        con.execute("rollback")
    except duckdb.Error:
        pass


def build_model(con: duckdb.DuckDBPyConnection, node: Node, date: str, catalog: dict) -> None:
    select_sql = f"({node.sql})"
    con.execute("begin")
    try:
        if node.materialized == "view":
            _replace_other_type(con, node, "view", catalog)
            con.execute(f"create or replace view {node.relation} as {node.sql}")
        elif node.materialized == "table":
            _replace_other_type(con, node, "table", catalog)
            if node.contract:
                _check_contract(con, node, select_sql)
                con.execute(f"create or replace table {node.relation} ({_contract_ddl(node)})")
                con.execute(
                    f"insert into {node.relation} ({_column_list(node)}) "
                    f"select {_column_list(node)} from {select_sql} as model_subq"
                )
            else:
                con.execute(f"create or replace table {node.relation} as {node.sql}")
        elif node.materialized == "incremental":
            _replace_other_type(con, node, "table", catalog)
            con.execute(f"create table if not exists {node.relation} ({_contract_ddl(node)})")
            _check_contract(con, node, select_sql)
            con.execute(f"create or replace temp table bb_incremental_rows as {node.sql}")
            key = f'"{node.unique_key}"'
            con.execute(f"delete from {node.relation} where {key} in (select {key} from bb_incremental_rows)")
            con.execute(
                f"insert into {node.relation} ({_column_list(node)}) select {_column_list(node)} from bb_incremental_rows"
            )
            con.execute("drop table bb_incremental_rows")
        if "stamp" in node.hooks and node.materialized in ("table", "incremental"):
            con.execute(_stamp_sql(node, date))
        con.execute("commit")
    except BaseException:
        rollback(con)
        raise


def run_test(con: duckdb.DuckDBPyConnection, node: Node) -> int:
    return int(con.execute(f"select count(*) from ({node.sql}) as dbt_internal_test").fetchall()[0][0])


def describe_test_failure(con: duckdb.DuckDBPyConnection, node: Node, failures: int, date: str) -> str:
    """What a failed test found, on one line: the rules with their counts and examples (row_rules
    tests return one row per violated rule), or up to 5 of the failing rows of any other test."""
    try:
        cur = con.execute(f"select * from ({node.sql}) as dbt_internal_test limit 5")
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    except duckdb.Error:
        rows, names = [], []
    if names[:2] == ["rule", "failing_rows"]:
        found = "; ".join(
            f"{r[0]}: {r[1]} row(s)" + "".join(f", {n} {v}" for n, v in zip(names[2:], r[2:]) if v is not None)
            for r in rows
        )
        what = f"{failures} rule(s) failed on {date}: {found}"
    else:
        found = "; ".join(", ".join(f"{n}={v}" for n, v in zip(names, r)) for r in rows)
        what = f"{failures} failing row(s) on {date}" + (f", e.g. {found}" if found else "")
    return f"{what}; inspect with: dbt test -s {node.name} --vars '{{date: {date}}}'"


def run_operation(con: duckdb.DuckDBPyConnection, op: Node, nodes: list[Node], catalog: dict) -> None:
    """A project hook (graph.KNOWN_OPERATIONS), on the build connection."""
    for action in op.hooks:
        if action == "load_seeds":
            for seed in (n for n in nodes if n.kind == "seed"):
                build_seed(con, seed, catalog)
        elif action == "guard":
            pass  # every model is rebuilt before any test reads it: no table can hold another date
        else:
            raise EngineError(f"{op.uid}: unknown operation {action}")
