"""Competing-risk labels (SPEC §6) and relative volume (SPEC §4) on the hand-built sessions: every
label equals the trade-scanning reference (the project's thresholds: label_threshold_unit 'atr', each
event's thresholds from its own ATR), and on a build with ``label_threshold_unit: dollars`` and
[1.0, 2.0] the planted paths give the hand-computed values (BREAK, BOUNCE, CHOP, same-timestamp ties,
UNDEFINED at the end of the session's tape)."""

from __future__ import annotations

import pytest

from . import bronze_builders as bb

LABEL_BASE = [
    "outcome",
    "excursion_max",
    "excursion_min",
    "strength_signed",
    "strength_abs",
    "time_to_threshold_1",
    "time_to_threshold_2",
    "time_to_break_1",
    "time_to_break_2",
    "time_to_bounce_1",
    "time_to_bounce_2",
    "tradeable_1",
    "tradeable_2",
    "confirm_ts_ns",
    "anchor_spot",
    "future_price",
]
LABEL_COLUMNS = (
    [c + s for s in ("_2min", "_4min", "_8min") for c in LABEL_BASE]
    + [c for c in LABEL_BASE if c != "future_price"]
    + ["future_price_5min"]
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return bb.hand_built_runs(tmp_path_factory)


DOLLARS = {"label_threshold_unit": "dollars", "label_thresholds": [1.0, 2.0]}


@pytest.fixture(scope="module")
def references(runs):
    return {name: bb.reference_events(r.tape, r.date, [r.date] + r.priors) for name, r in runs.items()}


@pytest.fixture(scope="module")
def dollars(runs, tmp_path_factory):
    """The winter day built again with the earlier pipeline's fixed thresholds ($1 / $2), which its
    planted paths are written for."""
    run = runs["winter"]
    base = tmp_path_factory.mktemp("winter-dollars")
    bronze = base / "bronze"
    run.tape.write(bronze)
    build = bb.build(run.date, bronze, base / "gold", base / "work", dbt_vars=DOLLARS)
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    return bb.ScenarioRun(run.tape, run.date, run.priors, build)


def _event(run: bb.ScenarioRun, clock: str, kind: str) -> dict:
    t0 = bb.et(run.date, clock)
    found = [e for e in run.build.gold() if e["ts_ns"] == t0 and e["level_kind_name"] == kind]
    assert len(found) == 1, (clock, kind)
    return found[0]


def _window(e: dict, suffix: str) -> dict:
    return {c: e[c + suffix] for c in LABEL_BASE}


def test_gold_has_the_label_columns(runs):
    gold = runs["winter"].build.gold()
    assert gold and all(c in gold[0] for c in LABEL_COLUMNS)
    assert len(LABEL_COLUMNS) == 64


@pytest.mark.parametrize("name", list(bb.SCENARIOS))
def test_labels_match_reference(runs, references, name):
    gold = runs[name].build.gold()
    ref = references[name]
    assert len(gold) == len(ref)
    assert bb.label_config()[0] == "atr"  # the project's default
    for g, r in zip(gold, ref):
        assert (g["ts_ns"], g["level_kind"]) == (r["ts_ns"], r["level_kind"])
        for col in LABEL_COLUMNS + ["label_threshold_1", "label_threshold_2"]:
            if isinstance(r[col], float) and g[col] is not None:
                assert g[col] == pytest.approx(r[col], abs=1e-9), (col, r["ts_ns"], r["level_kind_name"])
            else:
                assert g[col] == r[col], (col, r["ts_ns"], r["level_kind_name"])


@pytest.mark.slow
def test_planted_break(dollars):
    e = _event(dollars, "11:00", "PM_HIGH")
    assert (e["direction"], e["level_price"]) == ("UP", 601.0)
    w = _window(e, "_2min")
    assert w["outcome"] == "BREAK"
    assert (w["time_to_break_1"], w["time_to_break_2"]) == (45.0, 90.5)  # ns precision: 11:03:30.5
    assert (w["time_to_bounce_1"], w["time_to_bounce_2"]) == (None, None)
    assert (w["time_to_threshold_1"], w["time_to_threshold_2"], w["tradeable_1"], w["tradeable_2"]) == (
        45.0,
        90.5,
        1,
        1,
    )
    assert (w["excursion_max"], w["excursion_min"], w["strength_signed"], w["strength_abs"]) == (2.0, 0.0, 2.0, 2.0)
    assert w["anchor_spot"] == 601.0  # the print stamped exactly at t1 = 11:02:00
    assert w["future_price"] == 602.6  # the print stamped exactly at t1 + 480 s
    assert w["confirm_ts_ns"] == bb.et("2025-12-16", "11:02")


@pytest.mark.slow
def test_planted_bounce(dollars):
    e = _event(dollars, "12:00", "PM_LOW")
    assert (e["direction"], e["level_price"], e["distance"]) == ("DOWN", 599.0, pytest.approx(0.05))
    w = _window(e, "_2min")
    assert w["outcome"] == "BOUNCE"
    assert (w["time_to_bounce_1"], w["time_to_bounce_2"], w["time_to_break_1"], w["time_to_break_2"]) == (
        10.0,
        10.0,
        None,
        None,
    )
    assert (w["excursion_max"], w["excursion_min"], w["strength_signed"]) == (0.0, 2.0, -2.0)
    assert (w["anchor_spot"], w["future_price"]) == (599.1, 600.5)


@pytest.mark.slow
def test_planted_chop(dollars):
    e = _event(dollars, "13:00", "PM_LOW")
    for suffix in ("_2min", "_4min", "_8min"):
        w = _window(e, suffix)
        assert w["outcome"] == "CHOP"
        assert (w["tradeable_1"], w["tradeable_2"], w["time_to_threshold_1"]) == (0, 0, None)
        assert w["excursion_max"] == 0.0 and 0.1 <= w["excursion_min"] <= 0.5


@pytest.mark.slow
def test_same_timestamp_tie_goes_to_strength_sign(dollars):
    e = _event(dollars, "14:00", "PM_LOW")
    w = _window(e, "_2min")
    assert (w["time_to_break_2"], w["time_to_bounce_2"]) == (60.0, 60.0)
    assert (w["excursion_max"], w["excursion_min"], w["strength_signed"]) == (2.5, 2.0, 0.5)
    assert w["outcome"] == "BREAK"


@pytest.mark.slow
def test_same_timestamp_tie_with_equal_strength_is_chop(dollars):
    e = _event(dollars, "15:00", "PM_LOW")
    w = _window(e, "_2min")
    assert (w["time_to_break_2"], w["time_to_bounce_2"], w["tradeable_2"]) == (60.0, 60.0, 1)
    assert (w["excursion_max"], w["excursion_min"], w["strength_signed"]) == (2.0, 2.0, 0.0)
    assert w["outcome"] == "CHOP"


@pytest.mark.slow
def test_window_past_the_last_print_is_undefined(dollars):
    run = dollars
    e = _event(run, "15:44", "OR_HIGH")  # the session's last print is at 15:55:00
    assert _window(e, "_2min")["outcome"] == "CHOP"  # ends 15:54:00
    for suffix in ("_4min", "_8min"):  # end 15:56 / 16:00
        w = _window(e, suffix)
        assert w["outcome"] == "UNDEFINED"
        assert w["tradeable_1"] == w["tradeable_2"] == 0
        assert all(
            w[c] is None for c in LABEL_BASE if c not in ("outcome", "tradeable_1", "tradeable_2", "confirm_ts_ns")
        )
    assert e["confirm_ts_ns_8min"] == bb.et(run.date, "15:52")
    assert e["outcome"] == "UNDEFINED" and e["future_price_5min"] is None
    late = [g for g in run.build.gold() if g["ts_ns"] == bb.et(run.date, "15:44")]
    assert late and all(g["outcome_8min"] == "UNDEFINED" for g in late)


@pytest.mark.parametrize("name", list(bb.SCENARIOS))
def test_relative_volume_matches_reference(runs, name):
    run = runs[name]
    for e in run.build.gold():
        expected = bb.reference_rel_vol(run.tape, run.date, run.priors, e["available_ts_ns"])
        if expected is None:
            assert e["rel_vol_ratio"] is None, e["ts_ns"]
        else:
            assert e["rel_vol_ratio"] == pytest.approx(expected, rel=1e-12), e["ts_ns"]


def test_relative_volume_null_while_prior_sessions_had_no_volume(runs):
    run = runs["dst"]  # the prior session's RTH prints start at 12:00
    noon = bb.et(run.date, "12:00")
    gold = run.build.gold()
    assert all(e["rel_vol_ratio"] is None for e in gold if e["available_ts_ns"] <= noon)
    assert all(e["rel_vol_ratio"] > 0 for e in gold if e["available_ts_ns"] > noon)
    assert any(e["available_ts_ns"] <= noon for e in gold) and any(e["available_ts_ns"] > noon for e in gold)


@pytest.mark.slow
def test_dollars_reference_and_atr_thresholds(runs, dollars):
    """The dollars build equals the reference with $1 / $2; the default build's thresholds are the
    multipliers x the event's atr (exact integer comparison, so a price exactly at L + thr counts)."""
    run = dollars
    ref = bb.reference_events(run.tape, run.date, [run.date] + run.priors, bb.label_config(DOLLARS))
    gold = run.build.gold()
    assert len(gold) == len(ref) > 10
    for g, r in zip(gold, ref):
        for col in LABEL_COLUMNS + ["label_threshold_1", "label_threshold_2"]:
            if isinstance(r[col], float) and g[col] is not None:
                assert g[col] == pytest.approx(r[col], abs=1e-9), (col, r["ts_ns"])
            else:
                assert g[col] == r[col], (col, r["ts_ns"])
    _, multipliers = bb.label_config()
    for g in runs["winter"].build.gold():
        for k, m in enumerate(multipliers, start=1):
            assert g[f"label_threshold_{k}"] == pytest.approx(float(m) * g["atr"], rel=1e-12)
