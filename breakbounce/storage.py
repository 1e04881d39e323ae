"""Where Bronze and Gold live: a local folder or an object-store URL (``s3://bucket/prefix``).

One abstraction for both, on fsspec: every place that lists, reads or writes Bronze or Gold outside
DuckDB goes through this module. A local path is fsspec's local filesystem; an ``s3://`` URL is s3fs,
the optional extra ``pip install -e '.[s3]'`` (without it, an s3 URL is a one-line usage error naming
the extra). DuckDB reads objects through the same filesystem, registered on its connection
(:func:`register`), so the httpfs extension is never needed.

Credentials and the endpoint come from the usual places, never from the command line: the ``AWS_*``
environment variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``,
``AWS_ENDPOINT_URL`` for an S3-compatible server), ``~/.aws/config`` and ``~/.aws/credentials``, an
instance or pod role, or an fsspec configuration (``~/.config/fsspec/s3.json``, ``FSSPEC_S3_*``).

Writes are whole (:func:`write_atomic`): a local file is written to a temporary file in its folder and
renamed over the target; an object is written to a local temporary file and uploaded in one PUT (a
large one in one multipart upload, which S3 makes visible only once complete). A reader never sees a
partial file or object, and a failed write leaves the previous one.

Content digests (:func:`content_digest`, the warmup cache's and the validation memo's key) are the
SHA-256 of a local file's bytes; for an object, its ETag and size as listed (an MD5 of the content
for a plain upload; any rewrite changes it), so planning reads listings and footers, never whole
objects.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import os
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from breakbounce.errors import UserError

#: the install command of the object-store extra, named by every error about a missing one
S3_EXTRA = "pip install -e '.[s3]'"
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def scheme(location: str | os.PathLike) -> str | None:
    """``s3`` for ``s3://bucket/key``; None for a local path (``file://`` counts as local)."""
    m = _SCHEME.match(os.fspath(location))
    return None if m is None or m.group(1).lower() == "file" else m.group(1).lower()


def is_url(location: str | os.PathLike) -> bool:
    """Whether ``location`` is an object-store URL rather than a local path."""
    return scheme(location) is not None


def absolute(location: str | os.PathLike) -> str:
    """A local path made absolute; a URL as given, without a trailing slash."""
    text = os.fspath(location)
    if is_url(text):
        return text.rstrip("/")
    if text.startswith("file://"):
        text = text[len("file://") :]
    return os.path.abspath(text)


def join(location: str | os.PathLike, *parts: str) -> str:
    text = os.fspath(location)
    if is_url(text):
        return posixpath.join(text.rstrip("/"), *parts)
    return os.path.join(text, *parts)


def parent(location: str | os.PathLike) -> str:
    text = os.fspath(location)
    return posixpath.dirname(text.rstrip("/")) if is_url(text) else os.path.dirname(text)


def name(location: str | os.PathLike) -> str:
    return posixpath.basename(os.fspath(location).rstrip("/"))


# --- filesystems --------------------------------------------------------------------------------------


def filesystem(location: str | os.PathLike):
    """The fsspec filesystem of ``location``; a :class:`UserError` (exit 2) when its package is missing."""
    import fsspec

    proto = scheme(location)
    if proto is None:
        return fsspec.filesystem("file")
    try:
        # no listings cache: a long-lived process (a Dask worker) must see objects written since
        return fsspec.filesystem(proto, use_listings_cache=False)
    except (ImportError, ValueError) as exc:
        if proto in ("s3", "s3a"):
            raise UserError(f"{os.fspath(location)}: s3:// URLs need the optional s3 extra: {S3_EXTRA}") from None
        raise UserError(
            f"{os.fspath(location)}: no filesystem for {proto}:// URLs "
            f"({(str(exc).splitlines() or ['unknown protocol'])[0]})"
        ) from None


def _fs_path(location: str) -> str:
    """The path fsspec's methods take: a URL without its scheme, a local path as is."""
    m = _SCHEME.match(location)
    return location[m.end() :] if m else location


def register(con, *locations: str | os.PathLike | None, known: Mapping[str, Entry] | None = None) -> None:
    """Let the DuckDB connection ``con`` (and its cursors) read the object stores of ``locations``
    through their fsspec filesystems. Local paths need nothing.

    ``known``: listed objects (a run's planned Bronze files, :class:`Entry` by location). DuckDB asks
    its filesystem about every file it reads several times (glob, exists, size, modified time, then
    open): for these objects the answers come from the listing, not from a HEAD request each (647
    requests for a week of ES trades files, where the reads themselves are 92)."""
    for loc in locations:
        if loc is None or not is_url(loc):
            continue
        fs = filesystem(loc)
        names = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
        if not con.filesystem_is_registered(names[0]):
            mine = {p: e for p, e in (known or {}).items() if scheme(p) == scheme(loc) and e.raw}
            con.register_filesystem(_listed(fs, mine) if mine else fs)


def _listed(fs, known: Mapping[str, Entry]):
    """A new instance of ``fs``'s filesystem class that answers ``info``, ``exists`` and ``glob`` for
    the ``known`` objects from their listing, and opens them with their listed size."""
    base = type(fs)
    by_path = {base._strip_protocol(p): e for p, e in known.items()}
    sized_open = _takes_size(base)

    class Listed(base):
        def info(self, path, **kwargs):
            e = by_path.get(self._strip_protocol(path))
            if e is not None and not kwargs.get("version_id") and not kwargs.get("refresh"):
                return dict(e.raw)
            return super().info(path, **kwargs)

        def exists(self, path, **kwargs):
            return self._strip_protocol(path) in by_path or super().exists(path, **kwargs)

        def glob(self, path, **kwargs):
            stripped = self._strip_protocol(path)
            return [stripped] if stripped in by_path else super().glob(path, **kwargs)

        def _open(self, path, mode="rb", **kwargs):
            e = by_path.get(self._strip_protocol(path))
            if e is not None and mode == "rb" and sized_open and kwargs.get("size") is None:
                kwargs["size"] = e.size
            return _with_details(super()._open(path, mode, **kwargs), e if mode == "rb" else None)

    Listed.__name__ = f"Listed{base.__name__}"
    return Listed(**{**fs.storage_options, "skip_instance_cache": True})


