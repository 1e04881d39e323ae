"""breakbounce.dataset.load_gold on hand-made Gold files: types, metadata, label intervals, errors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from breakbounce.dataset import FEATURE_FAMILIES, DatasetError, load_catalog, load_gold, purged_walk_forward
from tests.unit.gold_factory import gold_table, write_gold

S = 1_000_000_000


def test_types_follow_the_catalogue_and_new_columns_are_kept(tmp_path):
    t = gold_table(
        "2025-12-15", 4, {"outcome": ["BREAK", "CHOP", "BOUNCE", "BREAK"], "label_threshold_1": [0.1, 0.2, 0.3, 0.4]}
    )
    # a file that stored level_kind as int32 and atr as float32 is read as the catalogue's int64 / float64
    t = t.set_column(t.schema.get_field_index("level_kind"), "level_kind", t.column("level_kind").cast(pa.int32()))
    t = t.set_column(t.schema.get_field_index("atr"), "atr", t.column("atr").cast(pa.float32()))
    write_gold(tmp_path, "2025-12-15", t)
    write_gold(tmp_path, "2025-12-12", gold_table("2025-12-12", 3, {"label_threshold_1": [1.0, 1.0, 1.0]}))
    write_gold(tmp_path, "2025-12-17", gold_table("2025-12-17", 2))  # outside the range
    g = load_gold("2025-12-12", "2025-12-16", tmp_path)
    assert g.dates == ["2025-12-12", "2025-12-15"] and len(g) == 7
    cat = load_catalog()
    for name in cat.columns:
        assert g.table.schema.field(name).type == cat.arrow_type(name), name
    assert g.table.schema.field("level_kind").type == pa.int64()
    assert g.table.column("label_threshold_1").to_pylist() == [1.0, 1.0, 1.0, 0.1, 0.2, 0.3, 0.4]
    # rows in time order: the 12th first
    assert (np.diff(g.start_ns) >= 0).all()
    only = load_gold("2025-12-12", "2025-12-16", tmp_path, outcomes=("BREAK", "BOUNCE"), columns=["tape_imbalance"])
    assert only.table.column_names == ["ts_ns", "session_date", "tape_imbalance"] and len(only) == 3
    assert len(only.to_pandas()) == 3


def test_label_interval_from_metadata_else_anchor_columns(tmp_path):
    labels = {
        "threshold_unit": "atr",
        "thresholds": [0.5, 1.0],
        "confirmation_windows": [60, 300],
        "lookforward_seconds": 600,
        "primary_window": 300,
    }
    write_gold(tmp_path, "2025-12-15", gold_table("2025-12-15", 2), labels=labels, version="0.2.0")
    write_gold(tmp_path, "2025-12-16", gold_table("2025-12-16", 2))
    g = load_gold("2025-12-15", "2025-12-16", tmp_path)
    # with metadata: T0 + max window 300 s + look-forward 600 s
    assert (g.label_end_ns[:2] - g.start_ns[:2]).tolist() == [900 * S, 900 * S]
    # without: the latest confirm_ts_ns_* (T0 + 480 s) + the project's lookforward_seconds (480)
    assert (g.label_end_ns[2:] - g.start_ns[2:]).tolist() == [960 * S, 960 * S]
    configs = g.label_configs()
    assert configs["2025-12-15"]["threshold_unit"] == "atr" and configs["2025-12-15"]["source"] == "file metadata"
    assert configs["2025-12-16"]["source"].startswith("project defaults")
    assert g.files[0].version == "0.2.0" and g.files[1].version is None


def test_errors_name_the_file_and_column(tmp_path):
    with pytest.raises(DatasetError, match="no Gold files for 2025-12-01..2025-12-31"):
        load_gold("2025-12-01", "2025-12-31", tmp_path)
    t = gold_table("2025-12-15", 2)
    write_gold(tmp_path, "2025-12-15", t.drop_columns(["tape_velocity"]))
    with pytest.raises(
        DatasetError, match=r"date=2025-12-15/signals.parquet: Gold of 2025-12-15 lacks column\(s\) tape_velocity"
    ):
        load_gold("2025-12-15", "2025-12-15", tmp_path)
    bad = t.set_column(t.schema.get_field_index("atr"), "atr", pa.array(["x", "y"]))
    write_gold(tmp_path, "2025-12-15", bad)
    with pytest.raises(DatasetError, match="column atr is string, features.json says double"):
        load_gold("2025-12-15", "2025-12-15", tmp_path)
    (tmp_path / "signals" / "date=2025-12-15" / "signals.parquet").write_bytes(b"not parquet")
    with pytest.raises(DatasetError, match="not a readable parquet file"):
        load_gold("2025-12-15", "2025-12-15", tmp_path)


def test_feature_families_cover_every_feature_group_once():
    cat = load_catalog()
    groups = [g for gs in FEATURE_FAMILIES.values() for g in gs]
    assert len(groups) == len(set(groups))
    assert set(groups) | {"identity", "outcome"} == set(cat.groups) and cat.unassigned_groups == []
    feats = cat.features()
    assert not set(feats) & set(cat.labels()) and "event_id" not in feats
    assert sorted(feats) == sorted(f for fam in FEATURE_FAMILIES for f in cat.features([fam]))
    assert cat.features(["tape"]) == cat.groups["tape_physics"]


def test_splits_on_loaded_gold_keep_sessions_whole(tmp_path):
    dates = ["2025-12-08", "2025-12-09", "2025-12-10", "2025-12-11"]
    for d in dates:
        write_gold(tmp_path, d, gold_table(d, 5))
    g = load_gold(dates[0], dates[-1], tmp_path)
    days = np.asarray(g.table.column("session_date").cast(pa.string()).to_pylist())
    folds = list(purged_walk_forward(g.start_ns, g.label_end_ns, 3, groups=days))
    assert [sorted(set(days[te])) for _, te in folds] == [[d] for d in dates[1:]]
    assert [len(tr) for tr, _ in folds] == [5, 10, 15]  # labels end by the close: nothing to purge
    assert pq.ParquetFile(g.files[0].path).metadata.num_rows == 5
