//! Every name an operator sees (headers, filter-state keys, metric names, reserved labels),
//! defined once so code, config, docs and tests cannot drift apart.

/// Request header carrying an explicit task (`x-task: classify`).
pub const DEFAULT_TASK_HEADER: &str = "x-task";
/// Request header the filter sets and the route reads with `cluster_header`.
pub const DEFAULT_CLUSTER_HEADER: &str = "x-tier-router-cluster";
/// Response headers telling the client where its request went.
pub const DEFAULT_RESPONSE_TIER_HEADER: &str = "x-tier-router-tier";
pub const DEFAULT_RESPONSE_MODEL_HEADER: &str = "x-tier-router-model";
/// Request header naming a session, whose later turns keep their first decision.
pub const DEFAULT_SESSION_HEADER: &str = "x-session-id";
/// Query parameter carrying an explicit task (`?task=classify`).
pub const DEFAULT_TASK_QUERY_PARAM: &str = "task";
/// Largest request body the filter buffers to classify and rewrite.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The tier label used when no tier was chosen and the fallback model serves.
pub const FALLBACK_TIER: &str = "fallback";
/// The tier label of a request the router did not rewrite (config `endpoints`, `unrewritable`).
pub const PASSTHROUGH_TIER: &str = "passthrough";
/// The LLM endpoints (path suffixes) the router reads and rewrites by default: OpenAI Chat
/// Completions, Completions, Responses and Anthropic Messages.
pub const DEFAULT_ENDPOINTS: [&str; 4] = [
    "/chat/completions",
    "/completions",
    "/responses",
    "/messages",
];
/// Request header naming the tier whose rendered route (`envoy/render.py`) carries the tier's
/// `failover.stream_idle_timeout_ms`; removed by the route, and before routing if a client
/// sends it.
pub const ROUTE_TIER_HEADER: &str = "x-tier-router-route";
/// Envoy's per-try timeout (time to the response headers) and total timeout overrides, which
/// its router reads from the request (and removes).
pub const PER_TRY_TIMEOUT_HEADER: &str = "x-envoy-upstream-rq-per-try-timeout-ms";
pub const TOTAL_TIMEOUT_HEADER: &str = "x-envoy-upstream-rq-timeout-ms";
/// Request header that makes a `test-trap` build of the filter trap (never in a shipped build).
pub const TEST_TRAP_HEADER: &str = "x-tier-router-test-trap";

/// Shared-data key of the process's random SipHash key (used where the config sets none).
pub const PROCESS_HASH_KEY: &str = "tier_router.hash_key";

