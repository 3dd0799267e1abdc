"""Without an explicit task the body decides: cue phrases and signals pick a tier, and a
prompt that matches none goes to the fallback model."""

import pytest

from harness import CUES, SOURCE
from prompts import (
    ANALYSIS_PROMPT,
    CHAT_PATH,
    LABEL_PROMPT,
    UNMATCHED_PROMPT,
    chat,
    conversation,
)

CLASSIFIED = [
    pytest.param(chat(LABEL_PROMPT), "label", "small-instruct", "sentiment", id="label"),
    pytest.param(conversation(), "chat", "frontier-chat", "help me write", id="chat"),
    pytest.param(
        chat(ANALYSIS_PROMPT), "analysis", "reasoning-large", "step by step", id="analysis"
    ),
]


@pytest.mark.parametrize("body, tier, model, cue", CLASSIFIED)
def test_prompt_shape_picks_tier(stack, body, tier, model, cue):
    outcome = stack.call(CHAT_PATH, body)
    assert outcome.response.status == 200
    assert outcome.upstream == model
    assert outcome.sent_model == model
    assert outcome.decision == (tier, model, "classifier")
    assert cue in outcome.log[CUES].split(",")


def test_unmatched_prompt_goes_to_fallback_model(stack, fallback_model):
    outcome = stack.call(CHAT_PATH, chat(UNMATCHED_PROMPT))
    assert outcome.upstream == fallback_model
    assert outcome.sent_model == fallback_model
    assert outcome.decision == ("fallback", fallback_model, "fallback")


API_SHAPES = [
    pytest.param(
        "/v1/completions",
        {"model": "m", "prompt": LABEL_PROMPT, "max_tokens": 3},
        "small-instruct",
        id="completions",
    ),
    pytest.param(
        "/v1/responses",
        {
            "model": "m",
            "instructions": "You are a careful mathematician. Show your work.",
            "input": ANALYSIS_PROMPT,
        },
        "reasoning-large",
        id="responses",
    ),
    pytest.param(
        "/v1/messages",
        {
            "model": "m",
            "max_tokens": 1024,
            "system": [{"type": "text", "text": "You draft emails for a busy engineer."}],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Help me write a reply to my landlord"},
                        {"type": "text", "text": "in a friendly tone: the heating is fixed."},
                    ],
                }
            ],
        },
        "frontier-chat",
        id="anthropic-messages",
    ),
]


@pytest.mark.parametrize("path, body, model", API_SHAPES)
def test_each_api_shape_is_classified(stack, path, body, model):
    outcome = stack.call(path, body)
    assert outcome.response.status == 200
    assert outcome.upstream == model
    assert outcome.sent_model == model
    assert outcome.response.json()["model"] == model
    assert outcome.log[SOURCE] == "classifier"
