"""``breakbounce backfill`` on Dask distributed: each date is a task on a cluster's workers.

Where the tasks run: without ``--scheduler``, a local cluster of ``--workers`` worker processes (one
thread each) started for the backfill and closed after it; with ``--scheduler tcp://HOST:PORT``, an
existing cluster (any Dask deployment: Kubernetes, SLURM, a cloud service, ``dask scheduler`` plus
``dask worker`` by hand), whose workers need breakbounce installed (the same project version) and
must see the Bronze and Gold locations (object-store URLs, or paths on a shared filesystem).

Which worker builds which date (:class:`Lanes`): the client keeps one date in flight per worker thread
(a *lane*) and gives each lane the dates in contiguous runs, oldest first: the dates are split in
order into one run per lane, and a lane whose run is done takes the later half of the longest run
left. Consecutive dates on one lane share all but one of their warmup sessions, whose minute bars
the lane's warehouse has cached (``int_bars__es_session_minutes``, keyed by the content of their
Bronze), so a run reads only the new session's Bronze for its warmup.

A task (:func:`build_date`, on the worker) runs ``breakbounce run`` for its date in a child process
(docs/decisions.md, "Backfill on Dask": isolation from dbt's and DuckDB's process state for ~0.3 s a
date) in a worker directory ``worker-<name>[-<k>]``: its warehouse (and warmup cache), dbt target and
nothing else. The directory is claimed with an exclusive ``flock`` held by the worker and by the run
it starts (released only when both are gone, however they end), so two live processes never share
a DuckDB file, and a restarted worker, which keeps its name, picks its directory and cache back up.
Its root: ``--work-dir`` on a local cluster; on an existing cluster ``$BB_WORKER_DIR`` as set on the
worker, else the worker's Dask local directory.

Failures: the run is bound to its worker (Linux ``PR_SET_PDEATHSIG``, else a watch on the parent
pid), so a worker killed mid-date takes its run with it; the scheduler then gives the date to another
worker (Dask's ``distributed.scheduler.allowed-failures``, 3 by default, after which the date fails).
Gold is published atomically by ``breakbounce run``, so an attempt cut short leaves the previous Gold
file (or none), and the retry publishes the same bytes. A date whose run fails (bad input, a failed
test) is not retried: it is reported, the other dates go on.

Progress (:class:`Progress`) goes to stderr: the cluster and its dashboard, a line when a date
starts (and on which worker), a line when it ends, with dates done / failed / running and an ETA;
on a terminal a tqdm bar holds the counts, elsewhere a plain line every
:data:`HEARTBEAT_S` seconds while dates run.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import dataclasses
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

from breakbounce.errors import UserError

#: the Dask event topic the tasks announce their start on
TOPIC = "breakbounce-backfill"
#: plain-text progress: a status line at least this often while dates run
HEARTBEAT_S = 30.0
#: environment variable of a run started by a task: the pid of the worker it must not outlive
PARENT_ENV = "BB_EXIT_WITH_PARENT"
#: how long the client waits for a worker of an existing cluster before giving up
WAIT_FOR_WORKERS_S = 60.0


# --- what a task builds and returns -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What every task needs: absolute Bronze / Gold locations (paths or URLs), flags, and the root of
    the worker directories (None: decided on the worker)."""

    bronze: str
    gold: str
    allow_gaps: bool = False
    work_root: str | None = None
    dbt_vars: str = ""  # ``--vars`` of every run, as JSON ("" for none)


@dataclasses.dataclass
class DateResult:
    date: str
    code: int  # breakbounce run's exit code; 1 also for a task that could not run
    seconds: float
    detail: str  # the Gold line, or the first error line
    log: str = ""  # the run's stderr and stdout
    worker: str = ""  # the worker's name
    where: str = ""  # host:directory the date was built in

    @property
    def ok(self) -> bool:
        return self.code == 0


def _safe(name: object) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("_") or "worker"


