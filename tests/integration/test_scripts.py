"""The scripts whose output the README quotes run as written and print what the data says.

``scripts/baseline_month.sh`` prints the README's baseline (report + evaluate on a generated month):
the README's two blocks must be its output, to the character. ``scripts/calibrate.py``'s table must
be the shares of the Gold it built; ``bench/bench.py`` and ``bench/bench_backfill.py`` must print every
figure the README's Performance section takes from them, with the row counts of the Bronze they made.
``scripts/report_screenshots.py`` must turn a report page into a PNG.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from breakbounce.report.browser import find_chromium
from tests.environment import PROJECT_DIR, require

pytestmark = pytest.mark.slow


def _run(cmd: list[str], env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=PROJECT_DIR, env={**os.environ, **(env or {})}, timeout=timeout
    )
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc


def _readme_output_block(command_prefix: str) -> str:
    """The body of the README's fenced block that starts with ``$ <command_prefix>`` (the prompt line dropped)."""
    readme = (PROJECT_DIR / "README.md").read_text()
    blocks = re.findall(r"```\n(\$ [^\n]*\n.*?)```", readme, flags=re.S)
    found = [b for b in blocks if b.startswith(f"$ {command_prefix}")]
    assert len(found) == 1, f"README: expected one block starting with '$ {command_prefix}', found {len(found)}"
    return found[0].split("\n", 1)[1]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_baseline_month_prints_the_readme_baseline(tmp_path):
    out = tmp_path / "month"
    reports = tmp_path / "reports"
    proc = _run(["bash", "scripts/baseline_month.sh"], env={"OUT": str(out), "REPORTS": str(reports)})
    for prefix in ("breakbounce report --start-date 2025-11-17", "breakbounce evaluate --start-date 2025-11-17"):
        block = _readme_output_block(prefix)
        assert block in proc.stdout, (
            f"the README's '{prefix}' block is not what ./scripts/baseline_month.sh prints now; "
            f"re-run it and paste its output.\n--- script stdout ---\n{proc.stdout}"
        )
    # what the script wrote: 21 Gold dates, both pages, the evaluation's numbers
    golds = sorted((out / "gold" / "signals").glob("date=*/signals.parquet"))
    assert [g.parent.name for g in golds][:1] == ["date=2025-11-17"] and len(golds) == 21
    n_events = duckdb.execute("select count(*) from read_parquet(?)", [[str(g) for g in golds]]).fetchall()[0][0]
    assert f"21 Gold dates, {n_events} events" in proc.stdout
    health = reports / "health-2025-11-17_2025-12-16.html"
    session = reports / "session-2025-12-16.html"
    assert health.exists() and health.with_suffix(".json").exists() and session.exists()
    assert (out / "evaluate.json").exists()

    # the README's screenshots are made from such pages by scripts/report_screenshots.py
    require(find_chromium() is not None, "Chromium (apt-get install chromium; scripts/setup.sh installs it)")
    png = tmp_path / "session.png"
    shot = _run([sys.executable, "scripts/report_screenshots.py", str(session), str(png)])
    assert shot.stdout.strip() == str(png)
    width, height = _png_size(png)
    assert width == 1500 and height >= 1000
    png2 = tmp_path / "health.png"
    _run([sys.executable, "scripts/report_screenshots.py", str(health), str(png2), "1200"])
    assert _png_size(png2) == (1500, 1200)


def test_calibrate_prints_the_shares_of_the_gold_it_built(tmp_path):
    cache = tmp_path / "cal"
    proc = _run([sys.executable, "scripts/calibrate.py", "--sessions", "2", "--scales", "test", "--cache", str(cache)])
    golds = sorted((cache / "build-test-seed7" / "gold" / "signals").glob("date=*/signals.parquet"))
    assert [g.parent.name for g in golds] == ["date=2025-10-10", "date=2025-10-13"]
    files = [str(g) for g in golds]
    con = duckdb.connect()
    n = con.execute("select count(*) from read_parquet(?)", [files]).fetchall()[0][0]
    assert n > 100
    assert f"| column | value | test % (n={n}) |" in proc.stdout

    printed = {}
    for col, value, share in re.findall(r"^\| (\w+) \| (\w+) \| ([\d.]+) \|$", proc.stdout, flags=re.M):
        printed[(col, value)] = float(share)
    columns = ["outcome_2min", "outcome_4min", "outcome_8min", "barrier_state", "fuel_effect", "gamma_bucket"]
    columns.append("sweep_detected")
    for col in columns:
        rows = con.execute(
            f"select coalesce(lower({col}::varchar), 'null'), count(*) from read_parquet(?) group by 1", [files]
        ).fetchall()
        mine = {v: round(100.0 * c / n, 1) for v, c in rows}
        theirs = {v.lower(): s for (c, v), s in printed.items() if c == col}
        assert theirs == mine, f"{col}: printed {theirs}, Gold says {mine}"
    assert re.search(r"^SPEC §14 targets: (all met|\d+ missed)$", proc.stdout, flags=re.M)


