"""Plain-numpy statistics shared by ``breakbounce report`` and ``breakbounce evaluate``.

One definition of each: the ROC AUC (Mann-Whitney, ties counted half), its spread under the null,
log loss, Brier score, and the population stability index used for drift.
"""

from __future__ import annotations

import math

import numpy as np


def average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x``, ties sharing their average rank."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    # first position of each run of equal values, and the run lengths
    starts = np.flatnonzero(np.concatenate([[True], xs[1:] != xs[:-1]]))
    lengths = np.diff(np.concatenate([starts, [len(xs)]]))
    run_rank = starts + (lengths + 1) / 2.0  # average of ranks starts+1 .. starts+length
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(run_rank, lengths)
    return ranks


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """P(score of a positive > score of a negative) + ½ P(tie); NaN scores and labels are dropped.

    NaN when either class is absent.
    """
    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(score, dtype=np.float64)
    keep = ~(np.isnan(y) | np.isnan(s))
    y, s = y[keep] > 0.5, s[keep]
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = average_ranks(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def auc_null_sd(n_pos: int, n_neg: int) -> float:
    """Standard deviation of the AUC of a score independent of the labels (Mann-Whitney U / n1 n0)."""
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return math.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg))


def log_loss(y: np.ndarray, p: np.ndarray, eps: float = 1e-15) -> float:
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)) ** 2))


def chi2_sf(x: float, dof: int) -> float:
    """P(X > x) for X ~ chi-square with an integer number of degrees of freedom (closed forms)."""
    if dof < 1:
        return float("nan")
    if x <= 0:
        return 1.0
    h = x / 2.0
    if dof % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, dof // 2):
            term *= h / i
            total += term
        return min(1.0, math.exp(-h) * total)
    total = math.erfc(math.sqrt(h))
    for i in range(1, (dof + 1) // 2):
        total += math.exp((i - 0.5) * math.log(h) - h - math.lgamma(i + 0.5))
    return min(1.0, total)


def _psi_counts(p_counts: np.ndarray, q_counts: np.ndarray) -> tuple[float, float]:
    """PSI of two count vectors over the same bins (bins empty on both sides dropped), and its p-value.

    Shares get half a pseudo-count per bin (so an empty bin is not a division by zero and small
    samples are not blown up). Under "same distribution", PSI x n_r n_s / (n_r + n_s) is
    asymptotically chi-square with (bins - 1) degrees of freedom (PSI is the symmetric KL divergence).
    """
    used = (p_counts + q_counts) > 0
    p_counts, q_counts = p_counts[used], q_counts[used]
    k = len(p_counts)
    n_r, n_s = p_counts.sum(), q_counts.sum()
    if n_r == 0 or n_s == 0:
        return float("nan"), float("nan")
    if k < 2:
        return 0.0, 1.0
    p = (p_counts + 0.5) / (n_r + 0.5 * k)
    q = (q_counts + 0.5) / (n_s + 0.5 * k)
    value = float(np.sum((q - p) * np.log(q / p)))
    return value, chi2_sf(value * n_r * n_s / (n_r + n_s), k - 1)


def psi_test(reference: np.ndarray, sample: np.ndarray, bins: int = 10) -> tuple[float, float]:
    """Population stability index of ``sample`` against ``reference``, and its p-value.

    Bins: the reference's deciles (``bins`` quantiles; repeated edges merged), plus one bin for NaN,
    so a change in the NULL share counts as drift. PSI = sum over bins of (q - p) ln(q / p), shares
    smoothed as in :func:`_psi_counts`. Rule of thumb: < 0.1 stable, 0.1-0.25 a shift, > 0.25 a large
    shift; the p-value says whether the samples are large enough for the value to mean anything
    (on 40 events of one unchanged distribution, PSI is ~0.3 on average). NaN when a side is empty.
    """
    ref = np.asarray(reference, dtype=np.float64)
    smp = np.asarray(sample, dtype=np.float64)
    if len(ref) == 0 or len(smp) == 0:
        return float("nan"), float("nan")
    finite = ref[~np.isnan(ref)]
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])) if len(finite) else np.array([])

    def counts(x: np.ndarray) -> np.ndarray:
        nan = np.isnan(x)
        c = np.bincount(np.searchsorted(edges, x[~nan], side="right"), minlength=len(edges) + 1)
        return np.append(c, nan.sum()).astype(np.float64)

    return _psi_counts(counts(ref), counts(smp))


def psi(reference: np.ndarray, sample: np.ndarray, bins: int = 10) -> float:
    return psi_test(reference, sample, bins)[0]


def psi_categorical_test(reference: list, sample: list) -> tuple[float, float]:
    """:func:`psi_test` over the categories of both sides (None is a category of its own)."""
    if not len(reference) or not len(sample):
        return float("nan"), float("nan")
    cats = sorted({str(v) for v in list(reference) + list(sample)})
    index = {c: i for i, c in enumerate(cats)}

    def counts(values) -> np.ndarray:
        return np.bincount([index[str(v)] for v in values], minlength=len(cats)).astype(np.float64)

    return _psi_counts(counts(reference), counts(sample))
