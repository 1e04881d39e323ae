"""`breakbounce ingest` on the real CME (GLBX.MDP3) samples in /work/shared/real_samples.

Expected values are decoded independently of the ingester: from the `.fixed.parquet` renderings
(int64 1e-9 prices, uint64 ns) with plain pyarrow, and the three input paths (raw .dbn.zst, float
rendering, fixed rendering) must give identical Bronze.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from breakbounce import bronze
from breakbounce.ingest import IngestOptions, ingest
from tests.environment import REAL_SAMPLES, require_real_samples

SAMPLES = REAL_SAMPLES
RAW = SAMPLES / "raw_dbn"
PY = SAMPLES / "databento-python"
UNDEF = 9223372036854775807


@pytest.fixture(autouse=True)
def _real_samples():
    """The real Databento samples of ../shared: skipped without them, failed on CI (tests/environment.py)."""
    require_real_samples()


# (id, schema, raw .dbn.zst, float rendering, fixed rendering)
CASES = [
    ("py-trades", "trades", RAW / "databento-python/GLBX.MDP3/test_data.trades.dbn.zst",
     PY / "GLBX.MDP3/trades.parquet", PY / "GLBX.MDP3/trades.fixed.parquet"),
    ("py-mbp10", "mbp-10", RAW / "databento-python/GLBX.MDP3/test_data.mbp-10.dbn.zst",
     PY / "GLBX.MDP3/mbp-10.parquet", PY / "GLBX.MDP3/mbp-10.fixed.parquet"),
    ("dbn-trades", "trades", RAW / "dbn/GLBX.MDP3/test_data.trades.v3.dbn.zst",
     SAMPLES / "dbn/GLBX.MDP3/trades.v3.parquet", SAMPLES / "dbn/GLBX.MDP3/trades.v3.fixed.parquet"),
    ("dbn-mbp10", "mbp-10", RAW / "dbn/GLBX.MDP3/test_data.mbp-10.v3.dbn.zst",
     SAMPLES / "dbn/GLBX.MDP3/mbp-10.v3.parquet", SAMPLES / "dbn/GLBX.MDP3/mbp-10.v3.fixed.parquet"),
    ("live-trades", "trades", RAW / "databento-python/GLBX.MDP3/test_data.live.dbn.zst",
     PY / "GLBX.MDP3/live.trades.parquet", PY / "GLBX.MDP3/live.trades.fixed.parquet"),
    ("live-mbp10", "mbp-10", RAW / "databento-python/GLBX.MDP3/test_data.live.dbn.zst",
     PY / "GLBX.MDP3/live.mbp-10.parquet", PY / "GLBX.MDP3/live.mbp-10.fixed.parquet"),
]  # fmt: skip


def _table_dir(schema: str) -> str:
    return "futures/trades/symbol=ES" if schema == "trades" else "futures/mbp10/symbol=ES"


def _read_bronze(root: Path, schema: str) -> pa.Table:
    files = sorted((root / _table_dir(schema)).glob("date=*/hour=*/*.parquet"))
    assert files, f"no Bronze files under {root}"
    spec_schema = bronze.FUTURES_TRADES_SCHEMA if schema == "trades" else bronze.MBP10_SCHEMA
    tables = [pq.read_table(f) for f in files]
    for t in tables:
        assert t.schema.equals(spec_schema), t.schema
    t = pa.concat_tables(tables)
    return t.sort_by([("ts_event_ns", "ascending"), ("seq", "ascending")])


def _ingest(schema: str, src: Path, root: Path, **kw):
    reports = list(ingest([src], IngestOptions(schema=schema, bronze_root=root, **kw)))
    assert len(reports) == 1
    return reports[0]


def _expected(fixed: Path) -> pa.Table:
    t = pq.read_table(fixed)
    order = np.lexsort((t.column("sequence").to_numpy(), t.column("ts_event").to_numpy()))
    return t.take(pa.array(order))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_dbn_path_matches_independent_decode(tmp_path, case):
    _, schema, raw, _float, fixed = case
    report = _ingest(schema, raw, tmp_path)
    got = _read_bronze(tmp_path, schema)
    exp = _expected(fixed)
    assert report.records == exp.num_rows == got.num_rows == report.stats.rows
    assert not report.stats.dropped

    def col(name):
        return exp.column(name).to_numpy()

    np.testing.assert_array_equal(got.column("ts_event_ns").to_numpy(), col("ts_event").astype(np.int64))
    np.testing.assert_array_equal(got.column("ts_recv_ns").to_numpy(), col("ts_recv").astype(np.int64))
    np.testing.assert_array_equal(got.column("seq").to_numpy(), col("sequence").astype(np.int64))
    assert got.column("symbol").to_pylist() == exp.column("symbol").to_pylist()
    assert set(got.column("source").to_pylist()) == {"databento"}
    if schema == "trades":
        # exact: the float is the correctly rounded quotient of the fixed-point integer
        np.testing.assert_array_equal(got.column("price").to_numpy(), col("price") / 1e9)
        np.testing.assert_array_equal(got.column("size").to_numpy(), col("size").astype(np.int64))
        side = exp.column("side").to_pylist()
        assert got.column("aggressor").to_pylist() == [{"B": 1, "A": -1}.get(s, 0) for s in side]
        assert set(got.column("exchange").to_pylist()) == {"CME"}
        assert got.column("conditions").null_count == got.num_rows
    else:
        flags = col("flags").astype(np.int64)
        assert got.column("is_snapshot").to_pylist() == [bool(f & 32) for f in flags]
        for i in range(10):
            for side in ("bid", "ask"):
                px = col(f"{side}_px_{i:02d}")
                sz = col(f"{side}_sz_{i:02d}").astype(np.int64)
                empty = px == UNDEF
                want_px = np.where(empty, bronze.EMPTY_LEVEL_PRICE, px / 1e9)
                np.testing.assert_array_equal(got.column(f"{side}_px_{i + 1}").to_numpy(), want_px)
                np.testing.assert_array_equal(got.column(f"{side}_sz_{i + 1}").to_numpy(), np.where(empty, 0, sz))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_all_three_input_paths_give_identical_bronze(tmp_path, case):
    _, schema, raw, flt, fixed = case
    tables = []
    for name, src in (("raw", raw), ("float", flt), ("fixed", fixed)):
        root = tmp_path / name
        _ingest(schema, src, root)
        tables.append(_read_bronze(root, schema))
    assert tables[0].equals(tables[1])
    assert tables[0].equals(tables[2])


def test_known_values_esh1_trades(tmp_path):
    """Spot values read off the sample by eye (market_data.md §1.3 / MANIFEST)."""
    _ingest("trades", CASES[0][2], tmp_path)
    t = _read_bronze(tmp_path, "trades")
    assert t.column("symbol").to_pylist() == ["ESH1"] * 4
    assert t.column("price").to_pylist()[:3] == [3702.75, 3702.75, 3702.5]
    assert t.column("aggressor").to_pylist()[:3] == [1, 1, -1]
    assert t.column("ts_event_ns")[0].as_py() == 1609113600246507011
    # partitioned by the UTC date/hour of ts_event
    files = list((tmp_path / "futures/trades/symbol=ES").glob("*/*/*.parquet"))
    assert {f.parent.parent.name for f in files} == {"date=2020-12-28"}


def test_live_mbp10_empty_levels_are_the_contract_sentinel(tmp_path):
    """The ESZ4 live book has 4 bid and 3 ask levels: the rest must be (EMPTY_LEVEL_PRICE, 0)."""
    _ingest("mbp-10", CASES[5][2], tmp_path)
    t = _read_bronze(tmp_path, "mbp-10")
    row = t.slice(0, 1).to_pylist()[0]
    assert row["symbol"] == "ESZ4"
    assert (row["bid_px_1"], row["bid_sz_1"], row["ask_px_1"]) == (4727.5, 2, 4744.75)
    assert row["ask_px_4"] == bronze.EMPTY_LEVEL_PRICE and row["ask_sz_4"] == 0
    assert (row["bid_px_4"], row["bid_sz_4"]) == (3790.0, 1)
    assert row["bid_px_5"] == bronze.EMPTY_LEVEL_PRICE and row["bid_sz_5"] == 0
    assert row["bid_px_10"] == 9223372036.854776


def test_duckdb_reads_the_exact_contract_schema(tmp_path):
    _ingest("trades", CASES[0][2], tmp_path)
    _ingest("mbp-10", CASES[1][2], tmp_path)
    con = duckdb.connect()
    for schema, spec in (("trades", bronze.FUTURES_TRADES_SCHEMA), ("mbp-10", bronze.MBP10_SCHEMA)):
        glob = f"{tmp_path}/{_table_dir(schema)}/*/*/*.parquet"
        rel = con.sql(f"select * from read_parquet('{glob}', hive_partitioning=false)")
        assert rel.columns == spec.names
        arrow = rel.to_arrow_table()
        assert arrow.schema.equals(spec), arrow.schema
        assert arrow.num_rows == 4
        # the in-file contract survives (hive partitioning is off)
        assert con.sql(f"select distinct symbol from read_parquet('{glob}', hive_partitioning=false)").fetchall() == [
            ("ESH1",)
        ]


def test_staging_style_query_runs_on_ingested_bronze(tmp_path):
    """The casts and grouping of models/staging/stg_bronze__es_trades.sql run on the files."""
    _ingest("trades", CASES[0][2], tmp_path)
    glob = f"{tmp_path}/futures/trades/symbol=ES/*/*/*.parquet"
    rows = duckdb.sql(
        f"""
        select ts_event_ns::bigint, seq::bigint, symbol as contract, price::double, size::bigint,
               aggressor::tinyint, count(*) as n_copies
        from read_parquet('{glob}', hive_partitioning = false)
        group by ts_event_ns, ts_recv_ns, source, symbol, price, size, aggressor, exchange, conditions, seq
        order by 1, 2
        """
    ).fetchall()
    assert [r[2:6] for r in rows] == [
        ("ESH1", 3702.75, 1, 1),
        ("ESH1", 3702.75, 1, 1),
        ("ESH1", 3702.5, 1, -1),
        ("ESH1", 3702.75, 1, 1),
    ]
    assert all(r[6] == 1 for r in rows)


def test_plain_dbn_reads_like_zst(tmp_path):
    """An uncompressed .dbn (the .zst decompressed) gives the same Bronze as the .dbn.zst."""
    src = CASES[1][2]
    plain = tmp_path / "mbp.dbn"
    with pa.CompressedInputStream(pa.OSFile(str(src)), "zstd") as fh:
        plain.write_bytes(fh.read())
    _ingest("mbp-10", src, tmp_path / "a")
    _ingest("mbp-10", plain, tmp_path / "b")
    assert _read_bronze(tmp_path / "a", "mbp-10").equals(_read_bronze(tmp_path / "b", "mbp-10"))


def test_definitions_resolve_the_same_contract(tmp_path):
    """Giving the real ESH1 definition agrees with the file's own symbology (no conflict)."""
    defs = RAW / "databento-python/GLBX.MDP3/test_data.definition.dbn.zst"
    report = _ingest("trades", CASES[0][2], tmp_path, definitions=[defs])
    assert report.stats.rows == 4
    assert set(_read_bronze(tmp_path, "trades").column("symbol").to_pylist()) == {"ESH1"}


