"""Hostile requests, in a real Envoy: each gets a documented outcome (docs/reliability.md),
never a 5xx from the filter or a VM trap, and an access-log line that says what the
upstream received. Cases already tested elsewhere are cited in the doc, not repeated here."""

import gzip
import http.client
import json
import socket
import time
import uuid

import pytest

import harness
from harness import MODEL, SOURCE, TIER
from reliability import assert_not_from_filter, vm_counters, vm_unchanged  # noqa: F401 (fixture)

STACK_FIXTURE = "stack"
CHAT = "/v1/chat/completions"
REWRITTEN = "tier_router.rewritten"
REASON = "tier_router.pass_reason"
LABEL_PROMPT = "Classify the sentiment in one word: great!"
MESSAGES = [{"role": "user", "content": LABEL_PROMPT}]
JSON = {"content-type": "application/json"}

pytestmark = pytest.mark.usefixtures("vm_unchanged")


def chat_body(model="client-model", content=LABEL_PROMPT, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    return json.dumps(body).encode()


def assert_passed_untouched(outcome, body, reason, fallback_model):
    assert outcome.response.status == 200, outcome.response.body
    assert (outcome.upstream, outcome.received.body) == (fallback_model, body)
    assert (outcome.log[TIER], outcome.log[REASON], outcome.log[REWRITTEN]) == ("passthrough", reason, "false")
    assert_not_from_filter(outcome.log)


def assert_routed_to_label(outcome):
    assert outcome.response.status == 200, outcome.response.body
    assert outcome.upstream == "small-instruct"
    assert (outcome.log[TIER], outcome.log[MODEL], outcome.log[REWRITTEN]) == ("label", "small-instruct", "true")
    assert int(outcome.received.headers["content-length"]) == len(outcome.received.body)
    assert_not_from_filter(outcome.log)


# --- bodies that are not (valid) JSON ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "Classify', id="truncated"),
        pytest.param(b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "caf\xe9 in one word"}]}', id="latin-1"),
        pytest.param(b'{"messages": [{"role": "user", "content": "one word \xff\xfe"}], "model": "gpt-4o"}', id="invalid-utf8"),
    ],
)
def test_broken_json_passes_untouched_and_names_the_clients_model(stack, fallback_model, body):
    outcome = stack.call(CHAT, body, headers=dict(JSON, **{"x-task": "classify"}))
    assert_passed_untouched(outcome, body, "invalid_json", fallback_model)
    assert outcome.log[MODEL] == "gpt-4o"  # what the upstream received


DEPTH = 10_000


@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}")], ids=["arrays", "objects"])
def test_10000_deep_nesting_in_an_unread_field_is_routed_and_kept(stack, opening, closing):
    nested = opening * DEPTH + ("1" if opening != "[" else "") + closing * DEPTH
    body = b'{"model": "m", "messages": %s, "x": %s}' % (json.dumps(MESSAGES).encode(), nested.encode())
    outcome = stack.call(CHAT, body, headers=JSON)
    assert_routed_to_label(outcome)
    assert outcome.received.body == body.replace(b'"m"', b'"small-instruct"', 1)


def test_10000_deep_nesting_in_the_messages_passes_untouched(stack, fallback_model):
    body = b'{"model": "m", "messages": [{"role": "user", "content": %s}]}' % (b"[" * DEPTH + b"]" * DEPTH)
    outcome = stack.call(CHAT, body, headers=dict(JSON, **{"x-task": "classify"}))
    assert_passed_untouched(outcome, body, "invalid_json", fallback_model)


# --- sizes ------------------------------------------------------------------------------


