//! Failover within a tier, decided here and carried out by the adapter: what a failed attempt
//! was ([`Failure`]), which model the request tries next ([`Config::next_attempt`]), the
//! body edited for that model ([`KeptBody`]), and the log of every attempt.
//!
//! The order after the first pick is the tier's `models` list (models serving the request's
//! API shape, untried, not cooling down), bounded by `failover.max_attempts`; with none left,
//! `on_tier_down` says whether `fallback_model` gets a last attempt or the client gets a 503.

use crate::account::{millis, record_json, record_json_array};
use crate::body::RequestBody;
use crate::config::{Config, ModelId, TierDown};
use crate::cost;
use crate::decide::Decision;
use crate::store::SharedStore;

/// Why an attempt did not give the client its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The upstream answered 429, 5xx (or another status of `failover.on_status`).
    Status(u16),
    /// Envoy could not connect (refused, no healthy host): its own 503.
    ConnectFailure,
    /// The upstream reset or closed the stream before its response headers: Envoy's 503.
    Reset,
    /// No answer within the attempt's timeout: Envoy's 504.
    Timeout,
    /// A streamed answer ended before its end.
    StreamCut,
    /// Envoy's stream idle timeout cut a streamed answer.
    StreamIdle,
    /// A 2xx whose body is not the JSON it says it is.
    BadAnswer,
}

impl Failure {
    /// Every reason label, for defining the counters up front.
    pub const REASONS: [&'static str; 9] = [
        "rate_limited",
        "server_error",
        "status",
        "connect_failure",
        "reset",
        "timeout",
        "stream_cut",
        "stream_idle",
        "bad_answer",
    ];

    /// The reason as logged and as the counters' `reason` label.
    pub fn reason(self) -> &'static str {
        match self {
            Failure::Status(429) => "rate_limited",
            Failure::Status(500..=599) => "server_error",
            Failure::Status(_) => "status",
            Failure::ConnectFailure => "connect_failure",
            Failure::Reset => "reset",
            Failure::Timeout => "timeout",
            Failure::StreamCut => "stream_cut",
            Failure::StreamIdle => "stream_idle",
            Failure::BadAnswer => "bad_answer",
        }
    }

    /// The status the client would see for this failure.
    pub fn status(self) -> u16 {
        match self {
            Failure::Status(s) => s,
            Failure::ConnectFailure | Failure::Reset => 503,
            Failure::Timeout => 504,
            Failure::StreamCut | Failure::StreamIdle | Failure::BadAnswer => 200,
        }
    }

    /// A hard failure cools the model down at once; soft ones count towards ejection.
    pub fn is_hard(self) -> bool {
        !matches!(
            self,
            Failure::StreamCut | Failure::StreamIdle | Failure::BadAnswer
        )
    }

    /// 429 and 503 may say when to come back (RFC 9110 §10.2.3).
    pub fn honours_retry_after(self) -> bool {
        matches!(self, Failure::Status(429 | 503))
    }

    /// The failure of a response whose headers the adapter sees: `from_upstream` as Envoy's
    /// `response.code_details` says (`via_upstream`), `details` its text otherwise. `None`:
    /// the response is an answer (a 2xx, or a 4xx another model would give too).
    pub fn of_response(status: u16, from_upstream: bool, details: &str) -> Option<Failure> {
        let failing = status == 408 || status == 429 || status >= 500;
        if from_upstream || !failing {
            return failing.then_some(Failure::Status(status));
        }
        Some(if details.contains("timeout") {
            Failure::Timeout
        } else if details.contains("connection_failure")
            || details.contains("connection_refused")
            || details.contains("no_healthy_upstream")
        {
            Failure::ConnectFailure
        } else if details.contains("reset") || details.contains("termination") {
            Failure::Reset
        } else {
            Failure::Status(status)
        })
    }

    /// The failure of a callout's answer. Envoy's async client answers its own failures as
    /// local replies (no `x-envoy-upstream-service-time`); `status` is `None` when the call
    /// failed without any (reset, buffer limit).
    pub fn of_callout(
        status: Option<u16>,
        from_upstream: bool,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Option<Failure> {
        let Some(status) = status else {
            return Some(Failure::Reset);
        };
        if !from_upstream && (status == 503 || status == 504) {
            // Envoy's local replies are ASCII; ASCII folding keeps Unicode's tables out.
            let text =
                String::from_utf8_lossy(body.get(..256).unwrap_or(body)).to_ascii_lowercase();
            let details = match status {
                504 => "timeout",
                _ if text.contains("connection failure") || text.contains("refused") => {
                    "connection_failure"
                }
                _ => "reset",
            };
            return Failure::of_response(status, false, details);
        }
        if let Some(failure) = Failure::of_response(status, true, "") {
            return Some(failure);
        }
        let ok = (200..300).contains(&status);
        (ok && !answer_parses(content_type, body)).then_some(Failure::BadAnswer)
    }
}

