"""The ``row_rules`` generic test (macros/tests/row_rules.sql) still fails when data is bad.

- On hand-built rows: the macro is compiled by dbt (``dbt compile --inline``) over a VALUES table with
  one planted violation of each rule kind (NULL, value outside accepted_values, out of range, a
  null_exactly_when mismatch, a false / NULL expression, an expression with ``where``); it reports
  exactly the violated rules with their failing row counts and example rows, nothing on clean rows,
  and each count equals what the single-rule test it replaces (dbt's not_null / accepted_values,
  accepted_range, null_exactly_when, assert_expression) finds on the same rows.
- On a built day: rows of fct_touch_signals and int_touches__relative_volume are damaged in a copy
  of the generated day's warehouse, and ``dbt test`` of the models' row_rules nodes fails with the
  damaged rules named.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from .conftest import PROJECT_DIR, compile_inline

COLUMNS = "id, kind, dist, ratio, prior, hi, lo"
BAD_ROWS = [
    (1, "'WALL'", 0.1, 1.5, 10.0, 5, 1),  # clean
    (2, "null", 0.2, "null", 0.0, 5, 1),  # not_null:kind (NULL is not an accepted_values failure)
    (3, "'BOGUS'", 0.1, 2.0, 5.0, 5, 1),  # accepted_values:kind
    (4, "'VACUUM'", 0.3, 1.0, 5.0, 5, 1),  # accepted_range:dist
    (5, "'VACUUM'", "null", "null", 5.0, 5, 1),  # null_exactly_when:ratio (NULL, prior > 0); NULL dist passes
    (6, "'VACUUM'", 0.1, 3.0, "null", 5, 1),  # null_exactly_when:ratio (set, prior NULL)
    (7, "'VACUUM'", 0.1, 1.0, 1.0, 1, 2),  # hi_covers_lo false
    (8, "'VACUUM'", 0.1, 1.0, 1.0, "null", 2),  # hi_covers_lo NULL = failure
    ("null", "'WALL'", 0.1, 1.0, 1.0, 3, 1),  # not_null:id
    (10, "'VACUUM'", 0.1, 1.0, 1.0, -1, -5),  # accepted_range:lo; hi_positive_on_walls not applied (where)
    (11, "'it''s'", 0.25, 1.0, 1.0, 3, 0),  # quoted value accepted, 0.25 inclusive; lo = 0 exclusive fails
    (12, "'WALL'", 0.1, 1.0, 1.0, -1, -5),  # hi_positive_on_walls, accepted_range:lo
]
GOOD_ROWS = [BAD_ROWS[0], (2, "'VACUUM'", 0.25, "null", "null", 2, 1), (3, "'it''s'", 0.0, "null", 0.0, 1, 0.5)]
TYPES = (
    "id::int as id, kind::varchar as kind, dist::double as dist, ratio::double as ratio, "
    "prior::double as prior, hi::int as hi, lo::double as lo"
)

RULES = (
    "key='id', not_null=['id', 'kind'], accepted_values={'kind': ['WALL', 'VACUUM', \"it's\"]}, "
    "accepted_range={'dist': {'min_value': 0, 'max_value': 0.25}, 'lo': {'min_value': 0, 'inclusive': false}}, "
    "null_exactly_when={'ratio': 'coalesce(prior, 0) = 0'}, "
    "expressions={'hi_covers_lo': 'hi >= lo', 'hi_positive_on_walls': {'expression': 'hi > 0', 'where': \"kind = 'WALL'\"}}"
)
# (rule, failing rows, example key = smallest failing id, example value = smallest offending value)
EXPECTED = [
    ("not_null:id", 1, None, None),
    ("not_null:kind", 1, "2", None),
    ("accepted_values:kind", 1, "3", "BOGUS"),
    ("accepted_range:dist", 1, "4", "0.3"),
    ("accepted_range:lo", 3, "10", "-5.0"),
    ("null_exactly_when:ratio", 2, "5", None),
    ("hi_covers_lo", 2, "7", None),
    ("hi_positive_on_walls", 1, "12", None),
]
# the single-rule tests row_rules stands for, on the same rows: rule -> (test macro call, count expression)
SINGLE_TESTS = {
    "not_null:id": ("test_not_null(model=M, column_name='id')", "count(*)"),
    "not_null:kind": ("test_not_null(model=M, column_name='kind')", "count(*)"),
    # dbt's accepted_values returns one row per bad value with its row count (and does not escape quotes)
    "accepted_values:kind": (
        "test_accepted_values(model=M, column_name='kind', values=['WALL', 'VACUUM', \"it''s\"])",
        "coalesce(sum(n_records), 0)",
    ),
    "accepted_range:dist": (
        "test_accepted_range(model=M, column_name='dist', min_value=0, max_value=0.25)",
        "count(*)",
    ),
    "accepted_range:lo": ("test_accepted_range(model=M, column_name='lo', min_value=0, inclusive=false)", "count(*)"),
    "null_exactly_when:ratio": (
        "test_null_exactly_when(model=M, column_name='ratio', condition='coalesce(prior, 0) = 0')",
        "count(*)",
    ),
    "hi_covers_lo": ("test_assert_expression(model=M, expression='hi >= lo')", "count(*)"),
    "hi_positive_on_walls": (
        "test_assert_expression(model=M, expression='hi > 0', where=\"kind = 'WALL'\")",
        "count(*)",
    ),
}
SPLIT = "-- @@row_rules_split@@"


def _relation(rows) -> str:
    values = ", ".join("(" + ", ".join(str(v) for v in r) + ")" for r in rows)
    return f"(select {TYPES} from (values {values}) as t({COLUMNS}))"


def _inline_sql() -> str:
    parts = [
        '{% set M = "' + _relation(BAD_ROWS) + '" %}',
        "{{ test_row_rules(model=M, " + RULES + ") }}",
        SPLIT,
        '{{ test_row_rules(model="' + _relation(GOOD_ROWS) + '", ' + RULES + ") }}",
    ]
    for call, _ in SINGLE_TESTS.values():
        parts += [SPLIT, "{{ " + call + " }}"]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> list[str]:
    """The row_rules query on the bad and the good rows, then each single-rule test, compiled by dbt."""
    work = tmp_path_factory.mktemp("row-rules-compile")
    sql = compile_inline(_inline_sql(), work)
    queries = sql.split(SPLIT)
    assert len(queries) == 2 + len(SINGLE_TESTS)
    return queries


def test_reports_each_violated_rule_with_its_count(compiled):
    rows = duckdb.connect().execute(compiled[0]).fetchall()
    assert rows == EXPECTED


def test_one_scan_of_the_model(compiled):
    plan = duckdb.connect().execute("explain (format json) " + compiled[0]).fetchall()[0][1]
    # the VALUES table is read once, and one aggregate counts every rule
    assert plan.count('"COLUMN_DATA_SCAN"') == 1 and plan.count('"UNGROUPED_AGGREGATE"') == 1


def test_clean_rows_pass(compiled):
    assert duckdb.connect().execute(compiled[1]).fetchall() == []


def test_counts_equal_the_single_rule_tests(compiled):
    con = duckdb.connect()
    got = {rule: n for rule, n, _, _ in con.execute(compiled[0]).fetchall()}
    for (rule, (_, count)), sql in zip(SINGLE_TESTS.items(), compiled[2:]):
        assert con.execute(f"select {count} from ({sql})").fetchall()[0][0] == got.get(rule, 0), rule


def test_dbt_test_fails_on_damaged_models(generated_day, tmp_path):
    """Damage a copy of the generated day's warehouse; the models' row_rules nodes name the damage."""
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    db = tmp_path / "warehouse.duckdb"  # same file name: the compiled SQL names the catalog after it
    shutil.copy(generated_day.run.db, db)
    con = duckdb.connect(str(db))
    ids = [
        r[0] for r in con.execute("select event_id from marts.fct_touch_signals order by event_id limit 5").fetchall()
    ]
    con.execute("update marts.fct_touch_signals set distance = null where event_id = ?", [ids[0]])
    con.execute("update marts.fct_touch_signals set barrier_state = 'BOGUS' where event_id = ?", [ids[1]])
    con.execute("update marts.fct_touch_signals set distance = 0.5 where event_id in (?, ?)", [ids[2], ids[3]])
    con.execute("update marts.fct_touch_signals set symbol = 'QQQ' where event_id = ?", [ids[4]])
    rel = con.execute(
        "select min(event_id) from intermediate.int_touches__relative_volume where prior_mean_cum_volume > 0"
    ).fetchall()[0][0]
    con.execute("update intermediate.int_touches__relative_volume set rel_vol_ratio = null where event_id = ?", [rel])
    con.close()

    target = tmp_path / "dbt"
    env = {
        **os.environ,
        "BB_DUCKDB_PATH": str(db),
        "BB_DATE": generated_day.date,
        "BB_BRONZE": str(generated_day.bronze),
        "BB_GOLD": str(tmp_path / "gold"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbt.cli.main",
            "test",
            "--select",
            "fct_touch_signals_row_rules int_touches__relative_volume_row_rules",
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_DIR,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = {
        r["unique_id"].split(".")[2]: r
        for r in json.loads((target / "run_results.json").read_text())["results"]
        if r["unique_id"].startswith("test.")
    }  # not the project hooks
    assert {k: (r["status"], r["failures"]) for k, r in results.items()} == {
        "fct_touch_signals_row_rules": ("fail", 4),
        "int_touches__relative_volume_row_rules": ("fail", 1),
    }
    violated = {}
    con = duckdb.connect(str(db), read_only=True)
    for name in results:
        sql = next((target / "compiled").rglob(f"{name}.sql")).read_text()
        violated[name] = con.execute(sql).fetchall()
    con.close()
    assert violated["fct_touch_signals_row_rules"] == [
        ("not_null:distance", 1, ids[0], None),
        ("accepted_values:barrier_state", 1, ids[1], "BOGUS"),
        ("accepted_range:distance", 2, ids[2], "0.5"),
        ("symbol_is_spy", 1, ids[4], None),
    ]
    assert violated["int_touches__relative_volume_row_rules"] == [("null_exactly_when:rel_vol_ratio", 1, rel, None)]


def test_unique_key_and_same_rows_as_rules(tmp_path):
    """unique_key and same_rows_as count what unique_key_combination / same_rows_as would find."""
    model = "(select * from (values (1, 'A'), (1, 'A'), (2, 'B'), (3, 'C'), (3, 'D')) as t(id, kind))"
    other = "(select * from (values (1), (2), (2), (4), (5)) as t(oid))"
    calls = [
        # ours per id: 1->2, 2->1, 3->2; theirs (x2, oid <> 5): 1->2, 2->4, 4->2 => ids 2, 3, 4 differ
        '{{ test_row_rules(model="' + model + "\", unique_key=['id', 'kind'], same_rows_as={'column': 'id', "
        "'compare_model': \""
        + other
        + "\", 'compare_column': 'oid', 'multiplier': 2, 'compare_where': 'oid <> 5'}) }}",
        '{{ test_unique_key_combination(model="' + model + "\", columns=['id', 'kind']) }}",
        '{{ test_same_rows_as(model="' + model + "\", column_name='id', compare_model=\"" + other + '", '
        "compare_column='oid', multiplier=2, compare_where='oid <> 5') }}",
        # clean: unique on id alone fails (1 and 3 repeat), on (id, kind) for distinct rows passes
        '{{ test_row_rules(model="(select distinct * from ' + model + ")\", unique_key=['id', 'kind']) }}",
    ]
    queries = compile_inline(f"\n{SPLIT}\n".join(calls), tmp_path).split(SPLIT)
    con = duckdb.connect()
    rows = con.execute(queries[0]).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("unique_key:(id, kind)", 1), ("same_rows_as:id", 3)]
    assert "1" in rows[0][2] and "A" in rows[0][2] and rows[0][3] == "2"  # the duplicated key, 2 copies
    assert rows[1][2] == "2"  # smallest differing id
    # the single-rule tests find the same: one duplicated key, three differing ids
    assert len(con.execute(queries[1]).fetchall()) == 1
    assert sorted(r[0] for r in con.execute(queries[2]).fetchall()) == [2, 3, 4]
    assert con.execute(queries[3]).fetchall() == []
