//! What a cascade request leaves in the log: every attempt (model, status, why it moved on,
//! latency, cost), the escalation reasons, the gate's verdict on the answer served, and the
//! cost of all attempts added up into `tier_router.cost_usd`.

use super::{Mode, Reason, Verdict};
use crate::account::{millis, record_json_array, Account, Reply, Timing};
use crate::config::{Config, ModelId};
use crate::cost;
use crate::decide::Decision;
use crate::names::state;
use crate::usage::UsageScanner;

/// One call made for a cascade request.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub model: ModelId,
    pub reply: Reply,
    /// Why the cascade moved on from this answer; `None` for the answer served.
    pub escalated: Option<Reason>,
    pub latency_us: u64,
    /// `None` when the model has no price.
    pub cost_micro_usd: Option<u64>,
}

impl Config {
    /// An answer the cascade did not serve, accounted as a call of its own: billed like any
    /// response (reported usage, else an estimate for a 2xx; a failure costs only what the
    /// upstream reported). `decision` is the one that attempt carried out.
    pub fn escalated_attempt(
        &self,
        decision: &Decision,
        usage: &UsageScanner,
        timing: Timing,
        reply: Reply,
        reason: Reason,
    ) -> (Attempt, Account) {
        let account = self.account(decision, usage, timing, reply);
        let attempt = Attempt {
            model: decision.model,
            reply,
            escalated: Some(reason),
            latency_us: timing.latency_us().unwrap_or(0),
            cost_micro_usd: account.cost_micro_usd,
        };
        (attempt, account)
    }

    /// The cascade's log fields. `account` is the served answer's: its cost becomes the sum
    /// over every attempt (`None` only when no attempt had a price).
    pub fn cascade_fields(
        &self,
        mode: Mode,
        earlier: &[Attempt],
        served: &Decision,
        account: &mut Account,
        verdict: Option<Verdict>,
    ) -> Vec<(&'static str, String)> {
        let served_attempt = Attempt {
            model: served.model,
            reply: account.reply,
            escalated: None,
            latency_us: account.timing.latency_us().unwrap_or(0),
            cost_micro_usd: account.cost_micro_usd,
        };
        let costs = earlier
            .iter()
            .chain([&served_attempt])
            .map(|a| a.cost_micro_usd);
        account.cost_micro_usd = costs.fold(None, |sum, c| match (sum, c) {
            (None, c) => c,
            (s, None) => s,
            (Some(s), Some(c)) => Some(s.saturating_add(c)),
        });
        let gate = match (mode, verdict) {
            (Mode::SkippedStream, _) => mode.as_str().to_string(),
            (Mode::Gated, Some(Verdict::Escalate(reason))) => format!("fail:{}", reason.as_str()),
            (Mode::Gated, _) => "pass".to_string(),
        };
        let mut fields = vec![
            (state::CASCADE, gate),
            // A later model's answer was served (not the first's, held when all later failed).
            (
                state::ESCALATED,
                (served.candidates.first() != Some(&served.model)).to_string(),
            ),
        ];
        if !earlier.is_empty() {
            let reasons: Vec<&str> = earlier
                .iter()
                .filter_map(|a| a.escalated.map(Reason::as_str))
                .collect();
            fields.push((state::ESCALATION_REASONS, reasons.join(",")));
        }
        let attempts: Vec<String> = earlier
            .iter()
            .chain([&served_attempt])
            .map(|a| self.attempt_json(a))
            .collect();
        fields.push((state::ATTEMPTS, record_json_array(&attempts)));
        fields
    }

    fn attempt_json(&self, a: &Attempt) -> String {
        let status = a.reply.status.map_or("none".to_string(), |s| {
            if a.reply.from_upstream {
                s.to_string()
            } else {
                format!("{s} (envoy)")
            }
        });
        let outcome = a.escalated.map_or("served".to_string(), |r| {
            format!("escalated:{}", r.as_str())
        });
        let mut fields = vec![
            ("model", self.model(a.model).name.clone()),
            ("status", status),
            ("outcome", outcome),
            ("latency_ms", millis(a.latency_us)),
        ];
        if let Some(c) = a.cost_micro_usd {
            fields.push(("cost_usd", cost::usd(c)));
        }
        crate::account::record_json(&fields)
    }
}
