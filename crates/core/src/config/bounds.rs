//! Upper (and lower) bounds of every number in the configuration, in one place: the
//! validation in `compile.rs` checks them, the docs list them (README, config reference), and
//! the fuzz targets assert that a valid config stays within them. A bound sits far above
//! any sensible setting and below where a number would overflow, exhaust memory or mean a
//! typo (a price per token written as a price per 1M tokens, seconds written as ms).

use std::fmt::Display;

use super::ConfigError;

/// `max_body_bytes`: the filter holds the whole body in the VM's memory to rewrite it.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// `classifier.scan_bytes`.
pub const MIN_SCAN_BYTES: usize = 64;
pub const MAX_SCAN_BYTES: usize = 1024 * 1024;
/// Cue and signal weights, either sign.
pub const MAX_WEIGHT: f64 = 1_000.0;
/// `classifier.min_score`, `classifier.min_margin`: sums of weights.
pub const MAX_SCORE: f64 = 1_000_000.0;
/// Token counts: `expected_output_tokens`, `token_floor.min`, `signals.small_max_tokens.at_most`.
pub const MAX_TOKENS: u64 = 1_000_000;
/// `signals.multi_turn.min_turns`.
pub const MAX_TURNS: usize = 100_000;
/// USD per 1M tokens (`price_per_1m.*`).
pub const MAX_PRICE: f64 = 10_000.0;
/// A `weighted` tier's per-model percentage.
pub const MAX_PERCENT: f64 = 100.0;
/// `sessions.ttl_seconds`: a week.
pub const MAX_SESSION_TTL_SECONDS: u64 = 7 * 24 * 3600;
/// `sessions.max_sessions`: 16 bytes a slot, so at most 160 MB of shared data.
pub const MIN_SESSIONS: usize = 4;
pub const MAX_SESSIONS: usize = 10_000_000;
/// `policies.ttft_min_samples`.
pub const MAX_TTFT_MIN_SAMPLES: u32 = 1_000_000;
/// `policies.unhealthy_seconds`: an hour.
pub const MAX_UNHEALTHY_SECONDS: u64 = 3600;
/// `tiers[].failover.max_attempts`.
pub const MAX_ATTEMPTS: u32 = 8;
/// `tiers[].failover.*_timeout_ms`: an hour.
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;
/// `policies.eject_after_failures`.
pub const MAX_EJECT_AFTER_FAILURES: u32 = 1_000;

/// `value` must be within `min..=max`; the error names the field, the range and `hint`.
pub fn check_range<T: PartialOrd + Display + Copy>(
    field: &str,
    value: T,
    min: T,
    max: T,
    hint: &str,
) -> Result<(), ConfigError> {
    // Written so that NaN fails too.
    if value >= min && value <= max {
        return Ok(());
    }
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!(" ({hint})")
    };
    Err(ConfigError::new(
        field,
        format!("{value} is out of range; use {min} to {max}{hint}"),
    ))
}
