"""The official openai SDK works through Envoy unchanged: routing is invisible to clients
except for the `model` the answer names."""

from prompts import LABEL_PROMPT


def test_chat_completion_with_task_header(client):
    completion = client.chat.completions.create(
        model="whatever-the-client-wants",
        messages=[{"role": "user", "content": "Is the sky green? Reply yes or no."}],
        extra_headers={"x-task": "classify"},
    )
    assert completion.model == "small-instruct"
    assert completion.choices[0].message.content.startswith("Mock answer from small-instruct")
    assert completion.usage.total_tokens > 0


def test_streaming_chat_completion(client):
    stream = client.chat.completions.create(
        model="whatever-the-client-wants",
        messages=[{"role": "user", "content": LABEL_PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) > 3
    assert {c.model for c in chunks} == {"small-instruct"}
    assert text.startswith("Mock answer from small-instruct")
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
