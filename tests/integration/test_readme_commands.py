"""Every command of the README's "Everyday use" and "Exploring with SQL" sections, run exactly as
written and in order, from a copy of the project whose warehouse holds another date (as after the
demo). The README is the one source: this test reads its fenced code blocks (bash blocks run in one
shell session, as a user would in one terminal; python blocks with the project's interpreter)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import duckdb
import pyarrow.parquet as pq
import pytest

from .conftest import PROJECT_DIR

SECTIONS = ("## Everyday use", "## Exploring with SQL")
#: the project files a dbt command run from the copy needs (the rest comes from the installed package)
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt")


def readme_blocks(readme: str) -> list[tuple[str, str]]:
    """(language, code) of every fenced block in the README's sections named in SECTIONS, in order."""
    blocks = []
    for title in SECTIONS:
        start = readme.index(title + "\n")
        end = readme.find("\n## ", start + len(title))
        body = readme[start : end if end != -1 else None]
        blocks += re.findall(r"^```(\w+)\n(.*?)^```", body, flags=re.S | re.M)
    return blocks


def test_the_readme_names_this_test_and_has_commands():
    readme = (PROJECT_DIR / "README.md").read_text()
    assert "tests/integration/test_readme_commands.py" in readme
    langs = [lang for lang, _ in readme_blocks(readme)]
    assert langs.count("bash") >= 3 and "python" in langs


def _script(blocks: list[tuple[str, str]]) -> str:
    """One bash session: each command echoed to stderr before it runs, the first failure stops it."""
    lines = ["set -eo pipefail"]
    n = 0
    for lang, code in blocks:
        if lang == "bash":
            for line in code.splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    n += 1
                    lines.append(f"echo {('[readme ' + str(n) + '] ' + line.strip())!r} >&2")
                    lines.append(line)
        elif lang == "python":
            n += 1
            path = f"readme-block-{n}.py"
            lines.append(f"echo '[readme {n}] python block' >&2")
            lines.append(f"cat > {path} <<'BB_README_PY'\n{code}BB_README_PY")
            lines.append(f"python {path}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def readme_run(generated_day, tmp_path_factory):
    assert generated_day.run.returncode == 0, generated_day.run.stderr[-3000:]
    base = tmp_path_factory.mktemp("readme")
    proj = base / "project"
    proj.mkdir()
    for rel in PROJECT_FILES:
        src, dst = PROJECT_DIR / rel, proj / rel
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    (proj / ".venv").symlink_to(PROJECT_DIR / ".venv")
    (base / "shared").symlink_to(PROJECT_DIR.parent / "shared")  # ../shared, as beside the clone
    # the state after the demo: a warehouse holding another date than the README builds first
    (proj / "target").mkdir()
    shutil.copy(generated_day.run.db, proj / "target" / "breakbounce.duckdb")
    readme = (PROJECT_DIR / "README.md").read_text()
    script = _script(readme_blocks(readme))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BB_", "DBT_", "VIRTUAL_ENV"))}
    # the copy's warehouse and target directory (breakbounce's defaults are its own project's)
    env.update(
        BB_DUCKDB_PATH=str(proj / "target" / "breakbounce.duckdb"),
        DBT_TARGET_PATH=str(proj / "target"),
        PATH=os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p),
    )
    proc = subprocess.run(
        ["bash", "-c", script], cwd=proj, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900
    )
    return proj, proc


@pytest.mark.slow
def test_every_command_runs(readme_run):
    proj, proc = readme_run
    assert proc.returncode == 0, proc.stderr[-4000:] + proc.stdout[-2000:]


@pytest.mark.slow
def test_what_the_commands_built(readme_run):
    proj, proc = readme_run
    assert proc.returncode == 0, proc.stderr[-4000:]
    gold = proj / "data" / "gold" / "signals"
    built = sorted(p.parent.name for p in gold.glob("date=*/signals.parquet"))
    assert built == ["date=2025-12-11", "date=2025-12-12", "date=2025-12-15", "date=2025-12-16"]  # backfill too
    # dbt run and dbt build name the Gold file they wrote
    assert f"breakbounce: published Gold {gold / 'date=2025-12-16' / 'signals.parquet'}" in proc.stdout + proc.stderr
    # the subset for 2025-12-16 on a warehouse last built (dbt build) for 2025-12-15 rebuilt and tested it
    con = duckdb.connect(str(proj / "target" / "breakbounce.duckdb"), read_only=True)
    try:
        stamps = dict(
            con.execute(
                "select table_name, comment from duckdb_tables() where table_name in "
                "('int_bars__es_1min', 'fct_touch_signals')"
            ).fetchall()
        )
    finally:
        con.close()
    assert stamps == {
        "int_bars__es_1min": "breakbounce run date 2025-12-16",
        "fct_touch_signals": "breakbounce run date 2025-12-15",
    }
    # the SQL section: the gold view spans every date
    assert re.search(r"2025-12-11\s*│\s*CHOP", proc.stdout) and re.search(r"2025-12-16\s*│\s*CHOP", proc.stdout)
    # ingest wrote the real sample (2020-12-28, ESH1) into its own root
    table = pq.read_table(next((proj / "data" / "bronze-real").rglob("*.parquet")))
    assert set(table.column("symbol").to_pylist()) == {"ESH1"}
