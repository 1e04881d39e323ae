"""`breakbounce ingest` mapping rules on small DBN files generated in the tests.

The files are real DBN (``databento_dbn.Metadata.encode()`` + packed records, see
``breakbounce.ingest.dbn_writer``), built record by record so every edge case is explicit:
sides, UNDEF prices and timestamps, snapshot flags, hour/date partitions, multi-chunk streaming,
symbology from metadata / in-stream mappings / definitions, product and underlying filters,
0DTE and the New York trading date (across a DST switch).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import databento_dbn as dbn
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from breakbounce import bronze
from breakbounce.ingest import IngestError, IngestOptions, dbn_writer, ingest
from breakbounce.ingest.mappers import new_york_day, occ_ticker

NS = 1_000_000_000
H = 3600 * NS
UNDEF_PRICE = dbn.UNDEF_PRICE
UNDEF_TS = dbn.UNDEF_TIMESTAMP
D1 = dt.date(2025, 12, 16)
T1 = int(dt.datetime(2025, 12, 16, tzinfo=dt.UTC).timestamp()) * NS  # 2025-12-16 00:00 UTC


def px(points: float) -> int:
    return int(round(points * 1e9))


def trades_file(path: Path, rows: list[dict], mappings=None, stype_in=dbn.SType.RAW_SYMBOL, extra=()) -> Path:
    a = dbn_writer.empty_records("trades", len(rows))
    for i, r in enumerate(rows):
        a[i]["publisher_id"] = r.get("publisher_id", 1)
        a[i]["instrument_id"] = r.get("iid", 100)
        a[i]["ts_event"] = r["ts"]
        a[i]["ts_recv"] = r.get("ts_recv", r["ts"] + 250_000)
        a[i]["price"] = r.get("price", px(6850.25))
        a[i]["size"] = r.get("size", 1)
        a[i]["action"] = b"T"
        a[i]["side"] = r.get("side", b"B")
        a[i]["flags"] = r.get("flags", 0)
        a[i]["sequence"] = r.get("seq", i + 1)
    if mappings is None:
        mappings = {"ESZ5": [(D1, D1 + dt.timedelta(days=1), 100)]}
    meta = dbn_writer.metadata("GLBX.MDP3", "trades", T1, mappings=mappings, stype_in=stype_in)
    dbn_writer.write_dbn(path, meta, [*extra, a])
    return path


def read_table(root: Path, sub: str) -> pa.Table:
    files = sorted((root / sub).rglob("*.parquet"))
    if not files:
        return pa.table({})
    table = pa.concat_tables([pq.read_table(f) for f in files])
    return table.sort_by([("ts_event_ns", "ascending"), ("seq", "ascending")])


def run(schema: str, src, out: Path, **kw):
    (report,) = list(ingest([src], IngestOptions(schema=schema, bronze_root=out, **kw)))
    return report


# ------------------------------------------------------------------------------------------ futures trades


def test_trade_fields_sides_undef_and_partitions(tmp_path):
    rows = [
        {"ts": T1 + 5 * NS, "side": b"B", "price": px(6850.25), "size": 3, "seq": 10},
        {"ts": T1 + 6 * NS, "side": b"A", "price": px(6850.0), "size": 1, "seq": 11},
        {"ts": T1 + 7 * NS, "side": b"N", "price": px(6850.5), "size": 2, "seq": 12, "ts_recv": UNDEF_TS},
        {"ts": T1 + 8 * NS, "side": b"B", "price": UNDEF_PRICE, "seq": 13},  # dropped, counted
        {"ts": T1 + H + 1, "side": b"A", "price": px(6849.75), "seq": 14},  # next hour
        {"ts": T1 - 1, "side": b"A", "price": px(6849.5), "seq": 9, "ts_recv": T1 + 100},  # previous UTC day
    ]
    src = trades_file(tmp_path / "t.dbn.zst", rows)
    report = run("trades", src, tmp_path / "b")
    assert report.records == 6 and report.stats.rows == 5
    assert report.stats.dropped == {"undefined trade price": 1}
    t = read_table(tmp_path / "b", "futures/trades")
    assert t.column("price").to_pylist() == [6849.5, 6850.25, 6850.0, 6850.5, 6849.75]
    assert t.column("aggressor").to_pylist() == [-1, 1, -1, 0, -1]
    assert t.column("size").to_pylist() == [1, 3, 1, 2, 1]
    assert t.column("seq").to_pylist() == [9, 10, 11, 12, 14]
    assert t.column("ts_recv_ns").to_pylist()[3] is None  # UNDEF ts_recv stays visible as NULL
    assert set(t.column("symbol").to_pylist()) == {"ESZ5"}
    parts = sorted(p.parent.relative_to(tmp_path / "b/futures/trades/symbol=ES").as_posix()
                   for p in (tmp_path / "b").rglob("*.parquet"))  # fmt: skip
    assert parts == ["date=2025-12-15/hour=23", "date=2025-12-16/hour=00", "date=2025-12-16/hour=01"]


def test_multi_chunk_streaming_equals_single_chunk(tmp_path):
    rows = [{"ts": T1 + k * 7 * 60 * NS, "seq": k, "side": b"AB"[k % 2 : k % 2 + 1]} for k in range(40)]
    src = trades_file(tmp_path / "t.dbn", rows)
    run("trades", src, tmp_path / "one")
    report = run("trades", src, tmp_path / "many", chunk_records=3)
    assert report.stats.rows == 40
    one, many = read_table(tmp_path / "one", "futures"), read_table(tmp_path / "many", "futures")
    assert one.equals(many)
    # 14 chunks, each written per hour it touches, names <prefix>-<chunk>
    names = sorted(p.name for p in (tmp_path / "many").rglob("*.parquet"))
    assert len(names) == len(report.written) and len(names) >= 14
    assert all(n.startswith(f"db-trades-{report.sha256[:16]}-") for n in names)


def test_symbol_from_definitions_when_file_has_no_symbology(tmp_path):
    rows = [{"ts": T1 + NS, "iid": 4242}]
    src = trades_file(tmp_path / "t.dbn", rows, mappings={}, stype_in=dbn.SType.INSTRUMENT_ID)
    with pytest.raises(IngestError) as err:
        run("trades", src, tmp_path / "b")
    msg = str(err.value)
    assert "instrument_id 4242" in msg and str(src) in msg and "--definitions" in msg
    assert not any((tmp_path / "b").rglob("*.parquet"))

    defs = future_definitions(tmp_path / "defs.dbn", {4242: "ESH6"})
    run("trades", src, tmp_path / "b", definitions=[defs])
    assert read_table(tmp_path / "b", "futures").column("symbol").to_pylist() == ["ESH6"]


def test_symbology_conflict_with_definitions_fails(tmp_path):
    src = trades_file(tmp_path / "t.dbn", [{"ts": T1 + NS, "iid": 100}])
    defs = future_definitions(tmp_path / "defs.dbn", {100: "ESH6"})
    with pytest.raises(IngestError, match="'ESZ5' in the file's symbology but 'ESH6'"):
        run("trades", src, tmp_path / "b", definitions=[defs])


def test_mapping_intervals_are_per_day(tmp_path):
    d2 = D1 + dt.timedelta(days=1)
    maps = {"ESZ5": [(D1, d2, 100)], "ESH6": [(d2, d2 + dt.timedelta(days=1), 100)]}
    rows = [{"ts": T1 + H, "iid": 100, "seq": 1}, {"ts": T1 + 25 * H, "iid": 100, "seq": 2}]
    run("trades", trades_file(tmp_path / "t.dbn", rows, mappings=maps), tmp_path / "b")
    assert read_table(tmp_path / "b", "futures").column("symbol").to_pylist() == ["ESZ5", "ESH6"]


def test_in_stream_symbol_mappings(tmp_path):
    raw = dbn.SType.RAW_SYMBOL
    mapping = dbn.SymbolMappingMsg(1, 777, T1, raw, "ES.FUT", raw, "ESH6", 0, UNDEF_TS)
    src = trades_file(tmp_path / "t.dbn", [{"ts": T1 + NS, "iid": 777}], mappings={}, extra=[mapping])
    run("trades", src, tmp_path / "b")
    assert read_table(tmp_path / "b", "futures").column("symbol").to_pylist() == ["ESH6"]


def test_spreads_and_other_products_are_dropped_and_counted(tmp_path):
    maps = {
        "ESZ5": [(D1, D1 + dt.timedelta(days=1), 1)],
        "ESZ5-ESH6": [(D1, D1 + dt.timedelta(days=1), 2)],
        "MESZ5": [(D1, D1 + dt.timedelta(days=1), 3)],
    }
    rows = [{"ts": T1 + k * NS, "iid": 1 + k % 3, "seq": k} for k in range(9)]
    report = run("trades", trades_file(tmp_path / "t.dbn", rows, mappings=maps), tmp_path / "b")
    assert report.stats.rows == 3
    assert report.stats.dropped == {"not an outright of the product": 6}
    assert report.stats.other_symbols == {"ESZ5-ESH6": 3, "MESZ5": 3}
    assert set(read_table(tmp_path / "b", "futures").column("symbol").to_pylist()) == {"ESZ5"}


def test_file_without_the_product_is_an_error(tmp_path):
    maps = {"NQZ5": [(D1, D1 + dt.timedelta(days=1), 100)]}
    src = trades_file(tmp_path / "t.dbn", [{"ts": T1 + NS}], mappings=maps)
    with pytest.raises(IngestError, match=r"no outright ES futures contracts \(found: NQZ5 \(1\)\)"):
        run("trades", src, tmp_path / "b")
    run("trades", src, tmp_path / "b", root="NQ")  # --root NQ ingests it, under symbol=NQ
    assert read_table(tmp_path / "b", "futures/trades/symbol=NQ").column("symbol").to_pylist() == ["NQZ5"]
    assert not (tmp_path / "b/futures/trades/symbol=ES").exists()


# ------------------------------------------------------------------------------------------------ MBP-10


def test_mbp10_levels_snapshot_flag_and_empty_levels(tmp_path):
    a = dbn_writer.empty_records("mbp-10", 2)
    a["publisher_id"] = 1
    a["instrument_id"] = 100
    a["ts_event"] = [T1 + NS, T1 + 2 * NS]
    a["ts_recv"] = a["ts_event"] + 1000
    a["flags"] = [dbn.F_LAST | dbn.F_SNAPSHOT, dbn.F_LAST]
    a["sequence"] = [5, 6]
    for i in range(10):
        a[f"bid_px_{i:02d}"] = px(6850 - 0.25 * i)
        a[f"ask_px_{i:02d}"] = px(6850.25 + 0.25 * i)
        a[f"bid_sz_{i:02d}"] = 10 + i
        a[f"ask_sz_{i:02d}"] = 20 + i
    a[1]["bid_px_09"] = UNDEF_PRICE
    a[1]["bid_sz_09"] = 0
    a[1]["ask_px_08"] = UNDEF_PRICE
    a[1]["ask_sz_08"] = 7  # inconsistent source: an empty level still reads as size 0 in Bronze
    meta = dbn_writer.metadata("GLBX.MDP3", "mbp-10", T1, mappings={"ESZ5": [(D1, D1 + dt.timedelta(days=1), 100)]})
    dbn_writer.write_dbn(tmp_path / "m.dbn.zst", meta, [a])
    run("mbp-10", tmp_path / "m.dbn.zst", tmp_path / "b")
    t = read_table(tmp_path / "b", "futures/mbp10")
    assert t.schema.equals(bronze.MBP10_SCHEMA)
    r0, r1 = t.to_pylist()
    assert (r0["is_snapshot"], r1["is_snapshot"]) == (True, False)
    assert (r0["bid_px_1"], r0["bid_sz_1"], r0["ask_px_1"], r0["ask_sz_1"]) == (6850.0, 10, 6850.25, 20)
    assert (r0["bid_px_10"], r0["bid_sz_10"], r0["ask_px_10"], r0["ask_sz_10"]) == (6847.75, 19, 6852.5, 29)
    assert (r1["bid_px_10"], r1["bid_sz_10"]) == (bronze.EMPTY_LEVEL_PRICE, 0)
    assert (r1["ask_px_9"], r1["ask_sz_9"]) == (bronze.EMPTY_LEVEL_PRICE, 0)
    assert r1["ask_px_10"] == 6852.5


# ------------------------------------------------------------------------------------------------ options

SPY_DAY = dt.date(2025, 3, 5)


def ns_at(y, m, d, hh, mm=0) -> int:
    return int(dt.datetime(y, m, d, hh, mm, tzinfo=dt.UTC).timestamp()) * NS


def option_definition(iid, raw, klass, strike, expiry: dt.date, underlying, ts) -> dbn.InstrumentDefMsg:
    exp_ns = ns_at(expiry.year, expiry.month, expiry.day, 0)
    return dbn.InstrumentDefMsg(
        30, iid, ts, ts, UNDEF_PRICE, UNDEF_PRICE, raw, underlying, "OPT", klass, dbn.SecurityUpdateAction.ADD,
        expiration=exp_ns, strike_price=px(strike), underlying=underlying,
    )  # fmt: skip


def future_definitions(path: Path, symbols: dict[int, str]) -> Path:
    recs = [
        dbn.InstrumentDefMsg(
            1,
            iid,
            T1,
            T1,
            px(0.25),
            px(0.01),
            raw,
            "ES",
            "FUT",
            dbn.InstrumentClass.FUTURE,
            dbn.SecurityUpdateAction.ADD,
        )  # fmt: skip
        for iid, raw in symbols.items()
    ]
    dbn_writer.write_dbn(path, dbn_writer.metadata("GLBX.MDP3", "definition", T1), recs)
    return path


def opra_files(tmp_path: Path, trades: list[dict], defs: list) -> tuple[Path, Path]:
    dpath = tmp_path / "opra.definition.dbn.zst"
    dbn_writer.write_dbn(dpath, dbn_writer.metadata("OPRA.PILLAR", "definition", defs[0].ts_recv), defs)
    a = dbn_writer.empty_records("trades", len(trades))
    for i, r in enumerate(trades):
        a[i]["publisher_id"] = r.get("publisher_id", 23)
        a[i]["instrument_id"] = r["iid"]
        a[i]["ts_event"] = r["ts"]
        a[i]["ts_recv"] = r["ts"] + 200_000
        a[i]["price"] = px(r.get("price", 1.25))
        a[i]["size"] = r.get("size", 1)
        a[i]["action"] = b"T"
        a[i]["side"] = r.get("side", b"N")
        a[i]["flags"] = 194
        a[i]["sequence"] = r.get("seq", i)
    tpath = tmp_path / "opra.trades.dbn.zst"
    dbn_writer.write_dbn(tpath, dbn_writer.metadata("OPRA.PILLAR", "trades", int(a["ts_event"].min())), [a])
    return tpath, dpath


def test_options_0dte_underlying_and_trading_date(tmp_path):
    C, P = dbn.InstrumentClass.CALL, dbn.InstrumentClass.PUT
    d0 = ns_at(2025, 3, 5, 11, 30)
    defs = [
        option_definition(1, "SPY   250305C00580000", C, 580.0, SPY_DAY, "SPY", d0),
        option_definition(2, "SPY   250305P00575500", P, 575.5, SPY_DAY, "SPY", d0),
        option_definition(3, "SPY   250306C00580000", C, 580.0, dt.date(2025, 3, 6), "SPY", d0),  # 1DTE
        option_definition(4, "QQQ   250305C00500000", C, 500.0, SPY_DAY, "QQQ", d0),  # other underlying
    ]
    trades = [
        {"iid": 1, "ts": ns_at(2025, 3, 5, 14, 31), "price": 2.5, "side": b"B", "size": 3},
        {"iid": 2, "ts": ns_at(2025, 3, 5, 15, 0), "price": 0.07, "side": b"A"},
        {"iid": 3, "ts": ns_at(2025, 3, 5, 15, 1)},
        {"iid": 4, "ts": ns_at(2025, 3, 5, 15, 2)},
        {"iid": 4, "ts": ns_at(2025, 3, 5, 15, 3)},
        # 00:30 UTC on 03-06 is 19:30 ET on 03-05: trading date 2025-03-05, still 0DTE
        {"iid": 1, "ts": ns_at(2025, 3, 6, 0, 30) - 0, "price": 0.01},
    ]
    # instrument ids are per day: the late trade's ts_recv is on 2025-03-06 (UTC), whose definitions
    # are absent, so it resolves through the single, unambiguous definition of id 1
    tpath, dpath = opra_files(tmp_path, trades, defs)
    report = run("opra-trades", tpath, tmp_path / "b", definitions=[dpath])
    assert report.stats.rows == 3
    assert report.stats.dropped == {"not 0DTE": 1, "other underlying": 2}
    assert report.stats.other_underlyings == {"QQQ": 2}
    assert report.stats.trading_dates == {"2025-03-05": 3}
    files = list((tmp_path / "b").rglob("*.parquet"))
    assert {f.parent.relative_to(tmp_path / "b").as_posix() for f in files} == {
        "options/trades/underlying=SPY/date=2025-03-05"
    }
    t = read_table(tmp_path / "b", "options")
    assert t.schema.equals(bronze.OPTION_TRADES_SCHEMA)
    rows = t.to_pylist()
    call, put = "O:SPY250305C00580000", "O:SPY250305P00575500"
    assert [r["option_symbol"] for r in rows] == [call, put, call]
    assert rows[0]["option_symbol"] == bronze.option_symbol("2025-03-05", "C", 580.0)
    assert [(r["strike"], r["right"], r["exp_date"]) for r in rows] == [
        (580.0, "C", "2025-03-05"), (575.5, "P", "2025-03-05"), (580.0, "C", "2025-03-05")]  # fmt: skip
    assert [r["aggressor"] for r in rows] == [1, -1, 0]
    assert [r["price"] for r in rows] == [2.5, 0.07, 0.01]
    assert {r["underlying"] for r in rows} == {"SPY"}


def test_option_ids_reused_across_days(tmp_path):
    """OPRA reassigns ids daily: the same id resolves to the definition of the trade's own day."""
    C = dbn.InstrumentClass.CALL
    defs = [
        option_definition(9, "SPY   250305C00580000", C, 580.0, dt.date(2025, 3, 5), "SPY", ns_at(2025, 3, 5, 11)),
        option_definition(9, "SPY   250306C00590000", C, 590.0, dt.date(2025, 3, 6), "SPY", ns_at(2025, 3, 6, 11)),
    ]
    trades = [{"iid": 9, "ts": ns_at(2025, 3, 5, 15)}, {"iid": 9, "ts": ns_at(2025, 3, 6, 15)}]
    tpath, dpath = opra_files(tmp_path, trades, defs)
    report = run("opra-trades", tpath, tmp_path / "b", definitions=[dpath])
    assert report.stats.trading_dates == {"2025-03-05": 1, "2025-03-06": 1}
    t = read_table(tmp_path / "b", "options")
    assert t.column("option_symbol").to_pylist() == ["O:SPY250305C00580000", "O:SPY250306C00590000"]

    # a third day with no definition: the id is ambiguous, so it is reported, not guessed
    trades.append({"iid": 9, "ts": ns_at(2025, 3, 7, 15)})
    tpath, dpath = opra_files(tmp_path, trades, defs)
    with pytest.raises(IngestError, match="no definition for option instrument_id 9"):
        run("opra-trades", tpath, tmp_path / "c", definitions=[dpath])


