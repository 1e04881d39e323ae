"""Plan one run: which session, which warmup sessions, and exactly which Bronze files to open.

The plan is made in Python (before any SQL runs) because a DuckDB view can only prune what it is
told to read: the plugin hands these file lists to every connection as DuckDB variables, and the
staging models read ``read_parquet(getvariable('bb_..._files'))``. Files outside the plan are never
opened — that is the partition pruning, and it is tested by planting unreadable files elsewhere.

Rule for prior sessions (SPEC §1): earlier calendar sessions that have Bronze, i.e. ES trades files
in the hour partitions of their RTH.

Completeness (SPEC §12): every UTC hour partition a session's data should fill must hold at least one
parquet file — a zero-row file attests an hour that had no records (a quiet hour), no file is a gap:

- ES trades, for the run date and every SMA warmup session: the hours of the Globex day in which ES
  trades (18:00 ET D-1 to 17:00 ET, or to the 13:15 ET halt on an early close); for a volume-only
  warmup session, the hours of its RTH;
- MBP-10 of the run date, when it has any: the hours of [09:30 - 1 h, close).

A gap is a :class:`BronzeError` naming the missing partitions, unless ``allow_gaps``: then the plan
carries the gaps (:attr:`RunPlan.gaps`, the ``bb_gaps`` run variable), the run warns, the Gold
metadata records them and int_quality__event_gaps NULLs what overlaps them. Parquet files in a
folder nested under a partition (Spark's ``hour=15/out.parquet/part-00000.parquet``) are refused,
never silently skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from breakbounce import bronze, calendar, params
from breakbounce.errors import BronzeError
from breakbounce.validation import file_digest, validate_file, validate_plan  # noqa: F401  (the plan's checks, re-exported)

NS_PER_MIN = 60_000_000_000


def mbp10_lead_ns(dbt_vars: dict | None = None) -> int:
    """How long before the RTH open MBP-10 is read (dbt var ``mbp10_lead_minutes``; it covers the
    barrier window and wall_ratio's 30-minute look-back of the first decision)."""
    return params.whole_number("mbp10_lead_minutes", dbt_vars) * NS_PER_MIN


@dataclass(frozen=True)
class Gap:
    """A missing UTC hour partition of a table a session needs: [start_ns, end_ns)."""

    table: str  # es_trades | es_mbp10
    session_date: str  # the session whose data it should hold
    partition: str  # relative to the Bronze root
    start_ns: int
    end_ns: int


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
    #: per warmup session: a fingerprint of the content of exactly the ES trades files read for it;
    #: stg_bronze__es_session_minutes reuses a session's cached minute bars only while it matches
    warmup_fingerprints: dict[str, str] = field(default_factory=dict)
    #: the session each planned ES trades / MBP-10 file was planned for (messages name it)
    file_sessions: dict[str, str] = field(default_factory=dict)
    #: SHA-256 of each planned ES trades file's bytes (the warmup fingerprints are made of them)
    file_digests: dict[str, str] = field(default_factory=dict)
    #: missing partitions the run was allowed to proceed over (``allow_gaps``)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def prior_sessions(self) -> list[str]:
        return [d for d in dict.fromkeys(self.volume_sessions + self.sma_sessions) if d != self.date]

    def gaps_json(self) -> str:
        """The gaps as a JSON list (the ``bb_gaps`` run variable and Gold's ``breakbounce.gaps``)."""
        return json.dumps([asdict(g) for g in self.gaps], separators=(",", ":"))


# --- the hours a session's data should fill --------------------------------------------------------

def es_trading_span(s: calendar.Session) -> tuple[int, int]:
    """[start, end) ns in which ES trades in the session's Globex day: every UTC hour of it must
    have a trades file (the run date and its SMA warmup sessions)."""
    return s.globex_open_ns, calendar.es_trading_end_ns(s)


def mbp10_span(s: calendar.Session, lead_ns: int | None = None) -> tuple[int, int]:
    """[start, end) ns of the run date's MBP-10 that a run reads: :func:`mbp10_lead_ns` (an hour)
    before the open to the close."""
    return s.rth_open_ns - (mbp10_lead_ns() if lead_ns is None else lead_ns), s.rth_close_ns


# --- listing partitions ------------------------------------------------------------------------------

def _parquet_files(directory: Path) -> list[str]:
    """The parquet files directly in ``directory`` (none if it does not exist)."""
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(e.path for e in entries if e.name.endswith(".parquet") and e.is_file())


def partition_files(directory: Path) -> list[str]:
    """The parquet files of one partition folder; a sub-folder holding parquet files is refused.

    Spark and similar writers put a dataset's files in a folder (``hour=15/out.parquet/part-0.parquet``);
    breakbounce reads only files directly in the partition, so such data would otherwise be skipped
    without a word (SPEC §12: read or refused, never silently skipped).
    """
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for e in entries:
        if e.is_dir() and any(p.is_file() for p in Path(e.path).rglob("*.parquet")):
            raise BronzeError(
                f"nested folder {e.path} holds parquet files: breakbounce reads the files directly in "
                f"{directory}, not in folders under it (e.g. a Spark output); move them up into "
                f"{directory} or remove the folder"
            )
    return sorted(e.path for e in entries if e.name.endswith(".parquet") and e.is_file())


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
        if s is not None and any(_parquet_files(p) for p in _hour_dirs(root, bronze.FUTURES_TRADES,
                                                                        s.rth_open_ns, s.rth_close_ns)):
            out.append(d)
    return out


def _hours(start_ns: int, end_ns: int) -> range:
    """UTC hour keys (ts // 1 h) of the hours overlapping [start_ns, end_ns)."""
    return range(start_ns // bronze.NS_PER_HOUR, (end_ns - 1) // bronze.NS_PER_HOUR + 1)


def _hour_dir(root: Path, spec: bronze.BronzeTable, hour_key: int) -> Path:
    return spec.hour_dir(root, bronze.utc_date_str(hour_key * bronze.NS_PER_HOUR), hour_key % 24)


def _hour_dirs(root: Path, spec: bronze.BronzeTable, start_ns: int, end_ns: int) -> list[Path]:
    return [_hour_dir(root, spec, h) for h in _hours(start_ns, end_ns)]


def _hour_files(root: Path, spec: bronze.BronzeTable, start_ns: int, end_ns: int) -> dict[int, list[str]]:
    """Files of the UTC hour partitions overlapping [start_ns, end_ns), by hour key."""
    return {h: partition_files(_hour_dir(root, spec, h)) for h in _hours(start_ns, end_ns)}


def _gaps(root: Path, spec: bronze.BronzeTable, table: str, session_date: str,
          by_hour: dict[int, list[str]], start_ns: int, end_ns: int) -> list[Gap]:
    """The hours overlapping [start_ns, end_ns) without a file."""
    out = []
    for h in _hours(start_ns, end_ns):
        if not by_hour.get(h):
            rel = _hour_dir(root, spec, h).relative_to(root)
            out.append(Gap(table, session_date, str(rel), h * bronze.NS_PER_HOUR, (h + 1) * bronze.NS_PER_HOUR))
    return out


def describe_gaps(root: Path, gaps: list[Gap]) -> str:
    """The missing partitions grouped by table and UTC date, with the sessions they serve, on one line."""
    groups: dict[tuple[str, str], list[Gap]] = {}
    for g in gaps:
        groups.setdefault((g.partition.rsplit("/", 1)[0], g.session_date), []).append(g)
    parts = []
    for (date_dir, session_date), gs in groups.items():
        hours = ",".join(g.partition.rsplit("=", 1)[1] for g in gs)
        parts.append(f"{date_dir}/hour={hours} ({gs[0].table} of session {session_date})")
    return "; ".join(parts) + f" (under {root})"


# --- content fingerprints ------------------------------------------------------------------------------

#: the version of the rules stg_bronze__es_session_minutes aggregates warmup prints by (dedup, session,
#: front month, print order) and of the fingerprint itself; part of every fingerprint, so a change
#: rebuilds cached sessions.
#: 2: fills sharing (ts_event_ns, seq) are ordered as their sweep ran (macros/bars/print_order.sql).
#: 3: fingerprints are of file content (SHA-256 of the bytes), no longer path, size and mtime.
#: 4: the front month is the pre-open volume leader, decided per run (stg_bronze__es_front_month); the
#:    cached minutes keep every contract.
WARMUP_RULES_VERSION = 4


def files_fingerprint(digests: list[str]) -> str:
    """A digest of a file set's content: its files' SHA-256 digests (as a multiset) and the warmup
    rules' version. Paths, sizes and times do not enter it: any change of a byte, an added or a
    removed file changes it; the same content moved or copied elsewhere keeps it."""
    h = hashlib.sha256(f"warmup-rules-{WARMUP_RULES_VERSION}\n".encode())
    for d in sorted(digests):
        h.update(f"{d}\n".encode())
    return h.hexdigest()[:32]


# --- the plan ----------------------------------------------------------------------------------------

def plan_run(
    date: str,
    bronze_root: str | os.PathLike,
    sma_warmup_sessions: int | None = None,
    volume_lookback_sessions: int | None = None,
    allow_gaps: bool = False,
    dbt_vars: dict | None = None,
) -> RunPlan:
    """The plan of one run. The warmup session counts and the MBP-10 lead are the dbt vars of the
    same names (``dbt_vars``: the run's ``--vars`` over dbt_project.yml, :mod:`breakbounce.params`),
    unless given here."""
    if sma_warmup_sessions is None:
        sma_warmup_sessions = params.whole_number("sma_warmup_sessions", dbt_vars)
    if volume_lookback_sessions is None:
        volume_lookback_sessions = params.whole_number("volume_lookback_sessions", dbt_vars)
    mbp_lead_ns = mbp10_lead_ns(dbt_vars)
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
    file_sessions: dict[str, str] = {}
    gaps: list[Gap] = []
    session_files: dict[str, list[str]] = {}
    for d in dict.fromkeys(sma_sessions + volume_sessions):
        s = cal[d]
        # whole Globex day of every session: bars and SMAs, and the front month (SPEC §3: the pre-open
        # volume leader) of volume-only sessions too; one file set per session also lets a session
        # keep its cached minutes when it turns from an SMA session into a volume-only one
        by_hour = _hour_files(root, bronze.FUTURES_TRADES, s.globex_open_ns, s.globex_close_ns)
        gaps += _gaps(root, bronze.FUTURES_TRADES, "es_trades", d, by_hour, *es_trading_span(s))
        files = [f for fs in by_hour.values() for f in fs]
        session_files[d] = files
        for f in files:
            file_sessions.setdefault(f, d)
        es_files += files
    es_files = sorted(set(es_files))
    digests = {f: file_digest(f) for f in es_files}
    fingerprints = {d: files_fingerprint([digests[f] for f in files])
                    for d, files in session_files.items() if d != date}

    mbp_by_hour = _hour_files(root, bronze.FUTURES_MBP10, *mbp10_span(sess, mbp_lead_ns))
    mbp_files = [f for fs in mbp_by_hour.values() for f in fs]
    if mbp_files:  # no MBP-10 at all is allowed (a warning); part of it is a gap
        gaps += _gaps(root, bronze.FUTURES_MBP10, "es_mbp10", date, mbp_by_hour, *mbp10_span(sess, mbp_lead_ns))
    file_sessions.update({f: date for f in mbp_files})
    opt_files = partition_files(bronze.OPTION_TRADES.date_dir(root, date))
    if gaps and not allow_gaps:
        raise BronzeError(f"incomplete Bronze for {date}: no parquet file in {describe_gaps(root, gaps)}; "
                          "pass --allow-gaps to build anyway (features over a gap are NULL, the gaps "
                          "are recorded in the Gold metadata)")
    plan = RunPlan(date, root, sess, sma_sessions, volume_sessions, es_files, mbp_files, opt_files,
                   warmup_fingerprints=fingerprints, file_sessions=file_sessions, file_digests=digests, gaps=gaps)
    if gaps:
        plan.warnings.append(f"{date}: building over {len(gaps)} missing partition(s) (--allow-gaps): "
                             f"{describe_gaps(root, gaps)}; features whose window overlaps them are NULL")
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
