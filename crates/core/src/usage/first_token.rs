//! Spots the first content token of a response as its chunks pass, for TTFT: a stream's
//! first events (`message_start`, `response.created`, a Chat Completions chunk with only the
//! role) come before the model has produced anything, so time to first *byte* is not time
//! to first *token*.
//!
//! A content token is, per API shape:
//! - Chat Completions / Completions: a chunk with a non-empty string `content`, `text`,
//!   `refusal`, `reasoning_content` or `reasoning`, or a `tool_calls` array with an entry;
//! - Anthropic Messages: the first `content_block_delta` event (text, thinking, tool input);
//! - Responses: the first `response.*.delta` event (`response.output_text.delta`,
//!   `response.function_call_arguments.delta`, `response.reasoning_summary_text.delta`, ...).
//!
//! A body that is not a stream (the client did not ask for one, or the first byte opens a
//! JSON value, such as an error) is the answer whole: its first byte is its first token.
//!
//! The scanner tokenizes JSON strings only: inside a string every `"` is escaped, so a key or
//! an event type is a string that starts and ends with an unescaped quote. Strings cannot
//! hold a raw newline, so each line starts afresh (a malformed event cannot derail the next).
//! State is a few bytes and a [`MAX_TOKEN`]-byte buffer, however the body is split; bytes are
//! never decoded, so a character split across chunks is harmless. Once the token is found
//! the scanner does nothing more.

use memchr::{memchr2, memchr3};

use crate::api::ApiShape;

/// Longest string compared against the markers (the longest Responses delta type is 41
/// bytes); longer strings are skipped whole.
pub const MAX_TOKEN: usize = 48;

/// Chat Completions / Completions keys whose non-empty string value is generated text.
const TEXT_KEYS: [&[u8]; 5] = [
    b"content",
    b"text",
    b"refusal",
    b"reasoning_content",
    b"reasoning",
];
const TOOL_CALLS: &[u8] = b"tool_calls";
const ANTHROPIC_DELTA: &[u8] = b"content_block_delta";
const RESPONSES_PREFIX: &[u8] = b"response.";
const RESPONSES_SUFFIX: &[u8] = b".delta";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Nothing but whitespace seen yet: a stream if the first byte says so.
    Start,
    /// An SSE stream being scanned.
    Stream,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// A string, non-empty to count.
    Text,
    /// An array, with an element to count.
    ToolCalls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside any string.
    Between,
    /// Inside a string; `escaped`: the previous byte was a lone `\`.
    InString { escaped: bool },
    /// After a key whose value may be content, before its `:`.
    AfterKey(Value),
    /// After that key's `:`, before the value.
    AfterColon(Value),
    /// Just after the opening `"` of a text value: a next byte other than `"` is content.
    TextStart,
    /// Just after the `[` of `tool_calls`: a `{` is a tool call.
    ArrayStart,
}

/// Which markers count for the response's API shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Markers {
    chat: bool,
    anthropic: bool,
    responses: bool,
}

