//! One pass over a JSON request body: what the classifier reads of the prompt (the system
//! prompt's head, the last user message's head and tail, counts and flags), the prompt's
//! length, and the byte spans of the fields the router may rewrite. Everything else is
//! validated and skipped, never copied or re-serialised.
//!
//! Memory is bounded by the scanned bytes, not the body: text beyond the scan windows is
//! measured and dropped as it is read, one message at a time.

use std::fmt;
use std::ops::Range;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::text::{Conversation, Input, Texts};
use super::windows::Windows;

/// Bytes scanned of the system prompt and of the last user message when the caller does not
/// say (the config's `classifier.scan_bytes` default).
pub const DEFAULT_SCAN_BYTES: usize = 8 * 1024;

/// At most this many spans of one owned field: a body repeating `model` thousands of times
/// would otherwise make the parser's memory grow with the body.
pub const MAX_OWNED_REPEATS: usize = 16;

/// What the router knows about a request body after one parse.
#[derive(Debug, Default)]
pub struct RequestBody {
    /// The first `scan_bytes` of system prompt text (`system`/`developer` messages, Anthropic
    /// `system`, Responses `instructions`), part by part.
    pub system: Windows,
    /// The last message that is not the assistant's, as the classifier scans it: whole within
    /// `scan_bytes`, else its first and last `scan_bytes / 2` bytes. `None` without messages.
    pub last_user: Option<Windows>,
    /// User and assistant messages in the conversation.
    pub turns: usize,
    /// Bytes of all prompt text, system included.
    pub prompt_bytes: usize,
    /// Byte range just inside the top-level `{`, where new fields can be inserted.
    pub insert_at: usize,
    /// Spans of top-level fields the router owns, in document order.
    pub owned: Vec<(OwnedField, Range<usize>)>,
    /// The smallest completion-token cap the client set (`max_tokens`,
    /// `max_completion_tokens`, `max_output_tokens`).
    pub max_tokens: Option<u64>,
    /// `response_format` / Responses `text.format` constrains the answer to an enum.
    pub enum_schema: bool,
    /// The client asked for reasoning (`reasoning_effort`, `reasoning.effort`, `thinking`).
    pub reasoning: bool,
    pub stream: bool,
    /// The span of `response_format` (Chat) or `text` (Responses): what the answer must look
    /// like, read by the cascade gate (`cascade::AnswerContract`).
    pub answer_format: Option<Range<usize>>,
    /// The client set `logprobs` (to any value).
    pub logprobs: bool,
}

/// Top-level fields whose bytes the router may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedField {
    Model,
    MaxTokens,
    MaxCompletionTokens,
    MaxOutputTokens,
    StreamOptions,
    /// A field some model's profile drops: an index into the caller's list
    /// ([`crate::Config::dropped_fields`]).
    Dropped(usize),
}

/// The body is not a JSON object (or not JSON at all): the router leaves it untouched.
#[derive(Debug, Clone, PartialEq)]
pub struct NotJsonObject(pub String);

impl fmt::Display for NotJsonObject {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "body is not a JSON object: {}", self.0)
    }
}

impl RequestBody {
    /// [`RequestBody::parse_scanning`] with the default `scan_bytes`.
    pub fn parse(body: &[u8]) -> Result<RequestBody, NotJsonObject> {
        Self::parse_scanning(body, DEFAULT_SCAN_BYTES)
    }

    /// Parses `body`, keeping `scan_bytes` of the system prompt and of the last user message.
    pub fn parse_scanning(body: &[u8], scan_bytes: usize) -> Result<RequestBody, NotJsonObject> {
        Self::parse_for(body, scan_bytes, &[])
    }

