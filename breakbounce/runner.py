"""``breakbounce run`` and ``breakbounce backfill``: the build of one date, and of many.

``run`` plans and validates the date's Bronze first (a missing date or a bad file is a one-line
error and exit code 2, before anything is built or written), then builds that date: with the fast
engine (breakbounce/engine.py: dbt's compiled graph run directly on DuckDB) by default, or with a
real ``dbt build`` in-process (``--engine dbt``, ``--select``). Progress goes to stderr, the
summary to stdout.

``backfill`` builds many dates as tasks on a Dask cluster (breakbounce/cluster.py): a local one of
``--workers`` processes, or an existing one (``--scheduler``). Each task runs ``breakbounce run`` in
its own process, in a worker directory with its own DuckDB file and dbt target, so dates cannot
disturb each other; progress goes to stderr, one result line per date and a summary to stdout, and
the exit code is non-zero if any date failed.

``--bronze`` and ``--gold`` take local paths or object-store URLs (``s3://bucket/prefix``,
breakbounce/storage.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from breakbounce import calendar, failures, gold, params, storage
from breakbounce.errors import UserError
from breakbounce.plan import plan_run, sessions_with_bronze, validate_plan
from breakbounce.warehouse import build_settings as warehouse_settings

#: the dbt project: $DBT_PROJECT_DIR (as for dbt itself), else the one this package belongs to
PROJECT_DIR = Path(os.environ.get("DBT_PROJECT_DIR") or Path(__file__).resolve().parents[1]).resolve()
#: where runs write compiled SQL and run_results.json: $DBT_TARGET_PATH (as for dbt), else <project>/target
TARGET_DIR = os.environ.get("DBT_TARGET_PATH") or str(PROJECT_DIR / "target")
#: the fast engine's compiled graphs, one per project version and --vars (shared by every target)
GRAPH_CACHE = PROJECT_DIR / "target" / "fast_graph"


def _iso_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _date_list(text: str) -> list[str]:
    return [_iso_date(t.strip()) for t in text.split(",") if t.strip()]


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer: {text!r}")
    return n


def _add_paths(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--bronze",
        default=os.environ.get("BB_BRONZE", "data/bronze"),
        help="Bronze root: a path or s3://bucket/prefix (default: $BB_BRONZE or data/bronze)",
    )
    p.add_argument(
        "--gold",
        default=os.environ.get("BB_GOLD", "data/gold"),
        help="Gold root: a path or s3://bucket/prefix (default: $BB_GOLD or data/gold)",
    )


def _dbt_vars(text: str) -> dict:
    """``--vars``: a YAML mapping, as dbt takes it."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise argparse.ArgumentTypeError(f"not a YAML mapping: {text!r} ({str(exc).splitlines()[0]})") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"not a YAML mapping of dbt vars: {text!r}")
    if "date" in value:
        raise argparse.ArgumentTypeError("give the date with --date, not in --vars")
    return value


RUN_DESCRIPTION = """\
Build one session date: Bronze -> the warehouse's models -> the Gold file
gold/signals/date=D/signals.parquet, published only after every data test passed.

The date's Bronze is checked first (a missing date, an unreadable file or a missing column is one
line and exit code 2, nothing written). By default the fast engine runs dbt's compiled graph
directly on DuckDB (breakbounce/engine.py: the same SQL, tests and Gold as `dbt build`, without
dbt's per-node cost; dbt compiles the project once per project version and --vars). --engine dbt,
and any --select, run a real `dbt build` instead. Progress goes to stderr, a summary to stdout.
Exit codes: 0 built, 1 a node or test failed (or an internal error), 2 bad input."""

BACKFILL_DESCRIPTION = """\
Build many session dates as tasks on a Dask cluster: a local one of --workers processes, or an
existing one (--scheduler tcp://HOST:PORT, any Dask deployment). Each date runs `breakbounce run` in
its own process. Dates without Bronze ES trades, and days that are not NYSE sessions, are skipped and
listed. Each worker keeps its own warehouse (worker-<name>/warehouse.duckdb under --work-dir on a
local cluster; $BB_WORKER_DIR or the worker's Dask directory on an existing one) and gets
consecutive dates, which reuse its warmup cache. A worker lost mid-date costs a retry on another
worker, never a partial Gold. Progress on stderr; one result line per date on stdout; exit code 1
if any date failed (the other dates are unaffected)."""

