"""breakbounce.metrics on hand-computed inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from breakbounce import metrics


def test_auc_hand_computed_with_ties():
    # positives 0.9, 0.5; negatives 0.5, 0.1: pairs (0.9>0.5) (0.9>0.1) (0.5=0.5 -> 1/2) (0.5>0.1) = 3.5 / 4
    assert metrics.auc([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1]) == pytest.approx(0.875)
    assert metrics.auc([1, 0], [0.0, 1.0]) == 0.0
    assert metrics.auc([1, 1, 0], [2.0, 2.0, 2.0]) == 0.5
    assert math.isnan(metrics.auc([1, 1], [0.1, 0.2]))
    # NaN scores are left out: only (0.9 vs 0.1) remains
    assert metrics.auc([1, 1, 0, 0], [0.9, np.nan, np.nan, 0.1]) == 1.0


def test_auc_matches_scikit_learn_on_random_data():
    from sklearn import metrics as sklearn_metrics  # installed with the ml extra (scripts/setup.sh)

    rng = np.random.default_rng(3)
    for _ in range(20):
        y = rng.integers(0, 2, 200)
        s = np.round(rng.normal(size=200) + y * 0.4, 1)  # rounding makes ties
        assert metrics.auc(y, s) == pytest.approx(sklearn_metrics.roc_auc_score(y, s), abs=1e-12)


def test_average_ranks():
    assert metrics.average_ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_auc_null_sd_and_losses():
    assert metrics.auc_null_sd(10, 10) == pytest.approx(math.sqrt(21 / 1200))
    assert metrics.log_loss([1, 0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert metrics.brier([1, 0], [0.75, 0.25]) == pytest.approx(0.0625)


def test_psi_hand_computed():
    ref = np.arange(100, dtype=float)  # deciles: 10 equal bins of 10
    assert metrics.psi(ref, ref) == pytest.approx(0.0)
    # everything in the top decile. Shares with half a pseudo-count per used bin (10 bins; the NULL
    # bin is empty on both sides and dropped): reference (10 + .5) / 105 each; sample 50.5 / 55 in
    # the top bin, .5 / 55 elsewhere
    p = 10.5 / 105
    q_top, q_rest = 50.5 / 55, 0.5 / 55
    want = (q_top - p) * math.log(q_top / p) + 9 * (q_rest - p) * math.log(q_rest / p)
    value, p_value = metrics.psi_test(ref, np.full(50, 99.0))
    assert value == pytest.approx(want)
    assert p_value == pytest.approx(metrics.chi2_sf(want * 100 * 50 / 150, 9)) and p_value < 1e-12
    # a NULL share appearing is drift too: 50 values spread like the reference, 50 NaN (11 bins)
    half = np.concatenate([np.arange(0, 100, 2, dtype=float), np.full(50, np.nan)])
    p_, p_nan = 10.5 / 105.5, 0.5 / 105.5
    q_, q_nan = 5.5 / 105.5, 50.5 / 105.5
    want = 10 * (q_ - p_) * math.log(q_ / p_) + (q_nan - p_nan) * math.log(q_nan / p_nan)
    assert metrics.psi(ref, half) == pytest.approx(want)
    p, q = 50.5 / 101, 0.5 / 101
    value, _ = metrics.psi_categorical_test(["a", "b"] * 50, ["a"] * 100)
    assert value == pytest.approx(
        (1 - 2 * q) * 0 + (100.5 / 101 - p) * math.log((100.5 / 101) / p) + (q - p) * math.log(q / p)
    )


def test_chi2_sf_closed_forms():
    assert metrics.chi2_sf(2.0, 2) == pytest.approx(math.exp(-1.0))  # dof 2: exp(-x/2)
    assert metrics.chi2_sf(1.0, 1) == pytest.approx(math.erfc(math.sqrt(0.5)))  # dof 1: P(|Z| > 1)
    from scipy import stats  # a dependency of scikit-learn

    for k in range(1, 15):
        for x in (0.3, 2.0, 9.0, 35.0):
            assert metrics.chi2_sf(x, k) == pytest.approx(stats.chi2.sf(x, k), rel=1e-10)


def test_psi_p_value_is_calibrated_on_unchanged_data():
    rng = np.random.default_rng(4)
    p = np.array([metrics.psi_test(rng.normal(size=400), rng.normal(size=100))[1] for _ in range(400)])
    assert 0.02 <= (p < 0.1).mean() <= 0.2  # ~10% under the null
    # ...while 40 unchanged events reach PSI 0.25 often, the test does not call it drift
    small = [metrics.psi_test(rng.normal(size=400), rng.normal(size=40)) for _ in range(200)]
    assert np.mean([v > 0.25 for v, _ in small]) > 0.2
    assert np.mean([v > 0.25 and pv < 0.001 for v, pv in small]) < 0.02
