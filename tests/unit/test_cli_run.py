"""The `breakbounce` command line around `run` / `backfill`: --version, help texts, --vars."""

from __future__ import annotations

import argparse

import pytest

import breakbounce
from breakbounce import cli, runner


def _help(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"breakbounce {breakbounce.__version__}"


def test_run_help_describes_the_fast_engine_as_the_default(capsys):
    text = _help(capsys, "run")
    assert "fast engine" in text and "--engine dbt" in text and "Exit codes" in text
    summary = _help(capsys)
    line = next(l for l in summary.splitlines() if l.strip().startswith("run "))
    assert "dbt build" not in line  # the default engine is not dbt build


def test_backfill_help_has_a_description_and_shows_the_work_dir_default(capsys):
    text = " ".join(_help(capsys, "backfill").split())
    assert "tasks on a Dask cluster" in text and "--scheduler tcp://HOST:PORT" in text
    assert "Each date runs `breakbounce run` in its own process" in text
    assert "(default: " + runner.TARGET_DIR in text and "backfill)" in text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("{touch_band: 0.2}", {"touch_band": 0.2}),
        (
            '{"label_thresholds": [0.5, 1.5], "monitor_band": 0.3}',
            {"label_thresholds": [0.5, 1.5], "monitor_band": 0.3},
        ),
        ("", {}),
    ],
)
def test_vars_are_a_yaml_mapping(text, expected):
    assert runner._dbt_vars(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("[1, 2]", "mapping"),
        ("{date: 2025-12-16}", "--date"),
        ("{a: [1,", "YAML"),
    ],
)
def test_bad_vars_are_a_usage_error(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        runner._dbt_vars(text)
