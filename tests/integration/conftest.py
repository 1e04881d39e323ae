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
_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Every test of tests/integration builds dates with the dbt project (``breakbounce run`` with
    either engine, ``dbt build`` / ``test`` / ``parse``): marked ``dbt``."""
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.dbt)


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


GENERATED_START, GENERATED_DATE = "2025-12-11", "2025-12-16"


@dataclass
class GeneratedDay:
    """A few generated test-scale sessions and one full build of the last one."""

    bronze: Path
    date: str
    run: RunResult

    def truth(self, date: str | None = None) -> dict:
        import json

        return json.loads((self.bronze / "_truth" / f"date={date or self.date}" / "truth.json").read_text())


@pytest.fixture(scope="session")
def generated_day(tmp_path_factory) -> GeneratedDay:
    """Generate 2025-12-11..16 (seed 7, scale test) once per test session and build 2025-12-16."""
    base = tmp_path_factory.mktemp("generated")
    bronze_root = base / "bronze"
    proc = run_breakbounce("generate", "--start-date", GENERATED_START, "--end-date", GENERATED_DATE,
                           "--out", str(bronze_root), "--seed", "7", "--scale", "test")
    assert proc.returncode == 0, proc.stderr[-3000:]
    db, gold, work = base / "warehouse.duckdb", base / "gold", base / "dbt"
    proc = run_breakbounce("run", "--date", GENERATED_DATE, "--bronze", str(bronze_root), "--gold", str(gold),
                           "--db", str(db), "--target-path", str(work))
    return GeneratedDay(bronze_root, GENERATED_DATE, RunResult(proc.returncode, proc.stdout, proc.stderr, db, gold))


BREAK_START, BREAK_DATE = "2025-12-09", "2025-12-12"


@pytest.fixture(scope="session")
def breakout_day(tmp_path_factory):
    """A ``pm_high_break`` day (the generator's template whose PM high breaks at 10:05 and runs >= 20 points
    beyond it before 10:30) after three prior sessions (so PM, OR, the SMAs and rel_vol are defined), built
    once per test session by ``breakbounce run``: (base folder, :class:`bronze_builders.Build`)."""
    from . import bronze_builders as bb

    base = tmp_path_factory.mktemp("breakout")
    gen = run_breakbounce("generate", "--start-date", BREAK_START, "--end-date", BREAK_DATE, "--out",
                          str(base / "bronze"), "--seed", "7", "--scale", "test", "--scenario", "pm_high_break")
    assert gen.returncode == 0, gen.stderr[-3000:]
    run = bb.build(BREAK_DATE, base / "bronze", base / "gold", base / "work")
    assert run.returncode == 0, run.stderr[-3000:]
    return base, run
