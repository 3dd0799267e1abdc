//! What the filter does next with a cascade request: whether the gate applies at all, and
//! after each answer whether to serve it or to move to the next model (bounded by
//! `max_escalations`), with the body edited for that model.

use super::{AnswerContract, Gate, Reason, Verdict};
use crate::body::RequestBody;
use crate::config::{Config, ModelId, PolicyKind};
use crate::decide::Decision;

/// How a cascade request is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Non-streaming: each answer is held and checked.
    Gated,
    /// Streaming: the first model's stream goes to the client unchecked
    /// (`tier_router.cascade: skipped_stream`).
    SkippedStream,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Gated => "gated",
            Mode::SkippedStream => "skipped_stream",
        }
    }
}

/// What follows one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send this answer to the client. `verdict` is the gate's: `Escalate` when no escalation
    /// is left (the last model's answer, or `max_escalations` reached), served all the same.
    Serve { verdict: Option<Verdict> },
    /// Ask `to` instead, because of `reason`.
    Escalate { reason: Reason, to: ModelId },
}

impl Config {
    /// The gate of a served decision's cascade tier.
    pub fn cascade_gate(&self, decision: &Decision) -> Option<&Gate> {
        let tier = self.tier(decision.tier?);
        if tier.policy != PolicyKind::Cascade || !decision.is_served() || decision.is_passthrough()
        {
            return None;
        }
        tier.cascade.as_ref()
    }

    /// `None` outside a served cascade decision.
    pub fn cascade_mode(&self, decision: &Decision) -> Option<Mode> {
        self.cascade_gate(decision)?;
        Some(if decision.stream {
            Mode::SkippedStream
        } else {
            Mode::Gated
        })
    }

    /// After the answer of the attempt that followed `escalations` escalations (0: the first
    /// model's), with `status` (`None`: no response) and `body`: serve it, or escalate.
    pub fn cascade_step(
        &self,
        decision: &Decision,
        escalations: usize,
        contract: &AnswerContract,
        status: Option<u16>,
        body: &[u8],
    ) -> Step {
        let Some(gate) = self.cascade_gate(decision) else {
            return Step::Serve { verdict: None };
        };
        let verdict = match status {
            Some(s) if (200..300).contains(&s) => gate.check(decision.api, contract, body),
            _ => Verdict::Escalate(Reason::UpstreamError),
        };
        let next = self.cascade_next(decision);
        match (verdict, next) {
            (Verdict::Escalate(reason), Some(to)) if escalations < gate.max_escalations => {
                Step::Escalate { reason, to }
            }
            _ => Step::Serve {
                verdict: Some(verdict),
            },
        }
    }

    /// The escalation order: the tier's models that serve the request's API, in `models`
    /// order (a session's pinned turn, which has no candidates, too).
    fn cascade_chain(&self, decision: &Decision) -> Vec<ModelId> {
        match decision.tier {
            Some(tier) => self.serving(&self.tier(tier).models, decision.api),
            None => Vec::new(),
        }
    }

    /// The model after `decision.model` in the escalation order.
    fn cascade_next(&self, decision: &Decision) -> Option<ModelId> {
        let chain = self.cascade_chain(decision);
        let at = chain.iter().position(|m| *m == decision.model)?;
        chain.get(at + 1).copied()
    }

    /// The request body for `model`: the client's `original` bytes with the edits the router
    /// makes for that model (`model`, profile, floor, logprobs), and the decision it carries
    /// out. `None` when the original is not a JSON object (it was for the first attempt).
    pub fn body_for_model(
        &self,
        original: &[u8],
        decision: &Decision,
        model: ModelId,
    ) -> Option<(Vec<u8>, Decision)> {
        let scan_bytes = self.classifier.scan_bytes();
        let parsed = RequestBody::parse_for(original, scan_bytes, &self.dropped_fields).ok()?;
        let mut next = decision.clone();
        next.model = model;
        next.floor_applied = None;
        let body = self
            .edit_body(original, &parsed, &mut next)
            .unwrap_or_else(|| original.to_vec());
        Some((body, next))
    }

    /// Whether the router adds `"logprobs": true` to a request for `decision.model`: a
    /// cascade tier with `min_mean_logprob`, Chat Completions, a client that did not set
    /// `logprobs`, a model whose profile keeps the field, and an answer the gate will check
    /// (not the last attempt).
    pub(crate) fn adds_logprobs(&self, decision: &Decision, parsed: &RequestBody) -> bool {
        let Some(gate) = self.cascade_gate(decision) else {
            return false;
        };
        let position = self
            .cascade_chain(decision)
            .iter()
            .position(|m| *m == decision.model);
        let checked = position.is_some_and(|i| i < gate.max_escalations);
        let dropped = self
            .model(decision.model)
            .profile
            .drop
            .iter()
            .any(|&i| self.dropped_fields.get(i).is_some_and(|f| f == "logprobs"));
        gate.wants_logprobs()
            && !decision.stream
            && decision.api == Some(crate::api::ApiShape::ChatCompletions)
            && !parsed.logprobs
            && !dropped
            && checked
    }
}