def test_a_body_over_the_scan_limit_is_routed_and_rewritten_whole(stack):
    scan_bytes = harness.FILTER_CONFIG["classifier"]["scan_bytes"]
    body = chat_body(content=LABEL_PROMPT + " filler" * (30 * scan_bytes // 7))
    assert len(body) > 30 * scan_bytes
    outcome = stack.call(CHAT, body, headers=JSON)
    assert_routed_to_label(outcome)
    assert outcome.received.body == body.replace(b'"client-model"', b'"small-instruct"')


def envoy_buffer_limit():
    return 4 * 1024 * 1024  # per_connection_buffer_limit_bytes in envoy/envoy.template.yaml


def test_a_body_over_envoys_buffer_streams_through_untouched(stack, fallback_model):
    # With a content-length over max_body_bytes the filter never buffers: Envoy's buffer
    # limit never applies.
    body = chat_body(model="gpt-4o", content="x" * (envoy_buffer_limit() + 2 * 1024 * 1024))
    outcome = stack.call(CHAT, body, headers=JSON)
    assert_passed_untouched(outcome, body, "too_large", fallback_model)
    assert outcome.log[MODEL] == "gpt-4o"


def test_a_chunked_body_over_envoys_buffer_streams_through_or_gets_envoys_413(
    stack, fallback_model
):
    # Chunked, the filter holds the body until it passes max_body_bytes, then lets it stream.
    # Envoy reads a socket up to its buffer limit at a time: when one read carries the held
    # body over that limit, Envoy answers 413 itself before the filter sees the data (seen in
    # about 2 of 10 runs, on the module before issue 16 too). Either way it fails safe:
    # passed through untouched, or Envoy's 413 with nothing sent upstream.
    body = chat_body(model="gpt-4o", content="x" * (envoy_buffer_limit() + 2 * 1024 * 1024))
    request_id = str(uuid.uuid4())
    headers = dict(JSON, **{"x-request-id": request_id})
    response = stack.send("POST", CHAT, body, headers, True)
    if response.status == 413:
        assert all(mock.find(request_id) is None for mock in stack.mocks.values())
        log = stack.access_log.entry(request_id)
        assert log["response_code_details"] == "request_payload_too_large"
        return
    upstream, received = stack.receiver(request_id, response)
    outcome = harness.Outcome(
        request_id, response, upstream, received, stack.access_log.entry(request_id)
    )
    assert_passed_untouched(outcome, body, "too_large", fallback_model)
    assert outcome.log[MODEL] == "gpt-4o"


@pytest.fixture(scope="module")
def big_buffer_stack(tmp_path_factory, envoy_bin, wasm_path):
    """max_body_bytes above the listener's buffer: a misconfiguration Envoy itself catches."""
    config = dict(harness.FILTER_CONFIG, max_body_bytes=2 * envoy_buffer_limit())
    stack = harness.Stack(tmp_path_factory.mktemp("bigbuf"), envoy_bin, wasm_path, config=config)
    try:
        yield stack.start()
    finally:
        stack.stop()


def test_a_body_over_envoys_buffer_while_the_filter_buffers_gets_envoys_413(big_buffer_stack):
    stack = big_buffer_stack
    before = vm_counters(stack)
    request_id = str(uuid.uuid4())
    body = chat_body(content="x" * (envoy_buffer_limit() + 1024))
    response = stack.send("POST", CHAT, body, dict(JSON, **{"x-request-id": request_id}))
    assert response.status == 413, response.body
    assert all(mock.find(request_id) is None for mock in stack.mocks.values())
    log = stack.access_log.entry(request_id)
    assert (log["status"], log["response_code_details"]) == (413, "request_payload_too_large")
    assert log[TIER] in (None, "-")  # no decision was made: nothing was sent
    assert vm_counters(stack) == before


def test_headers_over_60kb_get_envoys_431_before_the_filter(stack):
    response = stack.send("POST", CHAT, chat_body(), dict(JSON, **{"x-big": "h" * 61_440}))
    assert response.status == 431
    # The request was never parsed: its line has no request id, and no filter fields.
    lines = [e for e in stack.access_log.entries() if e["status"] == 431]
    deadline = time.monotonic() + 5
    while not lines and time.monotonic() < deadline:
        time.sleep(0.1)
        lines = [e for e in stack.access_log.entries() if e["status"] == 431]
    assert lines, "no access-log line for the 431"
    log = lines[-1]
    assert log["response_code_details"] == "http1.headers_too_large"
    assert (log["request_id"], log[TIER]) == (None, None)


def test_a_10kb_session_id_is_routed_and_pinned(stack):
    session = {"x-session-id": "s" * 10_240 + uuid.uuid4().hex}
    first = stack.call(CHAT, chat_body(), headers=dict(JSON, **session))
    assert_routed_to_label(first)
    second = stack.call(CHAT, chat_body(content="Hello there, how are you?"), headers=dict(JSON, **session))
    assert second.upstream == "small-instruct"
    assert (second.log[TIER], second.log[SOURCE]) == ("label", "session")


# --- encodings and odd `model` members ---------------------------------------------------


def test_a_real_gzip_body_passes_untouched(stack, fallback_model):
    body = gzip.compress(chat_body(model="gpt-4o"))
    headers = dict(JSON, **{"content-encoding": "gzip", "x-task": "classify"})
    outcome = stack.call(CHAT, body, headers=headers)
    assert_passed_untouched(outcome, body, "encoded", fallback_model)
    assert outcome.received.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("value", [42, None, ["gpt-4o"], {"name": "gpt-4o"}, True, ""], ids=repr)
def test_a_model_of_the_wrong_type_is_replaced_by_the_tiers(stack, value):
    body = json.dumps({"model": value, "messages": MESSAGES, "temperature": 0}).encode()
    outcome = stack.call(CHAT, body, headers=JSON)
    assert_routed_to_label(outcome)
    assert json.loads(outcome.received.body) == {"model": "small-instruct", "messages": MESSAGES, "temperature": 0}


@pytest.mark.parametrize(
    "body, keys",
    [
        pytest.param(b'{"model": "a", "messages": %s, "model": "b"}', 2, id="duplicate"),
        pytest.param(b'{"m\\u006fdel": "a", "messages": %s}', 1, id="escaped"),
        pytest.param(b'{"m\\u006fdel": "a", "messages": %s, "model": "b"}', 2, id="escaped-and-plain"),
    ],
)
def test_every_spelling_of_the_model_key_gets_the_tiers_model(stack, body, keys):
    # An upstream's parser may keep the first or the last duplicate: both must say the same.
    body = body % json.dumps(MESSAGES).encode()
    outcome = stack.call(CHAT, body, headers=JSON)
    assert_routed_to_label(outcome)
    members = json.loads(outcome.received.body, object_pairs_hook=list)
    assert [value for key, value in members if key == "model"] == ["small-instruct"] * keys


# --- clients ------------------------------------------------------------------------------


def h2_post(port, path, body, headers):
    """One HTTP/2 request with prior knowledge (no upgrade, no TLS), with the h2 package."""
    import h2.config
    import h2.connection
    import h2.events

    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        conn.initiate_connection()
        request = [(":method", "POST"), (":path", path), (":scheme", "http"), (":authority", "127.0.0.1")]
        conn.send_headers(1, request + list(headers.items()))
        conn.send_data(1, body, end_stream=True)
        sock.sendall(conn.data_to_send())
        status, response_headers, data = None, {}, b""
        while True:
            chunk = sock.recv(65536)
            assert chunk, "the connection closed before the response ended"
            for event in conn.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived):
                    response_headers = {k.decode(): v.decode() for k, v in event.headers}
                    status = int(response_headers[":status"])
                elif isinstance(event, h2.events.DataReceived):
                    data += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, 1)
                elif isinstance(event, h2.events.StreamEnded):
                    return status, response_headers, data
            sock.sendall(conn.data_to_send())


