//! The configuration as written (JSON), before validation. Unknown fields are errors so a
//! typo (`"fallback_modle"`) fails loudly instead of silently using a default.

use serde::Deserialize;

use super::ordered_map::OrderedMap;
use super::unrewritable::{self, RawPassthrough, Unrewritable};
use crate::api::ApiShape;
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
    /// Hold the headers and read JSON bodies (classification, `model` rewrite). Turn off
    /// where the host cannot hold headers (Istio `WasmPlugin`, Envoy Gateway): the filter
    /// then routes from the headers alone and never pauses.
    #[serde(default = "default_true")]
    pub read_body: bool,
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
    /// How the access-log fields reach Envoy's filter state.
    #[serde(default)]
    pub filter_state: FilterStateLayout,
    pub models: Vec<RawModel>,
    /// Named request adaptations a model can refer to (`models[].profile`).
    #[serde(default)]
    pub profiles: OrderedMap<RawProfile>,
    pub tiers: Vec<RawTier>,
    #[serde(default)]
    pub tasks: OrderedMap<String>,
    #[serde(default)]
    pub paths: OrderedMap<String>,
    /// Who may name a task.
    #[serde(default)]
    pub explicit_tasks: super::trust::RawExplicitTasks,
    #[serde(default)]
    pub classifier: RawClassifier,
    #[serde(default)]
    pub sessions: RawSessions,
    #[serde(default)]
    pub rollout: RawRollout,
    #[serde(default)]
    pub policies: RawPolicyTuning,
    /// SipHash key (32 hex digits) for the canary split, `weighted` picks and exploration.
    /// Unset: a random key per Envoy process, so replicas split differently.
    #[serde(default)]
    pub hash_key: Option<String>,
    /// Path suffixes of the LLM endpoints the router reads and rewrites; others pass through.
    #[serde(default = "unrewritable::default_endpoints")]
    pub endpoints: Vec<String>,
    #[serde(default)]
    pub passthrough: RawPassthrough,
    #[serde(default)]
    pub unrewritable: Unrewritable,
}

/// Session pinning: later turns of a session keep the tier and model of its first decision.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSessions {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_session_header")]
    pub header: String,
    #[serde(default = "default_session_ttl")]
    pub ttl_seconds: u64,
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
    /// SipHash key (32 hex digits) for the pin buckets. Unset: a random key per process.
    #[serde(default)]
    pub hash_key: Option<String>,
}

impl Default for RawSessions {
    fn default() -> Self {
        RawSessions {
            enabled: false,
            header: default_session_header(),
            ttl_seconds: default_session_ttl(),
            max_sessions: default_max_sessions(),
            hash_key: None,
        }
    }
}

/// How the access-log fields are written to filter state. With an access log writing them,
/// both cost the proxy the same within measurement noise (docs/benchmarks.md); `fields`
/// keeps one log key per field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterStateLayout {
    /// One value per field, `wasm.<key>` (about 19 host calls).
    #[default]
    Fields,
    /// One value, `wasm.tier_router`: every field in one JSON object (one host call), for logs
    /// that want the record whole.
    Record,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutMode {
    /// Route every request (subject to `canary_percent`).
    Route,
    /// Decide, log and meter, but forward every request unchanged.
    Shadow,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRollout {
    #[serde(default = "default_mode")]
    pub mode: RolloutMode,
    /// Share of sessions (requests without a session) that are routed; the rest are shadowed.
    #[serde(default = "default_canary_percent")]
    pub canary_percent: f64,
}

impl Default for RawRollout {
    fn default() -> Self {
        RawRollout {
            mode: default_mode(),
            canary_percent: default_canary_percent(),
        }
    }
}

/// Tuning shared by the tier policies.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicyTuning {
    /// Weight of the newest sample in the TTFT moving average.
    #[serde(default = "default_ttft_alpha")]
    pub ttft_alpha: f64,
    /// Samples a model needs before `fastest_ttft` trusts its average.
    #[serde(default = "default_ttft_min_samples")]
    pub ttft_min_samples: u32,
    /// Share of `fastest_ttft` requests sent to an under-sampled model so it can be learned.
    #[serde(default = "default_explore_percent")]
    pub explore_percent: f64,
    /// How long a model that answered 429 or 5xx is skipped by `priority`.
    #[serde(default = "default_unhealthy_seconds")]
    pub unhealthy_seconds: u64,
    /// The longest cool-down an upstream's `Retry-After` may ask for.
    #[serde(default = "default_max_retry_after_seconds")]
    pub max_retry_after_seconds: u64,
    /// Consecutive soft failures (cut streams, stream idle timeouts, unparseable 200s) that
    /// cool a model down; a success clears the count.
    #[serde(default = "default_eject_after_failures")]
    pub eject_after_failures: u32,
}

impl Default for RawPolicyTuning {
    fn default() -> Self {
        RawPolicyTuning {
            ttft_alpha: default_ttft_alpha(),
            ttft_min_samples: default_ttft_min_samples(),
            explore_percent: default_explore_percent(),
            unhealthy_seconds: default_unhealthy_seconds(),
            max_retry_after_seconds: default_max_retry_after_seconds(),
            eject_after_failures: default_eject_after_failures(),
        }
    }
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
    /// Read to hash requests without a session (weighted, exploration, canary).
    #[serde(default = "default_request_id_header")]
    pub request_id: String,
}

