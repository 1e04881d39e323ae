"""Planted book walls / vacuums read as WALL / VACUUM by construction (SPEC §7.2), on any seed and date.

Measured straight on the generated MBP-10 and trades with the numpy barrier oracle
(``tests/oracles/barrier.py`` ``barrier_metrics``, which the pipeline's SQL is tested against), without a dbt run.

Besides the state, the by-construction property: through the barrier window [t_dec − 240 s, t_dec) all
10 visible levels of the planted side lie inside the zone L ± 2 ES points (but for a few snapshots around
the touching print), so the zone shows depth when the window opens (otherwise a pull has nothing to
cancel) and a move of the touch never carries a queue across the zone edge; and by t_dec that side's zone
depth is far below (vacuum) / above (wall) its value at the start.

Run as a script for the recovery table over many seeds and dates::

    python -m tests.unit.test_synth_plant_barrier --seeds 1-6 --dates 2025-12-15,2025-12-16
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from breakbounce.synth.scenario import day_template
from tests.oracles import barrier as oracle

from .test_synth_data import DATE, PREV, distinct_rows, generated, np_cols, tables, truth

NS = 10**9
RATIO = 10.0  # es_spy_ratio (SPEC §1)
ZONE_ES = 2.0  # ± 8 ES ticks = ± $0.20 in the SPY frame
EXPECTED = {"wall": "WALL", "vacuum": "VACUUM"}
LEVELS = [f"{s}_{k}_{i}" for s in ("bid", "ask") for k in ("px", "sz") for i in range(1, 11)]


def _stack(b, side, kind):
    a = np.stack([b[f"{side}_{kind}_{i}"] for i in range(1, 11)], axis=1).astype(np.float64)
    if kind == "px":
        a[a > 1e8] = np.nan  # empty-level sentinel
    return a


def plant_readings(root, date) -> list[dict]:
    """One dict per book plant: the oracle's barrier output for its event and the zone depth facts."""
    tr = truth(root, date)
    t = distinct_rows(tables(root, date)["mbp10"])
    t = t.filter(np.asarray(t.column("symbol").to_numpy(zero_copy_only=False) == tr["front_symbol"]))
    b = np_cols(t, ["ts_event_ns", "seq"] + LEVELS)
    q = distinct_rows(tables(root, date)["trades"])
    q = q.filter(np.asarray(q.column("symbol").to_numpy(zero_copy_only=False) == tr["front_symbol"]))
    tq = np_cols(q, ["ts_event_ns", "price", "size", "aggressor"])
    ts = b["ts_event_ns"]
    events = {e["id"]: e for e in tr["events"]}
    out = []
    for p in tr["book_plants"]:
        e = events[p["event_id"]]
        L = e["level_price_es"]
        t_dec = e["t0_ns"] + 60 * NS
        side = "ask" if e["direction"] == "UP" else "bid"
        m = oracle.barrier_metrics(
            ts,
            _stack(b, "bid", "px") / RATIO,
            _stack(b, "bid", "sz"),
            _stack(b, "ask", "px") / RATIO,
            _stack(b, "ask", "sz"),
            tq["ts_event_ns"],
            tq["price"] / RATIO,
            tq["size"],
            tq["aggressor"],
            L / RATIO,
            e["direction"],
            t_dec,
            book_seq=b["seq"],
        )
        px, sz = _stack(b, side, "px"), _stack(b, side, "sz")
        # the window's snapshots: the (ts, seq)-last row per 250 ms bucket, ts in [t_dec - 240 s, t_dec)
        w = np.flatnonzero((ts >= t_dec - oracle.BARRIER_WINDOW_NS) & (ts < t_dec))
        snaps = w[oracle._last_per_bucket(ts[w], b["seq"][w], oracle.SNAPSHOT_BUCKET_NS)]
        lo, hi = L - ZONE_ES - 1e-6, L + ZONE_ES + 1e-6
        n_in = ((px[snaps] >= lo) & (px[snaps] <= hi) & (sz[snaps] > 0)).sum(axis=1)
        depth = oracle.zone_depth(px[snaps], sz[snaps], lo, hi)
        out.append(
            {
                "plant": p["kind"],
                "event": e["id"],
                "state": m["barrier_state"],
                "delta": m["barrier_delta_liq"],
                "R": m["barrier_replenishment_ratio"],
                "added": m["added"],
                "canceled": m["canceled"],
                "filled": m["filled"],
                "depth_start": float(depth[0]),
                "depth_end": float(depth[-1]),
                "levels_in_zone_start": int(n_in[0]),
                "levels_in_zone_min": int(n_in.min()),
                "all_levels_in_zone_share": float(np.mean(n_in == 10)),
                "touch_dist_start": abs(b[f"{side}_px_1"][snaps[0]] - L),
                "expected": EXPECTED[p["kind"]],
            }
        )
    return out


