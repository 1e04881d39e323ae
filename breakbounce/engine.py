"""The fast engine of ``breakbounce run``: dbt's compiled graph, executed directly on DuckDB.

Why: SPEC §13 gives a realistic day 10 s and a small day 2 s end to end. dbt itself costs ~2.5 s
to import, ~1 s to load its parse and ~45 ms of bookkeeping per node (65 nodes), before any SQL.

What: the project stays the single source of SQL. :mod:`breakbounce.graph` has dbt compile it once
per version of the project and of the ``--vars``, caches the compiled graph and checks that it uses
only what this engine implements (its docstring lists the boundary). A run then executes that graph
on a connection set up exactly like dbt's (:func:`breakbounce.warehouse.configure_build_connection`),
two nodes at a time on cursors of it, in dependency order, longest remaining chain of the last
run's node times first (:func:`execute`):

- project hooks: ``load_stale_seeds`` (on-run-start) loads every stale seed before any node; the
  selection guard ``assert_selected_built_for_run`` has nothing to check (every model is rebuilt
  before any test reads it);
- seed: (re)loaded when the CSV changed (the md5 of the CSV is the table comment, as dbt's
  ``stamp_seed`` sets it), with the seed's ``column_types`` (all columns must be typed);
- view: ``create or replace view``; ephemeral: nothing (dbt inlined it as a CTE);
- table: ``create or replace table``; with an enforced contract, the SQL's column names and types
  are checked against the contract first, as dbt does, and the table is created from the contract;
- incremental (delete+insert): the compiled SQL is the incremental branch (the compile sets
  ``breakbounce_fast_compile``, see macros/run/incremental_build.sql); a missing table is created
  empty from the model's contract, then new rows replace those with the same unique key;
- every table is stamped with the run date (``stamp_run_date``) in the same transaction;
- data tests run as soon as all their parents are built (``select count(*)`` of the failing rows);
  a failing test or model skips everything downstream of the models it covers, as ``dbt build``
  does, and the run fails at the end listing every failure;
- the ``publish_gold`` post-hook runs :func:`breakbounce.gold.publish_relation`: the statements
  dbt's hook runs, on the engine's connection.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from breakbounce import gold, warehouse
from breakbounce.graph import EngineError, Node, database_name  # noqa: F401  (EngineError re-exported for callers)


def execution_order(nodes: list[Node]) -> list[Node]:
    """Models and seeds in dependency order (ties by name); each test right after its last parent."""
    by_uid = {n.uid: n for n in nodes}
    nodes = [n for n in nodes if n.kind not in ("operation", "exposure")]
    by_uid = {n.uid: n for n in nodes}
    builds = [n for n in nodes if n.kind != "test"]
    tests = sorted((n for n in nodes if n.kind == "test"), key=lambda n: n.name)
    waiting = {n.uid: {d for d in n.depends_on if d in by_uid and by_uid[d].kind != "test"} for n in builds}
    done: set[str] = set()
    order: list[Node] = []
    pending_tests = list(tests)
    while waiting:
        ready = sorted((uid for uid, deps in waiting.items() if deps <= done), key=lambda u: by_uid[u].name)
        if not ready:
            raise EngineError(f"dependency cycle among {sorted(waiting)}")
        uid = ready[0]
        del waiting[uid]
        done.add(uid)
        order.append(by_uid[uid])
        runnable = [t for t in pending_tests if set(t.depends_on) <= done]
        order.extend(runnable)
        pending_tests = [t for t in pending_tests if t not in runnable]
    if pending_tests:
        raise EngineError(f"tests with unknown parents: {[t.name for t in pending_tests]}")
    return order


# --- execution ----------------------------------------------------------------------------------

@dataclass
class NodeResult:
    unique_id: str
    status: str  # success | pass | fail | error | skipped
    execution_time: float
    message: str = ""
    started: float = 0.0  # seconds after the run's first node started


def _stamp_sql(node: Node, date: str) -> str:
    return f"comment on table {node.relation} is 'breakbounce run date {date}'"


def _schema_and_name(node: Node) -> tuple[str, str]:
    schema, name = [p.strip('"') for p in node.relation.split(".")[-2:]]
    return schema, name


def _catalog(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """(schema, name) -> 'table' | 'view' for the warehouse's relations, read once per run."""
    rows = con.execute(
        "select schema_name, table_name, 'table' from duckdb_tables() where database_name = current_database() "
        "union all select schema_name, view_name, 'view' from duckdb_views() "
        "where database_name = current_database() and not internal"
    ).fetchall()
    return {(schema, name): kind for schema, name, kind in rows}


