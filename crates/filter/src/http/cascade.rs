//! A cascade tier's request: keep the client's body and headers, hold the first model's
//! answer, ask the core what follows it (`Config::cascade_step`), and carry that out: let the
//! held answer go, or call the next model with the body edited for it (an HTTP callout) and
//! answer the client with that call's status, headers and body. Streaming requests are not
//! held (`skipped_stream`).

use proxy_wasm::types::Action;

use super::callout::{clear_response_headers, HOP_BY_HOP, NOT_RESENT};
use super::{now_ns, warn_on_err, RouterHttp};
use crate::host::{self, BufferType, MapType};
use crate::root::Shared;
use tier_router_core::account::{Account, Reply, Timing};
use tier_router_core::adapt::OwnedEdit;
use tier_router_core::body::RequestBody;
use tier_router_core::cascade::Verdict;
use tier_router_core::cascade::{strip_logprobs, AnswerContract, Attempt, Mode, Reason, Step};
use tier_router_core::usage::UsageScanner;
use tier_router_core::{wire, Decision};

pub(super) struct Cascade {
    pub(super) mode: Mode,
    original: Vec<u8>,
    headers: Vec<(String, String)>,
    contract: AnswerContract,
    /// Answers not served, each with its account, in order.
    pub(super) earlier: Vec<(Attempt, Account)>,
    /// The first model's answer, still held in Envoy's response buffer once a call is out:
    /// served after all when every later model fails outright.
    held: Option<Held>,
    attempt_start_ns: u64,
    /// The gate's verdict on the answer served.
    pub(super) verdict: Option<Verdict>,
    call: Option<u32>,
    /// The answer is on its way to the client.
    released: bool,
}

struct Held {
    decision: Decision,
    usage: UsageScanner,
    reply: Reply,
    reason: Reason,
}

impl RouterHttp {
    /// Starts a cascade for a routed cascade decision; `original` is the client's body,
    /// handed back unless the cascade keeps it (a gated request, which it answers itself).
    pub(super) fn begin_cascade(&mut self, shared: &Shared, original: Vec<u8>) -> Option<Vec<u8>> {
        let Some(decision) = &self.decision else {
            return Some(original);
        };
        let Some(mode) = shared.config.cascade_mode(decision) else {
            return Some(original);
        };
        let mut cascade = Cascade {
            mode,
            original: Vec::new(),
            headers: Vec::new(),
            contract: AnswerContract::default(),
            earlier: Vec::new(),
            held: None,
            attempt_start_ns: self.timing.start_ns,
            verdict: None,
            call: None,
            released: mode == Mode::SkippedStream,
        };
        if mode == Mode::Gated {
            cascade.headers = resendable_headers(&shared.config.headers.cluster);
            cascade.contract = RequestBody::parse(&original)
                .map(|parsed| AnswerContract::of_request(&original, &parsed))
                .unwrap_or_default();
            cascade.original = original;
            self.cascade = Some(cascade);
            return None;
        }
        // A stream skips the gate, and may fail over like any request.
        self.cascade = Some(cascade);
        Some(original)
    }

    /// The answer is held for the gate.
    pub(super) fn cascade_holds(&self) -> bool {
        self.cascade.as_ref().is_some_and(|c| !c.released)
    }

    /// The whole first answer arrived (`body`): serve it, or ask the next model.
    pub(super) fn cascade_answer(&mut self, shared: &Shared, body: &[u8]) -> Action {
        self.usage.feed(body);
        match self.next_step(shared, body) {
            Step::Escalate { reason, to } if self.escalate(shared, reason, to) => Action::Pause,
            step => {
                if let (Some(c), Step::Serve { verdict }) = (self.cascade.as_mut(), step) {
                    c.verdict = verdict;
                }
                self.strip_added_logprobs(body);
                self.release();
                Action::Continue
            }
        }
    }

    fn next_step(&self, shared: &Shared, body: &[u8]) -> Step {
        let (Some(c), Some(decision)) = (&self.cascade, &self.decision) else {
            return Step::Serve { verdict: None };
        };
        let escalations = c.earlier.len();
        shared
            .config
            .cascade_step(decision, escalations, &c.contract, self.reply.status, body)
    }

