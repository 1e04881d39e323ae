"""breakbounce.cluster without a cluster: which lane gets which date, worker directories, progress lines,
result details, and a run that dies with its worker."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from breakbounce import cluster

DATES = [f"2025-12-{d:02d}" for d in (1, 2, 3, 4, 5, 8, 9)]


def test_lanes_get_contiguous_runs_and_steal_the_later_half_of_the_longest():
    lanes = cluster.Lanes(DATES, [("0", 0), ("1", 0)])
    assert [lanes.next(("0", 0)) for _ in range(2)] == ["2025-12-01", "2025-12-02"]  # run 01..04
    assert lanes.next(("1", 0)) == "2025-12-05"  # run 05..09
    assert lanes.next(("0", 0)) == "2025-12-03"
    assert lanes.next(("0", 0)) == "2025-12-04"
    # lane 0 is done; the longest run left is lane 1's [08, 09]: it takes the later half
    assert lanes.next(("0", 0)) == "2025-12-09"
    assert lanes.next(("1", 0)) == "2025-12-08"
    assert len(lanes) == 0 and lanes.next(("0", 0)) is None and lanes.next(("1", 0)) is None


def test_a_new_lane_splits_the_longest_run():
    lanes = cluster.Lanes(DATES, [("0", 0)])
    assert lanes.next(("0", 0)) == "2025-12-01"
    # a worker that joined later (or came back under another name): the later half of 02..09
    assert [lanes.next(("7", 0)) for _ in range(3)] == ["2025-12-05", "2025-12-08", "2025-12-09"]
    assert [lanes.next(("0", 0)) for _ in range(3)] == ["2025-12-02", "2025-12-03", "2025-12-04"]
    assert lanes.next(("7", 0)) is None


def test_worker_directories_are_exclusive_while_held_and_reused_after(tmp_path):
    a, fd_a = cluster._claim_directory(str(tmp_path), "tcp://10.0.0.5:4000", 0)
    b, fd_b = cluster._claim_directory(str(tmp_path), "tcp://10.0.0.5:4000", 0)
    assert os.path.basename(a) == "worker-tcp_10.0.0.5_4000" and os.path.basename(b) == "worker-tcp_10.0.0.5_4000-1"
    os.close(fd_a)  # the process holding it ended
    again, fd = cluster._claim_directory(str(tmp_path), "tcp://10.0.0.5:4000", 0)
    assert again == a
    # lane 2 of the same worker asks for its own directory first
    lane, fd2 = cluster._claim_directory(str(tmp_path), "tcp://10.0.0.5:4000", 2)
    assert os.path.basename(lane) == "worker-tcp_10.0.0.5_4000-2"
    for f in (fd_b, fd, fd2):
        os.close(f)


def test_a_claimed_directory_stays_held_by_the_run_after_its_worker_closed_it(tmp_path):
    directory, fd = cluster._claim_directory(str(tmp_path), 0, 0)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], pass_fds=(fd,))
    try:
        os.close(fd)  # the worker is gone; its run still holds the lock
        other, fd2 = cluster._claim_directory(str(tmp_path), 0, 0)
        assert other != directory
        os.close(fd2)
    finally:
        child.kill()
        child.wait()
    third, fd3 = cluster._claim_directory(str(tmp_path), 0, 0)
    assert third == directory
    os.close(fd3)


def test_result_details():
    ok = "2025-12-16: built in 1.5s; warehouse w\n  gold: /g/signals/date=2025-12-16/signals.parquet (189 events)\n"
    assert cluster.summarize_run(0, ok, "") == "gold: /g/signals/date=2025-12-16/signals.parquet (189 events)"
    err = "noise\nbreakbounce run 2025-12-16: error: Bronze rule price_positive failed on 1 row(s)\nmore error\n"
    assert (
        cluster.summarize_run(2, "", err)
        == "breakbounce run 2025-12-16: error: Bronze rule price_positive failed on 1 row(s)"
    )
    assert cluster.summarize_run(-9, "", "") == "killed by SIGKILL (out of memory?)"
    assert cluster.summarize_run(3, "", "nothing useful") == "exit 3"


def _res(date: str, code: int = 0, seconds: float = 2.0) -> cluster.DateResult:
    return cluster.DateResult(date, code, seconds, "gold: x" if code == 0 else "error: y", worker="1")


def test_plain_progress_lines_count_dates_and_give_an_eta(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(cluster.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    p = cluster.Progress(3, stream=out, tty=False)
    p.start("2025-12-15", "0")
    p.start("2025-12-16", "1")
    clock[0] = 110.0
    p.finish(_res("2025-12-15"))
    clock[0] = 145.0
    p.tick()  # 35 s since the last line: a status line
    p.start("2025-12-16", "0")  # its worker was lost: a second attempt
    clock[0] = 150.0
    p.finish(_res("2025-12-16", code=2))
    p.finish(_res("2025-12-17"))
    p.start("2025-12-17", "1")  # the start event arriving after the result: ignored
    assert out.getvalue().splitlines() == [
        "start 2025-12-15 on worker 0",
        "start 2025-12-16 on worker 1",
        # one date in 10 s: two left take 20 s
        "[1/3] 2025-12-15 ok in 2.0s on worker 1; 1/3 done, 0 failed, 1 running, ETA 0:20",
        "... 1/3 done, 0 failed, 1 running, ETA 1:30 (2025-12-16 45s)",
        "start 2025-12-16 on worker 0 (attempt 2: the worker of the last one was lost)",
        "[2/3] 2025-12-16 FAILED in 2.0s on worker 1; 2/3 done, 1 failed, 0 running, ETA 0:25",
        "[3/3] 2025-12-17 ok in 2.0s on worker 1; 3/3 done, 1 failed, 0 running, ETA 0:00",
    ]
    assert p.done == 2 and p.failed == 1 and not p.running


def test_terminal_progress_is_a_bar_with_the_lines_above_it():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    p = cluster.Progress(2, stream=out)
    p.start("2025-12-15", "0")
    p.finish(_res("2025-12-15"))
    p.close()
    text = out.getvalue()
    assert "start 2025-12-15 on worker 0" in text and "[1/2] 2025-12-15 ok in 2.0s" in text
    bars = re.findall(r"backfill +(\d+)%\|[^|]*\| (\d)/2 \[[^\]]*0 failed, (\d) running\]", text)
    assert bars[-1] == ("50", "1", "0")


def test_a_run_started_by_a_task_dies_with_its_worker(tmp_path):
    """The worker (here a plain parent process) is killed: its run must not go on building alone."""
    pid_file = tmp_path / "run.pid"
    run = (
        "import os, sys, time\n"
        "from breakbounce import cluster\n"
        "cluster.exit_with_parent()\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    )
    worker = (
        "import os, subprocess, sys, time\n"
        f"env = {{**os.environ, {cluster.PARENT_ENV!r}: str(os.getpid())}}\n"
        f"subprocess.Popen([sys.executable, '-c', {run!r}], env=env)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", worker])
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child):
        assert time.monotonic() < deadline, "the run outlived its worker"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Running (a killed child nobody reaped yet is a zombie: not running)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("value", [None, "", "abc"])
def test_exit_with_parent_does_nothing_without_a_parent_pid(value, monkeypatch):
    if value is None:
        monkeypatch.delenv(cluster.PARENT_ENV, raising=False)
    else:
        monkeypatch.setenv(cluster.PARENT_ENV, value)
    cluster.exit_with_parent()  # returns, the process goes on


def test_a_run_gets_the_workers_environment_without_what_the_nanny_set_for_the_worker(monkeypatch):
    """Dask's nanny gives the worker process MALLOC_TRIM_THRESHOLD_=65536 and one OpenMP/BLAS thread;
    inherited by a run, the trim threshold alone cost ~0.8 s a small date."""
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")  # not the nanny's value: the user's, kept
    monkeypatch.setenv("BB_MEMORY_LIMIT", "2GB")
    env = cluster._run_environment()
    assert "MALLOC_TRIM_THRESHOLD_" not in env and "OMP_NUM_THREADS" not in env
    assert env["OPENBLAS_NUM_THREADS"] == "3" and env["BB_MEMORY_LIMIT"] == "2GB"
