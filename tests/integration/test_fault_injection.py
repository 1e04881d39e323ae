"""Fault injection on a generated week: no fault may publish wrong Gold with exit 0 (issue 13).

Every experiment runs on its own copy of the generated sessions (``generated_day``: 2025-12-11..16,
test scale; files are hard-linked into the copy and a fault always writes a new file, so the
original is never touched) and compares with the clean build of 2025-12-16. Each test plants the
kind of fault a finding of issue 13 describes:

1. warmup sessions validated like the run date (a negative-price hour, a size of -1,000,000, and
   a backfill whose later date reads the bad session as warmup);
2. completeness (a missing ES trades hour, a missing MBP-10 hour, a Spark-style nested folder);
3. option prints stamped outside the session are dropped and counted;
4. the warmup cache is keyed by content (equal size and mtime, different values);
5. first-cause errors (NaN price, non-positive price / size, corrupt pages behind a good footer,
   disk full, out of memory);
6. smaller ones (``ingest a garbage b``, ``BB_MEMORY_LIMIT=lots``, dates outside the calendar).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from breakbounce import bronze, calendar
from tests.environment import REAL_SAMPLES, require, require_real_samples

from .conftest import PROJECT_DIR, run_breakbounce

RUN, PRIOR = "2025-12-16", "2025-12-15"
HOUR_NS = bronze.NS_PER_HOUR
SAMPLES = REAL_SAMPLES / "raw_dbn" / "databento-python" / "GLBX.MDP3"


# --- the lab: a private copy of the generated week per experiment ----------------------------------


class Lab:
    def __init__(self, base: Path, src: Path, clean_gold: Path):
        self.base = base
        self.bronze = base / "bronze"
        shutil.copytree(src, self.bronze, copy_function=os.link)
        self.gold = base / "gold"
        self.clean_gold = clean_gold
        self.runs = 0

    def gold_file(self, date: str = RUN, gold: Path | None = None) -> Path:
        return (gold or self.gold) / "signals" / f"date={date}" / "signals.parquet"

    def seed_gold(self) -> bytes:
        """Put the clean Gold of RUN in place, as a previous good run left it; return its bytes."""
        target = self.gold_file()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.clean_gold, target)
        return target.read_bytes()

    def run(
        self, *extra: str, date: str = RUN, db: Path | None = None, gold: Path | None = None, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        self.runs += 1
        work = self.base / f"run{self.runs}"
        db = db or work / "w.duckdb"
        return run_breakbounce(
            "run",
            "--date",
            date,
            "--bronze",
            str(self.bronze),
            "--gold",
            str(gold or self.gold),
            "--db",
            str(db),
            "--target-path",
            str(work / "dbt"),
            *extra,
            env=env,
        )

    def es_file(self, date: str, hour: int) -> Path:
        return _one(bronze.FUTURES_TRADES.hour_dir(self.bronze, date, hour))

    def mbp_file(self, date: str, hour: int) -> Path:
        return _one(bronze.FUTURES_MBP10.hour_dir(self.bronze, date, hour))

    def option_file(self, date: str = RUN) -> Path:
        return _one(bronze.OPTION_TRADES.date_dir(self.bronze, date))


def _one(directory: Path) -> Path:
    files = sorted(directory.glob("*.parquet"))
    assert len(files) == 1, files
    return files[0]


def replace_parquet(path: Path, table: pa.Table, **kw) -> None:
    """Write ``table`` as a new file and rename it over ``path`` (never writes through a hard link)."""
    tmp = path.with_name(path.name + ".fault-tmp")
    pq.write_table(table, tmp, compression="zstd", **kw)
    os.replace(tmp, path)


def set_column(table: pa.Table, name: str, values) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type))


def utc_hour_ns(date: str, hour: int) -> int:
    """Start of the UTC hour partition ``date=<date>/hour=<hour>``, ns."""
    import numpy as np

    return int(np.datetime64(date, "ns").astype("int64")) + hour * HOUR_NS


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error:" in line]


@pytest.fixture
def lab(generated_day, tmp_path) -> Lab:
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    clean = generated_day.run.gold / "signals" / f"date={RUN}" / "signals.parquet"
    return Lab(tmp_path, generated_day.bronze, clean)


def gold_rows(path: Path) -> dict[str, dict]:
    return {r["event_id"]: r for r in pq.read_table(path).to_pylist()}


LABEL_PREFIXES = (
    "outcome",
    "excursion_",
    "strength_",
    "time_to_",
    "tradeable_",
    "confirm_ts_ns",
    "anchor_spot",
    "future_price",
    "label_threshold",
)


def is_label(column: str) -> bool:
    return column.startswith(LABEL_PREFIXES)


# --- 1. warmup sessions are input too ---------------------------------------------------------------


def test_warmup_hour_with_negative_prices_is_refused(lab):
    """Finding 1: every print of one prior-session hour at -5800 published Gold with exit 0."""
    before = lab.seed_gold()
    victim = lab.es_file(PRIOR, 16)
    t = pq.read_table(victim)
    replace_parquet(victim, set_column(t, "price", [-5800.0] * t.num_rows))
    proc = lab.run()
    assert proc.returncode == 2, proc.stderr[-3000:]
    first = error_lines(proc.stderr)[0]
    assert "price_positive" in first and PRIOR in first and f"warmup session of {RUN}" in first
    assert f"{t.num_rows} row(s)" in first and str(victim) in first
    samples = [line for line in proc.stderr.splitlines() if line.startswith("    ")]
    assert 1 <= len(samples) <= 5 and all("price=-5800" in s for s in samples)
    assert lab.gold_file().read_bytes() == before  # the good Gold is untouched


def test_warmup_print_with_negative_size_is_refused(lab):
    """Finding 1: one prior-session print of size -1,000,000 flipped that session's front month."""
    victim = lab.es_file(PRIOR, 18)
    t = pq.read_table(victim)
    sizes = t.column("size").to_pylist()
    sizes[7] = -1_000_000
    replace_parquet(victim, set_column(t, "size", sizes))
    proc = lab.run()
    assert proc.returncode == 2, proc.stderr[-3000:]
    first = error_lines(proc.stderr)[0]
    assert "size_at_least_one" in first and "1 row(s)" in first and PRIOR in first and str(victim) in first
    assert not lab.gold_file().exists()


