"""Shared fixtures for tests that run the dbt project end to end on small Bronze trees."""

from __future__ import annotations

import json
import os
import shutil
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
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or PROJECT_DIR,
    )


def compile_inline(jinja_sql: str, work: Path) -> str:
    """``dbt compile --inline`` of ``jinja_sql`` against the project (macros rendered, nothing run);
    dbt's files go under ``work``. Returns the compiled SQL."""
    proc = subprocess.run(
        [sys.executable, "-m", "dbt.cli.main", "--quiet", "compile", "--inline", jinja_sql, "--output", "json"]
        + ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
        + ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)],
        capture_output=True,
        text=True,
        env={**os.environ, "BB_DUCKDB_PATH": str(work / "compile.duckdb")},
        cwd=PROJECT_DIR,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout[proc.stdout.index("{") :])["compiled"]


@pytest.fixture
def build_date(tmp_path):
    """Run ``breakbounce run`` for one date on a Bronze root; each call gets its own warehouse/target."""
    counter = {"n": 0}

    def _build(
        date: str, bronze: Path, gold: Path | None = None, select: str | None = None, db: Path | None = None
    ) -> RunResult:
        counter["n"] += 1
        work = tmp_path / f"run{counter['n']}-{date}"
        work.mkdir()
        gold = gold or tmp_path / "gold"
        db = db or work / "warehouse.duckdb"
        args = [
            "run",
            "--date",
            date,
            "--bronze",
            str(bronze),
            "--gold",
            str(gold),
            "--db",
            str(db),
            "--target-path",
            str(work / "dbt"),
        ]
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
    proc = run_breakbounce(
        "generate",
        "--start-date",
        GENERATED_START,
        "--end-date",
        GENERATED_DATE,
        "--out",
        str(bronze_root),
        "--seed",
        "7",
        "--scale",
        "test",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    db, gold, work = base / "warehouse.duckdb", base / "gold", base / "dbt"
    proc = run_breakbounce(
        "run",
        "--date",
        GENERATED_DATE,
        "--bronze",
        str(bronze_root),
        "--gold",
        str(gold),
        "--db",
        str(db),
        "--target-path",
        str(work),
    )
    return GeneratedDay(bronze_root, GENERATED_DATE, RunResult(proc.returncode, proc.stdout, proc.stderr, db, gold))


# --- an S3-compatible server, and Gold built one date at a time ----------------------------------------


@dataclass
class S3Server:
    """moto's S3 server on 127.0.0.1 (one per test session); ``env``: what a client needs, as a user
    would set it (credentials and endpoint from the environment, never on the command line)."""

    endpoint: str
    env: dict

    def fs(self):
        import s3fs

        return s3fs.S3FileSystem(
            key=self.env["AWS_ACCESS_KEY_ID"],
            secret=self.env["AWS_SECRET_ACCESS_KEY"],
            endpoint_url=self.endpoint,
            skip_instance_cache=True,
            use_listings_cache=False,
        )

    def bucket(self, name: str) -> str:
        """A new, empty bucket; its URL."""
        self.fs().mkdir(name)
        return f"s3://{name}"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """Start ``python -m moto.server`` on a free 127.0.0.1 port once per session, export the AWS_*
    variables pointing at it (for this process and every child), stop it at the end."""
    import socket
    import time
    import urllib.request

    import moto  # noqa: F401  (the dev extra; scripts/setup.sh installs it, and the s3 extra)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield S3Server(endpoint, env)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


SERIAL_DATES = ("2025-12-11", "2025-12-12", "2025-12-15")


@pytest.fixture(scope="session")
def serial_gold(generated_day, tmp_path_factory) -> Path:
    """Gold of every generated session built one `breakbounce run` after another in one warehouse
    (the generated_day fixture's build gives the last date): what a backfill must reproduce byte for byte."""
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    base = tmp_path_factory.mktemp("serial")
    gold = base / "gold"
    for date in SERIAL_DATES:
        proc = run_breakbounce(
            "run",
            "--date",
            date,
            "--bronze",
            str(generated_day.bronze),
            "--gold",
            str(gold),
            "--db",
            str(base / "warehouse.duckdb"),
            "--target-path",
            str(base / "dbt"),
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
    src = generated_day.run.gold / "signals" / f"date={generated_day.date}"
    shutil.copytree(src, gold / "signals" / f"date={generated_day.date}")
    return gold


BREAK_START, BREAK_DATE = "2025-12-09", "2025-12-12"


@pytest.fixture(scope="session")
def breakout_day(tmp_path_factory):
    """A ``pm_high_break`` day (the generator's template whose PM high breaks at 10:05 and runs >= 20 points
    beyond it before 10:30) after three prior sessions (so PM, OR, the SMAs and rel_vol are defined), built
    once per test session by ``breakbounce run``: (base folder, :class:`bronze_builders.Build`)."""
    from . import bronze_builders as bb

    base = tmp_path_factory.mktemp("breakout")
    gen = run_breakbounce(
        "generate",
        "--start-date",
        BREAK_START,
        "--end-date",
        BREAK_DATE,
        "--out",
        str(base / "bronze"),
        "--seed",
        "7",
        "--scale",
        "test",
        "--scenario",
        "pm_high_break",
    )
    assert gen.returncode == 0, gen.stderr[-3000:]
    run = bb.build(BREAK_DATE, base / "bronze", base / "gold", base / "work")
    assert run.returncode == 0, run.stderr[-3000:]
    return base, run
