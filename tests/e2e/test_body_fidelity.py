"""The filter changes exactly one thing in a JSON body, the top-level `model` value: every
other byte (numbers, escapes, whitespace, unknown and nested fields) reaches the upstream."""

import json

CLIENT_MODEL = b'"client-picked-model"'

# Bytes a JSON re-serialiser would change: big and odd numbers, escapes, raw UTF-8,
# tabs and CRLF, a nested `model` that must stay, and `model` after other fields.
ODD_BODY = (
    b'{\n\t"metadata" : {"model": "nested-must-stay", "deep": [1, [2, [3, {"x": null}]]]},\r\n'
    b'  "big": 12345678901234567890, "price": 0.10, "huge": 1e400, "negzero": -0.0,\n'
    b'  "text": "\\u00e9\\ud83d\\ude00 caf\xc3\xa9 \\"quoted\\" \\/ slash",\n'
    b'  "model"   :\t' + CLIENT_MODEL + b" ,\n"
    b'  "messages": [ {"role":"user","content":"Is this spam? Answer yes or no."} ],\n'
    b'  "unknown_field": {"a": [true, false, null], "b": {}}, "max_tokens": 5   \n}\n'
)


def expected_upstream_body(body, model):
    assert body.count(CLIENT_MODEL) == 1
    return body.replace(CLIENT_MODEL, b'"' + model.encode() + b'"')


def test_only_the_model_value_changes(stack):
    headers = {"x-task": "classify", "content-type": "application/json"}
    outcome = stack.call("/v1/chat/completions", ODD_BODY, headers=headers)
    assert outcome.upstream == "small-instruct"
    assert outcome.received.body == expected_upstream_body(ODD_BODY, "small-instruct")
    assert int(outcome.received.headers["content-length"]) == len(outcome.received.body)


def test_model_grows_and_shrinks_with_correct_content_length(stack):
    # `chat` has a longer model name than "m", `label` a shorter one than 300 x's; neither
    # tier has a token floor, so `model` is the only change.
    for model_value, task in ((b'"m"', "chat"), (b'"' + b"x" * 300 + b'"', "classify")):
        body = ODD_BODY.replace(CLIENT_MODEL, model_value)
        outcome = stack.call("/v1/chat/completions", body, headers={"x-task": task})
        sent = outcome.received.body
        assert sent == body.replace(model_value, b'"' + outcome.upstream.encode() + b'"')
        assert int(outcome.received.headers["content-length"]) == len(sent)


def test_chunked_request_body_is_rewritten_whole(stack):
    headers = {"x-task": "classify"}
    outcome = stack.call("/v1/chat/completions", ODD_BODY, headers=headers, chunked=True)
    assert outcome.upstream == "small-instruct"
    assert outcome.received.body == expected_upstream_body(ODD_BODY, "small-instruct")


def test_missing_model_is_added(stack):
    body = {"messages": [{"role": "user", "content": "hello"}], "temperature": 0.2}
    outcome = stack.call("/v1/chat/completions", body, headers={"x-task": "chat"})
    assert outcome.upstream == "frontier-chat"
    assert json.loads(outcome.received.body) == dict(body, model="frontier-chat")
    assert int(outcome.received.headers["content-length"]) == len(outcome.received.body)
