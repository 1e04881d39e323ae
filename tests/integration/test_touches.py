"""Touch detection (SPEC §5) on the hand-built sessions: every event equals the independent reference,
the planted band boundaries (exactly $0.10 and $0.25 on the 0.025 grid) are kept, ids are
deterministic, rows are ordered."""

from __future__ import annotations

import hashlib
import re

import pytest

from . import bronze_builders as bb

TOUCH_COLUMNS = [
    "event_id",
    "ts_ns",
    "available_ts_ns",
    "date",
    "symbol",
    "level_kind",
    "level_kind_name",
    "level_price",
    "direction",
    "direction_sign",
    "distance",
    "spot",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return bb.hand_built_runs(tmp_path_factory)


@pytest.fixture(scope="module")
def references(runs):
    return {name: bb.reference_events(r.tape, r.date, [r.date] + r.priors) for name, r in runs.items()}


@pytest.mark.parametrize("name", list(bb.SCENARIOS))
def test_events_match_reference(runs, references, name):
    gold = runs[name].build.gold()
    ref = references[name]
    assert [(e["ts_ns"], e["level_kind"]) for e in gold] == [(e["ts_ns"], e["level_kind"]) for e in ref]
    for g, r in zip(gold, ref):
        for col in TOUCH_COLUMNS:
            if isinstance(r[col], float):
                assert g[col] == pytest.approx(r[col], abs=1e-12), (col, r["ts_ns"], r["level_kind"])
            else:
                assert g[col] == r[col], (col, r["ts_ns"], r["level_kind"])
        assert str(g["session_date"]) == r["date"]


def test_band_boundaries_on_the_tick_grid(runs):
    run = runs["winter"]
    pm_high = {e["ts_ns"]: e for e in run.build.gold() if e["level_kind_name"] == "PM_HIGH"}
    at = lambda clock: pm_high.get(bb.et(run.date, clock))  # noqa: E731
    # high exactly $0.10 below L: touch; close $0.125 below
    assert (at("10:00")["direction"], at("10:00")["distance"]) == ("UP", 0.125)
    assert at("10:01") is None  # high $0.125 below L
    # close exactly $0.25 below L: kept (inclusive), and the distance is exactly 0.25
    assert (at("10:02")["direction"], at("10:02")["distance"]) == ("UP", 0.25)
    assert at("10:03") is None  # $0.275
    # low exactly $0.10 above L
    assert (at("10:04")["direction"], at("10:04")["distance"]) == ("DOWN", 0.1)
    # close == L counts as DOWN
    assert (at("10:05")["direction"], at("10:05")["distance"]) == ("DOWN", 0.0)
    for e in pm_high.values():
        assert e["level_price"] == 601.0


@pytest.mark.parametrize("name", list(bb.SCENARIOS))
def test_event_ids_are_deterministic_hashes(runs, name):
    gold = runs[name].build.gold()
    ids = [e["event_id"] for e in gold]
    assert len(set(ids)) == len(ids)
    for e in gold:
        h = hashlib.md5(f"{e['date']}|{e['ts_ns']}|{e['level_kind']}|{e['direction']}".encode()).hexdigest()
        assert e["event_id"] == f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", e["event_id"])


@pytest.mark.parametrize("name", list(bb.SCENARIOS))
def test_gold_rows_ordered_by_time_then_kind(runs, name):
    keys = [(e["ts_ns"], e["level_kind"]) for e in runs[name].build.gold()]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
