"""The project's tunable values, read from where they are declared: the ``vars`` of ``dbt_project.yml``.

Every parameter of the maths and of the run's shape (warmup session counts, label windows and
thresholds, barrier / fuel / tape thresholds, ...) is declared once, as a dbt var in
``dbt_project.yml``. The SQL reads it with ``var('name')``; Python reads the same declaration here,
with the run's ``--vars`` laid over it (:func:`resolve`), so a ``breakbounce run --vars`` override
reaches the SQL and the Python side alike. No Python module keeps a second copy of a value.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: the vars that shape a run (which Bronze files it opens): the plan reads them in Python, before any
#: SQL; dbt hands its ``--vars`` of them to the plugin through profiles.yml
RUN_SHAPE_VARS = ("sma_warmup_sessions", "volume_lookback_sessions", "mbp10_lead_minutes")

#: the project ``breakbounce`` is installed from (``DBT_PROJECT_DIR`` names another, as for the runner)
PACKAGE_PROJECT_DIR = Path(__file__).resolve().parents[1]


def project_dir() -> Path:
    return Path(os.environ.get("DBT_PROJECT_DIR") or PACKAGE_PROJECT_DIR).resolve()


@functools.lru_cache(maxsize=4)
def _declared(path: Path, mtime_ns: int) -> dict:
    import yaml

    doc = yaml.safe_load(path.read_text()) or {}
    return dict(doc.get("vars") or {})


def project_vars(project: str | os.PathLike | None = None) -> dict:
    """The ``vars`` declared in the project's ``dbt_project.yml`` (a copy)."""
    path = Path(project or project_dir()) / "dbt_project.yml"
    return dict(_declared(path, path.stat().st_mtime_ns))


def resolve(overrides: Mapping[str, Any] | None = None, project: str | os.PathLike | None = None) -> dict:
    """The declared vars with ``overrides`` (a run's ``--vars``) laid over them, as dbt does."""
    return {**project_vars(project), **dict(overrides or {})}


def var(name: str, overrides: Mapping[str, Any] | None = None, project: str | os.PathLike | None = None) -> Any:
    """One var's value for a run: the override if given, else its declaration; a var that
    ``dbt_project.yml`` does not declare is a KeyError naming it (never a silent default)."""
    values = resolve(overrides, project)
    if name not in values:
        raise KeyError(f"dbt var {name!r} is not declared in dbt_project.yml")
    return values[name]


def whole_number(name: str, overrides: Mapping[str, Any] | None = None, minimum: int = 0) -> int:
    """A var that must be a whole number >= ``minimum`` (ValueError naming it otherwise)."""
    value = var(name, overrides)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number
