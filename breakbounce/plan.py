"""Plan one run: which session, which warmup sessions, and exactly which Bronze files to open.

The plan is made in Python (before any SQL runs) because a DuckDB view can only prune what it is
told to read: the plugin hands these file lists to every connection as DuckDB variables, and the
staging models read ``read_parquet(getvariable('bb_..._files'))``. Files outside the plan are never
opened — that is the partition pruning, and it is tested by planting unreadable files elsewhere.

The Bronze root is a local folder or an object-store URL: partitions are listed through
:mod:`breakbounce.storage` (fsspec), each folder once (:class:`BronzeListing`).

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

from breakbounce import bronze, calendar, params, storage
from breakbounce.errors import BronzeError
from breakbounce.validation import validate_file, validate_plan  # noqa: F401  (the plan's checks, re-exported)

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
    bronze_root: str  # an absolute path or an object-store URL
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
    #: content digest of each planned ES trades file (the warmup fingerprints are made of them): SHA-256
    #: of a local file's bytes, an object's listed ETag and size (breakbounce.storage.content_digest);
    #: on an object store also of the MBP-10 and option files
    file_digests: dict[str, str] = field(default_factory=dict)
    #: missing partitions the run was allowed to proceed over (``allow_gaps``)
    gaps: list[Gap] = field(default_factory=list)
    #: on an object store: each planned file's listing (size, ETag), so that reading it (DuckDB,
    #: the validation's footers) needs no HEAD request first (breakbounce.storage.register)
    file_entries: dict[str, storage.Entry] = field(default_factory=dict)

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


class BronzeListing:
    """What a Bronze root holds, listed through :mod:`breakbounce.storage` (fsspec): a local folder
    or an object-store URL alike, each folder listed once.

    A plan lists the ES trades table's ``date=`` folders (one request), then each date folder it
    needs recursively (one request each, up to 1,000 objects): the run date, its warmup sessions and
    the day before each (the Globex open); MBP-10 and options of the run date. Nothing is opened:
    sizes and ETags come with the listing.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = storage.absolute(root)
        self._dates: dict[str, list[str]] = {}
        self._files: dict[tuple[str, str], dict[str, storage.Entry]] = {}

    def dates(self, spec: bronze.BronzeTable) -> list[str]:
        """The dates with a ``date=`` folder, sorted."""
        if spec.name not in self._dates:
            self._dates[spec.name] = sorted(
                n[5:] for n in storage.subdirs(spec.table_location(self.root)) if n.startswith("date=")
            )
        return self._dates[spec.name]

    def list_table(self, spec: bronze.BronzeTable) -> None:
        """List every file of the table at once (every date is needed: one request per 1,000 objects
        on S3 instead of one per date)."""
        table = storage.join(spec.table_location(self.root), "")
        by_date: dict[str, dict[str, storage.Entry]] = {}
        for path, entry in storage.find(table).items():
            first = path[len(table) :].split("/", 1)[0]
            if first.startswith("date="):
                by_date.setdefault(first[5:], {})[path] = entry
        for d in self.dates(spec):
            self._files[(spec.name, d)] = by_date.get(d, {})

    def date_files(self, spec: bronze.BronzeTable, date: str) -> dict[str, storage.Entry]:
        """Every file under the table's ``date=`` folder (recursively), by location."""
        key = (spec.name, date)
        if key not in self._files:
            self._files[key] = storage.find(spec.date_location(self.root, date))
        return self._files[key]

    def _split(self, spec: bronze.BronzeTable, date: str, folder: str) -> tuple[list[str], list[str]]:
        """(parquet files directly in ``folder``, sub-folders of it holding parquet files)."""
        prefix = storage.join(folder, "")
        direct, nested = [], set()
        for path in self.date_files(spec, date):
            if path.startswith(prefix) and path.endswith(".parquet"):
                rel = path[len(prefix) :]
                if "/" in rel:
                    nested.add(storage.join(folder, rel.split("/", 1)[0]))
                else:
                    direct.append(path)
        return sorted(direct), sorted(nested)

    def _folder(self, spec: bronze.BronzeTable, date: str, hour: int | None) -> str:
        return spec.date_location(self.root, date) if hour is None else spec.hour_location(self.root, date, hour)

    def direct_files(self, spec: bronze.BronzeTable, date: str, hour: int | None = None) -> list[str]:
        """The parquet files directly in a partition folder (none if it does not exist)."""
        return self._split(spec, date, self._folder(spec, date, hour))[0]

    def partition_files(self, spec: bronze.BronzeTable, date: str, hour: int | None = None) -> list[str]:
        """The parquet files of one partition folder; a sub-folder holding parquet files is refused.

        Spark and similar writers put a dataset's files in a folder (``hour=15/out.parquet/part-0.parquet``);
        breakbounce reads only files directly in the partition, so such data would otherwise be skipped
        without a word (SPEC §12: read or refused, never silently skipped).
        """
        folder = self._folder(spec, date, hour)
        direct, nested = self._split(spec, date, folder)
        if nested:
            raise BronzeError(
                f"nested folder {nested[0]} holds parquet files: breakbounce reads the files directly in "
                f"{folder}, not in folders under it (e.g. a Spark output); move them up into "
                f"{folder} or remove the folder"
            )
        return direct

    def has_session(self, s: calendar.Session) -> bool:
        """Whether the session has Bronze: ES trades files in the hours of its RTH."""
        return any(
            self.direct_files(bronze.FUTURES_TRADES, *_date_hour(h)) for h in _hours(s.rth_open_ns, s.rth_close_ns)
        )

    def entry(self, path: str) -> storage.Entry | None:
        for files in self._files.values():
            if path in files:
                return files[path]
        return None

    def digest(self, path: str) -> str:
        """The content digest of a listed file (:func:`breakbounce.storage.content_digest`)."""
        return storage.content_digest(path, self.entry(path))


