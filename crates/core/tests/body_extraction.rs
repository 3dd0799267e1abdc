//! The prompt text and structure the classifier reads, for each API shape the router knows.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use tier_router_core::body::{OwnedField, RequestBody, Windows};

fn texts(windows: &Windows) -> Vec<String> {
    windows
        .iter()
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect()
}

/// The parts of the last message that is not the assistant's, as the classifier scans them.
fn user_texts(body: &RequestBody) -> Vec<String> {
    body.last_user.as_ref().map(texts).unwrap_or_default()
}

#[test]
fn openai_chat_with_string_and_part_arrays() {
    let raw = br#"{"model":"m","messages":[
        {"role":"system","content":"Be terse."},
        {"role":"developer","content":[{"type":"text","text":"Only JSON."}]},
        {"role":"user","content":[{"type":"text","text":"first"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"text","text":"second"}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"assistant","content":"answer"}
    ],"max_completion_tokens":5,"stream":true}"#;
    let body = RequestBody::parse(raw).unwrap();
    assert_eq!(texts(&body.system), ["Be terse.", "Only JSON."]);
    assert_eq!(user_texts(&body), ["first", "second"]);
    assert_eq!(body.turns, 3);
    let prompt = ["Be terse.", "Only JSON.", "first", "second", "answer"];
    assert_eq!(body.prompt_len(), prompt.concat().len());
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
    // Each string of a list is a prompt of its own: the last one is scanned.
    let body = RequestBody::parse(br#"{"model":"m","prompt":["a","b"]}"#).unwrap();
    assert_eq!((user_texts(&body), body.turns), (vec!["b".to_string()], 2));
    // Token-id prompts carry no text; they must still parse.
    let body = RequestBody::parse(br#"{"model":"m","prompt":[[1,2,3]]}"#).unwrap();
    assert!(user_texts(&body).is_empty());
}

#[test]
fn responses_input_and_instructions() {
    let raw = br#"{"model":"m","instructions":"You label tickets.","input":[
        {"type":"function_call_output","call_id":"c","output":"ok"},
        {"role":"user","content":[{"type":"input_text","text":"Printer is on fire"}]}
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

#[test]
fn the_last_message_not_from_the_assistant_is_the_one_scanned() {
    let raw = br#"{"messages":[
        {"role":"user","content":"question"},
        {"role":"assistant","content":null,"tool_calls":[]},
        {"role":"tool","tool_call_id":"1","content":"tool output"},
        {"role":"assistant","content":"answer"}
    ]}"#;
    let body = RequestBody::parse(raw).unwrap();
    assert_eq!(user_texts(&body), ["tool output"]);
    assert_eq!(body.turns, 3);
}

#[test]
fn a_long_message_is_kept_as_its_head_and_tail() {
    let text = format!("{}{}{}", "h".repeat(50), "m".repeat(1000), "t".repeat(50));
    let raw = serde_json::json!({"messages": [{"role": "user", "content": [
        {"type": "text", "text": text}, {"type": "text", "text": ""}, {"type": "text", "text": "end"}
    ]}]});
    let body = RequestBody::parse_scanning(raw.to_string().as_bytes(), 100).unwrap();
    let head = format!("{}{}", "h".repeat(50), "");
    let tail = format!("{}{}", "m".repeat(0), "t".repeat(47));
    assert_eq!(user_texts(&body), [head, tail, "end".to_string()]);
    assert_eq!(body.prompt_len(), 1103);
    // The system prompt keeps its first `scan_bytes`, part by part.
    let raw = serde_json::json!({"system": ["a".repeat(60), "b".repeat(60)], "messages": []});
    let body = RequestBody::parse_scanning(raw.to_string().as_bytes(), 100).unwrap();
    assert_eq!(texts(&body.system), ["a".repeat(60), "b".repeat(40)]);
    assert_eq!(body.last_user, None);
}

#[test]
fn an_owned_field_repeated_without_end_is_not_a_request_body() {
    let repeated = format!("{{{}\"x\":1}}", "\"model\":\"m\",".repeat(17));
    assert!(RequestBody::parse(repeated.as_bytes()).is_err());
    let allowed = format!("{{{}\"x\":1}}", "\"model\":\"m\",".repeat(16));
    assert!(RequestBody::parse(allowed.as_bytes()).is_ok());
}
