"""Hand-made Gold files for the dataset / report / evaluate tests: every column of features.json with
its catalogue type, values chosen by the test (everything else: a neutral default or seeded noise)."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from breakbounce import calendar
from breakbounce.dataset import load_catalog

NS_PER_MIN = 60_000_000_000


def gold_table(
    date: str,
    n: int,
    values: dict | None = None,
    rng: np.random.Generator | None = None,
    minutes: list[int] | None = None,
) -> pa.Table:
    """``n`` events of ``date`` at RTH minutes ``minutes`` (default 0, 2, 4, ...) after 09:30.

    ``values``: column -> list of n values (others: noise for numeric features, fixed defaults else).
    """
    cat = load_catalog()
    rng = rng or np.random.default_rng(0)
    values = dict(values or {})
    s = calendar.session(date)
    mins = minutes if minutes is not None else [2 * i for i in range(n)]
    t0 = [s.rth_open_ns + m * NS_PER_MIN for m in mins]
    defaults = {
        "event_id": [f"{date}-{i:05d}" for i in range(n)],
        "ts_ns": t0,
        "available_ts_ns": [t + NS_PER_MIN for t in t0],
        "session_date": [dt.date.fromisoformat(date)] * n,
        "date": [date] * n,
        "symbol": ["SPY"] * n,
        "level_kind": [7] * n,
        "level_kind_name": ["VWAP"] * n,
        "direction": ["UP"] * n,
        "direction_sign": [1] * n,
        "barrier_state": ["NEUTRAL"] * n,
        "fuel_effect": ["NEUTRAL"] * n,
        "gamma_bucket": ["LONG_GAMMA"] * n,
    }
    for w, sec in (("2min", 120), ("4min", 240), ("8min", 480)):
        defaults[f"confirm_ts_ns_{w}"] = [t + sec * 1_000_000_000 for t in t0]
        defaults[f"outcome_{w}"] = values.get("outcome", ["CHOP"] * n)
    defaults["confirm_ts_ns"] = defaults["confirm_ts_ns_4min"]
    arrays, fields = [], []
    table_seed = int(rng.integers(2**32))  # one draw per table: a column's noise never depends on the others
    for name in cat.columns:
        t = cat.arrow_type(name)
        col_rng = np.random.default_rng([table_seed, zlib.crc32(name.encode())])
        if name in values:
            v = values[name]
        elif name in defaults:
            v = defaults[name]
        elif name.startswith("outcome"):
            v = ["CHOP"] * n
        elif pa.types.is_floating(t):
            v = col_rng.normal(size=n).tolist()
        elif pa.types.is_integer(t):
            v = col_rng.integers(0, 5, n).tolist()
        elif pa.types.is_boolean(t):
            v = (col_rng.random(n) < 0.5).tolist()
        else:
            v = ["X"] * n
        arrays.append(pa.array(v, type=t))
        fields.append(pa.field(name, t))
    for name in values:  # columns the catalogue does not know (a newer Gold)
        if name not in cat.columns:
            arr = pa.array(values[name])
            arrays.append(arr)
            fields.append(pa.field(name, arr.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_gold(root: Path, date: str, table: pa.Table, labels: dict | None = None, version: str | None = None) -> Path:
    path = Path(root) / "signals" / f"date={date}" / "signals.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(table.schema.metadata or {})
    if labels is not None:
        meta[b"breakbounce.labels"] = json.dumps(labels).encode()
    if version is not None:
        meta[b"breakbounce.version"] = version.encode()
    pq.write_table(table.replace_schema_metadata(meta or None), path, compression="zstd")
    return path


def planted_month(root: Path, dates: list[str], n: int = 60, seed: int = 0, signal: float = 1.5) -> dict:
    """Gold for ``dates`` where BREAK vs BOUNCE is planted in ``tape_imbalance`` (and nowhere else):
    BREAK events draw it from N(+signal/2, 1), BOUNCE from N(-signal/2, 1); a quarter are CHOP."""
    rng = np.random.default_rng(seed)
    truth = {}
    for d in dates:
        outcome = rng.choice(["BREAK", "BOUNCE", "CHOP"], size=n, p=[0.375, 0.375, 0.25]).tolist()
        sign = np.array([1.0 if o == "BREAK" else -1.0 if o == "BOUNCE" else 0.0 for o in outcome])
        tape = rng.normal(size=n) + sign * signal / 2
        write_gold(root, d, gold_table(d, n, {"outcome": outcome, "tape_imbalance": tape.tolist()}, rng))
        truth[d] = outcome
    return truth