/// A 2xx body with a JSON content type must be JSON; others (SSE, text) are taken as sent.
pub fn answer_parses(content_type: Option<&str>, body: &[u8]) -> bool {
    let json = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("json"));
    !json || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

/// One attempt of a request, as logged in `tier_router.attempts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub model: ModelId,
    /// The status the attempt got (`None`: none, the call failed without an answer).
    pub status: Option<u16>,
    /// The status came from the upstream, not from Envoy (a refused connection's 503).
    pub from_upstream: bool,
    /// Why the request moved on (or why this answer counts as failed); `None`: it served.
    pub failure: Option<Failure>,
    pub latency_us: u64,
    /// What the upstream reported for it; `None` when it reported nothing (costs 0).
    pub cost_micro_usd: Option<u64>,
}

/// What the request does after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send it to this model.
    Try(ModelId),
    /// No attempt left: the client gets the last attempt's answer.
    GiveUp,
    /// Every model of the tier is down and `on_tier_down` is `error`: the client gets
    /// [`Config::tier_down_body`] with a 503.
    TierDown,
}

impl Config {
    /// Whether `failure` moves a request of `decision` on (its tier fails over, and the
    /// failure happened before the client got a byte).
    pub fn moves_on(&self, decision: &Decision, failure: Failure) -> bool {
        let Some(tier) = decision.tier.filter(|_| decision.is_served()) else {
            return false;
        };
        let failover = &self.tier(tier).failover;
        match failure {
            Failure::BadAnswer => failover.enabled,
            Failure::StreamCut | Failure::StreamIdle => false,
            f => failover.moves_on(f.status()),
        }
    }

    /// Whether a request of `decision` could fail over at all: the adapter keeps the body
    /// (and the headers) only then.
    pub fn may_fail_over(&self, decision: &Decision) -> bool {
        let Some(tier) = decision.tier.filter(|_| decision.is_served()) else {
            return false;
        };
        let t = self.tier(tier);
        let more_models = t.models.len() > 1
            || (t.on_tier_down == TierDown::Fallback && !t.models.contains(&self.fallback_model));
        t.failover.enabled && t.failover.max_attempts > 1 && more_models
    }

    /// The model a request of `decision` tries after `tried` (every model tried so far, in
    /// order), given the models' health now.
    pub fn next_attempt(
        &self,
        decision: &Decision,
        tried: &[ModelId],
        now_ns: u64,
        store: &dyn SharedStore,
    ) -> Next {
        let Some(tier) = decision.tier.filter(|_| decision.is_served()) else {
            return Next::GiveUp;
        };
        let t = self.tier(tier);
        if !t.failover.enabled || tried.len() >= t.failover.max_attempts as usize {
            return Next::GiveUp;
        }
        let serving = self.serving(&t.models, decision.api);
        let order = if serving.is_empty() {
            &t.models
        } else {
            &serving
        };
        let untried = order.iter().copied().filter(|m| !tried.contains(m));
        if let Some(model) = untried.clone().find(|m| self.is_healthy(*m, now_ns, store)) {
            return Next::Try(model);
        }
        match t.on_tier_down {
            TierDown::Fallback
                if !tried.contains(&self.fallback_model)
                    && self.speaks(self.fallback_model, decision.api) =>
            {
                Next::Try(self.fallback_model)
            }
            TierDown::Fallback => Next::GiveUp,
            TierDown::Error => Next::TierDown,
        }
    }

