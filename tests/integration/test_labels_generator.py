"""The synthetic generator's planted events (``_truth/date=D/truth.json``) come out of the pipeline as
touches of the right level kind, direction and outcome, with the project's volatility-scaled thresholds.
(The truth's first-passage times are for the earlier $1 / $2 thresholds: test_scale_invariance checks
them on a ``dollars`` build of the same day.) Skipped while ``breakbounce generate`` does not exist yet."""

from __future__ import annotations

import json

import pytest

from . import bronze_builders as bb
from .conftest import run_breakbounce

START, END = "2025-12-15", "2025-12-16"


def _planted(truth: dict) -> list[dict]:
    """truth.json "events": level_kind, level_price_spy, t0_ns, direction, expected_outcome (a window ->
    outcome map such as {"2min": "BOUNCE", ...}) and optionally label_detail (window -> times in s)."""
    return truth["events"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    base = tmp_path_factory.mktemp("generated")
    proc = run_breakbounce(
        "generate",
        "--start-date",
        START,
        "--end-date",
        END,
        "--out",
        str(base / "bronze"),
        "--seed",
        "7",
        "--scale",
        "test",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = bb.build(END, base / "bronze", base / "gold", base / "work")
    assert run.returncode == 0, run.stderr[-3000:]
    truth = json.loads((base / "bronze" / "_truth" / f"date={END}" / "truth.json").read_text())
    return run, _planted(truth)


def test_planted_touches_appear_with_kind_direction_and_outcome(generated):
    run, planted = generated
    assert planted, "truth.json lists no planted events"
    gold = run.gold()
    for p in planted:
        hits = [e for e in gold if e["ts_ns"] == int(p["t0_ns"]) and e["level_kind_name"] == p["level_kind"]]
        assert len(hits) == 1, p["id"]
        e = hits[0]
        assert e["level_price"] == pytest.approx(float(p["level_price_spy"]), abs=1e-6), p["id"]
        assert e["direction"] == p["direction"], p["id"]
        expected = p["expected_outcome"]
        if isinstance(expected, str):
            expected = {"4min": expected}
        for window, outcome in expected.items():
            assert e[f"outcome_{window}"] == outcome, (p["id"], window)
        # the planted move (>= 21 ES points beyond L, the truth's bounce-side excursion or break-side
        # penetration) is several thresholds long: the labels do not hinge on the threshold
        move = p["max_excursion_es"] if p["expected_outcome"] == "BOUNCE" else p["max_penetration_es"]
        assert float(move) / 10 > 2 * e["label_threshold_2"], p["id"]
