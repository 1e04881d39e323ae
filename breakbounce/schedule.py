"""The fast engine's schedule: in which order the graph's nodes run, what each waits for, and which
ready node goes first (the longest remaining chain of the last run's node times,
:func:`critical_path_priority`). Pure functions of the :class:`breakbounce.graph.Node` list; the
engine (:mod:`breakbounce.engine`) executes what they decide.
"""

from __future__ import annotations

import json
from pathlib import Path

from breakbounce.graph import EngineError, Node


def execution_order(nodes: list[Node]) -> list[Node]:
    """Models and seeds in dependency order (ties by name); each test right after its last parent."""
    by_uid = {n.uid: n for n in nodes}
    nodes = [n for n in nodes if n.kind not in ("operation", "exposure")]
    by_uid = {n.uid: n for n in nodes}
    builds = [n for n in nodes if n.kind != "test"]
    tests = sorted((n for n in nodes if n.kind == "test"), key=lambda n: n.name)
    waiting = {n.uid: {d for d in n.depends_on if d in by_uid and by_uid[d].kind != "test"} for n in builds}
    done: set[str] = set()
    order: list[Node] = []
    pending_tests = list(tests)
    while waiting:
        ready = sorted((uid for uid, deps in waiting.items() if deps <= done), key=lambda u: by_uid[u].name)
        if not ready:
            raise EngineError(f"dependency cycle among {sorted(waiting)}")
        uid = ready[0]
        del waiting[uid]
        done.add(uid)
        order.append(by_uid[uid])
        runnable = [t for t in pending_tests if set(t.depends_on) <= done]
        order.extend(runnable)
        pending_tests = [t for t in pending_tests if t not in runnable]
    if pending_tests:
        raise EngineError(f"tests with unknown parents: {[t.name for t in pending_tests]}")
    return order


def descendants(nodes: list[Node], roots: set[str]) -> set[str]:
    children: dict[str, list[str]] = {}
    for n in nodes:
        for d in n.depends_on:
            children.setdefault(d, []).append(n.uid)
    out, stack = set(), list(roots)
    while stack:
        for c in children.get(stack.pop(), []):
            if c not in out:
                out.add(c)
                stack.append(c)
    return out


def schedule(nodes: list[Node]) -> tuple[list[Node], dict[str, set[str]]]:
    """The nodes to run in priority order (:func:`execution_order`), and what each one waits for.

    A node waits for the nodes it reads (through ephemeral models, which dbt inlined) and, like
    ``dbt build``, a model also waits for the tests of what it reads, unless such a test itself
    reads something that is not upstream of the model (it cannot run first).
    """
    by_uid = {n.uid: n for n in nodes}
    order = [n for n in execution_order(nodes) if n.materialized != "ephemeral"]

    def real_parents(uid: str) -> set[str]:
        out = set()
        for d in by_uid[uid].depends_on:
            if d not in by_uid:
                continue
            out |= real_parents(d) if by_uid[d].materialized == "ephemeral" else {d}
        return out

    parents = {n.uid: real_parents(n.uid) for n in order}
    ancestors: dict[str, set[str]] = {}
    for n in order:  # priority order is a topological order
        ancestors[n.uid] = set().union(*([parents[n.uid]] + [ancestors[p] for p in parents[n.uid]]))
    tests = [n for n in order if n.kind == "test"]
    waits = {}
    for n in order:
        need = set(parents[n.uid])
        if n.kind != "test":
            for t in tests:
                if parents[t.uid] & parents[n.uid] and parents[t.uid] <= ancestors[n.uid]:
                    need.add(t.uid)
        waits[n.uid] = need
    return order, waits


def critical_path_priority(
    order: list[Node], waits: dict[str, set[str]], seconds: dict[str, float]
) -> dict[str, float]:
    """Each node's bottom level: its own expected seconds plus the longest chain of expected seconds
    through what waits for it, down to the end of the run (nodes without a time count 0.01 s).

    Starting the ready node with the largest value first is the classic list-scheduling rule: the
    chain that decides the run's length never waits behind work that could go later.
    """
    children: dict[str, list[str]] = {n.uid: [] for n in order}
    for uid, needs in waits.items():
        for need in needs:
            children[need].append(uid)
    level: dict[str, float] = {}
    for n in reversed(order):  # a topological order, reversed: children first
        level[n.uid] = seconds.get(n.uid, 0.01) + max((level[c] for c in children[n.uid]), default=0.0)
    return level


def previous_seconds(target_path: str) -> dict[str, float]:
    """Node execution times of the last fast run written to ``target_path`` (empty if none)."""
    try:
        doc = json.loads((Path(target_path) / "run_results.json").read_text())
        if doc.get("metadata", {}).get("engine") != "breakbounce-fast":
            return {}
        return {r["unique_id"]: float(r["execution_time"]) for r in doc["results"] if r.get("status") != "skipped"}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
