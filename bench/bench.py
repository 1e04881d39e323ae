"""Benchmark the main job (SPEC §13): generate a session plus warmup, then time `breakbounce run`.

    python bench/bench.py --scale full            # realistic day: ~700k ES trades, >=5M MBP-10, ~700k options
    python bench/bench.py --scale test            # small day

Prints generation time per session, then wall time and peak RSS of `breakbounce run` (a child
process, measured with getrusage) in four situations: the first run after a project change (the
fast engine has dbt compile the project, then runs it), a new warehouse (every warmup session read
from Bronze: one date on its own), a backfill's steady state (the previous date built in the same
warehouse, so most warmup sessions come from the stg_bronze__es_session_minutes cache), and the same
new-warehouse build through a real `dbt build` (--engine dbt) for comparison; then the slowest
nodes of the last fast run from run_results.json. Numbers go in the README's Performance section by hand.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from breakbounce import calendar

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, peak RSS MiB of the child, result) — run in a fresh process each time."""
    code = (
        "import resource, subprocess, sys, json, time\n"
        "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "w = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'wall': w, 'rss': rss, 'rc': p.returncode}))\n"
        "sys.stderr.write(p.stderr[-4000:]); sys.stderr.write(p.stdout[-4000:])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, env=env)
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    result = subprocess.CompletedProcess(cmd, stats["rc"], proc.stderr, "")
    return stats["wall"], stats["rss"], result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["test", "full"], default="full")
    ap.add_argument("--date", default="2025-12-16")
    ap.add_argument(
        "--warmup",
        type=int,
        default=8,
        help="prior sessions generated (relative volume needs 7; one more lets the previous date have 7 too)",
    )
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--reuse", action="store_true", help="reuse existing generated Bronze")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (the median is shown)")
    args = ap.parse_args()

    out = Path(args.out) / args.scale
    bronze, gold, work = out / "bronze", out / "gold", out / "work"
    prior = [s.session_date for s in calendar.sessions_before(args.date)[: args.warmup]]
    start = prior[-1] if prior else args.date
    if not args.reuse or not bronze.exists():
        shutil.rmtree(out, ignore_errors=True)
        wall, rss, res = timed(
            [
                sys.executable,
                "-m",
                "breakbounce",
                "generate",
                "--start-date",
                start,
                "--end-date",
                args.date,
                "--out",
                str(bronze),
                "--seed",
                str(args.seed),
                "--scale",
                args.scale,
            ]
        )
        if res.returncode:
            print(res.stdout, file=sys.stderr)
            return 1
        n = len(prior) + 1
        print(
            f"generate {n} sessions ({args.scale}): {wall:.1f}s total, {wall / n:.1f}s per session, peak RSS {rss:.0f} MiB"
        )
    truth = json.loads((bronze / "_truth" / f"date={args.date}" / "truth.json").read_text())
    counts = truth.get("rows", {})
    print(f"run date {args.date}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))

    shutil.rmtree(work, ignore_errors=True)
    db, target = work / "warehouse.duckdb", work / "dbt"

    def run(date: str, engine: str = "fast") -> tuple[float, float]:
        cmd = [
            sys.executable,
            "-m",
            "breakbounce",
            "run",
            "--date",
            date,
            "--bronze",
            str(bronze),
            "--gold",
            str(gold),
            "--db",
            str(db),
            "--target-path",
            str(target),
            "--engine",
            engine,
        ]
        wall, rss, res = timed(cmd)
        if res.returncode:
            print(res.stdout, file=sys.stderr)
            raise SystemExit(1)
        return wall, rss

    def report(label: str, samples: list[tuple[float, float]]) -> None:
        walls = sorted(w for w, _ in samples)
        extra = f" (min {walls[0]:.2f}s, max {walls[-1]:.2f}s over {len(walls)})" if len(walls) > 1 else ""
        print(
            f"breakbounce run, {label}: wall {walls[len(walls) // 2]:.2f}s{extra}, "
            f"peak RSS {max(r for _, r in samples):.0f} MiB"
        )

    # 1. the first run after a project change: dbt compiles the project for the fast engine
    shutil.rmtree(ROOT / "target" / "fast_graph", ignore_errors=True)
    report("first run after a project change (dbt compiles the graph, empty warmup cache)", [run(args.date)])
    # 2. a new warehouse: what one date costs on its own
    fresh = []
    for _ in range(args.repeat):
        db.unlink(missing_ok=True)
        fresh.append(run(args.date))
    report("new warehouse (compiled graph cached, empty warmup cache)", fresh)
    # 3. a backfill's steady state: the previous session was built in this warehouse, so only the
    #    warmup sessions that are new or changed role (SMA -> volume-only) are read from Bronze
    if prior:
        steady = []
        for _ in range(args.repeat):
            db.unlink(missing_ok=True)
            run(prior[0])
            steady.append(run(args.date))
        report(f"after {prior[0]} in the same warehouse (backfill steady state)", steady)
    results = json.loads((target / "run_results.json").read_text())
    # 4. the same as 2. through a real `dbt build`
    run(args.date, "dbt")  # parses the project for dbt
    db.unlink(missing_ok=True)
    report("new warehouse through dbt build (--engine dbt, warm dbt parse)", [run(args.date, "dbt")])
    slow = sorted(results["results"], key=lambda r: -r["execution_time"])[:8]
    print(
        "slowest nodes (last fast run): "
        + ", ".join(f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.2f}s" for r in slow)
    )
    print(f"node execution inside the last fast run: {results['elapsed_time']:.2f}s, {len(results['results'])} nodes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
