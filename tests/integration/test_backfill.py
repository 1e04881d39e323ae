"""`breakbounce backfill`: dry run, dates as tasks on a local Dask cluster (or an existing one), one
failing date does not affect the others, a killed worker costs a retry and never a different Gold,
per-date result table, progress, non-zero exit."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time

import pytest

from breakbounce import bronze

from .conftest import PROJECT_DIR, SERIAL_DATES, run_breakbounce


def test_dry_run_lists_dates_and_skips(generated_day, tmp_path):
    proc = run_breakbounce(
        "backfill",
        "--start-date",
        "2025-12-10",
        "--end-date",
        "2025-12-16",
        "--bronze",
        str(generated_day.bronze),
        "--gold",
        str(tmp_path / "gold"),
        "--dry-run",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "would build 4 date(s) with 1 worker(s):",
        "  2025-12-11",
        "  2025-12-12",
        "  2025-12-15",
        "  2025-12-16",
    ]
    assert "skip 2025-12-10: no Bronze ES trades" in proc.stderr
    assert not (tmp_path / "gold").exists()


def test_bad_arguments_are_usage_errors(generated_day):
    proc = run_breakbounce("backfill", "--start-date", "2025-12-16", "--bronze", str(generated_day.bronze))
    assert proc.returncode == 2 and "--start-date needs --end-date" in proc.stderr
    proc = run_breakbounce("backfill", "--dates", "2025-12-15", "--workers", "0")
    assert proc.returncode == 2 and "must be a positive integer" in proc.stderr
    proc = run_breakbounce("backfill")
    assert proc.returncode == 2


def test_parallel_backfill_isolates_a_failing_date(generated_day, tmp_path):
    lake = tmp_path / "bronze"
    shutil.copytree(generated_day.bronze, lake)
    # an RTH file of the later date: 2025-12-16 cannot build, 2025-12-15 (which never reads it) can
    victim = sorted(bronze.FUTURES_TRADES.hour_dir(lake, "2025-12-16", 16).glob("*.parquet"))[0]
    victim.write_bytes(b"not parquet")
    gold = tmp_path / "gold"
    proc = run_breakbounce(
        "backfill",
        "--dates",
        "2025-12-16,2025-12-15,2025-12-13",
        "--workers",
        "2",
        "--bronze",
        str(lake),
        "--gold",
        str(gold),
        "--work-dir",
        str(tmp_path / "work"),
    )
    assert proc.returncode == 1
    table = proc.stdout.splitlines()
    assert table[0].split() == ["date", "status", "seconds", "detail"]
    rows = {line.split()[0]: line.split()[1] for line in table[1:3]}
    assert rows == {"2025-12-16": "FAILED", "2025-12-15": "ok"}
    assert str(victim) in table[2]
    assert table[-1] == "1 built, 1 failed, 1 skipped"
    assert "skip 2025-12-13: not a trading session" in proc.stderr
    assert (gold / "signals" / "date=2025-12-15" / "signals.parquet").exists()
    assert not (gold / "signals" / "date=2025-12-16").exists()


def _gold_bytes(root, date: str) -> bytes:
    return (root / "signals" / f"date={date}" / "signals.parquet").read_bytes()


def _table(stdout: str) -> dict[str, str]:
    return {line.split()[0]: line.split()[1] for line in stdout.splitlines()[1:-1]}


def test_a_worker_killed_mid_date_costs_a_retry_and_gold_is_byte_identical(generated_day, serial_gold, tmp_path):
    """SPEC §10: kill one worker process of the local cluster while it builds a date; every date is
    still built, by a retry, and each Gold file has the bytes of a serial build."""
    import psutil

    dates = [*SERIAL_DATES, generated_day.date]
    gold, work = tmp_path / "gold", tmp_path / "work"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "breakbounce",
            "backfill",
            "--dates",
            ",".join(dates),
            "--workers",
            "2",
            "--bronze",
            str(generated_day.bronze),
            "--gold",
            str(gold),
            "--work-dir",
            str(work),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
    )
    killed = None
    deadline = time.monotonic() + 120
    try:
        while killed is None and proc.poll() is None and time.monotonic() < deadline:
            for child in psutil.Process(proc.pid).children(recursive=True):
                try:
                    cmd = child.cmdline()
                    # a `breakbounce run` past its start-up (planning, validating or building)
                    if "run" in cmd and "--date" in cmd and time.time() - child.create_time() > 0.7:
                        worker = child.parent()
                        worker.kill()
                        killed = child, cmd[cmd.index("--date") + 1]
                        break
                except psutil.Error:
                    continue
            time.sleep(0.05)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert killed is not None, "no run to kill was seen"
    run, date = killed
    assert not run.is_running() or run.status() == psutil.STATUS_ZOMBIE  # it died with its worker
    assert proc.returncode == 0, err[-3000:] + out
    assert _table(out) == {d: "ok" for d in dates}
    assert out.splitlines()[-1] == "4 built, 0 failed, 0 skipped"
    for d in dates:
        assert _gold_bytes(gold, d) == _gold_bytes(serial_gold, d), d
        assert (work / "logs" / f"run-{d}.log").read_text().startswith(f"# breakbounce backfill: {d} on worker ")
    assert sorted(p.name for p in (gold / "signals" / f"date={date}").iterdir()) == ["signals.parquet"]
    # progress on stderr: the cluster, a start line per attempt, a line per date with the counts
    assert "backfill: 4 date(s) on a local Dask cluster of 2 worker(s)" in err
    assert re.search(rf"^start {date} on worker \S+ \(attempt 2: the worker of the last one was lost\)$", err, re.M), (
        err
    )
    for d in dates:
        assert re.search(rf"^start {d} on worker \S+$", err, re.M), err
        assert re.search(
            rf"^\[\d/4\] {d} ok in [\d.]+s on worker \S+; \d/4 done, 0 failed, \d running, ETA \d+:\d\d$", err, re.M
        ), err


def test_backfill_on_an_existing_cluster(generated_day, serial_gold, tmp_path, monkeypatch):
    """--scheduler: the dates run on a cluster started elsewhere; its workers keep their warehouses
    in $BB_WORKER_DIR (as set on the workers), the logs come back to --work-dir."""
    from distributed import LocalCluster

    monkeypatch.setenv("BB_WORKER_DIR", str(tmp_path / "on-the-workers"))
    gold, client_dir = tmp_path / "gold", tmp_path / "client"
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as dask_cluster:
        address = dask_cluster.scheduler_address
        proc = run_breakbounce(
            "backfill",
            "--dates",
            "2025-12-15",
            "--scheduler",
            address,
            "--bronze",
            str(generated_day.bronze),
            "--gold",
            str(gold),
            "--work-dir",
            str(client_dir),
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _table(proc.stdout) == {"2025-12-15": "ok"}
    assert _gold_bytes(gold, "2025-12-15") == _gold_bytes(serial_gold, "2025-12-15")
    assert f"backfill: 1 date(s) on the Dask cluster at {address}" in proc.stderr
    assert (tmp_path / "on-the-workers" / "worker-0" / "warehouse.duckdb").exists()
    assert (client_dir / "logs" / "run-2025-12-15.log").exists()
    assert not list(client_dir.glob("worker-*"))
    proc = run_breakbounce("backfill", "--dates", "2025-12-15", "--scheduler", address, "--workers", "2")
    assert proc.returncode == 2 and "with --scheduler the cluster's own workers build the dates" in proc.stderr
    proc = run_breakbounce(
        "backfill", "--dates", "2025-12-15", "--scheduler", address, "--bronze", str(generated_day.bronze), "--dry-run"
    )
    assert proc.returncode == 0 and proc.stdout.splitlines() == [
        f"would build 1 date(s) on the Dask cluster at {address}:",
        "  2025-12-15",
    ]
    # the cluster is gone: one line, exit 2
    proc = run_breakbounce(
        "backfill",
        "--dates",
        "2025-12-15",
        "--scheduler",
        address,
        "--bronze",
        str(generated_day.bronze),
        "--gold",
        str(gold),
        env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
    )
    assert proc.returncode == 2, proc.stderr
    assert f"breakbounce backfill: error: --scheduler {address}: cannot reach a Dask scheduler there" in proc.stderr


@pytest.mark.slow
def test_backfill_vars_reach_every_run(generated_day, serial_gold, tmp_path):
    """--vars: each date is built with them, as `run --vars` builds it (the fixed-dollar labels
    here: a Gold that differs from the default one, recorded in the file's label metadata)."""
    import pyarrow.parquet as pq

    label_vars = "{label_threshold_unit: dollars, label_thresholds: [1.0, 2.0]}"
    gold_backfill, gold_run = tmp_path / "gold-backfill", tmp_path / "gold-run"
    proc = run_breakbounce(
        "backfill",
        "--dates",
        "2025-12-15",
        "--bronze",
        str(generated_day.bronze),
        "--gold",
        str(gold_backfill),
        "--work-dir",
        str(tmp_path / "work"),
        "--vars",
        label_vars,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _table(proc.stdout) == {"2025-12-15": "ok"}
    run = run_breakbounce(
        "run",
        "--date",
        "2025-12-15",
        "--bronze",
        str(generated_day.bronze),
        "--gold",
        str(gold_run),
        "--db",
        str(tmp_path / "run.duckdb"),
        "--target-path",
        str(tmp_path / "run-dbt"),
        "--vars",
        label_vars,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert _gold_bytes(gold_backfill, "2025-12-15") == _gold_bytes(gold_run, "2025-12-15")
    assert _gold_bytes(gold_backfill, "2025-12-15") != _gold_bytes(serial_gold, "2025-12-15")
    path = gold_backfill / "signals" / "date=2025-12-15" / "signals.parquet"
    labels = json.loads(pq.read_metadata(path).metadata[b"breakbounce.labels"])
    assert labels["threshold_unit"] == "dollars" and labels["thresholds"] == [1.0, 2.0]
    thresholds = pq.read_table(path, columns=["label_threshold_1", "label_threshold_2"]).to_pydict()
    assert set(thresholds["label_threshold_1"]) == {1.0} and set(thresholds["label_threshold_2"]) == {2.0}
    # a run-shaping var that is not a whole number: one line, exit 2, before any cluster starts
    bad = run_breakbounce(
        "backfill", "--dates", "2025-12-15", "--bronze", str(generated_day.bronze), "--vars", "{sma_warmup_sessions: x}"
    )
    assert bad.returncode == 2 and "--vars:" in bad.stderr and "cluster" not in bad.stderr, bad.stderr
