"""The dbt project's DAG and conventions, checked on the manifest of ``dbt parse``: this project's own
version of the dbt-project-evaluator rules (the hub package cannot be installed here).

Rules (each failure names the model and the rule):

- layers: a source is read only in staging; staging reads sources, seeds and staging; intermediate
  reads staging, intermediate and seeds; marts read intermediate and marts; no model reads a model
  of a later layer; no model without a parent (a root model);
- naming: ``stg_<source>__<entity>`` in ``models/staging``, ``int_<folder>__<verb>`` in
  ``models/intermediate/<folder>``, ``fct_`` / ``dim_`` in ``models/marts``;
- no dead ends: every model is read by another model or is named by an exposure (the Gold file, the
  tables the README tells users to query);
- no rejoining of upstream concepts: no A -> B -> C with A -> C as well where B has no other child
  (B should be a CTE of C);
- documentation and tests: every model and every column has a description, every model is tested;
  one ``_<folder>__models.yml`` per folder documents all of the folder's models (and nothing else);
- no hard-coded relation names in model SQL (``from staging.x``): ``ref()`` / ``source()`` only;
- every path of ``dbt_project.yml`` exists; no column description pasted into two YAML entries.

Exceptions are listed below with their reason, and only here and in docs/decisions.md ("The DAG and
its exceptions"); a rule that newly fails is fixed, or it becomes an exception with a reason there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from .conftest import PROJECT_DIR

#: (child, parent) pairs of staging models reading staging models: the front month (SPEC §3 puts it in
#: staging) is decided once per run from the pre-open volumes, and both the trades and the book keep
#: only the front month
STAGING_READS_STAGING = {
    ("stg_bronze__es_front_month", "stg_bronze__es_pre_open_volumes"),
    ("stg_bronze__es_trades", "stg_bronze__es_front_month"),
    ("stg_bronze__es_mbp10", "stg_bronze__es_front_month"),
}
#: models outside staging that read a source: the data-quality count of what staging dropped compares
#: staging with raw Bronze; the 250 ms book snapshots read the same filtered records as
#: stg_bronze__es_mbp10 (one macro) without its deduplication of ~5M rows x 46 columns, most of the
#: model's speed (duplicates cannot change the last record of a bucket)
SOURCE_OUTSIDE_STAGING = {"int_quality__bronze_drops", "int_book__snapshots_250ms"}
#: models named outside their folder's convention: gold_touch_signals exists so that ``dbt build``
#: runs fct_touch_signals' tests before its post-hook publishes the Gold file (dbt has no "after the
#: tests" hook; an on-run-end hook would publish after a selection that skipped the tests)
NAMING_EXCEPTIONS = {"gold_touch_signals"}
#: models whose columns and tests are another model's: gold_touch_signals is ``select *`` of
#: fct_touch_signals (its 164 columns are documented and tested there, before it publishes)
DOCS_AND_TESTS_OF_ANOTHER = {"gold_touch_signals": "fct_touch_signals"}
#: views without a dbt test of their own, because a test would recompute them from Bronze in every run:
#: each is tested where its rows are materialized, or by Python tests
TESTED_ELSEWHERE = {
    # a test would re-read and deduplicate the day's book (~5M rows x 46 columns on a realistic day);
    # its records are int_book__snapshots_250ms's (one macro), tested there and by test_barrier_physics
    "stg_bronze__es_mbp10",
    # materialized row for row (plus the as-of spot) as int_options__trades_as_of_spot, tested there
    "stg_bronze__spy_option_trades",
    # computed once inside int_options__basis_by_minute; test_fuel_pit re-derives the pairs
    "int_options__parity_pairs",
}
#: the event spine: every per-event model reads it, and so does the model that assembles them
EVENT_SPINE = "int_touches__detected"
#: A -> B -> C with A -> C where B's only child is C (the rule says: make B a CTE of C). An ephemeral B
#: already is one (dbt inlines it); these B are tables, each a concept with its own grain, docs and
#: tests that Python tests also query (and a table that C and its tests read once, not re-derive):
REJOIN_KEPT = {
    "int_quality__event_gaps",  # the input-gap mask (SPEC §12), row-rule tested; test_fault_injection
    "int_confluence__features",  # confluence level + dynamic confluence; test_confluence_level
    "int_labels__minute_price_levels",  # per-minute tape extremes that prune the label scan
    "int_book__trade_fills",  # fills between snapshots; the barrier oracle tests compare it
    "int_options__gamma_scale",  # the causal gamma scale of fuel_effect; test_fuel
    "int_levels__by_bar",  # every level as known at T0 per bar; assert_levels_known_before_t0
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("parse")
    proc = run_breakbounce_dbt(
        "parse",
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
        env={"BB_DUCKDB_PATH": str(tmp / "parse.duckdb")},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((tmp / "target" / "manifest.json").read_text())


def run_breakbounce_dbt(*args: str, env: dict | None = None):
    import os
    import subprocess
    import sys

    dbt = str(Path(sys.executable).with_name("dbt"))
    return subprocess.run(
        [dbt, *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={**os.environ, **(env or {})},
    )


def _models(manifest: dict) -> dict[str, dict]:
    return {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "breakbounce"
    }


def _layer(node: dict) -> str:
    if node["resource_type"] == "seed":
        return "seed"
    return Path(node["original_file_path"]).parts[1]  # models/<layer>/...


def _parents(manifest: dict, node: dict) -> list[dict]:
    out = []
    for uid in node["depends_on"]["nodes"]:
        if uid.startswith("source."):
            out.append({"resource_type": "source", "name": manifest["sources"][uid]["name"], "unique_id": uid})
        elif uid in manifest["nodes"]:
            out.append(manifest["nodes"][uid])
    return out


LAYER_READS = {
    "staging": {"source", "seed", "staging"},
    "intermediate": {"seed", "staging", "intermediate"},
    "marts": {"seed", "intermediate", "marts"},
}


def test_layers(manifest):
    problems = []
    for name, node in sorted(_models(manifest).items()):
        layer = _layer(node)
        parents = _parents(manifest, node)
        if not parents:
            problems.append(f"{name}: a root model (reads no ref() or source())")
        for p in parents:
            kind = "source" if p["resource_type"] == "source" else _layer(p)
            if kind == "source" and layer != "staging" and name in SOURCE_OUTSIDE_STAGING:
                continue
            if kind not in LAYER_READS[layer]:
                problems.append(f"{name} ({layer}) reads {p['name']} ({kind})")
            elif layer == kind == "staging" and (name, p["name"]) not in STAGING_READS_STAGING:
                problems.append(f"{name} reads the staging model {p['name']}")
    assert problems == []


def test_every_exception_is_still_needed_and_documented(manifest):
    models = _models(manifest)
    decisions = (PROJECT_DIR / "docs" / "decisions.md").read_text()
    for child, parent in STAGING_READS_STAGING:
        assert f"model.breakbounce.{parent}" in models[child]["depends_on"]["nodes"], (child, parent)
    for name in SOURCE_OUTSIDE_STAGING:
        assert any(u.startswith("source.") for u in models[name]["depends_on"]["nodes"]), name
    named = (
        SOURCE_OUTSIDE_STAGING
        | NAMING_EXCEPTIONS
        | TESTED_ELSEWHERE
        | REJOIN_KEPT
        | {c for c, _ in STAGING_READS_STAGING}
    )
    for name in named:
        assert f"`{name}`" in decisions, f"{name}: exception not explained in docs/decisions.md"


def test_naming(manifest):
    problems = []
    for name, node in sorted(_models(manifest).items()):
        parts = Path(node["original_file_path"]).parts
        layer = parts[1]
        if name in NAMING_EXCEPTIONS:
            continue
        if layer == "staging":
            ok = re.fullmatch(r"stg_[a-z0-9]+__[a-z0-9_]+", name) is not None and len(parts) == 3
        elif layer == "intermediate":
            ok = len(parts) == 4 and re.fullmatch(rf"int_{parts[2]}__[a-z0-9_]+", name) is not None
        elif layer == "marts":
            ok = re.fullmatch(r"(fct|dim)_[a-z0-9_]+", name) is not None
        else:
            ok = False
        if not ok:
            problems.append(f"{node['original_file_path']}: {name} does not follow its folder's naming")
    assert problems == []


def test_no_dead_ends(manifest):
    models = _models(manifest)
    read = {
        uid for n in manifest["nodes"].values() if n["resource_type"] == "model" for uid in n["depends_on"]["nodes"]
    }
    exposed = {uid for e in manifest["exposures"].values() for uid in e["depends_on"]["nodes"]}
    dead = sorted(name for name, n in models.items() if n["unique_id"] not in read | exposed)
    assert dead == []
    staging_sources = {uid for n in models.values() if _layer(n) == "staging" for uid in n["depends_on"]["nodes"]}
    assert sorted(set(manifest["sources"]) - staging_sources) == []  # every source is staged


def test_gold_is_an_exposure(manifest):
    gold = [e for e in manifest["exposures"].values() if e["name"] == "gold_signals"]
    assert len(gold) == 1
    assert gold[0]["depends_on"]["nodes"] == ["model.breakbounce.gold_touch_signals"]
    assert gold[0]["owner"] and gold[0]["description"]


def test_no_rejoining_of_upstream_concepts(manifest):
    models = _models(manifest)
    uid_name = {n["unique_id"]: name for name, n in models.items()}
    children: dict[str, set[str]] = {name: set() for name in models}
    parents = {name: {uid_name[u] for u in n["depends_on"]["nodes"] if u in uid_name} for name, n in models.items()}
    for name, ps in parents.items():
        for p in ps:
            children[p].add(name)
    found, kept_used = [], set()
    for c, ps in parents.items():
        for b in ps:
            if children[b] == {c}:
                for a in parents[b] & ps:
                    if a == EVENT_SPINE or models[b]["config"]["materialized"] == "ephemeral":
                        continue
                    if b in REJOIN_KEPT:
                        kept_used.add(b)
                        continue
                    found.append(f"{a} -> {b} -> {c} and {a} -> {c}: {b} is only read by {c}")
    assert sorted(found) == []
    assert kept_used == REJOIN_KEPT  # an exception that no longer applies is removed


def test_documented_and_tested(manifest):
    models = _models(manifest)
    tested = {
        uid for n in manifest["nodes"].values() if n["resource_type"] == "test" for uid in n["depends_on"]["nodes"]
    }
    problems = []
    for name, n in sorted(models.items()):
        if not n["description"].strip():
            problems.append(f"{name}: no description")
        if name in DOCS_AND_TESTS_OF_ANOTHER:
            other = models[DOCS_AND_TESTS_OF_ANOTHER[name]]
            assert n["depends_on"]["nodes"] == [other["unique_id"]] and "select *" in n["raw_code"]
            continue
        if not n["columns"]:
            problems.append(f"{name}: no columns documented")
        problems += [f"{name}.{c}: no description" for c, col in n["columns"].items() if not col["description"].strip()]
        if (n["unique_id"] in tested) == (name in TESTED_ELSEWHERE):
            problems.append(f"{name}: no data test" if name not in TESTED_ELSEWHERE else f"{name}: tested now")
    assert problems == []


def test_one_yaml_per_folder(manifest):
    problems = []
    for name, n in sorted(_models(manifest).items()):
        folder = Path(n["original_file_path"]).parent
        expected = folder / f"_{folder.name}__models.yml"
        if n["patch_path"] != f"breakbounce://{expected.as_posix()}":
            problems.append(f"{name}: documented in {n['patch_path']}, not {expected}")
    for yml in sorted((PROJECT_DIR / "models").rglob("*.yml")):
        doc = yaml.safe_load(yml.read_text()) or {}
        rel = yml.relative_to(PROJECT_DIR)
        if doc.get("sources"):
            if not re.fullmatch(r"_[a-z0-9]+__sources\.yml", yml.name) or set(doc) - {"version", "sources"}:
                problems.append(f"{rel}: sources go alone in _<source>__sources.yml")
        elif yml.name != f"_{yml.parent.name}__models.yml" and yml.parent.name != "models":
            problems.append(f"{rel}: a second YAML file in {yml.parent.relative_to(PROJECT_DIR)}")
    assert problems == []


#: a relation written by hand: from / join followed by a dotted name (schema.table or "db"."schema"."t")
_HARD_CODED = re.compile(r"\b(?:from|join)\s+(\"?[a-z_][a-z0-9_]*\"?\.\"?[a-z_][a-z0-9_]*\"?)", re.IGNORECASE)


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"\{#.*?#\}", "", sql, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", "", sql)


def test_no_hard_coded_references(manifest):
    problems = []
    for name, n in sorted(_models(manifest).items()):
        for m in _HARD_CODED.finditer(_strip_comments(n["raw_code"])):
            problems.append(f"{name}: hard-coded relation {m.group(1)} (use ref() / source())")
    assert problems == []


def test_project_paths_exist():
    doc = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    missing = [
        p for key, paths in doc.items() if key.endswith("-paths") for p in paths if not (PROJECT_DIR / p).exists()
    ]
    assert missing == []


def test_no_column_description_written_twice():
    """A column description used by several models is one ``{% docs %}`` block (models/docs/),
    referenced with ``{{ doc('name') }}``, never the same text pasted into two YAML entries."""
    seen: dict[str, list[str]] = {}
    for yml in sorted((PROJECT_DIR / "models").rglob("*.yml")):
        for model in (yaml.safe_load(yml.read_text()) or {}).get("models") or []:
            for col in model.get("columns") or []:
                text = " ".join(str(col.get("description") or "").split())
                if text and "doc(" not in text:
                    seen.setdefault(text, []).append(f"{model['name']}.{col['name']}")
    assert {text[:60]: where for text, where in seen.items() if len(where) > 1} == {}