def _check(r: dict) -> None:
    assert r["state"] == r["expected"], r
    # by construction: through the window the planted side's 10 visible levels lie inside the zone (one or
    # two fewer while the touching print's plateau puts the best price on the level, or a widened spread
    # shifts that side by a tick), so the zone holds visible depth when the window opens and a move of the
    # touch does not carry a queue across the zone edge
    assert r["levels_in_zone_start"] == 10, r
    assert r["levels_in_zone_min"] >= 8 and r["all_levels_in_zone_share"] >= 0.9, r
    if r["plant"] == "vacuum":  # the normal visible depth is pulled
        assert r["depth_end"] <= 0.1 * r["depth_start"], r
    else:  # the wall builds on top of it
        assert r["depth_end"] >= 5 * r["depth_start"] > 0, r


MIRROR = {  # the same as test_synth_events.MIRROR (and so the same cached session)
    "events": [
        {"id": "pm_low_bounce", "level": "PM_LOW", "outcome": "BOUNCE", "at": "10:15"},
        {"id": "or_high_break", "level": "OR_HIGH", "outcome": "BREAK", "at": "12:00"},
    ],
    "gamma_walls": {"walls": [{"near": "PM_LOW", "right": "P"}]},
}
# scenario None: the day template the session draws. Seed 7 is the default test day; seeds 2 and 6 on these
# dates read ABSORPTION / WEAK with the earlier generator, whose window could open with the price too far
# away to show any depth in the zone
CASES = [
    (7, DATE, None),
    (2, DATE, None),
    (6, PREV, None),
    (7, "2025-12-11", "mirror"),
    (2, PREV, "pm_high_break"),
    (5, DATE, "pm_low_break"),
]


@pytest.mark.parametrize("seed,date,scenario", CASES)
def test_planted_wall_and_vacuum_read_as_wall_and_vacuum(seed, date, scenario):
    if scenario == "mirror":
        root = generated(date=date, seed=seed, tag="mirror", scenario_json=json.dumps(MIRROR))
    elif scenario is not None:  # a built-in day template
        root = generated(date=date, seed=seed, tag=scenario, scenario_json=json.dumps(day_template(scenario)))
    else:
        root = generated(date=date, seed=seed)
    rows = plant_readings(root, date)
    assert sorted(r["plant"] for r in rows) == ["vacuum", "wall"]
    for r in rows:
        _check(r)


def main(argv=None) -> int:
    import argparse
    import tempfile
    from pathlib import Path

    from breakbounce.synth import generate_session

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1-6", help="e.g. 1-6 or 1,3,7")
    ap.add_argument("--dates", default=f"{PREV},{DATE}")
    a = ap.parse_args(argv)
    seeds = []
    for part in a.seeds.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    dates = a.dates.split(",")
    ok = {"wall": 0, "vacuum": 0}
    n = 0
    hdr = (
        f"{'seed':>4} {'date':10} {'plant':6} {'state':10} {'delta':>8} {'R':>8} {'d_start':>8} {'d_end':>7}"
        f" {'dist0':>6} {'lv0':>3} {'lvmin':>5} {'all10':>5}"
    )
    print(hdr)
    with tempfile.TemporaryDirectory(prefix="plant-barrier-") as tmp:
        for seed in seeds:
            for date in dates:
                root = Path(tmp) / f"{seed}-{date}"
                generate_session(date, root, seed=seed, scale="test")
                n += 1
                rows = plant_readings(root, date)
                tables.cache_clear()
                for r in rows:
                    good = r["state"] == r["expected"]
                    ok[r["plant"]] += good
                    print(
                        f"{seed:>4} {date:10} {r['plant']:6} {r['state']:10} {r['delta']:8.0f} {min(r['R'], 1e4):8.2f}"
                        f" {r['depth_start']:8.0f} {r['depth_end']:7.0f} {r['touch_dist_start']:6.2f}"
                        f" {r['levels_in_zone_start']:3d} {r['levels_in_zone_min']:5d}"
                        f" {r['all_levels_in_zone_share']:5.2f}"
                        f"{'' if good else '   <-- miss'}",
                        flush=True,
                    )
    print(f"WALL {ok['wall']}/{n}  VACUUM {ok['vacuum']}/{n}")
    return 0 if ok["wall"] == ok["vacuum"] == n else 1


if __name__ == "__main__":
    raise SystemExit(main())
