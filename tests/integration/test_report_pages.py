"""`breakbounce report` pages on generated sessions, rendered in headless Chromium: no console
errors, no network request, one event marker per Gold row; the scratch build leaves the user's
warehouse and Gold alone; the health page's numbers are the Gold files' rows."""

from __future__ import annotations

import json
import os
import shutil

import pyarrow.parquet as pq
import pytest

from breakbounce.report.browser import Browser, count_markers, find_chromium
from tests.environment import require

from .conftest import run_breakbounce


@pytest.fixture(scope="module")
def browser():
    require(find_chromium() is not None, "Chromium (apt-get install chromium; scripts/setup.sh installs it)")
    with Browser(width=1500, height=1000) as b:
        yield b


def _gold_rows(gold_root, date) -> int:
    return pq.ParquetFile(gold_root / "signals" / f"date={date}" / "signals.parquet").metadata.num_rows


def _assert_clean(result) -> None:
    assert result.errors == [], result.errors
    # self-contained: the page itself, inline data: images, nothing else (no CDN, no fetch)
    assert all(u.startswith(("file://", "data:")) for u in result.requests), result.requests


def _snapshot(path):
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(path.rglob("*")) if p.is_file()}


def test_session_page_from_the_warehouse(generated_day, tmp_path, browser):
    run = generated_day.run
    assert run.returncode == 0, run.stderr[-3000:]
    out = tmp_path / "session.html"
    db_before = os.stat(run.db).st_mtime_ns
    proc = run_breakbounce(
        "report",
        "--date",
        generated_day.date,
        "--bronze",
        str(generated_day.bronze),
        "--gold",
        str(run.gold),
        "--db",
        str(run.db),
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    rows = _gold_rows(run.gold, generated_day.date)
    assert proc.stdout.strip() == f"{generated_day.date}: {rows} events -> {out}"
    assert "scratch" not in proc.stderr  # the warehouse was built for this date: read, not rebuilt
    assert os.stat(run.db).st_mtime_ns == db_before
    text = out.read_text()
    assert "<script src" not in text and "cdn." not in text.split("</style>")[0]
    assert f"series from warehouse {run.db} (built for {generated_day.date})" in text
    result = browser.open(out, settle_s=1.0)
    _assert_clean(result)
    assert rows > 20
    assert count_markers(browser, "event") == rows
    # the generator's planted touches are overlaid, one marker each
    assert count_markers(browser, "planted") == len(generated_day.truth()["events"]) == 2
    # every level kind of the day has its step line, drawn as one SVG path each
    levels = browser.evaluate("""(() => { const gd = document.getElementById('session');
        return gd.data.filter(t => t.meta === 'level').map(t => t.name); })()""")
    kinds = set(
        pq.read_table(
            run.gold / "signals" / f"date={generated_day.date}" / "signals.parquet", columns=["level_kind_name"]
        )
        .column(0)
        .to_pylist()
    )
    assert kinds <= set(levels)
    # hover text of an event carries its features and labels
    hover = browser.evaluate("""(() => { const gd = document.getElementById('session');
        return gd.data.find(t => t.meta === 'event').text[0]; })()""")
    for key in ("barrier_state:", "tape_imbalance:", "gamma_exposure:", "outcome_8min:", "event_id:"):
        assert key in hover
    # without a Gold file the events are the build's own rows (the same ones), and the page says so
    proc = run_breakbounce(
        "report",
        "--date",
        generated_day.date,
        "--bronze",
        str(generated_day.bronze),
        "--gold",
        str(tmp_path / "no-gold"),
        "--db",
        str(run.db),
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert f"warning: no Gold file for {generated_day.date}" in proc.stderr
    _assert_clean(browser.open(out, settle_s=1.0))
    assert count_markers(browser, "event") == rows


def test_session_page_builds_a_scratch_copy_without_touching_the_users_files(generated_day, tmp_path, browser):
    run = generated_day.run
    gold = tmp_path / "gold"
    shutil.copytree(run.gold, gold)
    # no warehouse for this date (named like the fixture's: the fast engine's compiled graph is reused)
    other_db = tmp_path / "warehouse" / "warehouse.duckdb"
    before = _snapshot(gold)
    out = tmp_path / "session.html"
    proc = run_breakbounce(
        "report",
        "--date",
        generated_day.date,
        "--bronze",
        str(generated_day.bronze),
        "--gold",
        str(gold),
        "--db",
        str(other_db),
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "scratch warehouse" in proc.stderr and "warning" not in proc.stderr  # same event ids as Gold
    assert _snapshot(gold) == before and not other_db.parent.exists()
    result = browser.open(out, settle_s=1.0)
    _assert_clean(result)
    assert count_markers(browser, "event") == _gold_rows(gold, generated_day.date)


def test_report_errors_are_one_line(generated_day, tmp_path):
    proc = run_breakbounce(
        "report", "--date", "2025-12-13", "--gold", str(tmp_path), "--db", str(tmp_path / "x.duckdb")
    )
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "breakbounce report: error: 2025-12-13 is not an NYSE trading session (see seeds/trading_calendar.csv)"
    )
    proc = run_breakbounce(
        "report",
        "--date",
        "2025-12-15",
        "--bronze",
        str(tmp_path / "none"),
        "--gold",
        str(tmp_path),
        "--db",
        str(tmp_path / "x.duckdb"),
    )
    assert proc.returncode == 2 and "there is no Bronze at" in proc.stderr and len(proc.stderr.splitlines()) == 1
    proc = run_breakbounce(
        "report",
        "--date",
        "2025-12-10",
        "--bronze",
        str(generated_day.bronze),
        "--gold",
        str(tmp_path),
        "--db",
        str(tmp_path / "x.duckdb"),
        "--out",
        str(tmp_path / "r.html"),
    )
    assert proc.returncode == 2 and "cannot build 2025-12-10 for the report" in proc.stderr
    assert not (tmp_path / "r.html").exists()
    proc = run_breakbounce("report", "--start-date", "2025-12-15")
    assert proc.returncode == 2 and "--start-date needs --end-date" in proc.stderr
    proc = run_breakbounce("report", "--start-date", "2025-12-01", "--end-date", "2025-12-05", "--gold", str(tmp_path))
    assert proc.returncode == 2 and "no Gold files for 2025-12-01..2025-12-05" in proc.stderr


def test_health_page_of_generated_dates(generated_day, tmp_path, browser):
    gold = tmp_path / "gold"
    proc = run_breakbounce(
        "backfill",
        "--dates",
        "2025-12-12,2025-12-15",
        "--workers",
        "2",
        "--bronze",
        str(generated_day.bronze),
        "--gold",
        str(gold),
        "--work-dir",
        str(tmp_path / "work"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shutil.copytree(
        generated_day.run.gold / "signals" / f"date={generated_day.date}",
        gold / "signals" / f"date={generated_day.date}",
    )
    out = tmp_path / "health.html"
    proc = run_breakbounce(
        "report", "--start-date", "2025-12-11", "--end-date", "2025-12-16", "--gold", str(gold), "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    rows = {d: _gold_rows(gold, d) for d in ("2025-12-12", "2025-12-15", generated_day.date)}
    h = json.loads(out.with_suffix(".json").read_text())
    assert h["events_per_date"] == rows and h["events"] == sum(rows.values())
    assert h["sessions_without_gold"] == ["2025-12-11"]
    assert {d: sum(v.values()) for d, v in h["balance"]["by_date"].items()} == rows
    assert f"3 Gold dates, {sum(rows.values())} events; 1 session(s) without Gold" in proc.stdout
    result = browser.open(out, settle_s=1.0)
    _assert_clean(result)
    # the per-date bars stack to each date's number of Gold rows
    totals = browser.evaluate("""(() => { const gd = document.getElementById('balance'); const t = {};
        gd.data.forEach(tr => tr.x.forEach((d, i) => { t[d] = (t[d] || 0) + tr.y[i]; })); return t; })()""")
    assert totals == rows
    assert browser.evaluate("document.querySelectorAll('.js-plotly-plot').length") >= 3