def test_backfill_never_publishes_a_date_whose_warmup_failed(lab):
    """Finding 1: the bad date failed its row rule, the next date said `ok` and replaced its Gold."""
    before = lab.seed_gold()
    victim = lab.es_file(PRIOR, 15)
    t = pq.read_table(victim)
    prices = t.column("price").to_pylist()
    prices[3] = -1.0
    replace_parquet(victim, set_column(t, "price", prices))
    proc = run_breakbounce(
        "backfill",
        "--dates",
        f"{PRIOR},{RUN}",
        "--bronze",
        str(lab.bronze),
        "--gold",
        str(lab.gold),
        "--work-dir",
        str(lab.base / "work"),
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()[1:3]}
    assert lines[PRIOR].split()[1] == "FAILED" and "price_positive" in lines[PRIOR]
    assert lines[RUN].split()[1] == "FAILED"
    assert f"{PRIOR} (a warmup session of {RUN})" in lines[RUN] and "price_positive" in lines[RUN]
    assert lab.gold_file().read_bytes() == before
    assert not lab.gold_file(PRIOR).exists()


# --- 2. completeness -------------------------------------------------------------------------------


def test_missing_es_trades_hour_is_an_error(lab):
    """Finding 2: deleting the run date's hour=15 gave 523 bars instead of 579, exit 0, no warning."""
    hour_dir = bronze.FUTURES_TRADES.hour_dir(lab.bronze, RUN, 15)
    shutil.rmtree(hour_dir)
    proc = lab.run()
    assert proc.returncode == 2, proc.stderr[-3000:]
    (line,) = error_lines(proc.stderr)
    assert "futures/trades/symbol=ES/date=2025-12-16/hour=15" in line and "--allow-gaps" in line
    assert not lab.gold_file().exists()


