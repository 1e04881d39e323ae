"""The fast engine (breakbounce/engine.py; graph in breakbounce/graph.py, schedule in breakbounce/schedule.py) on hand-made manifests: what
it accepts, the order it runs nodes in, each materialization, contracts, project hooks, and how
failures skip what is downstream."""

from __future__ import annotations

import tempfile

import pytest

from breakbounce import engine, graph, schedule

STAMP = [{"sql": "{{ stamp_run_date() }}"}]


def model(name, sql, deps=(), materialized="table", schema="s", hooks=STAMP, contract=None, **cfg):
    columns = {c: {"name": c, "data_type": t} for c, t in (contract or [])}
    return f"model.p.{name}", {
        "resource_type": "model",
        "name": name,
        "relation_name": f'"w"."{schema}"."{name}"',
        "compiled_code": sql,
        "depends_on": {"nodes": [f"model.p.{d}" if "." not in d else d for d in deps]},
        "columns": columns,
        "config": {
            "materialized": materialized,
            "enabled": True,
            "pre-hook": [],
            "post-hook": list(hooks),
            "contract": {"enforced": contract is not None},
            **cfg,
        },
    }


def data_test(name, sql, deps, **cfg):
    return f"test.p.{name}", {
        "resource_type": "test",
        "name": name,
        "relation_name": None,
        "compiled_code": sql,
        "depends_on": {"nodes": [f"model.p.{d}" for d in deps]},
        "columns": {},
        "config": {
            "materialized": "test",
            "enabled": True,
            "severity": "ERROR",
            "fail_calc": "count(*)",
            "warn_if": "!= 0",
            "error_if": "!= 0",
            "limit": None,
            "store_failures": None,
            **cfg,
        },
    }


def manifest(*nodes, **extra):
    return {"nodes": dict(nodes), "unit_tests": {}, "metadata": {"project_name": "p"}, **extra}


@pytest.fixture
def con(tmp_path):
    # the engine's own connection: the file attached as "w" (see engine.open_warehouse)
    c = engine.open_warehouse(str(tmp_path / "w.duckdb"), [])
    yield c
    c.close()


def run(con, nodes, date="2025-12-16", threads=2):
    results = engine.execute(nodes, con, date, "/nonexistent", log=lambda m: None, threads=threads)
    return {r.unique_id.split(".")[-1]: r for r in results}


# --- what the engine accepts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, message",
    [
        (model("a", "select 1", hooks=[{"sql": "{{ grant_all() }}"}]), "hook"),
        (model("a", "select 1", materialized="snapshot"), "materialization snapshot"),
        (
            model(
                "a",
                "select 1 as k",
                materialized="incremental",
                incremental_strategy="merge",
                unique_key="k",
                contract=[("k", "integer")],
            ),
            r"delete\+insert",
        ),
        (
            model(
                "a", "select 1 as k", materialized="incremental", incremental_strategy="delete+insert", unique_key="k"
            ),
            "contract",
        ),
        (data_test("t", "select 1", ["a"], severity="WARN"), "severity"),
        (data_test("t", "select 1", ["a"], limit=5), "limit"),
    ],
)
def test_refuses_what_it_does_not_implement(bad, message):
    with pytest.raises(engine.EngineError, match=message):
        graph.nodes_from_manifest(manifest(model("a", "select 1"), bad))


def test_refuses_a_contract_column_without_type():
    uid, node = model("a", "select 1 as x", contract=[("x", "")])
    with pytest.raises(engine.EngineError, match="data_type"):
        graph.nodes_from_manifest(manifest((uid, node)))


def test_order_is_by_dependency_then_name_with_tests_after_their_last_parent():
    nodes = graph.nodes_from_manifest(
        manifest(
            model("c", "select 1", deps=["a", "b"]),
            model("b", "select 1"),
            model("a", "select 1"),
            data_test("t_ab", "select 1 where false", ["a", "b"]),
            data_test("t_a", "select 1 where false", ["a"]),
            data_test("t_c", "select 1 where false", ["c"]),
        )
    )
    assert [n.name for n in schedule.execution_order(nodes)] == ["a", "t_a", "b", "t_ab", "c", "t_c"]


