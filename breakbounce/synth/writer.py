"""Bronze writing for the generator: every file goes through ``breakbounce.bronze.write_table``, to a
local folder or an object-store URL alike (breakbounce/storage.py).

Hourly slices are written by a small thread pool (parquet encoding releases the GIL), with a bound
on the number of tables in flight so memory stays flat. Output bytes never depend on the threading.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from breakbounce import storage
from breakbounce.bronze import NS_PER_HOUR, BronzeTable, utc_date_str, write_table

FILE_NAME = "synthetic.parquet"


class BronzeSink:
    def __init__(self, root: str | os.PathLike, workers: int = 2, max_pending: int = 2):
        self.root = os.fspath(root)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bronze-write")
        self.max_pending = max_pending
        self.pending: list[Future] = []
        self.written: list[str] = []

    def _throttle(self) -> None:
        while len(self.pending) >= self.max_pending:
            self.written.extend(self.pending.pop(0).result())

    def submit(self, table: pa.Table, spec: BronzeTable, file_name: str, trading_date: str | None = None) -> None:
        self._throttle()
        self.pending.append(self.pool.submit(write_table, table, self.root, spec, file_name, trading_date))

    def submit_deferred(self, build, spec: BronzeTable, file_name: str) -> None:
        """Build the table (``build()``) and write it, both in a worker thread."""
        self._throttle()
        self.pending.append(self.pool.submit(lambda: write_table(build(), self.root, spec, file_name)))

    def submit_hourly(self, table: pa.Table, spec: BronzeTable, file_name: str) -> None:
        """Split by UTC hour here so the hours are written in parallel (same files as one call)."""
        hour = table.column("ts_event_ns").to_numpy() // NS_PER_HOUR
        order = np.argsort(hour, kind="stable")
        hs = hour[order]
        contiguous = bool(np.all(np.diff(hour) >= 0))
        b = np.flatnonzero(np.diff(hs)) + 1
        for s, e in zip(np.concatenate([[0], b]), np.concatenate([b, [len(hs)]])):
            part = table.slice(int(s), int(e - s)) if contiguous else table.take(pa.array(order[s:e]))
            self.submit(part, spec, file_name)

    def drain(self) -> list[str]:
        while self.pending:
            self.written.extend(self.pending.pop(0).result())
        out, self.written = self.written, []
        return out

    def close(self) -> None:
        try:
            self.drain()
        finally:
            self.pool.shutdown(wait=True)


def remove_stale(root: str | os.PathLike, spec: BronzeTable, file_name: str, t0: int, t1: int, keep: set[str]) -> int:
    """Delete our file in the hours of [t0, t1) that this run did not (re)write."""
    keep = {storage.absolute(p) for p in keep}
    listed: dict[str, dict] = {}  # one listing per date folder
    n = 0
    for h in range(t0 // NS_PER_HOUR, (t1 - 1) // NS_PER_HOUR + 1):
        date = utc_date_str(h * NS_PER_HOUR)
        if date not in listed:
            listed[date] = storage.find(spec.date_location(storage.absolute(root), date))
        p = storage.join(spec.hour_location(storage.absolute(root), date, h % 24), file_name)
        if p not in keep and p in listed[date]:
            storage.remove(p)
            n += 1
    return n


def write_json_atomic(obj: dict, path: str | os.PathLike) -> None:
    """``obj`` as indented JSON, written whole (a local file or an object)."""
    text = json.dumps(obj, indent=2, sort_keys=False) + "\n"

    def write(tmp: str) -> None:
        with open(tmp, "w") as fh:
            fh.write(text)

    storage.write_atomic(path, write)