def test_missing_mbp10_hour_is_an_error(lab):
    """Finding 2: deleting an MBP-10 hour gave depth_in_zone = 0 and NEUTRAL (zeros, not NULL)."""
    shutil.rmtree(bronze.FUTURES_MBP10.hour_dir(lab.bronze, RUN, 15))
    proc = lab.run()
    assert proc.returncode == 2, proc.stderr[-3000:]
    (line,) = error_lines(proc.stderr)
    assert "futures/mbp10/symbol=ES/date=2025-12-16/hour=15" in line
    assert not lab.gold_file().exists()


def test_nested_folder_under_an_hour_is_refused(lab):
    """Finding 2: Spark's hour=15/out.parquet/part-00000.parquet was silently skipped."""
    victim = lab.es_file(RUN, 15)
    nested = victim.parent / "out.parquet" / "part-00000.parquet"
    nested.parent.mkdir()
    os.replace(victim, nested)
    proc = lab.run()
    assert proc.returncode == 2, proc.stderr[-3000:]
    first = error_lines(proc.stderr)[0]
    assert str(nested.parent) in first and "nested" in first
    assert not lab.gold_file().exists()


def _gold_metadata(path: Path) -> dict[str, str]:
    meta = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items()}


@pytest.mark.slow
def test_allow_gaps_over_a_missing_es_hour_nulls_what_overlaps_it(lab, generated_day):
    """--allow-gaps: warns, records the gap, drops touches of levels computed over it, NULLs (not
    zeros) the features whose window overlaps it, and leaves everything before it as it was."""
    shutil.rmtree(bronze.FUTURES_TRADES.hour_dir(lab.bronze, RUN, 15))
    proc = lab.run("--allow-gaps")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert any("warning" in l and "hour=15" in l for l in proc.stderr.splitlines())
    gap_start = utc_hour_ns(RUN, 15)
    gap_end = gap_start + HOUR_NS
    meta = _gold_metadata(lab.gold_file())
    gaps = json.loads(meta["breakbounce.gaps"])
    assert [(g["table"], g["start_ns"], g["end_ns"]) for g in gaps] == [("es_trades", gap_start, gap_end)]
    clean, got = gold_rows(lab.clean_gold), gold_rows(lab.gold_file())
    sess = calendar.session(RUN)
    before = [e for e, r in clean.items() if r["available_ts_ns"] <= gap_start]
    after = [e for e, r in got.items() if r["ts_ns"] >= gap_end]
    assert before and after
    for e in before:  # features before the gap are unchanged; labels too when their window ends before it
        for col, value in clean[e].items():
            if not is_label(col) or clean[e]["ts_ns"] + 960 * 10**9 < gap_start:
                assert got[e][col] == value, (e, col)
    for e in after:
        r = got[e]
        assert r["level_kind_name"] not in ("SESSION_HIGH", "SESSION_LOW", "VWAP"), r  # their level spans the gap
        for col in (
            "rel_vol_ratio",
            "prior_touches",
            "gamma_exposure",
            "fuel_effect",
            "option_basis",
            "confluence_count",
            "confluence_level",
            "net_break_pressure",
        ):
            assert r[col] is None, (col, r[col])
        # nothing after the gap reads it: the tape of the touch minute is as before
        if e in clean:
            assert r["tape_buy_vol"] == clean[e]["tape_buy_vol"] and r["spot"] == clean[e]["spot"]
    assert not [e for e, r in got.items() if gap_start <= r["ts_ns"] < gap_end]
    assert sess.rth_open_ns < gap_start
    # a real `dbt build` over the same gap (the plugin reads BB_ALLOW_GAPS) publishes the same Gold
    other = lab.base / "gold-dbt"
    proc = lab.run("--allow-gaps", "--engine", "dbt", gold=other)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert pq.read_table(lab.gold_file(gold=other)).equals(pq.read_table(lab.gold_file()))


