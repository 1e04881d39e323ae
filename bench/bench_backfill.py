"""Benchmark `breakbounce backfill` (issue 15): many sessions, 1 vs 2 workers, and what the Dask path
costs per date against plain `breakbounce run`s.

    python bench/bench_backfill.py --scale full --dates 10     # README figures (~10 min with generation)
    python bench/bench_backfill.py --scale test --dates 10     # quick

Generates the dates plus 7 earlier sessions (relative volume's lookback), then measures, each in a
fresh work directory (cold warehouses, the compiled graph cached):

1. `breakbounce backfill --workers 1` and `--workers 2` over the dates: wall seconds of the command;
2. per date, one after another, three chains each in its own warehouse (a backfill's steady state):
   a plain `breakbounce run` (a new process from here: the serial baseline), the Dask task on a
   one-worker local cluster (`cluster.build_date`: `breakbounce run` in a child process of the
   worker, the shipped path), and the same run inside the worker's process (`breakbounce.cli.main`),
   each timed from the client; reported as medians and as per-date differences against the plain
   run (paired by date: robust to the shared machine's drift), with the cluster's start and stop.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from breakbounce import calendar

ROOT = Path(__file__).resolve().parents[1]


def sh(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode:
        print(proc.stderr[-4000:] + proc.stdout[-2000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, proc


def in_process_run(argv: list[str]) -> tuple[int, float]:
    """On the worker: `breakbounce run` in this very process (stdout/stderr captured)."""
    from breakbounce.cli import main

    t = time.perf_counter()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = main(argv)
    return code, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["test", "full"], default="full")
    ap.add_argument("--dates", type=int, default=10, help="sessions to backfill")
    ap.add_argument("--end-date", default="2025-12-16")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out-backfill"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--reuse", action="store_true", help="reuse generated Bronze")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: backfill,overhead")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    out = Path(args.out) / args.scale
    bronze, work = out / "bronze", out / "work"
    sessions = [s.session_date for s in calendar.sessions_before(args.end_date)[: args.dates - 1 + 7]][::-1]
    dates = (sessions + [args.end_date])[-args.dates :]
    start = sessions[0] if sessions else args.end_date
    if not args.reuse or not bronze.exists():
        shutil.rmtree(out, ignore_errors=True)
        wall, _ = sh(
            [
                sys.executable,
                "-m",
                "breakbounce",
                "generate",
                "--start-date",
                start,
                "--end-date",
                args.end_date,
                "--out",
                str(bronze),
                "--seed",
                str(args.seed),
                "--scale",
                args.scale,
            ]
        )
        print(f"generated {start}..{args.end_date} ({args.scale}) in {wall:.0f}s")
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start")
    print(f"dates: {dates[0]}..{dates[-1]} ({len(dates)} sessions, {args.scale} scale)")
    # the compiled graph, once (not part of any figure)
    sh(
        [
            sys.executable,
            "-m",
            "breakbounce",
            "run",
            "--date",
            dates[0],
            "--bronze",
            str(bronze),
            "--gold",
            str(work / "warm" / "gold"),
            "--db",
            str(work / "warm" / "w.duckdb"),
            "--target-path",
            str(work / "warm" / "dbt"),
        ]
    )

    if "backfill" not in skip:
        for workers in (1, 2):
            d = work / f"backfill-{workers}"
            shutil.rmtree(d, ignore_errors=True)
            wall, proc = sh(
                [
                    sys.executable,
                    "-m",
                    "breakbounce",
                    "backfill",
                    "--start-date",
                    dates[0],
                    "--end-date",
                    dates[-1],
                    "--workers",
                    str(workers),
                    "--bronze",
                    str(bronze),
                    "--gold",
                    str(d / "gold"),
                    "--work-dir",
                    str(d),
                ]
            )
            per = [float(line.split()[2]) for line in proc.stdout.splitlines()[1:-1]]
            print(
                f"backfill --workers {workers}: {wall:.1f}s wall for {len(per)} dates "
                f"({wall / len(per):.2f}s a date; task times median {statistics.median(per):.2f}s, "
                f"first {per[0]:.2f}s); load average {os.getloadavg()[0]:.2f} after"
            )

    if "overhead" not in skip:
        # per date, one after another: a plain `breakbounce run` from here, the shipped task (a run in
        # a child process of the worker) and the same run inside the worker's process, each chain in
        # its own warehouse (so each is in a backfill's steady state); paired by date, which keeps
        # the differences meaningful while the shared machine's speed drifts
        import logging

        from distributed import Client, LocalCluster

        from breakbounce import cluster

        t = time.perf_counter()
        lc = LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            memory_limit=0,
        )
        client = Client(lc)
        started = time.perf_counter() - t
        walls: dict[str, list[float]] = {"plain": [], "task": [], "inproc": []}
        dirs = {k: work / f"chain-{k}" for k in walls}
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)
        try:
            for date in dates:
                wall, _ = sh(
                    [
                        sys.executable,
                        "-m",
                        "breakbounce",
                        "run",
                        "--date",
                        date,
                        "--bronze",
                        str(bronze),
                        "--gold",
                        str(dirs["plain"] / "gold"),
                        "--db",
                        str(dirs["plain"] / "w.duckdb"),
                        "--target-path",
                        str(dirs["plain"] / "dbt"),
                    ]
                )
                walls["plain"].append(wall)
                spec = cluster.RunSpec(str(bronze), str(dirs["task"] / "gold"), False, str(dirs["task"]))
                t = time.perf_counter()
                res = client.submit(cluster.build_date, date, spec, pure=False).result()
                walls["task"].append(time.perf_counter() - t)
                spec = cluster.RunSpec(str(bronze), str(dirs["inproc"] / "gold"), False, str(dirs["inproc"]))
                argv = cluster.run_command(date, spec, str(dirs["inproc"] / "worker-0"))[3:]
                t = time.perf_counter()
                code, _ = client.submit(in_process_run, argv, pure=False).result()
                walls["inproc"].append(time.perf_counter() - t)
                if res.code or code:
                    raise SystemExit(f"{date} failed: task {res.code} ({res.detail}), in-process {code}")
        finally:
            t = time.perf_counter()
            client.close()
            lc.close()
            stopped = time.perf_counter() - t
        load = os.getloadavg()[0]
        print(
            f"plain runs one after another: {sum(walls['plain']):.1f}s for {len(dates)} dates "
            f"(median {statistics.median(walls['plain']):.2f}s)"
        )
        for key, label in (
            ("task", "the Dask task (a run in a child process: shipped)"),
            ("inproc", "the same run in the worker's own process"),
        ):
            diff = [a - b for a, b in zip(walls[key], walls["plain"])]
            print(
                f"{label}: median {statistics.median(walls[key]):.2f}s a date; against the plain run of the "
                f"same date: median {statistics.median(diff):+.2f}s (from {min(diff):+.2f} to {max(diff):+.2f})"
            )
        print(
            f"local cluster of one worker: start {started:.2f}s, stop {stopped:.2f}s; load average {load:.2f} at the end"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
