"""No silent bypass, in a real Envoy: only LLM endpoints are rewritten; every body the router
cannot rewrite is passed untouched (to the catch-all, logged with the client's model or
none) or rejected with an OpenAI-shaped error; no client picks a cluster, with or without
the filter; a trapped VM is reloaded and the trap shows in Envoy's stats."""

import json
import os
import subprocess
import time
import uuid

import pytest
import yaml

import harness
from harness import MODEL, TIER

SPOOF = {"x-tier-router-cluster": "reasoning_large"}
CHAT = "/v1/chat/completions"
REWRITTEN = "tier_router.rewritten"
REASON = "tier_router.pass_reason"
COST = "tier_router.cost_usd"
ABSENT = (None, "-", "")
BOM = b"\xef\xbb\xbf"
REJECT_ALL = {"too_large": "reject", "encoded": "reject", "not_json": "reject", "invalid_json": "reject"}


def body_of(model, text):
    return json.dumps({"model": model, "messages": [{"role": "user", "content": text}]}).encode()


def json_headers(**extra):
    return dict(SPOOF, **{"content-type": "application/json"}, **extra)


def assert_passed_untouched(outcome, stack, body, reason, fallback_model):
    """Forwarded byte for byte to the catch-all (the fallback model's cluster), with no
    cluster header, and logged as not rewritten."""
    assert outcome.response.status == 200, outcome.response.body
    assert outcome.upstream == fallback_model  # the catch-all route, not the client's pick
    assert outcome.received.body == body
    assert "x-tier-router-cluster" not in outcome.received.headers
    assert outcome.log[TIER] == "passthrough"
    assert outcome.log[REWRITTEN] == "false"
    assert outcome.log[REASON] == reason


@pytest.fixture(scope="module")
def reject_stack(tmp_path_factory, envoy_bin, wasm_path):
    config = dict(harness.FILTER_CONFIG, unrewritable=REJECT_ALL)
    stack = harness.Stack(tmp_path_factory.mktemp("reject"), envoy_bin, wasm_path, config=config)
    try:
        yield stack.start()
    finally:
        stack.stop()


def metrics(stack):
    from prometheus_client.parser import text_string_to_metric_families

    values = {}
    for family in text_string_to_metric_families(stack.prometheus_stats()):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return values


def counted(before, after, name, **labels):
    key = (name, frozenset(labels.items()))
    return after.get(key, 0) - before.get(key, 0)


# --- endpoints ---------------------------------------------------------------------------


def test_embeddings_are_never_rewritten_and_are_counted(stack, fallback_model):
    body = json.dumps({"model": "text-embedding-3-small", "input": "Classify the sentiment: great!"}).encode()
    before = metrics(stack)
    for path in ["/v1/embeddings", "/v1/moderations", "/v1/images/generations"]:
        outcome = stack.call(path, body, headers=json_headers(**{"x-task": "analyze"}))
        assert_passed_untouched(outcome, stack, body, "endpoint", fallback_model)
        assert outcome.log[MODEL] == "text-embedding-3-small"  # what the upstream got
        assert outcome.log["tier_router.priced_as"] == "unpriced"
        assert outcome.response.headers["x-tier-router-tier"] == "passthrough"
    after = metrics(stack)
    assert counted(before, after, "tier_router_passthrough_total", reason="endpoint") == 3


# --- bodies the router cannot rewrite, under `pass` (the default) ------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_2mb_body_with_a_task_reaches_the_catch_all_as_sent_and_is_logged_so(stack, chunked, fallback_model):
    body = body_of("gpt-4o", "Prove it step by step. " + "x" * (2 * 1024 * 1024))
    outcome = stack.call(CHAT, body, headers=json_headers(**{"x-task": "analysis"}), chunked=chunked)
    assert_passed_untouched(outcome, stack, body, "too_large", fallback_model)
    assert outcome.upstream != "reasoning-large"
    # The upstream got the client's `gpt-4o`, and so says the log; it has no price here.
    assert outcome.log[MODEL] == "gpt-4o"
    assert outcome.log[COST] in ABSENT
    assert outcome.log["tier_router.priced_as"] == "unpriced"


def test_a_passed_body_naming_a_configured_model_is_priced_as_that_model(stack, fallback_model):
    body = body_of("frontier-chat", "x" * (2 * 1024 * 1024))
    outcome = stack.call(CHAT, body, headers=json_headers(**{"x-task": "classify"}))
    assert_passed_untouched(outcome, stack, body, "too_large", fallback_model)
    assert outcome.log[MODEL] == outcome.log["tier_router.priced_as"] == "frontier-chat"
    assert float(outcome.log[COST]) > 0


