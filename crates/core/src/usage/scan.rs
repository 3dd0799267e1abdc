//! Finds token usage in a response body as Envoy hands it over, chunk by chunk, for JSON
//! bodies and SSE streams alike, without holding the body or delaying a chunk.
//!
//! Every API the router knows reports usage as an object under a `"usage"` key: the last
//! Chat Completions chunk, Responses' `response.completed`, Anthropic's `message_start` and
//! `message_delta`, or the top level of a JSON body. A `"usage"` that is followed by `:` is a
//! key (inside a JSON string its quotes would be escaped), so the scanner matches that key
//! across chunk boundaries, captures the object that follows (at most [`MAX_USAGE_BYTES`]),
//! and merges it. Bytes are never decoded as text, so a character split across chunks is
//! harmless. Alongside, it counts SSE `data:` events and notes `data: [DONE]`.
//!
//! Both run a byte at a time only where a byte can change their state: the rest of a line
//! before a `"usage"` key is skipped with memchr/memmem (see `UsageScanner::skip`), and the
//! usage object itself is captured a run at a time (`UsageScanner::capture_run`).

use memchr::{memchr, memmem};

use super::{FirstTokenScanner, RawUsage};
use crate::api::ApiShape;

/// Largest usage object captured; anything larger is not a usage object.
pub const MAX_USAGE_BYTES: usize = 4096;

const KEY: &[u8] = b"\"usage\"";
const DATA: &[u8] = b"data:";
const DONE: &[u8] = b"[DONE]";

#[derive(Debug, Default)]
pub struct UsageScanner {
    state: State,
    /// Bytes of the usage object being captured.
    captured: Vec<u8>,
    depth: u32,
    in_string: bool,
    escaped: bool,
    line: LineState,
    usage: Option<RawUsage>,
    /// SSE `data:` events other than `[DONE]`.
    pub events: u64,
    /// `data: [DONE]` was seen.
    pub done: bool,
    /// Response body bytes seen.
    pub bytes: u64,
    key_finder: KeyFinder,
    first_token: FirstTokenScanner,
}

