"""The fast engine's graph: dbt compiles the project, this module caches and validates the result.

``dbt compile`` renders every model and test once per version of the project and of the dbt vars
(:func:`graph_key`: models, macros, tests, seeds, dbt_project.yml, profiles.yml, the dbt and
DuckDB versions, the ``--vars``); the compiled graph is cached as JSON in ``target/fast_graph/``.

The compile runs against a scratch warehouse named :data:`DATABASE_ALIAS`, and :func:`load_graph`
substitutes the real warehouse's name (dbt-duckdb names the database after the file) into the
relation names, so a warehouse under a new file name reuses the graph instead of compiling again.

:func:`nodes_from_manifest` is the engine's boundary, checked when the graph is loaded; anything
else in the project is refused with a pointer to ``--engine dbt``:

- models (view, ephemeral, table, delete+insert incremental with an enforced contract), seeds (every
  column typed) and data tests with dbt's default severity / thresholds;
- the model hooks of :data:`KNOWN_HOOKS` and the project hooks (on-run-start / on-run-end
  operations) of :data:`KNOWN_OPERATIONS`, which the engine runs;
- the model, seed and test configs of :data:`_CONFIG`, each either without effect on what is
  executed (it is already in the compiled SQL or the relation name) or with the values it implements;
- analyses and dbt unit tests are skipped (they build nothing; ``dbt build`` / ``dbt test`` run
  the unit tests); exposures are reported as ``dbt build`` reports them (no-op, or skipped).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from breakbounce.gold import pid_alive

GRAPH_FORMAT = 3
GRAPH_CACHE_ENTRIES = 8
COMPILE_VAR = "breakbounce_fast_compile"
#: the database name the graph is compiled against; :func:`bind` puts the warehouse's name in its place
DATABASE_ALIAS = "bb_fast_graph_catalog"
COMPILE_DIR_PREFIX = "breakbounce-compile-"
#: model and seed hooks of this project, and what the engine does for each
KNOWN_HOOKS = {
    "{{ stamp_run_date() }}": "stamp",  # comment the table with the run date, in its transaction
    "{{ stamp_seed() }}": "stamp",  # the seed's stamp (the engine's seed load sets it)
    "{{ publish_gold() }}": "publish",  # breakbounce.gold.publish_relation, the same statements
}
#: project hooks (dbt operation nodes) of this project, and what the engine does for each
KNOWN_OPERATIONS = {
    # load every seed whose table is missing or stale: the engine's seed load, before any node
    "{{ load_stale_seeds() }}": "load_seeds",
    # refuse when a selected node reads a table of another date that the run does not rebuild: the
    # fast engine selects and rebuilds every model before any test, so nothing can be stale
    "{{ assert_selected_built_for_run() }}": "guard",
}
MATERIALIZATIONS = {"seed", "view", "ephemeral", "table", "incremental", "test"}
#: resource types the engine builds; the ones it skips (they build nothing in a run)
BUILT_TYPES = {"model", "seed", "test"}
SKIPPED_TYPES = {"analysis"}
_ANY = None  # a config whose value does not change what the engine executes
_EMPTY = (None, {}, [])
#: per resource type, config key -> None (any value) or the tuple of values the engine implements.
#: Keys absent here must be unset (None / {} / []).
_COMMON = {
    k: _ANY
    for k in (
        "enabled",
        "alias",
        "schema",
        "database",
        "tags",
        "meta",
        "group",
        "access",
        "docs",
        "packages",
        "quoting",
        "static_analysis",
        "materialized",
        "pre-hook",
        "post-hook",
        "contract",
        "freshness",
    )
}
_CONFIG = {
    "model": {
        **_COMMON,
        "unique_key": _ANY,
        "incremental_strategy": _ANY,
        "column_types": _ANY,
        "on_configuration_change": _ANY,  # materialized views only
        # microbatch only (refused with the strategy)
        "batch_size": _ANY,
        "lookback": _ANY,
        "begin": _ANY,
        "event_time": _ANY,
        "concurrent_batches": _ANY,
        # an enforced contract is checked before any insert: a schema change fails either way
        "on_schema_change": ("ignore", "fail"),
        "full_refresh": (None, False),
        "grants": ({},),
        "persist_docs": ({},),
    },
    "seed": {
        **_COMMON,
        "column_types": _ANY,
        "unique_key": _ANY,
        "incremental_strategy": _ANY,
        "on_configuration_change": _ANY,
        "on_schema_change": _ANY,
        "batch_size": _ANY,
        "lookback": _ANY,
        "begin": _ANY,
        "event_time": _ANY,
        "concurrent_batches": _ANY,
        "delimiter": _ANY,
        "quote_columns": _ANY,
        "full_refresh": (None, False),
        "grants": ({},),
        "persist_docs": ({},),
    },
    "test": {
        **_COMMON,
        "where": _ANY,  # compiled into the test's SQL
        "severity": ("ERROR", "error"),
        "fail_calc": ("count(*)",),
        "warn_if": ("!= 0",),
        "error_if": ("!= 0",),
        "limit": (None,),
        "store_failures": (None, False),
        "store_failures_as": (None,),
    },
}
#: project inputs that change the compiled graph
_PROJECT_INPUTS = ("models", "macros", "tests/dbt", "seeds", "analyses", "dbt_project.yml", "profiles.yml")


class EngineError(Exception):
    """The graph cannot be compiled or run by the fast engine; ``str()`` is one line."""


@dataclass
class Node:
    uid: str
    name: str
    kind: str  # model | seed | test | operation | exposure
    materialized: str  # (operation: on-run-start | on-run-end; exposure: exposure)
    relation: str  # quoted "database"."schema"."alias" (tests, operations: "")
    sql: str
    depends_on: list[str]
    hooks: list[str] = field(default_factory=list)  # actions of KNOWN_HOOKS (operation: of KNOWN_OPERATIONS)
    contract: list[tuple[str, str]] = field(default_factory=list)  # enforced (name, data_type), in order
    unique_key: str | None = None
    seed_path: str | None = None
    seed_types: dict[str, str] = field(default_factory=dict)
    seed_delimiter: str = ","
    compiled_path: str | None = None  # relative to a dbt target directory, as dbt writes it
    gold_labels: str | None = None  # the publishing node: the label configuration JSON (Gold metadata)


# --- the cache --------------------------------------------------------------------------------------


def _input_files(project_dir: Path) -> list[Path]:
    out = []
    for rel in _PROJECT_INPUTS:
        p = project_dir / rel
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts))
    return out


def vars_text(dbt_vars: dict | None) -> str:
    """The canonical text of the ``--vars`` (part of the graph key)."""
    return json.dumps(dbt_vars or {}, sort_keys=True, separators=(",", ":"))


def graph_key(project_dir: Path, dbt_vars: dict | None = None) -> str:
    """Digest of everything the compiled SQL depends on."""
    h = hashlib.sha256()
    h.update(f"format {GRAPH_FORMAT}\nvars {vars_text(dbt_vars)}\n".encode())
    for dist in ("dbt-core", "dbt-duckdb", "duckdb"):
        h.update(f"{dist} {metadata.version(dist)}\n".encode())
    for f in _input_files(project_dir):
        h.update(f"{f.relative_to(project_dir)}\n".encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:24]


def database_name(db_path: str) -> str:
    """dbt-duckdb names the database after the file (``target/breakbounce.duckdb`` -> breakbounce)."""
    return Path(db_path).stem


def bind(nodes: list[Node], database: str) -> list[Node]:
    """The graph with :data:`DATABASE_ALIAS` replaced by ``database`` in relation names and SQL."""
    alias, real = f'"{DATABASE_ALIAS}".', '"' + database.replace('"', '""') + '".'
    out = []
    for n in nodes:
        sql, relation = n.sql.replace(alias, real), n.relation.replace(alias, real)
        if DATABASE_ALIAS in sql or DATABASE_ALIAS in relation:
            raise EngineError(f"{n.uid}: the compiled SQL names the database other than as a quoted relation prefix")
        out.append(Node(**{**asdict(n), "sql": sql, "relation": relation, "contract": [tuple(c) for c in n.contract]}))
    return out


def load_graph(project_dir: Path, cache_dir: Path, db_path: str, dbt_vars: dict | None = None) -> list[Node]:
    """The compiled graph for this project and vars, bound to the warehouse ``db_path``: from the
    cache, else ``dbt compile``."""
    key = graph_key(project_dir, dbt_vars)
    cached = cache_dir / f"graph-{key}.json"
    nodes = None
    if cached.exists():
        try:
            data = json.loads(cached.read_text())
            nodes = [Node(**{**n, "contract": [tuple(c) for c in n["contract"]]}) for n in data["nodes"]]
        except (OSError, ValueError, KeyError, TypeError):
            nodes = None  # a damaged cache entry is compiled again
    if nodes is None:
        nodes = compile_graph(project_dir, dbt_vars)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"key": key, "nodes": [asdict(n) for n in nodes]}))
        os.replace(tmp, cached)
        # keep the newest few entries (one per project version and vars); older ones are dead
        entries = sorted(cache_dir.glob("graph-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[GRAPH_CACHE_ENTRIES:]:
            old.unlink(missing_ok=True)
    return bind(nodes, database_name(db_path))


def remove_leftovers(cache_dir: Path) -> list[str]:
    """What killed runs left: compile folders in the temp directory and half-written cache entries
    of processes that are gone."""
    removed = []
    for path in glob.glob(os.path.join(glob.escape(tempfile.gettempdir()), COMPILE_DIR_PREFIX + "*")):
        # breakbounce-compile-<pid>-<random>: tempfile's random part has no "-"
        pid, dash, _ = os.path.basename(path)[len(COMPILE_DIR_PREFIX) :].partition("-")
        if dash and pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    for path in glob.glob(os.path.join(glob.escape(str(cache_dir)), "graph-*.json.tmp-*")):
        pid = path.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            removed.append(path)
    return removed


def compile_graph(project_dir: Path, dbt_vars: dict | None = None) -> list[Node]:
    """Run ``dbt compile`` against a scratch warehouse named :data:`DATABASE_ALIAS`; read its manifest."""
    from dbt.cli.main import dbtRunner  # only here: importing dbt is the cost this engine avoids

    print(
        "breakbounce: compiling the dbt project for the fast engine (once per project version and --vars)",
        file=sys.stderr,
        flush=True,
    )
    # the pid in the name lets a later run remove the folder if this process is killed (remove_leftovers)
    with tempfile.TemporaryDirectory(prefix=f"{COMPILE_DIR_PREFIX}{os.getpid()}-") as tmp:
        # a scratch warehouse; no run date (the plugin would plan and validate a run for BB_DATE)
        env_before = {k: os.environ.get(k) for k in ("BB_DUCKDB_PATH", "BB_DATE")}
        os.environ["BB_DUCKDB_PATH"] = str(Path(tmp) / f"{DATABASE_ALIAS}.duckdb")
        os.environ.pop("BB_DATE", None)
        try:
            with contextlib.redirect_stdout(sys.stderr):
                result = dbtRunner().invoke(
                    [
                        "compile",
                        "--project-dir",
                        str(project_dir),
                        "--profiles-dir",
                        str(project_dir),
                        "--target-path",
                        str(Path(tmp) / "dbt"),
                        "--log-path",
                        str(Path(tmp) / "logs"),
                        "--vars",
                        json.dumps({**(dbt_vars or {}), COMPILE_VAR: True}),
                        "--quiet",
                    ]
                )
        finally:
            for k, v in env_before.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        if not result.success:
            detail = str(result.exception).strip().splitlines()[0] if result.exception else "see the dbt log above"
            raise EngineError(f"dbt compile failed: {detail}")
        manifest = json.loads((Path(tmp) / "dbt" / "manifest.json").read_text())
    return nodes_from_manifest(manifest, target_dir=str(Path(tmp) / "dbt"))


# --- the boundary -----------------------------------------------------------------------------------


def _refuse(uid: str, what: str) -> EngineError:
    return EngineError(f"{uid}: {what} is not supported by the fast engine; use --engine dbt")


def _check_config(uid: str, kind: str, cfg: dict) -> None:
    allowed = _CONFIG[kind]
    for key, value in sorted(cfg.items()):
        if key not in allowed:
            if value not in _EMPTY:
                raise _refuse(uid, f"config {key}={value!r}")
        elif allowed[key] is not _ANY and value not in allowed[key]:
            raise _refuse(uid, f"config {key}={value!r}")


def _operations(manifest: dict) -> list[Node]:
    """The project hooks, on-run-start ones first, each kind in dbt_project.yml order."""
    out = []
    for uid, n in manifest["nodes"].items():
        if n["resource_type"] != "operation":
            continue
        code = (n.get("raw_code") or "").strip()
        if code not in KNOWN_OPERATIONS:
            raise _refuse(uid, f"project hook {code!r}")
        hook_type = "on-run-end" if "on-run-end" in (n.get("tags") or []) else "on-run-start"
        out.append(
            (
                hook_type != "on-run-start",
                n.get("index") or 0,
                uid,
                Node(
                    uid=uid,
                    name=n["name"],
                    kind="operation",
                    materialized=hook_type,
                    relation="",
                    sql="",
                    depends_on=[],
                    hooks=[KNOWN_OPERATIONS[code]],
                ),
            )
        )
    return [node for *_, node in sorted(out, key=lambda t: t[:3])]


def nodes_from_manifest(manifest: dict, target_dir: str | None = None) -> list[Node]:
    """The graph's nodes (project hooks first), checked to use only what the engine implements."""
    project = manifest.get("metadata", {}).get("project_name")
    for uid, m in sorted(manifest.get("macros", {}).items()):
        if m.get("package_name") == project and m.get("name", "").startswith("materialization_"):
            raise _refuse(uid, "a materialization defined in the project")
    for uid in sorted(manifest.get("functions") or {}):
        raise _refuse(uid, "a dbt function")
    nodes = _operations(manifest)
    for uid, n in sorted(manifest["nodes"].items()):
        kind, cfg = n["resource_type"], n["config"]
        if kind == "operation" or kind in SKIPPED_TYPES or not cfg.get("enabled", True):
            continue
        if kind not in BUILT_TYPES:
            raise _refuse(uid, f"resource type {kind}")
        _check_config(uid, kind, cfg)
        mat = cfg["materialized"]
        if mat not in MATERIALIZATIONS:
            raise _refuse(uid, f"materialization {mat}")
        hooks = []
        for h in cfg.get("pre-hook", []) + cfg.get("post-hook", []):
            if h["sql"].strip() not in KNOWN_HOOKS:
                raise _refuse(uid, f"hook {h['sql']!r}")
            hooks.append(KNOWN_HOOKS[h["sql"].strip()])
        contract = []
        if (cfg.get("contract") or {}).get("enforced"):
            contract = [(c["name"], c["data_type"]) for c in n["columns"].values()]
            if any(not t for _, t in contract):
                raise EngineError(f"{uid}: every contract column needs a data_type")
        if mat == "incremental":
            if cfg.get("incremental_strategy") != "delete+insert" or not isinstance(cfg.get("unique_key"), str):
                raise EngineError(
                    f"{uid}: the fast engine runs incremental models as delete+insert on one unique_key; use --engine dbt"
                )
            if not contract:
                raise EngineError(
                    f"{uid}: an incremental model needs an enforced contract for the fast engine; use --engine dbt"
                )
        seed_path, seed_types = None, {}
        if kind == "seed":
            seed_path = str(Path(n["root_path"]) / n["original_file_path"])
            seed_types = dict(cfg.get("column_types") or {})
        sql = n.get("compiled_code") or ""
        compiled_path = n.get("compiled_path")
        if compiled_path and target_dir and compiled_path.startswith(target_dir + os.sep):
            compiled_path = compiled_path[len(target_dir) + 1 :]
        else:
            compiled_path = None
        if kind != "seed" and mat != "ephemeral" and not sql:
            raise EngineError(f"{uid}: no compiled SQL in the manifest")
        gold_labels = None
        if "publish" in hooks:
            labels = (cfg.get("meta") or {}).get("breakbounce_gold_labels")
            if labels is None:
                raise EngineError(f"{uid}: publishes Gold without meta.breakbounce_gold_labels")
            gold_labels = json.dumps(labels)
        nodes.append(
            Node(
                uid=uid,
                name=n["name"],
                kind=kind,
                materialized=mat,
                relation=n.get("relation_name") or "",
                sql=sql,
                depends_on=[d for d in n.get("depends_on", {}).get("nodes", []) if d in manifest["nodes"]],
                hooks=hooks,
                contract=contract,
                unique_key=cfg.get("unique_key"),
                seed_path=seed_path,
                seed_types=seed_types,
                seed_delimiter=cfg.get("delimiter") or ",",
                compiled_path=compiled_path,
                gold_labels=gold_labels,
            )
        )
    # exposures build nothing; like ``dbt build`` the engine reports each (no-op, or skipped when
    # something it depends on did not build)
    for uid, e in sorted((manifest.get("exposures") or {}).items()):
        nodes.append(
            Node(
                uid=uid,
                name=e["name"],
                kind="exposure",
                materialized="exposure",
                relation="",
                sql="",
                depends_on=[d for d in e.get("depends_on", {}).get("nodes", []) if d in manifest["nodes"]],
            )
        )
    return nodes


def write_compiled(nodes: list[Node], target_path: str) -> None:
    """The compiled SQL of every node under ``target_path/compiled/``, where dbt would put it."""
    for n in nodes:
        if n.compiled_path and n.sql:
            path = Path(target_path) / n.compiled_path
            if not path.exists() or path.read_text() != n.sql:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(n.sql)
