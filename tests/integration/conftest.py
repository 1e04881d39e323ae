"""Shared fixtures for tests that run the dbt project end to end on small Bronze trees."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    db: Path
    gold: Path

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def run_breakbounce(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``breakbounce <args>`` in a fresh process (dbt keeps process-wide state, so never in-process)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "breakbounce", *args],
        capture_output=True, text=True, env=full_env, cwd=cwd or PROJECT_DIR,
    )


@pytest.fixture
def build_date(tmp_path):
    """Run ``breakbounce run`` for one date on a Bronze root; each call gets its own warehouse/target."""
    counter = {"n": 0}

    def _build(date: str, bronze: Path, gold: Path | None = None, select: str | None = None,
               db: Path | None = None) -> RunResult:
        counter["n"] += 1
        work = tmp_path / f"run{counter['n']}-{date}"
        work.mkdir()
        gold = gold or tmp_path / "gold"
        db = db or work / "warehouse.duckdb"
        args = ["run", "--date", date, "--bronze", str(bronze), "--gold", str(gold), "--db", str(db),
                "--target-path", str(work / "dbt")]
        if select:
            args += ["--select", select]
        proc = run_breakbounce(*args)
        return RunResult(proc.returncode, proc.stdout, proc.stderr, db, gold)

    return _build
