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

import duckdb

from breakbounce import gold, materialize, warehouse
from breakbounce.graph import EngineError, Node, database_name
from breakbounce.schedule import critical_path_priority, descendants, schedule

__all__ = ["EngineError", "NodeResult", "execute", "open_warehouse", "write_run_results"]


# --- execution ----------------------------------------------------------------------------------


@dataclass
class NodeResult:
    unique_id: str
    status: str  # success | pass | fail | error | skipped
    execution_time: float
    message: str = ""
    started: float = 0.0  # seconds after the run's first node started


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
        raise EngineError(
            f"BB_ROW_GROUP_SIZE must be a whole number of rows, not {os.environ['BB_ROW_GROUP_SIZE']!r}"
        ) from None
    name = database_name(db_path).replace('"', '""')
    con = duckdb.connect(
        config={"temp_directory": f"{db_path}.tmp", "storage_compatibility_version": warehouse.STORAGE_COMPATIBILITY}
    )
    try:
        con.execute(f'attach ? as "{name}" (row_group_size {rows})', [db_path])
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


def execute(
    nodes: list[Node],
    con: duckdb.DuckDBPyConnection,
    date: str,
    gold_file: str,
    variables: list[str] = (),
    log=None,
    threads: int = WORKERS,
    expected_seconds: dict[str, float] | None = None,
) -> list[NodeResult]:
    """Build the whole graph for ``date`` on ``con`` (see :func:`open_warehouse`); per-node results.

    The on-run-start hooks run first, in order (a failing one skips every node, as dbt does with
    ``skip_nodes_if_on_run_start_fails``), the on-run-end hooks last. Up to ``threads`` nodes run
    at once, each on its own cursor of ``con`` (its own transaction); among the nodes ready to
    start, the one heading the longest chain of ``expected_seconds`` (the last run's times,
    :func:`breakbounce.schedule.previous_seconds`) goes first (:func:`critical_path_priority`), ties in
    :func:`breakbounce.schedule.execution_order`; results are listed in that order, hooks around them. Every node's SQL
    is deterministic, so the outcome depends neither on ``threads`` nor on the order nodes start in.
    Progress lines are numbered in the order nodes finish.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    order, waits = schedule(nodes)
    operations = [n for n in nodes if n.kind == "operation"]
    index = {n.uid: i for i, n in enumerate(order)}
    width = len(str(len(order)))
    catalog = materialize.catalog(con)
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
                    materialize.build_seed(cur, node, catalog)
                status, message = "success", ""
            elif node.kind == "test":
                failures = materialize.run_test(cur, node)
                status = "pass" if failures == 0 else "fail"
                message = "" if failures == 0 else materialize.describe_test_failure(cur, node, failures, date)
            else:
                with lock:  # catalog bookkeeping (schemas, relation types)
                    materialize.ensure_schema(cur, node, catalog)
                materialize.build_model(cur, node, date, catalog)
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
                materialize.run_operation(con, op, nodes, catalog)
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
                    blocked |= {u for u in descendants(nodes, covered) if kinds[u] != "test"}
                    if node.kind != "test":
                        blocked.add(node.uid)
    not_built = {uid for uid, r in results.items() if r.status in ("error", "fail", "skipped")} | blocked
    exposures = [
        NodeResult(
            n.uid,
            "skipped" if not_built & set(n.depends_on) else "no-op",
            0.0,
            "an upstream node failed" if not_built & set(n.depends_on) else "",
        )
        for n in nodes
        if n.kind == "exposure"
    ]
    return start_hooks + [results[n.uid] for n in order] + exposures + hooks("on-run-end")


def write_run_results(results: list[NodeResult], elapsed: float, target_path: str) -> None:
    """``run_results.json`` with dbt's field names for what the engine knows (status, timing, message)."""
    os.makedirs(target_path, exist_ok=True)
    doc = {"metadata": {"engine": "breakbounce-fast"}, "elapsed_time": elapsed, "results": [asdict(r) for r in results]}
    tmp = os.path.join(target_path, f"run_results.json.tmp-{os.getpid()}")
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1)
    os.replace(tmp, os.path.join(target_path, "run_results.json"))
