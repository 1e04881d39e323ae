"""Levels as known at each bar's open T0 (SPEC §5) against an independent reference, on hand-built
sessions: a winter day, the Monday after the switch to EDT with too little SMA warmup, and a 13:00
early close without pre-market prints. The three dbt runs are shared with test_touches / test_labels."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from breakbounce import calendar
from breakbounce.plan import plan_run

from . import bronze_builders as bb

NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return bb.hand_built_runs(tmp_path_factory)


def _by_bar(run: bb.ScenarioRun) -> dict[tuple[int, int], tuple[float, float]]:
    rows = run.build.query(
        "select bar_start_ns, level_kind, level_e9, level_price from intermediate.int_levels__by_bar"
    )
    return {(t0, k): (e9, px) for t0, k, e9, px in rows}


@pytest.mark.parametrize("name", list(bb.SCENARIOS))
def test_build_succeeds_with_the_expected_warmup(runs, name):
    run = runs[name]
    assert run.build.returncode == 0, run.build.stderr[-3000:]
    plan = plan_run(run.date, run.build.gold_root.parent / "bronze")
    assert plan.prior_sessions == run.priors


@pytest.mark.parametrize(
    ("date", "clock", "local"),
    [
        ("2025-03-10", "09:30", dt.datetime(2025, 3, 10, 9, 30)),
        ("2025-03-10", "04:00", dt.datetime(2025, 3, 10, 4, 0)),
        ("2025-03-10", "18:00", dt.datetime(2025, 3, 9, 18, 0)),  # Sunday evening, already EDT
        ("2025-12-16", "09:45", dt.datetime(2025, 12, 16, 9, 45)),
        ("2025-11-28", "13:00", dt.datetime(2025, 11, 28, 13, 0)),
    ],
)
def test_clock_helper_agrees_with_zoneinfo(date, clock, local):
    assert bb.et(date, clock) == int(local.replace(tzinfo=NY).timestamp()) * bb.NS


@pytest.mark.parametrize("name", list(bb.SCENARIOS))
def test_levels_match_reference(runs, name):
    run = runs[name]
    ref = bb.reference_levels(run.tape, run.date, [run.date] + run.priors)
    got = _by_bar(run)
    expected = {(t0, k): v for t0, lv in ref.items() for k, v in lv.items()}
    assert set(got) == set(expected)
    for key, level in expected.items():
        e9, price = got[key]
        if level.denominator == 1:  # PM / OR / SESSION: exact integers
            assert e9 == level, key
        else:  # VWAP / SMA: exact ratios rounded once to double
            assert abs(e9 - float(level)) <= 1e-3, key
        assert price == pytest.approx(float(level) / 1e9 / bb.RATIO, rel=1e-15, abs=1e-12), key


@pytest.mark.parametrize("name", list(bb.SCENARIOS))
def test_as_of_grid_covers_rth_marks_both_ends(runs, name):
    run = runs[name]
    s = calendar.session(run.date)
    marks = [
        r[0] for r in run.build.query("select asof_ns from intermediate.int_levels__as_of_minute order by asof_ns")
    ]
    assert marks == list(range(s.rth_open_ns, s.rth_close_ns + bb.MIN, bb.MIN))
    first = run.build.query(
        "select session_high, session_low, vwap, or_high, rth_volume from intermediate.int_levels__as_of_minute "
        "order by asof_ns limit 1"
    )[0]
    assert first == (None, None, None, None, 0)  # nothing of RTH is known at 09:30


def test_winter_day_planted_pm_and_or_levels(runs):
    run = runs["winter"]
    rows = run.build.query(
        "select distinct pm_high, pm_low, or_high, or_low from intermediate.int_levels__as_of_minute "
        "where asof_ns >= ?",
        [bb.et(run.date, "09:45")],
    )
    assert rows == [(601.0, 599.0, 600.4, 599.6)]


@pytest.mark.parametrize("name", list(bb.SCENARIOS))
def test_opening_range_levels_only_from_0945(runs, name):
    run = runs[name]
    first = run.build.query("select min(bar_start_ns) from intermediate.int_levels__by_bar where level_kind in (2, 3)")[
        0
    ][0]
    assert first == bb.et(run.date, "09:45")


def test_no_premarket_prints_means_no_pm_levels_or_events(runs):
    run = runs["early_close"]
    assert run.build.query("select count(*) from intermediate.int_levels__by_bar where level_kind in (0, 1)") == [(0,)]
    assert not [e for e in run.build.gold() if e["level_kind"] in (0, 1)]
    # overnight prints exist, so this is about the 04:00-09:30 window only
    assert (
        run.build.query(
            "select count(*) from intermediate.int_bars__es_1min where session_date = ? and bar_start_ns < ?",
            [run.date, bb.et(run.date, "04:00")],
        )[0][0]
        > 0
    )


def test_short_warmup_leaves_sma_null_until_enough_bars(runs):
    run = runs["dst"]
    rows = run.build.query(
        "select asof_ns, sma_200, sma_400 from intermediate.int_levels__as_of_minute order by asof_ns"
    )
    assert rows[0][1] is None  # at 09:30 fewer than 200 closed 2-min bars exist
    defined = [t for t, s200, _ in rows if s200 is not None]
    assert defined and defined[0] > bb.et(run.date, "09:30")
    assert all(s400 is None for _, _, s400 in rows)  # 400 bars never reached
    ref = bb.reference_levels(run.tape, run.date, [run.date] + run.priors)
    assert min(t for t, lv in ref.items() if 6 in lv) == min(t for (t, k) in _by_bar(run) if k == 6)


def test_early_close_day_events_end_by_1244(runs):
    run = runs["early_close"]
    gold = run.build.gold()
    assert gold
    assert max(e["ts_ns"] for e in gold) <= bb.et(run.date, "12:44")
    marks = run.build.query("select max(asof_ns) from intermediate.int_levels__as_of_minute")[0][0]
    assert marks == bb.et(run.date, "13:00")
