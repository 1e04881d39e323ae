"""The fast engine and a real ``dbt build`` give the same warehouse and byte-identical Gold, and can
take turns on one warehouse (the fast engine runs dbt's compiled SQL, so any difference is a bug)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from breakbounce.plan import plan_run
from tests.integration.conftest import run_breakbounce


def _tables(db: Path) -> dict[tuple[str, str], list[tuple[str, str]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() order by table_schema, table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict = {}
    for schema, table, column, dtype in rows:
        out.setdefault((schema, table), []).append((column, dtype))
    return out


def _differences(a: Path, b: Path, relations) -> list[str]:
    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only); attach '{b}' as b (read_only)")
    out = []
    for schema, table in relations:
        for x, y in (("a", "b"), ("b", "a")):
            n = con.execute(f"select count(*) from (select * from {x}.{schema}.{table} "
                            f"except all select * from {y}.{schema}.{table})").fetchall()[0][0]
            if n:
                out.append(f"{schema}.{table}: {n} row(s) only in {x}")
    con.close()
    return out


def _run(engine: str, day, work: Path, db: Path | None = None):
    db = db or work / "warehouse.duckdb"
    proc = run_breakbounce("run", "--engine", engine, "--date", day.date, "--bronze", str(day.bronze),
                           "--gold", str(work / "gold"), "--db", str(db), "--target-path", str(work / "dbt"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return db, work / "gold" / "signals" / f"date={day.date}" / "signals.parquet"


def test_fast_engine_equals_dbt_build(generated_day, tmp_path):
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    fast_db = generated_day.run.db
    fast_gold = generated_day.run.gold / "signals" / f"date={generated_day.date}" / "signals.parquet"
    dbt_db, dbt_gold = _run("dbt", generated_day, tmp_path / "dbt-engine")

    assert dbt_gold.read_bytes() == fast_gold.read_bytes()
    fast_tables, dbt_tables = _tables(fast_db), _tables(dbt_db)
    assert fast_tables == dbt_tables  # same relations, columns, order and types (views included)
    assert len(fast_tables) > 25
    con = duckdb.connect(str(fast_db), read_only=True)
    base_tables = con.execute("select schema_name, table_name from duckdb_tables() order by all").fetchall()
    con.close()
    assert len(base_tables) > 20
    assert _differences(fast_db, dbt_db, base_tables) == []


def test_engines_take_turns_on_one_warehouse(generated_day, tmp_path):
    """dbt after the fast engine reuses its warmup cache and stamps; the fast engine after dbt too."""
    work = tmp_path / "turns"
    db, gold = _run("fast", generated_day, work)
    first = gold.read_bytes()
    _run("dbt", generated_day, work, db)
    assert gold.read_bytes() == first
    _run("fast", generated_day, work, db)
    assert gold.read_bytes() == first
    con = duckdb.connect(str(db), read_only=True)
    try:
        stamps = con.execute(
            "select distinct comment from duckdb_tables() where schema_name in ('staging', 'intermediate', 'marts')"
        ).fetchall()
        cached = con.execute(
            "select count(distinct session_date) from intermediate.int_bars__es_session_minutes").fetchall()[0][0]
    finally:
        con.close()
    assert stamps == [(f"breakbounce run date {generated_day.date}",)]
    assert cached == len(plan_run(generated_day.date, generated_day.bronze).prior_sessions) == 3