ALLOW_GAPS_HELP = (
    "build even when Bronze hour partitions are missing (SPEC §12): warn, record the gaps in the "
    "Gold metadata and give NULL to features whose window overlaps one (default: exit 2)"
)


def _add_vars(p: argparse.ArgumentParser, where: str) -> None:
    p.add_argument(
        "--vars",
        type=_dbt_vars,
        default={},
        metavar="YAML",
        help=f"dbt vars for the maths, as dbt takes them, e.g. '{{touch_band: 0.2}}' {where}",
    )


def checked_vars(args: argparse.Namespace) -> dict:
    """``--vars`` with its run-shaping values (breakbounce.params: --vars over dbt_project.yml) checked:
    a bad one is a usage error before anything runs."""
    dbt_vars = getattr(args, "vars", None) or {}
    try:
        for name in params.RUN_SHAPE_VARS:
            params.whole_number(name, dbt_vars)
    except ValueError as exc:
        raise UserError(f"--vars: {exc}") from None
    return dbt_vars


def add_parsers(sub: argparse._SubParsersAction) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "run", help="build one date: Bronze -> tested Gold", description=RUN_DESCRIPTION, formatter_class=fmt
    )
    p.add_argument("--date", required=True, type=_iso_date, help="session date YYYY-MM-DD")
    _add_paths(p)
    p.add_argument(
        "--db",
        default=os.environ.get("BB_DUCKDB_PATH", str(PROJECT_DIR / "target" / "breakbounce.duckdb")),
        help="DuckDB file holding the models (default: $BB_DUCKDB_PATH or target/breakbounce.duckdb)",
    )
    p.add_argument(
        "--target-path",
        default=None,
        help="where compiled SQL and run_results.json go (default: $DBT_TARGET_PATH or the project's target/)",
    )
    _add_vars(p, "(both engines)")
    p.add_argument("--select", default=None, help="dbt node selection (default: everything; implies --engine dbt)")
    p.add_argument(
        "--engine",
        choices=["fast", "dbt"],
        default=None,
        help="fast (default): run dbt's compiled graph directly, see breakbounce/engine.py; "
        "dbt: a real `dbt build` (the default with --select)",
    )
    p.add_argument("--allow-gaps", action="store_true", help=ALLOW_GAPS_HELP)
    p.set_defaults(func=cmd_run)

    b = sub.add_parser(
        "backfill",
        help="build many dates on a Dask cluster (local, or --scheduler)",
        description=BACKFILL_DESCRIPTION,
        formatter_class=fmt,
    )
    rng = b.add_mutually_exclusive_group(required=True)
    rng.add_argument("--start-date", type=_iso_date, help="first date (with --end-date)")
    rng.add_argument("--dates", type=_date_list, help="comma-separated dates")
    b.add_argument("--end-date", type=_iso_date, help="last date, inclusive")
    _add_paths(b)
    b.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="worker processes of the local Dask cluster: dates built at once (default 1)",
    )
    b.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="the scheduler of an existing Dask cluster to run the dates on (instead of a local one)",
    )
    b.add_argument("--dry-run", action="store_true", help="list what would be built, build nothing")
    _add_vars(b, "(passed to every date's run)")
    b.add_argument("--allow-gaps", action="store_true", help=ALLOW_GAPS_HELP)
    b.add_argument(
        "--work-dir",
        default=os.path.join(TARGET_DIR, "backfill"),
        help="per-date logs (logs/run-<date>.log) and, on the local cluster, the workers' "
        "DuckDB files and dbt targets (default: %(default)s)",
    )
    b.set_defaults(func=cmd_backfill)


# --- run -----------------------------------------------------------------------------------------


def _dbt_env(args: argparse.Namespace) -> dict[str, str]:
    return {
        "BB_BRONZE": storage.absolute(args.bronze),
        "BB_GOLD": storage.absolute(args.gold),
        "BB_DUCKDB_PATH": os.path.abspath(args.db),
    }


def dbt_build_args(
    select: str | None = None, target_path: str | None = None, dbt_vars: dict | None = None
) -> list[str]:
    """``dbt build`` for the date in $BB_DATE (not in --vars: unchanged vars let dbt reuse its parse)."""
    # --no-write-json: dbt would re-serialise its 1.8 MB manifest before the first node on every run
    # (~0.3 s); cmd_run writes run_results.json itself from the result object
    cmd = ["build", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--no-write-json"]
    if select:
        # only tests whose every parent is selected: a subset must not test tables it did not rebuild
        cmd += ["--select", select, "--indirect-selection", "cautious"]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dbt_vars)]
    if target_path:
        cmd += ["--target-path", target_path, "--log-path", os.path.join(target_path, "logs")]
    return cmd