def test_trading_date_across_dst_switch(tmp_path):
    """2025-03-09 is the DST start: 04:30 UTC on 03-10 is 00:30 EDT on 03-10 (not 23:30 EST 03-09)."""
    C = dbn.InstrumentClass.CALL
    exp = dt.date(2025, 3, 10)
    defs = [option_definition(5, "SPY   250310C00570000", C, 570.0, exp, "SPY", ns_at(2025, 3, 10, 0, 1))]
    tpath, dpath = opra_files(tmp_path, [{"iid": 5, "ts": ns_at(2025, 3, 10, 4, 30)}], defs)
    report = run("opra-trades", tpath, tmp_path / "b", definitions=[dpath])
    assert report.stats.trading_dates == {"2025-03-10": 1}
    day = new_york_day(np.array([ns_at(2025, 3, 10, 4, 30), ns_at(2025, 3, 9, 4, 30), ns_at(2025, 11, 3, 4, 30)]))
    assert [str(np.datetime64(int(d), "D")) for d in day] == ["2025-03-10", "2025-03-08", "2025-11-02"]


def test_occ_ticker():
    assert occ_ticker("SPY", 20152, "C", px(580.0)) == "O:SPY250305C00580000"
    assert occ_ticker("SPY", 20152, "P", px(0.5)) == "O:SPY250305P00000500"
    assert occ_ticker("AAPL", 20152, "C", px(1234.125)) == "O:AAPL250305C01234125"


def test_tiny_read_blocks_split_records_without_changing_the_output(tmp_path, monkeypatch):
    """Records straddling read blocks and chunk boundaries are reassembled exactly (streaming path)."""
    from breakbounce.ingest import dbn_reader

    rows = [{"ts": T1 + k * 11 * 60 * NS, "seq": k, "price": px(6850 + 0.25 * (k % 7))} for k in range(60)]
    src = trades_file(tmp_path / "t.dbn.zst", rows)
    run("trades", src, tmp_path / "ref")
    monkeypatch.setattr(dbn_reader, "READ_SIZE", 333)  # not a multiple of the 48-byte record
    report = run("trades", src, tmp_path / "small", chunk_records=7)
    assert report.records == 60
    assert read_table(tmp_path / "ref", "futures").equals(read_table(tmp_path / "small", "futures"))