    /// Records the answer just read as escalated for `reason` and calls `to`. `false` when
    /// the call cannot be made: the answer read is then served.
    fn escalate(
        &mut self,
        shared: &Shared,
        reason: Reason,
        to: tier_router_core::config::ModelId,
    ) -> bool {
        let config = &shared.config;
        let (Some(c), Some(decision)) = (self.cascade.as_mut(), self.decision.as_ref()) else {
            return false;
        };
        let Some((body, next)) = config.body_for_model(&c.original, decision, to) else {
            return false;
        };
        let length = body.len().to_string();
        let mut headers: Vec<(&str, &str)> = c
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        headers.push(("content-length", &length));
        let cluster = &config.model(to).cluster;
        let timeout_ms = decision
            .tier
            .map_or(0, |t| config.tier(t).failover.callout_timeout_ms);
        let token = match host::dispatch_call(cluster, headers, &body, timeout_ms) {
            Ok(token) => token,
            Err(e) => {
                log::warn!(
                    "cascade: cannot call {cluster}, serving the answer held: host status {}",
                    e.0
                );
                return false;
            }
        };
        let now = now_ns().unwrap_or(c.attempt_start_ns);
        let timing = Timing {
            start_ns: c.attempt_start_ns,
            first_byte_ns: None,
            first_token_ns: None,
            end_ns: Some(now),
        };
        let usage = std::mem::take(&mut self.usage);
        let pair = config.escalated_attempt(decision, &usage, timing, self.reply, reason);
        if c.held.is_none() {
            c.held = Some(Held {
                decision: decision.clone(),
                usage,
                reply: self.reply,
                reason,
            });
        }
        c.earlier.push(pair);
        c.call = Some(token);
        c.attempt_start_ns = now;
        shared.metrics.escalated(decision, reason);
        shared.metrics.attempt_sent(&next);
        self.decision = Some(next);
        true
    }