def _remove_leftovers(args: argparse.Namespace) -> None:
    """What killed runs left behind (Gold temp files of any date, compile folders), before building."""
    from breakbounce import graph

    gold.remove_stale_temp_files(storage.absolute(args.gold))
    graph.remove_leftovers(GRAPH_CACHE)


def cmd_run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if os.environ.get("BB_EXIT_WITH_PARENT"):  # started by a backfill task: never outlive its worker
        from breakbounce import cluster

        cluster.exit_with_parent()
    warehouse_settings()  # a bad BB_MEMORY_LIMIT is a usage error, before anything runs
    for location in (args.bronze, args.gold):
        storage.filesystem(location)  # an s3:// URL without the s3 extra: one line, exit 2
    dbt_vars = checked_vars(args)
    plan = plan_run(args.date, args.bronze, allow_gaps=args.allow_gaps, dbt_vars=dbt_vars)  # BronzeError: exit 2
    validate_plan(plan)
    if args.allow_gaps:
        os.environ["BB_ALLOW_GAPS"] = "true"  # dbt's plugin plans the same run
    os.makedirs(os.path.dirname(os.path.abspath(args.db)), exist_ok=True)
    os.environ.update(_dbt_env(args))
    os.environ["BB_DATE"] = args.date
    _remove_leftovers(args)
    engine = args.engine or ("dbt" if args.select else "fast")
    if engine == "fast":
        if args.select:
            raise UserError("--select needs --engine dbt (the fast engine always builds the whole graph)")
        return _run_fast(args, plan, started, dbt_vars)
    # dbt's anonymous usage events are network calls from every node; off unless the user opted in
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    from dbt.cli.main import dbtRunner

    target_path = args.target_path or TARGET_DIR
    print(
        f"breakbounce run {args.date}: building with dbt (warmup sessions: {', '.join(plan.prior_sessions) or 'none'})",
        file=sys.stderr,
    )
    with contextlib.redirect_stdout(sys.stderr):
        result = dbtRunner().invoke(dbt_build_args(args.select, target_path, dbt_vars))
    _write_run_results(result, target_path)
    if not result.success:
        failed = []
        for r in getattr(result.result, "results", None) or []:
            if str(r.status) in ("error", "fail", "runtime error"):
                msg = [line.strip() for line in (r.message or "").strip().splitlines() if line.strip()]
                # a failed hook's first line is "<hook> failed, error:"; its cause is the next one
                first = " ".join(msg[:2]) if msg and msg[0].endswith(":") else (msg[0] if msg else str(r.status))
                failed.append(failures.Failure(r.node.name, first, len(failed), r.node.resource_type == "test"))
        if not failed:
            detail = str(result.exception).splitlines()[0] if result.exception else "see dbt log above"
            print(f"breakbounce run {args.date}: error: dbt build failed: {detail}", file=sys.stderr)
            return 1
        cause = failures.first_cause(failed, plan.es_trade_files + plan.mbp10_files + plan.option_files)
        print(f"breakbounce run {args.date}: error: dbt build failed: {cause}", file=sys.stderr)
        return cause.code
    elapsed = time.perf_counter() - started
    print(summarize(args.date, os.path.abspath(args.db), storage.absolute(args.gold), elapsed))
    return 0


