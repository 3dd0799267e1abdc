//! TTFT is time to the first content token: which chunk of each API's stream carries it,
//! however the stream is split (inside a UTF-8 character and inside a marker included).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use tier_router_core::api::ApiShape;
use tier_router_core::usage::UsageScanner;

/// The byte range of the chunk after which the scanner first sees the token, with `body`
/// fed in pieces of `piece` bytes; `None` if it never does.
fn seen_in(
    api: Option<ApiShape>,
    stream: bool,
    body: &[u8],
    piece: usize,
) -> Option<(usize, usize)> {
    let mut scanner = UsageScanner::new();
    scanner.expect(api, stream);
    for (n, chunk) in body.chunks(piece).enumerate() {
        scanner.feed(chunk);
        if scanner.first_token_seen() {
            return Some((n * piece, n * piece + chunk.len()));
        }
    }
    None
}

/// Byte ranges of the events (each ends with a blank line).
fn events(body: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while let Some(i) = body[start..].find("\n\n") {
        ranges.push((start, start + i + 2));
        start += i + 2;
    }
    ranges
}

/// For every piece size (whole, a byte at a time, and everything between, so every marker
/// and multi-byte character is split at every position), the chunk that reveals the first
/// token holds bytes of event `event` (`None`: no chunk does).
fn assert_first_token(api: Option<ApiShape>, body: &str, event: Option<usize>) {
    let ranges = events(body);
    for piece in 1..=body.len() {
        let seen = seen_in(api, true, body.as_bytes(), piece);
        match (event, seen) {
            (None, None) => {}
            (Some(e), Some((start, end))) => {
                let (e_start, e_end) = ranges[e];
                assert!(
                    start < e_end && end > e_start,
                    "piece {piece}: seen in bytes {start}..{end}, event {e} is {e_start}..{e_end}"
                );
            }
            _ => panic!("piece {piece}: expected event {event:?}, seen in {seen:?}"),
        }
    }
}

const CHAT: &str = concat!(
    "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}}],\"usage\":null}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"\u{e9}t\u{e9} \u{1F600}\"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4}}\n\n",
    "data: [DONE]\n\n",
);

const ANTHROPIC: &str = concat!(
    "event: message_start\n",
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"content\":[],\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\n",
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: ping\ndata: {\"type\": \"ping\"}\n\n",
    "event: content_block_delta\n",
    "data: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"\u{1F600} hi\"}}\n\n",
    "event: message_delta\n",
    "data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n",
);

const RESPONSES: &str = concat!(
    "event: response.created\n",
    "data: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"instructions\":\"say \\\"response.output_text.delta\\\"\",\"text\":{\"format\":{\"type\":\"text\"}},\"output\":[],\"usage\":null}}\n\n",
    "event: response.output_item.added\n",
    "data: {\"type\":\"response.output_item.added\",\"item\":{\"type\":\"message\",\"content\":[]}}\n\n",
    "event: response.content_part.added\n",
    "data: {\"type\":\"response.content_part.added\",\"part\":{\"type\":\"output_text\",\"text\":\"\"}}\n\n",
    "event: response.output_text.delta\n",
    "data: {\"type\":\"response.output_text.delta\",\"delta\":\"\u{00fc}ber\"}\n\n",
    "event: response.completed\n",
    "data: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":2}}}\n\n",
);

#[test]
fn chat_completions_first_token_is_the_first_non_empty_delta() {
    // The role-only chunk (content "") comes first and is not a token.
    assert_first_token(Some(ApiShape::ChatCompletions), CHAT, Some(1));
}

#[test]
fn a_tool_call_or_reasoning_is_a_first_token_too() {
    let tool = concat!(
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\" : [ {\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\n",
    );
    assert_first_token(Some(ApiShape::ChatCompletions), tool, Some(1));
    let reasoning = concat!(
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"Let me\"}}]}\n\n",
    );
    assert_first_token(Some(ApiShape::ChatCompletions), reasoning, Some(1));
    // Completions: `text`.
    let completions = concat!(
        "data: {\"choices\":[{\"text\":\"\",\"index\":0}]}\n\n",
        "data: {\"choices\":[{\"text\":\"\\n\",\"index\":0}]}\n\n",
    );
    assert_first_token(Some(ApiShape::Completions), completions, Some(1));
}