def _session_rows(bronze: Path, dataset: str) -> int:
    """Rows of the 2025-12-16 Globex session (18:00 ET the day before to 17:00 ET; UTC-dated partitions)."""
    et = ZoneInfo("America/New_York")
    lo = int(datetime(2025, 12, 15, 18, tzinfo=et).timestamp()) * 10**9
    hi = int(datetime(2025, 12, 16, 17, tzinfo=et).timestamp()) * 10**9
    files = sorted(
        str(p) for d in ("2025-12-15", "2025-12-16") for p in (bronze / dataset).glob(f"*/date={d}/**/*.parquet")
    )
    assert files, f"no Bronze under {bronze / dataset}"
    sql = "select count(*) from read_parquet(?, hive_partitioning = false) where ts_event_ns >= ? and ts_event_ns < ?"
    return duckdb.execute(sql, [files, lo, hi]).fetchall()[0][0]


def test_bench_prints_every_figure_of_the_performance_table(tmp_path):
    proc = _run([sys.executable, "bench/bench.py", "--scale", "test", "--repeat", "1", "--out", str(tmp_path)])
    bronze = tmp_path / "test" / "bronze"
    counts = {
        "futures_trades": _session_rows(bronze, "futures/trades"),
        "futures_mbp10": _session_rows(bronze, "futures/mbp10"),
        "option_trades": _session_rows(bronze, "options/trades"),
    }
    expected = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    assert f"run date 2025-12-16: {expected}" in proc.stdout
    wall = r"wall \d+\.\d\ds(?: \(min [\d.]+s, max [\d.]+s over \d+\))?, peak RSS \d+ MiB"
    for what in (
        r"first run after a project change \(dbt compiles the graph, empty warmup cache\)",
        r"new warehouse \(compiled graph cached, empty warmup cache\)",
        r"after 2025-12-15 in the same warehouse \(backfill steady state\)",
        r"new warehouse through dbt build \(--engine dbt, warm dbt parse\)",
    ):
        assert re.search(rf"^breakbounce run, {what}: {wall}$", proc.stdout, flags=re.M), what
    nodes = re.search(r"^node execution inside the last fast run: [\d.]+s, (\d+) nodes$", proc.stdout, flags=re.M)
    assert nodes and int(nodes.group(1)) > 50
    assert re.search(r"^slowest nodes \(last fast run\): int_book__snapshots_250ms [\d.]+s", proc.stdout, flags=re.M)
    gold = tmp_path / "test" / "gold" / "signals"
    assert (gold / "date=2025-12-15" / "signals.parquet").exists()
    assert (gold / "date=2025-12-16" / "signals.parquet").exists()


def test_bench_backfill_prints_every_figure_of_the_backfill_table(tmp_path):
    proc = _run([sys.executable, "bench/bench_backfill.py", "--scale", "test", "--dates", "2", "--out", str(tmp_path)])
    out = proc.stdout
    assert "dates: 2025-12-15..2025-12-16 (2 sessions, test scale)" in out
    for workers in (1, 2):
        assert re.search(rf"^backfill --workers {workers}: [\d.]+s wall for 2 dates", out, flags=re.M), workers
    assert re.search(r"^plain runs one after another: [\d.]+s for 2 dates", out, flags=re.M)
    assert re.search(r"^the Dask task .*against the plain run of the same date: median [+-][\d.]+s", out, flags=re.M)
    assert re.search(r"^local cluster of one worker: start [\d.]+s, stop [\d.]+s", out, flags=re.M)
