"""The learned tier model in a real Envoy: prompts that paraphrase (no cue phrase of the
shipped config) get the right tier through the official openai SDK, logged with
`decision_source` `model` and the features that decided; an operator's own model, given
inline as base64, replaces the built-in one."""

import base64
import json
import re
import subprocess
import uuid

import pytest

import harness
from harness import CUES, MODEL, SOURCE, TIER
from prompts import CHAT_PATH, chat

CLI = harness.REPO_ROOT / "target" / "release" / "tier-router"
MODEL_OF = {"label": "small-instruct", "chat": "frontier-chat", "analysis": "reasoning-large"}

# Written for this test from the tier definitions; none contains a cue phrase.
PARAPHRASED = [
    pytest.param("label", 'Is the following review positive or negative? "The battery died after two days."', id="label-review"),
    pytest.param("label", 'Which intent fits this utterance best: "set an alarm for six tomorrow"? Options: alarm, weather, music, timer.', id="label-intent"),
    pytest.param("chat", "Could you put together a warm birthday message for my grandmother, who turns ninety this week?", id="chat-birthday"),
    pytest.param("chat", "I just moved to a new city and feel lonely. Any advice on meeting people?", id="chat-advice"),
    pytest.param("analysis", "What is the sum of all positive integers n below 100 for which n squared plus 1 is divisible by 5?", id="analysis-math"),
    pytest.param("analysis", "Here is my Python code: def mean(xs): return sum(xs)/len(xs). It crashes on an empty list; make it return None instead and add tests.", id="analysis-code"),
]  # fmt: skip


def cue_phrases():
    return [cue for tier in harness.FILTER_CONFIG["tiers"] for cue in tier.get("cues", {})]


def contains_cue(prompt):
    text = prompt.lower()
    return [c for c in cue_phrases() if re.search(rf"(?<![\w]){re.escape(c)}(?![\w])", text)]


@pytest.mark.parametrize("tier, prompt", PARAPHRASED)
def test_a_paraphrased_prompt_is_routed_by_the_model(stack, client, tier, prompt):
    assert contains_cue(prompt) == [], "the prompt must not hold a cue phrase"
    request_id = str(uuid.uuid4())
    completion = client.chat.completions.create(
        model="whatever-the-client-wants",
        messages=[{"role": "user", "content": prompt}],
        extra_headers={"x-request-id": request_id},
    )
    assert completion.model == MODEL_OF[tier]
    log = stack.access_log.entry(request_id)
    assert (log[TIER], log[MODEL], log[SOURCE]) == (tier, MODEL_OF[tier], "model")
    match = re.fullmatch(rf"model:{tier} p=(0\.\d\d|1\.00) \[(.+)\]", log[CUES])
    assert match, log[CUES]
    assert float(match.group(1)) >= harness.FILTER_CONFIG["classifier"].get("model", {}).get("min_confidence", 0.45)
    features = match.group(2).split(", ")
    assert 1 <= len(features) <= 3
    assert all(f.split()[0] in prompt.lower() for f in features), features


def test_a_cue_still_decides_first(stack):
    outcome = stack.call(CHAT_PATH, chat("Classify the sentiment of this review: the battery died."))
    assert outcome.decision == ("label", "small-instruct", "classifier")
    assert not outcome.log[CUES].startswith("model:")


def test_the_model_counts_as_its_own_decision_source(stack):
    stack.call(CHAT_PATH, chat("I just moved to a new city and feel lonely. Any advice on meeting people?"))
    stats = stack.prometheus_stats()
    assert re.search(r'tier_router_decisions_total\{source="model",tier="chat"\} [1-9]', stats), stats


# An operator's model: every prompt about zebras is analysis, about tulips is label.
OPERATOR_DATA = [
    {"tier": tier, "prompt": f"{opening} {topic} {closing}"}
    for tier, topic in (("analysis", "zebras"), ("label", "tulips"))
    for opening in ("tell me about", "a note on", "thoughts about", "everything on")
    for closing in ("today", "in spring", "at the zoo", "for my class")
]


@pytest.fixture(scope="module")
def operator_stack(tmp_path_factory, envoy_bin, wasm_path):
    workdir = tmp_path_factory.mktemp("operator-model")
    data = workdir / "data.jsonl"
    data.write_text("\n".join(json.dumps(d) for d in OPERATOR_DATA))
    model = workdir / "model.trm"
    subprocess.run(
        [CLI, "train", "--data", data, "--out", model, "--holdout", "0", "--hash-bits", "10"],
        check=True, capture_output=True,
    )  # fmt: skip
    config = json.loads(json.dumps(harness.FILTER_CONFIG))
    config["classifier"]["model"] = {
        "weights_base64": base64.b64encode(model.read_bytes()).decode(),
        "min_confidence": 0.6,
    }
    stack = harness.Stack(workdir, envoy_bin, wasm_path, config=config)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def test_an_inline_model_replaces_the_builtin_one(operator_stack):
    outcome = operator_stack.call(CHAT_PATH, chat("what about zebras at night"))
    assert outcome.decision == ("analysis", "reasoning-large", "model")
    assert outcome.log[CUES].startswith("model:analysis p="), outcome.log[CUES]
    assert "zebras" in outcome.log[CUES]
    outcome = operator_stack.call(CHAT_PATH, chat("what about tulips at night"))
    assert outcome.decision == ("label", "small-instruct", "model")
    # The built-in model would send this to chat; the operator's knows nothing of it.
    outcome = operator_stack.call(CHAT_PATH, chat("I feel lonely. Any advice on meeting people?"))
    assert outcome.decision[2] in ("fallback", "model")
    assert outcome.decision[0] != "chat"
