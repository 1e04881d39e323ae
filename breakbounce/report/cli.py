"""``breakbounce report``: ``--date D`` draws a session; ``--start-date A --end-date B`` checks a range."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from breakbounce.errors import UserError

PROJECT_DIR = Path(__file__).resolve().parents[2]
REPORT_DIR = PROJECT_DIR / "target" / "reports"


def add_parser(sub: argparse._SubParsersAction) -> None:
    from breakbounce.runner import _add_paths, _iso_date

    p = sub.add_parser(
        "report",
        help="a session as an HTML page (--date), or the health of a Gold date range",
        description="--date D: one self-contained HTML page of the session (bars, levels as known, "
        "touch events, tape / book / dealer gamma). --start-date A --end-date B: dataset "
        "health of the Gold files in the range, as HTML plus JSON. Needs the extra "
        "'report' (plotly).",
    )
    rng = p.add_mutually_exclusive_group(required=True)
    rng.add_argument("--date", type=_iso_date, help="the session to draw")
    rng.add_argument("--start-date", type=_iso_date, help="first date of a health report (with --end-date)")
    p.add_argument("--end-date", type=_iso_date, help="last date of a health report, inclusive")
    _add_paths(p)
    p.add_argument(
        "--db",
        default=os.environ.get("BB_DUCKDB_PATH", str(PROJECT_DIR / "target" / "breakbounce.duckdb")),
        help="warehouse read when it was built for --date (default: target/breakbounce.duckdb); "
        "otherwise the date is built into a scratch warehouse",
    )
    p.add_argument(
        "--out", default=None, help="HTML file to write (default: target/reports/session-D.html or health-A_B.html)"
    )
    p.add_argument("--json", default=None, help="health report: JSON file (default: the HTML path with .json)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    if args.date:
        if args.end_date:
            raise UserError("--end-date goes with --start-date, not --date")
        from breakbounce import storage

        for name, location in (("--bronze", args.bronze), ("--gold", args.gold)):
            if storage.is_url(location):  # the range report reads Gold from an object store; this one not yet
                raise UserError(
                    f"{name} {location}: the session page reads local Bronze and Gold only; "
                    f"copy the date's folders to a local directory first"
                )
        from breakbounce.report.session import write_session_report

        out = args.out or str(REPORT_DIR / f"session-{args.date}.html")
        path, data = write_session_report(args.date, args.bronze, args.gold, args.db, out)
        for w in data.warnings:
            print(f"breakbounce report: warning: {w}", file=sys.stderr)
        print(f"{args.date}: {data.events.num_rows} events -> {path}")
        return 0
    if not args.end_date:
        raise UserError("--start-date needs --end-date")
    if args.end_date < args.start_date:
        raise UserError(f"--end-date {args.end_date} is before --start-date {args.start_date}")
    from breakbounce.report.health import write_health_report

    out = args.out or str(REPORT_DIR / f"health-{args.start_date}_{args.end_date}.html")
    json_out = args.json or str(Path(out).with_suffix(".json"))
    html_path, json_path, summary = write_health_report(args.start_date, args.end_date, args.gold, out, json_out)
    print(summary)
    print(f"-> {html_path}\n-> {json_path}")
    return 0
