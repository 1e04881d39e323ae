"""Gold for training: load a date range with the types of ``features.json``, and split it without
leaking labels across folds.

    from breakbounce.dataset import load_gold, purged_walk_forward

    gold = load_gold("2025-11-17", "2025-12-16", gold="data/gold", outcomes=("BREAK", "BOUNCE"))
    df = gold.to_pandas()                        # or gold.table (Arrow), gold.to_polars()
    X = df[gold.catalog.features()]              # every non-label feature column
    y = (df["outcome"] == "BREAK")
    for train, test in purged_walk_forward(gold.start_ns, gold.label_end_ns, n_splits=5,
                                           groups=df["session_date"]):
        ...

An event's **label interval** is ``[ts_ns, label_end_ns]``: its labels read trades up to
``T0 + max(confirmation window) + look-forward``. The configuration comes from the Gold file's
parquet metadata key ``breakbounce.labels`` when present; otherwise the windows come from the file's
``confirm_ts_ns_*`` columns (T0 + W of each window) and the look-forward from the project's dbt var
``lookforward_seconds``. :func:`purged_walk_forward` drops every training event whose interval
overlaps the test fold (and, when training may follow the test fold, an embargo after it).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from breakbounce import params, storage

PROJECT_DIR = Path(__file__).resolve().parents[1]
CATALOG_PATH = PROJECT_DIR / "features.json"
NS_PER_S = 1_000_000_000

#: parquet key-value metadata of a Gold file (SPEC §6; written by the Gold publisher)
LABELS_KEY = b"breakbounce.labels"
VERSION_KEY = b"breakbounce.version"

#: The feature families that evaluation and reports talk about, as unions of the catalogue's groups
#: (``features.json`` ``groups``; docs/features.md describes each group). The one definition:
#: ``breakbounce evaluate`` trains per family, the reports colour by it.
#: ``composite`` holds the bounded pressures, which mix the other families' inputs.
FEATURE_FAMILIES: dict[str, tuple[str, ...]] = {
    "tape": ("tape_physics",),
    "barrier": ("barrier_physics",),
    "fuel": ("fuel_physics", "dealer_velocity"),
    "context": ("level", "context", "mean_reversion", "approach_context"),
    "confluence": ("confluence",),
    "composite": ("pressure_indicators",),
}
#: catalogue groups that are never features (keys, and the look-ahead labels)
NON_FEATURE_GROUPS = ("identity", "outcome")


class DatasetError(Exception):
    """Gold that cannot be loaded as asked; ``str()`` names the file / date / column."""


# --- the catalogue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """``features.json``: per column its group, type, unit, nullability and whether it is a label."""

    columns: dict[str, dict]
    groups: dict[str, list[str]]
    label_values: tuple[str, ...]
    outcome_values: tuple[str, ...]

    @property
    def unassigned_groups(self) -> list[str]:
        """Catalogue groups that belong to no feature family (their columns are not used as features)."""
        known = set(NON_FEATURE_GROUPS) | {g for gs in FEATURE_FAMILIES.values() for g in gs}
        return [g for g in self.groups if g not in known]

    def arrow_type(self, name: str) -> pa.DataType:
        return pa.type_for_alias(self.columns[name]["arrow_type"])

    def is_label(self, name: str) -> bool:
        return bool(self.columns[name]["is_label"])

    def family_of(self, name: str) -> str | None:
        """The feature family of a column (None for keys, labels and columns the catalogue lacks)."""
        group = self.columns.get(name, {}).get("group")
        return next((f for f, gs in FEATURE_FAMILIES.items() if group in gs), None)

    def features(self, families: Sequence[str] | None = None) -> list[str]:
        """Non-label feature columns in Gold order, of ``families`` (default: all of them)."""
        wanted = set(families or FEATURE_FAMILIES)
        unknown = wanted - set(FEATURE_FAMILIES)
        if unknown:
            raise ValueError(f"unknown feature families {sorted(unknown)}; known: {list(FEATURE_FAMILIES)}")
        return [
            n
            for n, c in self.columns.items()
            if not c["is_label"] and c["group"] not in NON_FEATURE_GROUPS and self.family_of(n) in wanted
        ]

    def labels(self) -> list[str]:
        return [n for n, c in self.columns.items() if c["is_label"]]


@functools.lru_cache(maxsize=4)
def load_catalog(path: str | os.PathLike | None = None) -> Catalog:
    doc = json.loads(Path(path or CATALOG_PATH).read_text())
    columns = {c["name"]: c for c in doc["columns"]}
    # a group no family knows yet stays out of the features (Catalog.unassigned_groups; evaluate
    # says so, and tests/unit/test_dataset_load.py fails until it is given a family)
    return Catalog(columns, doc["groups"], tuple(doc["label_values"]), tuple(doc["outcome_values"]))


def project_vars() -> dict:
    """The dbt vars of ``dbt_project.yml`` (the project defaults of the maths; :mod:`breakbounce.params`)."""
    return params.project_vars(PROJECT_DIR)


# --- Gold files ----------------------------------------------------------------------------------


@dataclass
class GoldFile:
    date: str
    path: str
    rows: int
    version: str | None  # metadata breakbounce.version (None: written before the key existed)
    labels: dict | None  # metadata breakbounce.labels, parsed (None: absent)


def gold_root_default() -> str:
    return os.environ.get("BB_GOLD", "data/gold")


def gold_files(start_date: str, end_date: str, gold: str | os.PathLike | None = None) -> list[GoldFile]:
    """The Gold files of ``start_date`` ≤ date ≤ ``end_date`` that exist, in date order; ``gold`` is
    a folder or an object-store URL (one listing, then each file's footer)."""
    base = storage.join(storage.absolute(gold or gold_root_default()), "signals")
    found = []
    for path, entry in sorted(storage.find(base).items()):
        m = re.fullmatch(r"date=(\d{4}-\d{2}-\d{2})/signals\.parquet", path[len(base) + 1 :])
        if m and start_date <= m.group(1) <= end_date:
            found.append(_describe(m.group(1), path, entry))
    return found


def _source(path: str):
    """What pyarrow reads a Gold file from: a local path, or an object's bytes (a day's Gold is small)."""
    return pa.BufferReader(storage.read_bytes(path)) if storage.is_url(path) else path


def _describe(date: str, path: str, entry: storage.Entry | None = None) -> GoldFile:
    try:
        with storage.parquet_source(path, entry) as source:
            meta = pq.ParquetFile(source).metadata
    except (OSError, pa.ArrowException) as exc:
        raise DatasetError(f"{path}: not a readable parquet file ({str(exc).splitlines()[0]})") from None
    kv = meta.metadata or {}
    labels = None
    if LABELS_KEY in kv:
        try:
            labels = json.loads(kv[LABELS_KEY])
        except ValueError:
            raise DatasetError(f"{path}: metadata {LABELS_KEY.decode()} is not JSON") from None
    version = kv[VERSION_KEY].decode() if VERSION_KEY in kv else None
    return GoldFile(date, str(path), meta.num_rows, version, labels)


def label_config(f: GoldFile) -> dict:
    """The file's label configuration, complete: its metadata, else the project defaults (marked)."""
    v = project_vars()
    default = {
        "threshold_unit": v["label_threshold_unit"],
        "thresholds": v["label_thresholds"],
        "confirmation_windows": v["confirmation_windows"],
        "lookforward_seconds": v["lookforward_seconds"],
        "primary_window": v["primary_label_window"],
    }
    if f.labels is None:
        return {**default, "source": "project defaults (no breakbounce.labels metadata)"}
    return {**default, **f.labels, "source": "file metadata"}


def label_configs_in_use(files: Sequence[GoldFile]) -> list[dict]:
    """The distinct label configurations of ``files``: ``[{"config": {...}, "dates": [...]}]`` in
    order of first use (more than one: the range's outcomes do not mean one thing)."""
    groups: dict[str, dict] = {}
    for f in files:
        cfg = label_config(f)
        key = json.dumps({k: v for k, v in cfg.items() if k != "source"}, sort_keys=True)
        groups.setdefault(key, {"config": cfg, "dates": []})["dates"].append(f.date)
    return list(groups.values())


# --- loading -------------------------------------------------------------------------------------


@dataclass
class GoldSet:
    """A loaded Gold date range: the rows (Arrow), the files they came from, and each row's label
    interval ``[start_ns, label_end_ns]`` (int64 ns UTC; ``start_ns`` = ``ts_ns`` = T0)."""

    table: pa.Table
    files: list[GoldFile]
    start_ns: np.ndarray
    label_end_ns: np.ndarray
    catalog: Catalog = field(repr=False)

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def dates(self) -> list[str]:
        return [f.date for f in self.files]

    def to_pandas(self):
        return self.table.to_pandas()

    def to_polars(self):
        import polars as pl

        return pl.from_arrow(self.table)

    def label_configs(self) -> dict[str, dict]:
        return {f.date: label_config(f) for f in self.files}


def _typed(table: pa.Table, catalog: Catalog, path: str) -> pa.Table:
    """Cast every catalogue column to its catalogue type; keep columns the catalogue does not know."""
    arrays, fields = [], []
    for name, col in zip(table.column_names, table.columns):
        if name in catalog.columns and col.type != catalog.arrow_type(name):
            want = catalog.arrow_type(name)
            try:
                col = col.cast(want)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise DatasetError(
                    f"{path}: column {name} is {col.type}, features.json says {want} ({str(exc).splitlines()[0]})"
                ) from None
        arrays.append(col)
        fields.append(pa.field(name, col.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _label_end(table: pa.Table, config: dict | None) -> np.ndarray:
    """End of each row's label window: T0 + max(window) + look-forward, int64 ns."""
    look = (
        int(
            config["lookforward_seconds"]
            if config and config.get("lookforward_seconds") is not None
            else project_vars()["lookforward_seconds"]
        )
        * NS_PER_S
    )
    start = table.column("ts_ns").to_numpy().astype(np.int64)
    if config and config.get("confirmation_windows"):
        return start + int(max(config["confirmation_windows"])) * NS_PER_S + look
    anchors = [table.column(n) for n in table.column_names if n.startswith("confirm_ts_ns")]
    if not anchors:  # neither metadata nor anchor columns: the project's windows
        return start + int(max(project_vars()["confirmation_windows"])) * NS_PER_S + look
    latest = anchors[0].to_numpy(zero_copy_only=False)
    for a in anchors[1:]:
        latest = np.maximum(latest, a.to_numpy(zero_copy_only=False))
    return latest.astype(np.int64) + look


def load_gold(
    start_date: str,
    end_date: str,
    gold: str | os.PathLike | None = None,
    *,
    columns: Sequence[str] | None = None,
    outcomes: Sequence[str] | None = None,
    label_column: str = "outcome",
    catalog: Catalog | None = None,
) -> GoldSet:
    """Load the Gold files of a date range, typed as ``features.json`` says.

    ``columns``: read only these (plus ``ts_ns`` / ``session_date``; default all). ``outcomes``:
    keep only rows whose ``label_column`` is one of them (e.g. ``("BREAK", "BOUNCE")``). Columns the
    catalogue does not know (a newer Gold) are kept with their file's type; a catalogue column a
    file lacks is an error (an older Gold: rebuild it). Rows are in time order.
    """
    catalog = catalog or load_catalog()
    files = gold_files(start_date, end_date, gold)
    if not files:
        raise DatasetError(
            f"no Gold files for {start_date}..{end_date} under {storage.join(gold or gold_root_default(), 'signals')}"
        )
    tables, ends = [], []
    for f in files:
        try:
            pf = pq.ParquetFile(_source(f.path))
            have = pf.schema_arrow.names
            missing = [n for n in catalog.columns if n not in have]
            if missing:
                raise DatasetError(
                    f"{f.path}: Gold of {f.date} lacks column(s) {', '.join(missing[:5])}"
                    f"{' …' if len(missing) > 5 else ''} of features.json (older Gold: "
                    f"rebuild it with `breakbounce backfill`)"
                )
            anchors = [n for n in have if n.startswith("confirm_ts_ns")]
            read = None
            if columns is not None:
                unknown = [c for c in columns if c not in have]
                if unknown:
                    raise DatasetError(f"{f.path}: no column(s) {', '.join(unknown)}")
                read = list(
                    dict.fromkeys(["ts_ns", "session_date", *columns, *anchors, *([label_column] if outcomes else [])])
                )
            table = pf.read(columns=read)
        except (OSError, pa.ArrowException) as exc:
            raise DatasetError(f"{f.path}: cannot read ({str(exc).splitlines()[0]})") from None
        table = _typed(table, catalog, f.path)
        if outcomes is not None:
            table = table.filter(pc.is_in(table.column(label_column), pa.array(list(outcomes), pa.string())))
        ends.append(_label_end(table, f.labels))
        if columns is not None:
            table = table.select(list(dict.fromkeys(["ts_ns", "session_date", *columns])))
        tables.append(table)
    table = pa.concat_tables(tables, promote_options="default")
    start = table.column("ts_ns").to_numpy().astype(np.int64)
    end = np.concatenate(ends) if ends else np.empty(0, np.int64)
    order = np.lexsort((np.arange(len(start)), start))  # files are in date order; keep it stable
    if not np.array_equal(order, np.arange(len(start))):
        table, start, end = table.take(pa.array(order)), start[order], end[order]
    return GoldSet(table, files, start, end, catalog)


# --- purged walk-forward splits ------------------------------------------------------------------


def _blocks(order: np.ndarray, n_blocks: int, groups: np.ndarray | None) -> list[np.ndarray]:
    """``order`` (indices in time order) cut into ``n_blocks`` contiguous blocks, never cutting a group."""
    if groups is None:
        if len(order) < n_blocks:
            raise ValueError(f"{len(order)} events cannot make {n_blocks} blocks (n_splits + 1)")
        return np.array_split(order, n_blocks)
    g = groups[order]
    change = np.flatnonzero(g[1:] != g[:-1]) + 1
    starts = np.concatenate([[0], change])  # first position of each run of one group
    if len(set(g[starts].tolist())) != len(starts):
        raise ValueError("a group's events are not contiguous in time (groups must be e.g. session dates)")
    if len(starts) < n_blocks:
        raise ValueError(f"{len(starts)} groups cannot make {n_blocks} blocks (n_splits + 1)")
    cuts = [int(starts[c[0]]) for c in np.array_split(np.arange(len(starts)), n_blocks)[1:]]
    return np.split(order, cuts)


def purged_walk_forward(
    start_ns: Sequence[int],
    end_ns: Sequence[int],
    n_splits: int = 5,
    *,
    embargo_ns: int = 0,
    groups: Sequence | None = None,
    train: str = "past",
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs in time order, purged of label overlap.

    Events (label intervals ``[start_ns[i], end_ns[i]]``, closed) are put in time order and cut into
    ``n_splits + 1`` contiguous blocks of about equal size — of events, or of whole ``groups`` (e.g.
    ``session_date``) when given, so a group never straddles two blocks. Fold k = 1..n_splits tests
    block k. Its **span** is ``[first test start, last test label end]``.

    ``train="past"`` (walk-forward): the training candidates are the blocks before the test block.
    ``train="all"`` (purged k-fold): every other block, also the later ones.
    From the candidates, drop every event whose interval overlaps the span (``start <= span_end and
    end >= span_start``) and, after the span, every event starting within ``embargo_ns`` of its end
    (``span_end < start <= span_end + embargo_ns``; only later events can be embargoed, so with
    ``train="past"`` the embargo removes nothing). Yields ``(train, test)`` as int64 index arrays
    into the inputs, each in time order. A fold whose purged training set is empty is still yielded.
    """
    start = np.asarray(start_ns, dtype=np.int64)
    end = np.asarray(end_ns, dtype=np.int64)
    if start.shape != end.shape or start.ndim != 1:
        raise ValueError("start_ns and end_ns must be 1-d and of equal length")
    if (end < start).any():
        raise ValueError("an interval ends before it starts")
    if n_splits < 1:
        raise ValueError("n_splits must be >= 1")
    if train not in ("past", "all"):
        raise ValueError("train must be 'past' or 'all'")
    if embargo_ns < 0:
        raise ValueError("embargo_ns must be >= 0")
    order = np.lexsort((np.arange(len(start)), start))  # time order, ties by position
    g = None if groups is None else np.asarray(groups)
    blocks = _blocks(order, n_splits + 1, g)
    for k in range(1, n_splits + 1):
        test = blocks[k]
        span_lo, span_hi = start[test].min(), end[test].max()
        before = blocks[:k]
        cands = np.concatenate(before + (blocks[k + 1 :] if train == "all" else []))
        s, e = start[cands], end[cands]
        overlap = (s <= span_hi) & (e >= span_lo)
        embargoed = (s > span_hi) & (s <= span_hi + embargo_ns)
        yield cands[~(overlap | embargoed)], test


__all__ = [
    "FEATURE_FAMILIES",
    "Catalog",
    "DatasetError",
    "GoldFile",
    "GoldSet",
    "gold_files",
    "label_config",
    "label_configs_in_use",
    "load_catalog",
    "load_gold",
    "purged_walk_forward",
]
