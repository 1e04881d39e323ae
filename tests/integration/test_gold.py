"""The Gold file (SPEC §9): enforced schema, order, an empty file with the schema on a day without
events, byte-identical reruns, other dates untouched, and a run killed during publishing leaves the
previous file intact (never a partial one)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from . import bronze_builders as bb
from .conftest import PROJECT_DIR
from .test_point_in_time import CUTS

ARROW_TYPES = {
    "varchar": pa.string(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
    "tinyint": pa.int8(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
}


def contract_types() -> dict[str, pa.DataType]:
    """The Gold columns and their Arrow types, in order, from the enforced dbt contract (marts YAML)."""
    spec = yaml.safe_load((PROJECT_DIR / "models" / "marts" / "_marts__models.yml").read_text())
    model = next(m for m in spec["models"] if m["name"] == "fct_touch_signals")
    return {c["name"]: ARROW_TYPES[c["data_type"]] for c in model["columns"]}


STALE_PID = 2**22 + 12345  # above the default pid_max: never a live process


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """The shared full build of 2025-12-16, then in the same Gold root: the overnight-only date, a run
    killed while publishing (on other Bronze, so a complete replacement would be visible), a rerun."""
    rnd = bb.random_runs(tmp_path_factory)
    full: bb.Build = rnd["full"]
    assert full.returncode == 0, full.stderr[-3000:]
    base: Path = rnd["base"]
    gold_root = full.gold_root
    d_file = full.gold_file
    obs = {"first_bytes": rnd["gold_bytes"]}

    empty = bb.build(bb.OVERNIGHT_ONLY_DATE, rnd["bronze"], gold_root, base / "empty")
    obs["empty"] = empty
    obs["empty_stat"] = os.stat(empty.gold_file) if empty.returncode == 0 else None
    obs["empty_bytes"] = empty.gold_file.read_bytes() if empty.returncode == 0 else None

    stale = d_file.with_name(d_file.name + f".tmp-{STALE_PID}")
    stale.write_bytes(b"left over by a dead run")
    cut = CUTS[0]
    other = base / "other-bronze"
    bb.truncate_bronze(rnd["bronze"], other, cut)
    obs["killed_status"] = bb.build_and_kill(full.date, other, gold_root, base / "killed", marker="publishing Gold")
    obs["after_kill_bytes"] = d_file.read_bytes()
    obs["other_gold"] = bb.cut_runs(tmp_path_factory, CUTS)[cut].gold_file.read_bytes()

    rerun = bb.build(full.date, rnd["bronze"], gold_root, base / "rerun")
    obs["rerun"] = rerun
    obs["rerun_bytes"] = d_file.read_bytes()
    obs["leftovers"] = sorted(p.name for p in d_file.parent.iterdir() if p.name != d_file.name)
    obs["empty_stat_after"] = os.stat(empty.gold_file) if empty.returncode == 0 else None
    obs["empty_bytes_after"] = empty.gold_file.read_bytes() if empty.returncode == 0 else None
    # a subset run for another date on the warehouse that holds 2025-12-16's tables must not publish
    obs["subset"] = bb.build(
        "2025-12-15", rnd["bronze"], gold_root, base / "subset", select="gold_touch_signals", db=full.db
    )
    obs["full"] = full
    return obs


def test_schema_is_the_contract(story):
    schema = pq.read_schema(story["full"].gold_file)
    assert {f.name: f.type for f in schema} == contract_types()
    assert schema.names == list(contract_types())  # the contract's order
    assert schema.names[:6] == ["event_id", "ts_ns", "available_ts_ns", "session_date", "date", "symbol"]
    assert all(f.nullable for f in schema)  # OPTIONAL everywhere, whatever the day's data holds


def test_file_equals_the_mart_in_order(story):
    full = story["full"]
    table = pq.read_table(full.gold_file)
    assert table.num_rows > 50
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    mart = full.query(f"select {cols} from marts.fct_touch_signals order by ts_ns, level_kind")
    assert [tuple(r.values()) for r in table.to_pylist()] == mart
    keys = list(zip(table.column("ts_ns").to_pylist(), table.column("level_kind").to_pylist()))
    assert keys == sorted(keys)
    meta = pq.ParquetFile(full.gold_file).metadata
    assert meta.num_row_groups == 0 or meta.row_group(0).column(0).compression == "ZSTD"


def test_day_without_events_gets_an_empty_file_with_the_schema(story):
    empty = story["empty"]
    assert empty.returncode == 0, empty.stderr[-3000:]
    table = pq.read_table(empty.gold_file)
    assert table.num_rows == 0
    assert table.schema.equals(pq.read_schema(story["full"].gold_file))


def test_killed_run_leaves_the_previous_file_or_a_complete_new_one(story):
    assert story["killed_status"] == -9
    after = story["after_kill_bytes"]
    assert after in (story["first_bytes"], story["other_gold"])
    assert story["first_bytes"] != story["other_gold"]  # the check can tell the two apart


def test_rerun_is_byte_identical_and_cleans_stale_temp_files(story):
    rerun = story["rerun"]
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert story["rerun_bytes"] == story["first_bytes"]
    assert story["leftovers"] == []  # the dead runs' .tmp-<pid> files were removed by the publish


def test_rerunning_a_date_leaves_other_dates_untouched(story):
    before, after = story["empty_stat"], story["empty_stat_after"]
    assert (before.st_mtime_ns, before.st_ino, before.st_size) == (after.st_mtime_ns, after.st_ino, after.st_size)
    assert story["empty_bytes"] == story["empty_bytes_after"]


def test_subset_run_for_another_date_on_stale_tables_publishes_nothing(story):
    subset = story["subset"]
    assert subset.returncode != 0
    assert "2025-12-15" in subset.stderr
    assert not subset.gold_file.exists()
    assert story["full"].gold_file.read_bytes() == story["first_bytes"]


def test_gold_metadata_of_a_real_build(generated_day):
    """The key-value metadata of the shared build's Gold file: version, label configuration from the
    project's dbt vars, no gaps."""
    import json

    import breakbounce

    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    f = generated_day.run.gold / "signals" / f"date={generated_day.date}" / "signals.parquet"
    meta = pq.ParquetFile(f).metadata.metadata
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert meta[b"breakbounce.version"].decode() == breakbounce.__version__
    assert json.loads(meta[b"breakbounce.labels"]) == {
        "threshold_unit": project.get("label_threshold_unit", "dollars"),
        "thresholds": project["label_thresholds"],
        "confirmation_windows": project["confirmation_windows"],
        "lookforward_seconds": project["lookforward_seconds"],
        "primary_window": project["primary_label_window"],
    }
    assert json.loads(meta[b"breakbounce.gaps"]) == []


