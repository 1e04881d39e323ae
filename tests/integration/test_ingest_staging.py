"""Real Databento samples ingested into Bronze are read by the staging models without error, every
value traceable to its source record: ESH1 trades and MBP-10 (CME, 2020-12-28) land in a Bronze lake
whose RTH comes from the generator (the samples hold a handful of overnight records only)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from tests.environment import REAL_SAMPLES, require_real_samples

from .conftest import run_breakbounce

#: every test here reads a module build of > 10 s (pytest -m "not slow" leaves them out)
pytestmark = pytest.mark.slow

SAMPLES = REAL_SAMPLES
GLBX = SAMPLES / "raw_dbn" / "databento-python" / "GLBX.MDP3"
FIXED = SAMPLES / "databento-python" / "GLBX.MDP3"
DATE = "2020-12-28"


@pytest.fixture(autouse=True)
def _real_samples():
    """The real Databento samples of ../shared: skipped without them, failed on CI (tests/environment.py)."""
    require_real_samples()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("ingested")
    bronze_root = base / "bronze"
    proc = run_breakbounce(
        "generate",
        "--start-date",
        DATE,
        "--end-date",
        DATE,
        "--out",
        str(bronze_root),
        "--seed",
        "3",
        "--scale",
        "test",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for schema in ("trades", "mbp-10"):
        proc = run_breakbounce(
            "ingest", "--schema", schema, "--bronze", str(bronze_root), str(GLBX / f"test_data.{schema}.dbn.zst")
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    db = base / "w.duckdb"
    proc = run_breakbounce(
        "run",
        "--date",
        DATE,
        "--bronze",
        str(bronze_root),
        "--gold",
        str(base / "gold"),
        "--db",
        str(db),
        "--target-path",
        str(base / "dbt"),
        "--select",
        "+stg_bronze__es_trades +stg_bronze__es_mbp10 +int_quality__bronze_drops",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return db, bronze_root


def _query(db, sql):
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_real_trades_are_staged_with_their_source_values(built):
    built, _ = built
    src = pq.read_table(FIXED / "trades.fixed.parquet").to_pylist()
    staged = {
        (r[0], r[1]): r
        for r in _query(
            built, "select ts_event_ns, seq, price_e9, size, aggressor, contract from staging.stg_bronze__es_trades"
        )
    }
    for rec in src:
        row = staged[(int(rec["ts_event"]), int(rec["sequence"]))]
        side = {"B": 1, "A": -1}.get(rec["side"], 0)
        assert row[2:] == (int(rec["price"]), int(rec["size"]), side, "ESH1")


def test_real_book_records_read_by_staging(built):
    from breakbounce.warehouse import connect

    built, bronze_root = built
    # the samples are overnight (00:00 UTC = 19:00 ET), outside the staged MBP-10 window: the view
    # reads them without error and the quality model counts them as outside the window
    drops = dict(((r[0], r[2]), r[3]) for r in _query(built, "select * from intermediate.int_quality__bronze_drops"))
    n_real = pq.read_metadata(FIXED / "mbp-10.fixed.parquet").num_rows
    assert drops[("es_mbp10", "outside_window")] >= n_real
    con = connect(str(built), date=DATE, bronze=str(bronze_root))  # the view reads the run's files
    try:
        assert con.execute("select count(*) from staging.stg_bronze__es_mbp10").fetchall()[0][0] > 0
    finally:
        con.close()
