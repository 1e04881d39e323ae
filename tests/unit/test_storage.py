"""breakbounce.storage: locations (paths or URLs), listing, whole writes, digests, the missing-extra error."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from breakbounce import storage
from breakbounce.errors import UserError


def test_locations_are_paths_or_urls(tmp_path, monkeypatch):
    assert storage.is_url("s3://bucket/prefix") and storage.scheme("S3://b/k") == "s3"
    assert not storage.is_url("data/bronze") and not storage.is_url("file:///tmp/x")
    monkeypatch.chdir(tmp_path)
    assert storage.absolute("data/bronze") == str(tmp_path / "data" / "bronze")
    assert storage.absolute("file:///tmp/x") == "/tmp/x"
    assert storage.absolute("s3://bucket/prefix/") == "s3://bucket/prefix"
    assert storage.join("s3://b/p/", "signals", "date=2025-12-16") == "s3://b/p/signals/date=2025-12-16"
    assert storage.join("/data", "a", "b") == "/data/a/b"
    assert storage.parent("s3://b/p/x.parquet") == "s3://b/p" and storage.name("s3://b/p/x.parquet") == "x.parquet"


def test_find_and_subdirs_list_a_local_tree(tmp_path):
    (tmp_path / "t" / "date=2025-12-16" / "hour=15" / "nested").mkdir(parents=True)
    (tmp_path / "t" / "date=2025-12-15").mkdir()
    (tmp_path / "t" / "date=2025-12-16" / "hour=15" / "a.parquet").write_bytes(b"abc")
    (tmp_path / "t" / "date=2025-12-16" / "hour=15" / "nested" / "b.parquet").write_bytes(b"de")
    found = storage.find(tmp_path / "t")
    a = str(tmp_path / "t" / "date=2025-12-16" / "hour=15" / "a.parquet")
    assert sorted(found) == [a, str(tmp_path / "t" / "date=2025-12-16" / "hour=15" / "nested" / "b.parquet")]
    assert found[a].size == 3 and found[a].etag is None and found[a].raw == {}
    assert storage.subdirs(tmp_path / "t") == ["date=2025-12-15", "date=2025-12-16"]
    assert storage.find(tmp_path / "missing") == {} and storage.subdirs(tmp_path / "missing") == []


def test_a_local_digest_is_the_sha256_and_an_object_digest_its_listed_etag(tmp_path):
    f = tmp_path / "x.parquet"
    f.write_bytes(b"some bytes")
    assert storage.content_digest(str(f)) == hashlib.sha256(b"some bytes").hexdigest()
    entry = storage.Entry("s3://b/x.parquet", 10, "0a1b2c-3", {"size": 10})
    assert storage.content_digest("s3://b/x.parquet", entry) == "etag-0a1b2c-3-10"  # no request


def test_write_atomic_replaces_whole_or_leaves_the_previous_file(tmp_path):
    target = tmp_path / "d" / "f.txt"
    storage.write_atomic(target, lambda tmp: open(tmp, "w").write("first"))
    assert target.read_text() == "first"

    def fails(tmp: str) -> None:
        with open(tmp, "w") as fh:
            fh.write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        storage.write_atomic(target, fails)
    assert target.read_text() == "first"
    assert sorted(os.listdir(target.parent)) == ["f.txt"]  # no temp file left
    assert storage.remove(target) and not storage.remove(target)


def test_an_s3_url_without_the_s3_extra_names_it(monkeypatch):
    import importlib

    monkeypatch.setitem(sys.modules, "s3fs", None)  # as if s3fs were not installed
    registry = importlib.import_module("fsspec.registry")
    monkeypatch.delitem(registry._registry, "s3", raising=False)  # forget an s3 class imported earlier
    with pytest.raises(UserError) as err:
        storage.filesystem("s3://bucket/bronze")
    assert str(err.value) == "s3://bucket/bronze: s3:// URLs need the optional s3 extra: pip install -e '.[s3]'"
    assert err.value.code == 2


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--date", "2025-12-16", "--bronze", "s3://lake/bronze"],
        ["backfill", "--dates", "2025-12-16", "--gold", "s3://lake/gold", "--dry-run"],
        ["generate", "--start-date", "2025-12-16", "--end-date", "2025-12-16", "--out", "s3://lake/bronze"],
    ],
)
def test_the_cli_refuses_an_s3_url_without_the_extra_in_one_line(command, tmp_path):
    code = (
        "import sys; sys.modules['s3fs'] = None\n"  # the extra not installed
        "from breakbounce.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"breakbounce {command[0]}: error: s3://lake/{'gold' if command[0] == 'backfill' else 'bronze'}: "
        "s3:// URLs need the optional s3 extra: pip install -e '.[s3]'"
    ]
    assert proc.stdout == "" and not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "command, message",
    [
        (
            ["ingest", "--schema", "trades", "--bronze", "s3://lake/bronze", "x.dbn"],
            "--bronze s3://lake/bronze: ingest writes to a local Bronze folder",
        ),
        (
            ["sql", "--gold", "s3://lake/gold", "select 1"],
            "--gold s3://lake/gold: the DuckDB shell reads local files only",
        ),
        (
            ["report", "--date", "2025-12-16", "--gold", "s3://lake/gold"],
            "--gold s3://lake/gold: the session page reads local Bronze and Gold only",
        ),
    ],
)
def test_commands_without_object_store_support_say_so(command, message, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "breakbounce", *command], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"breakbounce {command[0]}: error: {message}")
