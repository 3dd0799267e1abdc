#!/usr/bin/env python3
"""A headless Chromium driven over the DevTools protocol on a pipe (no port, no extra
package): load a page, record every network request and console or log message it causes,
read its DOM with JavaScript, and take screenshots. Used by tests/e2e/test_report_html.py
and scripts/report_screenshot.py.

    with Chromium() as browser:
        visit = browser.load(Path("report.html").resolve().as_uri())
        visit.fetched      # URLs the page asked for, besides itself
        browser.evaluate("document.title")

The flags keep Chromium off the network: without the background-networking ones it phones
home at start, and a closed network refuses (and logs) those connections.
"""

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

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
TIMEOUT = 30.0


def chromium_bin():
    path = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise FileNotFoundError("chromium is not on PATH (scripts/test.sh installs it: apt-get install chromium)")
    return path


@dataclass
class Visit:
    """What loading a page caused."""

    url: str
    requests: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    messages: list = field(default_factory=list)

    @property
    def fetched(self):
        """Every URL requested besides the page itself."""
        return [u for u in self.requests if u != self.url]


class Chromium:
    def __init__(self, width=1100, height=900):
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.events = []
        self.replies = {}
        self.inbox = queue.Queue()
        self.next_id = 0
        self.session = None

    def __enter__(self):
        # Chromium reads commands on fd 3 and writes replies on fd 4; park our ends above
        # 10 so the dup2s in the child cannot clobber each other.
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)

        def pipes_on_3_and_4():
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen(
            [chromium_bin(), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=pipes_on_3_and_4,
        )
        for fd in (to_child_r, from_child_w, high_r, high_w):
            os.close(fd)
        threading.Thread(target=self._read, daemon=True).start()
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, session=False
        )
        self.session = attached["sessionId"]
        for domain in ("Page", "Network", "Log", "Runtime"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        return self

    def __exit__(self, *exc):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except (TimeoutError, OSError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_child)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read(self):
        buffer = b""
        while chunk := os.read(self.from_child, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self.inbox.put(json.loads(message))
        self.inbox.put(None)

    def send(self, method, params=None, session=True, timeout=TIMEOUT):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self.to_child, json.dumps(message).encode() + b"\0")
        reply = self._wait(lambda m: m.get("id") == message["id"], timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _wait(self, matches, timeout):
        """The first message that `matches`; every event on the way is kept in `events`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            try:
                message = self.inbox.get(timeout=left)
            except queue.Empty:
                continue
            if message is None:
                raise RuntimeError(f"chromium exited (code {self.proc.poll()})")
            if "method" in message:
                self.events.append(message)
            if matches(message):
                return message

    def load(self, url, settle=0.5):
        """Navigates to `url`, waits for its load event and `settle` seconds more (for late
        requests), and reports what the page asked for and logged."""
        start = len(self.events)
        self.send("Page.navigate", {"url": url})
        self._wait(lambda m: m.get("method") == "Page.loadEventFired", TIMEOUT)
        try:
            self._wait(lambda m: False, settle)
        except TimeoutError:
            pass
        visit = Visit(url)
        for event in self.events[start:]:
            method, params = event["method"], event.get("params", {})
            if method == "Network.requestWillBeSent":
                visit.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                visit.failed.append(params)
            elif method == "Log.entryAdded":
                entry = params["entry"]
                visit.messages.append(f"{entry.get('source')}/{entry.get('level')}: {entry.get('text')}")
            elif method == "Runtime.consoleAPICalled":
                visit.messages.append(f"console/{params.get('type')}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                visit.messages.append(f"exception: {params.get('exceptionDetails')}")
        return visit

    def evaluate(self, expression):
        """The JSON value of a JavaScript expression evaluated in the page."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path, height=None):
        """A PNG of the page's top `height` CSS pixels (all of it by default)."""
        full = self.evaluate("document.documentElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": self.width, "height": min(height or full, full), "scale": 1}
        shot = self.send(
            "Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}
        )
        with open(path, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
