//! Rollout lint: a canary split without a configured `hash_key` is keyed per Envoy process,
//! so with several replicas a session may be routed by one and shadowed by another.

use tier_router_core::config::RolloutMode;
use tier_router_core::Config;

use super::Finding;

pub fn lint(config: &Config, findings: &mut Vec<Finding>) {
    let canary = config.rollout.mode == RolloutMode::Route && config.rollout.canary_percent < 100.0;
    if canary && !config.hash_keys.route_configured {
        findings.push(Finding::new(
            "canary-without-key",
            format!(
                "rollout.canary_percent is {} but no hash_key is set: each Envoy process draws \
                 its own random key, so with several replicas a session may be routed by one \
                 and shadowed by another, and a restart moves sessions between sides; set \
                 hash_key to the same 32 hex digits on every replica (openssl rand -hex 16)",
                config.rollout.canary_percent
            ),
        ));
    }
}
