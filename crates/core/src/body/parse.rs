//! One pass over a JSON request body: the prompt text of every supported API shape, the
//! structural facts the classifier reads, and the byte spans of the fields the router may
//! rewrite. Everything else is validated and skipped, never copied or re-serialised.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::text::{Input, Message, Role, Texts};

/// What the router knows about a request body after one parse.
#[derive(Debug, Default)]
pub struct RequestBody<'a> {
    /// System prompt text: `system` role messages, Anthropic `system`, Responses `instructions`.
    pub system: Vec<Cow<'a, str>>,
    /// The conversation: Chat/Anthropic `messages`, Responses `input`, Completions `prompt`.
    pub messages: Vec<Message<'a>>,
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
}

/// Top-level fields whose bytes the router may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedField {
    Model,
    MaxTokens,
    MaxCompletionTokens,
    MaxOutputTokens,
    StreamOptions,
}

/// The body is not a JSON object (or not JSON at all): the router leaves it untouched.
#[derive(Debug, Clone, PartialEq)]
pub struct NotJsonObject(pub String);

impl fmt::Display for NotJsonObject {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "body is not a JSON object: {}", self.0)
    }
}

impl<'a> RequestBody<'a> {
    pub fn parse(body: &'a [u8]) -> Result<RequestBody<'a>, NotJsonObject> {
        let fields: TopLevel<'a> =
            serde_json::from_slice(body).map_err(|e| NotJsonObject(e.to_string()))?;
        let mut parsed = fields.body;
        let base = body.as_ptr() as usize;
        // RawValue borrows from `body`, so its address gives its offset without a second scan.
        for (field, raw) in fields.raw_owned {
            let start = raw.get().as_ptr() as usize - base;
            parsed.owned.push((field, start..start + raw.get().len()));
        }
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
        let system: usize = self.system.iter().map(|t| t.len()).sum();
        system
            + self
                .messages
                .iter()
                .map(|m| m.content.char_len())
                .sum::<usize>()
    }
}

struct TopLevel<'a> {
    body: RequestBody<'a>,
    raw_owned: Vec<(OwnedField, &'a RawValue)>,
}

impl<'de> Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TopLevelVisitor)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
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
    #[serde(other)]
    Other,
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut top = TopLevel {
            body: RequestBody::default(),
            raw_owned: Vec::new(),
        };
        while let Some(key) = map.next_key::<TopKey>()? {
            read_field(&mut top, key, &mut map)?;
        }
        Ok(top)
    }
}

fn read_field<'de, A: MapAccess<'de>>(
    top: &mut TopLevel<'de>,
    key: TopKey,
    map: &mut A,
) -> Result<(), A::Error> {
    let body = &mut top.body;
    match key {
        TopKey::Messages => {
            for m in map.next_value::<Input<'de>>()?.messages {
                if m.role == Role::System {
                    body.system.extend(m.content.0);
                } else {
                    body.messages.push(m);
                }
            }
        }
        TopKey::System | TopKey::Instructions => {
            body.system.extend(map.next_value::<Texts<'de>>()?.0)
        }
        TopKey::Prompt | TopKey::Input => body
            .messages
            .extend(map.next_value::<Input<'de>>()?.messages),
        TopKey::Model => owned(top, map, OwnedField::Model)?,
        TopKey::MaxTokens => token_cap(top, map, OwnedField::MaxTokens)?,
        TopKey::MaxCompletionTokens => token_cap(top, map, OwnedField::MaxCompletionTokens)?,
        TopKey::MaxOutputTokens => token_cap(top, map, OwnedField::MaxOutputTokens)?,
        TopKey::StreamOptions => owned(top, map, OwnedField::StreamOptions)?,
        TopKey::ResponseFormat | TopKey::Text => {
            let raw: &RawValue = map.next_value()?;
            body.enum_schema |= raw.get().contains("\"enum\"");
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

fn owned<'de, A: MapAccess<'de>>(
    top: &mut TopLevel<'de>,
    map: &mut A,
    field: OwnedField,
) -> Result<(), A::Error> {
    let raw: &'de RawValue = map.next_value()?;
    top.raw_owned.push((field, raw));
    Ok(())
}

fn token_cap<'de, A: MapAccess<'de>>(
    top: &mut TopLevel<'de>,
    map: &mut A,
    field: OwnedField,
) -> Result<(), A::Error> {
    let raw: &'de RawValue = map.next_value()?;
    if let Ok(cap) = raw.get().parse::<u64>() {
        top.body.max_tokens = Some(top.body.max_tokens.map_or(cap, |c| c.min(cap)));
    }
    top.raw_owned.push((field, raw));
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
