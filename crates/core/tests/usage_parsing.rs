//! Usage from JSON bodies and SSE streams of every API shape, however Envoy splits them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use tier_router_core::usage::{estimate, Usage, UsageScanner, MAX_USAGE_BYTES};

/// Feeds `body` split into chunks at every position in `cuts`.
fn scan_chunks(body: &[u8], cuts: &[usize]) -> UsageScanner {
    let mut scanner = UsageScanner::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        scanner.feed(&body[start..cut]);
        start = cut;
    }
    scanner
}

/// The usage found, checked to be the same for every single split point and byte-by-byte.
fn usage_of(body: &str) -> Option<Usage> {
    let bytes = body.as_bytes();
    let whole = scan_chunks(bytes, &[]).usage().and_then(|u| u.normalize());
    for cut in 0..=bytes.len() {
        let split = scan_chunks(bytes, &[cut])
            .usage()
            .and_then(|u| u.normalize());
        assert_eq!(split, whole, "split at byte {cut}");
    }
    let every_byte: Vec<usize> = (1..bytes.len()).collect();
    assert_eq!(
        scan_chunks(bytes, &every_byte)
            .usage()
            .and_then(|u| u.normalize()),
        whole
    );
    whole
}

#[test]
fn chat_completion_json_body() {
    let body = r#"{
  "id": "chatcmpl-1", "object": "chat.completion", "model": "small-instruct",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "the word \"usage\": is here"}}],
  "usage": {
    "prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150,
    "prompt_tokens_details": {"cached_tokens": 100},
    "completion_tokens_details": {"reasoning_tokens": 12}
  }
}"#;
    let usage = usage_of(body).unwrap();
    assert_eq!(
        usage,
        Usage {
            input_tokens: 120,
            cached_input_tokens: 100,
            cache_creation_tokens: 0,
            cache_creation_1h_tokens: 0,
            output_tokens: 30,
            reasoning_tokens: 12
        }
    );
}

#[test]
fn chat_completion_stream_with_crlf_and_multibyte_text() {
    let body = "data: {\"choices\":[{\"delta\":{\"content\":\"h\u{e9}llo \u{1F600}\"}}],\"usage\":null}\r\n\r\n\
                data: {\"choices\":[{\"delta\":{\"content\":\" w\u{f6}rld\"}}],\"usage\":null}\r\n\r\n\
                data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13}}\r\n\r\n\
                data: [DONE]\r\n\r\n";
    let usage = usage_of(body).unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens), (9, 4));
    let scanner = scan_chunks(body.as_bytes(), &[7, 50, 51, 52]);
    assert_eq!((scanner.events, scanner.done), (3, true));
}

#[test]
fn anthropic_stream_merges_message_start_and_delta() {
    let body = "event: message_start\n\
                data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":100,\"cache_creation_input_tokens\":10,\"output_tokens\":1}}}\n\n\
                event: content_block_delta\n\
                data: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n\
                event: message_delta\n\
                data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n\
                event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let usage = usage_of(body).unwrap();
    assert_eq!(
        usage,
        Usage {
            input_tokens: 135,
            cached_input_tokens: 100,
            cache_creation_tokens: 10,
            cache_creation_1h_tokens: 0,
            output_tokens: 15,
            reasoning_tokens: 0
        }
    );
}

#[test]
fn responses_api_completed_event() {
    let body = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"usage\":null}}\n\n\
                event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"output\":[{\"content\":[{\"text\":\"ok\"}]}],\
                \"usage\":{\"input_tokens\":50,\"input_tokens_details\":{\"cached_tokens\":20},\"output_tokens\":70,\"output_tokens_details\":{\"reasoning_tokens\":64},\"total_tokens\":120}}}\n\n";
    let usage = usage_of(body).unwrap();
    assert_eq!(
        usage,
        Usage {
            input_tokens: 50,
            cached_input_tokens: 20,
            cache_creation_tokens: 0,
            cache_creation_1h_tokens: 0,
            output_tokens: 70,
            reasoning_tokens: 64
        }
    );
}

#[test]
fn no_usage_reported() {
    assert_eq!(
        usage_of(r#"{"error":{"message":"rate limited","type":"usage_limit"}}"#),
        None
    );
    assert_eq!(usage_of("data: {\"usage\":null}\n\ndata: [DONE]\n\n"), None);
    assert_eq!(usage_of(r#"{"usage": "n/a"}"#), None);
}

#[test]
fn an_oversized_object_is_dropped_and_scanning_recovers() {
    let filler = "x".repeat(MAX_USAGE_BYTES);
    let body = format!(
        r#"{{"usage":{{"junk":"{filler}"}}}}{{"usage":{{"prompt_tokens":3,"completion_tokens":2}}}}"#
    );
    let mut scanner = UsageScanner::new();
    scanner.feed(body.as_bytes());
    assert_eq!(
        scanner
            .usage()
            .and_then(|u| u.normalize())
            .map(|u| u.input_tokens),
        Some(3)
    );
}

#[test]
fn estimate_when_nothing_was_reported() {
    let mut stream = UsageScanner::new();
    stream.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\ndata: [DONE]\n\n");
    assert_eq!(
        estimate(400, &stream),
        Usage {
            input_tokens: 100,
            output_tokens: 2,
            ..Usage::default()
        }
    );
    let mut json = UsageScanner::new();
    json.feed(&[b' '; 41]);
    assert_eq!(estimate(1, &json).output_tokens, 11);
}