def _claim_directory(root: str, worker_name: object, hint: int) -> tuple[str, int]:
    """A worker directory under ``root`` no live process holds: (its path, the open fd of its flock).
    Tried first: lane ``hint``'s directory, then ``worker-<name>``, ``worker-<name>-1``, …"""
    import fcntl

    base = f"worker-{_safe(worker_name)}"
    names = [base if hint == 0 else f"{base}-{hint}", base] + [f"{base}-{k}" for k in range(1, 64)]
    for candidate in dict.fromkeys(names):
        directory = os.path.join(root, candidate)
        os.makedirs(directory, exist_ok=True)
        fd = os.open(os.path.join(directory, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return directory, fd
    raise RuntimeError(f"every worker directory {base}[-k] under {root} is in use")


def _worker_root(spec: RunSpec, worker) -> str:
    if spec.work_root:
        return spec.work_root
    return os.environ.get("BB_WORKER_DIR") or os.path.join(worker.local_directory, "breakbounce")


def run_command(date: str, spec: RunSpec, directory: str) -> list[str]:
    return (
        [
            sys.executable,
            "-m",
            "breakbounce",
            "run",
            "--date",
            date,
            "--bronze",
            spec.bronze,
            "--gold",
            spec.gold,
            "--db",
            os.path.join(directory, "warehouse.duckdb"),
            "--target-path",
            os.path.join(directory, "dbt"),
        ]
        + (["--allow-gaps"] if spec.allow_gaps else [])
        + (["--vars", spec.dbt_vars] if spec.dbt_vars else [])
    )


def summarize_run(code: int, stdout: str, stderr: str) -> str:
    """The result detail of one ``breakbounce run``: its Gold line, or its first error line (a failed
    Bronze rule names the session, and whose warmup it is)."""
    if code == 0:
        return next((l.strip() for l in stdout.splitlines() if l.strip().startswith("gold:")), "built")
    errors = [l for l in stderr.splitlines() if l.startswith("breakbounce run") and ": error:" in l]
    errors = errors or [l for l in stderr.splitlines() if "error" in l.lower()]
    if errors:
        return errors[0].strip()
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return f"killed by {name}" + (" (out of memory?)" if -code == signal.SIGKILL else "")
    return f"exit {code}"


def _run_environment() -> dict[str, str]:
    """The worker's environment without what Dask's nanny set for the worker process itself
    (``distributed.nanny.pre-spawn-environ``: one OpenMP/BLAS thread, an aggressive malloc trim):
    a run uses every core, and the trim threshold alone made each date ~0.8 s slower."""
    import dask
    import distributed  # noqa: F401  (its config defaults, pre-spawn-environ among them)

    env = dict(os.environ)
    for key, value in (dask.config.get("distributed.nanny.pre-spawn-environ", None) or {}).items():
        if env.get(key) == str(value):
            del env[key]
    return env


def build_date(date: str, spec: RunSpec, lane: int = 0) -> DateResult:
    """The task: build ``date`` in a worker directory of this worker (see the module docstring)."""
    from distributed import get_worker

    worker = get_worker()
    started = time.perf_counter()
    # (log_event adds the worker's address as "worker")
    worker.log_event(TOPIC, {"event": "start", "date": date, "name": str(worker.name)})
    directory, lock = _claim_directory(_worker_root(spec, worker), worker.name, lane)
    try:
        env = {**_run_environment(), PARENT_ENV: str(os.getpid())}
        proc = subprocess.run(
            run_command(date, spec, directory),
            capture_output=True,
            text=True,
            env=env,
            pass_fds=(lock,),
            stdin=subprocess.DEVNULL,
        )
    finally:
        os.close(lock)
    return DateResult(
        date,
        proc.returncode,
        time.perf_counter() - started,
        summarize_run(proc.returncode, proc.stdout, proc.stderr),
        proc.stderr + proc.stdout,
        str(worker.name),
        f"{socket.gethostname()}:{directory}",
    )


def exit_with_parent() -> None:
    """In a run started by :func:`build_date` (``$BB_EXIT_WITH_PARENT`` set): die with the worker.

    Linux: ``PR_SET_PDEATHSIG`` (SIGKILL when the worker thread that started us ends, i.e. the worker
    dies: the thread waits for us otherwise). Elsewhere: a daemon thread that exits when our parent
    pid changes.
    """
    parent = os.environ.pop(PARENT_ENV, None)
    if not parent or not parent.isdigit():
        return
    parent_pid = int(parent)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != parent_pid:  # the worker died before we asked
                    os._exit(1)
                return

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# --- which lane builds which date ---------------------------------------------------------------------


class Lanes:
    """Dates split in order into contiguous runs, one per lane (a worker thread); a lane takes its
    run's dates oldest first, and once its run is done the later half of the longest run left."""

    def __init__(self, dates: list[str], lanes: list[tuple[str, int]]):
        self.runs: dict[tuple[str, int], collections.deque[str]] = {}
        n = max(1, len(lanes))
        size, extra = divmod(len(dates), n)
        start = 0
        for i, lane in enumerate(lanes):
            end = start + size + (1 if i < extra else 0)
            self.runs[lane] = collections.deque(dates[start:end])
            start = end

    def __len__(self) -> int:
        return sum(len(r) for r in self.runs.values())

    def next(self, lane: tuple[str, int]) -> str | None:
        own = self.runs.setdefault(lane, collections.deque())
        if not own:
            longest = max(self.runs.values(), key=len)
            if not longest:
                return None
            half = len(longest) // 2  # the later half (a run of one: its date)
            taken = [longest.pop() for _ in range(max(1, len(longest) - half))][::-1]
            own.extend(taken)
        return own.popleft()


# --- progress on stderr -------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return (
        f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else f"{seconds // 60}:{seconds % 60:02d}"
    )


class Progress:
    """Dates done / failed / running with an ETA on stderr: a tqdm bar on a terminal (lines printed
    above it), plain lines elsewhere (and a status line every :data:`HEARTBEAT_S` s)."""

    def __init__(self, total: int, stream=None, tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.total = total
        self.done = self.failed = 0
        self.running: dict[str, float] = {}  # date -> when it started (monotonic)
        self.attempts: collections.Counter[str] = collections.Counter()
        self.finished: set[str] = set()
        self.started = time.monotonic()
        self.last_line = self.started
        self.lock = threading.Lock()
        tty = self.stream.isatty() if tty is None else tty
        self.bar = None
        if tty:
            from tqdm import tqdm

            try:  # a terminal that reports no size (some pseudo-terminals) would get no bar at all
                sized = os.get_terminal_size(self.stream.fileno()).columns > 0
            except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
                sized = False
            self.bar = tqdm(
                total=total,
                file=self.stream,
                unit="date",
                desc="backfill",
                dynamic_ncols=sized,
                ncols=None if sized else 100,
                nrows=None if sized else 24,
                bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]",
            )
            self._postfix()

    def line(self, text: str) -> None:
        with self.lock:
            if self.bar is not None:
                self.bar.write(text, file=self.stream)
            else:
                print(text, file=self.stream, flush=True)
            self.last_line = time.monotonic()

    def _postfix(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.failed} failed, {len(self.running)} running", refresh=True)

    def eta(self) -> str:
        finished = self.done + self.failed
        if not finished:
            return "ETA after the first date"
        rate = finished / max(time.monotonic() - self.started, 1e-9)
        return f"ETA {_clock((self.total - finished) / rate)}"

    def status(self) -> str:
        return (
            f"{self.done + self.failed}/{self.total} done, {self.failed} failed, "
            f"{len(self.running)} running, {self.eta()}"
        )

    def start(self, date: str, worker: str) -> None:
        with self.lock:
            if date in self.finished:  # its result came in before the start event
                return
            self.attempts[date] += 1
            self.running[date] = time.monotonic()
            attempt = self.attempts[date]
            self._postfix()
        note = f" (attempt {attempt}: the worker of the last one was lost)" if attempt > 1 else ""
        self.line(f"start {date} on worker {worker}{note}")

    def finish(self, res: DateResult) -> None:
        with self.lock:
            self.running.pop(res.date, None)
            self.finished.add(res.date)
            if res.ok:
                self.done += 1
            else:
                self.failed += 1
            if self.bar is not None:
                self.bar.update(1)
            self._postfix()
        where = f" on worker {res.worker}" if res.worker else ""
        self.line(
            f"[{self.done + self.failed}/{self.total}] {res.date} {'ok' if res.ok else 'FAILED'} in "
            f"{res.seconds:.1f}s{where}; {self.status()}"
        )

    def tick(self) -> None:
        """Called about once a second: refresh the bar, or a plain status line when overdue."""
        if self.bar is not None:
            with self.lock:
                self.bar.refresh()
            return
        now = time.monotonic()
        if self.running and now - self.last_line >= HEARTBEAT_S:
            running = ", ".join(f"{d} {now - t:.0f}s" for d, t in sorted(self.running.items()))
            self.line(f"... {self.status()} ({running})")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --- the cluster --------------------------------------------------------------------------------------


def _dask():
    try:
        import distributed
    except ImportError as exc:  # a core dependency: a broken install
        raise UserError(
            f"backfill needs Dask distributed (a core dependency; reinstall breakbounce): {exc}", code=1
        ) from None
    return distributed


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def _dashboard(client, local: bool) -> str | None:
    """The dashboard address, when the scheduler serves one (it needs bokeh)."""
    try:
        ok = _has_bokeh() if local else client.run_on_scheduler(_has_bokeh)
    except Exception:
        return None
    return client.dashboard_link if ok else None


@contextlib.contextmanager
def connect(scheduler: str | None, workers: int, work_dir: str):
    """A Dask client: to the cluster at ``scheduler``, else to a local cluster of ``workers`` processes
    started here (and closed on exit)."""
    distributed = _dask()
    import logging

    if scheduler:
        try:  # how long to try: Dask's distributed.comm.timeouts.connect (30 s by default)
            client = distributed.Client(scheduler)
        except (OSError, TimeoutError) as exc:
            raise UserError(
                f"--scheduler {scheduler}: cannot reach a Dask scheduler there "
                f"({(str(exc).splitlines() or [type(exc).__name__])[0]})"
            ) from None
        try:
            yield client, _dashboard(client, local=False)
        finally:
            client.close()
        return
    # the run in each task uses every core; a worker itself needs one thread and little memory
    cluster = distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        silence_logs=logging.ERROR,
        dashboard_address=":0" if _has_bokeh() else None,
        memory_limit=0,
        local_directory=os.path.join(work_dir, "dask"),
    )
    try:
        client = distributed.Client(cluster)
        try:
            yield client, _dashboard(client, local=True)
        finally:
            client.close()
    finally:
        cluster.close()


