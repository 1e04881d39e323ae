"""Labels and physics states that do not depend on the market's scale (SPEC §6, §7.2, §7.3), on the
generated week of ``conftest.generated_day`` (2025-12-11..16, seed 7, test scale), rewritten file by file:

* every MBP-10 size x 10: every ``barrier_state`` is unchanged (its size thresholds are multiples of the
  book's own causal size scale);
* every option size x 10: every ``fuel_effect`` is unchanged (it compares dealer gamma with a causal scale
  of dealer gamma);
* every ES price x 4 with ``es_spy_ratio`` x 4 (trades and book): every label column, thresholds included,
  is unchanged in the default 'atr' mode. A power of two keeps every double of the pipeline exactly scaled
  (VWAP / SMA levels are ratios of exact sums, rounded once), so the comparison is exact;
* ``label_threshold_unit: dollars`` with ``[1.0, 2.0]`` gives exactly the label columns that the pipeline
  wrote for this day before thresholds scaled with volatility (a fixture captured from that Gold), and the
  first-passage times the generator's truth file lists for the planted events (computed for $2).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from . import bronze_builders as bb
from .conftest import GENERATED_DATE

#: every test here reads a module build of > 10 s (pytest -m "not slow" leaves them out)
pytestmark = pytest.mark.slow

FIXTURE = bb.PROJECT_DIR / "tests" / "integration" / "fixtures" / f"gold_labels_dollars_{GENERATED_DATE}.parquet"
MBP_SIZES = [f"{side}_sz_{i}" for side in ("bid", "ask") for i in range(1, 11)]
MBP_PRICES = [f"{side}_px_{i}" for side in ("bid", "ask") for i in range(1, 11)]
UNDEF_PRICE = 9223372036.854776  # Databento's empty-level sentinel stays a sentinel
K = 4


def _times(table: pa.Table, columns: list[str], factor: float) -> pa.Table:
    for name in columns:
        i = table.schema.get_field_index(name)
        col = table.column(i)
        scaled = pc.multiply(col, pa.scalar(factor, col.type) if pa.types.is_floating(col.type) else int(factor))
        if name in MBP_PRICES:
            scaled = pc.if_else(pc.equal(col, pa.scalar(UNDEF_PRICE, col.type)), col, scaled)
        table = table.set_column(i, table.schema.field(i), scaled.cast(col.type))
    return table


@pytest.fixture(scope="module")
def scaled(generated_day, tmp_path_factory):
    """The generated week rewritten three ways, each built once."""
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    base = tmp_path_factory.mktemp("scaled")
    out = {}
    for name, transforms in {
        "book_x10": {"futures_mbp10": lambda t: _times(t, MBP_SIZES, 10)},
        "options_x10": {"option_trades": lambda t: _times(t, ["size"], 10)},
    }.items():
        bb.rewrite_bronze(generated_day.bronze, base / name / "bronze", transforms)
        out[name] = bb.build(GENERATED_DATE, base / name / "bronze", base / name / "gold", base / name / "work")
    bb.rewrite_bronze(
        generated_day.bronze,
        base / "prices" / "bronze",
        {
            "futures_trades": lambda t: _times(t, ["price"], K),
            "futures_mbp10": lambda t: _times(t, MBP_PRICES, K),
        },
    )
    out["prices"] = bb.build(
        GENERATED_DATE,
        base / "prices" / "bronze",
        base / "prices" / "gold",
        base / "prices" / "work",
        dbt_vars={"es_spy_ratio": 10.0 * K},
    )
    out["dollars"] = bb.build(
        GENERATED_DATE,
        generated_day.bronze,
        base / "dollars" / "gold",
        base / "dollars" / "work",
        dbt_vars={"label_threshold_unit": "dollars", "label_thresholds": [1.0, 2.0]},
    )
    return out


def _column(run, sql: str) -> dict:
    return {r[0]: r[1:] for r in run.query(sql)}


def _states_kept(base_run, run, state: str, size: str) -> set:
    """Every event's ``state`` equal in both runs, and its ``size`` column 10 x larger in ``run``; the
    base run's states."""
    assert run.returncode == 0, run.stderr[-3000:]
    sql = f"select event_id, {state}, {size} from marts.fct_touch_signals"
    base, got = _column(base_run, sql), _column(run, sql)
    assert got.keys() == base.keys() and len(base) > 100
    assert {k: v[0] for k, v in got.items()} == {k: v[0] for k, v in base.items()}
    assert all(got[k][1] == pytest.approx(10 * base[k][1], rel=1e-9, abs=1e-6) for k in base)  # really scaled
    return {v[0] for v in base.values()}


