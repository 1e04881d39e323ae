"""purged_walk_forward: hand-computed folds, and no label overlap ever (random intervals)."""

from __future__ import annotations

import numpy as np
import pytest

from breakbounce.dataset import purged_walk_forward


def _folds(*args, **kw):
    return [(tr.tolist(), te.tolist()) for tr, te in purged_walk_forward(*args, **kw)]


def test_hand_computed_sizes_past():
    # 10 events at t = 0..9, each label interval [t, t + 2]; 2 folds -> 3 blocks of 4, 3, 3 events
    start = np.arange(10)
    end = start + 2
    folds = _folds(start, end, 2)
    # fold 1 tests events 4-6 (span [4, 8]): candidates 0-3, ends 2..5; 2 (end 4) and 3 (end 5) reach 4
    # fold 2 tests events 7-9 (span [7, 11]): candidates 0-6, ends 2..8; 5, 6 (ends 7, 8) are purged
    assert folds == [([0, 1], [4, 5, 6]), ([0, 1, 2, 3, 4], [7, 8, 9])]


def test_hand_computed_all_with_embargo():
    start = np.arange(10) * 10  # 0, 10, ..., 90
    end = start + 15  # each label reaches 1.5 events ahead
    # 3 folds -> 4 blocks of 3, 3, 2, 2 events: [0 1 2] [3 4 5] [6 7] [8 9]
    folds = _folds(start, end, 3, train="all", embargo_ns=20)
    # fold 1: test events 3,4,5 (span [30, 65]); before: 2 (end 35) overlaps -> 0,1 kept;
    #   after: 6 (start 60 <= 65) overlaps, 7 (start 70 in (65, 85]) embargoed, 8 (80) embargoed, 9 (90) kept
    assert folds[0] == ([0, 1, 9], [3, 4, 5])
    # fold 2: test 6,7 (span [60, 85]); before: 5 (end 65) overlaps, 4 (end 55) kept; after: 8 (80) overlaps,
    #   9 (90 <= 105) embargoed
    assert folds[1] == ([0, 1, 2, 3, 4], [6, 7])
    # fold 3: test 8,9 (span [80, 105]); 7 (end 85) overlaps; nothing after
    assert folds[2] == ([0, 1, 2, 3, 4, 5, 6], [8, 9])
    # the same folds walk-forward: nothing after the test fold, so the embargo removes nothing more
    assert _folds(start, end, 3, embargo_ns=20) == [
        ([0, 1], [3, 4, 5]),
        ([0, 1, 2, 3, 4], [6, 7]),
        ([0, 1, 2, 3, 4, 5, 6], [8, 9]),
    ]


def test_groups_are_never_cut_and_unsorted_input_keeps_indices():
    # 3 sessions of 3, 1 and 2 events, given out of time order
    start = np.array([205, 100, 300, 101, 102, 206])
    end = start + 1
    groups = np.array(["c", "a", "d", "a", "a", "c"])
    # blocks of whole groups: [a a a] [c c] [d] (3 groups, 2 folds -> 3 blocks of one group each)
    folds = _folds(start, end, 2, groups=groups)
    assert folds == [([1, 3, 4], [0, 5]), ([1, 3, 4, 0, 5], [2])]


def test_equal_start_times_across_a_block_boundary_are_purged():
    # 4 events at one time, block boundary between them: the training twins overlap the test span
    start = np.array([0, 0, 0, 0, 10, 10])
    end = start + 5
    folds = _folds(start, end, 1)  # 2 blocks of 3
    assert folds == [([], [3, 4, 5])]


def test_bad_arguments():
    with pytest.raises(ValueError):
        list(purged_walk_forward([0, 1], [1, 0], 1))
    with pytest.raises(ValueError):
        list(purged_walk_forward([0, 1], [1, 2], 2))  # 2 events cannot make 3 blocks
    with pytest.raises(ValueError):
        list(purged_walk_forward([0, 1, 2, 3], [1, 2, 3, 4], 1, groups=["a", "b", "a", "b"]))  # groups interleave


@pytest.mark.parametrize("seed", range(300))
def test_no_overlap_ever(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 120))
    start = np.sort(rng.integers(0, 10_000, n)) if seed % 2 else rng.integers(0, 10_000, n)
    end = start + rng.integers(0, 800, n)
    n_splits = int(rng.integers(1, min(7, n)))
    embargo = int(rng.integers(0, 500))
    mode = "all" if seed % 3 == 0 else "past"
    kw = {"embargo_ns": embargo, "train": mode}
    if seed % 5 == 0:  # sessions: contiguous groups in time
        groups = np.searchsorted(np.sort(rng.integers(0, 10_000, n_splits + 3)), start)
        if len(np.unique(groups)) < n_splits + 1:
            return
        kw["groups"] = groups
    folds = list(purged_walk_forward(start, end, n_splits, **kw))
    assert len(folds) == n_splits
    order = np.lexsort((np.arange(n), start))
    rank = np.empty(n, int)
    rank[order] = np.arange(n)
    tested = np.concatenate([te for _, te in folds])
    assert len(np.unique(tested)) == len(tested)  # each event tested at most once
    prev_last = -1
    for train, test in folds:
        assert len(test) > 0 and not set(train) & set(test)
        # time order: within each array, and fold after fold
        assert (np.diff(rank[train]) > 0).all() and (np.diff(rank[test]) > 0).all()
        assert rank[test].min() > prev_last
        prev_last = rank[test].max()
        lo, hi = start[test].min(), end[test].max()
        # no training label interval touches the test span, nor starts inside the embargo after it
        assert not ((start[train] <= hi) & (end[train] >= lo)).any()
        assert not ((start[train] > hi) & (start[train] <= hi + embargo)).any()
        # nothing was dropped that did not have to be
        cands = np.flatnonzero(rank < rank[test].min()) if mode == "past" else np.setdiff1d(np.arange(n), test)
        needed = ((start[cands] <= hi) & (end[cands] >= lo)) | ((start[cands] > hi) & (start[cands] <= hi + embargo))
        assert sorted(train.tolist()) == sorted(cands[~needed].tolist())
        if mode == "past":
            assert (rank[train] < rank[test].min()).all()
        if "groups" in kw:  # a group is never on both sides of a block edge
            assert not set(kw["groups"][test]) & set(kw["groups"][np.setdiff1d(np.arange(n), test)])