def test_gzip_body_passes_untouched(stack, fallback_model):
    body = b"\x1f\x8b\x08\x00not really gzip"
    outcome = stack.call(CHAT, body, headers=json_headers(**{"content-encoding": "gzip", "x-task": "classify"}))
    assert_passed_untouched(outcome, stack, body, "encoded", fallback_model)
    assert outcome.log[MODEL] in ABSENT  # compressed: not read
    assert outcome.received.headers["content-encoding"] == "gzip"


def test_json_sent_as_text_plain_passes_untouched(stack, fallback_model):
    body = body_of("general-mini", "Classify the sentiment in one word: great!")
    headers = dict(SPOOF, **{"content-type": "text/plain", "x-task": "classify"})
    outcome = stack.call(CHAT, body, headers=headers)
    assert_passed_untouched(outcome, stack, body, "not_json", fallback_model)
    assert outcome.log[MODEL] == outcome.log["tier_router.priced_as"] == "general-mini"


def test_invalid_json_passes_untouched(stack, fallback_model):
    body = b'{"model": "gpt-4o", "messages": [}'
    outcome = stack.call(CHAT, body, headers=json_headers(**{"x-task": "classify"}))
    assert_passed_untouched(outcome, stack, body, "invalid_json", fallback_model)
    assert outcome.log[MODEL] == "gpt-4o"  # named before the body breaks off


def test_a_leading_bom_is_routed_normally_and_kept(stack):
    body = BOM + body_of("client-model", "Classify the sentiment in one word: great!")
    outcome = stack.call(CHAT, body, headers=json_headers(**{"x-task": "classify"}))
    assert outcome.response.status == 200
    assert outcome.upstream == "small-instruct"
    assert outcome.received.body.startswith(BOM)
    assert json.loads(outcome.received.body[3:])["model"] == "small-instruct"
    assert outcome.received.headers["content-length"] == str(len(outcome.received.body))
    assert (outcome.log[MODEL], outcome.log[REWRITTEN]) == ("small-instruct", "true")
    assert outcome.log[REASON] in ABSENT


# --- the same bodies under `reject` ------------------------------------------------------


