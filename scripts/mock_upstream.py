#!/usr/bin/env python3
"""A mock LLM server (OpenAI and Anthropic shapes) that records what it receives.

Tests run it in-process to see exactly which upstream got a request and with which bytes;
the demo runs it as a CLI:  python3 scripts/mock_upstream.py small-instruct:18001 ...
Every response carries `x-mock-upstream: <name>`. Standard library only.
"""

import argparse
import json
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mock_shapes  # noqa: E402  (sibling module; the path line above makes it importable)

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "envoy" / "tier-router.json"

# Path suffix -> JSON body builder, and the SSE framing when the client streams (None: the
# mock answers streamed requests with one JSON body). Longest suffix first.
ENDPOINTS = (
    ("/chat/completions", mock_shapes.chat_completion, "chat"),
    ("/completions", mock_shapes.completion, None),
    ("/responses", mock_shapes.response, "responses"),
    ("/messages", mock_shapes.message, "anthropic"),
)


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict  # names lowercased
    body: bytes


class MockUpstream:
    """One mock model server on its own thread. `port=0` lets the OS pick (see `.port`)."""

    def __init__(self, name, port=0, delay_s=0.0, host="127.0.0.1", log=False):
        self.name = name
        self.host = host
        self.port = port
        self.delay_s = delay_s
        # Streams: write each SSE event as three chunks cut at arbitrary bytes (inside
        # multi-byte characters too), and wait `chunk_gap_s` after each chunk.
        self.split_events = False
        self.chunk_gap_s = 0.0
        # Streams: wait this long before the first event that carries content (after
        # `message_start`, `response.created`, the role-only chunk), as a model thinks.
        self.first_token_delay_s = 0.0
        # When set, every request is answered with this status and an error body (a 429
        # from a provider that is shedding load, a 503 from one that is down).
        self.fail_status = None
        # Sent with `fail_status` (a 429 or 503 saying when to come back), and the error body
        # (default: an OpenAI-shaped error without usage).
        self.retry_after = None
        self.fail_body = None
        # Read the request, then close the connection without a response (a reset before
        # the response headers).
        self.reset_before_headers = False
        # When set, 200 answers carry these bytes as `application/json` (a garbled answer).
        self.raw_answer = None
        # Streams: after this many SSE events, stop sending for `stall_s` seconds.
        self.stall_after_events = None
        self.stall_s = 0.0
        # When set, a function (request body -> dict) shaping non-streamed Chat Completions
        # answers: `content`, `finish_reason`, `refusal`, and `logprob` (every token's, sent
        # when the request asks for logprobs). For answers a cascade's gate must reject.
        self.chat_reply = None
        self.log = log
        self._received = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    def start(self):
        self._server = ThreadingHTTPServer((self.host, self.port), _Handler)
        self._server.daemon_threads = True
        self._server.upstream = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"mock-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    @property
    def requests(self):
        """A snapshot of the requests received so far."""
        with self._lock:
            return list(self._received)

    def record(self, request):
        with self._lock:
            self._received.append(request)

    def clear(self):
        with self._lock:
            self._received.clear()

    def find(self, request_id):
        """The request carrying `x-request-id: request_id`, or None."""
        for request in self.requests:
            if request.headers.get("x-request-id") == request_id:
                return request
        return None


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive with Envoy; streamed answers use chunked transfer encoding.
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Like real model servers: without TCP_NODELAY, Nagle holds a stream's second write
        # until the first is acknowledged, and a delayed ACK adds 40 ms to some answers.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def upstream(self):
        return self.server.upstream

    def handle_any(self):
        body = self.read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.upstream.record(ReceivedRequest(self.command, self.path, headers, body))
        if self.upstream.reset_before_headers:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if self.upstream.delay_s:
            time.sleep(self.upstream.delay_s)
        if self.upstream.fail_status:
            extra = {"retry-after": self.upstream.retry_after} if self.upstream.retry_after else {}
            if isinstance(self.upstream.fail_body, bytes):  # b"": a bare status, no body
                return self.send_raw(self.upstream.fail_body, self.upstream.fail_status, extra)
            error = self.upstream.fail_body or {
                "error": {"message": "mock failure", "type": "mock_error"}
            }
            return self.send_json(error, status=self.upstream.fail_status, headers=extra)
        if self.upstream.raw_answer is not None:
            return self.send_raw(self.upstream.raw_answer)
        if self.command == "GET":
            return self.send_json(mock_shapes.model_list(self.upstream.name))
        request = parse_json_object(body)
        if request is None:
            return self.send_json({"echo": True, "upstream": self.upstream.name})
        self.answer(request)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def answer(self, request):
        path = self.path.split("?", 1)[0]
        for suffix, build, stream_kind in ENDPOINTS:
            if path.endswith(suffix):
                if request.get("stream") is True and stream_kind:
                    return self.send_stream(stream_kind, request)
                payload = build(self.upstream.name, request)
                if self.upstream.chat_reply and suffix == "/chat/completions":
                    mock_shapes.shape_chat(payload, self.upstream.chat_reply(request), request)
                # Like a server that reports no usage, for the estimate's tests.
                if self.headers.get("x-mock-no-usage"):
                    payload.pop("usage", None)
                return self.send_json(payload)
        self.send_json({"echo": True, "upstream": self.upstream.name})

    def read_body(self):
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self.read_chunked()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def read_chunked(self):
        body = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                # Skip trailers up to the blank line that ends the message.
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline()

    def send_json(self, payload, status=200, headers=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-mock-upstream", self.upstream.name)
        self.end_headers()
        self.wfile.write(data)

    def send_raw(self, data, status=200, headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-mock-upstream", self.upstream.name)
        self.end_headers()
        self.wfile.write(data)

    def send_stream(self, kind, request):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("x-mock-upstream", self.upstream.name)
        self.end_headers()
        delay = self.upstream.first_token_delay_s
        for i, event in enumerate(sse_events(kind, self.upstream.name, request)):
            if i == self.upstream.stall_after_events:
                time.sleep(self.upstream.stall_s)
            if delay and carries_content(event):
                time.sleep(delay)
                delay = 0.0
            for piece in split(event.encode(), 3 if self.upstream.split_events else 1):
                self.write_chunk(piece)
                if self.upstream.chunk_gap_s:
                    time.sleep(self.upstream.chunk_gap_s)
        self.write_chunk(b"")

    def write_chunk(self, data):
        # An empty chunk ends the chunked body.
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def log_message(self, format, *args):
        if self.upstream.log:
            sys.stderr.write(f"[{self.upstream.name}] {format % args}\n")


def split(data, parts):
    """`data` cut into `parts` pieces at byte offsets that ignore character boundaries."""
    cuts = [len(data) * i // parts + (i % 2) for i in range(1, parts)]
    bounds = [0, *[min(max(c, 1), len(data) - 1) for c in cuts], len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def carries_content(event):
    """The SSE event holds generated text: Anthropic's `content_block_delta`, a Responses
    `response.output_text.delta`, or a Chat Completions chunk with non-empty content."""
    if event.startswith(("event: content_block_delta\n", "event: response.output_text.delta\n")):
        return True
    data = event.removeprefix("data: ").strip()
    if event.startswith("event: ") or data == "[DONE]":
        return False
    choices = json.loads(data).get("choices") or [{}]
    return bool(choices[0].get("delta", {}).get("content"))


def sse_events(kind, name, request):
    """The text of each SSE event, in the framing each API uses."""
    named = {"anthropic": mock_shapes.message_events, "responses": mock_shapes.response_events}
    if kind in named:
        return [
            f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
            for event, data in named[kind](name, request)
        ]
    events = [
        f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
        for chunk in mock_shapes.chat_completion_events(name, request)
    ]
    return events + ["data: [DONE]\n\n"]


def parse_json_object(body):
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: Python's limit
        return None
    return value if isinstance(value, dict) else None


def parse_args(argv):
    p = argparse.ArgumentParser(description="Run mock LLM upstreams until SIGINT/SIGTERM.")
    p.add_argument(
        "upstreams",
        nargs="*",
        metavar="NAME:PORT",
        help="e.g. small-instruct:18001 (default: every model in --config from --base-port)",
    )
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="tier-router JSON config")
    p.add_argument("--base-port", type=int, default=18001, help="port of the config's first model")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--delay", type=float, default=0.0, help="seconds before the first byte")
    p.add_argument("--quiet", action="store_true", help="do not log each request")
    return p.parse_args(argv)


def upstream_specs(args):
    """(name, port) pairs: from the command line, else the config's models in order, the
    same ports envoy/render.py gives their clusters by default."""
    if args.upstreams:
        return [(name, int(port)) for name, _, port in (s.rpartition(":") for s in args.upstreams)]
    models = json.loads(args.config.read_text(encoding="utf-8"))["models"]
    return [(m["name"], args.base_port + i) for i, m in enumerate(models)]


def main(argv=None):
    args = parse_args(argv)
    servers = [
        MockUpstream(name, port, args.delay, args.host, log=not args.quiet)
        for name, port in upstream_specs(args)
    ]
    for server in servers:
        server.start()
        print(f"mock upstream {server.name} on {server.host}:{server.port}", flush=True)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    while not stopping.wait(0.5):
        pass
    for server in servers:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
