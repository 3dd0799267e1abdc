//! Every name an operator sees (headers, filter-state keys, metric names, reserved labels),
//! defined once so code, config, docs and tests cannot drift apart.

/// Request header carrying an explicit task (`x-task: classify`).
pub const DEFAULT_TASK_HEADER: &str = "x-task";
/// Request header the filter sets and the route reads with `cluster_header`.
pub const DEFAULT_CLUSTER_HEADER: &str = "x-tier-router-cluster";
/// Query parameter carrying an explicit task (`?task=classify`).
pub const DEFAULT_TASK_QUERY_PARAM: &str = "task";
/// Largest request body the filter buffers to classify and rewrite.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The tier label used when no tier was chosen and the fallback model serves.
pub const FALLBACK_TIER: &str = "fallback";

/// Filter-state keys (Envoy prefixes them with `wasm.`; read with
/// `%FILTER_STATE(wasm.<key>:PLAIN)%`). OpenTelemetry GenAI names where one exists.
pub mod state {
    pub const TIER: &str = "tier_router.tier";
    pub const MODEL: &str = "gen_ai.request.model";
    pub const SOURCE: &str = "tier_router.decision_source";
    pub const CUES: &str = "tier_router.matched_cues";
}

/// Metric names as defined from wasm (Envoy shows them as `wasmcustom.<name>`).
pub mod metric {
    pub const UNTRUSTED_TASK: &str = "tier_router.untrusted_task";
    pub const BODY_TOO_LARGE: &str = "tier_router.body_too_large";
    pub const CONFIG_REJECTED: &str = "tier_router.config_rejected";
}