def lanes_of(client) -> dict[str, list[tuple[str, int]]]:
    """Worker address -> its lanes (name, thread index)."""
    info = client.scheduler_info()["workers"]
    return {
        addr: [(str(w.get("name", addr)), k) for k in range(int(w.get("nthreads", 1) or 1))] for addr, w in info.items()
    }


def _failed(date: str, exc: BaseException, worker: str = "") -> DateResult:
    name = type(exc).__name__
    if name == "KilledWorker":
        detail = "error: every worker that started it died (allowed-failures reached; out of memory?)"
    else:
        detail = f"error: the task failed: {name}: {(str(exc).splitlines() or [''])[0]}"
    return DateResult(date, 1, 0.0, detail, f"{name}: {exc}\n", worker)


def run_dates(client, dates: list[str], spec: RunSpec, progress: Progress, on_result=None) -> list[DateResult]:
    """Build ``dates`` on the cluster behind ``client``; one result per date, in date order.
    ``on_result(result)`` is called as each date ends (e.g. to write its log at once)."""
    distributed = _dask()
    lanes_by_worker = lanes_of(client)
    deadline = time.monotonic() + WAIT_FOR_WORKERS_S
    while not lanes_by_worker:
        if time.monotonic() > deadline:
            raise UserError(f"the Dask cluster has no workers (waited {WAIT_FOR_WORKERS_S:.0f}s)", code=1)
        time.sleep(0.5)
        lanes_by_worker = lanes_of(client)
    lanes = Lanes(sorted(dates), [lane for ls in lanes_by_worker.values() for lane in ls])
    client.subscribe_topic(
        TOPIC, lambda ev: progress.start(ev[1]["date"], ev[1]["name"]) if ev[1].get("event") == "start" else None
    )
    token = uuid.uuid4().hex[:8]
    pending: dict = {}  # future -> (date, worker address, lane)
    results: dict[str, DateResult] = {}
    try:
        while len(results) < len(dates):
            lanes_by_worker = lanes_of(client) or lanes_by_worker
            busy = {(addr, lane) for _, addr, lane in pending.values()}
            for addr, worker_lanes in lanes_by_worker.items():
                for lane in worker_lanes:
                    if (addr, lane) in busy:
                        continue
                    date = lanes.next(lane)
                    if date is None:
                        break
                    fut = client.submit(
                        build_date,
                        date,
                        spec,
                        lane[1],
                        key=f"breakbounce-run-{date}-{token}",
                        workers=[addr],
                        allow_other_workers=True,
                        pure=False,
                    )
                    pending[fut] = (date, addr, lane)
            if not pending:
                time.sleep(0.5)  # dates left, no free lane yet (workers coming back)
                continue
            try:
                done, _ = distributed.wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            for fut in done:
                date, _, _ = pending.pop(fut)
                try:
                    res = fut.result()
                except Exception as exc:  # the task raised, or its workers kept dying
                    res = _failed(date, exc)
                results[date] = res
                if on_result is not None:
                    on_result(res)
                progress.finish(res)
            progress.tick()
    except BaseException:
        client.cancel(list(pending), force=True)
        raise
    return [results[d] for d in sorted(results)]
