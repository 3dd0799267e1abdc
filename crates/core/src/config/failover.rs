//! `tiers[].failover` and `tiers[].on_tier_down` as written, and their checks: how a request
//! moves to the tier's next model when its model fails, and what happens when every model of
//! the tier is cooling down.

use serde::Deserialize;

use super::bounds::{self, check_range};
use super::ConfigError;

/// Statuses that move a request on by default: rate limited, and the server errors a healthy
/// replica of another model would not give (Envoy's own 503 for a refused connection or a
/// reset, and its 504 for a timeout, included).
pub const DEFAULT_ON_STATUS: [u16; 5] = [429, 500, 502, 503, 504];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailover {
    /// On by default: a tier of more than one model fails over in `models` order.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Attempts per request, the first included.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Milliseconds an attempt may take before its response headers (Envoy's per-try
    /// timeout; a non-streamed answer's headers come with its end); 0: no limit of its own.
    #[serde(default = "default_attempt_timeout_ms")]
    pub attempt_timeout_ms: u64,
    /// Milliseconds a whole failed-over attempt may take (the callout buffers the whole
    /// answer, so this bounds its body too).
    #[serde(default = "default_callout_timeout_ms")]
    pub callout_timeout_ms: u64,
    /// Response statuses that move the request to the next model.
    #[serde(default = "default_on_status")]
    pub on_status: Vec<u16>,
    /// Milliseconds a streamed answer may go without a byte before Envoy cuts it (the
    /// route's `idle_timeout`, rendered per tier); 0: the listener's stream idle timeout.
    #[serde(default)]
    pub stream_idle_timeout_ms: u64,
}

impl Default for RawFailover {
    fn default() -> Self {
        RawFailover {
            enabled: true,
            max_attempts: default_max_attempts(),
            attempt_timeout_ms: default_attempt_timeout_ms(),
            callout_timeout_ms: default_callout_timeout_ms(),
            on_status: default_on_status(),
            stream_idle_timeout_ms: 0,
        }
    }
}

/// What a request gets when every model of its tier is cooling down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierDown {
    /// `fallback_model` serves it.
    #[default]
    Fallback,
    /// A 503 with an OpenAI-shaped error; nothing is sent upstream.
    Error,
}

/// A tier's compiled failover settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failover {
    pub enabled: bool,
    pub max_attempts: u32,
    pub attempt_timeout_ms: u64,
    pub callout_timeout_ms: u64,
    pub on_status: Vec<u16>,
    pub stream_idle_timeout_ms: u64,
}

impl Failover {
    pub fn moves_on(&self, status: u16) -> bool {
        self.enabled && self.on_status.contains(&status)
    }
}

pub(super) fn compile_failover(at: &str, raw: &RawFailover) -> Result<Failover, ConfigError> {
    check_range(
        &format!("{at}.failover.max_attempts"),
        raw.max_attempts,
        1,
        bounds::MAX_ATTEMPTS,
        "attempts per request, the first included",
    )?;
    for (field, value) in [
        ("attempt_timeout_ms", raw.attempt_timeout_ms),
        ("callout_timeout_ms", raw.callout_timeout_ms),
        ("stream_idle_timeout_ms", raw.stream_idle_timeout_ms),
    ] {
        check_range(
            &format!("{at}.failover.{field}"),
            value,
            0,
            bounds::MAX_TIMEOUT_MS,
            "milliseconds",
        )?;
    }
    if raw.callout_timeout_ms == 0 {
        return Err(ConfigError::new(
            format!("{at}.failover.callout_timeout_ms"),
            "must be more than 0: a failed-over attempt without a limit could hold the client forever",
        ));
    }
    for (i, status) in raw.on_status.iter().enumerate() {
        if !(*status == 408 || *status == 429 || (500..600).contains(status)) {
            return Err(ConfigError::new(
                format!("{at}.failover.on_status[{i}]"),
                format!(
                    "{status} cannot move a request on; use 408, 429 or a 5xx status \
                     (a 2xx is an answer, and another model would give the same 4xx)"
                ),
            ));
        }
    }
    Ok(Failover {
        enabled: raw.enabled,
        max_attempts: raw.max_attempts,
        attempt_timeout_ms: raw.attempt_timeout_ms,
        callout_timeout_ms: raw.callout_timeout_ms,
        on_status: raw.on_status.clone(),
        stream_idle_timeout_ms: raw.stream_idle_timeout_ms,
    })
}

fn default_true() -> bool {
    true
}
fn default_max_attempts() -> u32 {
    3
}
fn default_attempt_timeout_ms() -> u64 {
    0
}
fn default_callout_timeout_ms() -> u64 {
    120_000
}
fn default_on_status() -> Vec<u16> {
    DEFAULT_ON_STATUS.to_vec()
}
