//! Byte-preserving edits: the router replaces the bytes of the fields it owns and copies every
//! other byte as the client sent it (numbers, escapes, key order and whitespace included).

use std::ops::Range;

use super::parse::{OwnedField, RequestBody};

/// The body with `model` set to `model`, or `None` when it already names it.
/// A body without `model` gets one as its first field.
pub fn set_model(body: &[u8], parsed: &RequestBody<'_>, model: &str) -> Option<Vec<u8>> {
    let value = json_string(model);
    let spans: Vec<Range<usize>> = parsed.spans(OwnedField::Model).collect();
    if spans.is_empty() {
        return Some(insert_field(body, parsed.insert_at, "model", &value));
    }
    if spans
        .iter()
        .all(|s| body.get(s.clone()) == Some(value.as_bytes()))
    {
        return None;
    }
    Some(replace_spans(body, &spans, value.as_bytes()))
}

/// Replaces each span (sorted, non-overlapping) with `value`.
fn replace_spans(body: &[u8], spans: &[Range<usize>], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + spans.len() * value.len());
    let mut copied = 0;
    for span in spans {
        out.extend_from_slice(body.get(copied..span.start).unwrap_or_default());
        out.extend_from_slice(value);
        copied = span.end;
    }
    out.extend_from_slice(body.get(copied..).unwrap_or_default());
    out
}

/// Inserts `"key":value` right after the opening brace, with a comma unless the object is empty.
pub(crate) fn insert_field(body: &[u8], insert_at: usize, key: &str, value: &str) -> Vec<u8> {
    let (head, tail) = body.split_at(insert_at.min(body.len()));
    let empty_object = tail.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'}');
    let mut out = Vec::with_capacity(body.len() + key.len() + value.len() + 4);
    out.extend_from_slice(head);
    out.extend_from_slice(json_string(key).as_bytes());
    out.push(b':');
    out.extend_from_slice(value.as_bytes());
    if !empty_object {
        out.push(b',');
    }
    out.extend_from_slice(tail);
    out
}

/// A JSON string literal for `s`, escaped.
fn json_string(s: &str) -> String {
    // Serialising a &str cannot fail; the fallback keeps the filter panic-free regardless.
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}