    /// The OpenAI-shaped error of a tier whose every model is down.
    pub fn tier_down_body(&self, decision: &Decision) -> String {
        format!(
            "{{\"error\":{{\"message\":\"every model of tier `{}` is unavailable; retry later\",\
             \"type\":\"tier_unavailable\",\"code\":\"tier_down\"}}}}",
            self.tier_name(decision)
        )
    }

    /// `tier_router.attempts`: a JSON array, one object per attempt, in order, in the shape
    /// the cascade logs too: `{"model", "status" ("429", "503 (envoy)" for Envoy's own reply,
    /// "none"), "outcome" ("served", "failed_over:<reason>", or "failed:<reason>" for an
    /// answer served although it failed), "latency_ms", "cost_usd" (absent when unpriced)}`.
    pub fn attempts_json(&self, attempts: &[Attempt]) -> String {
        let items: Vec<String> = attempts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let status = match (a.status, a.from_upstream) {
                    (None, _) => "none".to_string(),
                    (Some(s), true) => s.to_string(),
                    (Some(s), false) => format!("{s} (envoy)"),
                };
                let last = i + 1 == attempts.len();
                let outcome = match a.failure {
                    None => "served".to_string(),
                    Some(f) if last => format!("failed:{}", f.reason()),
                    Some(f) => format!("failed_over:{}", f.reason()),
                };
                let mut fields = vec![
                    ("model", self.model(a.model).name.clone()),
                    ("status", status),
                    ("outcome", outcome),
                    ("latency_ms", millis(a.latency_us)),
                ];
                if let Some(c) = a.cost_micro_usd {
                    fields.push(("cost_usd", cost::usd(c)));
                }
                record_json(&fields)
            })
            .collect();
        record_json_array(&items)
    }
}

/// The client's body as it arrived, kept for further attempts (bounded by `max_body_bytes`,
/// since only a body the filter buffered is kept), with its layout parsed once, on the first
/// failover, and re-edited for each model.
#[derive(Debug, Default)]
pub struct KeptBody {
    bytes: Vec<u8>,
    parsed: Option<RequestBody>,
}

