"""What SECURITY.md says reaches the access log, on a real Envoy: no credentials, no session
id, no prompt text, no ignored task's value; the path is logged as sent; a client-chosen value
cannot break the JSON line."""

import json

from prompts import CHAT_PATH, LABEL_PROMPT, chat

CREDENTIALS = {
    "authorization": "Bearer sk-live-zebra-1",
    "x-api-key": "zebra-api-key-2",
    "cookie": "session=zebra-cookie-3",
    "x-session-id": "zebra-session-4",
}


def test_credentials_session_ids_and_prompt_text_never_reach_the_log(stack):
    prompt = "The zebra launch phrase is marmalade. " + LABEL_PROMPT
    outcome = stack.call(CHAT_PATH, chat(prompt), headers=CREDENTIALS)
    assert outcome.response.status == 200
    line = json.dumps(outcome.log)
    for value in [*CREDENTIALS.values(), "zebra", "marmalade"]:
        assert value not in line, value


def test_an_ignored_task_is_logged_by_source_and_reason_not_by_its_value(stack):
    outcome = stack.call(CHAT_PATH, chat(LABEL_PROMPT), headers={"x-task": "zebra-task-value"})
    assert outcome.log["tier_router.untrusted_task"] == "header:unknown_task"
    assert "zebra-task-value" not in json.dumps(outcome.log)


def test_the_path_is_logged_with_its_query_string(stack):
    path = CHAT_PATH + "?task=nonsense&note=visible"
    outcome = stack.call(path, chat(LABEL_PROMPT))
    assert outcome.log["path"] == path


def test_a_client_chosen_request_id_cannot_break_the_log_line(stack):
    request_id = 'id-"quoted",\\back\tslash}{'
    headers = {"content-type": "application/json", "x-request-id": request_id}
    response = stack.send("POST", CHAT_PATH, chat(LABEL_PROMPT), headers)
    assert response.status == 200
    # entry() parses every line with json.loads: a broken line would not be found.
    assert stack.access_log.entry(request_id)["request_id"] == request_id
