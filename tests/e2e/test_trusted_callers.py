"""Who may name a task, in a real Envoy: under `explicit_tasks.trusted` a task from a caller
outside the allow-list is ignored, counted (`reason="caller_not_trusted"`) and the body is
classified; a caller inside it (source CIDR, or a header an earlier filter adds) is obeyed."""

import copy

import pytest

import harness
from harness import FILTER_CONFIG, MODEL, SOURCE, TIER
from prompts import chat
from test_telemetry import delta, metrics

CHAT = "/v1/chat/completions"
# The body asks for a proof: classified, it goes to analysis; the task asks for label.
PROOF = chat("Prove step by step that the square root of 2 is irrational.")
TRUSTED_HEADER = "x-authz-batch"
BATCH_TOKEN = "Bearer batch-token"

# Stands in for ext_authz or jwt_authn: drops any client-sent copy of the trusted header,
# then sets it for callers that authenticated. The filter must run before tier-router.
AUTHN_FILTER = f"""\
          - name: envoy.filters.http.lua
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
              default_source_code:
                inline_string: |
                  function envoy_on_request(request)
                    local headers = request:headers()
                    headers:remove("{TRUSTED_HEADER}")
                    if headers:get("authorization") == "{BATCH_TOKEN}" then
                      headers:add("{TRUSTED_HEADER}", "batch")
                    end
                  end
"""


def with_trusted(trusted):
    config = copy.deepcopy(FILTER_CONFIG)
    config["explicit_tasks"] = {"trusted": trusted}
    return config


def add_authn_filter(text):
    anchor = "          http_filters:\n"
    assert anchor in text
    return text.replace(anchor, anchor + AUTHN_FILTER, 1)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, envoy_bin, wasm_path):
    """Trusts 10.0.0.0/8 (not the tests' 127.0.0.1) and the authenticated header."""
    config = with_trusted({"source_cidrs": ["10.0.0.0/8", "fd00::/8"], "header": TRUSTED_HEADER})
    stack = harness.Stack(
        tmp_path_factory.mktemp("guarded"), envoy_bin, wasm_path, config,
        edit_bootstrap=add_authn_filter,
    )  # fmt: skip
    stack.start()
    yield stack
    stack.stop()


def test_an_untrusted_callers_task_is_ignored_counted_and_classified(guarded):
    before = metrics(guarded)
    for headers, path in [({"x-task": "label"}, CHAT), ({}, CHAT + "?task=label")]:
        outcome = guarded.call(path, PROOF, headers=headers)
        assert outcome.decision == ("analysis", "reasoning-large", "classifier"), outcome.log
        assert outcome.upstream == "reasoning-large"
        source = "header" if headers else "query"
        assert outcome.log["tier_router.untrusted_task"] == f"{source}:caller_not_trusted"
    after = metrics(guarded)
    assert delta(before, after, "tier_router_untrusted_task_total", reason="caller_not_trusted") == 2
    assert delta(before, after, "tier_router_untrusted_task_total", reason="unknown_task") == 0


def test_a_forged_forwarded_for_does_not_make_a_caller_trusted(guarded):
    # Envoy takes the client address from x-forwarded-for unless use_remote_address is on.
    outcome = guarded.call(CHAT, PROOF, headers={"x-task": "label", "x-forwarded-for": "10.1.2.3"})
    assert outcome.log[SOURCE] == "classifier", outcome.log


def test_the_header_an_earlier_filter_adds_trusts_the_caller(guarded):
    outcome = guarded.call(CHAT, PROOF, headers={"x-task": "label", "authorization": BATCH_TOKEN})
    assert outcome.decision == ("label", "small-instruct", "header")
    assert outcome.log["tier_router.untrusted_task"] is None


def test_a_client_cannot_send_the_trusted_header_itself(guarded):
    before = metrics(guarded)
    outcome = guarded.call(CHAT, PROOF, headers={"x-task": "label", TRUSTED_HEADER: "batch"})
    assert outcome.log[SOURCE] == "classifier"
    assert outcome.log["tier_router.untrusted_task"] == "header:caller_not_trusted"
    after = metrics(guarded)
    assert delta(before, after, "tier_router_untrusted_task_total", reason="caller_not_trusted") == 1


def test_an_unknown_task_keeps_its_own_reason(guarded):
    before = metrics(guarded)
    outcome = guarded.call(CHAT, PROOF, headers={"x-task": "platinum", "authorization": BATCH_TOKEN})
    assert outcome.log["tier_router.untrusted_task"] == "header:unknown_task"
    assert outcome.log[TIER] == "analysis"
    after = metrics(guarded)
    assert delta(before, after, "tier_router_untrusted_task_total", reason="unknown_task") == 1


def test_a_trusted_source_cidr_may_name_a_task(tmp_path_factory, envoy_bin, wasm_path):
    config = with_trusted({"source_cidrs": ["127.0.0.1/32"]})
    stack = harness.Stack(tmp_path_factory.mktemp("local-trusted"), envoy_bin, wasm_path, config)
    stack.start()
    try:
        outcome = stack.call(CHAT, PROOF, headers={"x-task": "label"})
        assert (outcome.log[TIER], outcome.log[MODEL]) == ("label", "small-instruct")
        assert outcome.log[SOURCE] == "header"
        assert outcome.upstream == "small-instruct"
    finally:
        stack.stop()
