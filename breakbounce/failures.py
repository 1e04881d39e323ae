"""The first real cause of a failed build, in one line, with its exit code (SPEC §12).

A build that fails for one reason usually reports several: a full disk fails the node that was
writing, and every node after it fails with a follow-on error (an invalidated database, a rollback
that has no transaction left); running out of memory fails whichever nodes were running. The run's
error line names the cause the user can act on, not the last symptom:

- disk full (``No space left on device``) and out of memory (DuckDB's limit, ``BB_MEMORY_LIMIT``)
  are named as such: exit 1 (the input is fine; the machine is not);
- a Bronze file whose pages do not decode behind a good footer is found by reading the planned
  files (only now, on the failure path) and named: exit 2 (bad input);
- otherwise the failure that happened first (failed row rules name their rules), exit 1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from breakbounce.errors import UserError
from breakbounce.validation import corrupt_file_error, find_corrupt_file

DISK_FULL = ("no space left on device", "disk is full", "errno 28")
OUT_OF_MEMORY = ("out of memory", "could not allocate", "bad_alloc", "memoryerror")


@dataclass
class Failure:
    node: str
    message: str
    ended: float = 0.0  # seconds into the run when it failed, if known: the earliest is the first cause
    is_test: bool = False


def _matches(message: str, needles: tuple[str, ...]) -> bool:
    low = message.lower()
    return any(n in low for n in needles)


def environment_cause(message: str, where: str) -> UserError | None:
    """Disk full or out of memory, named (exit 1), when ``message`` says so; ``where``: what was
    being done ("building <node>", "opening the warehouse ...")."""
    if _matches(message, DISK_FULL):
        return UserError(f"disk full: No space left on device while {where} ({message})", code=1)
    if _matches(message, OUT_OF_MEMORY):
        limit = os.environ.get("BB_MEMORY_LIMIT")
        setting = f"BB_MEMORY_LIMIT={limit}" if limit else "BB_MEMORY_LIMIT (default 1500MB)"
        return UserError(
            f"out of memory while {where}: DuckDB's memory limit {setting} was reached "
            f"({message}); raise BB_MEMORY_LIMIT",
            code=1,
        )
    return None


def first_cause(failures: list[Failure], planned_files: list[str] = ()) -> UserError:
    """The error to report for a build whose nodes failed with ``failures`` (never empty)."""
    ordered = sorted(failures, key=lambda f: f.ended)
    for needles in (DISK_FULL, OUT_OF_MEMORY):  # a full disk first: it also makes allocations fail
        hit = next((f for f in ordered if _matches(f.message, needles)), None)
        if hit is not None:
            return environment_cause(hit.message, f"building {hit.node}")
    if any(not f.is_test for f in ordered) and planned_files:
        hit = find_corrupt_file(list(planned_files))
        if hit is not None:
            return corrupt_file_error(*hit)
    first = ordered[0]
    more = len(failures) - 1
    tail = f" (and {more} more failure(s) after it; see above)" if more else ""
    return UserError(f"{first.node} failed: {first.message}{tail}", code=1)
