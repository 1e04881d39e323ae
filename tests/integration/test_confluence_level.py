"""The hierarchical confluence decision (SPEC §8, original_pipeline.md §7.3) on hand-built rows.

The rows go through the real SQL: the macro ``confluence_decision`` that int_confluence__features uses is
compiled by dbt (``dbt compile --inline``) over a VALUES table of constructed inputs and run in DuckDB.
Every confluence_level 0..10 is reached (8 included: a partial breakout with GEX alignment), and every
branch of the decision table, the breakout states, the GEX alignment rules and the strict / inclusive
boundaries have a row of their own.
"""

from __future__ import annotations

import duckdb
import pytest

from .conftest import BREAK_DATE, compile_inline

COLUMNS = [
    ("spot", "double"),
    ("pm_high", "double"),
    ("pm_low", "double"),
    ("or_high", "double"),
    ("or_low", "double"),
    ("sma_200", "double"),
    ("sma_400", "double"),
    ("rel_vol_ratio", "double"),
    ("is_first_hour", "boolean"),
    ("call_wall", "double"),
    ("put_wall", "double"),
    ("fuel_effect", "varchar"),
]

# A range PM 99..101, OR 99.5..100.5: spot 102 is above all, 98 below all, 100.75 / 99.25 partial
# (beyond the OR only), 100 inside. SMAs at spot are "close", 95 "far". rel_vol 1.5 high, 1.0 normal.
BASE = {
    "pm_high": 101.0,
    "pm_low": 99.0,
    "or_high": 100.5,
    "or_low": 99.5,
    "rel_vol_ratio": 1.5,
    "is_first_hour": True,
    "call_wall": None,
    "put_wall": None,
    "fuel_effect": "NEUTRAL",
}
UP_ALIGNED = {"call_wall": 100.6, "fuel_effect": "AMPLIFY"}  # spot above the call wall, AMPLIFY
DOWN_ALIGNED = {"put_wall": 99.4, "fuel_effect": "AMPLIFY"}  # spot below the put wall, AMPLIFY


def case(spot: float, sma: float | tuple[float, float] | None = "spot", **over) -> dict:
    row = dict(BASE, spot=spot)
    s200, s400 = (spot, spot) if sma == "spot" else (sma if isinstance(sma, tuple) else (sma, sma))
    row.update(sma_200=s200, sma_400=s400)
    row.update(over)
    return row


