//! Logprobs the router asked for and the client did not: each choice's `logprobs` value is
//! replaced with `null` (what the API returns when none were asked for) before the answer is
//! served. Only those bytes change.

use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Choices<'a> {
    #[serde(borrow)]
    choices: Vec<Choice<'a>>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow, default)]
    logprobs: Option<&'a RawValue>,
}

/// `body` with every `choices[].logprobs` set to `null`; `None` when nothing changes (no
/// logprobs, or not a Chat Completions answer).
pub fn strip_logprobs(body: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    let parsed: Choices<'_> = serde_json::from_str(text).ok()?;
    let base = text.as_ptr() as usize;
    let spans: Vec<(usize, usize)> = parsed
        .choices
        .iter()
        .filter_map(|c| c.logprobs)
        .map(|raw| {
            let start = raw.get().as_ptr() as usize - base;
            (start, start + raw.get().len())
        })
        .collect();
    if spans.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    for (start, end) in spans {
        out.extend_from_slice(body.get(at..start)?);
        out.extend_from_slice(b"null");
        at = end;
    }
    out.extend_from_slice(body.get(at..)?);
    Some(out)
}
