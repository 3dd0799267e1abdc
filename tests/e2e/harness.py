"""Runs a real Envoy with the tier-router wasm in front of in-process mock upstreams.

conftest.py builds one `Stack` per test session; tests call `stack.call(...)` and read
which mock got the request, with which bytes, and what the access log says about it.
"""

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# Every request here goes to 127.0.0.1; a proxy from the environment must not intercept it
# (urllib and the openai SDK's httpx both read these).
for _name in ("NO_PROXY", "no_proxy"):
    os.environ[_name] = ",".join(filter(None, ["127.0.0.1,localhost", os.environ.get(_name)]))
sys.path[:0] = [str(REPO_ROOT / "scripts"), str(REPO_ROOT / "envoy")]

import render  # noqa: E402  (envoy/render.py)
from envoy_locate import find_envoy  # noqa: E402,F401  (scripts/envoy_locate.py)
from free_port import free_port  # noqa: E402,F401  (scripts/free_port.py)
from mock_upstream import MockUpstream  # noqa: E402  (scripts/mock_upstream.py)

WASM_PATH = REPO_ROOT / "target" / "wasm32-wasip1" / "release" / "tier_router.wasm"
# How often the filter hands its counters to Envoy (METRICS_FLUSH_MS in crates/filter/src/root.rs).
METRICS_FLUSH_S = 1.0
FILTER_CONFIG = json.loads(render.CONFIG_PATH.read_text(encoding="utf-8"))
# The filter's record: all its fields as one JSON object (filter state wasm.tier_router).
RECORD = "tier_router"
# Its keys (crates/core/src/names.rs), read from the record or logged under their own names.
TIER = "tier_router.tier"
MODEL = "gen_ai.request.model"
SOURCE = "tier_router.decision_source"
CUES = "tier_router.matched_cues"
READY_TIMEOUT_S = 20
LOG_TIMEOUT_S = 5


def ensure_wasm():
    if not WASM_PATH.exists():
        # The module as shipped (cargo profile `wasm`, then wasm-opt), as `make test` builds it.
        cmd = ["bash", str(REPO_ROOT / "scripts" / "build_wasm.sh")]
        subprocess.run(cmd, cwd=REPO_ROOT, check=True)
    return WASM_PATH


# 64 ids per test run (the suite starts about 20 Envoys); pid * 64 stays within 32 bits.
_BASE_IDS = iter(range(os.getpid() * 64, os.getpid() * 64 + 64))


def next_base_id():
    """A --base-id no other Envoy of this or a concurrent test run uses."""
    return next(_BASE_IDS)


class Envoy:
    """One Envoy process; its stdout/stderr go to `log_path` for post-mortems."""

    def __init__(self, binary, config_path, admin_port, log_path, concurrency=1):
        self.binary = binary
        self.concurrency = concurrency
        self.config_path = config_path
        self.admin_port = admin_port
        self.log_path = log_path
        self.process = None

    def start(self):
        cmd = [
            self.binary, "-c", str(self.config_path),
            # Distinct per Envoy so it never collides with another's shared memory.
            "--base-id", str(next_base_id()),
            "--concurrency", str(self.concurrency),
            "--file-flush-interval-msec", "100",
            "-l", "warning",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT
            )
        self.wait_ready()
        return self

    def wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"envoy exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self.admin_get("/ready") == "LIVE":
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"envoy not ready after {READY_TIMEOUT_S}s:\n{self.log_tail()}")

    def admin_get(self, path):
        try:
            url = f"http://127.0.0.1:{self.admin_port}{path}"
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode().strip()
        except OSError:
            return None

    def log_tail(self, lines=40):
        text = Path(self.log_path).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class AccessLog:
    """The JSON access log; entries are looked up by x-request-id."""

    def __init__(self, path):
        self.path = Path(path)

    def entry(self, request_id, timeout_s=LOG_TIMEOUT_S):
        # Envoy flushes every 100 ms (--file-flush-interval-msec), after the response is sent.
        deadline = time.monotonic() + timeout_s
        while True:
            for entry in self.entries():
                if entry.get("request_id") == request_id:
                    return entry
            if time.monotonic() > deadline:
                raise AssertionError(f"no access-log line for request id {request_id}")
            time.sleep(0.05)

    def entries(self):
        if not self.path.exists():
            return []
        # Envoy may flush a line in two writes: only lines it has ended are read (a cut line
        # would not parse, and may end inside a multi-byte character).
        complete, _, _partial = self.path.read_bytes().rpartition(b"\n")
        lines = complete.decode("utf-8").split("\n")
        return [with_record_fields(json.loads(line)) for line in lines if line.strip()]