# (id, inputs, expected (breakout_state, gex_alignment, confluence_level))
CASES = [
    # --- the ten levels, each through its own branch ---------------------------------------------
    ("L1 full, sma close, first hour, aligned, vol high", case(102.0, **UP_ALIGNED), (2, 1, 1)),
    ("L1 vol exactly at 1.3 is high", case(102.0, rel_vol_ratio=1.3, **UP_ALIGNED), (2, 1, 1)),
    ("L2 ... vol normal", case(102.0, rel_vol_ratio=1.0, **UP_ALIGNED), (2, 1, 2)),
    ("L2 vol just under 1.3", case(102.0, rel_vol_ratio=1.2999, **UP_ALIGNED), (2, 1, 2)),
    ("L3 full, sma close, first hour, not aligned", case(102.0), (2, 0, 3)),
    ("L3 below all, opposed", case(98.0, put_wall=97.5, fuel_effect="DAMPEN"), (3, -1, 3)),
    ("L4 full, sma far, first hour, aligned, vol high", case(102.0, sma=95.0, **UP_ALIGNED), (2, 1, 4)),
    ("L4 below all, aligned down", case(98.0, sma=95.0, **DOWN_ALIGNED), (3, 1, 4)),
    (
        "L5 full, sma far, first hour, aligned, vol normal",
        case(102.0, sma=95.0, rel_vol_ratio=1.0, **UP_ALIGNED),
        (2, 1, 5),
    ),
    ("L5 full, sma far, first hour, not aligned, vol high", case(102.0, sma=95.0), (2, 0, 5)),
    ("L5 one SMA far is far", case(102.0, sma=(102.0, 95.0), **UP_ALIGNED, rel_vol_ratio=1.0), (2, 1, 5)),
    ("L6 full, sma close, rest of day, vol high", case(102.0, is_first_hour=False), (2, 0, 6)),
    ("L6 aligned does not matter", case(98.0, is_first_hour=False, **DOWN_ALIGNED), (3, 1, 6)),
    ("L7 full, sma close, rest of day, vol normal", case(102.0, is_first_hour=False, rel_vol_ratio=1.0), (2, 0, 7)),
    (
        "L7 full, sma far, rest of day, vol high, aligned",
        case(102.0, sma=95.0, is_first_hour=False, **UP_ALIGNED),
        (2, 1, 7),
    ),
    ("L8 partial up, sma close, aligned, vol high", case(100.75, **UP_ALIGNED), (1, 1, 8)),
    ("L8 partial down, rest of day", case(99.25, is_first_hour=False, **DOWN_ALIGNED), (1, 1, 8)),
    ("L9 partial, aligned, vol normal", case(100.75, rel_vol_ratio=1.0, **UP_ALIGNED), (1, 1, 9)),
    ("L9 partial, sma far, aligned, vol high", case(100.75, sma=95.0, **UP_ALIGNED), (1, 1, 9)),
    ("L9 partial, not aligned", case(100.75), (1, 0, 9)),
    ("L9 partial, opposed", case(100.75, call_wall=101.5, fuel_effect="DAMPEN"), (1, -1, 9)),
    ("L10 inside", case(100.0, **UP_ALIGNED), (0, 0, 10)),
    ("L10 inside, walls and fuel set", case(100.0, call_wall=99.0, put_wall=101.0, fuel_effect="AMPLIFY"), (0, 0, 10)),
    # --- level 0: each missing input -------------------------------------------------------------
    ("L0 PM high missing", case(102.0, pm_high=None, **UP_ALIGNED), (0, 0, 0)),
    ("L0 PM low missing", case(98.0, pm_low=None, **DOWN_ALIGNED), (0, 0, 0)),
    ("L0 OR high missing", case(102.0, or_high=None, **UP_ALIGNED), (0, 0, 0)),
    ("L0 OR low missing", case(98.0, or_low=None, **DOWN_ALIGNED), (0, 0, 0)),
    ("L0 SMA_200 missing (breakout still stated)", case(102.0, sma=(None, 102.0), **UP_ALIGNED), (2, 1, 0)),
    ("L0 SMA_400 missing", case(98.0, sma=(98.0, None), **DOWN_ALIGNED), (3, 1, 0)),
    ("L0 rel_vol missing", case(100.75, rel_vol_ratio=None, **UP_ALIGNED), (1, 1, 0)),
    # --- breakout states and strict comparisons ---------------------------------------------------
    ("spot = PM high is not above it", case(101.0, **UP_ALIGNED), (1, 1, 8)),
    ("spot = OR high, below PM high: inside", case(100.5), (0, 0, 10)),
    ("spot = PM low is not below it", case(99.0, **DOWN_ALIGNED), (1, 1, 8)),
    ("above PM high only (OR above PM)", case(101.25, or_high=101.5, or_low=100.0), (1, 0, 9)),
    ("below PM low only (OR below PM)", case(98.75, or_high=100.0, or_low=98.5), (1, 0, 9)),
    ("below OR low only", case(99.25), (1, 0, 9)),
    ("above OR high only", case(100.75), (1, 0, 9)),
    ("below all with OR inside PM", case(98.0), (3, 0, 3)),
    # --- GEX alignment ---------------------------------------------------------------------------
    ("up: spot = call wall is not above it", case(102.0, call_wall=102.0, fuel_effect="AMPLIFY"), (2, 0, 3)),
    (
        "up: wall below but fuel DAMPEN, 1 away: not opposed",
        case(102.0, call_wall=101.0, fuel_effect="DAMPEN"),
        (2, 0, 3),
    ),
    ("up: wall 0.5 away, DAMPEN: opposed", case(102.0, call_wall=102.5, fuel_effect="DAMPEN"), (2, -1, 3)),
    ("up: wall exactly 1.0 away, DAMPEN: not opposed", case(102.0, call_wall=103.0, fuel_effect="DAMPEN"), (2, 0, 3)),
    ("up: wall above spot, AMPLIFY: neutral", case(102.0, call_wall=103.0, fuel_effect="AMPLIFY"), (2, 0, 3)),
    ("up: only the put wall set", case(102.0, put_wall=103.0, fuel_effect="AMPLIFY"), (2, 0, 3)),
    ("up: NEUTRAL fuel", case(102.0, call_wall=100.0, fuel_effect="NEUTRAL"), (2, 0, 3)),
    ("up: no fuel yet", case(102.0, call_wall=100.0, fuel_effect=None), (2, 0, 3)),
    ("down: spot = put wall", case(98.0, put_wall=98.0, fuel_effect="AMPLIFY"), (3, 0, 3)),
    (
        "down: put wall 0.5 below, DAMPEN: opposed",
        case(98.0, put_wall=97.5, fuel_effect="DAMPEN", is_first_hour=False),
        (3, -1, 6),
    ),
    ("down: the call wall is irrelevant", case(98.0, call_wall=97.0, fuel_effect="AMPLIFY"), (3, 0, 3)),
    (
        "partial on both sides: the down side aligns",
        case(101.25, or_high=102.0, or_low=101.5, call_wall=102.0, put_wall=101.5, fuel_effect="AMPLIFY"),
        (1, 1, 8),
    ),
    (
        "partial on both sides: the up side opposes",
        case(101.25, or_high=102.0, or_low=101.5, call_wall=101.75, put_wall=99.0, fuel_effect="DAMPEN"),
        (1, -1, 9),
    ),
    # --- SMA proximity: strict 0.5 % of spot -----------------------------------------------------
    ("SMA exactly 0.5% away is far", case(200.0, sma=(201.0, 200.0), pm_high=199.0, or_high=198.5), (2, 0, 5)),
    ("SMA just inside 0.5% is close", case(200.0, sma=(200.99, 199.01), pm_high=199.0, or_high=198.5), (2, 0, 3)),
]


