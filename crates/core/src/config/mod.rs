//! The validated, compiled configuration. Parsing and every check happen once, at configure
//! time; the request path only reads this.

pub mod bounds;
mod cascade;
mod classifier;
mod classifier_model;
pub use classifier_model::DEFAULT_MIN_CONFIDENCE;
mod compile;
mod error;
mod failover;
mod json_path;
mod ordered_map;
mod profiles;
mod raw;
mod trust;
mod unrewritable;

pub use error::ConfigError;
pub use failover::{Failover, TierDown, DEFAULT_ON_STATUS};
pub use ordered_map::OrderedMap;
pub use raw::{CapField, FilterStateLayout, PolicyKind, RolloutMode};
pub use unrewritable::{Bypass, Outcome, Unrewritable};

use crate::api::{ApiSet, ApiShape};
use crate::classify::Classifier;
use crate::hash::HashKey;
use crate::trust::TrustedCallers;

/// Index into [`Config::models`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelId(pub usize);

/// Index into [`Config::tiers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TierId(pub usize);

#[derive(Debug)]
pub struct Config {
    pub headers: Headers,
    pub task_query_param: String,
    pub max_body_bytes: usize,
    pub read_body: bool,
    pub models: Vec<Model>,
    /// Every field some profile drops: the parser records their spans.
    pub dropped_fields: Vec<String>,
    pub tiers: Vec<Tier>,
    pub fallback_model: ModelId,
    pub baseline_model: Option<ModelId>,
    pub request_stream_usage: bool,
    pub decision_headers: bool,
    pub filter_state: FilterStateLayout,
    /// Task value (lowercase) -> tier; tier names are included.
    pub tasks: Vec<(String, TierId)>,
    /// Path prefix -> tier, longest prefix first.
    pub paths: Vec<(String, TierId)>,
    /// Who may name a task (`explicit_tasks.trusted`); `None`: every caller.
    pub trusted_callers: Option<TrustedCallers>,
    pub classifier: Classifier,
    /// `None` when session pinning is off.
    pub sessions: Option<Sessions>,
    pub rollout: Rollout,
    pub tuning: PolicyTuning,
    /// Endpoints the router rewrites, and what happens to the requests it does not rewrite.
    pub bypass: Bypass,
    /// A hash of the configuration text: state kept under another config is ignored.
    pub fingerprint: u64,
    pub hash_keys: HashKeys,
}

/// The SipHash keys of the request hashes. A key not configured is the process key the
/// adapter supplies ([`Config::use_process_key`]); until then, all zeros (CLI, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct HashKeys {
    /// Canary split, `weighted` picks, `fastest_ttft` exploration (`hash_key`).
    pub route: HashKey,
    /// Session pin buckets (`sessions.hash_key`).
    pub pins: HashKey,
    pub route_configured: bool,
    pub pins_configured: bool,
}

#[derive(Debug, Clone)]
pub struct Sessions {
    pub header: String,
    pub ttl_seconds: u64,
    pub max_sessions: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct Rollout {
    pub mode: RolloutMode,
    pub canary_percent: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct PolicyTuning {
    pub ttft_alpha: f64,
    pub ttft_min_samples: u32,
    pub explore_percent: f64,
    pub unhealthy_seconds: u64,
    pub max_retry_after_seconds: u64,
    pub eject_after_failures: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenFloor {
    pub min: u64,
    pub add_when_absent: bool,
}

#[derive(Debug, Clone)]
pub struct Headers {
    pub task: String,
    pub cluster: String,
    pub response_tier: String,
    pub response_model: String,
    pub request_id: String,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub cluster: String,
    pub price: Option<Price>,
    pub profile: Profile,
}

/// How requests are adapted to a model (config `profiles`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The API shapes the model serves.
    pub apis: ApiSet,
    /// The Chat Completions cap field the model takes, if only one.
    pub completion_cap: Option<CapField>,
    /// Indices into [`Config::dropped_fields`] of the fields removed for this model.
    pub drop: Vec<usize>,
}

impl Default for Profile {
    /// A model without a profile: the OpenAI APIs, requests sent as written.
    fn default() -> Self {
        Profile {
            apis: ApiSet::OPENAI,
            completion_cap: None,
            drop: Vec::new(),
        }
    }
}

/// USD per one million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub cached_input: f64,
    /// Prompt-cache writes with the default (5-minute) lifetime.
    pub cache_write: f64,
    /// Prompt-cache writes with the 1-hour lifetime.
    pub cache_write_1h: f64,
    pub output: f64,
}

#[derive(Debug)]
pub struct Tier {
    pub name: String,
    pub description: String,
    /// Candidates in the order written.
    pub models: Vec<ModelId>,
    pub policy: PolicyKind,
    /// `weighted`: (model, percent), in `models` order.
    pub weights: Vec<(ModelId, f64)>,
    pub expected_output_tokens: u64,
    pub token_floor: Option<TokenFloor>,
    /// `cascade`: the confidence gate (`None` under other policies).
    pub cascade: Option<crate::cascade::Gate>,
    pub failover: Failover,
    pub on_tier_down: TierDown,
}

impl Config {
    /// Parses and validates a JSON configuration (the filter's `configuration`, Istio's
    /// `pluginConfig`, the CLI's `--config`).
    pub fn from_json(json: &[u8]) -> Result<Config, ConfigError> {
        compile::compile(json)
    }

    /// Keys every hash the config does not key itself with `key`: a random key shared by the
    /// worker VMs of one Envoy process (see `crate::hash::shared_process_key`).
    pub fn use_process_key(&mut self, key: HashKey) {
        if !self.hash_keys.route_configured {
            self.hash_keys.route = key;
        }
        if !self.hash_keys.pins_configured {
            self.hash_keys.pins = key;
        }
    }

    pub fn model(&self, id: ModelId) -> &Model {
        // Ids are only made by `compile` from indices of `models`, so this is in bounds.
        &self.models[id.0]
    }

    pub fn tier(&self, id: TierId) -> &Tier {
        &self.tiers[id.0]
    }

    pub fn model_id(&self, name: &str) -> Option<ModelId> {
        self.models.iter().position(|m| m.name == name).map(ModelId)
    }

    /// Whether `model` serves requests of shape `api` (`None`: a path of no known shape).
    pub fn speaks(&self, model: ModelId, api: Option<ApiShape>) -> bool {
        api.is_none_or(|api| self.model(model).profile.apis.contains(api))
    }

    pub fn tier_id(&self, name: &str) -> Option<TierId> {
        self.tiers.iter().position(|t| t.name == name).map(TierId)
    }
}
