//! One access-log line as JSON: only the keys `report` reads, borrowed from the line unless
//! the JSON escapes them. Values may be strings (Envoy prints filter state as text), numbers
//! or booleans; `null`, `"-"`, `""`, objects and arrays count as absent. Unknown keys are
//! skipped without allocating. The keys are read at the top level (the `fields` filter-state
//! layout, one log key per field) and inside the filter's record, the JSON object that
//! `"tier_router": "%FILTER_STATE(wasm.tier_router:PLAIN)%"` logs as a string (the default
//! `record` layout); a top-level key wins over the same key in the record.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use tier_router_core::names::state;

/// The filter logs `tier_router.failover` (how many times the request moved to another
/// model) on every served line, and `tier_router.escalated` on the lines of cascade tiers.
pub const FAILOVER_KEY: &str = state::FAILOVER;
pub const ESCALATED_KEY: &str = state::ESCALATED;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    StartTime,
    Status,
    Tier,
    Model,
    Source,
    /// `tier`, `model`, `source`: the short keys earlier `envoy/envoy.yaml` versions logged;
    /// read only when the full key is absent.
    ShortTier,
    ShortModel,
    ShortSource,
    Shadow,
    InputTokens,
    OutputTokens,
    CachedInputTokens,
    ReasoningTokens,
    UsageSource,
    Cost,
    BaselineCost,
    Ttft,
    Latency,
    UpstreamStatus,
    Failover,
    Escalated,
}

const FIELD_COUNT: usize = 21;

/// Log key -> field.
const KEYS: [(&str, Field); FIELD_COUNT] = [
    (state::TIER, Field::Tier),
    (state::MODEL, Field::Model),
    (state::SOURCE, Field::Source),
    (state::SHADOW, Field::Shadow),
    (state::INPUT_TOKENS, Field::InputTokens),
    (state::OUTPUT_TOKENS, Field::OutputTokens),
    (state::CACHED_INPUT_TOKENS, Field::CachedInputTokens),
    (state::REASONING_TOKENS, Field::ReasoningTokens),
    (state::USAGE_SOURCE, Field::UsageSource),
    (state::COST_USD, Field::Cost),
    (state::BASELINE_COST_USD, Field::BaselineCost),
    (state::TTFT_MS, Field::Ttft),
    (state::LATENCY_MS, Field::Latency),
    (state::UPSTREAM_STATUS, Field::UpstreamStatus),
    (FAILOVER_KEY, Field::Failover),
    (ESCALATED_KEY, Field::Escalated),
    ("start_time", Field::StartTime),
    ("status", Field::Status),
    ("tier", Field::ShortTier),
    ("model", Field::ShortModel),
    ("source", Field::ShortSource),
];

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Text(Cow<'a, str>),
    Number(f64),
    Bool(bool),
}

#[derive(Debug, Default)]
pub struct Record<'a> {
    values: [Option<Scalar<'a>>; FIELD_COUNT],
}

/// Why a line was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    NotJson(String),
    NotObject,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::NotJson(e) => write!(f, "not JSON ({e})"),
            Rejection::NotObject => f.write_str("not a JSON object"),
        }
    }
}

impl<'a> Record<'a> {
    pub fn parse(line: &'a [u8]) -> Result<Record<'a>, Rejection> {
        serde_json::from_slice(line).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => Rejection::NotObject,
            _ => Rejection::NotJson(describe(&e)),
        })
    }

    pub fn get(&self, field: Field) -> Option<&Scalar<'a>> {
        let value = self.values.get(field as usize).and_then(Option::as_ref);
        let short = match field {
            Field::Tier => Field::ShortTier,
            Field::Model => Field::ShortModel,
            Field::Source => Field::ShortSource,
            _ => return value,
        };
        value.or_else(|| self.get(short))
    }

    pub fn text(&self, field: Field) -> Option<&str> {
        match self.get(field)? {
            Scalar::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// `column 56: EOF while parsing a string` (a log line is one line, so the line number
/// serde_json reports is always 1).
fn describe(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let message = message
        .rfind(" at line ")
        .and_then(|at| message.get(..at))
        .unwrap_or(&message);
    format!("column {}: {message}", e.column())
}

fn field_of(key: &str) -> Option<Field> {
    KEYS.iter().find(|(k, _)| *k == key).map(|(_, f)| *f)
}

impl<'de> Deserialize<'de> for Record<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Record<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record<'de>, A::Error> {
        let mut record = Record::default();
        let mut embedded = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if key == state::RECORD {
                let Value(value) = map.next_value()?;
                embedded = value;
                continue;
            }
            match field_of(&key) {
                Some(field) => {
                    let Value(value) = map.next_value()?;
                    if let Some(slot) = record.values.get_mut(field as usize) {
                        *slot = value;
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let Some(Scalar::Text(text)) = embedded {
            record.fill_from_record(&text);
        }
        Ok(record)
    }
}

impl Record<'_> {
    /// Fills the fields still absent from the filter's record, a JSON object in a string.
    /// A record that is not such an object adds nothing (the line still counts).
    fn fill_from_record(&mut self, text: &str) {
        let Ok(inner) = Record::parse(text.as_bytes()) else {
            return;
        };
        for (slot, value) in self.values.iter_mut().zip(inner.values) {
            if slot.is_none() {
                *slot = value.map(Scalar::into_owned);
            }
        }
    }
}

impl Scalar<'_> {
    fn into_owned(self) -> Scalar<'static> {
        match self {
            Scalar::Text(t) => Scalar::Text(Cow::Owned(t.into_owned())),
            Scalar::Number(n) => Scalar::Number(n),
            Scalar::Bool(b) => Scalar::Bool(b),
        }
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_string())))
    }
}

