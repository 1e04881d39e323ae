"""`breakbounce ingest --schema opra-trades` on the real OPRA.PILLAR samples (AAPL 250221 C 250).

The sample trades are on 2025-02-20 and expire 2025-02-21, so they are 1DTE: the default 0DTE
filter drops them (and says so), ``--max-dte 1`` keeps them. The underlying is AAPL, so the default
``--underlying SPY`` refuses the file with a message naming AAPL.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from breakbounce import bronze
from breakbounce.ingest import IngestError, IngestOptions, ingest
from tests.environment import REAL_SAMPLES, require_real_samples

SAMPLES = REAL_SAMPLES
RAW = SAMPLES / "raw_dbn/databento-python/OPRA.PILLAR"
PY = SAMPLES / "databento-python/OPRA.PILLAR"
TRADES = {"raw": RAW / "test_data.trades.dbn.zst", "float": PY / "trades.parquet", "fixed": PY / "trades.fixed.parquet"}
DEFS = {"raw": RAW / "test_data.definition.dbn.zst", "float": PY / "definition.parquet",
        "fixed": PY / "definition.fixed.parquet"}  # fmt: skip
OUT_DIR = "options/trades/underlying=AAPL/date=2025-02-20"


@pytest.fixture(autouse=True)
def _real_samples():
    """The real Databento samples of ../shared: skipped without them, failed on CI (tests/environment.py)."""
    require_real_samples()


def _run(root: Path, trades: Path, defs: Path, **kw):
    opts = IngestOptions(schema="opra-trades", bronze_root=root, definitions=[defs], **kw)
    (report,) = list(ingest([trades], opts))
    return report


def _read(root: Path) -> pa.Table:
    files = sorted((root / OUT_DIR).glob("*.parquet"))
    assert files
    t = pa.concat_tables([pq.read_table(f) for f in files])
    assert t.schema.equals(bronze.OPTION_TRADES_SCHEMA)
    return t.sort_by([("ts_event_ns", "ascending"), ("seq", "ascending")])


@pytest.mark.parametrize("trades", sorted(TRADES))
@pytest.mark.parametrize("defs", sorted(DEFS))
def test_every_input_pairing_matches_the_fixed_rendering(tmp_path, trades, defs):
    report = _run(tmp_path, TRADES[trades], DEFS[defs], underlying="AAPL", max_dte=1)
    got = _read(tmp_path)
    exp = pq.read_table(TRADES["fixed"])
    order = np.lexsort((exp.column("sequence").to_numpy(), exp.column("ts_event").to_numpy()))
    exp = exp.take(pa.array(order))
    assert report.records == report.stats.rows == got.num_rows == exp.num_rows == 4
    for ours, theirs in (("ts_event_ns", "ts_event"), ("ts_recv_ns", "ts_recv")):
        np.testing.assert_array_equal(got.column(ours).to_numpy(), exp.column(theirs).to_numpy().astype(np.int64))
    np.testing.assert_array_equal(got.column("price").to_numpy(), exp.column("price").to_numpy() / 1e9)
    np.testing.assert_array_equal(got.column("size").to_numpy(), exp.column("size").to_numpy().astype(np.int64))
    np.testing.assert_array_equal(got.column("seq").to_numpy(), exp.column("sequence").to_numpy().astype(np.int64))
    assert got.column("price").to_pylist() == [0.24, 0.2, 0.19, 0.19]
    # OPRA trades carry side N -> aggressor 0 (staging then applies the tick rule)
    assert exp.column("side").to_pylist() == ["N"] * 4
    assert got.column("aggressor").to_pylist() == [0] * 4
    row = got.slice(0, 1).to_pylist()[0]
    assert row["option_symbol"] == "O:AAPL250221C00250000"
    assert (row["underlying"], row["exp_date"], row["strike"], row["right"]) == ("AAPL", "2025-02-21", 250.0, "C")
    assert row["source"] == "databento" and row["opt_bid"] is None and row["opt_ask"] is None
    # the option symbol agrees with the OSI raw symbol of the definition and the trades' symbology
    assert exp.column("symbol").to_pylist() == ["AAPL  250221C00250000"] * 4


def test_default_underlying_refuses_aapl_with_a_clear_message(tmp_path):
    with pytest.raises(IngestError) as err:
        _run(tmp_path, TRADES["raw"], DEFS["raw"])
    msg = str(err.value)
    assert "no option trades on underlying SPY" in msg and "AAPL (4)" in msg and "--underlying" in msg
    assert str(TRADES["raw"]) in msg and "\n" not in msg
    assert not any(tmp_path.rglob("*.parquet"))


def test_0dte_filter_drops_and_counts(tmp_path):
    report = _run(tmp_path, TRADES["raw"], DEFS["raw"], underlying="AAPL")
    assert report.stats.rows == 0
    assert report.stats.dropped == {"not 0DTE": 4}
    assert report.stats.expirations_dropped == {"2025-02-21": 4}
    assert not any(tmp_path.rglob("*.parquet"))


def test_trading_date_partition_is_new_york_date(tmp_path):
    _run(tmp_path, TRADES["raw"], DEFS["raw"], underlying="AAPL", max_dte=1)
    dirs = [p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("options/trades/*/*")]
    assert dirs == [OUT_DIR]


def test_definitions_are_required(tmp_path):
    with pytest.raises(IngestError, match="needs --definitions"):
        list(ingest([TRADES["raw"]], IngestOptions(schema="opra-trades", bronze_root=tmp_path)))


def test_duckdb_reads_options_with_the_contract_schema(tmp_path):
    _run(tmp_path, TRADES["raw"], DEFS["raw"], underlying="AAPL", max_dte=1)
    glob = f"{tmp_path}/options/trades/underlying=AAPL/*/*.parquet"
    rel = duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning=false)")
    assert rel.to_arrow_table().schema.equals(bronze.OPTION_TRADES_SCHEMA)
    # the typed projection of models/staging/stg_bronze__spy_option_trades.sql
    rows = duckdb.sql(
        f"""select exp_date::date, strike::double, "right", price::double, size::bigint, aggressor::tinyint
            from read_parquet('{glob}', hive_partitioning=false) order by ts_event_ns, seq"""
    ).fetchall()
    assert [r[1:] for r in rows] == [(250.0, "C", 0.24, 1, 0), (250.0, "C", 0.2, 2, 0),
                                     (250.0, "C", 0.19, 1, 0), (250.0, "C", 0.19, 4, 0)]  # fmt: skip
    assert str(rows[0][0]) == "2025-02-21"