    /// [`RequestBody::parse_scanning`], also recording the spans of the top-level fields
    /// named in `droppable` (as [`OwnedField::Dropped`] with their index).
    pub fn parse_for(
        body: &[u8],
        scan_bytes: usize,
        droppable: &[String],
    ) -> Result<RequestBody, NotJsonObject> {
        let mut top = TopLevel {
            body: RequestBody::default(),
            conversation: Conversation::new(scan_bytes),
            base: body.as_ptr() as usize,
            droppable,
        };
        // serde_json does not check UTF-8 inside the strings it skips: a body with invalid
        // UTF-8 there is not JSON, and must not be rewritten as if it were (found by fuzzing).
        let text =
            std::str::from_utf8(body).map_err(|e| NotJsonObject(format!("not UTF-8: {e}")))?;
        let mut de = serde_json::Deserializer::from_str(text);
        de.deserialize_map(TopLevelVisitor(&mut top))
            .and_then(|()| de.end())
            .map_err(|e| NotJsonObject(e.to_string()))?;
        let mut parsed = top.body;
        let conversation = top.conversation;
        parsed.system = conversation.system.windows;
        parsed.last_user = conversation.last_user;
        parsed.turns = conversation.turns;
        parsed.prompt_bytes = conversation.prompt_bytes;
        parsed.insert_at = body.iter().position(|b| *b == b'{').map_or(0, |i| i + 1);
        Ok(parsed)
    }

    pub fn spans(&self, field: OwnedField) -> impl Iterator<Item = Range<usize>> + '_ {
        self.owned
            .iter()
            .filter(move |(f, _)| *f == field)
            .map(|(_, r)| r.clone())
    }

    /// Total length in bytes of all prompt text, system included.
    pub fn prompt_len(&self) -> usize {
        self.prompt_bytes
    }
}

struct TopLevel<'k> {
    body: RequestBody,
    conversation: Conversation,
    /// Address of the body's first byte: a borrowed value's address gives its offset.
    base: usize,
    droppable: &'k [String],
}

enum TopKey {
    Model,
    Messages,
    System,
    Instructions,
    Prompt,
    Input,
    MaxTokens,
    MaxCompletionTokens,
    MaxOutputTokens,
    ResponseFormat,
    Text,
    ReasoningEffort,
    Reasoning,
    Thinking,
    Stream,
    StreamOptions,
    Logprobs,
    Dropped(usize),
    Other,
}

impl TopKey {
    fn named(name: &str, droppable: &[String]) -> TopKey {
        match name {
            "model" => TopKey::Model,
            "messages" => TopKey::Messages,
            "system" => TopKey::System,
            "instructions" => TopKey::Instructions,
            "prompt" => TopKey::Prompt,
            "input" => TopKey::Input,
            "max_tokens" => TopKey::MaxTokens,
            "max_completion_tokens" => TopKey::MaxCompletionTokens,
            "max_output_tokens" => TopKey::MaxOutputTokens,
            "response_format" => TopKey::ResponseFormat,
            "text" => TopKey::Text,
            "reasoning_effort" => TopKey::ReasoningEffort,
            "reasoning" => TopKey::Reasoning,
            "thinking" => TopKey::Thinking,
            "stream" => TopKey::Stream,
            "stream_options" => TopKey::StreamOptions,
            "logprobs" if !droppable.iter().any(|d| d == name) => TopKey::Logprobs,
            _ => droppable
                .iter()
                .position(|d| d == name)
                .map_or(TopKey::Other, TopKey::Dropped),
        }
    }
}

/// Reads a top-level key without allocating it.
struct KeySeed<'k>(&'k [String]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = TopKey;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<TopKey, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = TopKey;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, name: &str) -> Result<TopKey, E> {
        Ok(TopKey::named(name, self.0))
    }
}

struct TopLevelVisitor<'t, 'k>(&'t mut TopLevel<'k>);

impl<'de> Visitor<'de> for TopLevelVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed(self.0.droppable))? {
            read_field(self.0, key, &mut map)?;
        }
        Ok(())
    }
}

