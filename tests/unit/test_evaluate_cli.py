"""`breakbounce evaluate` as a command: its printed table, JSON, and one-line errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.unit.gold_factory import gold_table, planted_month, write_gold

DATES = ["2025-12-01", "2025-12-02", "2025-12-03", "2025-12-04", "2025-12-05"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "breakbounce", "evaluate", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_prints_folds_families_and_the_control(tmp_path):
    planted_month(tmp_path / "gold", DATES, n=50, seed=2, signal=2.0)
    proc = _run(
        "--start-date",
        DATES[0],
        "--end-date",
        DATES[-1],
        "--gold",
        str(tmp_path / "gold"),
        "--folds",
        "2",
        "--shuffles",
        "1",
        "--families",
        "tape,fuel",
        "--json",
        str(tmp_path / "eval.json"),
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0].startswith(f"breakbounce evaluate {DATES[0]}..{DATES[-1]}: 5 sessions, ")
    res = json.loads((tmp_path / "eval.json").read_text())
    # 5 sessions in 3 blocks (2, 2, 1): fold 1 tests sessions 3-4, fold 2 the last
    fold_lines = [line for line in out if line[:2] in ("1 ", "2 ")]
    assert [line.split()[1] for line in fold_lines] == [f"{DATES[2]}..{DATES[3]}", f"{DATES[4]}..{DATES[4]}"]
    assert [int(line.split()[2]) for line in fold_lines] == [f["n_train"] for f in res["folds"]]
    families = [line.split()[0] for line in out if line.split() and line.split()[0] in res["families"]]
    assert families == ["all", "tape", "fuel"]  # (every family: tests/unit/test_health_evaluate.py)
    assert out[-1].startswith("shuffled-label control (1 permutations") and out[-1].endswith("PASS")
    assert res["overall"]["auc"] > 0.85 and res["control"]["passed"]


def test_errors(tmp_path):
    proc = _run("--start-date", "2025-12-01", "--end-date", "2025-12-05", "--gold", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("breakbounce evaluate: error: no Gold files for 2025-12-01..2025-12-05")
    proc = _run("--start-date", "2025-12-05", "--end-date", "2025-12-01", "--gold", str(tmp_path))
    assert proc.returncode == 2 and "is before --start-date" in proc.stderr
    # two label configurations in one range: refused, naming the dates
    labels = {
        "threshold_unit": "atr",
        "thresholds": [0.5, 1.0],
        "confirmation_windows": [120, 240, 480],
        "lookforward_seconds": 480,
        "primary_window": 240,
    }
    write_gold(
        tmp_path, "2025-12-01", gold_table("2025-12-01", 10, {"outcome": ["BREAK", "BOUNCE"] * 5}), labels=labels
    )
    write_gold(tmp_path, "2025-12-02", gold_table("2025-12-02", 10, {"outcome": ["BREAK", "BOUNCE"] * 5}))
    proc = _run("--start-date", "2025-12-01", "--end-date", "2025-12-05", "--gold", str(tmp_path))
    assert proc.returncode == 2 and "labelled with different configurations" in proc.stderr
    assert "2025-12-01" in proc.stderr and "2025-12-02" in proc.stderr and len(proc.stderr.splitlines()) == 1
    # too few sessions for the folds
    write_gold(
        tmp_path, "2025-12-02", gold_table("2025-12-02", 10, {"outcome": ["BREAK", "BOUNCE"] * 5}), labels=labels
    )
    proc = _run("--start-date", "2025-12-01", "--end-date", "2025-12-05", "--gold", str(tmp_path))
    assert proc.returncode == 2 and "--folds 5 needs at least 6" in proc.stderr
    proc = _run("--start-date", "2025-12-01", "--end-date", "2025-12-05", "--gold", str(tmp_path), "--label", "nope")
    assert proc.returncode == 2 and "--label nope" in proc.stderr
    proc = _run(
        "--start-date",
        "2025-12-01",
        "--end-date",
        "2025-12-05",
        "--gold",
        str(tmp_path),
        "--folds",
        "1",
        "--families",
        "tape,gamma",
    )
    assert proc.returncode == 2 and "--families: unknown gamma" in proc.stderr
