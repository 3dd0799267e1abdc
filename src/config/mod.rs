//! The validated, compiled configuration. Parsing and every check happen once, at configure
//! time; the request path only reads this.

mod compile;
mod error;
mod ordered_map;
mod raw;

pub use error::ConfigError;
pub use ordered_map::OrderedMap;

use crate::classify::Classifier;

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
    pub models: Vec<Model>,
    pub tiers: Vec<Tier>,
    pub fallback_model: ModelId,
    pub baseline_model: Option<ModelId>,
    pub request_stream_usage: bool,
    pub decision_headers: bool,
    /// Task value (lowercase) -> tier; tier names are included.
    pub tasks: Vec<(String, TierId)>,
    /// Path prefix -> tier, longest prefix first.
    pub paths: Vec<(String, TierId)>,
    pub classifier: Classifier,
}

#[derive(Debug, Clone)]
pub struct Headers {
    pub task: String,
    pub cluster: String,
    pub response_tier: String,
    pub response_model: String,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub cluster: String,
    pub price: Option<Price>,
}

/// USD per one million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub cached_input: f64,
    pub output: f64,
}

#[derive(Debug, Clone)]
pub struct Tier {
    pub name: String,
    pub description: String,
    /// Candidates in the order written; the first one serves.
    pub models: Vec<ModelId>,
}

impl Config {
    /// Parses and validates a JSON configuration (the filter's `configuration`, Istio's
    /// `pluginConfig`, the CLI's `--config`).
    pub fn from_json(json: &[u8]) -> Result<Config, ConfigError> {
        compile::compile(json)
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

    pub fn tier_id(&self, name: &str) -> Option<TierId> {
        self.tiers.iter().position(|t| t.name == name).map(TierId)
    }
}
