"""tests/environment.py: a missing optional tool skips a test on a developer's machine and fails it on CI."""

from __future__ import annotations

import pytest

from tests.environment import require


def test_present_passes_quietly(monkeypatch):
    monkeypatch.setenv("CI", "1")
    require(True, "a tool")


def test_missing_skips_off_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="a tool is missing on this machine"):
        require(False, "a tool")


def test_missing_fails_on_ci(monkeypatch):
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="a tool is missing on CI"):
        require(False, "a tool")