#[test]
fn anthropic_first_token_is_the_first_content_block_delta() {
    // Not message_start, content_block_start (its text is empty) or ping.
    assert_first_token(Some(ApiShape::AnthropicMessages), ANTHROPIC, Some(3));
}

#[test]
fn responses_first_token_is_the_first_delta_event() {
    // Not response.created, even when its echoed instructions quote a delta type.
    assert_first_token(Some(ApiShape::Responses), RESPONSES, Some(3));
    let function = concat!(
        "data: {\"type\":\"response.created\",\"response\":{\"output\":[]}}\n\n",
        "data: {\"type\":\"response.output_item.added\",\"item\":{\"type\":\"function_call\",\"name\":\"f\",\"arguments\":\"\"}}\n\n",
        "data: {\"type\":\"response.function_call_arguments.delta\",\"delta\":\"{\\\"\"}\n\n",
    );
    assert_first_token(Some(ApiShape::Responses), function, Some(2));
}

#[test]
fn each_shape_looks_only_for_its_own_markers() {
    // Chat's `text` key means nothing in a Responses stream before its first delta.
    let body = concat!(
        "data: {\"type\":\"response.created\",\"response\":{\"metadata\":{\"text\":\"x\"}}}\n\n",
        "data: {\"type\":\"response.output_text.delta\",\"delta\":\"a\"}\n\n",
    );
    assert_first_token(Some(ApiShape::Responses), body, Some(1));
    // A path of no known shape: any marker counts.
    assert_first_token(None, body, Some(0));
    assert_first_token(None, ANTHROPIC, Some(3));
}

#[test]
fn a_stream_without_content_has_no_first_token() {
    let empty = concat!(
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    assert_first_token(Some(ApiShape::ChatCompletions), empty, None);
    // Keys inside a string are text, not keys; a malformed line does not derail the next.
    let quoted = concat!(
        "data: {\"choices\":[{\"delta\":{\"role\":\"say \\\"content\\\": \\\"x\\\"\"}}]}\n\n",
        "data: {\"broken\":\"unterminated\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\n",
    );
    assert_first_token(Some(ApiShape::ChatCompletions), quoted, Some(2));
}

#[test]
fn a_body_that_is_not_a_stream_has_its_first_token_in_its_first_byte() {
    let json = "{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}";
    // Not asked to stream: the first chunk, whatever it holds.
    assert_eq!(
        seen_in(Some(ApiShape::ChatCompletions), false, json.as_bytes(), 1),
        Some((0, 1))
    );
    assert_eq!(
        seen_in(Some(ApiShape::ChatCompletions), false, b"x", 1),
        Some((0, 1))
    );
    // Asked to stream but answered with JSON (an error): its first byte too.
    let mut scanner = UsageScanner::new();
    scanner.expect(Some(ApiShape::AnthropicMessages), true);
    scanner.feed(b"  \r\n");
    assert!(!scanner.first_token_seen(), "whitespace is not the answer");
    scanner.feed(b"{\"type\":\"error\"");
    assert!(scanner.first_token_seen());
}

#[test]
fn a_long_string_before_the_token_is_skipped_within_bounds() {
    // Strings longer than any marker are not kept (the buffer is MAX_TOKEN bytes).
    let long = "y".repeat(10 * tier_router_core::usage::MAX_TOKEN);
    let body = format!(
        "data: {{\"type\":\"response.created\",\"response\":{{\"instructions\":\"{long}\",\"{long}response.x.delta\":1}}}}\n\n\
         data: {{\"type\":\"response.output_text.delta\",\"delta\":\"a\"}}\n\n"
    );
    assert_first_token(Some(ApiShape::Responses), &body, Some(1));
}
