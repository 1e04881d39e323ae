"""Re-ingest never duplicates; bad input fails with one line (exit 2) and leaves Bronze untouched."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import shutil
from pathlib import Path

import databento_dbn as dbn
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from breakbounce.ingest import IngestOptions, dbn_writer, ingest
from breakbounce.ingest import cli as ingest_cli
from tests.environment import REAL_SAMPLES, require_real_samples

SAMPLES = REAL_SAMPLES
RAW = SAMPLES / "raw_dbn/databento-python"
ES_TRADES = RAW / "GLBX.MDP3/test_data.trades.dbn.zst"
ES_MBP10 = RAW / "GLBX.MDP3/test_data.mbp-10.dbn.zst"
NS = 1_000_000_000
T1 = int(dt.datetime(2025, 12, 16, tzinfo=dt.UTC).timestamp()) * NS
D1 = dt.date(2025, 12, 16)

#: the tests that read the real Databento samples (skipped without them, failed on CI)
needs_samples = pytest.mark.usefixtures("real_samples")


@pytest.fixture
def real_samples():
    return require_real_samples()


def run_cli(argv: list[str]) -> int:
    """``breakbounce <argv>`` through the real entry point when it imports, else the same wiring."""
    try:
        from breakbounce.cli import build_parser, main

        build_parser()
    except Exception:  # another subcommand is mid-construction: exercise ours the same way main() does
        from breakbounce.errors import UserError

        parser = argparse.ArgumentParser(prog="breakbounce")
        ingest_cli.add_parser(parser.add_subparsers(dest="command"))
        args = parser.parse_args(argv)
        try:
            return int(args.func(args) or 0)
        except UserError as exc:
            import sys

            print(f"breakbounce {args.command}: error: {exc}", file=sys.stderr)
            return exc.code
    return main(argv)


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones too) -> sha256 of its bytes."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def synthetic_trades(path: Path, n: int, seq0: int = 0) -> Path:
    a = dbn_writer.empty_records("trades", n)
    a["publisher_id"] = 1
    a["instrument_id"] = 100
    a["ts_event"] = T1 + (seq0 + pa.array(range(n)).to_numpy()) * 20 * 60 * NS  # spans several hours
    a["ts_recv"] = a["ts_event"] + 1000
    a["price"] = 6_850_250_000_000
    a["size"] = 1
    a["action"] = b"T"
    a["side"] = b"B"
    a["sequence"] = seq0 + pa.array(range(n)).to_numpy()
    meta = dbn_writer.metadata("GLBX.MDP3", "trades", T1, mappings={"ESZ5": [(D1, D1 + dt.timedelta(days=3), 100)]})
    dbn_writer.write_dbn(path, meta, [a])
    return path


def rows(root: Path) -> int:
    return sum(pq.read_metadata(p).num_rows for p in root.rglob("*.parquet"))


# ------------------------------------------------------------------------------------------ idempotence


@needs_samples
def test_reingest_same_file_twice_no_duplicates(tmp_path, capsys):
    argv = ["ingest", "--schema", "trades", "--bronze", str(tmp_path / "b"), str(ES_TRADES)]
    assert run_cli(argv) == 0
    first = snapshot(tmp_path / "b")
    assert run_cli(argv) == 0
    assert snapshot(tmp_path / "b") == first  # same names, same bytes
    assert rows(tmp_path / "b") == 4
    out = capsys.readouterr().out
    assert "4 trades records -> 4 Bronze rows in 1 files" in out


def test_reingest_with_other_chunking_replaces_every_file(tmp_path):
    src = synthetic_trades(tmp_path / "t.dbn", 30)
    out = tmp_path / "b"
    r1 = list(ingest([src], IngestOptions("trades", out, chunk_records=4)))[0]
    assert rows(out) == 30 and len(r1.written) >= 8
    r2 = list(ingest([src], IngestOptions("trades", out, chunk_records=1000)))[0]
    assert rows(out) == 30  # no duplicates: the 4-record chunk files were removed
    assert len(r2.removed) == len(set(r1.written) - set(r2.written)) > 0
    assert sorted(out.rglob("*.parquet")) == sorted(r2.written)
    assert not list(out.glob(".ingest-staging-*"))


def test_same_content_under_another_name_replaces(tmp_path):
    src = synthetic_trades(tmp_path / "a.dbn", 5)
    copy = tmp_path / "renamed.dbn"
    shutil.copy(src, copy)
    out = tmp_path / "b"
    list(ingest([src], IngestOptions("trades", out)))
    list(ingest([copy], IngestOptions("trades", out)))
    assert rows(out) == 5


def test_different_files_accumulate(tmp_path):
    out = tmp_path / "b"
    a = synthetic_trades(tmp_path / "a.dbn", 5)
    b = synthetic_trades(tmp_path / "b.dbn.zst", 5, seq0=100)
    list(ingest([a, b], IngestOptions("trades", out)))
    assert rows(out) == 10


@needs_samples
def test_reingest_that_now_keeps_nothing_removes_the_old_output(tmp_path):
    defs = RAW / "OPRA.PILLAR/test_data.definition.dbn.zst"
    trades = RAW / "OPRA.PILLAR/test_data.trades.dbn.zst"
    out = tmp_path / "b"
    base = dict(schema="opra-trades", bronze_root=out, definitions=[defs], underlying="AAPL")
    list(ingest([trades], IngestOptions(**base, max_dte=1)))
    assert rows(out) == 4
    (report,) = list(ingest([trades], IngestOptions(**base, max_dte=0)))
    assert rows(out) == 0 and len(report.removed) == 1


# ------------------------------------------------------------------------------------------------ errors


def _corrupt_variants(tmp_path: Path) -> dict[str, Path]:
    good = ES_MBP10.read_bytes()
    plain = pa.CompressedInputStream(pa.BufferReader(good), "zstd").read()
    v = {
        "truncated-zst": good[: len(good) * 2 // 3],
        "truncated-dbn": plain[:-100],  # cut inside the last record
        "header-only-dbn": plain[:20],  # cut inside the metadata
        "garbage": b"this is not market data" * 10,
        "corrupt-zst-frame": good[:60] + bytes(200) + good[260:],
        "bad-dbn-header": b"DBN\x09" + plain[4:],
        "empty": b"",
        "truncated-parquet": (SAMPLES / "databento-python/GLBX.MDP3/mbp-10.parquet").read_bytes()[:3000],
    }
    out = {}
    for name, data in v.items():
        p = tmp_path / f"{name}.dbn.zst"
        p.write_bytes(data)
        out[name] = p
    return out


@needs_samples
def test_corrupt_inputs_fail_with_one_line_and_leave_bronze_untouched(tmp_path, capsys):
    bronze_root = tmp_path / "bronze"
    assert run_cli(["ingest", "--schema", "mbp-10", "--bronze", str(bronze_root), str(ES_MBP10)]) == 0
    before = snapshot(bronze_root)
    capsys.readouterr()
    for name, path in _corrupt_variants(tmp_path).items():
        code = run_cli(["ingest", "--schema", "mbp-10", "--bronze", str(bronze_root), str(path)])
        err = capsys.readouterr().err
        assert code == 2, name
        lines = err.strip().splitlines()
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith("breakbounce ingest: error: ") and str(path) in lines[0], (name, err)
        assert snapshot(bronze_root) == before, name  # nothing changed, no staging left behind


@needs_samples
def test_truncated_copy_of_an_ingested_file_does_not_touch_its_output(tmp_path, capsys):
    """A truncated file has another content hash, so even its staging never replaces good files."""
    src = synthetic_trades(tmp_path / "t.dbn", 50)
    bronze_root = tmp_path / "bronze"
    argv = ["ingest", "--schema", "trades", "--chunk-records", "7", "--bronze", str(bronze_root)]
    assert run_cli([*argv, str(src)]) == 0
    before = snapshot(bronze_root)
    cut = tmp_path / "cut.dbn"
    cut.write_bytes(src.read_bytes()[:-30])
    code = run_cli([*argv, str(cut)])
    assert code == 2
    assert "truncated DBN file" in capsys.readouterr().err
    assert snapshot(bronze_root) == before


@needs_samples
def test_usage_errors_are_one_line(tmp_path, capsys):
    b = str(tmp_path / "b")
    cases = [
        (["--schema", "trades", "--bronze", b, str(ES_MBP10)], "holds mbp-10 records, not trades"),
        (["--schema", "trades", "--bronze", b, str(tmp_path / "missing.dbn")], "cannot read"),
        (["--schema", "opra-trades", "--bronze", b, str(RAW / "OPRA.PILLAR/test_data.trades.dbn.zst")],
         "needs --definitions"),
        (["--schema", "trades", "--bronze", b, str(RAW / "OPRA.PILLAR/test_data.trades.dbn.zst")],
         "use --schema opra-trades"),
        (["--schema", "opra-trades", "--definitions", str(ES_TRADES), "--bronze", b,
          str(RAW / "OPRA.PILLAR/test_data.trades.dbn.zst")], "no instrument definition records"),
        (["--schema", "trades", "--bronze", b, str(SAMPLES / "databento-python/GLBX.MDP3/mbp-10.parquet")],
         "holds records of rtype 10 (mbp-10), not trades"),
        (["--schema", "opra-trades", "--max-dte", "-1", "--bronze", b, str(ES_TRADES)], "--max-dte must be >= 0"),
    ]  # fmt: skip
    for argv, expected in cases:
        assert run_cli(["ingest", *argv]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and expected in err, (argv, err)
    assert not any((tmp_path / "b").rglob("*.parquet"))


def test_symbol_mapping_record_types_are_known():
    """The reader relies on these databento_dbn names (guard against a package upgrade)."""
    assert dbn.SymbolMappingMsg and dbn.MBP10Msg._dtypes and dbn.TradeMsg._dtypes


@needs_samples
def test_cli_definitions_option_then_files(tmp_path, capsys):
    """``--definitions FILE`` takes exactly one file (repeatable), so the sources may follow it."""
    defs = RAW / "OPRA.PILLAR/test_data.definition.dbn.zst"
    defs_pq = SAMPLES / "databento-python/OPRA.PILLAR/definition.parquet"
    trades = RAW / "OPRA.PILLAR/test_data.trades.dbn.zst"
    argv = ["ingest", "--schema", "opra-trades", "--underlying", "AAPL", "--max-dte", "1", "--bronze", str(tmp_path),
            "--definitions", str(defs), "--definitions", str(defs_pq), str(trades)]  # fmt: skip
    assert run_cli(argv) == 0
    assert "4 opra-trades records -> 4 Bronze rows in 1 files" in capsys.readouterr().out
    assert rows(tmp_path / "options/trades/underlying=AAPL") == 4


@needs_samples
def test_cli_warns_when_the_0dte_filter_keeps_nothing(tmp_path, capsys):
    defs = RAW / "OPRA.PILLAR/test_data.definition.dbn.zst"
    trades = RAW / "OPRA.PILLAR/test_data.trades.dbn.zst"
    argv = ["ingest", "--schema", "opra-trades", "--underlying", "AAPL", "--bronze", str(tmp_path),
            "--definitions", str(defs), str(trades)]  # fmt: skip
    assert run_cli(argv) == 0
    captured = capsys.readouterr()
    assert "dropped 4 not 0DTE" in captured.out
    assert "expirations: 2025-02-21" in captured.err and "--max-dte" in captured.err
