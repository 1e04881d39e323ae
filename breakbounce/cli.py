"""The ``breakbounce`` command line: run / backfill / generate / ingest / report / evaluate / sql.

Each subcommand lives in its own module and contributes an ``add_parser(subparsers)`` that sets
``func`` (called with the parsed args, returns the exit code). Errors go to stderr as one line;
data goes to files; summaries go to stdout.
"""

from __future__ import annotations

import argparse
import sys

from breakbounce.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    from breakbounce import __version__, evaluate, runner, sql
    from breakbounce.ingest import cli as ingest_cli
    from breakbounce.report import cli as report_cli
    from breakbounce.synth import cli as synth_cli

    parser = argparse.ArgumentParser(
        prog="breakbounce", description="Leak-free, labeled level-touch training data from ES and SPY 0DTE market data."
    )
    parser.add_argument("--version", action="version", version=f"breakbounce {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    runner.add_parsers(sub)
    synth_cli.add_parser(sub)
    ingest_cli.add_parser(sub)
    report_cli.add_parser(sub)
    evaluate.add_parser(sub)
    sql.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"breakbounce {args.command}: error: {exc}", file=sys.stderr)
        for line in exc.details:
            print(line, file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"breakbounce {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
