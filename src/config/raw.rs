//! The configuration as written (JSON), before validation. Unknown fields are errors so a
//! typo (`"fallback_modle"`) fails loudly instead of silently using a default.

use serde::Deserialize;

use super::ordered_map::OrderedMap;
use crate::names;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub headers: RawHeaders,
    #[serde(default = "default_query_param")]
    pub task_query_param: String,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    pub fallback_model: String,
    /// The "everything on the flagship" model whose prices give each call's counterfactual cost.
    #[serde(default)]
    pub baseline_model: Option<String>,
    /// Add `stream_options.include_usage` to streaming OpenAI requests so usage is reported.
    #[serde(default = "default_true")]
    pub request_stream_usage: bool,
    /// Add the decision response headers (`headers.response_tier`, `headers.response_model`).
    #[serde(default = "default_true")]
    pub decision_headers: bool,
    pub models: Vec<RawModel>,
    pub tiers: Vec<RawTier>,
    #[serde(default)]
    pub tasks: OrderedMap<String>,
    #[serde(default)]
    pub paths: OrderedMap<String>,
    #[serde(default)]
    pub classifier: RawClassifier,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeaders {
    #[serde(default = "default_task_header")]
    pub task: String,
    #[serde(default = "default_cluster_header")]
    pub cluster: String,
    #[serde(default = "default_response_tier_header")]
    pub response_tier: String,
    #[serde(default = "default_response_model_header")]
    pub response_model: String,
}

impl Default for RawHeaders {
    fn default() -> Self {
        RawHeaders {
            task: default_task_header(),
            cluster: default_cluster_header(),
            response_tier: default_response_tier_header(),
            response_model: default_response_model_header(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub name: String,
    pub cluster: String,
    #[serde(default)]
    pub price_per_1m: Option<RawPrice>,
}

/// USD per one million tokens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub input: f64,
    #[serde(default)]
    pub cached_input: Option<f64>,
    pub output: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTier {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub models: Vec<String>,
    /// Cue phrase -> weight.
    #[serde(default)]
    pub cues: OrderedMap<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClassifier {
    #[serde(default = "default_scan_bytes")]
    pub scan_bytes: usize,
    #[serde(default = "default_min_score")]
    pub min_score: f64,
    #[serde(default = "default_min_margin")]
    pub min_margin: f64,
    #[serde(default)]
    pub signals: RawSignals,
}

impl Default for RawClassifier {
    fn default() -> Self {
        RawClassifier {
            scan_bytes: default_scan_bytes(),
            min_score: default_min_score(),
            min_margin: default_min_margin(),
            signals: RawSignals::default(),
        }
    }
}

/// Structural signals; each is off unless configured.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSignals {
    pub small_max_tokens: Option<RawSignal>,
    pub enum_schema: Option<RawSignal>,
    pub reasoning_effort: Option<RawSignal>,
    pub code_fence: Option<RawSignal>,
    pub long_prompt: Option<RawSignal>,
    pub multi_turn: Option<RawSignal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSignal {
    pub tier: String,
    pub weight: f64,
    /// `small_max_tokens`: the largest token cap that still counts as small.
    #[serde(default)]
    pub at_most: Option<u64>,
    /// `long_prompt`: characters of prompt text from which a prompt counts as long.
    #[serde(default)]
    pub min_chars: Option<usize>,
    /// `multi_turn`: conversation turns from which a request counts as multi-turn.
    #[serde(default)]
    pub min_turns: Option<usize>,
}

fn default_task_header() -> String {
    names::DEFAULT_TASK_HEADER.to_string()
}
fn default_cluster_header() -> String {
    names::DEFAULT_CLUSTER_HEADER.to_string()
}
fn default_response_tier_header() -> String {
    names::DEFAULT_RESPONSE_TIER_HEADER.to_string()
}
fn default_response_model_header() -> String {
    names::DEFAULT_RESPONSE_MODEL_HEADER.to_string()
}
fn default_true() -> bool {
    true
}
fn default_query_param() -> String {
    names::DEFAULT_TASK_QUERY_PARAM.to_string()
}
fn default_max_body_bytes() -> usize {
    names::DEFAULT_MAX_BODY_BYTES
}
fn default_scan_bytes() -> usize {
    8 * 1024
}
fn default_min_score() -> f64 {
    2.0
}
fn default_min_margin() -> f64 {
    1.0
}
