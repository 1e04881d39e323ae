#!/usr/bin/env python
"""Calibration table (SPEC §14): how informative Gold's labels and categorical physics states are.

Builds ``--sessions`` (20) generated sessions at full scale and at test scale (the same dates and seed),
each after the warmup sessions it needs (``volume_lookback_sessions`` = 7 earlier sessions), with the
project's current defaults, and prints one table: the share of every value of ``outcome`` per window
(2, 4 and 8 minutes) and of every categorical physics column (``barrier_state``, ``fuel_effect``,
``gamma_bucket``, ``sweep_detected``) on each scale, and the difference. Then the SPEC §14 targets:
no outcome class above 70% and CHOP between 30% and 70%; no physics value above 80%; the two scales
within 10 points of each other.

Generated Bronze is cached under ``--cache`` (reused when a date's truth file exists, so a rerun only
rebuilds Gold; delete it after changing the generator); each scale is built date by date with ``breakbounce run`` on one warehouse (as
``backfill --workers 1`` would), sequentially, so it is slow at full scale: ~20-40 s per date on 2 cores.
``--extract DIR`` also keeps each date's per-event barrier / fuel / label tables as parquet, for
exploring other thresholds without rebuilding.

Usage:
    python scripts/calibrate.py                       # generate what is missing, build, print the table
    python scripts/calibrate.py --scales test         # one scale only (no comparison)
    python scripts/calibrate.py --reuse-gold          # print the table from the Gold already built
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from breakbounce import calendar  # noqa: E402

WINDOWS = ("2min", "4min", "8min")
PHYSICS = ("barrier_state", "fuel_effect", "gamma_bucket", "sweep_detected")
OUTCOMES = ("BREAK", "BOUNCE", "CHOP", "UNDEFINED")
WARMUP_SESSIONS = 7
MAX_OUTCOME, CHOP_RANGE, MAX_PHYSICS, MAX_SCALE_GAP = 70.0, (30.0, 70.0), 80.0, 10.0
EXTRACTS = {
    "barrier": "select * from intermediate.int_physics__barrier",
    "fuel": "select * from intermediate.int_physics__fuel",
    "labels": "select l.*, e.atr, e.level_price, e.direction from intermediate.int_labels__by_window as l "
    "inner join intermediate.int_touches__detected as e using (event_id)",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def session_dates(start: str, n: int) -> list[str]:
    dates = [d for d in calendar.load_calendar() if d >= start][:n]
    if len(dates) < n:
        raise SystemExit(f"calibrate: the calendar has only {len(dates)} sessions from {start}")
    return dates


def breakbounce(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "breakbounce", *args], capture_output=True, text=True, cwd=PROJECT_DIR)


def ensure_bronze(bronze: Path, dates: list[str], seed: int, scale: str) -> None:
    missing = [d for d in dates if not (bronze / "_truth" / f"date={d}" / "truth.json").exists()]
    for i, d in enumerate(missing, 1):
        log(f"calibrate: generating {scale} {d} ({i}/{len(missing)})")
        proc = breakbounce(
            "generate", "--start-date", d, "--end-date", d, "--out", str(bronze), "--seed", str(seed), "--scale", scale
        )
        if proc.returncode != 0:
            raise SystemExit(f"calibrate: generate {d} failed:\n{proc.stderr[-2000:]}")


def build(work: Path, bronze: Path, dates: list[str], scale: str, extract: Path | None) -> None:
    import duckdb

    db, gold = work / "warehouse.duckdb", work / "gold"
    for i, d in enumerate(dates, 1):
        t0 = time.perf_counter()
        proc = breakbounce(
            "run",
            "--date",
            d,
            "--bronze",
            str(bronze),
            "--gold",
            str(gold),
            "--db",
            str(db),
            "--target-path",
            str(work / "dbt"),
        )
        if proc.returncode != 0:
            raise SystemExit(f"calibrate: run {d} ({scale}) failed:\n{proc.stderr[-3000:]}")
        log(f"calibrate: built {scale} {d} ({i}/{len(dates)}) in {time.perf_counter() - t0:.1f} s")
        if extract is not None:
            con = duckdb.connect(str(db), read_only=True)
            try:
                for name, sql in EXTRACTS.items():
                    out = extract / scale / name / f"date={d}.parquet"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    con.sql(sql).write_parquet(str(out))
            finally:
                con.close()


def shares(gold: Path, dates: list[str]) -> tuple[dict[tuple[str, str], float], int]:
    """{(column, value): percent of events} over the dates' Gold files, and the event count."""
    import duckdb

    files = [str(gold / "signals" / f"date={d}" / "signals.parquet") for d in dates]
    missing = [f for f in files if not Path(f).exists()]
    if missing:
        raise SystemExit(f"calibrate: no Gold for {len(missing)} date(s), e.g. {missing[0]}; run without --reuse-gold")
    con = duckdb.connect()
    n = con.execute("select count(*) from read_parquet(?)", [files]).fetchone()[0]
    out: dict[tuple[str, str], float] = {}
    for col in [f"outcome_{w}" for w in WINDOWS] + list(PHYSICS):
        rows = con.execute(
            f"select coalesce({col}::varchar, 'NULL'), count(*) from read_parquet(?) group by 1", [files]
        ).fetchall()
        for value, count in rows:
            out[(col, value)] = 100.0 * count / n
    con.close()
    return out, n