/// A value of a key `report` reads; `None` when absent by the rules above.
struct Value<'a>(Option<Scalar<'a>>);

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

fn text<'a>(v: Cow<'a, str>) -> Value<'a> {
    let absent = v.is_empty() || v == "-";
    Value((!absent).then_some(Scalar::Text(v)))
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean or null")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value<'de>, E> {
        Ok(text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value<'de>, E> {
        Ok(text(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value<'de>, E> {
        Ok(text(Cow::Owned(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value<'de>, E> {
        Ok(Value(Some(Scalar::Number(v as f64))))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value<'de>, E> {
        Ok(Value(Some(Scalar::Number(v as f64))))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value<'de>, E> {
        Ok(Value(Some(Scalar::Number(v))))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value<'de>, E> {
        Ok(Value(Some(Scalar::Bool(v))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value(None))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_keys_and_skips_the_rest() {
        let line = br#"{"start_time":"2026-11-28T03:29:01.798Z","tier_router.tier":"label","x":{"a":[1]},"gen_ai.usage.input_tokens":"12","tier_router.cost_usd":null,"tier_router.ttft_ms":"-","tier_router.shadow":true}"#;
        let record = Record::parse(line).unwrap();
        assert_eq!(record.text(Field::Tier), Some("label"));
        assert!(matches!(record.get(Field::InputTokens), Some(Scalar::Text(t)) if t == "12"));
        assert_eq!(record.get(Field::Cost), None);
        assert_eq!(record.get(Field::Ttft), None);
        assert_eq!(record.get(Field::Shadow), Some(&Scalar::Bool(true)));
    }

    #[test]
    fn full_keys_win_over_short_ones() {
        let record = Record::parse(br#"{"tier":"old","tier_router.tier":"new"}"#).unwrap();
        assert_eq!(record.text(Field::Tier), Some("new"));
        let record = Record::parse(br#"{"tier":"old"}"#).unwrap();
        assert_eq!(record.text(Field::Tier), Some("old"));
    }

    #[test]
    fn the_record_logged_as_one_string_is_read() {
        let line = br#"{"status":200,"tier_router":"{\"tier_router.tier\":\"label\",\"gen_ai.usage.input_tokens\":\"12\",\"gen_ai.request.model\":\"a\\\"b\"}"}"#;
        let record = Record::parse(line).unwrap();
        assert_eq!(record.text(Field::Tier), Some("label"));
        assert_eq!(record.text(Field::InputTokens), Some("12"));
        assert_eq!(record.text(Field::Model), Some("a\"b"));
        assert_eq!(record.get(Field::Status), Some(&Scalar::Number(200.0)));
        // A top-level key wins; a record that is absent or not an object adds nothing.
        let record = Record::parse(
            br#"{"tier_router.tier":"chat","tier_router":"{\"tier_router.tier\":\"label\"}"}"#,
        )
        .unwrap();
        assert_eq!(record.text(Field::Tier), Some("chat"));
        for line in [
            &br#"{"tier_router":"-","tier":"x"}"#[..],
            br#"{"tier_router":"{bad","tier":"x"}"#,
            br#"{"tier_router":null,"tier":"x"}"#,
        ] {
            assert_eq!(Record::parse(line).unwrap().text(Field::Tier), Some("x"));
        }
    }

    #[test]
    fn escaped_values_are_read() {
        let record = Record::parse(br#"{"gen_ai.request.model":"a\u002db"}"#).unwrap();
        assert_eq!(record.text(Field::Model), Some("a-b"));
    }

    #[test]
    fn rejections() {
        assert!(matches!(
            Record::parse(b"{\"a\":"),
            Err(Rejection::NotJson(_))
        ));
        assert_eq!(Record::parse(b"[1,2]").unwrap_err(), Rejection::NotObject);
        assert_eq!(Record::parse(b"42").unwrap_err(), Rejection::NotObject);
    }
}