/// The access-log fields' names, OpenTelemetry GenAI names where one exists. By default each
/// is its own filter-state value (Envoy prefixes `wasm.`: `%FILTER_STATE(wasm.<key>:PLAIN)%`);
/// with `"filter_state": "record"` they travel as one JSON object in [`state::RECORD`]
/// (`%FILTER_STATE(wasm.tier_router:PLAIN)%`).
pub mod state {
    /// The record's filter-state value (Envoy names it `wasm.tier_router`).
    pub const RECORD: &str = "tier_router";
    pub const TIER: &str = "tier_router.tier";
    pub const MODEL: &str = "gen_ai.request.model";
    pub const SOURCE: &str = "tier_router.decision_source";
    pub const CUES: &str = "tier_router.matched_cues";
    /// An explicit task that was ignored, `<source>:<reason>` (`header:caller_not_trusted`).
    pub const UNTRUSTED_TASK: &str = "tier_router.untrusted_task";
    pub const INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    pub const OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    pub const CACHED_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
    pub const CACHE_CREATION_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
    pub const REASONING_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
    /// `reported`, `estimated` (a 2xx answer without usage) or `none` (not served: no cost).
    pub const USAGE_SOURCE: &str = "tier_router.usage_source";
    pub const COST_USD: &str = "tier_router.cost_usd";
    pub const BASELINE_COST_USD: &str = "tier_router.baseline_cost_usd";
    /// To the first content token; `TTFB_MS` to the first response byte.
    pub const TTFT_MS: &str = "tier_router.ttft_ms";
    pub const TTFB_MS: &str = "tier_router.ttfb_ms";
    pub const LATENCY_MS: &str = "tier_router.latency_ms";
    /// The upstream's own status; absent when Envoy or a filter answered.
    pub const UPSTREAM_STATUS: &str = "tier_router.upstream_status";
    pub const POLICY: &str = "tier_router.policy";
    pub const CANDIDATES: &str = "tier_router.candidates";
    pub const FLOOR_APPLIED: &str = "tier_router.floor_applied";
    /// The owned edits made to the body, comma-separated
    /// (`model,stream_options,max_tokens->max_completion_tokens,drop:temperature,floor`).
    pub const EDITS: &str = "tier_router.edits";
    /// Set when the decided model does not serve the request's API shape: `fallback_model`,
    /// `first_compatible`, or `none` (no model does; the body was not rewritten).
    pub const SHAPE_FALLBACK: &str = "tier_router.shape_fallback";
    pub const SHADOW: &str = "tier_router.shadow";
    pub const CANARY: &str = "tier_router.canary";
    /// `true` when the body the upstream received carries the router's decision.
    pub const REWRITTEN: &str = "tier_router.rewritten";
    /// Why the body was not rewritten (`endpoint`, `too_large`, `encoded`, ...).
    pub const PASS_REASON: &str = "tier_router.pass_reason";
    /// `true` when the router answered with an error and sent nothing upstream.
    pub const REJECTED: &str = "tier_router.rejected";
    /// The model whose price gave `cost_usd`, or `unpriced`.
    pub const PRICED_AS: &str = "tier_router.priced_as";
    /// The client's `model`, which the upstream received, on a line whose
    /// `gen_ai.request.model` is a decision that was not served (shadow).
    pub const SENT_MODEL: &str = "tier_router.sent_model";
    /// A cascade tier's gate on the answer served: `pass`, `fail:<reason>` (served because
    /// no escalation was left) or `skipped_stream`.
    pub const CASCADE: &str = "tier_router.cascade";
    /// `true` when a cascade served a later model's answer (read by `tier-router report`).
    pub const ESCALATED: &str = "tier_router.escalated";
    /// Why each escalation happened, in order (`length,upstream_error`).
    pub const ESCALATION_REASONS: &str = "tier_router.escalation_reasons";
    /// Every call made for the request, as a JSON array of `{model, status, outcome,
    /// latency_ms, cost_usd}`.
    pub const ATTEMPTS: &str = "tier_router.attempts";
    /// How many times the request moved to another model (`0`: served by its first).
    pub const FAILOVER: &str = "tier_router.failover";
    /// `false` when the answer was cut before its end (the stream was reset or idle too
    /// long): the status logged is what the client got first, not a finished answer.
    pub const RESPONSE_COMPLETE: &str = "tier_router.response_complete";
    /// `true` when every model of the tier was cooling down (`on_tier_down` applied).
    pub const TIER_DOWN: &str = "tier_router.tier_down";
}

/// The Envoy attributes the adapter reads (`get_property` paths), from Envoy's attribute
/// reference (arch_overview/advanced/attributes).
pub mod attribute {
    /// The first URI SAN of the downstream peer certificate (Istio's SPIFFE identity).
    pub const PEER_URI_SAN: &[&str] = &["connection", "uri_san_peer_certificate"];
    /// The first DNS SAN of the downstream peer certificate.
    pub const PEER_DNS_SAN: &[&str] = &["connection", "dns_san_peer_certificate"];
    /// The downstream remote address, `ip:port`.
    pub const SOURCE_ADDRESS: &[&str] = &["source", "address"];
    /// Why the response has its status; [`VIA_UPSTREAM`] when the upstream sent it.
    pub const CODE_DETAILS: &[&str] = &["response", "code_details"];
    pub const VIA_UPSTREAM: &str = "via_upstream";
}

