"""Dataset health and the baseline evaluation on hand-made Gold with planted answers."""

from __future__ import annotations

import json
import math
from collections import Counter
from statistics import NormalDist

import numpy as np
import pytest

from breakbounce.dataset import load_gold
from tests.unit.gold_factory import gold_table, planted_month, write_gold

DATES = ["2025-12-01", "2025-12-02", "2025-12-03", "2025-12-04", "2025-12-05", "2025-12-08", "2025-12-09", "2025-12-10"]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted-gold")
    truth = planted_month(root, DATES, n=60, seed=11, signal=2.0)
    return root, truth


def test_health_finds_the_planted_facts(tmp_path):
    from breakbounce.report.health import compute_health, render, write_health_report

    rng = np.random.default_rng(5)
    counts = {}
    for d in DATES[:5]:
        n = 40
        outcome = rng.choice(["BREAK", "BOUNCE", "CHOP"], size=n).tolist()
        y = np.array([1.0 if o == "BREAK" else -1.0 if o == "BOUNCE" else 0 for o in outcome])
        values = {
            "outcome": outcome,
            "tape_imbalance": (rng.normal(size=n) + 2.0 * y).tolist(),  # separates strongly
            "wall_ratio": [1.0] * n,  # constant over the range
            "atr": (rng.normal(size=n) + (8.0 if d == "2025-12-03" else 0.0)).tolist(),  # one date shifted
            "gamma_exposure": [None] * n if d == "2025-12-04" else rng.normal(size=n).tolist(),  # NULL on one date
        }
        write_gold(tmp_path, d, gold_table(d, n, values, rng))
        counts[d] = Counter(outcome)
    g = load_gold(DATES[0], DATES[4], tmp_path)
    h = compute_health(g, DATES[0], "2025-12-05")
    # class balance = the planted outcomes
    assert h["balance"]["by_date"] == {d: dict(c) for d, c in counts.items()}
    assert h["balance"]["by_window"]["outcome"] == dict(sum(counts.values(), Counter()))
    assert h["sessions_without_gold"] == []
    # the constant column, and the NULL share of the column missing on one date
    # (the factory gives every event the same level kind, direction and states)
    assert set(h["constant_columns"]) == {
        "wall_ratio",
        "level_kind",
        "level_kind_name",
        "direction",
        "direction_sign",
        "barrier_state",
        "fuel_effect",
        "gamma_bucket",
    }
    col = {c["name"]: c for c in h["columns"]}
    assert col["gamma_exposure"]["null_share"] == pytest.approx(40 / 200)
    assert col["gamma_exposure"]["all_null_dates"] == ["2025-12-04"]
    assert col["symbol"]["constant"] and col["symbol"]["allowed"]
    # separation: the planted feature is first, with the AUC of two unit normals 4 apart (Phi(4 / sqrt 2))
    first = h["separation"]["numeric"][0]
    assert first["name"] == "tape_imbalance"
    assert first["auc"] == pytest.approx(NormalDist().cdf(4 / math.sqrt(2)), abs=0.02)
    assert first["dates"] == 5 and first["date_auc_sd"] < 0.05
    noise = {r["name"]: r for r in h["separation"]["numeric"]}["sma_200"]
    assert abs(noise["auc"] - 0.5) < 4 * noise["auc_null_sd"]
    # drift: atr on 2025-12-03, gamma_exposure (all NULL) on 2025-12-04; noise columns do not drift
    drift = {r["name"]: r for r in h["drift"]["features"]}
    assert drift["atr"]["drifts"] and drift["atr"]["max_date"] == "2025-12-03"
    assert drift["gamma_exposure"]["drifts"] and drift["gamma_exposure"]["max_date"] == "2025-12-04"
    assert not drift["sma_200"]["drifts"] and not drift["wall_ratio"]["drifts"]
    assert set(h["drift"]["drifting"]) == {"atr", "gamma_exposure", "tape_imbalance"} - (
        set() if drift["tape_imbalance"]["drifts"] else {"tape_imbalance"}
    )
    # the page and the JSON
    html_path, json_path, summary = write_health_report(
        DATES[0], DATES[4], str(tmp_path), str(tmp_path / "h.html"), str(tmp_path / "h.json")
    )
    assert "wall_ratio" in json.loads(open(json_path).read())["constant_columns"]
    page = open(html_path).read()
    assert "<script src" not in page and "wall_ratio" in page and "plotly" in page
    assert "constant columns: level_kind" in summary and "wall_ratio" in summary
    # a missing session is reported
    h2 = compute_health(load_gold(DATES[0], DATES[5], tmp_path), DATES[0], DATES[5])
    assert h2["sessions_without_gold"] == [DATES[5]]
    assert "1 trading session(s) in the range have no Gold file" in render(h2)


@pytest.mark.slow
def test_evaluate_finds_the_planted_signal_and_the_control_scores_chance(planted):
    from breakbounce.evaluate import evaluate

    root, truth = planted
    g = load_gold(DATES[0], DATES[-1], root, outcomes=("BREAK", "BOUNCE"))
    assert len(g) == sum(o in ("BREAK", "BOUNCE") for t in truth.values() for o in t)
    res = evaluate(g, n_splits=3, shuffles=2, seed=0)
    # 8 sessions in 4 blocks of 2; every fold trains on all earlier sessions (nothing to purge)
    assert [f["test_dates"] for f in res["folds"]] == [[DATES[2], DATES[3]], [DATES[4], DATES[5]], [DATES[6], DATES[7]]]
    assert [f["purged"] for f in res["folds"]] == [0, 0, 0]
    per_date = Counter(str(d) for d in g.table.column("session_date").to_pylist())
    assert [f["n_train"] for f in res["folds"]] == [sum(per_date[d] for d in DATES[:k]) for k in (2, 4, 6)]
    # the signal is in tape_imbalance: AUC of two unit normals 2 apart is Phi(2 / sqrt 2) = 0.92
    assert res["overall"]["auc"] > 0.85
    assert res["families"]["tape"]["auc"] > 0.85
    for fam in ("barrier", "confluence"):  # pure noise
        r = res["families"][fam]
        assert abs(r["auc"] - 0.5) < 4 * r["auc_null_sd"], (fam, r)
    c = res["control"]
    assert c["passed"] and all(abs(a - 0.5) < 3 * c["auc_null_sd"] for a in c["auc"])


def test_the_control_fails_when_labels_are_not_shuffled(planted, monkeypatch):
    """The control is a real check: a 'permutation' that keeps the labels scores like the model."""
    from breakbounce import evaluate as ev

    root, _ = planted
    g = load_gold(DATES[0], DATES[-1], root, outcomes=("BREAK", "BOUNCE"))

    class KeepOrder:
        def permutation(self, x):
            return np.asarray(x)

    monkeypatch.setattr(np.random, "default_rng", lambda seed=None: KeepOrder())
    res = ev.evaluate(g, n_splits=3, shuffles=1, seed=0, families=[])
    assert not res["control"]["passed"] and res["control"]["auc_mean"] > 0.85
