"""``breakbounce ingest``: Databento DBN / .dbn.zst / parquet renderings -> Bronze."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from breakbounce.ingest import SCHEMAS

if TYPE_CHECKING:
    from breakbounce.ingest.pipeline import IngestOptions

EPILOG = """\
examples:
  breakbounce ingest --schema mbp-10 --bronze bronze glbx-mdp3-20251216.mbp-10.dbn.zst
  breakbounce ingest --schema trades --bronze bronze glbx-mdp3-20251216.trades.dbn.zst
  breakbounce ingest --schema opra-trades --definitions opra-20251216.definition.dbn.zst \\
      --bronze bronze opra-pillar-20251216.trades.dbn.zst

Inputs may be .dbn, .dbn.zst (detected from the bytes) or Databento parquet renderings
(float or fixed-point prices). Re-ingesting the same file replaces its earlier output.
See docs/ingest.md for the field mapping and the decisions behind it.
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "ingest",
        help="Databento DBN -> Bronze",
        description="Databento DBN / .dbn.zst / parquet renderings -> Bronze (see docs/ingest.md).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--schema", required=True, choices=SCHEMAS, help="what the FILES hold")
    p.add_argument("--bronze", required=True, metavar="DIR", help="Bronze root directory (created if missing)")
    p.add_argument(
        "--definitions",
        action="append",
        default=[],
        metavar="FILE",
        help="a Databento definition file (DBN or parquet; repeat the option for several): required for "
        "opra-trades; for futures it resolves contract symbols the files' own symbology does not name",
    )
    p.add_argument(
        "--root", default="ES", help="futures product root; only its outright contracts are kept (default ES)"
    )
    p.add_argument(
        "--underlying",
        default="SPY",
        help="options: keep this underlying's contracts, written under options/trades/underlying=<it> (default SPY)",
    )
    p.add_argument(
        "--max-dte",
        type=int,
        default=0,
        metavar="DAYS",
        help="options: keep trades whose expiration is 0..DAYS calendar days after the trading date (default 0 = 0DTE)",
    )
    p.add_argument("--chunk-records", type=int, default=None, metavar="N", help="records per chunk (memory bound)")
    p.add_argument("files", nargs="+", metavar="FILE", help="source files (.dbn, .dbn.zst or parquet rendering)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from breakbounce import storage
    from breakbounce.errors import UserError
    from breakbounce.ingest.errors import IngestError
    from breakbounce.ingest.pipeline import IngestOptions, ingest, stderr_progress

    if storage.is_url(args.bronze):
        raise UserError(
            f"--bronze {args.bronze}: ingest writes to a local Bronze folder; ingest into one, "
            f"then copy it to the object store (e.g. aws s3 sync)"
        )

    try:
        opts = IngestOptions(
            schema=args.schema,
            bronze_root=args.bronze,
            definitions=args.definitions,
            root=args.root,
            underlying=args.underlying,
            max_dte=args.max_dte,
            chunk_records=args.chunk_records,
        )
    except IngestError as exc:
        raise UserError(str(exc)) from None
    progress = stderr_progress()
    total_rows = 0
    done = 0  # files ingested completely (each file is all-or-nothing)
    try:
        for report in ingest(args.files, opts, progress):
            done += 1
            if progress is not None:
                print(file=sys.stderr)
            print(report.summary(args.schema))
            total_rows += report.stats.rows
            if report.records and not report.stats.rows:
                print(f"warning: {_why_empty(report, opts)}", file=sys.stderr)
        if len(args.files) > 1:
            print(f"{len(args.files)} files, {total_rows:,} Bronze rows")
    except IngestError as exc:
        # ingest stops at the first bad file: name the files it never read, so that none of them is
        # taken for ingested (those before it were, completely: their summary lines are on stdout)
        rest = args.files[done + 1 :]
        details = [f"  not ingested: {', '.join(rest)} (the {len(rest)} file(s) after it)"] if rest else []
        raise UserError(str(exc), details=details) from None
    return 0


def _why_empty(report, opts: IngestOptions) -> str:
    s = report.stats
    msg = f"{report.path}: nothing written"
    if s.expirations_dropped:
        exps = ", ".join(sorted(s.expirations_dropped))
        msg += f"; no trade expires within {opts.max_dte} days of its trading date (expirations: {exps}); see --max-dte"
    return msg
