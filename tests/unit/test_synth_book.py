"""Synthetic MBP-10 book invariants and trade/book consistency."""

from __future__ import annotations

import functools

import numpy as np

from breakbounce import bronze, calendar

from .test_synth_data import DATE, distinct_rows, generated, np_cols, tables, truth

TICK = 0.25
PX = [f"{s}_px_{i}" for s in ("bid", "ask") for i in range(1, 11)]
SZ = [f"{s}_sz_{i}" for s in ("bid", "ask") for i in range(1, 11)]


@functools.lru_cache(maxsize=1)
def _front_book():
    root = generated()
    t = tables(root)["mbp10"]
    sym = t.column("symbol").to_numpy(zero_copy_only=False)
    t = t.filter(sym == truth(root)["front_symbol"])
    return np_cols(t, ["ts_event_ns", "ts_recv_ns", "seq", "is_snapshot"] + PX + SZ)


@functools.lru_cache(maxsize=1)
def _front_trades():
    root = generated()
    t = distinct_rows(tables(root)["trades"])
    sym = t.column("symbol").to_numpy(zero_copy_only=False)
    t = t.filter(sym == truth(root)["front_symbol"])
    return np_cols(t, ["ts_event_ns", "ts_recv_ns", "seq", "price", "size", "aggressor"])


def test_book_never_crossed_levels_monotone_on_grid_and_empty_levels_are_sentinels():
    b = _front_book()
    bid = np.stack([b[f"bid_px_{i}"] for i in range(1, 11)], axis=1)
    ask = np.stack([b[f"ask_px_{i}"] for i in range(1, 11)], axis=1)
    bsz = np.stack([b[f"bid_sz_{i}"] for i in range(1, 11)], axis=1)
    asz = np.stack([b[f"ask_sz_{i}"] for i in range(1, 11)], axis=1)
    assert not b["is_snapshot"].any()
    assert np.all(ask[:, 0] > bid[:, 0])
    for px, sz, sign in ((bid, bsz, -1), (ask, asz, 1)):
        empty = px == bronze.EMPTY_LEVEL_PRICE
        assert np.all(sz[empty] == 0) and np.all(sz[~empty] >= 1)
        assert empty.any()  # the book builds up after the Globex open
        assert not empty[:, 0].any()
        assert np.all(empty[:, :-1] <= empty[:, 1:])  # once empty, deeper levels are empty too
        v = ~empty
        assert np.all(np.abs(px[v] / TICK - np.rint(px[v] / TICK)) < 1e-9)
        step = np.diff(px, axis=1) * sign
        both = v[:, 1:]
        assert np.all(step[both] > 0)  # strictly monotone away from the touch
        assert np.all(np.abs(step[both] - TICK) < 1e-9)  # ES books are dense: one tick per level
    # 1-tick spread almost always in RTH, wider now and then overnight
    s = calendar.session(DATE)
    rth = (b["ts_event_ns"] >= s.rth_open_ns) & (b["ts_event_ns"] < s.rth_close_ns)
    spread = np.rint((ask[:, 0] - bid[:, 0]) / TICK)
    assert 0.95 <= np.mean(spread[rth] == 1) < 1.0
    assert 0.80 <= np.mean(spread[~rth] == 1) < np.mean(spread[rth] == 1)
    # sizes: RTH median per level ~40-120, smaller overnight, growing with depth
    assert 30 <= np.median(bsz[rth, 0]) <= 150
    assert np.median(bsz[~rth, 4]) < np.median(bsz[rth, 4])
    assert np.median(bsz[rth, 9]) > np.median(bsz[rth, 0])


