//! What the gate reads of a non-streaming answer, for each API shape: the text of each
//! choice, whether it was cut at the token cap, refused by the API's own field, made of tool
//! calls, and its token logprobs. Read through `serde_json::Value`, whose deserializer the
//! module links anyway: typed structs would add a visitor each (kilobytes of wasm apiece).

use serde_json::Value;

use crate::api::ApiShape;

/// One answer as the gate sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    /// The text of each choice (all its text parts joined), in order; one for Responses and
    /// Anthropic Messages.
    pub texts: Vec<String>,
    /// Some choice stopped at the completion-token cap (`finish_reason: length`, Anthropic
    /// `stop_reason: max_tokens`, Responses `incomplete_details.reason: max_output_tokens`).
    pub truncated: bool,
    /// The API itself says the model refused (Chat `message.refusal`, `finish_reason:
    /// content_filter`, a Responses `refusal` part, Anthropic `stop_reason: refusal`).
    pub refused: bool,
    /// The answer calls tools: its text may rightly be empty and is not checked as text.
    pub tool_calls: bool,
    /// Sum and count of the token logprobs the answer carries (when logprobs were asked for).
    pub logprobs: Option<(f64, usize)>,
}

impl Answer {
    /// Reads a 2xx answer body; `None` when it is not an answer of this shape (not JSON, or
    /// not an object).
    pub fn read(api: Option<ApiShape>, body: &[u8]) -> Option<Answer> {
        let value: Value = serde_json::from_slice(body).ok()?;
        value.as_object()?;
        Some(match api {
            Some(ApiShape::Responses) => responses(&value),
            Some(ApiShape::AnthropicMessages) => anthropic(&value),
            // Chat Completions and Completions share `choices`; an unknown path reads as Chat.
            _ => chat(&value)?,
        })
    }

    fn add_logprobs<'a>(&mut self, values: impl Iterator<Item = &'a Value>) {
        let (mut sum, mut count) = self.logprobs.unwrap_or((0.0, 0));
        for v in values.filter_map(Value::as_f64).filter(|v| v.is_finite()) {
            sum += v;
            count += 1;
        }
        if count > 0 {
            self.logprobs = Some((sum, count));
        }
    }
}

fn text_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn chat(value: &Value) -> Option<Answer> {
    let mut answer = Answer::default();
    for choice in value.get("choices")?.as_array()? {
        let finish = choice.get("finish_reason").and_then(Value::as_str);
        answer.truncated |= finish == Some("length");
        answer.refused |= finish == Some("content_filter");
        // Completions' `text`, or the message's content (a string or text parts).
        let mut text = choice.get("text").map_or("", text_of).to_string();
        if let Some(message) = choice.get("message") {
            let refusal = message.get("refusal").map_or("", text_of);
            answer.refused |= !refusal.trim().is_empty();
            answer.tool_calls |= items(message, "tool_calls").next().is_some()
                || message.get("function_call").is_some_and(|f| !f.is_null());
            match message.get("content") {
                Some(Value::String(s)) => text.push_str(s),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .for_each(|p| text.push_str(p.get("text").map_or("", text_of))),
                _ => {}
            }
        }
        if let Some(lp) = choice.get("logprobs") {
            answer.add_logprobs(items(lp, "content").filter_map(|t| t.get("logprob")));
            answer.add_logprobs(items(lp, "token_logprobs"));
        }
        answer.texts.push(text);
    }
    Some(answer)
}

fn responses(value: &Value) -> Answer {
    let reason = value
        .get("incomplete_details")
        .and_then(|d| d.get("reason"))
        .and_then(Value::as_str);
    let mut answer = Answer {
        truncated: reason == Some("max_output_tokens"),
        ..Answer::default()
    };
    let mut text = String::new();
    for item in items(value, "output") {
        let kind = item.get("type").map_or("", text_of);
        // `function_call`, `web_search_call`, `mcp_call`, ...
        answer.tool_calls |= kind.ends_with("_call");
        if kind != "message" {
            continue;
        }
        for part in items(item, "content") {
            match part.get("type").map_or("", text_of) {
                "output_text" => text.push_str(part.get("text").map_or("", text_of)),
                "refusal" => answer.refused = true,
                _ => {}
            }
            answer.add_logprobs(items(part, "logprobs").filter_map(|t| t.get("logprob")));
        }
    }
    answer.texts.push(text);
    answer
}

fn anthropic(value: &Value) -> Answer {
    let stop = value.get("stop_reason").and_then(Value::as_str);
    let mut answer = Answer {
        truncated: stop == Some("max_tokens"),
        refused: stop == Some("refusal"),
        ..Answer::default()
    };
    let mut text = String::new();
    for block in items(value, "content") {
        match block.get("type").map_or("", text_of) {
            "text" => text.push_str(block.get("text").map_or("", text_of)),
            "tool_use" | "server_tool_use" => answer.tool_calls = true,
            _ => {}
        }
    }
    answer.texts.push(text);
    answer
}