/// `tier_router.priced_as` of a request no configured price applies to.
pub const UNPRICED: &str = "unpriced";

/// Metric names as defined from wasm (Envoy shows them as `wasmcustom.<name>`;
/// `/stats/prometheus` as `tier_router_<metric>` with the `stats_tags` of `envoy/envoy.yaml`
/// turning `.source.<s>`, `.status_class.<c>`, `.tier.<t>`, `.model.<m>` and `.reason.<r>`
/// into labels).
pub mod metric {
    pub const PREFIX: &str = "tier_router";
    // Per tier and model.
    pub const REQUESTS: &str = "requests_total";
    pub const INPUT_TOKENS: &str = "input_tokens_total";
    pub const OUTPUT_TOKENS: &str = "output_tokens_total";
    pub const COST: &str = "cost_micro_usd_total";
    pub const BASELINE_COST: &str = "baseline_cost_micro_usd_total";
    pub const TTFT_MS: &str = "ttft_ms";
    pub const LATENCY_MS: &str = "latency_ms";
    // Per status class (of the response the client got), tier and model.
    pub const RESPONSES: &str = "responses_total";
    // Per source and tier.
    pub const DECISIONS: &str = "decisions_total";
    // Per reason (`unknown_task`, `caller_not_trusted`).
    pub const UNTRUSTED_TASK: &str = "untrusted_task_total";
    // Without labels.
    pub const FALLBACKS: &str = "fallbacks_total";
    // Per reason (`.reason.<r>`): requests not rewritten, and those rejected.
    pub const PASSTHROUGH: &str = "passthrough_total";
    pub const REJECTED: &str = "rejected_total";
    // Per reason, tier and model (the model escalated from).
    pub const ESCALATIONS: &str = "escalations_total";
    // Per reason, tier and the model the request left.
    pub const FAILOVERS: &str = "failovers_total";

    /// `tier_router.<metric>[.source.<s>].tier.<t>[.model.<m>]`. Dots in a model name
    /// (`gpt-4.1-mini`) would split the label, so they become `_`.
    pub fn labelled(metric: &str, source: Option<&str>, tier: &str, model: Option<&str>) -> String {
        let mut name = format!("{PREFIX}.{metric}");
        if let Some(source) = source {
            name.push_str(".source.");
            name.push_str(source);
        }
        name.push_str(".tier.");
        name.push_str(tier);
        if let Some(model) = model {
            name.push_str(".model.");
            name.push_str(&model.replace('.', "_"));
        }
        name
    }

    /// `tier_router.<metric>.status_class.<c>.tier.<t>.model.<m>`.
    pub fn by_status_class(metric: &str, class: &str, tier: &str, model: &str) -> String {
        labelled(
            &format!("{metric}.status_class.{class}"),
            None,
            tier,
            Some(model),
        )
    }

    /// `tier_router.<metric>.reason.<r>.tier.<t>.model.<m>`.
    pub fn by_reason_pair(metric: &str, reason: &str, tier: &str, model: &str) -> String {
        labelled(
            &format!("{metric}.reason.{reason}"),
            None,
            tier,
            Some(model),
        )
    }

    /// `tier_router.<metric>.reason.<r>`.
    pub fn by_reason(metric: &str, reason: &str) -> String {
        format!("{PREFIX}.{metric}.reason.{reason}")
    }

    /// `tier_router.<metric>.reason.<r>.tier.<t>.model.<m>`.
    pub fn by_reason_tier_model(metric: &str, reason: &str, tier: &str, model: &str) -> String {
        labelled(
            &format!("{metric}.reason.{reason}"),
            None,
            tier,
            Some(model),
        )
    }

    pub fn plain(metric: &str) -> String {
        format!("{PREFIX}.{metric}")
    }
}