def _ensure_schema(con: duckdb.DuckDBPyConnection, node: Node, catalog: dict) -> None:
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


def _build_seed(con: duckdb.DuckDBPyConnection, node: Node, catalog: dict) -> None:
    """Load the seed unless its table carries the stamp of this very CSV (macros/run/seeds.sql)."""
    stamp = con.execute(SEED_STAMP_SQL, [node.seed_path]).fetchall()[0][0]
    schema, name = _schema_and_name(node)
    row = con.execute(
        "select comment from duckdb_tables() where database_name = current_database() and schema_name = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    if row and row[0][0] == stamp:
        return  # loaded from this very CSV already
    header = con.execute("select * from read_csv(?, header = true, all_varchar = true) limit 0", [node.seed_path]).description
    names = [d[0] for d in header]
    untyped = [c for c in names if c not in node.seed_types]
    if untyped:
        raise EngineError(f"{node.name}: seed columns without column_types: {untyped}")
    columns = "{" + ", ".join(f"'{c}': '{node.seed_types[c]}'" for c in names) + "}"
    _ensure_schema(con, node, catalog)
    con.execute("begin")
    try:
        _replace_other_type(con, node, "table", catalog)
        con.execute(f"create or replace table {node.relation} as select * from read_csv(?, header = true, "
                    f"delim = ?, columns = {columns})", [node.seed_path, node.seed_delimiter])
        con.execute(f"comment on table {node.relation} is '{stamp}'")
        con.execute("commit")
    except BaseException:
        _rollback(con)
        raise


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back after a failure without masking it: when the failure was the commit itself (e.g. a
    full disk), DuckDB has already ended the transaction and ``rollback`` would raise a follow-on
    error ("cannot rollback - no transaction is active") in place of the first cause."""
    try:
        con.execute("rollback")
    except duckdb.Error:
        pass


def _build_model(con: duckdb.DuckDBPyConnection, node: Node, date: str, catalog: dict) -> None:
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
                con.execute(f"insert into {node.relation} ({_column_list(node)}) "
                            f"select {_column_list(node)} from {select_sql} as model_subq")
            else:
                con.execute(f"create or replace table {node.relation} as {node.sql}")
        elif node.materialized == "incremental":
            _replace_other_type(con, node, "table", catalog)
            con.execute(f"create table if not exists {node.relation} ({_contract_ddl(node)})")
            _check_contract(con, node, select_sql)
            con.execute(f"create or replace temp table bb_incremental_rows as {node.sql}")
            key = f'"{node.unique_key}"'
            con.execute(f"delete from {node.relation} where {key} in (select {key} from bb_incremental_rows)")
            con.execute(f"insert into {node.relation} ({_column_list(node)}) select {_column_list(node)} from bb_incremental_rows")
            con.execute("drop table bb_incremental_rows")
        if "stamp" in node.hooks and node.materialized in ("table", "incremental"):
            con.execute(_stamp_sql(node, date))
        con.execute("commit")
    except BaseException:
        _rollback(con)
        raise


def _run_test(con: duckdb.DuckDBPyConnection, node: Node) -> int:
    return int(con.execute(f"select count(*) from ({node.sql}) as dbt_internal_test").fetchall()[0][0])


def _describe_test_failure(con: duckdb.DuckDBPyConnection, node: Node, failures: int, date: str) -> str:
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
            for r in rows)
        what = f"{failures} rule(s) failed on {date}: {found}"
    else:
        found = "; ".join(", ".join(f"{n}={v}" for n, v in zip(names, r)) for r in rows)
        what = f"{failures} failing row(s) on {date}" + (f", e.g. {found}" if found else "")
    return f"{what}; inspect with: dbt test -s {node.name} --vars '{{date: {date}}}'"


def _descendants(nodes: list[Node], roots: set[str]) -> set[str]:
    children: dict[str, list[str]] = {}
    for n in nodes:
        for d in n.depends_on:
            children.setdefault(d, []).append(n.uid)
    out, stack = set(), list(roots)
    while stack:
        for c in children.get(stack.pop(), []):
            if c not in out:
                out.add(c)
                stack.append(c)
    return out


#: nodes built at once. DuckDB's thread count follows how many run: cpu_count // running (measured
#: on 2 cores: two single-threaded queries side by side beat two-threaded ones, and a node running
#: alone, e.g. the staging tape everything waits for, gets both cores)
WORKERS = 2
#: rows per row group of the tables the engine writes (DuckDB's default: 122,880). DuckDB compresses
#: and writes a full row group to the file while the statement that produced it runs, on that
#: statement's threads; a table smaller than one row group is instead copied into the WAL at commit
#: (commits are serialised: the other running node waits) and compressed again by the checkpoint at
#: close, on one thread, after the last node. At 32,768 rows the book snapshots (~100k rows) and
#: most option tables are written while they are built. Measured on 2 cores, runs interleaved:
#: small day median 1.96 s -> 1.72 s, realistic day 6.9 s -> 6.2 s. Contents are unchanged (the
#: engine-equivalence test compares against dbt's default layout); override: BB_ROW_GROUP_SIZE.
ROW_GROUP_SIZE = 32768


def open_warehouse(db_path: str, variables: list[str]) -> duckdb.DuckDBPyConnection:
    """The build connection: dbt's settings and UDFs, and the run variables
    (:func:`breakbounce.warehouse.variable_statements`; every worker cursor repeats them).

    The file is attached under dbt-duckdb's name for it (so the compiled SQL's
    ``"<name>"."schema"."table"`` resolve) with :data:`ROW_GROUP_SIZE`, an ATTACH-only option;
    spill files go where DuckDB puts them for a file database (``<db>.tmp``). A new file is written
    in :data:`breakbounce.warehouse.STORAGE_COMPATIBILITY`, as dbt's connection writes it. A file
    another process holds is one line naming that process (:func:`breakbounce.warehouse.lock_message`).
    """
    try:
        rows = int(os.environ.get("BB_ROW_GROUP_SIZE") or ROW_GROUP_SIZE)
    except ValueError:
        raise EngineError(f"BB_ROW_GROUP_SIZE must be a whole number of rows, not {os.environ['BB_ROW_GROUP_SIZE']!r}") from None
    name = database_name(db_path).replace('"', '""')
    con = duckdb.connect(config={"temp_directory": f"{db_path}.tmp",
                                 "storage_compatibility_version": warehouse.STORAGE_COMPATIBILITY})
    try:
        con.execute(f"attach ? as \"{name}\" (row_group_size {rows})", [db_path])
    except duckdb.IOException as exc:
        con.close()
        locked = warehouse.lock_message(str(exc), db_path)
        if locked:
            raise EngineError(locked) from None
        raise
    con.execute(f'use "{name}"')
    warehouse.configure_build_connection(con)
    threads = os.environ.get("BB_DUCKDB_THREADS") or (os.cpu_count() or 1)
    con.execute(f"set threads = {int(threads)}")
    for stmt in variables:
        con.execute(stmt)
    return con


def _schedule(nodes: list[Node]) -> tuple[list[Node], dict[str, set[str]]]:
    """The nodes to run in priority order (:func:`execution_order`), and what each one waits for.

    A node waits for the nodes it reads (through ephemeral models, which dbt inlined) and, like
    ``dbt build``, a model also waits for the tests of what it reads, unless such a test itself
    reads something that is not upstream of the model (it cannot run first).
    """
    by_uid = {n.uid: n for n in nodes}
    order = [n for n in execution_order(nodes) if n.materialized != "ephemeral"]

    def real_parents(uid: str) -> set[str]:
        out = set()
        for d in by_uid[uid].depends_on:
            if d not in by_uid:
                continue
            out |= real_parents(d) if by_uid[d].materialized == "ephemeral" else {d}
        return out

    parents = {n.uid: real_parents(n.uid) for n in order}
    ancestors: dict[str, set[str]] = {}
    for n in order:  # priority order is a topological order
        ancestors[n.uid] = set().union(*([parents[n.uid]] + [ancestors[p] for p in parents[n.uid]]))
    tests = [n for n in order if n.kind == "test"]
    waits = {}
    for n in order:
        need = set(parents[n.uid])
        if n.kind != "test":
            for t in tests:
                if parents[t.uid] & parents[n.uid] and parents[t.uid] <= ancestors[n.uid]:
                    need.add(t.uid)
        waits[n.uid] = need
    return order, waits


def critical_path_priority(order: list[Node], waits: dict[str, set[str]], seconds: dict[str, float]) -> dict[str, float]:
    """Each node's bottom level: its own expected seconds plus the longest chain of expected seconds
    through what waits for it, down to the end of the run (nodes without a time count 0.01 s).

    Starting the ready node with the largest value first is the classic list-scheduling rule: the
    chain that decides the run's length never waits behind work that could go later.
    """
    children: dict[str, list[str]] = {n.uid: [] for n in order}
    for uid, needs in waits.items():
        for need in needs:
            children[need].append(uid)
    level: dict[str, float] = {}
    for n in reversed(order):  # a topological order, reversed: children first
        level[n.uid] = seconds.get(n.uid, 0.01) + max((level[c] for c in children[n.uid]), default=0.0)
    return level


def previous_seconds(target_path: str) -> dict[str, float]:
    """Node execution times of the last fast run written to ``target_path`` (empty if none)."""
    try:
        doc = json.loads((Path(target_path) / "run_results.json").read_text())
        if doc.get("metadata", {}).get("engine") != "breakbounce-fast":
            return {}
        return {r["unique_id"]: float(r["execution_time"]) for r in doc["results"] if r.get("status") != "skipped"}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _run_operation(con: duckdb.DuckDBPyConnection, op: Node, nodes: list[Node], catalog: dict) -> None:
    """A project hook (graph.KNOWN_OPERATIONS), on the build connection."""
    for action in op.hooks:
        if action == "load_seeds":
            for seed in (n for n in nodes if n.kind == "seed"):
                _build_seed(con, seed, catalog)
        elif action == "guard":
            pass  # every model is rebuilt before any test reads it: no table can hold another date
        else:
            raise EngineError(f"{op.uid}: unknown operation {action}")


def execute(nodes: list[Node], con: duckdb.DuckDBPyConnection, date: str, gold_file: str,
            variables: list[str] = (), log=None, threads: int = WORKERS,
            expected_seconds: dict[str, float] | None = None) -> list[NodeResult]:
    """Build the whole graph for ``date`` on ``con`` (see :func:`open_warehouse`); per-node results.

    The on-run-start hooks run first, in order (a failing one skips every node, as dbt does with
    ``skip_nodes_if_on_run_start_fails``), the on-run-end hooks last. Up to ``threads`` nodes run
    at once, each on its own cursor of ``con`` (its own transaction); among the nodes ready to
    start, the one heading the longest chain of ``expected_seconds`` (the last run's times,
    :func:`previous_seconds`) goes first (:func:`critical_path_priority`), ties in
    :func:`execution_order`; results are listed in that order, hooks around them. Every node's SQL
    is deterministic, so the outcome depends neither on ``threads`` nor on the order nodes start in.
    Progress lines are numbered in the order nodes finish.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    order, waits = _schedule(nodes)
    operations = [n for n in nodes if n.kind == "operation"]
    index = {n.uid: i for i, n in enumerate(order)}
    width = len(str(len(order)))
    catalog = _catalog(con)
    kinds = {n.uid: n.kind for n in nodes}
    local = threading.local()
    lock = threading.Lock()
    finished = [0]

    def progress(node: Node, outcome: str) -> None:
        with lock:
            finished[0] += 1
            log(f"  {finished[0]:>{width}}/{len(order)} {node.kind} {node.name} {outcome}")

    # a cursor starts in the instance's default database: point it at the warehouse like ``con``
    use = ['use "{}"'.format(con.execute("select current_database()").fetchall()[0][0].replace('"', '""'))]

    def cursor() -> duckdb.DuckDBPyConnection:
        if getattr(local, "cur", None) is None:
            local.cur = con.cursor()
            for stmt in use + list(variables):
                local.cur.execute(stmt)
        return local.cur

    def run(node: Node) -> NodeResult:
        cur = cursor()
        t0 = time.perf_counter()
        try:
            if node.kind == "seed":
                with lock:
                    _build_seed(cur, node, catalog)
                status, message = "success", ""
            elif node.kind == "test":
                failures = _run_test(cur, node)
                status = "pass" if failures == 0 else "fail"
                message = "" if failures == 0 else _describe_test_failure(cur, node, failures, date)
            else:
                with lock:  # catalog bookkeeping (schemas, relation types)
                    _ensure_schema(cur, node, catalog)
                _build_model(cur, node, date, catalog)
                if "publish" in node.hooks:
                    log(f"  publishing Gold {gold_file}")
                    gold.publish_relation(cur, node.relation, node.gold_labels)
                status, message = "success", ""
        except (duckdb.Error, EngineError, RuntimeError, OSError) as exc:
            status, message = "error", (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        elapsed = time.perf_counter() - t0
        if status in ("fail", "error"):
            progress(node, f"{status.upper()} in {elapsed:.2f}s: {message}")
        else:
            progress(node, f"{'PASS' if status == 'pass' else 'OK'} in {elapsed:.2f}s")
        return NodeResult(node.uid, status, elapsed, message, round(t0 - run_start, 4))

    def hooks(kind: str) -> list[NodeResult]:
        out = []
        for op in (o for o in operations if o.materialized == kind):
            t0 = time.perf_counter()
            if out and out[-1].status == "error":
                out.append(NodeResult(op.uid, "skipped", 0.0, "an earlier hook failed"))
                continue
            try:
                _run_operation(con, op, nodes, catalog)
                status, message = "success", ""
            except (duckdb.Error, EngineError, OSError) as exc:
                status, message = "error", (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            elapsed = time.perf_counter() - t0
            log(f"  hook {op.name} " + (f"ERROR in {elapsed:.2f}s: {message}" if message else f"OK in {elapsed:.2f}s"))
            out.append(NodeResult(op.uid, status, elapsed, message, round(t0 - run_start, 4)))
        return out

    run_start = time.perf_counter()
    start_hooks = hooks("on-run-start")
    results: dict[str, NodeResult] = {}
    blocked: set[str] = set()
    if any(r.status == "error" for r in start_hooks):
        blocked = {n.uid for n in order}
    level = critical_path_priority(order, waits, expected_seconds or {})
    pending = sorted(order, key=lambda n: (-level[n.uid], index[n.uid]))
    cores = os.cpu_count() or 1
    adaptive = not os.environ.get("BB_DUCKDB_THREADS")
    current = [int(con.execute("select current_setting('threads')").fetchall()[0][0])]
    running: dict = {}
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        while pending or running:
            for node in list(pending):
                if len(running) >= max(1, threads):
                    break
                if not waits[node.uid] <= results.keys():
                    continue
                pending.remove(node)
                if node.uid in blocked or (node.kind == "test" and blocked & set(node.depends_on)):
                    results[node.uid] = NodeResult(node.uid, "skipped", 0.0, "an upstream node failed")
                    progress(node, "SKIP")
                    continue
                running[pool.submit(run, node)] = node
            if not running:
                continue  # skips released more nodes
            if adaptive:  # the machine's cores shared among the queries running now
                want = max(1, cores // len(running))
                if want != current[0]:
                    con.execute(f"set threads = {want}")
                    current[0] = want
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                node = running.pop(fut)
                res = results[node.uid] = fut.result()
                if res.status in ("fail", "error"):
                    # as dbt build: a failed model skips everything downstream; a failed test skips the
                    # models downstream of what it tests (the other tests of those models still run)
                    covered = set(node.depends_on) if node.kind == "test" else {node.uid}
                    blocked |= {u for u in _descendants(nodes, covered) if kinds[u] != "test"}
                    if node.kind != "test":
                        blocked.add(node.uid)
    not_built = {uid for uid, r in results.items() if r.status in ("error", "fail", "skipped")} | blocked
    exposures = [NodeResult(n.uid, "skipped" if not_built & set(n.depends_on) else "no-op", 0.0,
                            "an upstream node failed" if not_built & set(n.depends_on) else "")
                 for n in nodes if n.kind == "exposure"]
    return start_hooks + [results[n.uid] for n in order] + exposures + hooks("on-run-end")


def write_run_results(results: list[NodeResult], elapsed: float, target_path: str) -> None:
    """``run_results.json`` with dbt's field names for what the engine knows (status, timing, message)."""
    os.makedirs(target_path, exist_ok=True)
    doc = {"metadata": {"engine": "breakbounce-fast"}, "elapsed_time": elapsed,
           "results": [asdict(r) for r in results]}
    tmp = os.path.join(target_path, f"run_results.json.tmp-{os.getpid()}")
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1)
    os.replace(tmp, os.path.join(target_path, "run_results.json"))

