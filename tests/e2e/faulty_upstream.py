"""A mock upstream that misbehaves on request: the faults a real provider has on a bad day.

The test names the fault per request with the `x-mock-fault` header (Envoy forwards it), so
one Envoy serves every case. A request without the header gets the normal mock answer.
The fault is chosen after the request body is read and recorded, so a test sees what the
upstream received even when no answer came back.
"""

import json
import socket
import struct
import time

from mock_upstream import MockUpstream, ReceivedRequest, _Handler, sse_events

FAULT_HEADER = "x-mock-fault"
# With this header too, only the upstream of that name misbehaves (a failover's next model
# gets the same headers and answers normally).
FAULT_MODEL_HEADER = "x-mock-fault-model"
# How long a `hang` holds the request: longer than the test bootstrap's route timeout.
HANG_S = 4.0
SLOW_EVENT_GAP_S = 0.2
GARBAGE = b"<html>502 Bad Gateway</html>\x00\xff\xfe not json {{{"


class FaultyUpstream(MockUpstream):
    def start(self):
        super().start()
        self._server.RequestHandlerClass = _FaultyHandler
        return self


class _FaultyHandler(_Handler):
    def handle_any(self):
        fault = self.headers.get(FAULT_HEADER)
        only = self.headers.get(FAULT_MODEL_HEADER)
        if not fault or (only and only != self.upstream.name):
            return super().handle_any()
        body = self.read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.upstream.record(ReceivedRequest(self.command, self.path, headers, body))
        kind, _, arg = fault.partition(":")
        FAULTS[kind](self, arg, body)

    do_GET = do_POST = handle_any

    def finish(self):
        # An aborted connection has nothing left to flush.
        try:
            super().finish()
        except (OSError, ValueError):
            pass

    def status_error(self, arg, body):
        """`status:429`, `status:503`: an OpenAI-shaped error (429 with retry-after)."""
        status = int(arg)
        error = {"error": {"message": f"mock {status}", "type": "mock_error", "code": str(status)}}
        data = json.dumps(error).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        if status == 429:
            self.send_header("retry-after", "1")
        self.end_headers()
        self.wfile.write(data)

    def reset(self, arg, body):
        """No response: the connection is reset (RST, not FIN)."""
        self.abort_connection()

    def hang(self, arg, body):
        """No response for HANG_S seconds, then the connection closes."""
        time.sleep(HANG_S)
        self.close_connection = True

    def cut_stream(self, arg, body):
        """A 200 SSE stream that stops after two events, without `[DONE]` or the last chunk."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        request = json.loads(body)
        for event in sse_events("chat", self.upstream.name, request)[:2]:
            self.write_chunk(event.encode())
        time.sleep(0.1)
        self.abort_connection()

    def slow_stream(self, arg, body):
        """A whole SSE stream, one event every SLOW_EVENT_GAP_S (a client may leave mid-way)."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for event in sse_events("chat", self.upstream.name, json.loads(body)):
                self.write_chunk(event.encode())
                time.sleep(SLOW_EVENT_GAP_S)
            self.write_chunk(b"")
        except OSError:  # Envoy reset the stream when the client left
            self.close_connection = True

    def garbage(self, arg, body):
        """A 200 whose body is not what it claims (`application/json`, not JSON)."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream" if arg == "sse" else "application/json")
        self.send_header("content-length", str(len(GARBAGE)))
        self.end_headers()
        self.wfile.write(GARBAGE)

    def abort_connection(self):
        # SO_LINGER 0: close() sends RST, as a crashed server or a middlebox would.
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


FAULTS = {
    "status": _FaultyHandler.status_error,
    "reset": _FaultyHandler.reset,
    "hang": _FaultyHandler.hang,
    "cut": _FaultyHandler.cut_stream,
    "slow": _FaultyHandler.slow_stream,
    "garbage": _FaultyHandler.garbage,
}