    /// The next model's whole answer: serve it, or go on to the one after.
    pub(super) fn cascade_call_response(&mut self, shared: &Shared, token: u32, body_size: usize) {
        if self.cascade.as_ref().and_then(|c| c.call) != Some(token) {
            return;
        }
        if let Some(c) = self.cascade.as_mut() {
            c.call = None;
        }
        let headers = host::header_pairs(MapType::CallResponseHeaders).unwrap_or_default();
        let body = if body_size > 0 {
            host::buffer(BufferType::CallResponseBody, 0, body_size).unwrap_or_default()
        } else {
            Vec::new()
        };
        let pairs = wire::header_pairs(&headers).unwrap_or_default();
        let status = pairs
            .iter()
            .find(|(n, _)| *n == b":status")
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<u16>().ok());
        // A call with no response (reset, timeout) has no headers at all.
        self.reply = Reply {
            status,
            from_upstream: status.is_some(),
        };
        self.usage.feed(&body);
        let step = self.next_step(shared, &body);
        if let Step::Escalate { reason, to } = step {
            if self.escalate(shared, reason, to) {
                return;
            }
        }
        let verdict = match step {
            Step::Serve { verdict } => verdict,
            Step::Escalate { reason, .. } => Some(Verdict::Escalate(reason)),
        };
        if !self.reply.upstream_succeeded() && self.serve_held(shared, verdict) {
            return;
        }
        if let Some(c) = self.cascade.as_mut() {
            c.verdict = verdict;
        }
        let body = self.strip_added_logprobs_of(&body).unwrap_or(body);
        self.replace_response(shared, &pairs, &body);
        self.release();
    }

    /// The last model failed outright: the first model's answer, still held, goes to the
    /// client if it was a 2xx. `false` when it was not.
    fn serve_held(&mut self, shared: &Shared, verdict: Option<Verdict>) -> bool {
        let Some(c) = self.cascade.as_mut() else {
            return false;
        };
        if !c
            .held
            .as_ref()
            .is_some_and(|h| h.reply.upstream_succeeded())
        {
            return false;
        }
        let Some(held) = c.held.take() else {
            return false;
        };
        let now = now_ns().unwrap_or(c.attempt_start_ns);
        let timing = Timing {
            start_ns: c.attempt_start_ns,
            first_byte_ns: None,
            first_token_ns: None,
            end_ns: Some(now),
        };
        let reason = match verdict {
            Some(Verdict::Escalate(r)) => r,
            _ => Reason::UpstreamError,
        };
        if let Some(decision) = &self.decision {
            let failed =
                shared
                    .config
                    .escalated_attempt(decision, &self.usage, timing, self.reply, reason);
            // The first attempt is the one served now.
            if !c.earlier.is_empty() {
                c.earlier.remove(0);
            }
            c.earlier.push(failed);
        }
        c.verdict = Some(Verdict::Escalate(held.reason));
        self.decision = Some(held.decision);
        self.usage = held.usage;
        self.reply = held.reply;
        self.release();
        true
    }

    /// The held response becomes the call's: its headers replace every header of the first
    /// answer (none of them is left), then its status, body and length; the decision headers
    /// name the model that answered.
    fn replace_response(&self, shared: &Shared, call_headers: &[(&[u8], &[u8])], body: &[u8]) {
        clear_response_headers();
        for (name, value) in call_headers {
            let (Ok(name), Ok(value)) = (std::str::from_utf8(name), std::str::from_utf8(value))
            else {
                continue;
            };
            if !HOP_BY_HOP.contains(&name) {
                let set = host::set_header(MapType::ResponseHeaders, name, value);
                warn_on_err("copy a header of the next model's answer", set);
            }
        }
        let length = body.len().to_string();
        let set = host::set_header(MapType::ResponseHeaders, "content-length", &length);
        warn_on_err("set the answer's content-length", set);
        if let Some(decision) = &self.decision {
            self.add_decision_headers(&shared.config, decision);
        }
        let set = host::set_buffer(BufferType::ResponseBody, 0, usize::MAX, body);
        warn_on_err("replace the response body with the next model's", set);
    }

    /// The answer goes to the client: from now its bytes pass as any response's.
    fn release(&mut self) {
        let Some(c) = self.cascade.as_mut() else {
            return;
        };
        let was_held = c.call.is_none() && !c.released;
        c.released = true;
        // The client's first byte and first token: the answer goes out whole.
        let now = now_ns();
        self.timing.first_byte_ns = now;
        self.timing.first_token_ns = now;
        if was_held && !c.earlier.is_empty() {
            warn_on_err("resume the response", host::resume_response());
        }
    }

    /// Logprobs the router asked for are set to `null` in the held answer (its headers are
    /// still held, so its `content-length` follows).
    fn strip_added_logprobs(&self, body: &[u8]) {
        let Some(stripped) = self.strip_added_logprobs_of(body) else {
            return;
        };
        let set = host::set_buffer(BufferType::ResponseBody, 0, usize::MAX, &stripped);
        warn_on_err("remove the logprobs the router asked for", set);
        let length = stripped.len().to_string();
        let header = host::set_header(MapType::ResponseHeaders, "content-length", &length);
        warn_on_err("update the answer's content-length", header);
    }

    fn strip_added_logprobs_of(&self, body: &[u8]) -> Option<Vec<u8>> {
        let added = self
            .decision
            .as_ref()
            .is_some_and(|d| d.edits.contains(&OwnedEdit::Logprobs));
        added.then(|| strip_logprobs(body)).flatten()
    }
}

/// The request headers as the upstream would get them, minus the failover's [`NOT_RESENT`]
/// and the router's cluster header.
fn resendable_headers(cluster_header: &str) -> Vec<(String, String)> {
    let serialized = host::header_pairs(MapType::RequestHeaders).unwrap_or_default();
    let pairs = wire::header_pairs(&serialized).unwrap_or_default();
    pairs
        .into_iter()
        .filter_map(|(n, v)| Some((std::str::from_utf8(n).ok()?, std::str::from_utf8(v).ok()?)))
        .filter(|(n, _)| !NOT_RESENT.contains(n) && *n != cluster_header)
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}
