"""The fast engine and a real ``dbt build`` give the same warehouse and byte-identical Gold, and can
take turns on one warehouse (the fast engine runs dbt's compiled SQL, so any difference is a bug)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from breakbounce.plan import plan_run
from tests.integration.conftest import PROJECT_DIR, run_breakbounce


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
            n = con.execute(
                f"select count(*) from (select * from {x}.{schema}.{table} "
                f"except all select * from {y}.{schema}.{table})"
            ).fetchall()[0][0]
            if n:
                out.append(f"{schema}.{table}: {n} row(s) only in {x}")
    con.close()
    return out


def _run(engine: str, day, work: Path, db: Path | None = None):
    db = db or work / "warehouse.duckdb"
    proc = run_breakbounce(
        "run",
        "--engine",
        engine,
        "--date",
        day.date,
        "--bronze",
        str(day.bronze),
        "--gold",
        str(work / "gold"),
        "--db",
        str(db),
        "--target-path",
        str(work / "dbt"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return db, work / "gold" / "signals" / f"date={day.date}" / "signals.parquet"


@pytest.mark.slow
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


@pytest.mark.slow
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
            "select count(distinct session_date) from staging.stg_bronze__es_session_minutes"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert stamps == [(f"breakbounce run date {generated_day.date}",)]
    assert cached == len(plan_run(generated_day.date, generated_day.bronze).prior_sessions) == 3


#: non-default maths (a wider touch band) and label thresholds (recorded in the Gold metadata); the
#: README's --vars example uses the same, so the two share one compiled graph
VARS = "{touch_band: 0.15, label_thresholds: [0.5, 1.5]}"


@pytest.mark.slow
def test_vars_give_the_same_gold_on_both_engines(generated_day, tmp_path):
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    golds = {}
    for engine in ("fast", "dbt"):
        work = tmp_path / engine
        proc = run_breakbounce(
            "run",
            "--engine",
            engine,
            "--vars",
            VARS,
            "--date",
            generated_day.date,
            "--bronze",
            str(generated_day.bronze),
            "--gold",
            str(work / "gold"),
            "--db",
            str(work / "warehouse.duckdb"),
            "--target-path",
            str(work / "dbt"),
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        golds[engine] = work / "gold" / "signals" / f"date={generated_day.date}" / "signals.parquet"
    assert golds["fast"].read_bytes() == golds["dbt"].read_bytes()
    default = generated_day.run.gold / "signals" / f"date={generated_day.date}" / "signals.parquet"
    tuned, base = pq.read_table(golds["fast"]), pq.read_table(default)
    assert tuned.num_rows > base.num_rows  # a wider band finds more touches
    labels = json.loads(pq.ParquetFile(golds["fast"]).metadata.metadata[b"breakbounce.labels"])
    assert labels["thresholds"] == [0.5, 1.5]
    assert json.loads(pq.ParquetFile(default).metadata.metadata[b"breakbounce.labels"])["thresholds"] != [0.5, 1.5]


@pytest.mark.slow
def test_a_failing_test_skips_the_same_nodes_on_both_engines(generated_day, tmp_path):
    """A project with one deliberately failing data test on the touches: both engines report the
    same status for every node (hooks, seed, models, tests), skip everything downstream of the
    touches, run the other tests, and publish no Gold."""
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    proj = tmp_path / "project"
    proj.mkdir()
    for rel in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt"):
        src = PROJECT_DIR / rel
        if src.is_dir():
            shutil.copytree(src, proj / rel, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, proj / rel)
    (proj / "tests" / "dbt" / "assert_deliberately_failing.sql").write_text(
        "-- fails whenever there is a touch: for the engine-equivalence test only\n"
        "select event_id from {{ ref('int_touches__detected') }}\n"
    )
    statuses = {}
    for engine in ("fast", "dbt"):
        work = tmp_path / engine
        proc = run_breakbounce(
            "run",
            "--engine",
            engine,
            "--date",
            generated_day.date,
            "--bronze",
            str(generated_day.bronze),
            "--gold",
            str(work / "gold"),
            "--db",
            str(work / "warehouse.duckdb"),
            "--target-path",
            str(work / "dbt"),
            env={"DBT_PROJECT_DIR": str(proj)},
        )
        assert proc.returncode == 1, proc.stderr[-3000:]
        assert "assert_deliberately_failing" in proc.stderr.strip().splitlines()[-1]
        assert not (work / "gold").exists()
        results = json.loads((work / "dbt" / "run_results.json").read_text())["results"]
        statuses[engine] = {r["unique_id"]: r["status"] for r in results}
    assert statuses["fast"] == statuses["dbt"]
    fast = statuses["fast"]
    assert fast["test.breakbounce.assert_deliberately_failing"] == "fail"
    assert fast["model.breakbounce.fct_touch_signals"] == fast["model.breakbounce.gold_touch_signals"] == "skipped"
    assert fast["model.breakbounce.int_touches__detected"] == "success"
    assert fast["operation.breakbounce.breakbounce-on-run-start-0"] == "success"
    assert sum(s == "skipped" for s in fast.values()) >= 10 and sum(s == "pass" for s in fast.values()) >= 10
