//! The LLM API shapes a request can have and a model can serve, named by the request path.

use serde::Deserialize;

/// An API shape: what a request body looks like and which fields it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiShape {
    /// OpenAI Chat Completions, `/v1/chat/completions`.
    ChatCompletions,
    /// OpenAI (legacy) Completions, `/v1/completions`.
    Completions,
    /// OpenAI Responses, `/v1/responses`.
    Responses,
    /// Anthropic Messages, `/v1/messages`.
    AnthropicMessages,
}

impl ApiShape {
    pub const ALL: [ApiShape; 4] = [
        ApiShape::ChatCompletions,
        ApiShape::Completions,
        ApiShape::Responses,
        ApiShape::AnthropicMessages,
    ];

    /// The shape of a request to `path` (query string allowed), by its last segments; `None`
    /// for paths that name none of them.
    pub fn of_path(path: &str) -> Option<ApiShape> {
        let endpoint = endpoint(path);
        if endpoint.ends_with("/chat/completions") {
            Some(ApiShape::ChatCompletions)
        } else if endpoint.ends_with("/completions") {
            Some(ApiShape::Completions)
        } else if endpoint.ends_with("/responses") {
            Some(ApiShape::Responses)
        } else if endpoint.ends_with("/messages") {
            Some(ApiShape::AnthropicMessages)
        } else {
            None
        }
    }

    /// The name used in the config (`apis`).
    pub fn name(self) -> &'static str {
        match self {
            ApiShape::ChatCompletions => "chat_completions",
            ApiShape::Completions => "completions",
            ApiShape::Responses => "responses",
            ApiShape::AnthropicMessages => "anthropic_messages",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of API shapes (what one model serves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApiSet(u8);

impl ApiSet {
    /// The OpenAI shapes: what a model without a profile is assumed to serve.
    pub const OPENAI: ApiSet = ApiSet(0b0111);

    pub fn contains(self, api: ApiShape) -> bool {
        self.0 & api.bit() != 0
    }

    pub fn insert(&mut self, api: ApiShape) {
        self.0 |= api.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The shapes in the set, in [`ApiShape::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = ApiShape> {
        ApiShape::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

/// The path without its query string or a trailing `/`: what names the API endpoint.
pub fn endpoint(path: &str) -> &str {
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    path.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_by_path() {
        assert_eq!(
            ApiShape::of_path("/v1/chat/completions?x=1"),
            Some(ApiShape::ChatCompletions)
        );
        assert_eq!(
            ApiShape::of_path("/openai/v1/completions/"),
            Some(ApiShape::Completions)
        );
        assert_eq!(
            ApiShape::of_path("/v1/responses"),
            Some(ApiShape::Responses)
        );
        assert_eq!(
            ApiShape::of_path("/v1/messages"),
            Some(ApiShape::AnthropicMessages)
        );
        assert_eq!(ApiShape::of_path("/v1/embeddings"), None);
        assert!(ApiSet::OPENAI.contains(ApiShape::Responses));
        assert!(!ApiSet::OPENAI.contains(ApiShape::AnthropicMessages));
    }
}
