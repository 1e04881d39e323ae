"""The foundation on a generated day: the full `dbt build` (models and their dbt tests) passes, bars
match an independent pyarrow/numpy computation to the last bit, and staging's drop counts match what
the generator planted."""

from __future__ import annotations

import numpy as np

from . import reference


def test_full_build_and_dbt_tests_pass(generated_day):
    run = generated_day.run
    assert run.returncode == 0, run.stderr[-4000:]
    assert "ERROR=0" in run.stderr and "FAIL" not in run.stderr.split("Done.")[-1]
    assert (run.gold / "signals" / f"date={generated_day.date}" / "signals.parquet").exists()


def test_bars_on_generated_day_equal_reference(generated_day):
    run, date = generated_day.run, generated_day.date
    trades = reference.read_es_trades(generated_day.bronze, ["2025-12-15", date])
    tape = reference.front_month_tape(trades, date)
    # the generator's sweeps print several prices at one timestamp: ties must resolve by seq
    _, counts = np.unique(tape["ts_event_ns"], return_counts=True)
    assert (counts > 1).sum() > 100
    for width, model in ((60, "int_bars__es_1min"), (120, "int_bars__es_2min")):
        got = run.query(
            f"select bar_start_ns, open, high, low, close, volume, trade_count from intermediate.{model} "
            "where session_date = ? order by bar_start_ns",
            [date],
        )
        assert got == reference.bars(tape, width)
    got_atr = [
        r[0]
        for r in run.query(
            "select atr from intermediate.int_bars__es_1min where session_date = ? order by bar_start_ns", [date]
        )
    ]
    assert got_atr == reference.atr(tape)


def test_quality_counts_match_planted_defects(generated_day):
    run, date = generated_day.run, generated_day.date
    truth = generated_day.truth()
    drops = {
        (r[0], str(r[1]) if r[1] else None, r[2]): r[3]
        for r in run.query("select * from intermediate.int_quality__bronze_drops")
    }
    assert drops[("es_trades", date, "exact_duplicate")] == truth["duplicates"]["futures_trades"]
    assert drops[("es_trades", date, "other_contract")] == truth["back_month_rows"]["futures_trades"]
    assert drops[("spy_option_trades", date, "exact_duplicate")] == truth["duplicates"]["option_trades"]
    assert drops[("spy_option_trades", date, "read")] == truth["rows"]["option_trades"]
    assert 0 < drops[("es_mbp10", date, "exact_duplicate")] <= truth["duplicates"]["futures_mbp10"]
    assert drops[("es_mbp10", date, "crossed_book")] == 0  # the generator never writes a crossed book
    front = run.query(
        "select distinct contract from staging.stg_bronze__es_trades where session_date = ? and is_front_month", [date]
    )
    assert front == [(truth["front_symbol"],)]