def test_allow_gaps_over_a_missing_mbp10_hour_gives_null_barrier(lab):
    shutil.rmtree(bronze.FUTURES_MBP10.hour_dir(lab.bronze, RUN, 15))
    proc = lab.run("--allow-gaps")
    assert proc.returncode == 0, proc.stderr[-3000:]
    gap_start = utc_hour_ns(RUN, 15)
    gap_end = gap_start + HOUR_NS
    clean, got = gold_rows(lab.clean_gold), gold_rows(lab.gold_file())
    assert set(got) == set(clean)  # the book decides no level: every touch is still there
    barrier = (
        "barrier_state",
        "barrier_delta_liq",
        "barrier_replenishment_ratio",
        "depth_in_zone",
        "wall_ratio",
        "wall_ratio_log",
        "liquidity_pressure",
    )
    overlapping = [
        e for e, r in got.items() if r["available_ts_ns"] > gap_start and r["available_ts_ns"] - 1800 * 10**9 < gap_end
    ]
    assert overlapping
    for e, r in got.items():
        if e in overlapping:
            assert all(r[c] is None for c in barrier), r
        else:
            assert all(r[c] == clean[e][c] for c in barrier), r
        # a trend against the attempt cluster's first event is NULL when that event's book overlaps
        trend = r["barrier_delta_liq_trend"]
        assert trend is None or trend == clean[e]["barrier_delta_liq_trend"]
    assert sum(r["barrier_delta_liq_trend"] is None for r in got.values()) > len(overlapping)


# --- 3. every record type checked the same way --------------------------------------------------------


def test_option_prints_outside_the_session_are_dropped_and_counted(lab):
    """Finding 3: five option prints restamped to 1970 changed gamma_exposure on 114 events."""
    victim = lab.option_file()
    t = pq.read_table(victim)
    ts = t.column("ts_event_ns").to_pylist()
    picks = [100, 2000, 9000, 20000, 30000]
    for i in picks:
        ts[i] = 1_000_000_000 + i  # 1970
    replace_parquet(victim, set_column(t, "ts_event_ns", ts))
    proc = lab.run()
    assert proc.returncode == 0, proc.stderr[-3000:]
    con = duckdb.connect(str(lab.base / f"run{lab.runs}" / "w.duckdb"), read_only=True)
    drops = con.execute(
        "select rows from intermediate.int_quality__bronze_drops where table_name = "
        "'spy_option_trades' and reason = 'outside_session'"
    ).fetchall()
    con.close()
    assert drops == [(5,)]
    # the same Gold as Bronze without those prints at all
    keep = [i for i in range(t.num_rows) if i not in picks]
    replace_parquet(victim, t.take(pa.array(keep)))
    other = lab.base / "gold-without"
    proc2 = lab.run(gold=other)
    assert proc2.returncode == 0, proc2.stderr[-3000:]
    assert pq.read_table(lab.gold_file()).equals(pq.read_table(lab.gold_file(gold=other)))


@pytest.mark.parametrize("fault", ["nan_price", "zero_price", "zero_size"])
def test_non_finite_or_non_positive_values_are_refused_naming_rule_and_file(lab, fault):
    """Finding 5: a NaN price was a cast error without the file; a bad row said `1 failing row(s)`."""
    victim = lab.es_file(RUN, 17)
    t = pq.read_table(victim)
    column, value, rule = {
        "nan_price": ("price", float("nan"), "price_positive"),
        "zero_price": ("price", 0.0, "price_positive"),
        "zero_size": ("size", 0, "size_at_least_one"),
    }[fault]
    values = t.column(column).to_pylist()
    bad = [5, 40, 41, 300, 301, 302, 900]
    for i in bad:
        values[i] = value
    replace_parquet(victim, set_column(t, column, values))
    proc = lab.run()
    assert proc.returncode == 2, proc.stderr[-3000:]
    first = error_lines(proc.stderr)[0]
    assert rule in first and f"{len(bad)} row(s)" in first and RUN in first and str(victim) in first
    samples = [line for line in proc.stderr.splitlines() if line.startswith("    ")]
    assert len(samples) == 5
    assert "Conversion Error" not in proc.stderr


