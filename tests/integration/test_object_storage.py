"""Bronze and Gold on an object store (SPEC §10), against an S3-compatible server on 127.0.0.1 (moto):
generate to it, plan from listings and footers, backfill from it on the local Dask cluster, publish
Gold atomically, read Gold back, all with the bytes of a local build."""

from __future__ import annotations

import collections
import json
import os

import duckdb
import pyarrow.parquet as pq
import pytest

from breakbounce import dataset, gold, storage, validation, warehouse
from breakbounce.plan import plan_run

from .conftest import GENERATED_DATE, GENERATED_START, run_breakbounce


@pytest.fixture(scope="module")
def lake(s3_server):
    """The generated sessions, written by `breakbounce generate --out s3://…` (as the local fixture's)."""
    url = s3_server.bucket("bb-lake")
    proc = run_breakbounce(
        "generate",
        "--start-date",
        GENERATED_START,
        "--end-date",
        GENERATED_DATE,
        "--out",
        f"{url}/bronze",
        "--seed",
        "7",
        "--scale",
        "test",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return url


class Requests:
    """The S3 requests s3fs sends from this process (method, Range)."""

    def __init__(self, url: str, monkeypatch):
        self.calls: list[tuple[str, str | None]] = []
        fs = storage.filesystem(url)
        original = fs._call_s3

        async def counting(method, *args, **kwargs):
            self.calls.append((method, kwargs.get("Range")))
            return await original(method, *args, **kwargs)

        monkeypatch.setattr(fs, "_call_s3", counting)

    def methods(self) -> collections.Counter:
        return collections.Counter(m for m, _ in self.calls)


def test_the_generator_writes_the_same_bronze_objects_as_files(lake, s3_server, generated_day):
    fs = s3_server.fs()
    prefix = "bb-lake/bronze/"
    remote = {k[len(prefix) :]: k for k in fs.find(prefix)}
    local = {p.relative_to(generated_day.bronze).as_posix(): p for p in generated_day.bronze.rglob("*") if p.is_file()}
    assert sorted(remote) == sorted(local) and len(remote) > 100
    for rel in sorted(remote)[::17]:  # a sample of every table, the truth files included
        assert fs.cat_file(remote[rel]) == local[rel].read_bytes(), rel


def test_planning_lists_and_validation_reads_footers_and_columns_not_objects(
    lake, generated_day, monkeypatch, tmp_path
):
    monkeypatch.setattr(validation, "_memo_dir", lambda: tmp_path)  # nothing validated yet
    bronze_url = f"{lake}/bronze"
    requests = Requests(bronze_url, monkeypatch)
    plan = plan_run(GENERATED_DATE, bronze_url)
    # the table's date folders, then one listing per date folder needed: no object is opened
    assert requests.methods() == {"list_objects_v2": 9}
    # the files of the same plan made on the local copy
    local = plan_run(GENERATED_DATE, generated_day.bronze)
    for ours, theirs in (
        (plan.es_trade_files, local.es_trade_files),
        (plan.mbp10_files, local.mbp10_files),
        (plan.option_files, local.option_files),
    ):
        assert [f[len(bronze_url) :] for f in ours] == [f[len(str(generated_day.bronze)) :] for f in theirs]
    assert (plan.sma_sessions, plan.volume_sessions) == (local.sma_sessions, local.volume_sessions)
    assert len(plan.es_trade_files) == 4 * 23 and len(plan.mbp10_files) == 8 and len(plan.option_files) == 1
    assert set(plan.file_entries) == set(plan.es_trade_files + plan.mbp10_files + plan.option_files)
    requests.calls.clear()
    validation.validate_plan(plan)
    # footers and the columns statistics cannot decide (prices for NaN, option strings), by range
    assert set(requests.methods()) == {"get_object"} and all(r for _, r in requests.calls)
    read = sum(int(r.split("-")[1]) - int(r.split("=")[1].split("-")[0]) + 1 for _, r in requests.calls)
    assert read < 0.6 * sum(e.size for e in plan.file_entries.values())
    requests.calls.clear()
    validation.validate_plan(plan_run(GENERATED_DATE, bronze_url))  # the same ETags: remembered
    assert requests.methods() == {"list_objects_v2": 9}
    # DuckDB reads them through the registered filesystem, without a HEAD request per file
    con = duckdb.connect()
    try:
        storage.register(con, plan.bronze_root, known=plan.file_entries)
        requests.calls.clear()
        n = con.execute(
            "select count(*) from read_parquet(?, hive_partitioning = false)", [plan.es_trade_files]
        ).fetchall()
        assert n[0][0] == sum(validation.read_metadata(f, plan.file_entries[f]).num_rows for f in plan.es_trade_files)
        assert "head_object" not in requests.methods()
    finally:
        con.close()


def test_backfill_from_s3_on_the_local_cluster_publishes_the_local_gold(lake, s3_server, serial_gold, tmp_path):
    proc = run_breakbounce(
        "backfill",
        "--dates",
        f"2025-12-15,{GENERATED_DATE}",
        "--workers",
        "2",
        "--bronze",
        f"{lake}/bronze",
        "--gold",
        f"{lake}/gold",
        "--work-dir",
        str(tmp_path / "work"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout
    assert proc.stdout.splitlines()[-1] == "2 built, 0 failed, 0 skipped"
    assert f"gold: {lake}/gold/signals/date={GENERATED_DATE}/signals.parquet" in proc.stdout
    fs = s3_server.fs()
    assert sorted(fs.find("bb-lake/gold")) == [
        f"bb-lake/gold/signals/date={d}/signals.parquet" for d in ("2025-12-15", GENERATED_DATE)
    ]
    for d in ("2025-12-15", GENERATED_DATE):
        assert (
            fs.cat_file(f"bb-lake/gold/signals/date={d}/signals.parquet")
            == (serial_gold / "signals" / f"date={d}" / "signals.parquet").read_bytes()
        ), d
    # Gold read back for training, from the bucket as from a folder
    remote = dataset.load_gold("2025-12-01", "2025-12-31", f"{lake}/gold")
    here = dataset.load_gold("2025-12-15", GENERATED_DATE, str(serial_gold))
    assert remote.dates == ["2025-12-15", GENERATED_DATE] and remote.table.equals(here.table)
    assert [f.path for f in remote.files] == [
        f"{lake}/gold/signals/date={d}/signals.parquet" for d in ("2025-12-15", GENERATED_DATE)
    ]
    # and the range report, which reads Gold through it
    out = tmp_path / "health.html"
    proc = run_breakbounce(
        "report",
        "--start-date",
        "2025-12-15",
        "--end-date",
        GENERATED_DATE,
        "--gold",
        f"{lake}/gold",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    health = json.loads(out.with_suffix(".json").read_text())
    assert health["events_per_date"] == {f.date: f.rows for f in here.files} and health["events"] == len(here)


def test_gold_on_s3_appears_whole_or_not_at_all(lake, s3_server, monkeypatch):
    """The object changes only at the last publishing statement (one upload); a refused or failed
    publication leaves the previous object."""
    final = gold.gold_file(f"{lake}/atomic", "2025-12-16")
    key = final.removeprefix("s3://")
    fs = s3_server.fs()
    fs.pipe_file(key, b"the previous Gold")
    con = duckdb.connect()
    try:
        warehouse.configure_build_connection(con)
        con.execute(
            "create table signals as select * from (values (2, 0, '2025-12-16'::date, 1.5), "
            "(1, 3, '2025-12-16'::date, null)) t(ts_ns, level_kind, session_date, x)"
        )
        con.execute("set variable bb_date = '2025-12-16'::date")
        con.execute(f"set variable bb_gold_file = '{final}'")
        labels = json.dumps(
            {
                "threshold_unit": "dollars",
                "thresholds": [1.0, 2.0],
                "confirmation_windows": [120],
                "lookforward_seconds": 480,
                "primary_window": 120,
            }
        )
        statements = json.loads(con.execute(gold.PLAN_SQL, ["signals", labels]).fetchall()[0][0])
        tmp = gold.temp_path(final)
        assert not storage.is_url(tmp)  # written locally first
        for stmt in statements[:-1]:
            con.execute(stmt)
            assert fs.cat_file(key) == b"the previous Gold"
        con.execute(statements[-1])
        published = fs.cat_file(key)
        assert published.startswith(b"PAR1") and published.endswith(b"PAR1")
        with storage.parquet_source(final) as src:
            assert pq.read_table(src).column("ts_ns").to_pylist() == [1, 2]
        assert not os.path.exists(tmp)
        # an upload that fails leaves the object as it was, and no local temp file
        con.execute("insert into signals values (3, 1, '2025-12-16'::date, 0.5)")

        def broken(local, location):
            raise OSError("connection reset by peer")

        monkeypatch.setattr(storage, "upload_file", broken)
        with pytest.raises(duckdb.Error, match="connection reset by peer"):
            gold.publish_relation(con, "signals", labels)
        assert fs.cat_file(key) == published and not os.path.exists(tmp)
        # rows of another session: refused before anything is written
        monkeypatch.undo()
        con.execute("insert into signals values (4, 1, '2025-12-15'::date, 0.5)")
        with pytest.raises(duckdb.Error, match="refusing to publish Gold for 2025-12-16"):
            gold.publish_relation(con, "signals", labels)
        assert fs.cat_file(key) == published
    finally:
        con.close()