def with_record_fields(entry):
    """A log entry with the filter's record (`tier_router`, a JSON object logged as a string)
    spread into top-level keys, as the `fields` layout logs them; the record string stays."""
    record = entry.get(RECORD)
    if isinstance(record, str) and record.startswith("{"):
        for key, value in json.loads(record).items():
            entry.setdefault(key, value)
    return entry


@dataclass
class Response:
    status: int
    headers: dict  # names lowercased
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Outcome:
    """What happened to one request: the client's response, the upstream's view, the log."""

    request_id: str
    response: Response
    upstream: str  # model name of the mock that received it
    received: object  # mock_upstream.ReceivedRequest
    log: dict

    @property
    def decision(self):
        """(tier, model, source) as the access log records them."""
        return self.log[TIER], self.log[MODEL], self.log[SOURCE]

    @property
    def sent_model(self):
        """The `model` the upstream saw in the body."""
        return json.loads(self.received.body).get("model")


def send(port, method, path, body=None, headers=None, chunked=False):
    """One HTTP/1.1 request on a fresh connection. A dict body is sent as JSON."""
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers.setdefault("content-type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if chunked:
            conn.request(method, path, body=iter([body]), headers=headers, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=headers)
        raw = conn.getresponse()
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, raw.read())
    finally:
        conn.close()


class Stack:
    """Mock upstreams (one per model of the filter config) behind one Envoy with the filter.

    `config` (a dict) replaces envoy/tier-router.json; `concurrency` sets Envoy's worker
    threads (pins and learned TTFTs must hold across them); `edit_bootstrap` (text -> text)
    changes the rendered envoy.yaml before Envoy starts (e.g. another access-log format).
    """

    def __init__(
        self, workdir, envoy_bin, wasm_path, config=None, concurrency=1, edit_bootstrap=None
    ):
        self.workdir = Path(workdir)
        self.edit_bootstrap = edit_bootstrap or (lambda text: text)
        self.config = config or FILTER_CONFIG
        self.mocks = {m["name"]: MockUpstream(m["name"]) for m in self.config["models"]}
        self.cluster_of = {m["name"]: m["cluster"] for m in self.config["models"]}
        self.listener_port = free_port()
        self.admin_port = free_port()
        self.access_log = AccessLog(self.workdir / "access.log")
        self.envoy_bin = envoy_bin
        self.wasm_path = wasm_path
        self.concurrency = concurrency
        self.envoy = None

    def start(self):
        for mock in self.mocks.values():
            mock.start()
        filter_config = self.workdir / "tier-router.json"
        filter_config.write_text(json.dumps(self.config, indent=2))
        config_path = self.workdir / "envoy.yaml"
        config_path.write_text(
            self.edit_bootstrap(render.render(
                listener_port=self.listener_port,
                admin_port=self.admin_port,
                upstream_ports=[mock.port for mock in self.mocks.values()],
                wasm_path=self.wasm_path,
                access_log_path=self.access_log.path,
                config_path=filter_config,
            ))
        )
        envoy_log = self.workdir / "envoy.log"
        self.envoy = Envoy(
            self.envoy_bin, config_path, self.admin_port, envoy_log, self.concurrency
        ).start()
        return self

    def stop(self):
        if self.envoy:
            self.envoy.stop()
        for mock in self.mocks.values():
            mock.stop()

    def send(self, method, path, body=None, headers=None, chunked=False):
        return send(self.listener_port, method, path, body, headers, chunked)

    def call(self, path, body=None, headers=None, method="POST", chunked=False):
        """Send a request with a fresh x-request-id and collect everything about it."""
        request_id = str(uuid.uuid4())
        headers = dict(headers or {}, **{"x-request-id": request_id})
        response = self.send(method, path, body, headers, chunked)
        upstream, received = self.receiver(request_id, response)
        return Outcome(request_id, response, upstream, received, self.access_log.entry(request_id))

    def receiver(self, request_id, response):
        """(model name, request) of the one mock that received `request_id`."""
        hits = []
        for name, mock in self.mocks.items():
            received = mock.find(request_id)
            if received is not None:
                hits.append((name, received))
        assert len(hits) == 1, (
            f"request {request_id} reached {len(hits)} upstreams, expected 1; "
            f"client got {response.status} {response.body[:300]!r}"
        )
        return hits[0]

    def prometheus_stats(self):
        # Counters reach Envoy on the filter's tick (METRICS_FLUSH_MS in crates/filter/src/root.rs):
        # wait one tick and a margin so every request sent so far is counted.
        time.sleep(METRICS_FLUSH_S + 0.5)
        return self.envoy.admin_get("/stats/prometheus") or ""
