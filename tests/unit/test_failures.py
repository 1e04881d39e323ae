"""The first real cause of a failed build (breakbounce/failures.py): one line, the right exit code."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from breakbounce.failures import Failure, first_cause

ROLLBACK = "TransactionContext Error: cannot rollback - no transaction is active"
INVALIDATED = "FATAL Error: database has been invalidated because of a previous fatal error"


def test_disk_full_is_named_even_when_follow_on_errors_come_first_in_the_list():
    failures = [
        Failure("a_model", ROLLBACK, ended=2.0),
        Failure("book", 'IO Error: Could not write file "w.duckdb": No space left on device', ended=1.0),
        Failure("later", INVALIDATED, ended=3.0),
    ]
    err = first_cause(failures)
    assert err.code == 1
    assert str(err).startswith("disk full: No space left on device while building book (IO Error")


def test_out_of_memory_names_the_memory_limit_variable(monkeypatch):
    monkeypatch.setenv("BB_MEMORY_LIMIT", "64MB")
    err = first_cause([Failure("bars", "Out of Memory Error: could not allocate block of size 256.0 KiB", 1.0)])
    assert err.code == 1 and "out of memory while building bars" in str(err) and "BB_MEMORY_LIMIT=64MB" in str(err)
    monkeypatch.delenv("BB_MEMORY_LIMIT")
    assert "BB_MEMORY_LIMIT (default 1500MB)" in str(first_cause([Failure("bars", "out of memory", 1.0)]))


def test_a_bronze_file_whose_pages_do_not_decode_is_input_exit_2(tmp_path):
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    pq.write_table(pa.table({"x": list(range(1000))}), good)
    pq.write_table(pa.table({"x": list(range(1000))}), bad)
    md = pq.read_metadata(bad)
    chunk = md.row_group(0).column(0)
    data = bytearray(bad.read_bytes())
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    for k in range(start, start + chunk.total_compressed_size):
        data[k] ^= 0x5A
    bad.write_bytes(bytes(data))
    err = first_cause([Failure("stg", "Error: don't know what type: \x0f", 1.0)], [str(good), str(bad)])
    assert err.code == 2 and str(err).startswith(f"corrupt parquet file {bad}: its footer reads but its pages do not")
    # a failure that is no read error of any planned file: the earliest one, exit 1
    err = first_cause([Failure("b", "Binder Error: x", 2.0), Failure("a", "Parser Error: y", 1.0)], [str(good)])
    assert err.code == 1 and str(err) == "a failed: Parser Error: y (and 1 more failure(s) after it; see above)"