@pytest.mark.parametrize(
    "name, body, headers, status, code",
    [
        ("too_large", body_of("gpt-4o", "x" * (2 * 1024 * 1024)), {}, 413, "request_too_large"),
        ("encoded", b"\x1f\x8b\x08\x00", {"content-encoding": "gzip"}, 415, "unsupported_content_encoding"),
        ("not_json", body_of("m", "hi"), {"content-type": "text/plain"}, 415, "unsupported_content_type"),
        ("invalid_json", b'{"model": ', {}, 400, "invalid_json"),
    ],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_reject_answers_an_openai_error_and_sends_nothing_upstream(reject_stack, name, body, headers, status, code, chunked):
    headers = dict(json_headers(**{"x-task": "analysis"}), **headers)
    before = metrics(reject_stack) if not chunked and name == "too_large" else None
    # A UUID: Envoy rewrites the 15th character of an external x-request-id (trace reason).
    request_id = str(uuid.uuid4())
    response = reject_stack.send("POST", CHAT, body, dict(headers, **{"x-request-id": request_id}), chunked)
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert (error["code"], error["type"]) == (code, "invalid_request_error")
    assert error["message"]
    assert all(mock.find(request_id) is None for mock in reject_stack.mocks.values())
    log = reject_stack.access_log.entry(request_id)
    assert (log[REASON], log["tier_router.rejected"], log[REWRITTEN]) == (name, "true", "false")
    if before is not None:
        after = metrics(reject_stack)
        assert counted(before, after, "tier_router_rejected_total", reason=name) == 1


def test_reject_still_routes_a_good_body(reject_stack):
    outcome = reject_stack.call(CHAT, BOM + body_of("m", "hi"), headers=json_headers(**{"x-task": "classify"}))
    assert (outcome.upstream, outcome.log[REWRITTEN]) == ("small-instruct", "true")


# --- no client picks a cluster, with or without the filter -------------------------------


def without_wasm_filter(text):
    bootstrap = yaml.safe_load(text)
    for listener in bootstrap["static_resources"]["listeners"]:
        hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
        hcm["http_filters"] = [f for f in hcm["http_filters"] if f["name"] != "envoy.filters.http.wasm"]
    return yaml.safe_dump(bootstrap, sort_keys=False)


def test_a_client_cluster_header_picks_nothing_with_the_filter(stack):
    outcome = stack.call(CHAT, body_of("m", "Classify the sentiment in one word: ok"), headers=json_headers())
    assert outcome.upstream == "small-instruct"
    assert outcome.received.headers["x-tier-router-cluster"] == "small_instruct"


def test_a_client_cluster_header_picks_nothing_without_the_filter(tmp_path, envoy_bin, wasm_path, fallback_model):
    stack = harness.Stack(tmp_path, envoy_bin, wasm_path, edit_bootstrap=without_wasm_filter)
    try:
        stack.start()
        body = body_of("m", "hi")
        request_id = "no-filter"
        response = stack.send("POST", CHAT, body, json_headers(**{"x-request-id": request_id}))
        assert response.status == 200
        upstream, received = stack.receiver(request_id, response)
        assert upstream == fallback_model  # the catch-all, not reasoning_large
        assert "x-tier-router-cluster" not in received.headers
    finally:
        stack.stop()


# --- a trapped VM: FAIL_RELOAD ------------------------------------------------------------

TRAP_TARGET = harness.REPO_ROOT / "target" / "test-trap"
TRAP_WASM = TRAP_TARGET / "wasm32-wasip1" / "debug" / "tier_router.wasm"


@pytest.fixture(scope="module")
def trap_wasm():
    """The filter with the `test-trap` feature, in its own target dir so it never replaces
    the shipped module; a debug build without debug info keeps it quick."""
    env = dict(os.environ, CARGO_TARGET_DIR=str(TRAP_TARGET), CARGO_PROFILE_DEV_DEBUG="0")
    cmd = ["cargo", "build", "--target", "wasm32-wasip1", "-p", "tier-router-filter", "--features", "test-trap"]
    result = subprocess.run(cmd, cwd=harness.REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return TRAP_WASM


def wasm_stats(stack):
    text = stack.envoy.admin_get("/stats") or ""
    return dict(
        (name.strip(), int(value)) for name, value in
        (line.rsplit(":", 1) for line in text.splitlines() if line.startswith("wasm") and ":" in line)
        if value.strip().isdigit()
    )  # fmt: skip


def test_a_trapped_vm_routes_nothing_and_is_reloaded(tmp_path, envoy_bin, trap_wasm):
    stack = harness.Stack(tmp_path, envoy_bin, trap_wasm)
    try:
        stack.start()
        label = body_of("client-model", "Classify the sentiment in one word: great!")
        trap = stack.send("POST", CHAT, label, json_headers(**{"x-tier-router-test-trap": "1", "x-request-id": "trap"}))
        assert trap.status >= 500
        assert all(mock.find("trap") is None for mock in stack.mocks.values())
        # During the reload back-off requests fail; none reaches the client's cluster.
        deadline, attempt, routed = time.monotonic() + 20, 0, None
        while routed is None and time.monotonic() < deadline:
            attempt += 1
            request_id = f"after-{attempt}"
            response = stack.send("POST", CHAT, label, json_headers(**{"x-request-id": request_id}))
            reached = [name for name, mock in stack.mocks.items() if mock.find(request_id)]
            assert "reasoning-large" not in reached, (attempt, response.status)
            if response.status == 200:
                routed = (request_id, reached)
            else:
                assert response.status >= 500 and not reached
                time.sleep(0.2)
        assert routed is not None, "the VM was not reloaded"
        request_id, reached = routed
        assert reached == ["small-instruct"]  # routed by the filter again
        log = stack.access_log.entry(request_id)
        assert (log[TIER], log[MODEL], log[REWRITTEN]) == ("label", "small-instruct", "true")
        # Envoy 1.40 counts the reload under the plugin's name (`config.name`), and the
        # replaced VM in the runtime's `created` (more VMs made than are active).
        stats = wasm_stats(stack)
        assert stats["wasm.tier_router.vm_reload_success"] >= 1, stats
        assert stats["wasm.tier_router.vm_reload_backoff"] >= 1, stats
        runtime = "wasm.envoy.wasm.runtime.v8"
        assert stats[f"{runtime}.created"] > stats[f"{runtime}.active"], stats
    finally:
        stack.stop()