impl KeptBody {
    pub fn new(bytes: Vec<u8>) -> KeptBody {
        KeptBody {
            bytes,
            parsed: None,
        }
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl Config {
    /// `decision` moved to `model`, and the body for it: `model`, stream options, the
    /// model's profile and the tier's floor, edited into the client's original bytes as for a
    /// first attempt. `None` when the kept body no longer parses (never for a routed body).
    pub fn retarget(
        &self,
        decision: &Decision,
        model: ModelId,
        kept: &mut KeptBody,
    ) -> Option<(Decision, Vec<u8>)> {
        if kept.parsed.is_none() {
            let parsed = RequestBody::parse_for(
                &kept.bytes,
                self.classifier.scan_bytes(),
                &self.dropped_fields,
            )
            .ok()?;
            kept.parsed = Some(parsed);
        }
        let parsed = kept.parsed.as_ref()?;
        let mut next = decision.clone();
        next.model = model;
        next.floor_applied = None;
        let body = self
            .edit_body(&kept.bytes, parsed, &mut next)
            .unwrap_or_else(|| kept.bytes.clone());
        Some((next, body))
    }
}

impl Config {
    /// Before the first attempt: a decided model that is cooling down is replaced by the
    /// next one ([`Config::next_attempt`]); with none, `on_tier_down` applies
    /// ([`Decision::tier_down`]). Returns whether the model changed.
    pub(crate) fn avoid_cooling(&self, decision: &mut Decision, env: &crate::Env<'_>) -> bool {
        if decision.tier.is_none() || self.is_healthy(decision.model, env.now_ns, env.store) {
            return false;
        }
        match self.next_attempt(decision, &[decision.model], env.now_ns, env.store) {
            Next::Try(model) => {
                decision.tier_down = model == self.fallback_model
                    && decision
                        .tier
                        .is_some_and(|t| !self.tier(t).models.contains(&model));
                decision.model = model;
                true
            }
            Next::TierDown => {
                decision.tier_down = true;
                false
            }
            Next::GiveUp => false,
        }
    }
}

impl Config {
    /// The failover fields of a served request's log line: every attempt, the number of
    /// failovers, whether the tier was down, and whether the answer reached its end.
    pub fn attempt_fields(
        &self,
        decision: &Decision,
        attempts: &[Attempt],
        complete: bool,
    ) -> Vec<(&'static str, String)> {
        use crate::names::state;
        let mut fields = vec![
            (state::ATTEMPTS, self.attempts_json(attempts)),
            (
                state::FAILOVER,
                attempts.len().saturating_sub(1).to_string(),
            ),
            (state::RESPONSE_COMPLETE, complete.to_string()),
        ];
        if decision.tier_down {
            fields.push((state::TIER_DOWN, "true".to_string()));
        }
        fields
    }

    /// A request refused because every model of its tier is down (`on_tier_down: error`).
    pub fn refuses(&self, decision: &Decision) -> bool {
        decision.tier_down
            && decision
                .tier
                .is_some_and(|t| self.tier(t).on_tier_down == TierDown::Error)
    }
}

impl Config {
    /// The request headers that give a served decision's first attempt its tier's timeouts:
    /// Envoy's per-try timeout (`attempt_timeout_ms`: time to the response headers); for a
    /// stream, no total timeout (a stream still sending is never cut; the idle timeout bounds
    /// it), and the tier's own route when it sets `stream_idle_timeout_ms`. Checked in Envoy
    /// 1.40: the per-try timeout set by a filter ends at the response headers, the total one
    /// cuts a stream mid-way (docs/failover.md).
    pub fn attempt_headers(&self, decision: &Decision) -> Vec<(&'static str, String)> {
        use crate::names::{PER_TRY_TIMEOUT_HEADER, ROUTE_TIER_HEADER, TOTAL_TIMEOUT_HEADER};
        if !decision.is_served() || decision.is_passthrough() {
            return Vec::new();
        }
        let mut headers = Vec::new();
        let Some(tier) = decision.tier else {
            // The fallback model's streams are never cut while they send either.
            if decision.stream {
                headers.push((TOTAL_TIMEOUT_HEADER, "0".to_string()));
            }
            return headers;
        };
        let t = self.tier(tier);
        if t.failover.attempt_timeout_ms > 0 {
            headers.push((
                PER_TRY_TIMEOUT_HEADER,
                t.failover.attempt_timeout_ms.to_string(),
            ));
        }
        if decision.stream {
            headers.push((TOTAL_TIMEOUT_HEADER, "0".to_string()));
            if t.failover.stream_idle_timeout_ms > 0 {
                headers.push((ROUTE_TIER_HEADER, t.name.clone()));
            }
        }
        headers
    }
}

/// Whether a JSON answer passed through in chunks is at least an object from end to end: its
/// first and last bytes that are not whitespace are `{` and `}`. The filter does not hold a
/// passed answer, so this is what it checks of an unparseable 200 (an HTML error page, a
/// truncated body); a callout's answer, held whole, is parsed ([`answer_parses`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonEnds {
    first: Option<u8>,
    last: Option<u8>,
}

impl JsonEnds {
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut text = chunk.iter().copied().filter(|b| !b.is_ascii_whitespace());
        if self.first.is_none() {
            self.first = text.next();
        }
        if let Some(last) = chunk.iter().rev().find(|b| !b.is_ascii_whitespace()) {
            self.last = Some(*last);
        }
    }

    pub fn is_object(&self) -> bool {
        self.first == Some(b'{') && self.last == Some(b'}')
    }
}
