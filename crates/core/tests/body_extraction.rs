//! The prompt text and structure the classifier reads, for each API shape the router knows.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use tier_router_core::body::{OwnedField, RequestBody, Role};

fn texts(parts: &[std::borrow::Cow<'_, str>]) -> Vec<String> {
    parts.iter().map(|t| t.to_string()).collect()
}

fn user_texts(body: &RequestBody<'_>) -> Vec<String> {
    body.messages
        .iter()
        .filter(|m| m.role == Role::User)
        .flat_map(|m| texts(&m.content.0))
        .collect()
}

#[test]
fn openai_chat_with_string_and_part_arrays() {
    let raw = br#"{"model":"m","messages":[
        {"role":"system","content":"Be terse."},
        {"role":"developer","content":[{"type":"text","text":"Only JSON."}]},
        {"role":"user","content":[{"type":"text","text":"first"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"text","text":"second"}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"1","content":"tool output"}
    ],"max_completion_tokens":5,"stream":true}"#;
    let body = RequestBody::parse(raw).unwrap();
    assert_eq!(texts(&body.system), ["Be terse.", "Only JSON."]);
    assert_eq!(user_texts(&body), ["first", "second"]);
    assert_eq!(body.messages.len(), 3);
    assert_eq!(body.max_tokens, Some(5));
    assert!(body.stream);
}

#[test]
fn escaped_strings_are_decoded() {
    let raw = br#"{"messages":[{"role":"user","content":"line one\nsay \"yes\" \u00e9"}]}"#;
    let body = RequestBody::parse(raw).unwrap();
    assert_eq!(user_texts(&body), ["line one\nsay \"yes\" é"]);
}

#[test]
fn completions_prompt_string_and_array() {
    let body = RequestBody::parse(br#"{"model":"m","prompt":"Say one word"}"#).unwrap();
    assert_eq!(user_texts(&body), ["Say one word"]);
    let body = RequestBody::parse(br#"{"model":"m","prompt":["a","b"]}"#).unwrap();
    assert_eq!(user_texts(&body), ["a", "b"]);
    // Token-id prompts carry no text; they must still parse.
    let body = RequestBody::parse(br#"{"model":"m","prompt":[[1,2,3]]}"#).unwrap();
    assert!(user_texts(&body).is_empty());
}

#[test]
fn responses_input_and_instructions() {
    let raw = br#"{"model":"m","instructions":"You label tickets.","input":[
        {"role":"user","content":[{"type":"input_text","text":"Printer is on fire"}]},
        {"type":"function_call_output","call_id":"c","output":"ok"}
    ],"max_output_tokens":16,"reasoning":{"effort":"high"},
    "text":{"format":{"type":"json_schema","schema":{"type":"string","enum":["a","b"]}}}}"#;
    let body = RequestBody::parse(raw).unwrap();
    assert_eq!(texts(&body.system), ["You label tickets."]);
    assert_eq!(user_texts(&body), ["Printer is on fire"]);
    assert_eq!(body.max_tokens, Some(16));
    assert!(body.reasoning);
    assert!(body.enum_schema);
    let body = RequestBody::parse(br#"{"model":"m","input":"plain text"}"#).unwrap();
    assert_eq!(user_texts(&body), ["plain text"]);
}

#[test]
fn anthropic_messages_with_system_blocks_and_tool_results() {
    let raw = br#"{"model":"claude","max_tokens":1024,"system":[{"type":"text","text":"Sys A"},{"type":"text","text":"Sys B","cache_control":{"type":"ephemeral"}}],
      "messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"result text"}]},{"type":"text","text":"and a question"}]}],
      "thinking":{"type":"enabled","budget_tokens":2048}}"#;
    let body = RequestBody::parse(raw).unwrap();
    assert_eq!(texts(&body.system), ["Sys A", "Sys B"]);
    assert_eq!(user_texts(&body), ["result text", "and a question"]);
    assert_eq!(body.max_tokens, Some(1024));
    assert!(body.reasoning);
}

#[test]
fn reasoning_effort_low_is_not_a_reasoning_request() {
    assert!(
        !RequestBody::parse(br#"{"reasoning_effort":"low"}"#)
            .unwrap()
            .reasoning
    );
    assert!(
        RequestBody::parse(br#"{"reasoning_effort":"medium"}"#)
            .unwrap()
            .reasoning
    );
}

#[test]
fn smallest_token_cap_wins_and_spans_point_at_values() {
    let raw = br#"{"max_tokens": 300, "model" : "abc", "max_completion_tokens":20}"#;
    let body = RequestBody::parse(raw).unwrap();
    assert_eq!(body.max_tokens, Some(20));
    let span = body.spans(OwnedField::Model).next().unwrap();
    assert_eq!(&raw[span], br#""abc""#);
}

#[test]
fn odd_types_in_known_fields_do_not_reject_the_body() {
    for raw in [
        &br#"{"messages":null}"#[..],
        br#"{"messages":"just text"}"#,
        br#"{"messages":[1,true,null,{"role":7,"content":{"text":"x"}}]}"#,
        br#"{"stream":"yes","reasoning":null,"input":{"a":1}}"#,
    ] {
        assert!(
            RequestBody::parse(raw).is_ok(),
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn non_objects_are_not_request_bodies() {
    for raw in [
        &b"not json"[..],
        b"[1,2]",
        b"\"text\"",
        b"{\"a\":",
        b"{} trailing",
        b"\xff\xfe",
    ] {
        assert!(
            RequestBody::parse(raw).is_err(),
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
}
