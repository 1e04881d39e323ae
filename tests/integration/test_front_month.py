"""The causal front month (SPEC §3): the pre-open volume leader, so a run on Bronze cut at any time after
09:30 picks the contract of the full run, also on a roll day; ties or no pre-open prints fall back to the
previous session's front month, and without one to the first RTH print.

* a generated roll day (``generate --roll-at 10:30``: from 10:30 the back month trades twice the front
  month's size, so it leads the session's RTH volume; the front month leads the pre-open) after three
  ordinary generated sessions: the full run and runs on Bronze cut at 09:31, 10:45 and 14:00 all pick
  the pre-open leader, and the events decided by each cut keep every feature of the full run;
* hand-built tapes for the fallbacks (tie, no pre-open print, no earlier session).
"""

from __future__ import annotations

import json

import pytest

from breakbounce import calendar

from . import bronze_builders as bb
from .conftest import run_breakbounce

ROLL_DATE = "2025-12-16"
CUT_CLOCKS = ("09:31", "10:45", "14:00")
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
FRONT_SQL = (
    "select session_date::varchar, front_contract, front_month_rule from staging.stg_bronze__es_front_month "
    "order by session_date"
)


@pytest.fixture(scope="module")
def roll(tmp_path_factory):
    base = tmp_path_factory.mktemp("roll")
    bronze = base / "bronze"
    for args in (
        ["--start-date", "2025-12-11", "--end-date", "2025-12-15"],
        ["--start-date", ROLL_DATE, "--end-date", ROLL_DATE, "--roll-at", "10:30"],
    ):
        proc = run_breakbounce("generate", *args, "--out", str(bronze), "--seed", "7", "--scale", "test")
        assert proc.returncode == 0, proc.stderr[-3000:]
    truth = json.loads((bronze / "_truth" / f"date={ROLL_DATE}" / "truth.json").read_text())
    runs = {"full": bb.build(ROLL_DATE, bronze, base / "gold", base / "full")}
    for clock in CUT_CLOCKS:
        cut = bb.et(ROLL_DATE, clock)
        bb.truncate_bronze(bronze, base / clock / "bronze", cut)
        runs[clock] = bb.build(ROLL_DATE, base / clock / "bronze", base / clock / "gold", base / clock / "work")
    return truth, runs


@pytest.mark.slow
def test_generated_roll_day_changes_the_volume_leader(roll):
    truth, _ = roll
    r = truth["roll"]
    # the old rule (largest RTH volume of the session) would pick the back month on the full day and
    # the front month on a run cut before the roll: the day is a real test of causality
    assert r["back_rth_volume"] > r["front_rth_volume"]
    assert r["front_pre_open_volume"] > 10 * r["back_pre_open_volume"]
    assert (truth["front_symbol"], truth["back_symbol"]) == ("ESH6", "ESM6")


@pytest.mark.slow
def test_roll_day_runs_cut_after_the_open_pick_the_full_runs_contract(roll):
    _, runs = roll
    for name, run in runs.items():
        assert run.returncode == 0, (name, run.stderr[-3000:])
    full = runs["full"].query(FRONT_SQL)
    assert full[-1] == (ROLL_DATE, "ESH6", "PRE_OPEN_VOLUME")
    assert [r[1:] for r in full] == [("ESH6", "PRE_OPEN_VOLUME")] * len(full)  # warmup sessions: same rule
    for clock in CUT_CLOCKS:
        assert runs[clock].query(FRONT_SQL) == full, clock
        staged = runs[clock].query("select distinct contract from staging.stg_bronze__es_trades where is_front_month")
        assert staged == [("ESH6",)], clock


@pytest.mark.slow
def test_roll_day_events_decided_by_a_cut_keep_their_features(roll):
    _, runs = roll
    full = runs["full"].gold()
    assert len(full) > 50
    for clock in CUT_CLOCKS:
        cut = bb.et(ROLL_DATE, clock)
        want = {
            e["event_id"]: {k: v for k, v in e.items() if not k.startswith(LABEL_PREFIXES)}
            for e in full
            if e["available_ts_ns"] <= cut
        }
        got = {
            e["event_id"]: {k: v for k, v in e.items() if not k.startswith(LABEL_PREFIXES)}
            for e in runs[clock].gold()
            if e["available_ts_ns"] <= cut
        }
        assert got == want, clock


