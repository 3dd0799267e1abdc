//! What the request asked the answer to be: JSON (`response_format` `json_object` or
//! `json_schema`; Responses `text.format`), and, from a declared schema, the top-level `enum`,
//! the top-level `required` keys and the `enum` of each top-level property. Read from the
//! kept request bytes only for a cascade tier, once per request.

use serde_json::Value;

use crate::body::RequestBody;

/// The answer's declared shape; the default asks for nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerContract {
    /// The answer must be a JSON document.
    pub json: bool,
    /// The schema's top-level `enum`: the whole answer must be one of these values.
    pub enum_values: Option<Vec<Value>>,
    /// Keys the answer object must have (the schema's top-level `required`).
    pub required: Vec<String>,
    /// `(key, values)`: a top-level property whose schema has an `enum`.
    pub property_enums: Vec<(String, Vec<Value>)>,
}

impl AnswerContract {
    /// The contract of a parsed request, from the span of its `response_format` / `text`.
    pub fn of_request(body: &[u8], parsed: &RequestBody) -> AnswerContract {
        parsed
            .answer_format
            .clone()
            .and_then(|span| body.get(span))
            .map_or_else(AnswerContract::default, AnswerContract::of_format)
    }

    /// The contract of a `response_format` value (Chat Completions) or a `text` value
    /// (Responses, whose format sits under `format`).
    pub fn of_format(raw: &[u8]) -> AnswerContract {
        let Ok(value) = serde_json::from_slice::<Value>(raw) else {
            return AnswerContract::default();
        };
        let format = value.get("format").unwrap_or(&value);
        match format.get("type").and_then(Value::as_str) {
            Some("json_object") => AnswerContract {
                json: true,
                ..AnswerContract::default()
            },
            Some("json_schema") => {
                // Chat nests the schema under `json_schema`; Responses puts it in the format.
                let schema = format
                    .get("json_schema")
                    .and_then(|j| j.get("schema"))
                    .or_else(|| format.get("schema"));
                schema.map_or(
                    AnswerContract {
                        json: true,
                        ..AnswerContract::default()
                    },
                    of_schema,
                )
            }
            _ => AnswerContract::default(),
        }
    }

    /// Whether the request declared a set of allowed answers in its schema.
    pub fn has_enum(&self) -> bool {
        self.enum_values.is_some() || !self.property_enums.is_empty()
    }
}

fn of_schema(schema: &Value) -> AnswerContract {
    let enum_of = |s: &Value| s.get("enum").and_then(Value::as_array).cloned();
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let property_enums = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter_map(|(k, s)| enum_of(s).map(|e| (k.clone(), e)))
                .collect()
        })
        .unwrap_or_default();
    AnswerContract {
        json: true,
        enum_values: enum_of(schema),
        required,
        property_enums,
    }
}
