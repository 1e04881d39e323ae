"""What the tests need from the machine, and what happens when it is missing.

Everything the project installs for its tests (scripts/setup.sh: the extras dev, report, ml; Chromium)
is imported or used directly: a missing one is a failure, never a skip. A test may skip only for
something optional that a developer's machine can legitimately lack (the real Databento samples of
``../shared``, Chromium, an unprivileged mount namespace), and only off CI: with ``CI`` set (``.ci/run``
sets ``CI=1``, where setup installs them and ``shared/`` lies beside the clone) the same gap fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
#: the real Databento samples of the shared folder beside the project (SPEC: ``../shared``)
REAL_SAMPLES = PROJECT_DIR.parent / "shared" / "real_samples"


def require(available: bool, what: str) -> None:
    """Skip the calling test when ``what`` is missing here; on CI, fail."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing on CI (scripts/setup.sh / .ci/run provide it)")
    pytest.skip(f"{what} is missing on this machine")


def require_real_samples() -> Path:
    require(REAL_SAMPLES.is_dir(), f"the real samples {REAL_SAMPLES}")
    return REAL_SAMPLES