def test_graph_key_changes_with_any_project_file_and_the_vars_not_the_database(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.sql").write_text("select 1")
    (tmp_path / "dbt_project.yml").write_text("name: p")
    key = graph.graph_key(tmp_path)
    assert graph.graph_key(tmp_path, {}) == key
    assert graph.graph_key(tmp_path, {"touch_band": 0.2}) != key
    assert graph.graph_key(tmp_path, {"a": 1, "b": 2}) == graph.graph_key(tmp_path, {"b": 2, "a": 1})
    (tmp_path / "models" / "a.sql").write_text("select 2")
    assert graph.graph_key(tmp_path) != key


# --- materializations ----------------------------------------------------------------------------


def test_tables_views_and_stamps(con):
    nodes = graph.nodes_from_manifest(
        manifest(
            model("a", "select range as x from range(3)"),
            model("v", 'select x * 10 as y from "w"."s"."a"', deps=["a"], materialized="view"),
            model("e", "select 1", materialized="ephemeral"),
        )
    )
    res = run(con, nodes)
    assert {k: r.status for k, r in res.items()} == {"a": "success", "v": "success"}
    assert con.execute("select list(y order by y) from s.v").fetchall() == [([0, 10, 20],)]
    assert con.execute("select comment from duckdb_tables() where table_name = 'a'").fetchall() == [
        ("breakbounce run date 2025-12-16",)
    ]
    # a rerun for another date replaces the table and its stamp; a relation changing type is replaced
    nodes = graph.nodes_from_manifest(
        manifest(model("a", "select 7 as x"), model("v", "select 1 as y", materialized="table"))
    )
    run(con, nodes, date="2025-12-17")
    assert con.execute("select x from s.a").fetchall() == [(7,)]
    assert con.execute("select comment from duckdb_tables() where table_name = 'v'").fetchall() == [
        ("breakbounce run date 2025-12-17",)
    ]


def test_tables_are_written_in_row_groups_of_the_engine_size(con):
    rows = 2 * engine.ROW_GROUP_SIZE + 5
    run(con, graph.nodes_from_manifest(manifest(model("big", f"select range as x from range({rows})"))))
    groups = con.execute("select count(distinct row_group_id) from pragma_storage_info('s.big')").fetchall()
    assert groups == [(3,)]  # two full row groups written during the build, and the 5 left over
    assert con.execute("select count(*), sum(x) from s.big").fetchall() == [(rows, rows * (rows - 1) // 2)]


def test_contract_is_checked_and_fixes_the_column_order(con):
    ok = graph.nodes_from_manifest(
        manifest(model("a", "select 'x' as b, 1::bigint as a", contract=[("a", "bigint"), ("b", "varchar")]))
    )
    assert run(con, ok)["a"].status == "success"
    assert con.execute("select * from s.a").description[0][0] == "a"
    bad = graph.nodes_from_manifest(
        manifest(model("a", "select 'x' as b, 1::integer as a", contract=[("a", "bigint"), ("b", "varchar")]))
    )
    res = run(con, bad)["a"]
    assert res.status == "error" and "contract" in res.message and "INTEGER" in res.message
    assert con.execute("select a, b from s.a").fetchall() == [(1, "x")]  # the old table is kept


def test_incremental_creates_the_table_then_replaces_by_key(con):
    sql = (
        "select k, v from (values (1, 'new1'), (2, 'new2')) t(k, v) "
        'where not exists (select 1 from "w"."s"."inc" c where c.k = t.k and c.v = t.v)'
    )
    node = model(
        "inc",
        sql,
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="k",
        contract=[("k", "integer"), ("v", "varchar")],
    )
    nodes = graph.nodes_from_manifest(manifest(node))
    run(con, nodes)
    assert con.execute("select * from s.inc order by k").fetchall() == [(1, "new1"), (2, "new2")]
    con.execute("update s.inc set v = 'stale' where k = 2")
    con.execute("insert into s.inc values (3, 'kept')")
    run(con, nodes)
    assert con.execute("select * from s.inc order by k").fetchall() == [(1, "new1"), (2, "new2"), (3, "kept")]


def test_seed_loads_typed_and_reloads_only_when_the_csv_changes(con, tmp_path):
    csv = tmp_path / "seeds" / "cal.csv"
    csv.parent.mkdir()
    csv.write_text("d,n,flag\n2025-12-16,5,true\n")
    seed = (
        "seed.p.cal",
        {
            "resource_type": "seed",
            "name": "cal",
            "relation_name": '"w"."reference"."cal"',
            "root_path": str(tmp_path),
            "original_file_path": "seeds/cal.csv",
            "depends_on": {"macros": []},
            "columns": {},
            "config": {
                "materialized": "seed",
                "enabled": True,
                "pre-hook": [],
                "post-hook": [],
                "column_types": {"d": "date", "n": "bigint", "flag": "boolean"},
            },
        },
    )
    nodes = graph.nodes_from_manifest(manifest(seed))
    run(con, nodes)
    assert [d[1] for d in con.execute("describe reference.cal").fetchall()] == ["DATE", "BIGINT", "BOOLEAN"]
    con.execute("insert into reference.cal values ('2000-01-01', 0, false)")
    run(con, nodes)
    assert con.execute("select count(*) from reference.cal").fetchall() == [(2,)]  # unchanged CSV: not reloaded
    csv.write_text("d,n,flag\n2025-12-17,6,false\n")
    run(con, nodes)
    assert con.execute("select * from reference.cal").fetchall()[0][1] == 6


def test_seed_columns_must_all_be_typed(con, tmp_path):
    csv = tmp_path / "cal.csv"
    csv.write_text("d,n\n2025-12-16,5\n")
    seed = (
        "seed.p.cal",
        {
            "resource_type": "seed",
            "name": "cal",
            "relation_name": '"w"."reference"."cal"',
            "root_path": str(tmp_path),
            "original_file_path": "cal.csv",
            "depends_on": {},
            "columns": {},
            "config": {"materialized": "seed", "enabled": True, "column_types": {"d": "date"}},
        },
    )
    res = run(con, graph.nodes_from_manifest(manifest(seed)))["cal"]
    assert res.status == "error" and "['n']" in res.message


# --- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("threads", [1, 2])
def test_a_failing_test_skips_downstream_models_but_not_sibling_tests(con, threads):
    nodes = graph.nodes_from_manifest(
        manifest(
            model("a", "select range as x from range(3)"),
            data_test("a_positive", 'select * from "w"."s"."a" where x < 1', ["a"]),
            data_test("a_small", 'select * from "w"."s"."a" where x > 100', ["a"]),
            model("b", 'select x from "w"."s"."a"', deps=["a"]),
            model("c", 'select x from "w"."s"."b"', deps=["b"]),
            model("z", "select 1 as one"),
        )
    )
    res = run(con, nodes, threads=threads)
    assert res["a_positive"].status == "fail" and res["a_positive"].message.startswith("1 failing row(s)")
    assert res["a_small"].status == "pass"
    assert res["b"].status == res["c"].status == "skipped"
    assert res["z"].status == "success"


def test_a_failed_row_rule_names_the_rules_counts_examples_and_date(con):
    """A row_rules test returns one row per violated rule (rule, failing_rows, example_key,
    example_value): the failure message carries them, not just a count."""
    nodes = graph.nodes_from_manifest(
        manifest(
            model("a", "select range as x from range(5)"),
            data_test(
                "a_rules",
                "select * from (values ('x_positive', 1, '0', null), ('x_small', 2, '3', '3')) "
                "as v(rule, failing_rows, example_key, example_value)",
                ["a"],
            ),
        )
    )
    msg = run(con, nodes)["a_rules"].message
    assert msg.startswith(
        "2 rule(s) failed on 2025-12-16: x_positive: 1 row(s), example_key 0; "
        "x_small: 2 row(s), example_key 3, example_value 3; inspect with: dbt test -s a_rules"
    )


def test_a_failing_model_skips_its_tests_and_descendants(con):
    nodes = graph.nodes_from_manifest(
        manifest(
            model("a", "select no_such_column from range(3)"),
            data_test("a_t", 'select * from "w"."s"."a"', ["a"]),
            model("b", 'select * from "w"."s"."a"', deps=["a"]),
        )
    )
    res = run(con, nodes)
    assert res["a"].status == "error" and "no_such_column" in res["a"].message
    assert res["a_t"].status == res["b"].status == "skipped"


def test_ready_nodes_start_by_the_longest_chain_of_expected_seconds(con, tmp_path):
    nodes = graph.nodes_from_manifest(
        manifest(
            model("a1", "select 1 as x"),
            model("a2", 'select x from "w"."s"."a1"', deps=["a1"]),
            model("b", "select 2 as x"),
        )
    )
    order, waits = schedule.schedule(nodes)
    uid = {n.name: n.uid for n in nodes}
    # bottom levels: own seconds + the longest chain below (0.01 s for a node without a time)
    level = schedule.critical_path_priority(order, waits, {uid["a1"]: 1.0, uid["a2"]: 2.0})
    assert level == {uid["a1"]: 3.0, uid["a2"]: 2.0, uid["b"]: 0.01}

    def started(expected):
        res = engine.execute(
            nodes, con, "2025-12-16", "/nonexistent", log=lambda m: None, threads=1, expected_seconds=expected
        )
        assert all(r.status == "success" for r in res)
        return [r.unique_id.split(".")[-1] for r in sorted(res, key=lambda r: r.started)]

    assert started({}) == ["a1", "a2", "b"]  # no history: the longer chain (by node count) first
    assert started({uid["b"]: 5.0, uid["a1"]: 0.1, uid["a2"]: 0.1}) == ["b", "a1", "a2"]
    # the times of the last fast run written to a target path; anything else gives none
    engine.write_run_results(
        [engine.NodeResult(uid["b"], "success", 0.5), engine.NodeResult(uid["a1"], "skipped", 0.0)],
        1.0,
        str(tmp_path / "t"),
    )
    assert schedule.previous_seconds(str(tmp_path / "t")) == {uid["b"]: 0.5}
    assert schedule.previous_seconds(str(tmp_path / "missing")) == {}
    (tmp_path / "t" / "run_results.json").write_text('{"metadata": {"dbt_version": "1.11"}, "results": []}')
    assert schedule.previous_seconds(str(tmp_path / "t")) == {}


def test_models_wait_for_the_tests_of_what_they_read_unless_the_test_reads_them():
    nodes = graph.nodes_from_manifest(
        manifest(
            model("a", "select 1"),
            model("eph", "select 1", deps=["a"], materialized="ephemeral"),
            model("b", "select 1", deps=["eph"]),
            data_test("a_t", "select 1 where false", ["a"]),
            data_test("ab_t", "select 1 where false", ["a", "b"]),  # reads b: b cannot wait for it
            model("c", "select 1", deps=["b"]),
        )
    )
    order, waits = schedule.schedule(nodes)
    assert [n.name for n in order] == ["a", "a_t", "b", "ab_t", "c"]  # no ephemeral node
    assert waits["model.p.b"] == {"model.p.a", "test.p.a_t"}  # through the ephemeral model
    assert waits["model.p.c"] == {"model.p.b", "test.p.ab_t"}
    assert waits["test.p.ab_t"] == {"model.p.a", "model.p.b"}


def test_parallel_and_serial_runs_build_the_same_tables(tmp_path):
    whole = manifest(
        *[model(f"m{i}", f"select range * {i} as x from range(1000)") for i in range(6)],
        model(
            "total",
            " union all ".join(f'select sum(x) as s from "w"."s"."m{i}"' for i in range(6)),
            deps=[f"m{i}" for i in range(6)],
        ),
    )
    sums = []
    for threads in (1, 2):
        (tmp_path / f"t{threads}").mkdir()
        c = engine.open_warehouse(str(tmp_path / f"t{threads}" / "w.duckdb"), [])
        res = run(c, graph.nodes_from_manifest(whole), threads=threads)
        assert all(r.status == "success" for r in res.values())
        sums.append(sorted(c.execute("select s from s.total").fetchall()))
        c.close()
    assert sums[0] == sums[1] == sorted((sum(range(1000)) * i,) for i in range(6))


# --- project hooks, progress, the warehouse file -------------------------------------------------


def _seed(tmp_path, csv_text="d,n\n2025-12-16,5\n"):
    csv = tmp_path / "seeds" / "cal.csv"
    csv.parent.mkdir(exist_ok=True)
    csv.write_text(csv_text)
    return (
        "seed.p.cal",
        {
            "resource_type": "seed",
            "name": "cal",
            "relation_name": '"w"."reference"."cal"',
            "root_path": str(tmp_path),
            "original_file_path": "seeds/cal.csv",
            "depends_on": {"nodes": []},
            "columns": {},
            "config": {
                "materialized": "seed",
                "enabled": True,
                "pre-hook": [],
                "post-hook": [{"sql": "{{ stamp_seed() }}"}],
                "column_types": {"d": "date", "n": "bigint"},
                "delimiter": ",",
            },
        },
    )


def test_on_run_start_loads_seeds_before_any_node_with_the_stamp_dbt_sets(con, tmp_path):
    from .test_graph import operation

    nodes = graph.nodes_from_manifest(
        manifest(
            operation(0, "{{ load_stale_seeds() }}"),
            operation(1, "{{ assert_selected_built_for_run() }}"),
            _seed(tmp_path),
            model("reads_seed", 'select n * 2 as m from "w"."reference"."cal"', deps=["seed.p.cal"]),
        )
    )
    results = engine.execute(nodes, con, "2025-12-16", "/nonexistent", log=lambda m: None)
    assert [(r.unique_id.split(".")[-1], r.status) for r in results] == [
        ("p-on-run-start-0", "success"),
        ("p-on-run-start-1", "success"),
        ("cal", "success"),
        ("reads_seed", "success"),
    ]
    assert results[0].started <= results[2].started
    # the stamp is what macros/run/seeds.sql's seed_stamp computes: md5 of the CSV's bytes
    import hashlib

    digest = hashlib.md5((tmp_path / "seeds" / "cal.csv").read_bytes()).hexdigest()
    assert con.execute("select comment from duckdb_tables() where table_name = 'cal'").fetchall() == [
        (f"breakbounce seed md5:{digest}",)
    ]
    assert con.execute("select m from s.reads_seed").fetchall() == [(10,)]


def test_a_failing_on_run_start_hook_skips_every_node(con, tmp_path):
    from .test_graph import operation

    bad_seed = _seed(tmp_path, "d,n,untyped\n2025-12-16,5,x\n")
    nodes = graph.nodes_from_manifest(
        manifest(
            operation(0, "{{ load_stale_seeds() }}"),
            bad_seed,
            model("a", "select 1 as x"),
        )
    )
    results = {
        r.unique_id.split(".")[-1]: r for r in engine.execute(nodes, con, "2025-12-16", "/x", log=lambda m: None)
    }
    assert results["p-on-run-start-0"].status == "error" and "untyped" in results["p-on-run-start-0"].message
    assert results["cal"].status == results["a"].status == "skipped"


def test_progress_lines_are_numbered_in_the_order_they_print():
    import re

    nodes = graph.nodes_from_manifest(
        manifest(
            *[model(f"m{i}", f"select sum(range) as s from range({(6 - i) * 200_000})") for i in range(6)],
            data_test("t0", 'select * from "w"."s"."m0" where s < 0', ["m0"]),
        )
    )
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        c = engine.open_warehouse(f"{tmp}/w.duckdb", [])
        engine.execute(nodes, c, "2025-12-16", "/x", log=lines.append, threads=2)
        c.close()
    numbers = [int(m.group(1)) for m in (re.match(r"\s+(\d+)/7 ", line) for line in lines) if m]
    assert numbers == list(range(1, 8))


def test_a_new_warehouse_file_is_readable_by_the_duckdb_shell_format(tmp_path):
    from breakbounce import warehouse

    c = engine.open_warehouse(str(tmp_path / "w.duckdb"), [])
    tags = c.execute("select tags['storage_version'] from duckdb_databases() where database_name = 'w'").fetchall()
    c.close()
    assert tags == [(warehouse.STORAGE_COMPATIBILITY + "+",)]


def test_a_held_warehouse_is_one_line_naming_the_holder(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "w.duckdb"
    engine.open_warehouse(str(db), []).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}, read_only=True); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(engine.EngineError) as err:
            engine.open_warehouse(str(db), [])
        message = str(err.value)
        assert "\n" not in message
        assert f"in use by PID {holder.pid}" in message and str(db) in message and "--db" in message
    finally:
        holder.kill()
        holder.wait()
