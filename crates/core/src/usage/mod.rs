//! Token usage as the upstream reported it (every API's field names), normalised to one
//! shape, or estimated when the upstream reported none.

mod first_token;
mod scan;

pub use first_token::{FirstTokenScanner, MAX_TOKEN};
pub use scan::{UsageScanner, MAX_USAGE_BYTES};

use serde::Deserialize;

/// The union of the usage fields of OpenAI Chat Completions / Completions, Responses and
/// Anthropic Messages. Unknown fields are ignored.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
pub struct RawUsage {
    // OpenAI Chat Completions and Completions.
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<Details>,
    completion_tokens_details: Option<Details>,
    // Responses and Anthropic.
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    input_tokens_details: Option<Details>,
    output_tokens_details: Option<Details>,
    // Anthropic: input_tokens excludes these.
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    /// Anthropic: the cache writes by lifetime (they sum to `cache_creation_input_tokens`).
    cache_creation: Option<CacheCreation>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
struct CacheCreation {
    ephemeral_1h_input_tokens: Option<u64>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
struct Details {
    cached_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
}

/// Usage in one shape. `input_tokens` counts every prompt token, cached ones included;
/// `output_tokens` counts every completion token, reasoning ones included (every API the
/// router knows bills reasoning as output and already counts it in the output total).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    /// Anthropic prompt-cache writes, either lifetime (part of `input_tokens`).
    pub cache_creation_tokens: u64,
    /// Of `cache_creation_tokens`, the writes to the 1-hour cache (billed higher).
    pub cache_creation_1h_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageSource {
    /// Counted by the upstream.
    Reported,
    /// Estimated by the router (see [`estimate`]): a 2xx upstream answer without usage.
    Estimated,
    /// Nothing to bill: the upstream did not serve the request (an error status without
    /// usage, or Envoy's own reply such as a refused connection or a timeout). Zero tokens.
    None,
}

impl UsageSource {
    pub fn as_str(self) -> &'static str {
        match self {
            UsageSource::Reported => "reported",
            UsageSource::Estimated => "estimated",
            UsageSource::None => "none",
        }
    }
}

impl RawUsage {
    /// Field-wise: a field present in `later` replaces this one's.
    pub fn merge(&mut self, later: RawUsage) {
        fn take<T>(slot: &mut Option<T>, later: Option<T>) {
            if later.is_some() {
                *slot = later;
            }
        }
        take(&mut self.prompt_tokens, later.prompt_tokens);
        take(&mut self.completion_tokens, later.completion_tokens);
        take(&mut self.prompt_tokens_details, later.prompt_tokens_details);
        take(
            &mut self.completion_tokens_details,
            later.completion_tokens_details,
        );
        take(&mut self.input_tokens, later.input_tokens);
        take(&mut self.output_tokens, later.output_tokens);
        take(&mut self.input_tokens_details, later.input_tokens_details);
        take(&mut self.output_tokens_details, later.output_tokens_details);
        take(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
        take(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        take(&mut self.cache_creation, later.cache_creation);
    }

    /// Normalised usage, or `None` when no token count was reported.
    pub fn normalize(&self) -> Option<Usage> {
        if let Some(prompt) = self.prompt_tokens {
            return Some(Usage {
                input_tokens: prompt,
                cached_input_tokens: detail(&self.prompt_tokens_details, |d| d.cached_tokens),
                cache_creation_tokens: 0,
                cache_creation_1h_tokens: 0,
                output_tokens: self.completion_tokens.unwrap_or(0),
                reasoning_tokens: detail(&self.completion_tokens_details, |d| d.reasoning_tokens),
            });
        }
        if self.input_tokens.is_none() && self.output_tokens.is_none() {
            return None;
        }
        let cache_read = self.cache_read_input_tokens.unwrap_or(0);
        let cache_write = self.cache_creation_input_tokens.unwrap_or(0);
        let cached =
            cache_read.saturating_add(detail(&self.input_tokens_details, |d| d.cached_tokens));
        Some(Usage {
            // Anthropic's input_tokens excludes cache reads and writes; Responses' includes
            // its cached tokens and has no cache_* fields, so adding them is right for both.
            input_tokens: self
                .input_tokens
                .unwrap_or(0)
                .saturating_add(cache_read)
                .saturating_add(cache_write),
            cached_input_tokens: cached,
            cache_creation_tokens: cache_write,
            cache_creation_1h_tokens: self
                .cache_creation
                .as_ref()
                .and_then(|c| c.ephemeral_1h_input_tokens)
                .unwrap_or(0)
                .min(cache_write),
            output_tokens: self.output_tokens.unwrap_or(0),
            reasoning_tokens: detail(&self.output_tokens_details, |d| d.reasoning_tokens),
        })
    }
}

fn detail(details: &Option<Details>, field: impl Fn(&Details) -> Option<u64>) -> u64 {
    details.as_ref().and_then(field).unwrap_or(0)
}

/// Bytes of text per token in the estimate: the common rule of thumb for English text with
/// BPE tokenizers (OpenAI's documentation gives "about 4 characters per token").
pub const BYTES_PER_TOKEN: u64 = 4;

/// A documented guess for when the upstream reported no usage: input is the prompt text's
/// bytes / 4; output is one token per SSE event for streams (servers send about one token
/// per event) and the response body's bytes / 4 otherwise (which over-counts JSON framing).
pub fn estimate(prompt_bytes: u64, response: &UsageScanner) -> Usage {
    let output = if response.events > 0 {
        response.events
    } else {
        response.bytes.div_ceil(BYTES_PER_TOKEN)
    };
    Usage {
        input_tokens: prompt_bytes.div_ceil(BYTES_PER_TOKEN),
        output_tokens: output,
        ..Usage::default()
    }
}