impl Markers {
    fn of(api: Option<ApiShape>) -> Markers {
        match api {
            Some(ApiShape::ChatCompletions | ApiShape::Completions) => Markers {
                chat: true,
                anthropic: false,
                responses: false,
            },
            Some(ApiShape::AnthropicMessages) => Markers {
                chat: false,
                anthropic: true,
                responses: false,
            },
            Some(ApiShape::Responses) => Markers {
                chat: false,
                anthropic: false,
                responses: true,
            },
            // A path of no known shape: any of them.
            None => Markers {
                chat: true,
                anthropic: true,
                responses: true,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct FirstTokenScanner {
    markers: Markers,
    /// The client asked for a stream; without one the first byte is the first token.
    stream: bool,
    body: Body,
    state: State,
    /// The current string's first bytes; `len > MAX_TOKEN` means too long to be a marker.
    token: [u8; MAX_TOKEN],
    len: usize,
    /// The string held a `\` escape: not a marker.
    escapes: bool,
    found: bool,
}

impl Default for FirstTokenScanner {
    /// Before the request's shape is known: every marker, and a stream if the body is one.
    fn default() -> Self {
        FirstTokenScanner::new(None, true)
    }
}

impl FirstTokenScanner {
    pub fn new(api: Option<ApiShape>, stream: bool) -> Self {
        FirstTokenScanner {
            markers: Markers::of(api),
            stream,
            body: Body::Start,
            state: State::Between,
            token: [0; MAX_TOKEN],
            len: 0,
            escapes: false,
            found: false,
        }
    }

    /// The first content token has been seen (in this chunk or an earlier one).
    pub fn found(&self) -> bool {
        self.found
    }

    /// Scans one chunk, until the first token is found.
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut at = 0;
        while !self.found && at < chunk.len() {
            if self.body == Body::Start {
                at = self.classify(chunk, at);
                continue;
            }
            at = self.skip(chunk, at);
            let Some(&b) = chunk.get(at) else { return };
            self.step(b);
            at += 1;
        }
    }

    /// Decides at the body's first non-whitespace byte whether it is a stream to scan.
    fn classify(&mut self, chunk: &[u8], at: usize) -> usize {
        if !self.stream {
            self.found = true;
            return chunk.len();
        }
        let rest = chunk.get(at..).unwrap_or_default();
        let Some(i) = rest.iter().position(|b| !b.is_ascii_whitespace()) else {
            return chunk.len();
        };
        if matches!(rest.get(i), Some(b'{' | b'[')) {
            self.found = true;
        } else {
            self.body = Body::Stream;
        }
        at + i
    }

    /// Where the next byte that can change the state is: outside strings, a `"` or a line
    /// end; inside one, its closing `"`, a `\` or a line end (bytes past [`MAX_TOKEN`] are
    /// not kept, so they are skipped too).
    fn skip(&mut self, chunk: &[u8], at: usize) -> usize {
        let rest = chunk.get(at..).unwrap_or_default();
        let next = match self.state {
            State::Between => memchr2(b'"', b'\n', rest),
            State::InString { escaped: false } => {
                let end = memchr3(b'"', b'\\', b'\n', rest).unwrap_or(rest.len());
                self.keep(rest.get(..end).unwrap_or_default());
                Some(end)
            }
            _ => Some(0),
        };
        at + next.unwrap_or(rest.len())
    }

    fn keep(&mut self, bytes: &[u8]) {
        if let Some(slot) = self.token.get_mut(self.len..self.len + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
        self.len = self.len.saturating_add(bytes.len());
    }

    fn step(&mut self, b: u8) {
        if b == b'\n' {
            self.state = State::Between;
            return;
        }
        self.state = match self.state {
            State::Between => self.between(b),
            State::InString { escaped: true } => State::InString { escaped: false },
            State::InString { escaped: false } => match b {
                b'\\' => {
                    self.escapes = true;
                    State::InString { escaped: true }
                }
                b'"' => self.string_ended(),
                _ => {
                    self.keep(&[b]);
                    State::InString { escaped: false }
                }
            },
            State::AfterKey(value) => match b {
                b':' => State::AfterColon(value),
                _ if b.is_ascii_whitespace() => State::AfterKey(value),
                _ => self.between(b),
            },
            State::AfterColon(value) => match (value, b) {
                _ if b.is_ascii_whitespace() => State::AfterColon(value),
                (Value::Text, b'"') => State::TextStart,
                (Value::ToolCalls, b'[') => State::ArrayStart,
                _ => self.between(b),
            },
            State::TextStart => {
                if b == b'"' {
                    // The empty string's closing quote.
                    State::Between
                } else {
                    self.found = true;
                    State::Between
                }
            }
            State::ArrayStart => match b {
                b'{' => {
                    self.found = true;
                    State::Between
                }
                _ if b.is_ascii_whitespace() => State::ArrayStart,
                _ => self.between(b),
            },
        };
    }

    fn between(&mut self, b: u8) -> State {
        if b == b'"' {
            self.len = 0;
            self.escapes = false;
            State::InString { escaped: false }
        } else {
            State::Between
        }
    }

    /// A whole string was read: an event type that is content, or a key whose value may be.
    fn string_ended(&mut self) -> State {
        let Some(token) = self.token.get(..self.len).filter(|_| !self.escapes) else {
            return State::Between;
        };
        let m = self.markers;
        if (m.anthropic && token == ANTHROPIC_DELTA)
            || (m.responses
                && token.starts_with(RESPONSES_PREFIX)
                && token.ends_with(RESPONSES_SUFFIX))
        {
            self.found = true;
            return State::Between;
        }
        if m.chat {
            if TEXT_KEYS.contains(&token) {
                return State::AfterKey(Value::Text);
            }
            if token == TOOL_CALLS {
                return State::AfterKey(Value::ToolCalls);
            }
        }
        State::Between
    }
}
