"""Gold publishing (breakbounce/gold.py), the one implementation both engines run: the statements,
the key-value metadata, refusing another session's rows, the temp file of a killed publish removed by
the next run of any date."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import duckdb
import pyarrow.parquet as pq
import pytest

import breakbounce
from breakbounce import gold, warehouse

LABELS = {
    "threshold_unit": "dollars",
    "thresholds": [1.0, 2.0],
    "confirmation_windows": [120, 240, 480],
    "lookforward_seconds": 480,
    "primary_window": 240,
}


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect()
    warehouse.configure_build_connection(c)
    c.execute(
        "create table signals as select * from (values "
        "(2, 0, '2025-12-16'::date, 1.5), (1, 3, '2025-12-16'::date, null), (1, 1, '2025-12-16'::date, 2.5)"
        ") t(ts_ns, level_kind, session_date, x)"
    )
    c.execute("set variable bb_date = '2025-12-16'::date")
    c.execute(f"set variable bb_gold_file = '{tmp_path / 'gold' / 'signals' / 'date=2025-12-16' / 'signals.parquet'}'")
    yield c
    c.close()


def _final(tmp_path):
    return tmp_path / "gold" / "signals" / "date=2025-12-16" / "signals.parquet"


def test_publish_writes_ordered_nullable_rows_and_the_metadata(con, tmp_path):
    con.execute("set variable bb_gaps = [{'table': 'futures_trades', 'hour': '2025-12-16T15'}]")
    assert gold.publish_relation(con, "signals", json.dumps(LABELS)) == str(_final(tmp_path))
    f = pq.ParquetFile(_final(tmp_path))
    day = dt.date(2025, 12, 16)
    assert f.read().to_pylist() == [  # ordered by (ts_ns, level_kind)
        {"ts_ns": 1, "level_kind": 1, "session_date": day, "x": 2.5},
        {"ts_ns": 1, "level_kind": 3, "session_date": day, "x": None},
        {"ts_ns": 2, "level_kind": 0, "session_date": day, "x": 1.5},
    ]
    assert all(field.nullable for field in f.schema_arrow)  # although ts_ns has no NULL
    meta = {k.decode(): v.decode() for k, v in f.metadata.metadata.items() if k.startswith(b"breakbounce.")}
    assert meta == {
        "breakbounce.version": breakbounce.__version__,
        "breakbounce.labels": '{"threshold_unit":"dollars","thresholds":[1.0,2.0],"confirmation_windows":[120,240,480],'
        '"lookforward_seconds":480,"primary_window":240}',
        "breakbounce.gaps": '[{"table":"futures_trades","hour":"2025-12-16T15"}]',
    }
    assert f.metadata.row_group(0).column(0).compression == "ZSTD"
    assert sorted(os.listdir(_final(tmp_path).parent)) == ["signals.parquet"]


def test_gaps_default_to_an_empty_list_and_labels_keep_their_order(con, tmp_path):
    shuffled = dict(reversed(list(LABELS.items())))
    gold.publish_relation(con, "signals", json.dumps(shuffled))
    meta = pq.ParquetFile(_final(tmp_path)).metadata.metadata
    assert meta[b"breakbounce.gaps"] == b"[]"
    assert list(json.loads(meta[b"breakbounce.labels"])) == list(gold.LABEL_KEYS)


def test_gaps_given_as_json_text_are_decoded_once():
    assert gold.gaps_json(json.dumps('[{"hour": 15}]')) == '[{"hour":15}]'
    assert gold.gaps_json(None) == "[]"
    with pytest.raises(ValueError, match="list"):
        gold.gaps_json('{"hour": 15}')


def test_labels_must_have_exactly_the_agreed_keys():
    with pytest.raises(ValueError, match="keys"):
        gold.labels_json({k: v for k, v in LABELS.items() if k != "threshold_unit"})


def test_rows_of_another_session_are_refused_and_nothing_is_written(con, tmp_path):
    con.execute("insert into signals values (3, 0, '2025-12-15'::date, 0.0)")
    with pytest.raises(
        duckdb.Error, match=r"refusing to publish Gold for 2025-12-16: signals holds 1 row\(s\) of session 2025-12-15"
    ):
        gold.publish_relation(con, "signals", json.dumps(LABELS))
    assert not _final(tmp_path).exists()


def test_the_udf_gives_the_same_statements_as_python(con, tmp_path):
    via_sql = json.loads(con.execute(gold.PLAN_SQL, ['"w"."marts"."g"', json.dumps(LABELS)]).fetchall()[0][0])
    assert via_sql == gold.publish_statements(
        '"w"."marts"."g"', "2025-12-16", str(_final(tmp_path)), json.dumps(LABELS), None
    )


def test_temp_files_of_dead_runs_are_removed_for_every_date(tmp_path):
    dead = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    )
    root = tmp_path / "gold"
    stale = [root / "signals" / f"date={d}" / f"signals.parquet.tmp-{dead}" for d in ("2025-12-15", "2025-12-16")]
    live = root / "signals" / "date=2025-12-16" / f"signals.parquet.tmp-{os.getppid()}"
    for p in stale + [live]:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"complete but never renamed")
    assert sorted(gold.remove_stale_temp_files(str(root))) == sorted(map(str, stale))
    assert live.exists() and not any(p.exists() for p in stale)


def test_the_project_version_is_one_number():
    import tomllib

    import yaml

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "pyproject.toml"), "rb") as fh:
        assert tomllib.load(fh)["project"]["version"] == breakbounce.__version__
    with open(os.path.join(root, "dbt_project.yml")) as fh:
        assert str(yaml.safe_load(fh)["version"]) == breakbounce.__version__
