"""The maths parameters for Python callers that SQL does not hand them to (test oracles, scripts).

Every threshold of the physics and the labels is a dbt var declared once, in ``dbt_project.yml``;
the SQL models pass them to the UDFs as arguments. This module reads the same file, so a Python
reference never keeps a second copy of a value.
"""

from __future__ import annotations

import functools
from pathlib import Path

PROJECT_FILE = Path(__file__).resolve().parents[1] / "dbt_project.yml"


@functools.lru_cache(maxsize=1)
def _load() -> dict:
    import yaml

    return dict(yaml.safe_load(PROJECT_FILE.read_text())["vars"])


def project_vars() -> dict:
    """The ``vars`` of dbt_project.yml (a copy)."""
    return dict(_load())


def project_var(name: str):
    """One dbt var's declared value; KeyError when dbt_project.yml does not declare it."""
    return _load()[name]
