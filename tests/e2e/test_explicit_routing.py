"""An explicit task (header, query parameter, path prefix) beats the body's classification,
and nothing a client sends can pick a cluster directly."""

from prometheus_client.parser import text_string_to_metric_families

from prompts import ANALYSIS_PROMPT, CHAT_PATH, LABEL_PROMPT, UNMATCHED_PROMPT, chat


def assert_routed(outcome, model, tier, source):
    assert outcome.response.status == 200, outcome.response.body
    assert outcome.upstream == model
    assert outcome.sent_model == model
    assert outcome.response.headers["x-mock-upstream"] == model
    assert outcome.decision == (tier, model, source)


def test_task_header_alias_picks_label_tier_over_an_analysis_prompt(stack):
    outcome = stack.call(CHAT_PATH, chat(ANALYSIS_PROMPT), headers={"x-task": "classify"})
    assert_routed(outcome, "small-instruct", "label", "header")
    assert outcome.log["upstream_cluster"] == "small_instruct"


def test_task_query_param_picks_analysis_tier_over_a_label_prompt(stack):
    outcome = stack.call(CHAT_PATH + "?task=analyze", chat(LABEL_PROMPT))
    assert_routed(outcome, "reasoning-large", "analysis", "query")


def test_path_prefix_picks_chat_tier_and_path_is_not_rewritten(stack):
    path = "/api/chat/v1/chat/completions"
    outcome = stack.call(path, chat(UNMATCHED_PROMPT))
    assert_routed(outcome, "frontier-chat", "chat", "path")
    assert outcome.received.path == path


def test_path_prefix_matches_whole_segments_only(stack, fallback_model):
    outcome = stack.call("/api/classifyx/v1/chat/completions", chat(UNMATCHED_PROMPT))
    assert_routed(outcome, fallback_model, "fallback", "fallback")


def test_unknown_task_header_is_ignored_and_body_is_classified(stack):
    before = untrusted_task_count(stack)
    outcome = stack.call(CHAT_PATH, chat(LABEL_PROMPT), headers={"x-task": "nonsense"})
    assert_routed(outcome, "small-instruct", "label", "classifier")
    assert untrusted_task_count(stack) == before + 1


def test_spoofed_cluster_header_is_replaced(stack):
    spoof = {"x-tier-router-cluster": "reasoning_large"}
    outcome = stack.call(CHAT_PATH, chat(LABEL_PROMPT), headers=spoof)
    assert_routed(outcome, "small-instruct", "label", "classifier")
    assert outcome.received.headers["x-tier-router-cluster"] == "small_instruct"
    assert outcome.log["upstream_cluster"] == "small_instruct"


def untrusted_task_count(stack):
    """The wasm counter of ignored task values, as Prometheus sees it (all label sets)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(stack.prometheus_stats())
        for sample in family.samples
        if sample.name.startswith("tier_router_untrusted_task")
    )