def test_an_http2_prior_knowledge_client_is_routed(stack):
    request_id = str(uuid.uuid4())
    headers = dict(JSON, **{"x-request-id": request_id})
    status, headers, data = h2_post(stack.listener_port, CHAT, chat_body(), headers)
    assert status == 200, data
    assert json.loads(data)["model"] == "small-instruct"
    assert headers["x-tier-router-model"] == "small-instruct"
    upstream, received = stack.receiver(request_id, harness.Response(status, headers, data))
    assert json.loads(received.body)["model"] == upstream == "small-instruct"
    log = stack.access_log.entry(request_id)
    assert (log[TIER], log[MODEL], log[REWRITTEN]) == ("label", "small-instruct", "true")


def slow_chunks(body, pieces, gap_s):
    step = len(body) // pieces + 1
    for i in range(0, len(body), step):
        time.sleep(gap_s)
        yield body[i : i + step]


def test_a_slow_chunked_body_is_routed_once_it_ends(stack):
    body = chat_body()
    request_id = str(uuid.uuid4())
    conn = http.client.HTTPConnection("127.0.0.1", stack.listener_port, timeout=30)
    try:
        headers = dict(JSON, **{"x-request-id": request_id})
        conn.request("POST", CHAT, body=slow_chunks(body, 6, 0.3), headers=headers, encode_chunked=True)
        raw = conn.getresponse()
        response = harness.Response(raw.status, dict(raw.getheaders()), raw.read())
    finally:
        conn.close()
    assert response.status == 200, response.body
    upstream, received = stack.receiver(request_id, response)
    assert (upstream, received.body) == ("small-instruct", body.replace(b'"client-model"', b'"small-instruct"'))
    log = stack.access_log.entry(request_id)
    assert (log[TIER], log[REWRITTEN]) == ("label", "true")
    assert float(log["tier_router.latency_ms"]) >= 1500  # the filter waited for the whole body
