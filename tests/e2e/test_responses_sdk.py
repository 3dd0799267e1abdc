"""The official `openai` SDK's Responses API through Envoy, plain and streamed: routing by
the `input` and `instructions`, the upstream gets the client's body with only the router's
fields changed, and the log has the usage of `response.completed` and its cost."""

import openai
import pytest
from openai import OpenAI

from harness import TIER
from prompts import ANALYSIS_PROMPT, LABEL_PROMPT
from sdk_wire import Wire, assert_logged, assert_only_model_rewritten, new_request_id


@pytest.fixture(scope="module")
def wire():
    return Wire(openai.DefaultHttpxClient)


@pytest.fixture(scope="module")
def responses(stack, wire):
    return OpenAI(
        base_url=f"http://127.0.0.1:{stack.listener_port}/v1",
        api_key="not-used-by-the-mock",
        max_retries=0,
        http_client=wire.http_client,
    ).responses


def usage_of(response):
    u = response.usage
    cached = u.input_tokens_details.cached_tokens if u.input_tokens_details else 0
    return u.input_tokens, cached, u.output_tokens


def test_response_is_routed_by_its_input(stack, responses, wire):
    request_id = new_request_id()
    response = responses.create(
        model="gpt-4.1", input=LABEL_PROMPT, extra_headers={"x-request-id": request_id}
    )
    assert response.model == "small-instruct"
    assert response.status == "completed"
    assert response.output_text.startswith("Mock answer from small-instruct")
    assert_only_model_rewritten(wire, stack, request_id, "small-instruct")
    log = stack.access_log.entry(request_id)
    assert (log[TIER], log["tier_router.decision_source"]) == ("label", "classifier")
    assert_logged(log, "small-instruct", *usage_of(response))


def test_reasoning_response_goes_to_the_reasoning_model_with_its_floor(stack, responses, wire):
    request_id = new_request_id()
    response = responses.create(
        model="gpt-4.1",
        instructions="You are a careful mathematician.",
        input=[{"role": "user", "content": [{"type": "input_text", "text": ANALYSIS_PROMPT}]}],
        reasoning={"effort": "high"},
        extra_headers={"x-request-id": request_id},
    )
    assert response.model == "reasoning-large"
    # The analysis tier's token floor, in the Responses API's own cap field.
    assert_only_model_rewritten(
        wire, stack, request_id, "reasoning-large", max_output_tokens=4096
    )
    log = stack.access_log.entry(request_id)
    assert log[TIER] == "analysis"
    assert log["tier_router.edits"] == "model,floor"
    assert_logged(log, "reasoning-large", *usage_of(response))


def test_streamed_response_logs_the_usage_of_response_completed(stack, responses, wire):
    # Long enough for the mock to report cached input tokens (priced at cached_input).
    prompt = LABEL_PROMPT + " Context: " + "the customer wrote a long message. " * 150
    request_id = new_request_id()
    stream = responses.create(
        model="gpt-4.1", input=prompt, stream=True, extra_headers={"x-request-id": request_id}
    )
    events = list(stream)
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    final = events[-1].response
    assert text == final.output_text and text.startswith("Mock answer from small-instruct")
    assert final.model == "small-instruct"
    input_tokens, cached, output_tokens = usage_of(final)
    assert cached > 0
    # Responses always reports usage: no stream_options is added.
    assert_only_model_rewritten(wire, stack, request_id, "small-instruct")
    log = stack.access_log.entry(request_id)
    assert log[TIER] == "label"
    assert_logged(log, "small-instruct", input_tokens, cached, output_tokens)