impl Default for RawHeaders {
    fn default() -> Self {
        RawHeaders {
            task: default_task_header(),
            cluster: default_cluster_header(),
            response_tier: default_response_tier_header(),
            response_model: default_response_model_header(),
            request_id: default_request_id_header(),
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
    /// A key of `profiles`: which APIs the model serves and how requests are adapted to it.
    #[serde(default)]
    pub profile: Option<String>,
}

/// How a request is adapted to the model it is sent to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    /// The API shapes the model serves; default: the OpenAI ones.
    #[serde(default)]
    pub apis: Option<Vec<ApiShape>>,
    /// The Chat Completions field that caps completion tokens for this model; the other one is
    /// renamed to it. Default: either is sent as the client wrote it.
    #[serde(default)]
    pub completion_cap: Option<CapField>,
    /// Top-level request fields the model refuses: removed before the request is sent.
    #[serde(default)]
    pub drop: Vec<String>,
}

/// The two names of the Chat Completions completion-token cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapField {
    MaxTokens,
    MaxCompletionTokens,
}

impl CapField {
    pub fn name(self) -> &'static str {
        match self {
            CapField::MaxTokens => "max_tokens",
            CapField::MaxCompletionTokens => "max_completion_tokens",
        }
    }

    /// The other name, which this one replaces.
    pub fn other(self) -> CapField {
        match self {
            CapField::MaxTokens => CapField::MaxCompletionTokens,
            CapField::MaxCompletionTokens => CapField::MaxTokens,
        }
    }
}

/// USD per one million tokens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub input: f64,
    #[serde(default)]
    pub cached_input: Option<f64>,
    /// Prompt-cache writes (Anthropic's 5-minute cache); default: `input`.
    #[serde(default)]
    pub cache_write: Option<f64>,
    /// Prompt-cache writes to Anthropic's 1-hour cache; default: `cache_write`.
    #[serde(default)]
    pub cache_write_1h: Option<f64>,
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
    /// How the tier picks among its models.
    #[serde(default = "default_policy")]
    pub policy: PolicyKind,
    /// `weighted`: model -> percent.
    #[serde(default)]
    pub weights: OrderedMap<f64>,
    /// `cheapest`: completion tokens assumed when the request sets no cap.
    #[serde(default = "default_expected_output_tokens")]
    pub expected_output_tokens: u64,
    /// Completion-token floor for reasoning models, which spend tokens before they answer.
    #[serde(default)]
    pub token_floor: Option<RawTokenFloor>,
    /// `cascade`: the confidence gate.
    #[serde(default)]
    pub cascade: Option<super::cascade::RawCascade>,
    /// Moving to the tier's next model when the chosen one fails.
    #[serde(default)]
    pub failover: super::failover::RawFailover,
    /// Every model of the tier cooling down: `fallback` (the fallback model) or `error` (503).
    #[serde(default)]
    pub on_tier_down: super::failover::TierDown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// The first healthy model in the listed order.
    Priority,
    /// The lowest expected cost for this request's size.
    Cheapest,
    /// The lowest moving-average TTFT, learned from live traffic.
    FastestTtft,
    /// Percentages from `weights`.
    Weighted,
    /// The first model answers; a confidence gate escalates to the next (`cascade/`).
    Cascade,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokenFloor {
    /// Raise the client's completion-token cap to at least this.
    pub min: u64,
    /// Also set the cap when the client sent none.
    #[serde(default)]
    pub add_when_absent: bool,
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
    /// The learned model (`config/classifier_model.rs`).
    #[serde(default)]
    pub model: super::classifier_model::RawClassifierModel,
}

impl Default for RawClassifier {
    fn default() -> Self {
        RawClassifier {
            scan_bytes: default_scan_bytes(),
            min_score: default_min_score(),
            min_margin: default_min_margin(),
            signals: RawSignals::default(),
            model: Default::default(),
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
fn default_request_id_header() -> String {
    "x-request-id".to_string()
}
fn default_session_header() -> String {
    names::DEFAULT_SESSION_HEADER.to_string()
}
fn default_session_ttl() -> u64 {
    30 * 60
}
fn default_max_sessions() -> usize {
    100_000
}
fn default_mode() -> RolloutMode {
    RolloutMode::Route
}
fn default_canary_percent() -> f64 {
    100.0
}
fn default_ttft_alpha() -> f64 {
    0.2
}
fn default_ttft_min_samples() -> u32 {
    5
}
fn default_explore_percent() -> f64 {
    10.0
}
fn default_unhealthy_seconds() -> u64 {
    30
}
fn default_max_retry_after_seconds() -> u64 {
    300
}
fn default_eject_after_failures() -> u32 {
    3
}
fn default_policy() -> PolicyKind {
    PolicyKind::Priority
}
fn default_expected_output_tokens() -> u64 {
    256
}