/// Finds [`KEY`]; built once per response rather than once per search.
#[derive(Debug)]
struct KeyFinder(memmem::Finder<'static>);

impl Default for KeyFinder {
    fn default() -> Self {
        KeyFinder(memmem::Finder::new(KEY))
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum State {
    /// Looking for the key; the value is how many bytes of it matched so far.
    #[default]
    Key,
    KeyMatched(usize),
    /// After the key, before `:`.
    Colon,
    /// After `:`, before the value.
    Value,
    /// Inside the `{...}` value.
    Object,
}

/// Tracks SSE line starts to count `data:` events and spot `[DONE]`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum LineState {
    /// At a line start, matched this many bytes of `data:`.
    Prefix(usize),
    /// After `data:` (and optional spaces), matched this many bytes of `[DONE]`.
    Payload(usize),
    /// Somewhere in a line that no longer matters.
    Rest,
}

impl Default for LineState {
    fn default() -> Self {
        LineState::Prefix(0)
    }
}

impl UsageScanner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets what the first content token looks like: the request's API shape (`None`: any)
    /// and whether the client asked for a stream. Call before the first chunk.
    pub fn expect(&mut self, api: Option<ApiShape>, stream: bool) {
        self.first_token = FirstTokenScanner::new(api, stream);
    }

    /// The first content token has passed (see [`FirstTokenScanner`]): the adapter notes
    /// the time of the chunk that makes this true as the TTFT.
    pub fn first_token_seen(&self) -> bool {
        self.first_token.found()
    }

    /// Scans one chunk. Cost is linear in the chunk; state is bounded.
    pub fn feed(&mut self, chunk: &[u8]) {
        if !self.first_token.found() {
            self.first_token.feed(chunk);
        }
        self.bytes += chunk.len() as u64;
        let mut at = 0;
        // The next `\n` at or after `at` (or the chunk's end), looked for again only once
        // passed, so a long line with many keys is still searched once.
        let mut newline = None;
        loop {
            if self.line == LineState::Rest {
                match self.state {
                    State::Key => at = self.skip(chunk, at, &mut newline),
                    State::Object => at = self.capture_run(chunk, at),
                    _ => {}
                }
            }
            let Some(&b) = chunk.get(at) else {
                return;
            };
            self.step_line(b);
            self.step_usage(b);
            at += 1;
        }
    }

    /// Inside a usage object (`State::Object`), in the rest of a line, captures bytes from
    /// `at` a run at a time, as `capture` would one by one. Returns where the byte-at-a-time
    /// machines take over: at a `\n` (the line tracker's), after the object's last `}`
    /// (merged, as `capture` does), at the size limit, or at the chunk's end.
    #[inline(never)]
    fn capture_run(&mut self, chunk: &[u8], at: usize) -> usize {
        let room = MAX_USAGE_BYTES.saturating_sub(self.captured.len());
        let rest = chunk.get(at..).unwrap_or_default();
        let run = &rest[..rest.len().min(room)];
        let mut end = 0;
        for &b in run {
            if b == b'\n' {
                break;
            }
            end += 1;
            if self.step_object(b) {
                self.captured.extend_from_slice(&run[..end]);
                self.merge_captured();
                self.state = State::Key;
                return at + end;
            }
        }
        self.captured.extend_from_slice(&run[..end]);
        at + end
    }

    /// Where the byte-at-a-time machines next have work, from `at`, while looking for the
    /// key (`State::Key`) in the rest of a line (`LineState::Rest`; the caller checks both).
    /// Looking for the key, only a `"` changes the state; in the rest of a line, only a
    /// `\n`. So both jump to the next `"usage"` in the line, or else to its `\n`; where the
    /// line runs past the chunk, to its last bytes, which may begin a key that the next
    /// chunk ends. A partial key match cut off before the jump's target (by a byte of the
    /// line or by its `\n`) leaves the state as a fresh start there would, because the key's
    /// only `"` is its first byte.
    fn skip(&self, chunk: &[u8], at: usize, newline: &mut Option<usize>) -> usize {
        let line_end = match *newline {
            Some(end) if end >= at => end,
            _ => {
                let rest = chunk.get(at..).unwrap_or_default();
                let end = memchr(b'\n', rest).map_or(chunk.len(), |i| at + i);
                *newline = Some(end);
                end
            }
        };
        let line = chunk.get(at..line_end).unwrap_or_default();
        if let Some(key) = self.key_finder.0.find(line) {
            return at + key;
        }
        if line_end < chunk.len() {
            return line_end;
        }
        at.max(chunk.len().saturating_sub(KEY.len() - 1))
    }

    /// Bytes the scanner holds between chunks (the usage object being captured): at most
    /// [`MAX_USAGE_BYTES`], however the body is split.
    pub fn held_bytes(&self) -> usize {
        self.captured.len()
    }

    /// Usage merged from every usage object seen (later fields override earlier ones, as
    /// Anthropic's cumulative `message_delta` requires).
    pub fn usage(&self) -> Option<&RawUsage> {
        self.usage.as_ref()
    }

    fn step_usage(&mut self, b: u8) {
        self.state = match self.state {
            State::Key | State::KeyMatched(_) => self.match_key(b),
            State::Colon => match b {
                b':' => State::Value,
                _ if b.is_ascii_whitespace() => State::Colon,
                _ => self.match_key(b),
            },
            State::Value => match b {
                b'{' => self.begin_object(),
                _ if b.is_ascii_whitespace() => State::Value,
                // `null` or another type: not a usage object.
                _ => State::Key,
            },
            State::Object => self.capture(b),
        };
    }

    fn match_key(&self, b: u8) -> State {
        let matched = match self.state {
            State::KeyMatched(n) => n,
            _ => 0,
        };
        if KEY.get(matched) == Some(&b) {
            return if matched + 1 == KEY.len() {
                State::Colon
            } else {
                State::KeyMatched(matched + 1)
            };
        }
        // The key starts with its only quote, so a mismatch can only restart at this byte.
        if b == b'"' {
            State::KeyMatched(1)
        } else {
            State::Key
        }
    }

    fn begin_object(&mut self) -> State {
        self.captured.clear();
        self.captured.push(b'{');
        self.depth = 1;
        self.in_string = false;
        self.escaped = false;
        State::Object
    }

    fn capture(&mut self, b: u8) -> State {
        if self.captured.len() >= MAX_USAGE_BYTES {
            self.captured.clear();
            return State::Key;
        }
        self.captured.push(b);
        if self.step_object(b) {
            self.merge_captured();
            return State::Key;
        }
        State::Object
    }

    /// Follows one byte of the usage object (strings, escapes, nesting); true at its last `}`.
    #[inline(always)]
    fn step_object(&mut self, b: u8) -> bool {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return false;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' => self.depth += 1,
            b'}' => {
                self.depth -= 1;
                return self.depth == 0;
            }
            _ => {}
        }
        false
    }

    fn merge_captured(&mut self) {
        if let Ok(found) = serde_json::from_slice::<RawUsage>(&self.captured) {
            match &mut self.usage {
                Some(usage) => usage.merge(found),
                None => self.usage = Some(found),
            }
        }
        self.captured.clear();
    }

    fn step_line(&mut self, b: u8) {
        if b == b'\n' {
            self.line = LineState::Prefix(0);
            return;
        }
        self.line = match self.line {
            LineState::Prefix(n) if DATA.get(n) == Some(&b) => {
                if n + 1 == DATA.len() {
                    LineState::Payload(0)
                } else {
                    LineState::Prefix(n + 1)
                }
            }
            LineState::Payload(0) if b == b' ' => LineState::Payload(0),
            LineState::Payload(n) => self.match_done(n, b),
            _ => LineState::Rest,
        };
    }

    fn match_done(&mut self, matched: usize, b: u8) -> LineState {
        if matched == 0 {
            // The first payload byte: this is an event, unless it turns out to be [DONE].
            self.events += 1;
        }
        if DONE.get(matched) == Some(&b) {
            if matched + 1 == DONE.len() {
                self.done = true;
                self.events = self.events.saturating_sub(1);
                return LineState::Rest;
            }
            return LineState::Payload(matched + 1);
        }
        LineState::Rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    impl UsageScanner {
        /// `feed` with neither jump: every byte through both machines, the reference.
        fn feed_bytewise(&mut self, chunk: &[u8]) {
            if !self.first_token.found() {
                self.first_token.feed(chunk);
            }
            self.bytes += chunk.len() as u64;
            for &b in chunk {
                self.step_line(b);
                self.step_usage(b);
            }
        }

        fn outcome(&self) -> String {
            let (usage, events, done) = (self.usage(), self.events, self.done);
            format!(
                "{usage:?} {events} {done} {} {}",
                self.bytes,
                self.held_bytes()
            )
        }
    }

    /// Pieces of bodies where the machines' states turn: keys, nested objects, strings with
    /// braces and escapes, line starts, SSE events, `[DONE]`, and a usage object over the
    /// size limit.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#""usage":{"prompt_tokens":7,"completion_tokens":3}"#.to_string()),
            Just(
                r#""usage": {"input_tokens":2,"output_tokens_details":{"reasoning_tokens":1}}"#
                    .to_string()
            ),
            Just(r#""usage":{"a":"}{\"\\","prompt_tokens":5}"#.to_string()),
            Just(r#""usage":{"x":{"y":{}},"completion_tokens":9}"#.to_string()),
            Just(format!(
                r#""usage":{{"pad":"{}","prompt_tokens":1}}"#,
                "z".repeat(MAX_USAGE_BYTES)
            )),
            Just("\"usage\":null".to_string()),
            Just("\"usa".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("data: ".to_string()),
            Just("data: [DONE]".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just("\"".to_string()),
            Just("\\".to_string()),
            "[a-z ,:]{0,40}",
        ]
    }

    proptest! {
        #[test]
        fn runs_capture_what_a_byte_at_a_time_captures(
            pieces in prop::collection::vec(piece(), 1..24),
            cuts in prop::collection::vec(0usize..6000, 0..6),
        ) {
            let body = pieces.concat().into_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
            cuts.sort_unstable();
            let mut fast = UsageScanner::new();
            let mut reference = UsageScanner::new();
            let mut from = 0;
            for to in cuts.into_iter().chain([body.len()]) {
                fast.feed(&body[from..to]);
                reference.feed_bytewise(&body[from..to]);
                from = to;
            }
            prop_assert_eq!(fast.outcome(), reference.outcome());
        }
    }

    /// Usage, events and `[DONE]` as a string, after feeding `chunks`.
    fn scan<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> String {
        let mut scanner = UsageScanner::new();
        for chunk in chunks {
            scanner.feed(chunk);
        }
        format!("{:?} {} {}", scanner.usage(), scanner.events, scanner.done)
    }

    /// Skipping must find what a byte at a time finds (one-byte chunks never skip), wherever
    /// the body is split: broken and restarted keys, keys in strings, long lines.
    #[test]
    fn skipping_finds_what_a_byte_at_a_time_finds() {
        let filler = "x".repeat(300);
        for body in [
            format!(r#"data: {{"a":"{filler}","usa"usage":{{"prompt_tokens":1}}}}"#),
            format!("data: {{\"usag\ndata: \"usage\":{{\"input_tokens\":2}}}}\n\n{filler}"),
            format!(r#"{{"t":"\"usage\": {{","{filler}":"usage","usage" : {{"output_tokens":3}}}}"#),
            format!("data: {filler}\r\ndata: [DONE]\n\ndata: {{\"usage\":null,\"usage\":{{\"prompt_tokens\":4}}}}"),
        ] {
            let bytes = body.as_bytes();
            let reference = scan(bytes.chunks(1));
            assert!(reference.starts_with("Some"), "{body}");
            for cut in 0..=bytes.len() {
                let (head, tail) = bytes.split_at(cut);
                assert_eq!(scan([head, tail]), reference, "{body} cut at {cut}");
            }
        }
    }
}
