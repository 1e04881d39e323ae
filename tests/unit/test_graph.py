"""The fast engine's graph (breakbounce/graph.py): the exact boundary of what it runs, skips and
refuses, the database name bound at load time (a new --db name reuses the compiled graph), and the
removal of what killed compiles left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

from breakbounce import graph

from .test_engine import STAMP, data_test, manifest, model


def operation(index: int, code: str, hook_type: str = "on-run-start"):
    return f"operation.p.p-{hook_type}-{index}", {
        "resource_type": "operation",
        "name": f"p-{hook_type}-{index}",
        "raw_code": code,
        "index": index,
        "tags": [hook_type],
        "depends_on": {"nodes": []},
        "config": {"enabled": True},
    }


def analysis(name: str):
    return f"analysis.p.{name}", {
        "resource_type": "analysis",
        "name": name,
        "compiled_code": "select 1",
        "depends_on": {"nodes": []},
        "config": {"materialized": "view", "enabled": True, "grants": {"select": ["x"]}},
    }


# --- project hooks (operation nodes) -------------------------------------------------------------


def test_known_project_hooks_become_operations_in_hook_order():
    nodes = graph.nodes_from_manifest(
        manifest(
            operation(1, "{{ assert_selected_built_for_run() }}"),
            operation(0, "{{ load_stale_seeds() }}"),
            model("a", "select 1"),
        )
    )
    ops = [(n.kind, n.materialized, n.hooks) for n in nodes if n.kind == "operation"]
    assert ops == [("operation", "on-run-start", ["load_seeds"]), ("operation", "on-run-start", ["guard"])]


@pytest.mark.parametrize("hook_type", ["on-run-start", "on-run-end"])
def test_an_unknown_project_hook_is_refused_not_dropped(hook_type):
    with pytest.raises(graph.EngineError, match=r"project hook .*vacuum.*--engine dbt"):
        graph.nodes_from_manifest(
            manifest(operation(0, "{{ vacuum_everything() }}", hook_type), model("a", "select 1"))
        )


# --- skipped: analyses and dbt unit tests --------------------------------------------------------


def test_analyses_and_unit_tests_are_skipped():
    nodes = graph.nodes_from_manifest(
        manifest(
            model("a", "select 1"),
            analysis("explore"),
            unit_tests={"unit_test.p.a.t": {"resource_type": "unit_test", "name": "t", "model": "a"}},
        )
    )
    assert [n.name for n in nodes] == ["a"]


# --- refused: resource types, configs, materializations ------------------------------------------


@pytest.mark.parametrize(
    "bad, message",
    [
        (model("a", "select 1", grants={"select": ["analyst"]}), "config grants"),
        (model("a", "select 1", persist_docs={"relation": True}), "config persist_docs"),
        (model("a", "select 1", sql_header="set x = 1"), "config sql_header"),
        (model("a", "select 1", full_refresh=True), "config full_refresh"),
        (model("a", "select 1", on_schema_change="append_new_columns"), "config on_schema_change"),
        (model("a", "select 1", incremental_predicates=["x > 1"]), "config incremental_predicates"),
        (data_test("t", "select 1", ["a"], store_failures=True), "config store_failures"),
        (data_test("t", "select 1", ["a"], store_failures_as="view"), "config store_failures_as"),
        (
            ("snapshot.p.s", {"resource_type": "snapshot", "name": "s", "config": {"enabled": True}}),
            "resource type snapshot",
        ),
    ],
)
def test_configs_it_does_not_implement_are_refused_with_a_pointer(bad, message):
    with pytest.raises(graph.EngineError, match=message + ".*use --engine dbt"):
        graph.nodes_from_manifest(manifest(model("a", "select 1"), bad))


def test_configs_without_effect_on_execution_are_accepted():
    nodes = graph.nodes_from_manifest(
        manifest(
            model(
                "a",
                "select 1",
                tags=["x"],
                meta={"owner": "me"},
                docs={"show": False},
                alias="b",
                group=None,
                on_schema_change="ignore",
                full_refresh=None,
                grants={},
                persist_docs={},
                batch_size=None,
            )
        )
    )
    assert [n.name for n in nodes] == ["a"]


def test_a_materialization_defined_in_the_project_or_a_dbt_function_is_refused():
    custom = {"macro.p.materialization_test_duckdb": {"name": "materialization_test_duckdb", "package_name": "p"}}
    with pytest.raises(graph.EngineError, match="materialization defined in the project"):
        graph.nodes_from_manifest(manifest(model("a", "select 1"), macros=custom))
    builtin = {
        "macro.dbt.materialization_test_default": {"name": "materialization_test_default", "package_name": "dbt"}
    }
    assert len(graph.nodes_from_manifest(manifest(model("a", "select 1"), macros=builtin))) == 1
    with pytest.raises(graph.EngineError, match="dbt function"):
        graph.nodes_from_manifest(manifest(model("a", "select 1"), functions={"function.p.f": {}}))


def test_the_publishing_node_carries_the_label_configuration():
    labels = {"threshold_unit": "dollars", "thresholds": [1.0, 2.0]}
    nodes = graph.nodes_from_manifest(
        manifest(
            model(
                "g",
                "select 1",
                materialized="view",
                hooks=STAMP + [{"sql": "{{ publish_gold() }}"}],
                meta={"breakbounce_gold_labels": labels},
            )
        )
    )
    assert nodes[0].hooks == ["stamp", "publish"] and json.loads(nodes[0].gold_labels) == labels
    with pytest.raises(graph.EngineError, match="breakbounce_gold_labels"):
        graph.nodes_from_manifest(manifest(model("g", "select 1", hooks=[{"sql": "{{ publish_gold() }}"}])))


# --- the database name ---------------------------------------------------------------------------


def test_bind_puts_the_warehouse_name_in_place_of_the_compile_alias():
    a = f'"{graph.DATABASE_ALIAS}"'
    nodes = graph.nodes_from_manifest(
        manifest(
            model("x", f'select * from {a}."s"."y" join {a}."s"."z" using (k)'),
        )
    )
    nodes[0].relation = f'{a}."s"."x"'
    bound = graph.bind(nodes, 'worker"1')
    assert bound[0].relation == '"worker""1"."s"."x"'
    assert bound[0].sql == 'select * from "worker""1"."s"."y" join "worker""1"."s"."z" using (k)'
    assert nodes[0].relation == f'{a}."s"."x"'  # the cached graph is not changed
    nodes[0].sql = f"select '{graph.DATABASE_ALIAS}' as db"
    with pytest.raises(graph.EngineError, match="names the database"):
        graph.bind(nodes, "w")


def test_a_new_database_name_reuses_the_cached_graph(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.sql").write_text("select 1")
    compiled = []

    def fake_compile(project_dir, dbt_vars=None):
        compiled.append(dict(dbt_vars or {}))
        return graph.nodes_from_manifest(manifest(model("a", f'select 1 from "{graph.DATABASE_ALIAS}"."s"."b"')))

    monkeypatch.setattr(graph, "compile_graph", fake_compile)
    cache = tmp_path / "cache"
    one = graph.load_graph(tmp_path, cache, str(tmp_path / "target" / "breakbounce.duckdb"))
    two = graph.load_graph(tmp_path, cache, str(tmp_path / "backfill" / "warehouse.duckdb"))
    assert compiled == [{}]
    assert one[0].sql == 'select 1 from "breakbounce"."s"."b"' and two[0].sql == 'select 1 from "warehouse"."s"."b"'
    graph.load_graph(tmp_path, cache, str(tmp_path / "w.duckdb"), {"touch_band": 0.2})
    assert compiled == [{}, {"touch_band": 0.2}]  # other vars: another graph


# --- leftovers of killed runs --------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_leftovers_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = _dead_pid()
    tmp = tempfile.gettempdir()
    dead_dir = os.path.join(tmp, f"{graph.COMPILE_DIR_PREFIX}{dead}-abc")
    live_dir = os.path.join(tmp, f"{graph.COMPILE_DIR_PREFIX}{os.getppid()}-abc")
    unnamed_dir = os.path.join(tmp, f"{graph.COMPILE_DIR_PREFIX}{dead}")  # no pid part: not ours to judge
    for d in (dead_dir, live_dir, unnamed_dir):
        os.makedirs(os.path.join(d, "dbt"), exist_ok=True)
    cache = tmp_path / "fast_graph"
    cache.mkdir()
    (cache / f"graph-k.json.tmp-{dead}").write_text("{")
    (cache / "graph-k.json").write_text("{}")
    try:
        removed = graph.remove_leftovers(cache)
        assert dead_dir in removed and not os.path.exists(dead_dir)
        assert os.path.exists(live_dir) and os.path.exists(unnamed_dir)
        assert sorted(p.name for p in cache.iterdir()) == ["graph-k.json"]
    finally:
        import shutil

        shutil.rmtree(live_dir, ignore_errors=True)
        shutil.rmtree(unnamed_dir, ignore_errors=True)
