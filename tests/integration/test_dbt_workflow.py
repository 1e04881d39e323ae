"""The dbt workflow on its own (SPEC §10): `dbt run` then `dbt test` on a new warehouse with no other
step; `dbt run` names the Gold file it wrote, which is byte-identical to the fast engine's; `dbt test`
on tables built for another date refuses with one line instead of reporting false failures; a
warehouse held by another process is one line naming its PID, through dbt and `breakbounce run`."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import duckdb
import pytest

from .conftest import PROJECT_DIR, run_breakbounce


def _dbt(*args: str, env: dict, target) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "dbt.cli.main",
            *args,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_DIR,
    )


@pytest.mark.slow
def test_dbt_run_then_test_on_a_new_warehouse_then_refusals(generated_day, tmp_path):
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    date = generated_day.date
    db, gold, target = tmp_path / "new.duckdb", tmp_path / "gold", tmp_path / "dbt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BB_", "DBT_"))}
    env.update(BB_DUCKDB_PATH=str(db), BB_BRONZE=str(generated_day.bronze), BB_GOLD=str(gold))
    gold_file = gold / "signals" / f"date={date}" / "signals.parquet"

    run = _dbt("run", "--vars", f"{{date: {date}}}", env=env, target=target)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert f"breakbounce: published Gold {gold_file}" in run.stdout
    assert "loading seed trading_calendar" in run.stdout  # no `dbt seed` needed on a new warehouse
    fast_gold = generated_day.run.gold / "signals" / f"date={date}" / "signals.parquet"
    assert gold_file.read_bytes() == fast_gold.read_bytes()

    test = _dbt("test", "--vars", f"{{date: {date}}}", env=env, target=target)
    assert test.returncode == 0, test.stdout[-3000:]
    # every data test and the 2 project hooks pass
    summary = re.search(r"Done\. PASS=(\d+) WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=(\d+)", test.stdout)
    assert summary and summary[1] == summary[2], test.stdout[-2000:]
    data_tests = int(summary[1]) - 2
    assert data_tests >= 30

    # the warehouse holds `date`: testing another date is refused before any test runs, in one line
    other = _dbt("test", "--vars", "{date: 2025-12-15}", env=env, target=target)
    assert other.returncode == 1
    refusals = [line for line in other.stdout.splitlines() if "which was built for" in line]
    assert len(refusals) == 1
    assert (
        f"was built for {date}, not 2025-12-15" in refusals[0]
        and "dbt build --vars '{date: 2025-12-15}'" in refusals[0]
    )
    assert " FAIL " not in other.stdout and f"SKIP={data_tests}" in other.stdout

    # another process holds the warehouse (read-only is enough): one line naming it, both ways in
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}, read_only=True); "
            "print('ready', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        locked = _dbt("test", "--vars", "{date: 2025-12-15}", env=env, target=target)  # dbt's parse of the run above
        fast = run_breakbounce(
            "run",
            "--date",
            date,
            "--bronze",
            str(generated_day.bronze),
            "--gold",
            str(gold),
            "--db",
            str(db),
            "--target-path",
            str(target / "fast"),
        )
    finally:
        holder.kill()
        holder.wait()
    assert locked.returncode != 0
    lines = [line for line in (locked.stdout + locked.stderr).splitlines() if f"PID {holder.pid}" in line]
    assert len(lines) == 1 and "in use by" in lines[0] and str(db) in lines[0]
    assert "Traceback" not in locked.stdout + locked.stderr
    assert fast.returncode == 1
    assert fast.stderr.strip().splitlines()[-1].startswith("breakbounce run: error: the warehouse")
    assert [line for line in fast.stderr.splitlines() if "PID" in line] == [fast.stderr.strip().splitlines()[-1]]
    assert f"in use by PID {holder.pid}" in fast.stderr
    # the warehouse was created in the format the DuckDB shell reads
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
        ).fetchall() == [("v1.5.0+",)]
    finally:
        con.close()
