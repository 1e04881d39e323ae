"""Point in time (SPEC §1, §11) for the context / confluence / transform features: Bronze truncated at
a cut time X (every record with ts >= X removed) gives, for every event decided by X
(available_ts_ns <= X), exactly the full run's values of int_context__features (every context,
confluence and transform column of Gold) and of int_confluence__features (the decision's inputs).

Two days: the hand-built random day at the cuts of test_point_in_time (the same shared runs, so no
extra build), and the generated day (book and options present, so walls, fuel, barrier transforms
and gamma_bucket take part) cut once mid-session.
"""

from __future__ import annotations

import pytest

from breakbounce import calendar

from . import bronze_builders as bb
from .test_point_in_time import CUTS

MODELS = ("int_context__features", "int_confluence__features")


def _rows(build, model: str, cut: int) -> dict[str, tuple]:
    rows = build.query(
        f"select m.* from intermediate.{model} m join intermediate.int_touches__detected e using (event_id) "
        "where e.available_ts_ns <= ? order by m.event_id",
        [cut],
    )
    return {r[0]: r for r in rows}


@pytest.fixture(scope="module")
def random_full(tmp_path_factory):
    full = bb.random_runs(tmp_path_factory)["full"]
    assert full.returncode == 0, full.stderr[-3000:]
    return full


@pytest.fixture(scope="module")
def random_cuts(tmp_path_factory):
    return bb.cut_runs(tmp_path_factory, CUTS)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("cut", CUTS)
def test_random_day_features_ignore_later_data(random_full, random_cuts, cut, model):
    run = random_cuts[cut]
    assert run.returncode == 0, run.stderr[-3000:]
    expected, got = _rows(random_full, model, cut), _rows(run, model, cut)
    assert len(expected) >= 5
    assert got == expected


GENERATED_CUT = "11:07:13.250"


@pytest.fixture(scope="module")
def generated_cut(generated_day, tmp_path_factory):
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    cut = bb.et(generated_day.date, GENERATED_CUT)
    base = tmp_path_factory.mktemp("generated-cut")
    bb.truncate_bronze(generated_day.bronze, base / "bronze", cut)
    run = bb.build(generated_day.date, base / "bronze", base / "gold", base / "work")
    assert run.returncode == 0, run.stderr[-3000:]
    return run, cut


@pytest.mark.parametrize("model", MODELS)
def test_generated_day_features_ignore_later_data(generated_day, generated_cut, model):
    run, cut = generated_cut
    expected, got = _rows(generated_day.run, model, cut), _rows(run, model, cut)
    assert len(expected) >= 20
    assert got == expected


def test_generated_cut_exercises_walls_and_gamma(generated_day, generated_cut):
    _, cut = generated_cut
    s = calendar.session(generated_day.date)
    assert s.rth_open_ns < cut < s.rth_close_ns
    rows = generated_day.run.query(
        "select count(*) filter (where gamma_bucket <> 'UNKNOWN'), count(*) filter (where liquidity_pressure is not null),"
        " count(*) filter (where l.call_wall is not null or l.put_wall is not null)"
        " from intermediate.int_context__features f join intermediate.int_confluence__features l using (event_id)"
        " where f.available_ts_ns <= ?",
        [cut],
    )
    assert all(n > 0 for n in rows[0])
