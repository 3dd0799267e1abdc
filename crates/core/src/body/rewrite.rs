//! Byte-preserving edits: the router replaces, inserts, renames or removes only the top-level
//! fields it owns and copies every other byte as the client sent it (numbers, escapes, key
//! order and whitespace included).
//!
//! Edits are collected into one [`Rewrite`] and applied together, so separators are decided
//! once for the whole body: all new members go in as one splice after the opening `{`, and a
//! removed member takes exactly one comma with it. Any combination gives valid JSON.

use std::ops::Range;

use super::parse::{OwnedField, RequestBody};

/// Replace the bytes in `span` (empty: insert at `span.start`) with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Range<usize>,
    pub text: String,
}

/// Every change to one body, applied in one pass by [`apply`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// Keys or values replaced in place; never overlapping each other.
    replace: Vec<Edit>,
    /// Value spans of top-level members to delete (key, colon and one comma go with them).
    remove: Vec<Range<usize>>,
    /// New top-level members (`"key":value`), in order, written after the opening `{`.
    insert: Vec<String>,
}

impl Rewrite {
    pub fn is_empty(&self) -> bool {
        self.replace.is_empty() && self.remove.is_empty() && self.insert.is_empty()
    }

    pub fn replace(&mut self, span: Range<usize>, text: String) {
        self.replace.push(Edit { span, text });
    }

    /// Adds a new top-level member `key: value` (`value` is JSON text).
    pub fn insert(&mut self, key: &str, value: &str) {
        self.insert.push(format!("{}:{value}", json_string(key)));
    }

    /// Deletes the top-level member whose value is at `value`.
    pub fn remove(&mut self, value: Range<usize>) {
        self.remove.push(value);
    }

    /// Renames the top-level member whose value is at `value` to `key`, keeping its value.
    pub fn rename(&mut self, body: &[u8], value: &Range<usize>, key: &str) {
        if let Some(span) = key_span(body, value.start) {
            self.replace(span, json_string(key));
        }
    }
}

/// Sets `model` to `model`: nothing when the body already names it; a new member when it has
/// none; otherwise every top-level `model` value replaced. Returns whether anything changes.
pub fn set_model(body: &[u8], parsed: &RequestBody, model: &str, out: &mut Rewrite) -> bool {
    let value = json_string(model);
    let spans: Vec<Range<usize>> = parsed.spans(OwnedField::Model).collect();
    if spans.is_empty() {
        out.insert("model", &value);
        return true;
    }
    let mut changed = false;
    for span in spans {
        if body.get(span.clone()) != Some(value.as_bytes()) {
            out.replace(span, value.clone());
            changed = true;
        }
    }
    changed
}

/// Asks a streaming OpenAI request for a final usage chunk (`stream_options.include_usage:
/// true`), unless the client already said either way. Returns whether anything changes.
pub fn request_stream_usage(body: &[u8], parsed: &RequestBody, out: &mut Rewrite) -> bool {
    const INCLUDE: &str = r#""include_usage":true"#;
    let Some(span) = parsed.spans(OwnedField::StreamOptions).last() else {
        out.insert("stream_options", &format!("{{{INCLUDE}}}"));
        return true;
    };
    let raw = body.get(span.clone()).unwrap_or_default();
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(raw) {
        Ok(options) if options.contains_key("include_usage") => return false,
        Ok(options) => {
            // Insert just inside the object's `{`, keeping the client's options as sent.
            let inside = span.start + 1;
            let text = if options.is_empty() {
                INCLUDE.to_string()
            } else {
                format!("{INCLUDE},")
            };
            out.replace(inside..inside, text);
        }
        // `null` or another type: replace it.
        Err(_) => out.replace(span, format!("{{{INCLUDE}}}")),
    }
    true
}

