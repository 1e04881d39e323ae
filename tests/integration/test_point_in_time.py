"""Point-in-time rule (SPEC §1, §11): Bronze truncated at a cut time X (every record with ts >= X
removed, files rewritten to a new root) gives, for every event decided by X (available_ts_ns <= X),
exactly the full run's non-label Gold columns, and the same set of such events."""

from __future__ import annotations

import random

import pytest

from breakbounce import calendar

from . import bronze_builders as bb

LABEL_PREFIXES = (
    "outcome",
    "excursion_",
    "strength_",
    "time_to_",
    "tradeable_",
    "confirm_ts_ns",
    "anchor_spot",
    "future_price",
)


def _cuts() -> list[int]:
    """Three seeded cut times inside RTH: two anywhere (ns resolution), one exactly on a minute mark."""
    s = calendar.session("2025-12-16")
    rng = random.Random(20251216)
    cuts = [rng.randrange(s.rth_open_ns + 5 * bb.MIN, s.rth_close_ns - 5 * bb.MIN) for _ in range(2)]
    cuts.append(s.rth_open_ns + rng.randrange(20, 380) * bb.MIN)
    return sorted(cuts)


CUTS = _cuts()


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    rnd = bb.random_runs(tmp_path_factory)
    assert rnd["full"].returncode == 0, rnd["full"].stderr[-3000:]
    return rnd["full"].gold()


@pytest.fixture(scope="module")
def truncated(tmp_path_factory):
    return bb.cut_runs(tmp_path_factory, CUTS)


def _features(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith(LABEL_PREFIXES)}


def test_full_run_has_events_before_every_cut(full):
    for cut in CUTS:
        assert sum(e["available_ts_ns"] <= cut for e in full) >= 5


@pytest.mark.parametrize("cut", CUTS)
def test_features_decided_by_the_cut_ignore_later_data(full, truncated, cut):
    run = truncated[cut]
    assert run.returncode == 0, run.stderr[-3000:]
    early_full = {e["event_id"]: _features(e) for e in full if e["available_ts_ns"] <= cut}
    early_cut = {e["event_id"]: _features(e) for e in run.gold() if e["available_ts_ns"] <= cut}
    assert early_cut.keys() == early_full.keys()
    for event_id, expected in early_full.items():
        assert early_cut[event_id] == expected, event_id
    # the feature columns checked are everything but the labels
    assert {"level_price", "distance", "spot", "atr", "rel_vol_ratio", "direction"} <= set(expected)


@pytest.mark.parametrize("cut", CUTS)
def test_levels_as_of_marks_before_the_cut_are_unchanged(tmp_path_factory, truncated, cut):
    full_run = bb.random_runs(tmp_path_factory)["full"]
    sql = "select * from intermediate.int_levels__as_of_minute where asof_ns <= ? order by asof_ns"
    assert truncated[cut].query(sql, [cut]) == full_run.query(sql, [cut])
