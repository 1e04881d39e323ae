"""Plan one run: which session, which warmup sessions, and exactly which Bronze files to open.

The plan is made in Python (before any SQL runs) because a DuckDB view can only prune what it is
told to read: the plugin hands these file lists to every connection as DuckDB variables, and the
staging models read ``read_parquet(getvariable('bb_..._files'))``. Files outside the plan are never
opened — that is the partition pruning, and it is tested by planting unreadable files elsewhere.

Rule for prior sessions (SPEC §1): earlier calendar sessions that have Bronze, i.e. whose UTC
``date=`` partition of ES trades holds at least one parquet file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from breakbounce import bronze, calendar

NS_PER_MIN = 60_000_000_000
#: MBP-10 is read from this long before the RTH open (barrier window 240 s + wall_ratio's 30 min).
MBP10_LEAD_NS = 60 * NS_PER_MIN


class BronzeError(Exception):
    """Bad or missing Bronze input. ``str()`` is a one-line message naming the date / file / column."""


@dataclass
class RunPlan:
    date: str
    bronze_root: Path
    session: calendar.Session
    sma_sessions: list[str]  # the run date first, then up to N prior sessions with Bronze (newest first)
    volume_sessions: list[str]
    es_trade_files: list[str]
    mbp10_files: list[str]
    option_files: list[str]
    warnings: list[str] = field(default_factory=list)
    #: per warmup session: a fingerprint of exactly the ES trades files read for it (path, size,
    #: mtime); int_bars__es_session_minutes reuses a session's cached minute bars only while it matches
    warmup_fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def prior_sessions(self) -> list[str]:
        return [d for d in dict.fromkeys(self.volume_sessions + self.sma_sessions) if d != self.date]


def _parquet_files(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(str(p) for p in directory.glob("*.parquet") if p.is_file())


def dates_with_es_trades(bronze_root: str | os.PathLike) -> list[str]:
    """UTC dates whose ES trades partition holds at least one parquet file, sorted."""
    base = Path(bronze_root) / bronze.FUTURES_TRADES.subdir
    if not base.is_dir():
        return []
    out = []
    for entry in os.scandir(base):
        if entry.is_dir() and entry.name.startswith("date="):
            d = entry.name[5:]
            if any(_parquet_files(Path(entry.path) / h) for h in os.listdir(entry.path)):
                out.append(d)
    return sorted(out)


def sessions_with_bronze(bronze_root: str | os.PathLike) -> list[str]:
    """Calendar sessions that have Bronze, sorted: ES trades files in the hours of their RTH.

    Looking at the RTH hours (not just the UTC ``date=`` folder) matters: that folder also holds the
    next session's 18:00-19:00 ET Globex open, which alone must not make a missing day count as a
    warmup session with no volume.
    """
    cal = calendar.load_calendar()
    root = Path(bronze_root)
    out = []
    for d in dates_with_es_trades(root):
        s = cal.get(d)
        if s is not None and _hour_files(root, bronze.FUTURES_TRADES, s.rth_open_ns, s.rth_close_ns):
            out.append(d)
    return out


def _hour_files(root: Path, spec: bronze.BronzeTable, start_ns: int, end_ns: int) -> list[str]:
    """Files of the UTC hour partitions overlapping [start_ns, end_ns)."""
    files: list[str] = []
    for h in range(start_ns // bronze.NS_PER_HOUR, (end_ns - 1) // bronze.NS_PER_HOUR + 1):
        date = bronze.utc_date_str(h * bronze.NS_PER_HOUR)
        files += _parquet_files(spec.hour_dir(root, date, h % 24))
    return files


#: the version of the rules int_bars__es_session_minutes aggregates warmup prints by (dedup, session,
#: front month, print order); part of every fingerprint, so a rule change rebuilds cached sessions.
#: 2: fills sharing (ts_event_ns, seq) are ordered as their sweep ran (macros/bars/print_order.sql).
#: 3: the front month is the pre-open volume leader, decided per run (stg_bronze__es_front_month).
WARMUP_RULES_VERSION = 3


def files_fingerprint(files: list[str]) -> str:
    """A digest of a file set: each file's absolute path, size and modification time (ns), and the
    warmup rules' version.

    Bronze is only ever replaced by an atomic rename of a new file, so any rewrite, addition or
    removal of a file changes the digest; identical content re-written also does (a harmless rebuild).
    """
    h = hashlib.sha256(f"warmup-rules-{WARMUP_RULES_VERSION}\n".encode())
    for f in sorted(files):
        st = os.stat(f)
        h.update(f"{os.path.abspath(f)}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def plan_run(
    date: str,
    bronze_root: str | os.PathLike,
    sma_warmup_sessions: int = 3,
    volume_lookback_sessions: int = 7,
) -> RunPlan:
    root = Path(bronze_root).resolve()
    try:
        sess = calendar.session(date)
    except KeyError as exc:
        raise BronzeError(str(exc.args[0])) from None
    trades_dir = bronze.FUTURES_TRADES.date_dir(root, date)
    available = sessions_with_bronze(root)
    if date not in available:
        raise BronzeError(f"no Bronze ES trades for {date}: {trades_dir} has no parquet files for the RTH hours")
    prior = [d for d in available if d < date][::-1]
    sma_sessions = [date] + prior[:sma_warmup_sessions]
    volume_sessions = [date] + prior[:volume_lookback_sessions]
    cal = calendar.load_calendar()

    es_files: list[str] = []
    fingerprints: dict[str, str] = {}
    for d in dict.fromkeys(sma_sessions + volume_sessions):
        s = cal[d]
        # whole Globex day of every session: bars and SMAs, and the front month (SPEC §3: the pre-open
        # volume leader) of volume-only sessions too; one file set per session also lets a session
        # keep its cached minutes when it turns from an SMA session into a volume-only one
        files = _hour_files(root, bronze.FUTURES_TRADES, s.globex_open_ns, s.globex_close_ns)
        es_files += files
        if d != date:
            fingerprints[d] = files_fingerprint(files)
    es_files = sorted(set(es_files))

    mbp_files = _hour_files(root, bronze.FUTURES_MBP10, sess.rth_open_ns - MBP10_LEAD_NS, sess.rth_close_ns)
    opt_files = _parquet_files(bronze.OPTION_TRADES.date_dir(root, date))
    plan = RunPlan(date, root, sess, sma_sessions, volume_sessions, es_files, mbp_files, opt_files,
                   warmup_fingerprints=fingerprints)
    if not mbp_files:
        plan.warnings.append(f"no Bronze MBP-10 for {date} under {bronze.FUTURES_MBP10.date_dir(root, date).parent}: barrier features will be NULL")
    if not opt_files:
        plan.warnings.append(f"no Bronze option trades for {date}: {bronze.OPTION_TRADES.date_dir(root, date)} is empty; gamma features will be NULL")
    if len(prior) < max(sma_warmup_sessions, volume_lookback_sessions):
        plan.warnings.append(
            f"{date}: only {len(prior)} prior session(s) with Bronze "
            f"(asked {sma_warmup_sessions} for SMA warmup, {volume_lookback_sessions} for relative volume)"
        )
    return plan


# --- validation of the planned files -------------------------------------------------------------

def _kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_null(t):
        return "null"
    return str(t)


_COMPATIBLE = {"integer": {"integer"}, "float": {"float", "integer"}, "string": {"string"}, "boolean": {"boolean"}}
#: Columns that may be all-null in Bronze (the earlier pipeline wrote them as the null type).
_NULLABLE = {"conditions", "opt_bid", "opt_ask", "seq", "is_snapshot"}


def validate_file(path: str, spec: bronze.BronzeTable) -> None:
    """Raise BronzeError naming the file (and column) when it is unreadable or off-contract."""
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for corrupt footers
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BronzeError(f"unreadable parquet file {path}: {reason}") from None
    for f in spec.schema:
        if f.name not in schema.names:
            raise BronzeError(f"{path}: missing column '{f.name}' ({spec.name})")
        got, want = _kind(schema.field(f.name).type), _kind(f.type)
        if want == "list<item: int16>" or f.name in _NULLABLE and got == "null":
            continue
        if got not in _COMPATIBLE.get(want, {want}):
            raise BronzeError(
                f"{path}: column '{f.name}' has type {schema.field(f.name).type}, expected {f.type} ({spec.name})"
            )


def validate_plan(plan: RunPlan) -> None:
    for files, spec in (
        (plan.es_trade_files, bronze.FUTURES_TRADES),
        (plan.mbp10_files, bronze.FUTURES_MBP10),
        (plan.option_files, bronze.OPTION_TRADES),
    ):
        for path in files:
            validate_file(path, spec)