def test_the_next_run_of_any_date_removes_what_killed_runs_left(generated_day, tmp_path):
    """A publish killed after its temp file was complete, and a first compile killed mid-way, leave
    files behind; the next run of another date removes them. A new warehouse name does not recompile."""
    import subprocess
    import sys
    import tempfile

    from breakbounce import graph

    from .conftest import run_breakbounce

    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    dead = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    )
    gold_root = tmp_path / "gold"
    killed_publish = gold_root / "signals" / "date=2025-12-12" / f"signals.parquet.tmp-{dead}"
    killed_publish.parent.mkdir(parents=True)
    killed_publish.write_bytes(
        (generated_day.run.gold / "signals" / f"date={generated_day.date}" / "signals.parquet").read_bytes()
    )
    killed_compile = Path(tempfile.gettempdir()) / f"{graph.COMPILE_DIR_PREFIX}{dead}-x1y2z3"
    (killed_compile / "dbt" / "compiled").mkdir(parents=True)
    proc = run_breakbounce(
        "run",
        "--date",
        generated_day.date,
        "--bronze",
        str(generated_day.bronze),
        "--gold",
        str(gold_root),
        "--db",
        str(tmp_path / "a-new-name.duckdb"),
        "--target-path",
        str(tmp_path / "dbt"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not killed_publish.exists() and not killed_compile.exists()
    assert sorted(p.name for p in killed_publish.parent.iterdir()) == []
    assert "compiling the dbt project" not in proc.stderr  # same project and vars: the cached graph
