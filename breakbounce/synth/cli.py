"""``breakbounce generate``: synthetic Bronze for a range of sessions."""

from __future__ import annotations

import argparse
import datetime as _dt
import sys

from breakbounce.errors import UserError


def _date(s: str) -> str:
    try:
        return _dt.date.fromisoformat(s).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}") from None


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "generate",
        help="write synthetic Bronze (ES trades, ES MBP-10, SPY 0DTE options) with planted events",
        description="Generate deterministic synthetic Bronze for every trading session in a date range.",
    )
    p.add_argument("--start-date", required=True, type=_date, help="first date (YYYY-MM-DD)")
    p.add_argument("--end-date", required=True, type=_date, help="last date, inclusive (YYYY-MM-DD)")
    p.add_argument("--out", required=True, help="Bronze root: a directory or s3://bucket/prefix")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--scale", choices=("test", "full"), default="test", help="volume preset (default test)")
    p.add_argument(
        "--scenario",
        default=None,
        help="planted-event scenario: a JSON file or a day template (pm_high_bounce, pm_low_bounce, pm_high_break, "
        "pm_low_break); default: each session draws a day template",
    )
    p.add_argument(
        "--roll-at",
        default=None,
        metavar="HH:MM",
        help="make every generated date a roll day: from this ET time (inside RTH) the back month trades more "
        "than the front month, which still leads the volume before 09:30",
    )
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from breakbounce import calendar as cal
    from breakbounce import storage
    from breakbounce.synth import generate_range, load_scenario
    from breakbounce.synth.scenario import ScenarioError

    if args.end_date < args.start_date:
        raise UserError(f"--end-date {args.end_date} is before --start-date {args.start_date}")
    if args.seed < 0:
        raise UserError("--seed must be >= 0")
    storage.filesystem(args.out)  # an s3:// URL without the s3 extra: one line, exit 2
    cal_dates = list(cal.load_calendar())
    if args.start_date > cal_dates[-1] or args.end_date < cal_dates[0]:
        raise UserError(f"dates outside the trading calendar ({cal_dates[0]} .. {cal_dates[-1]})")
    sessions = cal.sessions_between(args.start_date, args.end_date)
    if not sessions:
        if args.start_date == args.end_date:
            raise UserError(f"{args.start_date} is not an NYSE trading session (see seeds/trading_calendar.csv)")
        raise UserError(f"no trading session between {args.start_date} and {args.end_date}")
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None

    total = len(sessions)
    done = {"n": 0}

    def progress(stage, date, res):
        if stage == "start":
            print(f"[{done['n'] + 1}/{total}] generating {date} ({args.scale}) ...", file=sys.stderr, flush=True)
        else:
            done["n"] += 1
            r = res["rows"]
            print(
                f"{date} trades={r['futures_trades']} mbp10={r['futures_mbp10']} options={r['option_trades']} "
                f"regime={res['regime']} scenario={res['scenario']} seconds={res['seconds']:.2f}",
                flush=True,
            )

    if args.roll_at is not None:
        from breakbounce.synth.clock import parse_hhmm

        try:
            parse_hhmm(args.roll_at)
        except ValueError as exc:
            raise UserError(f"--roll-at: {exc}") from None
    try:
        generate_range(
            args.start_date,
            args.end_date,
            args.out,
            args.seed,
            args.scale,
            scenario,
            progress=progress,
            roll_at=args.roll_at,
        )
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    except ValueError as exc:
        if args.roll_at is not None and "roll time" in str(exc):
            raise UserError(str(exc)) from None
        raise
    return 0
