//! JSON documents built from fuzzer bytes with `arbitrary`: always valid JSON, written with
//! varied whitespace, escapes and number spellings, and biased towards the keys and phrases
//! the router reads (so the parser, classifier and rewrites all get exercised).

use arbitrary::{Arbitrary, Unstructured};

/// Keys the router reads or owns, and a few it must leave alone.
pub const KEYS: &[&str] = &[
    "model",
    "messages",
    "role",
    "content",
    "text",
    "type",
    "system",
    "prompt",
    "input",
    "instructions",
    "stream",
    "stream_options",
    "include_usage",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "response_format",
    "json_schema",
    "schema",
    "enum",
    "format",
    "reasoning_effort",
    "reasoning",
    "effort",
    "thinking",
    "tools",
    "temperature",
    "top_p",
    "user",
    "usage",
];

/// Values the router reacts to: roles, content-part types, cue phrases of the default config.
pub const PHRASES: &[&str] = &[
    "user",
    "system",
    "assistant",
    "developer",
    "text",
    "input_text",
    "output_text",
    "image_url",
    "json_schema",
    "high",
    "classify the sentiment. answer with one word",
    "prove step by step",
    "let's chat about your weekend",
    "```rust\nfn main() {}\n```",
    "caf\u{e9} \u{1f600}",
    "",
];

/// Number spellings that parse differently in different parsers.
pub const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "1",
    "16",
    "4096",
    "1e3",
    "1E+2",
    "0.5",
    "12345678901234567890",
    "-1",
    "1e400",
    "18446744073709551615",
    "18446744073709551616",
];

#[derive(Debug, Clone, Arbitrary)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Number(u8),
    Str(Text),
    Array(Vec<Value>),
    Object(Vec<(Text, Value)>),
}

#[derive(Debug, Clone, Arbitrary)]
pub enum Text {
    Key(u8),
    Phrase(u8),
    Any(String),
    /// Written with every character as a `\u` escape.
    Escaped(String),
}

/// An object body: the top level is always a JSON object.
#[derive(Debug, Clone, Arbitrary)]
pub struct ObjectBody {
    pub fields: Vec<(Text, Value)>,
    /// Whitespace choices, used in turn between tokens.
    pub spacing: Vec<u8>,
    /// Bytes before the `{` / after the `}` are whitespace of these kinds.
    pub lead: u8,
    pub trail: u8,
}

impl ObjectBody {
    pub fn from_bytes(data: &[u8]) -> arbitrary::Result<ObjectBody> {
        ObjectBody::arbitrary_take_rest(Unstructured::new(data))
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut w = Writer {
            out: Vec::new(),
            spacing: &self.spacing,
            next: 0,
        };
        w.out.extend_from_slice(spaces(self.lead));
        w.object(&self.fields, 0);
        w.out.extend_from_slice(spaces(self.trail));
        w.out
    }
}

/// Bodies nest no deeper than this (serde_json's own limit is 128).
const MAX_DEPTH: usize = 24;

struct Writer<'a> {
    out: Vec<u8>,
    spacing: &'a [u8],
    next: usize,
}

impl Writer<'_> {
    fn ws(&mut self) {
        if self.spacing.is_empty() {
            return;
        }
        let choice = self.spacing[self.next % self.spacing.len()];
        self.next += 1;
        self.out.extend_from_slice(spaces(choice));
    }

    fn object(&mut self, fields: &[(Text, Value)], depth: usize) {
        self.out.push(b'{');
        for (i, (key, value)) in fields.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.ws();
            self.text(key);
            self.ws();
            self.out.push(b':');
            self.ws();
            self.value(value, depth + 1);
            self.ws();
        }
        self.ws();
        self.out.push(b'}');
    }

    fn value(&mut self, value: &Value, depth: usize) {
        match value {
            Value::Array(_) | Value::Object(_) if depth >= MAX_DEPTH => self.put("null"),
            Value::Null => self.put("null"),
            Value::Bool(b) => self.put(if *b { "true" } else { "false" }),
            Value::Int(i) => self.put(&i.to_string()),
            Value::Float(f) if f.is_finite() => self.put(&format!("{f:?}")),
            Value::Float(_) => self.put("0.0"),
            Value::Number(n) => self.put(NUMBERS[usize::from(*n) % NUMBERS.len()]),
            Value::Str(t) => self.text(t),
            Value::Array(items) => {
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.ws();
                    self.value(item, depth + 1);
                }
                self.ws();
                self.out.push(b']');
            }
            Value::Object(fields) => self.object(fields, depth),
        }
    }

    fn text(&mut self, text: &Text) {
        match text {
            Text::Key(i) => self.string(KEYS[usize::from(*i) % KEYS.len()]),
            Text::Phrase(i) => self.string(PHRASES[usize::from(*i) % PHRASES.len()]),
            Text::Any(s) => self.string(s),
            Text::Escaped(s) => {
                self.out.push(b'"');
                for unit in s.encode_utf16() {
                    self.out
                        .extend_from_slice(format!("\\u{unit:04x}").as_bytes());
                }
                self.out.push(b'"');
            }
        }
    }

    fn string(&mut self, s: &str) {
        let quoted = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string());
        self.put(&quoted);
    }

    fn put(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }
}

fn spaces(choice: u8) -> &'static [u8] {
    match choice % 6 {
        0 | 1 => b"",
        2 => b" ",
        3 => b"\n",
        4 => b"\t ",
        _ => b"\r\n  ",
    }
}

/// Writes a JSON value built from fuzzer bytes (for config edits).
pub fn value_json(value: &Value) -> String {
    let mut w = Writer {
        out: Vec::new(),
        spacing: &[],
        next: 0,
    };
    w.value(value, 0);
    String::from_utf8_lossy(&w.out).into_owned()
}