def _date_hour(hour_key: int) -> tuple[str, int]:
    return bronze.utc_date_str(hour_key * bronze.NS_PER_HOUR), hour_key % 24


def dates_with_es_trades(bronze_root: str | os.PathLike) -> list[str]:
    """UTC dates whose ES trades partition holds at least one parquet file, sorted."""
    listing = BronzeListing(bronze_root)
    listing.list_table(bronze.FUTURES_TRADES)
    return [
        d
        for d in listing.dates(bronze.FUTURES_TRADES)
        if any(p.endswith(".parquet") for p in listing.date_files(bronze.FUTURES_TRADES, d))
    ]


def sessions_with_bronze(bronze_root: str | os.PathLike, listing: BronzeListing | None = None) -> list[str]:
    """Calendar sessions that have Bronze, sorted: ES trades files in the hours of their RTH.

    Looking at the RTH hours (not just the UTC ``date=`` folder) matters: that folder also holds the
    next session's 18:00-19:00 ET Globex open, which alone must not make a missing day count as a
    warmup session with no volume.
    """
    cal = calendar.load_calendar()
    listing = listing or BronzeListing(bronze_root)
    listing.list_table(bronze.FUTURES_TRADES)
    return [d for d in listing.dates(bronze.FUTURES_TRADES) if d in cal and listing.has_session(cal[d])]