/// The body with `rewrite` applied. `insert_at` is just inside the top-level `{`
/// ([`RequestBody::insert_at`]).
pub fn apply(body: &[u8], insert_at: usize, rewrite: Rewrite) -> Vec<u8> {
    let (removed, members_left) = removal_ranges(body, insert_at, &rewrite.remove);
    let mut edits: Vec<Edit> = removed
        .iter()
        .map(|span| Edit {
            span: span.clone(),
            text: String::new(),
        })
        .collect();
    // An edit inside a removed member has nothing left to change.
    edits.extend(rewrite.replace.into_iter().filter(|e| {
        !removed
            .iter()
            .any(|r| r.start <= e.span.start && e.span.end <= r.end)
    }));
    if !rewrite.insert.is_empty() {
        let mut text = rewrite.insert.join(",");
        if members_left {
            text.push(',');
        }
        edits.push(Edit {
            span: insert_at..insert_at,
            text,
        });
    }
    splice(body, edits)
}

/// Copies `body` with `edits` (non-overlapping) applied; an insertion goes before a
/// replacement that starts at the same offset, and insertions at one offset keep their order.
fn splice(body: &[u8], mut edits: Vec<Edit>) -> Vec<u8> {
    // Stable, and by end second: the new members at `{` come before a renamed first key.
    edits.sort_by_key(|e| (e.span.start, e.span.end));
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

/// The byte ranges that delete the members whose values are at `values`, and whether any of
/// the object's original members is left.
///
/// A member after the first takes the comma before it. The first member takes the comma
/// before the next member that stays (members removed in between take their own commas), so
/// each comma is removed once and none is left dangling.
fn removal_ranges(
    body: &[u8],
    insert_at: usize,
    values: &[Range<usize>],
) -> (Vec<Range<usize>>, bool) {
    let non_empty = body.get(skip_ws(body, insert_at)) != Some(&b'}');
    // (key start, value end, byte before the key), in document order, once each.
    let mut members: Vec<(usize, usize, Option<u8>)> = values
        .iter()
        .filter_map(|v| {
            let key = key_span(body, v.start)?;
            let before = skip_ws_back(body, key.start).and_then(|i| body.get(i).copied());
            Some((key.start, v.end, before))
        })
        .collect();
    members.sort_unstable();
    members.dedup();
    let mut ranges = Vec::with_capacity(members.len() + 1);
    let mut first_removed = false;
    for &(key_start, end, before) in &members {
        if before == Some(b',') {
            let comma = skip_ws_back(body, key_start).unwrap_or(key_start);
            ranges.push(comma..end);
        } else {
            first_removed = true;
            ranges.push(key_start..end);
        }
    }
    if !first_removed {
        return (ranges, non_empty);
    }
    // Walk past the removed members that follow the first; the comma before the first member
    // that stays goes too.
    let mut pos = members.first().map_or(insert_at, |m| m.1);
    loop {
        let at = skip_ws(body, pos);
        if body.get(at) != Some(&b',') {
            return (ranges, false);
        }
        let next_key = skip_ws(body, at + 1);
        match members.iter().find(|m| m.0 == next_key) {
            Some(m) => pos = m.1,
            None => {
                ranges.push(at..at + 1);
                return (ranges, true);
            }
        }
    }
}

/// The span of the key (quotes included) of the top-level member whose value starts at
/// `value_start`: back over whitespace, the colon, whitespace, then the quoted key.
fn key_span(body: &[u8], value_start: usize) -> Option<Range<usize>> {
    let colon = skip_ws_back(body, value_start)?;
    if body.get(colon) != Some(&b':') {
        return None;
    }
    let close = skip_ws_back(body, colon)?;
    if body.get(close) != Some(&b'"') {
        return None;
    }
    // The opening quote is the nearest `"` not escaped, i.e. not after an odd run of `\`.
    let mut i = close;
    while i > 0 {
        i -= 1;
        if body.get(i) == Some(&b'"') {
            let slashes = body
                .get(..i)
                .unwrap_or_default()
                .iter()
                .rev()
                .take_while(|b| **b == b'\\')
                .count();
            if slashes % 2 == 0 {
                return Some(i..close + 1);
            }
        }
    }
    None
}

/// The first offset at or after `from` that is not JSON whitespace.
fn skip_ws(body: &[u8], from: usize) -> usize {
    let rest = body.get(from..).unwrap_or_default();
    from + rest.iter().take_while(|b| is_ws(**b)).count()
}

/// The offset of the last byte before `before` that is not JSON whitespace.
fn skip_ws_back(body: &[u8], before: usize) -> Option<usize> {
    body.get(..before)?.iter().rposition(|b| !is_ws(*b))
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
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

/// Raises every completion-token cap below `min` to `min` (never lowering one), and, with
/// `add_when_absent`, adds `absent_field: min` when the request sets no cap. Caps whose
/// values are in `removed` (members being deleted) do not count. Returns whether anything
/// changes.
pub fn raise_token_floor(
    body: &[u8],
    parsed: &RequestBody,
    min: u64,
    add_when_absent: bool,
    absent_field: &str,
    removed: &[Range<usize>],
    out: &mut Rewrite,
) -> bool {
    let caps: Vec<Range<usize>> = CAP_FIELDS
        .iter()
        .flat_map(|f| parsed.spans(*f))
        .filter(|span| !removed.contains(span))
        .collect();
    if caps.is_empty() {
        if add_when_absent {
            out.insert(absent_field, &min.to_string());
        }
        return add_when_absent;
    }
    let mut changed = false;
    for span in caps {
        let value = body
            .get(span.clone())
            .and_then(|v| std::str::from_utf8(v).ok())
            .unwrap_or_default();
        // A cap that is not a whole number (null, 1e3, "x") is left for the upstream to judge.
        if value.parse::<u64>().is_ok_and(|cap| cap < min) {
            out.replace(span, min.to_string());
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remove_all(body: &str, keys: &[&str]) -> String {
        let parsed: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let mut rewrite = Rewrite::default();
        // Find each value by searching for `"key"` then the colon (test bodies are simple).
        for key in keys {
            let quoted = format!("\"{key}\"");
            let at = body.find(&quoted).unwrap_or(0) + quoted.len();
            let colon = at + body[at..].find(':').unwrap_or(0);
            let start = skip_ws(body.as_bytes(), colon + 1);
            let len = serde_json::to_string(&parsed[*key])
                .unwrap_or_default()
                .len();
            rewrite.remove(start..start + len);
        }
        let insert_at = body.find('{').unwrap_or(0) + 1;
        String::from_utf8(apply(body.as_bytes(), insert_at, rewrite)).unwrap_or_default()
    }

    #[test]
    fn removing_members_leaves_one_comma_between_the_rest() {
        assert_eq!(
            remove_all(r#"{"a":1, "b":2 ,"c":3}"#, &["b"]),
            r#"{"a":1 ,"c":3}"#
        );
        assert_eq!(
            remove_all(r#"{"a":1,"b":2,"c":3}"#, &["a"]),
            r#"{"b":2,"c":3}"#
        );
        assert_eq!(
            remove_all(r#"{"a":1,"b":2,"c":3}"#, &["a", "b"]),
            r#"{"c":3}"#
        );
        assert_eq!(
            remove_all(r#"{"a":1,"b":2,"c":3}"#, &["c", "a"]),
            r#"{"b":2}"#
        );
        assert_eq!(remove_all(r#"{ "a":1 , "b":2 }"#, &["a", "b"]), r#"{   }"#);
        assert_eq!(remove_all(r#"{"a":1}"#, &["a"]), r#"{}"#);
    }

    #[test]
    fn keys_with_escaped_quotes_are_found() {
        let body = br#"{"x\"y\\":1}"#;
        assert_eq!(key_span(body, 10), Some(1..9));
    }
}