fn read_field<'de, A: MapAccess<'de>>(
    top: &mut TopLevel<'_>,
    key: TopKey,
    map: &mut A,
) -> Result<(), A::Error> {
    let body = &mut top.body;
    match key {
        TopKey::Messages => map.next_value_seed(Input {
            conversation: &mut top.conversation,
            split_system: true,
        })?,
        TopKey::System | TopKey::Instructions => {
            map.next_value_seed(Texts(&mut top.conversation.system_sink()))?
        }
        TopKey::Prompt | TopKey::Input => map.next_value_seed(Input {
            conversation: &mut top.conversation,
            split_system: false,
        })?,
        TopKey::Model => {
            owned(top, map, OwnedField::Model)?;
        }
        TopKey::MaxTokens => token_cap(top, map, OwnedField::MaxTokens)?,
        TopKey::MaxCompletionTokens => token_cap(top, map, OwnedField::MaxCompletionTokens)?,
        TopKey::MaxOutputTokens => token_cap(top, map, OwnedField::MaxOutputTokens)?,
        TopKey::StreamOptions => {
            owned(top, map, OwnedField::StreamOptions)?;
        }
        TopKey::Dropped(i) => {
            owned(top, map, OwnedField::Dropped(i))?;
            top.body.logprobs |= top.droppable.get(i).is_some_and(|d| d == "logprobs");
        }
        TopKey::Logprobs => {
            map.next_value::<IgnoredAny>()?;
            body.logprobs = true;
        }
        TopKey::ResponseFormat | TopKey::Text => {
            let raw: &RawValue = map.next_value()?;
            body.enum_schema |= raw.get().contains("\"enum\"");
            let start = raw.get().as_ptr() as usize - top.base;
            body.answer_format = Some(start..start + raw.get().len());
        }
        TopKey::ReasoningEffort => {
            let raw: &RawValue = map.next_value()?;
            body.reasoning |= asks_for_reasoning(raw.get());
        }
        TopKey::Reasoning => {
            let raw: &RawValue = map.next_value()?;
            let effort = serde_json::from_str::<EffortObject>(raw.get())
                .ok()
                .and_then(|r| r.effort);
            body.reasoning |= effort.is_some_and(|e| asks_for_reasoning(e.get()));
        }
        TopKey::Thinking => {
            let raw: &RawValue = map.next_value()?;
            body.reasoning |= raw.get().contains("\"enabled\"");
        }
        TopKey::Stream => body.stream = map.next_value::<&RawValue>()?.get() == "true",
        TopKey::Other => {
            map.next_value::<IgnoredAny>()?;
        }
    }
    Ok(())
}

/// Records the span of an owned field's value (borrowed from the body, so its address gives
/// its offset without a second scan).
fn owned<'de, A: MapAccess<'de>>(
    top: &mut TopLevel<'_>,
    map: &mut A,
    field: OwnedField,
) -> Result<&'de RawValue, A::Error> {
    let raw: &'de RawValue = map.next_value()?;
    if top.body.spans(field).count() >= MAX_OWNED_REPEATS {
        return Err(serde::de::Error::custom(format!(
            "a top-level field the router owns is repeated more than {MAX_OWNED_REPEATS} times"
        )));
    }
    let start = raw.get().as_ptr() as usize - top.base;
    top.body.owned.push((field, start..start + raw.get().len()));
    Ok(raw)
}

fn token_cap<'de, A: MapAccess<'de>>(
    top: &mut TopLevel<'_>,
    map: &mut A,
    field: OwnedField,
) -> Result<(), A::Error> {
    let raw = owned(top, map, field)?;
    if let Ok(cap) = raw.get().parse::<u64>() {
        top.body.max_tokens = Some(top.body.max_tokens.map_or(cap, |c| c.min(cap)));
    }
    Ok(())
}

/// `reasoning_effort` of `medium` or more asks for a reasoning path; `none`, `minimal` and
/// `low` are requests to keep it cheap.
fn asks_for_reasoning(raw: &str) -> bool {
    matches!(raw.trim_matches('"'), "medium" | "high" | "xhigh" | "max")
}

#[derive(Deserialize)]
struct EffortObject<'a> {
    #[serde(borrow, default)]
    effort: Option<&'a RawValue>,
}
