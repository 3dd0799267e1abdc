//! One lint finding: a stable kind (for grepping and docs) and a message that names the
//! tiers, cues or models involved and says what to change.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `cue-in-two-tiers`, `cue-overlap`, `topic-cues`, `cues-cannot-win`, `reasoning-floor`,
    /// `unreachable-tier`, `unpriced-model`, `cache-writes-at-input`, `unused-model`, `no-baseline`, `trust-everyone`, `missing-cluster`,
    /// `canary-without-key`, `model-off`, `model-tiers`, `model-size`.
    pub kind: &'static str,
    pub message: String,
}

impl Finding {
    pub fn new(kind: &'static str, message: String) -> Finding {
        Finding { kind, message }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning[{}]: {}", self.kind, self.message)
    }
}
