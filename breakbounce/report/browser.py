"""Render a local HTML page in headless Chromium and report what happened.

A minimal client of the Chrome DevTools protocol over ``--remote-debugging-pipe`` (file descriptors
3 and 4, NUL-separated JSON): no driver binary, no port, no Python dependency. It loads a
``file://`` page, collects console messages, uncaught exceptions and every network request, can
evaluate JavaScript and take a PNG screenshot. Used by the browser tests and
``scripts/report_screenshots.py``. Chromium comes from Debian's ``chromium`` package
(``scripts/setup.sh`` installs it).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]


class BrowserError(Exception):
    pass


def find_chromium() -> str | None:
    """The Chromium binary: $BB_CHROMIUM, Debian's real binary (skips the shell wrapper), or on PATH."""
    for cand in (
        os.environ.get("BB_CHROMIUM"),
        "/usr/lib/chromium/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


@dataclass
class PageResult:
    console: list[dict] = field(default_factory=list)  # {"level", "text"}
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for

    @property
    def errors(self) -> list[str]:
        return [f"console.{m['level']}: {m['text']}" for m in self.console if m["level"] in ("error", "assert")] + [
            f"exception: {e}" for e in self.exceptions
        ]


class Browser:
    """``with Browser() as b: r = b.open(path); b.evaluate('1+1'); b.screenshot('x.png')``"""

    def __init__(self, width: int = 1500, height: int = 1000, timeout: float = 60.0):
        self.width, self.height, self.timeout = width, height, timeout
        self._id = 0
        self._buf = b""
        self._events: list[dict] = []

    def __enter__(self) -> Browser:
        exe = find_chromium()
        if exe is None:
            raise BrowserError("no Chromium found (apt-get install chromium, or set BB_CHROMIUM)")
        self._profile = tempfile.mkdtemp(prefix="breakbounce-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds() -> None:  # Chromium reads commands on fd 3 and writes answers on fd 4
            w = os.dup(from_chrome_w) if from_chrome_w == 3 else from_chrome_w
            os.dup2(to_chrome_r, 3)
            os.dup2(w, 4)
            for fd in (3, 4):  # dup2 onto itself keeps close-on-exec: clear it explicitly
                os.set_inheritable(fd, True)

        self._proc = subprocess.Popen(
            [
                exe,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={self.width},{self.height}",
                "about:blank",
            ],
            # no close_fds: it would run after preexec_fn and close 3 and 4 again; every other
            # descriptor of ours is close-on-exec (os.pipe, open) and does not reach Chromium
            close_fds=False,
            preexec_fn=child_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            self._call(domain, session=True)
        self._call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._proc.poll() is None:
                try:
                    self._send("Browser.close", {})
                    self._proc.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    self._proc.kill()
                    self._proc.wait()
        finally:
            for fd in (self._to_chrome, self._from_chrome):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self._profile, ignore_errors=True)

    # --- protocol ---
    def _send(self, method: str, params: dict, session: bool = False) -> int:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self._session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        return self._id

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise BrowserError(f"Chromium exited (code {self._proc.poll()})")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _call(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        i = self._send(method, params or {}, session)
        deadline = time.monotonic() + self.timeout
        while True:
            msg = self._read(deadline)
            if msg.get("id") == i:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})
            self._events.append(msg)

    def _wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for k, e in enumerate(self._events):
                if e.get("method") == method:
                    return self._events.pop(k)
            self._events.append(self._read(deadline))

    # --- use ---
    def open(self, path: str | os.PathLike, settle_s: float = 0.5) -> PageResult:
        """Load a local file, wait for its load event (and ``settle_s`` for scripts), report."""
        self._events.clear()
        self._call("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=True)
        self._wait_event("Page.loadEventFired")
        time.sleep(settle_s)
        self.evaluate("1")  # drains the events queued meanwhile
        result = PageResult()
        for e in self._events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                result.console.append({"level": p.get("type"), "text": text})
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                result.exceptions.append(d.get("exception", {}).get("description") or d.get("text", "?"))
            elif m == "Log.entryAdded":
                entry = p.get("entry", {})
                result.console.append({"level": entry.get("level"), "text": entry.get("text", "")})
            elif m == "Network.requestWillBeSent":
                result.requests.append(p.get("request", {}).get("url", ""))
        self._events.clear()
        return result

    def evaluate(self, expression: str):
        r = self._call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session=True
        )
        if "exceptionDetails" in r:
            raise BrowserError(f"evaluate failed: {r['exceptionDetails'].get('text')}")
        return r.get("result", {}).get("value")

    def screenshot(self, path: str | os.PathLike, full_page: bool = True, max_height: int | None = None) -> str:
        """PNG of the page (``full_page``: all of it, at most ``max_height`` px from the top)."""
        params: dict = {"format": "png"}
        if full_page:
            w, h = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params["clip"] = {"x": 0, "y": 0, "width": w, "height": min(h, max_height or h), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self._call("Page.captureScreenshot", params, session=True)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return str(path)


#: JavaScript: the number of rendered SVG markers of the traces whose ``meta`` is ``role``
COUNT_MARKERS_JS = """
(role) => {
  let n = 0;
  document.querySelectorAll('.scatterlayer .trace').forEach(g => {
    const cd = g.__data__;
    const trace = cd && cd[0] && cd[0].trace;
    if (trace && trace.meta === role) {
      g.querySelectorAll('path.point').forEach(p => { if ((p.getAttribute('d') || '').length > 0) n += 1; });
    }
  });
  return n;
}
"""


def count_markers(browser: Browser, role: str) -> int:
    return int(browser.evaluate(f"({COUNT_MARKERS_JS})({json.dumps(role)})"))