# --- listing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A listed file: its location (as :func:`absolute` spells it), size and, for an object, its ETag
    and the listing's record of it (``raw``, what the filesystem's ``info`` would return)."""

    path: str
    size: int
    etag: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)


def _entry(location: str, info: dict) -> Entry:
    etag = info.get("ETag") or info.get("etag")
    return Entry(
        location, int(info.get("size") or 0), etag.strip('"') if etag else None, dict(info) if is_url(location) else {}
    )


def find(location: str | os.PathLike) -> dict[str, Entry]:
    """Every file under ``location`` (recursively: one listing request per 1,000 objects on S3),
    keyed by location; empty when there is none."""
    loc = absolute(location)
    fs = filesystem(loc)
    try:
        found = fs.find(_fs_path(loc), detail=True)
    except FileNotFoundError:
        return {}
    out = {}
    for path, info in found.items():
        if info.get("type", "file") != "file":
            continue
        full = fs.unstrip_protocol(path) if is_url(loc) else path
        out[full] = _entry(full, info)
    return out


def subdirs(location: str | os.PathLike) -> list[str]:
    """Names of the folders directly under ``location`` (prefixes, on S3), sorted."""
    loc = absolute(location)
    fs = filesystem(loc)
    try:
        listed = fs.ls(_fs_path(loc), detail=True)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(posixpath.basename(i["name"].rstrip("/")) for i in listed if i.get("type") == "directory")


def exists(location: str | os.PathLike) -> bool:
    loc = absolute(location)
    if not is_url(loc):
        return os.path.exists(loc)
    return filesystem(loc).exists(_fs_path(loc))


def is_file(location: str | os.PathLike) -> bool:
    loc = absolute(location)
    if not is_url(loc):
        return os.path.isfile(loc)
    return filesystem(loc).isfile(_fs_path(loc))


def info(location: str | os.PathLike) -> Entry:
    loc = absolute(location)
    return _entry(loc, filesystem(loc).info(_fs_path(loc)))


# --- reading ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _takes_size(cls) -> bool:
    return "size" in inspect.signature(cls._open).parameters


@contextlib.contextmanager
def parquet_source(location: str, entry: Entry | None = None) -> Iterator:
    """What pyarrow reads ``location`` from: the path of a local file, an open file object of an
    object (pyarrow reads its footer and the column chunks it needs by range; with its listing
    ``entry``, without a HEAD request first)."""
    if not is_url(location):
        yield location
        return
    fs = filesystem(location)
    kwargs = {"size": entry.size} if entry is not None and _takes_size(type(fs)) else {}
    with _with_details(fs.open(_fs_path(location), "rb", **kwargs), entry) as fh:
        yield fh


def _with_details(fh, entry: Entry | None):
    """An opened object file told its listing: a read then needs no HEAD first (s3fs asks for the
    details to send the ETag with every read: an object rewritten since it was listed fails to read
    instead of mixing two versions)."""
    if entry is not None and entry.raw and hasattr(type(fh), "details"):
        fh.details = dict(entry.raw)
    return fh


def read_bytes(location: str | os.PathLike) -> bytes:
    loc = absolute(location)
    return filesystem(loc).cat_file(_fs_path(loc))


def content_digest(location: str, entry: Entry | None = None) -> str:
    """A digest of the content of ``location``: SHA-256 of a local file's bytes (hex); for an object,
    ``etag-<ETag>-<size>`` from its listing ``entry`` (one HEAD request without it)."""
    if not is_url(location):
        h = hashlib.sha256()
        with open(location, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()
    entry = entry or info(location)
    if entry.etag:
        return f"etag-{re.sub(r'[^0-9A-Za-z-]', '', entry.etag)}-{entry.size}"
    return hashlib.sha256(read_bytes(location)).hexdigest()  # a store without ETags: read it


# --- writing ------------------------------------------------------------------------------------------


def upload_file(local: str, location: str) -> None:
    """Upload the local file ``local`` as the object ``location``, whole (one PUT, or one multipart
    upload that becomes visible only when complete)."""
    filesystem(location).put_file(local, _fs_path(location))


def write_atomic(location: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write ``location`` whole: ``write(tmp)`` fills a temporary local file, which then replaces it
    (a rename in the same folder, or one upload); an error leaves the previous file or object."""
    loc = absolute(location)
    local = not is_url(loc)
    folder = parent(loc) if local else tempfile.gettempdir()
    if local:
        os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name(loc)}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        write(tmp)
        if local:
            os.replace(tmp, loc)
        else:
            upload_file(tmp, loc)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove(location: str | os.PathLike) -> bool:
    """Delete a file or object; False when there was none."""
    loc = absolute(location)
    try:
        if is_url(loc):
            fs = filesystem(loc)
            if not fs.exists(_fs_path(loc)):  # deleting a missing object is no error on S3
                return False
            fs.rm_file(_fs_path(loc))
        else:
            os.unlink(loc)
    except FileNotFoundError:
        return False
    return True
