#!/usr/bin/env python
"""Generate ``features.json``, the machine-readable catalogue of the Gold columns, from the dbt YAML.

The single source is the enforced contract of ``fct_touch_signals`` in
``models/marts/_marts__models.yml``: each column's ``data_type`` and ``description``, and its
``config.meta`` (``group``, ``unit``, ``nullable``); a description that is a ``{{ doc('name') }}``
reference is the text of that ``{% docs %}`` block (``models/**/*.md``), as dbt renders it. Nothing is
written by hand in the catalogue:
rerun this script after changing the YAML (``--check`` fails when the committed file is stale; the
test suite runs it).

Usage:
    python scripts/build_feature_catalog.py            # write features.json at the project root
    python scripts/build_feature_catalog.py --check    # exit 1 if features.json is not up to date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
MARTS_YAML = PROJECT_DIR / "models" / "marts" / "_marts__models.yml"
OUTPUT = PROJECT_DIR / "features.json"
MODEL = "fct_touch_signals"

# Column groups (the earlier features.json groups, original_pipeline.md §9, plus none new so far),
# in the order the catalogue lists them. `outcome` holds the labels (look-ahead by construction).
GROUPS = {
    "identity": "Event identity and time keys (not features).",
    "level": "The touched level, the direction of the test and the touch bar.",
    "context": "Time of day, volatility scale and the pre-market range relative to the level.",
    "mean_reversion": "SMA_200 / SMA_400 values, slopes and distances (time-based, at t_dec).",
    "confluence": "Other key levels near the level, and the hierarchical confluence level.",
    "barrier_physics": "Resting liquidity of the defending side in the level's zone (MBP-10).",
    "tape_physics": "ES prints of the touch minute: aggression, velocity, sweeps.",
    "fuel_physics": "Dealer gamma near the level from 0DTE SPY option flow, and the strike basis.",
    "dealer_velocity": "Rate and acceleration of dealer gamma flow near the level.",
    "pressure_indicators": "Bounded composite pressures built from the groups above.",
    "approach_context": "How price approached the level, prior touches and attempt clusters.",
    "outcome": "Labels: competing-risk outcomes and excursions after the anchor (never features).",
}
LABEL_GROUP = "outcome"
ARROW_TYPES = {
    "varchar": "string",
    "bigint": "int64",
    "integer": "int32",
    "smallint": "int16",
    "tinyint": "int8",
    "double": "float64",
    "float": "float32",
    "boolean": "bool",
    "date": "date32[day]",
}
OUTCOME_VALUES = ["BREAK", "BOUNCE", "CHOP", "UNDEFINED"]


class CatalogError(Exception):
    pass


_DOC_BLOCK = re.compile(r"{%-?\s*docs\s+(\w+)\s*-?%}(.*?){%-?\s*enddocs\s*-?%}", re.DOTALL)
_DOC_REF = re.compile(r"""^\s*{{\s*doc\(\s*['"](\w+)['"]\s*\)\s*}}\s*$""")


def doc_blocks(models_dir: Path = PROJECT_DIR / "models") -> dict[str, str]:
    """The ``{% docs name %}`` blocks of the project's markdown files: name -> text."""
    blocks: dict[str, str] = {}
    for md in sorted(models_dir.rglob("*.md")):
        for name, text in _DOC_BLOCK.findall(md.read_text()):
            if name in blocks:
                raise CatalogError(f"{md}: doc block {name} is defined twice")
            blocks[name] = text.strip()
    return blocks


def _description(raw, blocks: dict[str, str], where: str) -> str:
    """A column description with a ``{{ doc('name') }}`` reference replaced by its block's text."""
    text = str(raw or "")
    ref = _DOC_REF.match(text)
    if ref:
        if ref.group(1) not in blocks:
            raise CatalogError(f"{where}: no doc block named {ref.group(1)}")
        text = blocks[ref.group(1)]
    return " ".join(text.split())


def _meta(column: dict) -> dict:
    """A column's meta: dbt >= 1.10 keeps it under `config.meta` (a bare `meta` is accepted too)."""
    meta = dict(column.get("meta") or {})
    meta.update((column.get("config") or {}).get("meta") or {})
    return meta


def _tests(node: dict) -> list:
    return (node.get("data_tests") or []) + (node.get("tests") or [])


def _row_rules_not_null(model: dict) -> set[str]:
    """Columns listed under `not_null` of the model's row_rules tests (macros/tests/row_rules.sql)."""
    columns = set()
    for t in _tests(model):
        if isinstance(t, dict) and isinstance(t.get("row_rules"), dict):
            args = t["row_rules"].get("arguments") or t["row_rules"]
            columns.update(args.get("not_null") or [])
    return columns


def _has_not_null(column: dict, model_not_null: set[str]) -> bool:
    return column.get("name") in model_not_null or any(
        t == "not_null" or (isinstance(t, dict) and "not_null" in t) for t in _tests(column)
    )


def build_catalog(yaml_path: Path = MARTS_YAML) -> dict:
    doc = yaml.safe_load(yaml_path.read_text())
    models = [m for m in doc.get("models", []) if m.get("name") == MODEL]
    if len(models) != 1:
        raise CatalogError(f"{yaml_path}: expected one model named {MODEL}")
    model = models[0]
    columns, errors, seen = [], [], set()
    blocks = doc_blocks(yaml_path.parents[1])
    model_not_null = _row_rules_not_null(model)
    for col in model.get("columns", []):
        name = col.get("name")
        meta = _meta(col)
        where = f"{MODEL}.{name}"
        if name in seen:
            errors.append(f"{where}: listed twice")
        seen.add(name)
        sql_type = str(col.get("data_type") or "").lower()
        if sql_type not in ARROW_TYPES:
            errors.append(f"{where}: data_type {sql_type!r} is not one of {sorted(ARROW_TYPES)}")
        group = meta.get("group")
        if group not in GROUPS:
            errors.append(f"{where}: meta.group {group!r} is not one of {list(GROUPS)}")
        unit = meta.get("unit")
        if not isinstance(unit, str) or not unit.strip():
            errors.append(f"{where}: meta.unit is missing")
        nullable = meta.get("nullable")
        if not isinstance(nullable, bool):
            errors.append(f"{where}: meta.nullable must be true or false")
        elif nullable and _has_not_null(col, model_not_null):
            errors.append(f"{where}: meta.nullable is true but the column has a not_null test")
        description = _description(col.get("description"), blocks, where)
        if not description:
            errors.append(f"{where}: no description")
        columns.append(
            {
                "name": name,
                "group": group,
                "type": sql_type,
                "arrow_type": ARROW_TYPES.get(sql_type),
                "unit": unit,
                "nullable": nullable,
                "is_label": group == LABEL_GROUP,
                "description": description,
            }
        )
    if errors:
        raise CatalogError("\n".join(errors))
    groups = {g: [c["name"] for c in columns if c["group"] == g] for g in GROUPS}
    return {
        "catalog_version": 1,
        "dataset": "breakbounce Gold touch signals",
        "generated_from": f"{yaml_path.relative_to(PROJECT_DIR).as_posix()} (model {MODEL}) by "
        "scripts/build_feature_catalog.py; do not edit by hand",
        "gold_path": "gold/signals/date=YYYY-MM-DD/signals.parquet",
        "grain": "one row per touch of a key level (event_id); rows ordered by (ts_ns, level_kind)",
        "point_in_time": "every non-label column uses only Bronze records with ts < available_ts_ns (t_dec)",
        "label_column": "outcome",
        "label_values": ["BREAK", "BOUNCE"],
        "outcome_values": OUTCOME_VALUES,
        "n_columns": len(columns),
        "group_descriptions": {g: d for g, d in GROUPS.items() if groups[g]},
        "groups": {g: names for g, names in groups.items() if names},
        "columns": columns,
    }


def render(catalog: dict) -> str:
    return json.dumps(catalog, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if features.json is not up to date")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write (default: features.json)")
    args = parser.parse_args(argv)
    try:
        text = render(build_catalog())
    except CatalogError as exc:
        print(f"build_feature_catalog: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text() if args.output.exists() else None
        if current != text:
            print(
                f"build_feature_catalog: {args.output} is stale; run scripts/build_feature_catalog.py", file=sys.stderr
            )
            return 1
        return 0
    args.output.write_text(text)
    n = len(json.loads(text)["columns"])
    print(f"wrote {args.output} ({n} columns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