def test_book_sizes_x10_keep_every_barrier_state(generated_day, scaled):
    states = _states_kept(generated_day.run, scaled["book_x10"], "barrier_state", "depth_in_zone")
    assert len(states) >= 3  # not one value (the check would be empty)


def test_option_sizes_x10_keep_every_fuel_effect(generated_day, scaled):
    states = _states_kept(generated_day.run, scaled["options_x10"], "fuel_effect", "gamma_exposure")
    assert states == {"AMPLIFY", "DAMPEN", "NEUTRAL"}


def _labels(run) -> pa.Table:
    return _arrow(run, "select * from intermediate.int_labels__by_event order by event_id")


def _arrow(run, sql: str) -> pa.Table:
    import duckdb

    con = duckdb.connect(str(run.db), read_only=True)
    try:
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def test_es_prices_x4_keep_every_label_in_atr_mode(generated_day, scaled):
    run = scaled["prices"]
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    base, got = _labels(generated_day.run), _labels(run)
    assert got.column_names == base.column_names and got.num_rows == base.num_rows > 100
    assert {"label_threshold_1", "label_threshold_2", "outcome_2min", "time_to_break_2_8min"} <= set(base.column_names)
    for name in base.column_names:
        assert got.column(name).to_pylist() == base.column(name).to_pylist(), name
    outcomes = set(base.column("outcome").to_pylist())
    assert {"BREAK", "BOUNCE", "CHOP"} <= outcomes


def test_dollars_mode_reproduces_the_earlier_gold_labels(scaled):
    run = scaled["dollars"]
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    want = pq.read_table(FIXTURE)
    label_columns = want.column_names[want.column_names.index("outcome_2min") :]
    assert len(label_columns) == 64
    got = pq.read_table(run.gold_file).sort_by("event_id")  # the Gold file itself, as the fixture was
    assert got.column("event_id").to_pylist() == want.column("event_id").to_pylist()
    for name in label_columns:
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name
    thresholds = {(r["label_threshold_1"], r["label_threshold_2"]) for r in got.to_pylist()}
    assert thresholds == {(1.0, 2.0)}


def test_dollars_mode_planted_events_match_the_truth_times(generated_day, scaled):
    run = scaled["dollars"]
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    truth = generated_day.truth()
    n = 0
    for p in truth["events"]:
        rows = _arrow(
            run,
            "select l.* from intermediate.int_labels__by_event as l join intermediate.int_touches__detected "
            f"as e using (event_id) where e.ts_ns = {int(p['t0_ns'])} and e.level_kind_name = '{p['level_kind']}'",
        )
        assert rows.num_rows == 1, p["id"]
        e = rows.to_pylist()[0]
        for window, detail in (p.get("label_detail") or {}).items():
            assert e[f"outcome_{window}"] == detail.get("outcome", e[f"outcome_{window}"])
            for side in ("break", "bounce"):
                want, got = detail.get(f"time_to_{side}_s"), e[f"time_to_{side}_2_{window}"]
                if want is None:
                    assert got is None, (p["id"], window, side)
                else:  # the truth file rounds to microseconds
                    assert got == pytest.approx(want, abs=2e-6), (p["id"], window, side)
                n += 1
    assert n >= 6