# --- fallbacks on hand-built tapes -----------------------------------------------------------------

D1, D2, D3 = "2025-12-12", "2025-12-15", "2025-12-16"


def _rth(
    tape: bb.Tape, date: str, contract: str, price: float, size: int, start: str = "09:30:01", end: str = "15:59"
) -> None:
    tape.every(
        bb.et(date, start),
        bb.et(date, end),
        20 * bb.NS,
        lambda i: price + 0.25 * (i % 5),
        lambda i: size,
        contract=contract,
    )


@pytest.fixture(scope="module")
def fallbacks(tmp_path_factory):
    """Two Bronze trees, each run once for its last date.

    chain: D1 pre-open leader ESH6; D2 a pre-open tie (ESH6 30 = ESM6 30); D3 no pre-open print. In D2 and
    D3 the back month ESM6 prints first in RTH and trades 10x more there.
    rth_only: no session has pre-open prints; D2's first RTH print is ESH6, D1's (the oldest) is ESM6.
    """
    base = tmp_path_factory.mktemp("fallbacks")
    chain = bb.Tape()
    chain.every(bb.et(D1, "19:00"), bb.et(D1, "09:00"), 10 * bb.MIN, lambda i: 6000.0, lambda i: 5)
    chain.every(bb.et(D1, "20:00"), bb.et(D1, "21:00"), 10 * bb.MIN, lambda i: 6050.0, lambda i: 2, contract="ESM6")
    _rth(chain, D1, "ESH6", 6000.0, 3)
    chain.add(bb.et(D2, "19:00"), 6000.0, 30)
    chain.add(bb.et(D2, "20:00"), 6050.0, 30, contract="ESM6")
    for d in (D2, D3):
        _rth(chain, d, "ESM6", 6050.0, 30, start="09:30:00")
        _rth(chain, d, "ESH6", 6000.0, 3)
    chain.write(base / "chain")
    rth_only = bb.Tape()
    _rth(rth_only, D1, "ESM6", 6050.0, 1, start="09:30:00", end="09:30:01")
    _rth(rth_only, D1, "ESH6", 6000.0, 5)
    _rth(rth_only, D2, "ESH6", 6000.0, 5, start="09:30:00")
    _rth(rth_only, D2, "ESM6", 6050.0, 50)
    rth_only.write(base / "rth_only")
    return {
        name: bb.build(d, base / name, base / f"{name}-gold", base / f"{name}-work")
        for name, d in (("chain", D3), ("rth_only", D2))
    }


def test_tie_and_missing_pre_open_fall_back_to_the_previous_session(fallbacks):
    run = fallbacks["chain"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.query(FRONT_SQL) == [
        (D1, "ESH6", "PRE_OPEN_VOLUME"),
        (D2, "ESH6", "PREVIOUS_SESSION"),
        (D3, "ESH6", "PREVIOUS_SESSION"),
    ]
    # the run date's tape and bars are ESH6's (6000.00-6001.00), not the busier ESM6's
    assert run.query("select distinct contract from staging.stg_bronze__es_trades where is_front_month") == [("ESH6",)]
    closes = run.query("select min(close), max(close) from intermediate.int_bars__es_1min where session_date = ?", [D3])
    assert closes == [(600.0, 600.1)]
    warm = run.query(
        "select distinct session_date::varchar, contract from intermediate.int_bars__es_warmup_minutes "
        "where is_front_month order by 1"
    )
    assert warm == [(D1, "ESH6"), (D2, "ESH6")]


def test_without_any_pre_open_print_the_oldest_sessions_first_rth_print_decides(fallbacks):
    run = fallbacks["rth_only"]
    assert run.returncode == 0, run.stderr[-3000:]
    # D1 is the run's oldest session: its first RTH print (ESM6 at 09:30:00) decides; D2 has no pre-open
    # print, so it takes D1's front month, not its own first RTH print (ESH6)
    assert run.query(FRONT_SQL) == [(D1, "ESM6", "FIRST_RTH_PRINT"), (D2, "ESM6", "PREVIOUS_SESSION")]
    assert calendar.session(D1).rth_open_ns == bb.et(D1, "09:30")
