//! What the gate reads of a non-streaming answer, for each API shape: the text of each
//! choice, whether it was cut at the token cap, refused by the API's own field, made of tool
//! calls, and its token logprobs. Unknown fields are skipped; only these are kept.

use serde::de::IgnoredAny;
use serde::Deserialize;

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
        match api {
            Some(ApiShape::Responses) => serde_json::from_slice::<ResponsesBody>(body)
                .ok()
                .map(ResponsesBody::answer),
            Some(ApiShape::AnthropicMessages) => serde_json::from_slice::<MessageBody>(body)
                .ok()
                .map(MessageBody::answer),
            // Chat Completions and Completions share `choices`; an unknown path is read as Chat.
            _ => serde_json::from_slice::<ChatBody>(body)
                .ok()
                .map(ChatBody::answer),
        }
    }

    fn add_logprobs(&mut self, values: impl Iterator<Item = f64>) {
        let (mut sum, mut count) = self.logprobs.unwrap_or((0.0, 0));
        for v in values.filter(|v| v.is_finite()) {
            sum += v;
            count += 1;
        }
        if count > 0 {
            self.logprobs = Some((sum, count));
        }
    }
}

#[derive(Deserialize)]
struct ChatBody {
    choices: Vec<ChatChoice>,
}

#[derive(Deserialize)]
struct ChatChoice {
    #[serde(default)]
    message: Option<ChatMessage>,
    /// Completions.
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    logprobs: Option<ChatLogprobs>,
}

#[derive(Deserialize)]
struct ChatMessage {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    function_call: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct ChatLogprobs {
    /// Chat Completions.
    #[serde(default)]
    content: Option<Vec<TokenLogprob>>,
    /// Completions.
    #[serde(default)]
    token_logprobs: Option<Vec<Option<f64>>>,
}

#[derive(Deserialize)]
struct TokenLogprob {
    logprob: f64,
}

impl ChatBody {
    fn answer(self) -> Answer {
        let mut answer = Answer::default();
        for choice in self.choices {
            let finish = choice.finish_reason.as_deref();
            answer.truncated |= finish == Some("length");
            answer.refused |= finish == Some("content_filter");
            let mut text = choice.text.unwrap_or_default();
            if let Some(message) = choice.message {
                answer.refused |= message.refusal.is_some_and(|r| !r.trim().is_empty());
                answer.tool_calls |= message.tool_calls.is_some_and(|t| !t.is_empty())
                    || message.function_call.is_some();
                match message.content {
                    Some(Content::Text(t)) => text.push_str(&t),
                    Some(Content::Parts(parts)) => parts
                        .iter()
                        .for_each(|p| text.push_str(p.text.as_deref().unwrap_or(""))),
                    None => {}
                }
            }
            if let Some(lp) = choice.logprobs {
                let chat = lp.content.into_iter().flatten().map(|t| t.logprob);
                let legacy = lp.token_logprobs.into_iter().flatten().flatten();
                answer.add_logprobs(chat.chain(legacy));
            }
            answer.texts.push(text);
        }
        answer
    }
}

#[derive(Deserialize)]
struct ResponsesBody {
    #[serde(default)]
    output: Vec<OutputItem>,
    #[serde(default)]
    incomplete_details: Option<Incomplete>,
}

#[derive(Deserialize)]
struct OutputItem {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    content: Vec<OutputContent>,
}

#[derive(Deserialize)]
struct OutputContent {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    logprobs: Option<Vec<TokenLogprob>>,
}

#[derive(Deserialize)]
struct Incomplete {
    #[serde(default)]
    reason: Option<String>,
}

impl ResponsesBody {
    fn answer(self) -> Answer {
        let mut answer = Answer {
            truncated: self
                .incomplete_details
                .and_then(|d| d.reason)
                .is_some_and(|r| r == "max_output_tokens"),
            ..Answer::default()
        };
        let mut text = String::new();
        for item in self.output {
            // `function_call`, `web_search_call`, `mcp_call`, ...
            answer.tool_calls |= item.kind.ends_with("_call");
            if item.kind != "message" {
                continue;
            }
            for part in item.content {
                match part.kind.as_str() {
                    "output_text" => text.push_str(part.text.as_deref().unwrap_or("")),
                    "refusal" => answer.refused = true,
                    _ => {}
                }
                answer.add_logprobs(part.logprobs.into_iter().flatten().map(|t| t.logprob));
            }
        }
        answer.texts.push(text);
        answer
    }
}

#[derive(Deserialize)]
struct MessageBody {
    #[serde(default)]
    content: Vec<Block>,
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

impl MessageBody {
    fn answer(self) -> Answer {
        let stop = self.stop_reason.as_deref();
        let mut answer = Answer {
            truncated: stop == Some("max_tokens"),
            refused: stop == Some("refusal"),
            ..Answer::default()
        };
        let mut text = String::new();
        for block in self.content {
            match block.kind.as_str() {
                "text" => text.push_str(block.text.as_deref().unwrap_or("")),
                "tool_use" | "server_tool_use" => answer.tool_calls = true,
                _ => {}
            }
        }
        answer.texts.push(text);
        answer
    }
}
