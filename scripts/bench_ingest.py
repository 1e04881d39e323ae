"""Throughput and memory of ``breakbounce ingest`` on a generated multi-million-record MBP-10 file.

    /work/venv/bin/python scripts/bench_ingest.py [--records 5000000] [--workdir bench/out/ingest]

1. Writes a real DBN v3 MBP-10 file (``databento_dbn.Metadata(...).encode()`` followed by packed
   records laid out as ``databento_dbn.MBP10Msg._dtypes``, via ``breakbounce.ingest.dbn_writer``),
   zstd-compressed as it is generated, so the generator never holds more than one block. The book
   is a random walk of an ES-like contract (0.25 ticks, 10 levels a side, random sizes, occasional
   empty deep levels) over one UTC day, so the output compresses like real data, not constants.
2. Runs ``breakbounce ingest --schema mbp-10`` on it in a fresh child process and reports the child's
   wall time, records/s and peak RSS (``ru_maxrss`` of that child, from ``os.wait4``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from breakbounce.ingest import dbn_writer

T0 = 1_765_843_200_000_000_000  # 2025-12-16 00:00 UTC
DAY_NS = 86_400_000_000_000
UNDEF_PRICE = 9223372036854775807
TICK = 250_000_000  # 0.25 points in 1e-9 units


def generate(path: Path, n: int, seed: int = 7, block: int = 200_000) -> None:
    rng = np.random.default_rng(seed)
    meta = dbn_writer.metadata(
        "GLBX.MDP3", "mbp-10", T0, T0 + DAY_NS, {"ESZ5": [(dt.date(2025, 12, 16), dt.date(2025, 12, 17), 294973)]}
    )
    gaps = rng.exponential(DAY_NS / n, n).cumsum()
    ts_all = (T0 + gaps * (DAY_NS - 1) / gaps[-1]).astype(np.uint64)
    mid = 6_850 * 4  # in ticks
    seq = 1_000_000

    def blocks():
        nonlocal mid, seq
        for start in range(0, n, block):
            m = min(block, n - start)
            a = dbn_writer.empty_records("mbp-10", m)
            a["publisher_id"] = 1
            a["instrument_id"] = 294973
            ts = ts_all[start : start + m]
            a["ts_event"] = ts
            # ts_recv stays inside the requested day, as in a Databento historical file
            a["ts_recv"] = np.minimum(ts + rng.integers(100_000, 480_000, m).astype(np.uint64), T0 + DAY_NS - 1)
            a["ts_in_delta"] = rng.integers(17_000, 26_000, m)
            a["sequence"] = seq + np.arange(m)
            seq += m
            steps = rng.choice([-1, 0, 0, 0, 0, 0, 0, 1], m).cumsum() + mid
            mid = int(steps[-1])
            a["action"] = rng.choice(np.array([b"A", b"C", b"M", b"T"]), m, p=[0.4, 0.4, 0.15, 0.05])
            a["side"] = rng.choice(np.array([b"A", b"B"]), m)
            a["depth"] = rng.integers(0, 10, m)
            a["price"] = steps.astype(np.int64) * TICK
            a["size"] = rng.integers(1, 20, m)
            a["flags"] = 130
            for i in range(10):
                bid = (steps - i).astype(np.int64) * TICK
                ask = (steps + 1 + i).astype(np.int64) * TICK
                bsz = rng.integers(5, 120, m)
                asz = rng.integers(5, 120, m)
                if i >= 8:  # a thin book now and then: the deepest levels are empty
                    empty = rng.random(m) < 0.01
                    bid[empty] = UNDEF_PRICE
                    bsz[empty] = 0
                a[f"bid_px_{i:02d}"] = bid
                a[f"ask_px_{i:02d}"] = ask
                a[f"bid_sz_{i:02d}"] = bsz
                a[f"ask_sz_{i:02d}"] = asz
                a[f"bid_ct_{i:02d}"] = np.maximum(1, bsz // 2)
                a[f"ask_ct_{i:02d}"] = np.maximum(1, asz // 2)
            yield a

    dbn_writer.write_dbn(path, meta, blocks())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=5_000_000)
    ap.add_argument("--workdir", default="bench/out/ingest")
    ap.add_argument("--chunk-records", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the generated file and Bronze")
    ap.add_argument("--generate-only", metavar="PATH", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate_only:
        generate(Path(args.generate_only), args.records)
        return 0

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src = work / "glbx-mdp3-20251216.mbp-10.dbn.zst"
    # generate in a child too: a big parent would inflate the ingest child's ru_maxrss (fork copies
    # the parent's resident set before exec)
    t = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--generate-only", str(src), "--records", str(args.records)], check=True)
    gen_s = time.perf_counter() - t
    size = src.stat().st_size
    print(
        f"generated {args.records:,} MBP-10 records in {gen_s:.1f} s: {src} ({size / 2**20:.1f} MiB zstd, "
        f"{args.records * 368 / 2**20:.0f} MiB raw DBN)"
    )

    cmd = [sys.executable, "-c", "import sys; from breakbounce.cli import main; sys.exit(main())"]
    if _cli_unavailable():
        cmd = [sys.executable, "-c", _STANDALONE]
    cmd += ["ingest", "--schema", "mbp-10", "--bronze", str(work / "bronze"), str(src)]
    if args.chunk_records:
        cmd += ["--chunk-records", str(args.chunk_records)]
    t = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS in KiB)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        print(stdout, stderr, file=sys.stderr)
        return proc.returncode
    print(stdout.strip())
    peak_mib = usage.ru_maxrss / 1024
    bronze_bytes = sum(p.stat().st_size for p in (work / "bronze").rglob("*.parquet"))
    print(
        f"ingest: {wall:.1f} s wall (incl. interpreter start), {args.records / wall:,.0f} records/s, "
        f"peak RSS {peak_mib:.0f} MiB, Bronze {bronze_bytes / 2**20:.1f} MiB"
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _cli_unavailable() -> bool:
    """The top-level CLI imports every subcommand; fall back to the ingest parser alone if one is missing."""
    probe = subprocess.run([sys.executable, "-c", "import breakbounce.cli as c; c.build_parser()"], capture_output=True)
    return probe.returncode != 0


_STANDALONE = """
import argparse, sys
from breakbounce.errors import UserError
from breakbounce.ingest import cli
p = argparse.ArgumentParser(prog="breakbounce"); sub = p.add_subparsers(dest="command"); cli.add_parser(sub)
a = p.parse_args()
try:
    sys.exit(a.func(a))
except UserError as e:
    print(e, file=sys.stderr); sys.exit(2)
"""

if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