def table(results: dict[str, tuple[dict, int]]) -> tuple[str, list[str]]:
    """The markdown table and the list of missed targets."""
    scales = list(results)
    keys = sorted(
        {k for r, _ in results.values() for k in r},
        key=lambda k: (
            ([f"outcome_{w}" for w in WINDOWS] + list(PHYSICS)).index(k[0]),
            OUTCOMES.index(k[1]) if k[1] in OUTCOMES else 9,
            k[1],
        ),
    )
    head = "| column | value | " + " | ".join(f"{s} % (n={results[s][1]})" for s in scales)
    head += " | difference |" if len(scales) == 2 else " |"
    lines = [head, "|" + "---|" * (2 + len(scales) + (len(scales) == 2))]
    missed = []
    for col, value in keys:
        vals = [results[s][0].get((col, value), 0.0) for s in scales]
        row = f"| {col} | {value} | " + " | ".join(f"{v:.1f}" for v in vals)
        if len(scales) == 2:
            row += f" | {vals[0] - vals[1]:+.1f} |"
            if abs(vals[0] - vals[1]) > MAX_SCALE_GAP:
                missed.append(f"{col}={value}: scales differ by {abs(vals[0] - vals[1]):.1f} points")
        else:
            row += " |"
        lines.append(row)
        for s, v in zip(scales, vals):
            if col.startswith("outcome"):
                if value == "CHOP" and not CHOP_RANGE[0] <= v <= CHOP_RANGE[1]:
                    missed.append(f"{col}=CHOP at {v:.1f}% on {s} (target {CHOP_RANGE[0]:.0f}-{CHOP_RANGE[1]:.0f}%)")
                elif value != "CHOP" and v > MAX_OUTCOME:
                    missed.append(f"{col}={value} at {v:.1f}% on {s} (target <= {MAX_OUTCOME:.0f}%)")
            elif v > MAX_PHYSICS:
                missed.append(f"{col}={value} at {v:.1f}% on {s} (target <= {MAX_PHYSICS:.0f}%)")
    return "\n".join(lines), missed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sessions", type=int, default=20, help="sessions per scale in the table (default 20)")
    p.add_argument("--start", default="2025-10-01", help="first generated date, warmup included (default 2025-10-01)")
    p.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    p.add_argument("--scales", default="full,test", help="comma-separated scales (default full,test)")
    p.add_argument(
        "--cache",
        type=Path,
        default=PROJECT_DIR / "target" / "calibration",
        help="where generated Bronze (reused) and the builds go (default target/calibration)",
    )
    p.add_argument("--reuse-gold", action="store_true", help="do not build: tabulate the Gold already in --cache")
    p.add_argument("--extract", type=Path, default=None, help="also keep per-date barrier / fuel / label tables here")
    args = p.parse_args(argv)
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    if args.sessions < 1 or not scales:
        p.error("need at least one session and one scale")
    dates = session_dates(args.start, WARMUP_SESSIONS + args.sessions)
    table_dates = dates[WARMUP_SESSIONS:]
    results = {}
    for scale in scales:
        bronze = args.cache / f"bronze-{scale}-seed{args.seed}"
        work = args.cache / f"build-{scale}-seed{args.seed}"
        if not args.reuse_gold:
            ensure_bronze(bronze, dates, args.seed, scale)
            build(work, bronze, table_dates, scale, args.extract)
        results[scale] = shares(work / "gold", table_dates)
    text, missed = table(results)
    print(
        f"Calibration: {args.sessions} generated sessions per scale ({table_dates[0]} .. {table_dates[-1]}, "
        f"seed {args.seed}, after {WARMUP_SESSIONS} warmup sessions), shares of events in %\n"
    )
    print(text)
    print("\nSPEC §14 targets: " + ("all met" if not missed else f"{len(missed)} missed"))
    for m in missed:
        print(f"- {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