def test_book_seq_and_timestamps():
    root = generated()
    t = distinct_rows(tables(root)["mbp10"])
    c = np_cols(t, ["ts_event_ns", "ts_recv_ns", "seq"])
    assert np.all(np.diff(c["seq"]) > 0)  # strictly increasing in (ts, seq) order over the session
    assert np.all(c["ts_recv_ns"] > c["ts_event_ns"])
    _, n_per_ts = np.unique(c["ts_event_ns"], return_counts=True)
    assert (n_per_ts > 1).sum() > 1000  # many records share a ts_event (told apart by seq)
    # >= 1 record per 250 ms bucket over RTH (the barrier physics downsamples to 250 ms)
    s = calendar.session(DATE)
    b = _front_book()
    ts = b["ts_event_ns"]
    rth = ts[(ts >= s.rth_open_ns) & (ts < s.rth_close_ns)]
    buckets = np.unique(rth // 250_000_000)
    assert len(buckets) == (s.rth_close_ns - s.rth_open_ns) // 250_000_000


def test_trades_on_grid_and_at_the_prevailing_touch():
    """Each front-month print is at the best ask (buy) / best bid (sell) of the last front-month book
    record strictly before it; the prints of a sweep (same ts, increasing seq) walk one tick per level
    away from that touch. Tolerance: exact (0 ticks) — the generator derives both from one touch path;
    book records caused by a trade share its ts and are therefore excluded by the strict '<'."""
    b = _front_book()
    t = _front_trades()
    px, side, ts = t["price"], t["aggressor"], t["ts_event_ns"]
    assert np.all(np.abs(px / TICK - np.rint(px / TICK)) < 1e-9)
    assert set(np.unique(side)) == {-1, 1}
    assert np.all(t["size"] >= 1) and np.all(t["ts_recv_ns"] > ts)
    assert np.all(np.diff(t["seq"]) > 0)
    i = np.searchsorted(b["ts_event_ns"], ts, side="left") - 1
    assert np.all(i >= 0)
    ask, bid = b["ask_px_1"][i], b["bid_px_1"][i]
    off = np.rint(np.where(side > 0, (px - ask) / TICK, (bid - px) / TICK)).astype(int)
    first = np.concatenate([[True], ts[1:] != ts[:-1]])
    assert np.all(off[first] == 0)
    # within one timestamp: same side, and the price moves 0 or 1 tick per print away from the touch
    same = ~first
    assert np.all(side[1:][same[1:]] == side[:-1][same[1:]])
    step = np.diff(off)[same[1:]]
    assert set(np.unique(step)) <= {0, 1}
    # sweeps exist: several prices at one timestamp (bar open/close ties resolved by seq)
    assert (step == 1).sum() >= 5


def test_sweep_moves_the_touch_and_sizes_follow_the_2013_pmf():
    b = _front_book()
    t = _front_trades()
    ts, px, side = t["ts_event_ns"], t["price"], t["aggressor"]
    last_of_ts = np.concatenate([ts[1:] != ts[:-1], [True]])
    first_of_ts = np.concatenate([[True], ts[1:] != ts[:-1]])
    multi = last_of_ts & ~first_of_ts
    sweep_end = np.flatnonzero(multi & (np.concatenate([[0], np.diff(px)]) != 0))
    assert len(sweep_end) > 0
    # the book after a buy sweep (last record at that ts) has its bid at the last sweep price
    j = np.searchsorted(b["ts_event_ns"], ts[sweep_end], side="right") - 1
    assert np.all(b["ts_event_ns"][j] == ts[sweep_end])
    after_bid, after_ask = b["bid_px_1"][j], b["ask_px_1"][j]
    buy = side[sweep_end] > 0
    assert np.all(np.where(buy, after_bid, after_ask) == px[sweep_end])
    sz = t["size"]
    assert 0.40 <= np.mean(sz == 1) <= 0.65 and np.median(sz) <= 2
    assert 2.0 <= sz.mean() <= 8.0


def test_prints_deplete_the_displayed_touch_queue():
    """A non-sweeping print of q lots is followed, at the same ts, by a book record whose touch queue
    on the hit side is q lots smaller (floored at 1 lot: the rest was cancelled or refilled)."""
    b = _front_book()
    t = _front_trades()
    ts, px, side, q = t["ts_event_ns"], t["price"], t["aggressor"], t["size"]
    first = np.concatenate([[True], ts[1:] != ts[:-1]])
    last = np.concatenate([ts[1:] != ts[:-1], [True]])
    single_price = first & last  # one print at this ts: no sweep, no multi-fill ambiguity
    i_after = np.searchsorted(b["ts_event_ns"], ts, side="right") - 1
    i_before = np.searchsorted(b["ts_event_ns"], ts, side="left") - 1
    sel = single_price & (i_after == i_before + 1)  # exactly one book record at the print's ts
    col = np.where(side > 0, 1, 0)
    before = np.where(col == 1, b["ask_sz_1"][i_before], b["bid_sz_1"][i_before])
    after = np.where(col == 1, b["ask_sz_1"][i_after], b["bid_sz_1"][i_after])
    same_px = np.where(col == 1, b["ask_px_1"][i_after] == px, b["bid_px_1"][i_after] == px)
    sel &= same_px
    assert sel.sum() > 500
    ok = (before[sel] - after[sel] == q[sel]) | (after[sel] == 1)
    assert ok.all()
