"""Synthetic Bronze generator: shared generated data (cached per test session), schema, partitions,
volumes, duplicates and determinism.

The other ``test_synth_*`` modules import ``generated`` / ``tables`` from here so each session is
generated once (scale=test, ~1 s each).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from breakbounce import bronze, calendar
from breakbounce.synth import generate_range, generate_session, truth_path

DATE = "2025-12-16"  # a Tuesday (regular session)
PREV = "2025-12-15"
SEED = 7

_TMP = Path(tempfile.mkdtemp(prefix="synth-tests-"))
atexit.register(shutil.rmtree, _TMP, True)


@functools.cache
def generated(date: str = DATE, seed: int = SEED, tag: str = "a", scenario_json: str | None = None) -> Path:
    """Bronze root holding one generated test-scale session (cached)."""
    out = _TMP / f"{tag}-{date}-{seed}-{hashlib.sha1((scenario_json or '').encode()).hexdigest()[:8]}"
    generate_session(date, out, seed=seed, scale="test", scenario=json.loads(scenario_json) if scenario_json else None)
    return out


@functools.cache
def generated_range(start: str, end: str, seed: int = SEED) -> Path:
    out = _TMP / f"range-{start}-{end}-{seed}"
    generate_range(start, end, out, seed=seed, scale="test")
    return out


def truth(root: Path, date: str = DATE) -> dict:
    return json.loads(truth_path(root, date).read_text())


def session_files(root: Path, date: str) -> dict[str, Path]:
    """Relative path -> file for everything one session writes (its UTC hours, options, truth)."""
    s = calendar.session(date)
    t_end = s.rth_close_ns + 15 * 60 * 10**9 if s.is_early_close else s.globex_close_ns
    out = {}
    for spec in (bronze.FUTURES_TRADES, bronze.FUTURES_MBP10):
        for h in range(s.globex_open_ns // bronze.NS_PER_HOUR, (t_end - 1) // bronze.NS_PER_HOUR + 1):
            d = bronze.utc_date_str(h * bronze.NS_PER_HOUR)
            for f in sorted(spec.hour_dir(root, d, h % 24).glob("*.parquet")):
                out[str(f.relative_to(root))] = f
    for f in sorted(bronze.OPTION_TRADES.date_dir(root, date).glob("*.parquet")):
        out[str(f.relative_to(root))] = f
    tp = truth_path(root, date)
    out[str(tp.relative_to(root))] = tp
    return out


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@functools.cache
def tables(root: Path, date: str = DATE) -> dict[str, pa.Table]:
    """The session's three tables read back with pyarrow (futures: the session's Globex span)."""
    s = calendar.session(date)
    out = {}
    for name, spec in (("trades", bronze.FUTURES_TRADES), ("mbp10", bronze.FUTURES_MBP10)):
        files = [f for k, f in session_files(root, date).items() if k.startswith(spec.subdir)]
        t = pa.concat_tables([pq.read_table(f, schema=spec.schema) for f in files])
        ts = t.column("ts_event_ns").to_numpy()
        t = t.filter(pa.array((ts >= s.globex_open_ns) & (ts < s.globex_close_ns)))
        out[name] = t.take(pa.array(np.lexsort((t.column("seq").to_numpy(), t.column("ts_event_ns").to_numpy()))))
    files = sorted(bronze.OPTION_TRADES.date_dir(root, date).glob("*.parquet"))
    t = pa.concat_tables([pq.read_table(f, schema=bronze.OPTION_TRADES_SCHEMA) for f in files])
    out["options"] = t.take(pa.array(np.lexsort((t.column("seq").to_numpy(), t.column("ts_event_ns").to_numpy()))))
    return out


def np_cols(t: pa.Table, names) -> dict[str, np.ndarray]:
    return {c: t.column(c).to_numpy(zero_copy_only=False) for c in names}


def distinct_rows(t: pa.Table) -> pa.Table:
    """Drop exact duplicate rows (adjacent after the (ts, seq) sort)."""
    if t.num_rows < 2:
        return t
    same = np.ones(t.num_rows - 1, dtype=bool)
    for c in t.column_names:
        col = t.column(c)
        if col.null_count == t.num_rows:
            continue  # all-null column
        if pa.types.is_string(col.type):
            a = col.combine_chunks().dictionary_encode().indices.to_numpy()
        else:
            a = col.to_numpy()
        same &= a[1:] == a[:-1]
    keep = np.concatenate([[True], ~same])
    return t.filter(pa.array(keep))


# ------------------------------------------------------------------------------------------------


def test_determinism_across_dirs_and_ranges():
    a = session_files(generated(tag="a"), DATE)
    b = session_files(generated(tag="b"), DATE)
    r = session_files(generated_range(PREV, DATE), DATE)
    assert len(a) > 40  # ~23 hourly files per futures table + options + truth
    assert a.keys() == b.keys() == r.keys()
    for k in a:
        assert sha(a[k]) == sha(b[k]) == sha(r[k]), k
    # the other session of the range is a different day
    assert truth(generated_range(PREV, DATE), PREV)["session_date"] == PREV


def test_schemas_and_partitions():
    root = generated()
    files = session_files(root, DATE)
    specs = {
        bronze.FUTURES_TRADES.subdir: bronze.FUTURES_TRADES,
        bronze.FUTURES_MBP10.subdir: bronze.FUTURES_MBP10,
        bronze.OPTION_TRADES.subdir: bronze.OPTION_TRADES,
    }
    seen = set()
    for rel, f in files.items():
        if rel.startswith("_truth"):
            continue
        spec = next(v for k, v in specs.items() if rel.startswith(k))
        seen.add(spec.name)
        pf = pq.ParquetFile(f)
        assert pf.schema_arrow.equals(spec.schema), rel
        assert pf.metadata.row_group(0).column(0).compression == "ZSTD"
        ts = pq.read_table(f, columns=["ts_event_ns", "seq"]).to_pydict()
        t = np.array(ts["ts_event_ns"])
        assert np.all(np.diff(t) >= 0), rel  # sorted by (ts_event_ns, seq)
        parts = dict(p.split("=", 1) for p in Path(rel).parts if "=" in p)
        if spec.hourly:
            hours = np.unique(t // bronze.NS_PER_HOUR)
            assert len(hours) == 1
            assert parts["date"] == bronze.utc_date_str(int(t[0])) and int(parts["hour"]) == int(hours[0] % 24)
            assert Path(rel).name == "synthetic.parquet"
        else:
            assert parts["date"] == DATE and Path(rel).name == f"trades_{DATE}.parquet"
    assert seen == {"futures_trades", "futures_mbp10", "option_trades"}


def test_volumes_in_band_for_test_scale():
    tr = truth(generated())
    rows = tr["rows"]
    assert 30_000 <= rows["futures_trades"] <= 45_000
    assert 200_000 <= rows["futures_mbp10"] <= 330_000
    assert 28_000 <= rows["option_trades"] <= 45_000
    t = tables(generated())
    assert t["trades"].num_rows == rows["futures_trades"]
    assert t["options"].num_rows == rows["option_trades"]
    # RTH carries most of the ES volume (ES trades 80-85 % in RTH on real days)
    c = np_cols(t["trades"], ["ts_event_ns", "size"])
    s = calendar.session(DATE)
    rth = (c["ts_event_ns"] >= s.rth_open_ns) & (c["ts_event_ns"] < s.rth_close_ns)
    assert 0.7 < c["size"][rth].sum() / c["size"].sum() < 0.92


def test_duplicates_and_back_month_exist_and_match_truth():
    root = generated()
    tr = truth(root)
    t = tables(root)
    for name, key in (("trades", "futures_trades"), ("mbp10", "futures_mbp10"), ("options", "option_trades")):
        n_dup = t[name].num_rows - distinct_rows(t[name]).num_rows
        assert n_dup == tr["duplicates"][key] > 0, name
    sym = t["trades"].column("symbol").to_numpy(zero_copy_only=False)
    assert set(sym) == {tr["front_symbol"], tr["back_symbol"]}
    back = sym == tr["back_symbol"]
    assert back.sum() == tr["back_month_rows"]["futures_trades"]
    assert 0.02 <= back.mean() <= 0.045
    px = t["trades"].column("price").to_numpy()
    assert np.median(px[back]) - np.median(px[~back]) == pytest.approx(tr["calendar_spread_es"], abs=15)
    bsym = t["mbp10"].column("symbol").to_numpy(zero_copy_only=False)
    assert (bsym == tr["back_symbol"]).sum() == tr["back_month_rows"]["futures_mbp10"] > 0
    # conditions are null; sources and exchange constant
    assert t["trades"].column("conditions").null_count == t["trades"].num_rows
    assert set(t["trades"].column("source").to_pylist()) == {"direct_feed"}
    assert set(t["trades"].column("exchange").to_pylist()) == {"CME"}