def _run_fast(args: argparse.Namespace, plan, started: float, dbt_vars: dict) -> int:
    import duckdb

    from breakbounce import engine, graph, schedule, warehouse

    target_path = args.target_path or TARGET_DIR
    try:
        nodes = graph.load_graph(PROJECT_DIR, GRAPH_CACHE, args.db, dbt_vars)
    except engine.EngineError as exc:
        raise UserError(str(exc), code=1) from None
    graph.write_compiled(nodes, target_path)
    for w in plan.warnings:
        print(f"breakbounce warning: {w}", file=sys.stderr, flush=True)
    print(
        f"breakbounce run {args.date}: building {sum(n.kind in ('model', 'seed', 'test') and n.materialized != 'ephemeral' for n in nodes)} nodes "
        f"(warmup sessions: {', '.join(plan.prior_sessions) or 'none'})",
        file=sys.stderr,
        flush=True,
    )
    t0 = time.perf_counter()
    gold_root = storage.absolute(args.gold)
    try:
        variables = warehouse.variable_statements(plan, gold_root)
        con = engine.open_warehouse(os.path.abspath(args.db), variables)
        storage.register(con, plan.bronze_root, known=plan.file_entries)  # Bronze on an object store
    except duckdb.Error as exc:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise (
            failures.environment_cause(message, f"opening the warehouse {args.db}")
            or UserError(f"cannot open the warehouse {args.db}: {message}", code=1)
        ) from None
    except engine.EngineError as exc:
        raise UserError(str(exc), code=1) from None
    try:  # node failures are results; this is what fails around them (the catalog read, the hooks' setup)
        results = engine.execute(
            nodes,
            con,
            args.date,
            gold.gold_file(gold_root, args.date),
            variables,
            expected_seconds=schedule.previous_seconds(target_path),
        )
    except duckdb.Error as exc:
        con.close()
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise (
            failures.environment_cause(message, f"building {args.date}")
            or UserError(f"the build of {args.date} failed: {message}", code=1)
        ) from None
    engine.write_run_results(results, time.perf_counter() - t0, target_path)
    failed = [r for r in results if r.status in ("error", "fail")]
    skipped = sum(r.status == "skipped" for r in results)
    # dbt's closing line, with its meaning: ERROR counts failed models and failed tests
    print(
        f"Done. PASS={len(results) - len(failed) - skipped} ERROR={len(failed)} SKIP={skipped} "
        f"TOTAL={len(results)} ({time.perf_counter() - t0:.2f}s)",
        file=sys.stderr,
        flush=True,
    )
    try:
        if failed:
            by_uid = {n.uid: n for n in nodes}
            cause = failures.first_cause(
                [
                    failures.Failure(
                        by_uid[r.unique_id].name,
                        r.message,
                        r.started + r.execution_time,
                        by_uid[r.unique_id].kind == "test",
                    )
                    for r in failed
                ],
                plan.es_trade_files + plan.mbp10_files + plan.option_files,
            )
            print(
                f"breakbounce run {args.date}: error: {cause} [{len(failed)} node(s) failed, {skipped} skipped]",
                file=sys.stderr,
            )
            return cause.code
        elapsed = time.perf_counter() - started
        print(summarize(args.date, os.path.abspath(args.db), gold_root, elapsed, con=con))
    finally:
        con.close()
    return 0


def _write_run_results(result, target_path: str) -> None:
    """target/run_results.json (per-node status and timing), as dbt would have written it."""
    write = getattr(result.result, "write", None)
    if write is not None:
        os.makedirs(target_path, exist_ok=True)
        write(os.path.join(target_path, "run_results.json"))


def summarize(date: str, db_path: str, gold_root: str, elapsed: float, con=None) -> str:
    """A few lines for stdout: where Gold is and what it holds (``con``: the build's open connection)."""
    import duckdb

    gold_path = gold.gold_file(gold_root, date)
    lines = [f"{date}: built in {elapsed:.1f}s; warehouse {db_path}"]
    own = con is None
    from breakbounce import warehouse

    con = con or duckdb.connect(db_path, config=warehouse.file_config())  # as dbt's still-open connection
    try:
        bars = con.execute(
            "select count(*) from intermediate.int_bars__es_1min where session_date = ?", [date]
        ).fetchall()[0][0]
        lines.append(f"  1-min bars: {bars}")
    except duckdb.Error:
        pass  # a subset run may not have built the bars
    finally:
        if own:
            con.close()
    if storage.exists(gold_path):
        # one read of the file: the total, per level kind and per outcome
        reader = duckdb.connect()
        storage.register(reader, gold_path)
        try:
            rows = reader.execute(
                "select grouping(level_kind_name, outcome) as grouped, level_kind_name, outcome, count(*) "
                "from read_parquet(?) group by grouping sets ((), (level_kind_name), (outcome)) order by all",
                [gold_path],
            ).fetchall()
        finally:
            reader.close()
        # grouped: 3 = the total, 1 = per level kind (outcome rolled up), 2 = per outcome
        total = sum(n for grouped, _, _, n in rows if grouped == 3)
        kinds = [(k, n) for grouped, k, _, n in rows if grouped == 1]
        outcomes = [(o, n) for grouped, _, o, n in rows if grouped == 2]
        lines.append(f"  gold: {gold_path} ({total} events)")
        if kinds:
            lines.append("  events by level: " + ", ".join(f"{k} {n}" for k, n in kinds))
        if outcomes:
            lines.append("  outcomes (4-min window): " + ", ".join(f"{k} {n}" for k, n in outcomes))
    return "\n".join(lines)


