"""The generator's planted book events come out of the real pipeline with the intended barrier state
(SPEC §7.2): the ask wall built before the PM_HIGH bounce is WALL, the bid vacuum pulled before the
OR_LOW break is VACUUM; and away from the plants the states are a mix, not one state everywhere."""

from __future__ import annotations

from collections import Counter

import duckdb

EXPECTED = {"wall": "WALL", "vacuum": "VACUUM"}


def _gold_rows(generated_day):
    run = generated_day.run
    assert run.returncode == 0, run.stderr[-4000:]
    path = run.gold / "signals" / f"date={generated_day.date}" / "signals.parquet"
    con = duckdb.connect()
    try:
        cur = con.execute(
            "select ts_ns, level_kind_name, direction, barrier_state, barrier_delta_liq, "
            "barrier_replenishment_ratio, wall_ratio from read_parquet(?)",
            [str(path)],
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()


def test_planted_wall_and_vacuum_classify_as_wall_and_vacuum(generated_day):
    rows = _gold_rows(generated_day)
    truth = generated_day.truth()
    by_key = {(r["ts_ns"], r["level_kind_name"], r["direction"]): r for r in rows}
    events = {e["id"]: e for e in truth["events"]}
    checked = set()
    for p in truth["book_plants"]:
        e = events[p["event_id"]]
        row = by_key.get((e["t0_ns"], e["level_kind"], e["direction"]))
        assert row is not None, (p, e)
        assert row["barrier_state"] == EXPECTED[p["kind"]], (p["id"], row)
        if p["kind"] == "wall":
            assert row["barrier_delta_liq"] > 100 and row["barrier_replenishment_ratio"] > 1.5, row
        else:
            assert row["barrier_delta_liq"] < -100 and row["barrier_replenishment_ratio"] < 0.3, row
        checked.add(p["kind"])
    assert checked == {"wall", "vacuum"}


def test_barrier_states_away_from_plants_are_a_mix(generated_day):
    rows = _gold_rows(generated_day)
    truth = generated_day.truth()
    planted = {(e["t0_ns"], e["level_kind"]) for e in truth["events"]}
    states = Counter(r["barrier_state"] for r in rows if (r["ts_ns"], r["level_kind_name"]) not in planted)
    n = sum(states.values())
    assert n >= 50
    # measured over 13 generated days: ABSORPTION is 72-88% of the events away from the plants (the
    # +-2-point zone spans 17 ticks, MBP-10 shows 10 levels; see README, Known limitations), so the
    # bound says "not one state everywhere" rather than pinning one day's draw
    assert max(states.values()) <= 0.9 * n, states
    assert len(states) >= 3, states
