"""The feature catalogue and the complete Gold schema (SPEC §8, §9).

- ``features.json`` is exactly what ``scripts/build_feature_catalog.py`` derives from the marts YAML
  (never hand-edited) and lists every column of the enforced contract;
- every Gold column named in features.json exists in the Gold file with its declared type, in order;
- Gold carries all 158 column names of the earlier pipeline (original_pipeline.md §9.2) plus the new
  available_ts_ns, depth_in_zone, option_basis, session_date, label_threshold_1, label_threshold_2;
- ``nullable: false`` columns hold no NULL, label columns are exactly the ``outcome`` group;
- on two generated sessions no earlier column is constant, except the ones docs/features.md allows.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from . import bronze_builders as bb
from .conftest import PROJECT_DIR

_LABEL_BASE = [
    "outcome",
    "excursion_max",
    "excursion_min",
    "strength_signed",
    "strength_abs",
    "time_to_threshold_1",
    "time_to_threshold_2",
    "time_to_break_1",
    "time_to_break_2",
    "time_to_bounce_1",
    "time_to_bounce_2",
    "tradeable_1",
    "tradeable_2",
    "confirm_ts_ns",
    "anchor_spot",
]
EARLIER_COLUMNS = [
    # touch
    "ts_ns",
    "level_price",
    "level_kind",
    "level_kind_name",
    "direction",
    "distance",
    "spot",
    # physics
    "barrier_state",
    "barrier_delta_liq",
    "barrier_replenishment_ratio",
    "wall_ratio",
    "tape_imbalance",
    "tape_buy_vol",
    "tape_sell_vol",
    "tape_velocity",
    "sweep_detected",
    "fuel_effect",
    "gamma_exposure",
    # context
    "is_first_15m",
    "date",
    "symbol",
    "direction_sign",
    "event_id",
    "atr",
    "dist_to_pm_high",
    "dist_to_pm_low",
    # mean reversion
    "sma_200",
    "sma_400",
    "dist_to_sma_200",
    "dist_to_sma_400",
    "sma_200_slope",
    "sma_400_slope",
    "sma_200_slope_5bar",
    "sma_400_slope_5bar",
    "sma_spread",
    "mean_reversion_pressure_200",
    "mean_reversion_pressure_400",
    "mean_reversion_velocity_200",
    "mean_reversion_velocity_400",
    # confluence
    "confluence_count",
    "confluence_weighted_score",
    "confluence_min_distance",
    "confluence_pressure",
    "confluence_alignment",
    # dealer velocity
    "gamma_flow_velocity",
    "gamma_flow_impulse",
    "gamma_flow_accel_1m",
    "gamma_flow_accel_3m",
    "dealer_pressure",
    "dealer_pressure_accel",
    # pressure
    "liquidity_pressure",
    "tape_pressure",
    "gamma_pressure",
    "gamma_pressure_accel",
    "reversion_pressure",
    "net_break_pressure",
    "gamma_bucket",
    # approach
    "approach_velocity",
    "approach_bars",
    "approach_distance",
    "prior_touches",
    "bars_since_open",
    # sparse
    "wall_ratio_nonzero",
    "wall_ratio_log",
    "barrier_delta_liq_nonzero",
    "barrier_delta_liq_log",
    # normalised
    "distance_signed",
    "distance_atr",
    "distance_pct",
    "distance_signed_atr",
    "distance_signed_pct",
    "dist_to_pm_high_atr",
    "dist_to_pm_high_pct",
    "dist_to_pm_low_atr",
    "dist_to_pm_low_pct",
    "dist_to_sma_200_atr",
    "dist_to_sma_200_pct",
    "dist_to_sma_400_atr",
    "dist_to_sma_400_pct",
    "confluence_min_distance_atr",
    "confluence_min_distance_pct",
    "approach_distance_atr",
    "approach_distance_pct",
    "level_price_pct",
    # attempts
    "attempt_index",
    "attempt_cluster_id",
    "barrier_replenishment_trend",
    "barrier_delta_liq_trend",
    "tape_velocity_trend",
    "tape_imbalance_trend",
    # confluence level
    "confluence_level",
    "rel_vol_ratio",
    "gex_alignment",
    "breakout_state",
    # labels: 16 per window, then the un-suffixed 4-minute copy
    *[c + s for s in ("_2min", "_4min", "_8min") for c in _LABEL_BASE + ["future_price"]],
    *_LABEL_BASE,
    "future_price_5min",
]
NEW_COLUMNS = {
    "available_ts_ns",
    "depth_in_zone",
    "option_basis",
    "session_date",
    "label_threshold_1",
    "label_threshold_2",
}
ALLOWED_CONSTANT = {"symbol"}  # docs/features.md, "Columns allowed to be constant"
ARROW = {
    "string": pa.string(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "int16": pa.int16(),
    "int8": pa.int8(),
    "float64": pa.float64(),
    "float32": pa.float32(),
    "bool": pa.bool_(),
    "date32[day]": pa.date32(),
}
SECOND_DATE = "2025-12-15"


@pytest.fixture(scope="module")
def catalog() -> dict:
    return json.loads((PROJECT_DIR / "features.json").read_text())


@pytest.fixture(scope="module")
def gold_tables(generated_day, tmp_path_factory) -> dict[str, pa.Table]:
    """Gold of the generated day, and of the session before it built from the same Bronze."""
    run = generated_day.run
    assert run.returncode == 0, run.stderr[-3000:]
    work = tmp_path_factory.mktemp("catalog-second-day")
    second = bb.build(SECOND_DATE, generated_day.bronze, work / "gold", work / "work")
    assert second.returncode == 0, second.stderr[-3000:]
    first_file = run.gold / "signals" / f"date={generated_day.date}" / "signals.parquet"
    return {generated_day.date: pq.read_table(first_file), SECOND_DATE: pq.read_table(second.gold_file)}


def test_catalog_is_generated_from_the_yaml():
    proc = subprocess.run(
        [sys.executable, "scripts/build_feature_catalog.py", "--check"], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_catalog_covers_the_earlier_and_new_columns(catalog):
    names = [c["name"] for c in catalog["columns"]]
    assert len(EARLIER_COLUMNS) == 158 and len(set(EARLIER_COLUMNS)) == 158
    assert len(names) == len(set(names)) == catalog["n_columns"]
    assert set(names) == set(EARLIER_COLUMNS) | NEW_COLUMNS
    for c in catalog["columns"]:
        assert c["description"] and c["unit"] and isinstance(c["nullable"], bool)
        assert c["arrow_type"] in ARROW
    assert sorted(n for g in catalog["groups"].values() for n in g) == sorted(names)
    assert set(catalog["groups"]) == {
        "identity",
        "level",
        "context",
        "mean_reversion",
        "confluence",
        "barrier_physics",
        "tape_physics",
        "fuel_physics",
        "dealer_velocity",
        "pressure_indicators",
        "approach_context",
        "outcome",
    }


def test_labels_are_exactly_the_outcome_group(catalog):
    prefixes = (
        "outcome",
        "excursion_",
        "strength_",
        "time_to_",
        "tradeable_",
        "confirm_ts_ns",
        "anchor_spot",
        "future_price",
    )
    labels = {c["name"] for c in catalog["columns"] if c["is_label"]}
    assert labels == {n for n in EARLIER_COLUMNS if n.startswith(prefixes)}
    assert labels == set(catalog["groups"]["outcome"])
    assert len(labels) == 64


def test_every_catalog_column_is_in_gold_with_its_type(catalog, gold_tables):
    for table in gold_tables.values():
        schema = table.schema
        assert schema.names == [c["name"] for c in catalog["columns"]]  # same columns, same order
        for c in catalog["columns"]:
            assert schema.field(c["name"]).type == ARROW[c["arrow_type"]], c["name"]


def test_non_nullable_columns_hold_no_null(catalog, gold_tables):
    for date, table in gold_tables.items():
        assert table.num_rows > 50, date
        for c in catalog["columns"]:
            if not c["nullable"]:
                assert table.column(c["name"]).null_count == 0, (date, c["name"])


def test_no_earlier_column_is_constant_across_days(gold_tables):
    both = pa.concat_tables(list(gold_tables.values()))
    constant = []
    for name in EARLIER_COLUMNS:
        distinct = {v for v in both.column(name).to_pylist()}
        if len(distinct) < 2:
            constant.append(name)
    assert set(constant) == ALLOWED_CONSTANT, constant
