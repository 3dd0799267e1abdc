//! Byte-preserving edits: the router replaces or inserts only the fields it owns (`model`,
//! `stream_options`) and copies every other byte as the client sent it (numbers, escapes,
//! key order and whitespace included).

use std::ops::Range;

use super::parse::{OwnedField, RequestBody};

/// Replace the bytes in `span` (empty: insert at `span.start`) with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Range<usize>,
    pub text: String,
}

/// Edits that set `model` to `model`: none when the body already names it; a new first field
/// when it has none; otherwise every top-level `model` value replaced.
pub fn set_model(body: &[u8], parsed: &RequestBody<'_>, model: &str) -> Vec<Edit> {
    let value = json_string(model);
    let spans: Vec<Range<usize>> = parsed.spans(OwnedField::Model).collect();
    if spans.is_empty() {
        return vec![insert_field(body, parsed.insert_at, "model", &value)];
    }
    if spans
        .iter()
        .all(|s| body.get(s.clone()) == Some(value.as_bytes()))
    {
        return Vec::new();
    }
    spans
        .into_iter()
        .map(|span| Edit {
            span,
            text: value.clone(),
        })
        .collect()
}

/// Edits that ask a streaming OpenAI request for a final usage chunk
/// (`stream_options.include_usage: true`), unless the client already said either way.
pub fn request_stream_usage(body: &[u8], parsed: &RequestBody<'_>) -> Vec<Edit> {
    const INCLUDE: &str = r#""include_usage":true"#;
    let Some(span) = parsed.spans(OwnedField::StreamOptions).last() else {
        return vec![insert_field(
            body,
            parsed.insert_at,
            "stream_options",
            &format!("{{{INCLUDE}}}"),
        )];
    };
    let raw = body.get(span.clone()).unwrap_or_default();
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(raw) {
        Ok(options) if options.contains_key("include_usage") => Vec::new(),
        Ok(options) => {
            // Insert just inside the object's `{`, keeping the client's options as sent.
            let inside = span.start + 1;
            let text = if options.is_empty() {
                INCLUDE.to_string()
            } else {
                format!("{INCLUDE},")
            };
            vec![Edit {
                span: inside..inside,
                text,
            }]
        }
        // `null` or another type: replace it.
        Err(_) => vec![Edit {
            span,
            text: format!("{{{INCLUDE}}}"),
        }],
    }
}

/// The body with `edits` applied. Edits must not overlap; insertions at the same offset keep
/// their order.
pub fn apply(body: &[u8], mut edits: Vec<Edit>) -> Vec<u8> {
    // Stable: insertions at the same offset keep their order.
    edits.sort_by_key(|e| e.span.start);
    let added: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = Vec::with_capacity(body.len() + added);
    let mut copied = 0;
    for edit in &edits {
        out.extend_from_slice(body.get(copied..edit.span.start).unwrap_or_default());
        out.extend_from_slice(edit.text.as_bytes());
        copied = edit.span.end.max(copied);
    }
    out.extend_from_slice(body.get(copied..).unwrap_or_default());
    out
}

/// `"key":value` right after the opening brace, with a comma unless the object is empty.
fn insert_field(body: &[u8], insert_at: usize, key: &str, value: &str) -> Edit {
    let rest = body.get(insert_at..).unwrap_or_default();
    let empty_object = rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'}');
    let comma = if empty_object { "" } else { "," };
    Edit {
        span: insert_at..insert_at,
        text: format!("{}:{value}{comma}", json_string(key)),
    }
}

/// A JSON string literal for `s`, escaped.
fn json_string(s: &str) -> String {
    // Serialising a &str cannot fail; the fallback keeps the filter panic-free regardless.
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

/// The completion-token cap fields a request may carry, by API.
const CAP_FIELDS: [OwnedField; 3] = [
    OwnedField::MaxTokens,
    OwnedField::MaxCompletionTokens,
    OwnedField::MaxOutputTokens,
];

/// Edits that raise every completion-token cap below `min` to `min` (never lowering one),
/// and, with `add_when_absent`, add `absent_field: min` when the request sets no cap.
pub fn raise_token_floor(
    body: &[u8],
    parsed: &RequestBody<'_>,
    min: u64,
    add_when_absent: bool,
    absent_field: &str,
) -> Vec<Edit> {
    let caps: Vec<Range<usize>> = CAP_FIELDS.iter().flat_map(|f| parsed.spans(*f)).collect();
    if caps.is_empty() {
        return if add_when_absent {
            vec![insert_field(
                body,
                parsed.insert_at,
                absent_field,
                &min.to_string(),
            )]
        } else {
            Vec::new()
        };
    }
    caps.into_iter()
        .filter(|span| {
            let value = body
                .get(span.clone())
                .and_then(|v| std::str::from_utf8(v).ok())
                .unwrap_or_default();
            // A cap that is not a whole number (null, 1e3, "x") is left for the upstream to judge.
            value.parse::<u64>().is_ok_and(|cap| cap < min)
        })
        .map(|span| Edit {
            span,
            text: min.to_string(),
        })
        .collect()
}