def _corrupt_pages(path: Path, column: str) -> None:
    """Scramble the data pages of ``column`` in row group 0, leaving the header and footer intact."""
    md = pq.ParquetFile(path).metadata
    names = [md.schema.column(i).path for i in range(md.num_columns)]
    chunk = md.row_group(0).column(names.index(column))
    data = bytearray(path.read_bytes())
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    for k in range(start, start + chunk.total_compressed_size):
        data[k] ^= 0x5A
    tmp = path.with_name(path.name + ".fault-tmp")
    tmp.write_bytes(bytes(data))
    os.replace(tmp, path)
    pq.read_schema(path)  # the footer still reads


@pytest.mark.parametrize("table,column", [("es_trades", "price"), ("es_mbp10", "bid_sz_3")])
def test_corrupt_pages_behind_a_good_footer_exit_2_naming_the_file(lab, table, column):
    """Finding 5: a good footer with corrupt pages failed mid-build with exit 1."""
    victim = lab.es_file(RUN, 16) if table == "es_trades" else lab.mbp_file(RUN, 16)
    _corrupt_pages(victim, column)
    proc = lab.run()
    assert proc.returncode == 2, proc.stderr[-3000:]
    first = error_lines(proc.stderr)[0]
    assert str(victim) in first and "corrupt" in first
    assert not lab.gold_file().exists()


# --- 4. the warmup cache is keyed by content ----------------------------------------------------------


def _write_padded(path: Path, table: pa.Table, size: int | None = None) -> int:
    """Write ``table`` to ``path`` with a key-value pad in the footer sized so the file has ``size``
    bytes (default: a 4 kB pad); return the size."""
    pad = 4096
    for _ in range(4):
        tmp = path.with_name(path.name + ".fault-tmp")
        with pq.ParquetWriter(tmp, table.schema, compression="zstd") as writer:
            writer.write_table(table)
            writer.add_key_value_metadata({"pad": "x" * pad})
        os.replace(tmp, path)
        if size is None or path.stat().st_size == size:
            return path.stat().st_size
        pad += size - path.stat().st_size
        assert pad > 0
    raise AssertionError("could not match the file size")


def test_warmup_cache_is_keyed_by_content_not_size_and_mtime(lab):
    """Finding 4: a rewrite with the same size and mtime, prices +100, was served from the cache."""
    victim = lab.es_file(PRIOR, 20)
    original = pq.read_table(victim)
    size = _write_padded(victim, original)
    mtime = victim.stat().st_mtime_ns
    db = lab.base / "kept" / "w.duckdb"
    proc = lab.run(db=db)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the same rows with prices +100 ES points, rewritten to the same size and modification time
    shifted = set_column(original, "price", pc.add(original.column("price"), 100.0))
    _write_padded(victim, shifted, size)
    os.utime(victim, ns=(mtime, mtime))
    assert (victim.stat().st_size, victim.stat().st_mtime_ns) == (size, mtime)
    proc = lab.run(db=db)
    assert proc.returncode == 0, proc.stderr[-3000:]
    fresh = lab.base / "gold-fresh"
    proc = lab.run(gold=fresh)
    assert proc.returncode == 0, proc.stderr[-3000:]
    kept, new = pq.read_table(lab.gold_file()), pq.read_table(lab.gold_file(gold=fresh))
    assert not new.equals(pq.read_table(lab.clean_gold))  # the change matters to Gold
    assert kept.equals(new)


# --- 5. first causes ---------------------------------------------------------------------------------