def _literal(value, sql_type: str) -> str:
    if value is None:
        return f"null::{sql_type}"
    if sql_type == "boolean":
        return "true" if value else "false"
    if sql_type == "varchar":
        return "'" + str(value).replace("'", "''") + "'"
    return f"{float(value)!r}::double"


def _inline_sql() -> str:
    rows = []
    for i, (_, inputs, _) in enumerate(CASES):
        rows.append("(" + ", ".join([str(i)] + [_literal(inputs[c], t) for c, t in COLUMNS]) + ")")
    names = ", ".join(["case_no"] + [c for c, _ in COLUMNS])
    return (
        f"with inputs as (select * from (values {', '.join(rows)}) as t({names}))\n"
        "select case_no, breakout_state, gex_alignment, confluence_level, "
        "cl_full, cl_partial, cl_sma_close, cl_vol_high, cl_gex_aligned, cl_gex_opposed\n"
        "from {{ confluence_decision('inputs') }}\norder by case_no"
    )


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    """Compile the macro over the hand-built rows with dbt, then run the compiled SQL in DuckDB."""
    work = tmp_path_factory.mktemp("confluence-compile")
    compiled = compile_inline(_inline_sql(), work)
    assert "confluence_decision" not in compiled
    rows = duckdb.sql(compiled).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0] for c in CASES])
def test_decision_row(decided, i):
    _, _, expected = CASES[i]
    assert decided[i][:3] == expected


def test_every_level_is_reached(decided):
    assert {r[2] for r in decided.values()} == set(range(11))
    assert {r[0] for r in decided.values()} == {0, 1, 2, 3}
    assert {r[1] for r in decided.values()} == {-1, 0, 1}


def test_level_8_is_a_partial_breakout_with_gex_alignment(decided):
    eights = [r for r in decided.values() if r[2] == 8]
    assert eights and all(r[0] == 1 and r[1] == 1 for r in eights)
    # every flag of the level-8 branch is set
    assert all(r[3] is False and r[4] and r[5] and r[6] and r[7] and not r[8] for r in eights)


# --- end to end on a generated first-hour breakout (the breakout_day fixture: conftest.py) ----------


def _first_hour_full(rows):
    return [e for e in rows if e["bars_since_open"] < 60 and e["breakout_state"] in (2, 3)]


def test_generated_first_hour_breakout_reaches_levels_1_to_5(breakout_day):
    """First-hour events above the whole PM and OR range, and only those, carry levels 1-5; none is 0."""
    rows = breakout_day[1].gold()
    first_hour_full = _first_hour_full(rows)
    assert first_hour_full
    assert all(1 <= e["confluence_level"] <= 5 for e in first_hour_full), first_hour_full
    assert {e["breakout_state"] for e in first_hour_full} == {2}  # above all: the planted break is upwards
    others = [e for e in rows if e not in first_hour_full]
    assert not [e for e in others if 1 <= e["confluence_level"] <= 5]
    assert min(e["confluence_level"] for e in rows) >= 1


def test_generated_breakout_events_are_point_in_time(breakout_day):
    """SPEC §11 on the breakout: Bronze cut inside the first hour (a ns-resolution time after the break)
    gives every event decided by then, levels 1-5 included, exactly the full run's feature columns."""
    from breakbounce import calendar

    from . import bronze_builders as bb
    from .test_point_in_time import LABEL_PREFIXES

    base, full = breakout_day
    cut = calendar.session(BREAK_DATE).rth_open_ns + 52 * bb.MIN + 17 * bb.NS + 123_456_789  # 10:22:17.123456789
    bb.truncate_bronze(base / "bronze", base / "cut", cut)
    run = bb.build(BREAK_DATE, base / "cut", base / "gold-cut", base / "work-cut")
    assert run.returncode == 0, run.stderr[-3000:]

    def early(rows):
        return {
            e["event_id"]: {k: v for k, v in e.items() if not k.startswith(LABEL_PREFIXES)}
            for e in rows
            if e["available_ts_ns"] <= cut
        }

    want, got = early(full.gold()), early(run.gold())
    assert [e for e in _first_hour_full(want.values()) if e["available_ts_ns"] <= cut]
    assert got.keys() == want.keys()
    for event_id, expected in want.items():
        assert got[event_id] == expected, event_id