def test_float_and_fixed_renderings_agree():
    """Guard for the expectations: the fixed rendering is the float rendering * 1e9, exactly."""
    fixed = pq.read_table(PY / "GLBX.MDP3/trades.fixed.parquet").column("price").to_numpy()
    flt = pq.read_table(PY / "GLBX.MDP3/trades.parquet").column("price").to_numpy()
    np.testing.assert_array_equal(np.rint(flt * 1e9).astype(np.int64), fixed)


@pytest.mark.parametrize(
    "schema,src,found",
    [
        ("trades", RAW / "databento-python/XNAS.ITCH/test_data.trades.dbn.zst", "NVDA"),
        ("mbp-10", RAW / "databento-python/XNAS.ITCH/test_data.mbp-10.dbn.zst", "NVDA"),
        ("trades", RAW / "databento-python/EQUS.MINI/test_data.trades.dbn.zst", "QQQ"),
        ("trades", PY.parent / "databento-python/XNAS.ITCH/trades.parquet", "NVDA"),
    ],
)
def test_equity_samples_have_no_bronze_table_and_are_refused(tmp_path, schema, src, found):
    """NVDA/QQQ samples map to no Bronze table: refused with the symbols found, nothing written."""
    from breakbounce.ingest import IngestError

    with pytest.raises(IngestError, match=rf"no outright ES futures contracts \(found: {found} \(\d+\)\)"):
        _ingest(schema, src, tmp_path)
    assert not any(tmp_path.rglob("*.parquet"))