def _mount_small_tmpfs_command(mountpoint: Path, size: str) -> list[str] | None:
    """A command prefix that runs its argument with a private tmpfs of ``size`` at ``mountpoint``:
    an unprivileged user + mount namespace when the kernel allows one, else nothing (skip)."""
    probe = subprocess.run(
        [
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            f"mount -t tmpfs -o size=1m tmpfs {mountpoint}",
        ],
        capture_output=True,
    )
    if probe.returncode != 0:
        return None
    return [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        f'mount -t tmpfs -o size={size} tmpfs "{mountpoint}" && exec "$@"',
        "sh",
    ]


def test_disk_full_names_the_first_cause(lab):
    """Finding 5: a full warehouse disk said `cannot rollback - no transaction is active`."""
    disk = lab.base / "small-disk"
    disk.mkdir()
    prefix = _mount_small_tmpfs_command(disk, "6m")
    require(
        prefix is not None and shutil.which("unshare") is not None,
        "an unprivileged mount namespace (unshare) to make a small disk in",
    )
    # compile the graph first, outside the small disk (the compile cache lives in the project)
    cmd = prefix + [
        sys.executable,
        "-m",
        "breakbounce",
        "run",
        "--date",
        RUN,
        "--bronze",
        str(lab.bronze),
        "--gold",
        str(lab.gold),
        "--db",
        str(disk / "w.duckdb"),
        "--target-path",
        str(lab.base / "dbt"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT_DIR)
    assert proc.returncode == 1, proc.stderr[-3000:]
    (line,) = [l for l in proc.stderr.splitlines() if l.startswith("breakbounce run") and "error:" in l]
    assert "No space left on device" in line and "disk" in line
    assert "cannot rollback" not in line
    assert not lab.gold_file().exists()


def test_out_of_memory_names_the_first_cause(lab):
    proc = lab.run(env={"BB_MEMORY_LIMIT": "12MB"})
    assert proc.returncode == 1, proc.stderr[-3000:]
    lines = [l for l in proc.stderr.splitlines() if l.startswith("breakbounce run") and "error:" in l]
    assert len(lines) == 1, proc.stderr[-3000:]
    assert "out of memory" in lines[0].lower() and "BB_MEMORY_LIMIT=12MB" in lines[0]
    assert not lab.gold_file().exists()


# --- 6. smaller ones -----------------------------------------------------------------------------------


def test_memory_limit_that_is_not_a_size_names_the_variable(lab):
    proc = lab.run(env={"BB_MEMORY_LIMIT": "lots"})
    assert proc.returncode == 2, proc.stderr[-3000:]
    (line,) = error_lines(proc.stderr)
    assert "BB_MEMORY_LIMIT" in line and "'lots'" in line


@pytest.mark.parametrize("date", ["1999-12-31", "2036-01-02"])
def test_dates_outside_the_calendar_say_so(lab, date):
    proc = lab.run(date=date)
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert "outside the calendar" in line and "2000-01-03" in line and "2035-12-31" in line
    assert "not an NYSE trading session" not in line
    proc = run_breakbounce("backfill", "--dates", date, "--bronze", str(lab.bronze), "--dry-run")
    assert "outside the calendar" in proc.stderr


def test_ingest_says_which_files_were_skipped_after_a_bad_one(tmp_path):
    require_real_samples()
    good_a, good_b = tmp_path / "a.trades.dbn.zst", tmp_path / "b.trades.dbn.zst"
    shutil.copyfile(SAMPLES / "test_data.trades.dbn.zst", good_a)
    shutil.copyfile(SAMPLES / "test_data.trades.dbn.zst", good_b)
    garbage = tmp_path / "garbage.dbn"
    garbage.write_bytes(b"this is not a DBN file")
    proc = run_breakbounce(
        "ingest", "--schema", "trades", "--bronze", str(tmp_path / "bronze"), str(good_a), str(garbage), str(good_b)
    )
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert str(garbage) in line
    assert f"not ingested: {good_b}" in proc.stderr
    assert str(good_a) in proc.stdout  # the file before the bad one was ingested and reported