def _hours(start_ns: int, end_ns: int) -> range:
    """UTC hour keys (ts // 1 h) of the hours overlapping [start_ns, end_ns)."""
    return range(start_ns // bronze.NS_PER_HOUR, (end_ns - 1) // bronze.NS_PER_HOUR + 1)


def _hour_files(listing: BronzeListing, spec: bronze.BronzeTable, start_ns: int, end_ns: int) -> dict[int, list[str]]:
    """Files of the UTC hour partitions overlapping [start_ns, end_ns), by hour key."""
    return {h: listing.partition_files(spec, *_date_hour(h)) for h in _hours(start_ns, end_ns)}


def _gaps(
    root: str,
    spec: bronze.BronzeTable,
    table: str,
    session_date: str,
    by_hour: dict[int, list[str]],
    start_ns: int,
    end_ns: int,
) -> list[Gap]:
    """The hours overlapping [start_ns, end_ns) without a file."""
    out = []
    for h in _hours(start_ns, end_ns):
        if not by_hour.get(h):
            rel = spec.hour_location(root, *_date_hour(h))[len(storage.join(root, "")) :]
            out.append(Gap(table, session_date, rel, h * bronze.NS_PER_HOUR, (h + 1) * bronze.NS_PER_HOUR))
    return out


def describe_gaps(root: str | os.PathLike, gaps: list[Gap]) -> str:
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
    root = storage.absolute(bronze_root)
    if not storage.is_url(root):
        root = str(Path(root).resolve())
    try:
        sess = calendar.session(date)
    except KeyError as exc:
        raise BronzeError(str(exc.args[0])) from None
    listing = BronzeListing(root)
    trades_dir = bronze.FUTURES_TRADES.date_location(root, date)
    if not listing.has_session(sess):
        raise BronzeError(f"no Bronze ES trades for {date}: {trades_dir} has no parquet files for the RTH hours")
    cal = calendar.load_calendar()
    # prior sessions with Bronze, newest first: walk back over the date folders, listing only those
    # needed (a history of years is never listed whole)
    wanted = max(sma_warmup_sessions, volume_lookback_sessions)
    prior: list[str] = []
    for d in reversed(listing.dates(bronze.FUTURES_TRADES)):
        if len(prior) >= wanted:
            break
        if d < date and d in cal and listing.has_session(cal[d]):
            prior.append(d)
    sma_sessions = [date] + prior[:sma_warmup_sessions]
    volume_sessions = [date] + prior[:volume_lookback_sessions]

    es_files: list[str] = []
    file_sessions: dict[str, str] = {}
    gaps: list[Gap] = []
    session_files: dict[str, list[str]] = {}
    for d in dict.fromkeys(sma_sessions + volume_sessions):
        s = cal[d]
        # whole Globex day of every session: bars and SMAs, and the front month (SPEC §3: the pre-open
        # volume leader) of volume-only sessions too; one file set per session also lets a session
        # keep its cached minutes when it turns from an SMA session into a volume-only one
        by_hour = _hour_files(listing, bronze.FUTURES_TRADES, s.globex_open_ns, s.globex_close_ns)
        gaps += _gaps(root, bronze.FUTURES_TRADES, "es_trades", d, by_hour, *es_trading_span(s))
        files = [f for fs in by_hour.values() for f in fs]
        session_files[d] = files
        for f in files:
            file_sessions.setdefault(f, d)
        es_files += files
    es_files = sorted(set(es_files))
    digests = {f: listing.digest(f) for f in es_files}
    fingerprints = {
        d: files_fingerprint([digests[f] for f in files]) for d, files in session_files.items() if d != date
    }

    mbp_by_hour = _hour_files(listing, bronze.FUTURES_MBP10, *mbp10_span(sess, mbp_lead_ns))
    mbp_files = [f for fs in mbp_by_hour.values() for f in fs]
    if mbp_files:  # no MBP-10 at all is allowed (a warning); part of it is a gap
        gaps += _gaps(root, bronze.FUTURES_MBP10, "es_mbp10", date, mbp_by_hour, *mbp10_span(sess, mbp_lead_ns))
    file_sessions.update({f: date for f in mbp_files})
    opt_files = listing.partition_files(bronze.OPTION_TRADES, date)
    entries: dict[str, storage.Entry] = {}
    if storage.is_url(root):  # an object's size and digest come with its listing: free
        digests.update({f: listing.digest(f) for f in mbp_files + opt_files})
        entries = {f: e for f in es_files + mbp_files + opt_files if (e := listing.entry(f)) is not None}
    if gaps and not allow_gaps:
        raise BronzeError(
            f"incomplete Bronze for {date}: no parquet file in {describe_gaps(root, gaps)}; "
            "pass --allow-gaps to build anyway (features over a gap are NULL, the gaps "
            "are recorded in the Gold metadata)"
        )
    plan = RunPlan(
        date,
        root,
        sess,
        sma_sessions,
        volume_sessions,
        es_files,
        mbp_files,
        opt_files,
        warmup_fingerprints=fingerprints,
        file_sessions=file_sessions,
        file_digests=digests,
        gaps=gaps,
        file_entries=entries,
    )
    if gaps:
        plan.warnings.append(
            f"{date}: building over {len(gaps)} missing partition(s) (--allow-gaps): "
            f"{describe_gaps(root, gaps)}; features whose window overlaps them are NULL"
        )
    if not mbp_files:
        plan.warnings.append(
            f"no Bronze MBP-10 for {date} under {bronze.FUTURES_MBP10.table_location(root)}: barrier features will be NULL"
        )
    if not opt_files:
        plan.warnings.append(
            f"no Bronze option trades for {date}: {bronze.OPTION_TRADES.date_location(root, date)} is empty; gamma features will be NULL"
        )
    if len(prior) < max(sma_warmup_sessions, volume_lookback_sessions):
        plan.warnings.append(
            f"{date}: only {len(prior)} prior session(s) with Bronze "
            f"(asked {sma_warmup_sessions} for SMA warmup, {volume_lookback_sessions} for relative volume)"
        )
    return plan