# --- backfill ------------------------------------------------------------------------------------


def backfill_dates(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(dates to build, notes about dates skipped)."""
    if args.dates:
        wanted = sorted(set(args.dates))
    else:
        if not args.end_date:
            raise UserError("--start-date needs --end-date")
        if args.end_date < args.start_date:
            raise UserError(f"--end-date {args.end_date} is before --start-date {args.start_date}")
        wanted = [s.session_date for s in calendar.sessions_between(args.start_date, args.end_date)]
    have = set(sessions_with_bronze(args.bronze))
    cal = calendar.load_calendar()
    todo, skipped = [], []
    first, last = calendar.covered_range()
    for d in wanted:
        if d not in cal:
            skipped.append(
                f"{d}: not a trading session"
                if first <= d <= last
                else f"{d}: outside the calendar (seeds/trading_calendar.csv covers {first}..{last})"
            )
        elif d not in have:
            skipped.append(f"{d}: no Bronze ES trades")
        else:
            todo.append(d)
    return todo, skipped


def cmd_backfill(args: argparse.Namespace) -> int:
    from breakbounce import cluster

    if args.end_date and not args.start_date:
        raise UserError("--end-date needs --start-date")
    if args.scheduler and args.workers is not None:
        raise UserError("--workers sizes the local cluster; with --scheduler the cluster's own workers build the dates")
    workers = args.workers or 1
    for location in (args.bronze, args.gold):
        storage.filesystem(location)  # an s3:// URL without the s3 extra: one line, exit 2
    dbt_vars = checked_vars(args)
    todo, skipped = backfill_dates(args)
    for note in skipped:
        print(f"skip {note}", file=sys.stderr)
    if args.dry_run:
        where = f"on the Dask cluster at {args.scheduler}" if args.scheduler else f"with {workers} worker(s)"
        print(f"would build {len(todo)} date(s) {where}:")
        for d in todo:
            print(f"  {d}")
        return 0
    if not todo:
        raise UserError("no dates with Bronze to build in the requested range")
    work_dir = os.path.abspath(args.work_dir)
    spec = cluster.RunSpec(
        storage.absolute(args.bronze),
        storage.absolute(args.gold),
        args.allow_gaps,
        None if args.scheduler else work_dir,
        json.dumps(dbt_vars, sort_keys=True) if dbt_vars else "",
    )
    progress = cluster.Progress(len(todo))
    logs = os.path.join(work_dir, "logs")
    os.makedirs(logs, exist_ok=True)

    def write_log(res: cluster.DateResult) -> None:  # as each date ends: an interrupted backfill keeps them
        with open(os.path.join(logs, f"run-{res.date}.log"), "w") as fh:
            fh.write(f"# breakbounce backfill: {res.date} on worker {res.worker} ({res.where}), exit {res.code}\n")
            fh.write(res.log)

    what = f"the Dask cluster at {args.scheduler}" if args.scheduler else f"a local Dask cluster of {workers} worker(s)"
    progress.line(f"backfill: {len(todo)} date(s) on {what}; {'connecting' if args.scheduler else 'starting it'}")
    try:
        with cluster.connect(args.scheduler, workers, work_dir) as (client, dashboard):
            threads = sum(len(v) for v in cluster.lanes_of(client).values())
            progress.line(
                f"backfill: cluster ready ({threads} worker thread(s)); dashboard: "
                + (dashboard or "none (install bokeh on the scheduler for one: pip install -e '.[dashboard]')")
            )
            results = cluster.run_dates(client, todo, spec, progress, on_result=write_log)
    finally:
        progress.close()
    print(f"{'date':<12}{'status':<8}{'seconds':>8}  detail")
    for res in results:
        log = os.path.join(logs, f"run-{res.date}.log")
        detail = res.detail if res.ok else f"{res.detail} (log: {log})"
        print(f"{res.date:<12}{'ok' if res.ok else 'FAILED':<8}{res.seconds:>8.1f}  {detail}")
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} built, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed else 0
