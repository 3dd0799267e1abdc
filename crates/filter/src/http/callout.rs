//! Answering from another model. The first attempt goes through Envoy's route as usual; when
//! its response headers show a failure that moves the request on (`Config::moves_on`), the
//! response is held (`Pause`), the kept body is edited for the next model
//! (`Config::retarget`) and sent with the original headers to that model's cluster as an
//! HTTP callout. Its whole answer then replaces the held response: status, headers (none of
//! the failed one's are left) and body. A failed callout moves on the same way.
//!
//! The core decides (`Config::next_attempt`, `Failure`, health); this file only holds the
//! phase and makes the host calls. The cascade (`cascade.rs`) uses the same host calls and
//! header lists.

use proxy_wasm::types::Action;

use super::{now_ns, warn_on_err, RouterHttp};
use crate::host::{self, BufferType, MapType};
use crate::root::Shared;
use crate::store::HostStore;
use crate::timing::{self, Part};
use tier_router_core::account::{Reply, Timing};
use tier_router_core::failover::{Attempt, Failure, KeptBody, Next};
use tier_router_core::health::retry_after_seconds;
use tier_router_core::usage::UsageScanner;
use tier_router_core::{names, wire, Decision};

/// Request headers not copied onto a callout: Envoy sets them, or the router owns them.
pub(super) const NOT_RESENT: [&str; 6] = [
    "content-length",
    "transfer-encoding",
    "accept-encoding",
    names::PER_TRY_TIMEOUT_HEADER,
    names::TOTAL_TIMEOUT_HEADER,
    names::ROUTE_TIER_HEADER,
];
/// Response headers of an answer not copied onto the client's response.
pub(super) const HOP_BY_HOP: [&str; 5] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
];

/// What a request that may fail over keeps, and where it is.
pub(crate) struct Retry {
    kept: KeptBody,
    /// The request headers as the first attempt went upstream, as the host serialized them:
    /// parsed only when a callout resends them, which most requests never need.
    headers: Vec<u8>,
    pub(crate) attempts: Vec<Attempt>,
    /// A callout is out: its token and the decision it carries out.
    calling: Option<(u32, Decision)>,
    /// When the current attempt started.
    attempt_start_ns: u64,
    /// The held response's body has ended (or it had none): an answer can replace it.
    held_done: bool,
    /// An answer waiting for the held body to end.
    ready: Option<Answer>,
    /// The held response is being replaced: later callbacks leave it alone.
    pub(crate) holding: bool,
}

/// A response that replaces the held one.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub from_upstream: bool,
    /// The decision it carries out (its model served).
    pub decision: Decision,
}

impl Retry {
    pub(crate) fn is_calling(&self) -> bool {
        self.calling.is_some()
    }
}

impl RouterHttp {
    /// Keeps the body and the headers of a request that may fail over (read once, here).
    pub(super) fn keep_for_retry(&mut self, shared: &Shared, body: Vec<u8>) {
        let Some(decision) = &self.decision else {
            return;
        };
        if !shared.config.may_fail_over(decision) {
            return;
        }
        let headers = match host::header_pairs(MapType::RequestHeaders) {
            Ok(bytes) => bytes,
            Err(e) => {
                log::warn!(
                    "no failover: cannot read the request headers: host status {}",
                    e.0
                );
                return;
            }
        };
        self.retry = Some(Retry {
            kept: KeptBody::new(body),
            headers,
            attempts: Vec::new(),
            calling: None,
            attempt_start_ns: self.timing.start_ns,
            held_done: false,
            ready: None,
            holding: false,
        });
    }

    /// The first attempt's response headers showed `failure`: holds the response and tries
    /// the next model. Returns the action for the headers callback.
    pub(super) fn first_attempt_failed(
        &mut self,
        shared: &Shared,
        failure: Failure,
        end_of_stream: bool,
    ) -> Action {
        let (Some(decision), Some(retry)) = (self.decision.clone(), self.retry.as_mut()) else {
            return Action::Continue;
        };
        let now = now_ns().unwrap_or(0);
        retry.attempts.push(Attempt {
            model: decision.model,
            status: self.reply.status,
            from_upstream: self.reply.from_upstream,
            failure: Some(failure),
            latency_us: now.saturating_sub(retry.attempt_start_ns) / 1_000,
            cost_micro_usd: None,
        });
        retry.held_done = end_of_stream;
        if !self.move_on(shared, &decision, failure, false) {
            return Action::Continue;
        }
        // A response without a body may have been replaced at once (a tier-down 503).
        if self.accounted {
            Action::Continue
        } else {
            Action::Pause
        }
    }

    /// Sends the request to the next model after `from` failed; false when there is none
    /// (the failed answer goes to the client as it is).
    /// `resume`: outside a stream callback, so a replaced response must be resumed.
    fn move_on(
        &mut self,
        shared: &Shared,
        from: &Decision,
        failure: Failure,
        resume: bool,
    ) -> bool {
        let config = &shared.config;
        let Some(retry) = self.retry.as_mut() else {
            return false;
        };
        let tried: Vec<_> = retry.attempts.iter().map(|a| a.model).collect();
        let now = now_ns().unwrap_or(0);
        match config.next_attempt(from, &tried, now, &HostStore) {
            Next::Try(model) => {
                let Some((decision, body)) = config.retarget(from, model, &mut retry.kept) else {
                    log::warn!("no failover: the kept body no longer parses");
                    return false;
                };
                let sent = self.send_attempt(shared, decision, &body);
                if sent {
                    shared.metrics.failed_over(from, failure);
                }
                sent
            }
            Next::TierDown => {
                shared.metrics.failed_over(from, failure);
                let answer = Answer {
                    status: 503,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: config.tier_down_body(from).into_bytes(),
                    from_upstream: false,
                    decision: Decision {
                        tier_down: true,
                        ..from.clone()
                    },
                };
                self.answer_with(shared, answer, resume);
                true
            }
            Next::GiveUp => false,
        }
    }

    /// Sends the kept request, with `body`, to `decision`'s model as a callout. False when
    /// the host refused the call.
    pub(crate) fn send_attempt(
        &mut self,
        shared: &Shared,
        decision: Decision,
        body: &[u8],
    ) -> bool {
        let config = &shared.config;
        let Some(retry) = self.retry.as_mut() else {
            return false;
        };
        let timeout_ms = decision
            .tier
            .map_or(0, |t| config.tier(t).failover.callout_timeout_ms);
        let length = body.len().to_string();
        let cluster_header = config.headers.cluster.as_str();
        let kept: Vec<_> = wire::header_pairs(&retry.headers)
            .unwrap_or_default()
            .into_iter()
            .map(|(n, v)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v)))
            .filter(|(n, _)| n != cluster_header && !NOT_RESENT.contains(&n.as_ref()))
            .collect();
        let mut headers: Vec<(&str, &str)> =
            kept.iter().map(|(n, v)| (n.as_ref(), v.as_ref())).collect();
        headers.push(("content-length", &length));
        let cluster = &config.model(decision.model).cluster;
        match host::dispatch_call(cluster, headers, body, timeout_ms) {
            Ok(token) => {
                retry.attempt_start_ns = now_ns().unwrap_or(0);
                retry.calling = Some((token, decision));
                true
            }
            Err(e) => {
                log::warn!("cannot call cluster {cluster}: host status {}", e.0);
                false
            }
        }
    }

    /// A callout's answer: serve it, or move on from it.
    pub(super) fn call_answered(&mut self, token: u32, num_headers: usize, body_size: usize) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        let Some(retry) = self.retry.as_mut() else {
            return;
        };
        let decision = match retry.calling.take() {
            Some((t, decision)) if t == token => decision,
            other => {
                retry.calling = other;
                return;
            }
        };
        let headers = call_headers(num_headers);
        let body = host::buffer(BufferType::CallResponseBody, 0, body_size).unwrap_or_else(|e| {
            log::warn!("cannot read a callout's body: host status {}", e.0);
            Vec::new()
        });
        let value = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let status = value(":status").and_then(|s| s.parse::<u16>().ok());
        let from_upstream = value("x-envoy-upstream-service-time").is_some();
        let failure = Failure::of_callout(status, from_upstream, value("content-type"), &body);
        let now = now_ns().unwrap_or(0);
        let config = &shared.config;
        let mut usage = UsageScanner::new();
        usage.feed(&body);
        let reply = Reply {
            status,
            from_upstream,
        };
        let cost = config
            .account(&decision, &usage, Timing::default(), reply)
            .cost_micro_usd;
        retry.attempts.push(Attempt {
            model: decision.model,
            status,
            from_upstream,
            failure,
            latency_us: now.saturating_sub(retry.attempt_start_ns) / 1_000,
            cost_micro_usd: cost,
        });
        let retry_after =
            value("retry-after").and_then(|v| retry_after_seconds(v, now / 1_000_000_000));
        self.note_health(&shared, &decision, failure, retry_after);
        if let Some(failure) = failure.filter(|f| config.moves_on(&decision, *f)) {
            if self.move_on(&shared, &decision, failure, true) {
                return;
            }
        }
        let answer = Answer {
            status: status.unwrap_or(503),
            headers: headers
                .into_iter()
                .filter(|(n, _)| !n.starts_with(':'))
                .collect(),
            body,
            from_upstream,
            decision,
        };
        self.answer_with(&shared, answer, true);
    }

    /// Records a model's health after an attempt.
    pub(super) fn note_health(
        &self,
        shared: &Shared,
        decision: &Decision,
        failure: Option<Failure>,
        retry_after_s: Option<u64>,
    ) {
        if !decision.is_served() || decision.is_passthrough() {
            return;
        }
        let config = &shared.config;
        timing::timed(Part::Health, || match failure {
            Some(f) => {
                let now = now_ns().unwrap_or(0);
                config.record_failure(decision.model, f, retry_after_s, now, &HostStore);
            }
            None => config.record_success(decision.model, &HostStore),
        });
    }

    /// Replaces the held response with `answer` now, or once the held body has ended;
    /// `resume`: called outside a stream callback, so the response must be resumed.
    pub(crate) fn answer_with(&mut self, shared: &Shared, answer: Answer, resume: bool) {
        let Some(retry) = self.retry.as_mut() else {
            return;
        };
        retry.holding = true;
        if !retry.held_done {
            retry.ready = Some(answer);
            return;
        }
        if self.deliver(shared, answer) && resume {
            warn_on_err("resume the response", host::resume_response());
        }
    }

    /// The held body's end: its attempt's cost, and a waiting answer replaces it. Returns the
    /// action for the body callback.
    pub(super) fn held_body(&mut self, shared: &Shared, body_size: usize, end: bool) -> Action {
        let Some(retry) = self.retry.as_mut() else {
            return Action::Continue;
        };
        if !end {
            return Action::Pause;
        }
        retry.held_done = true;
        // Each callback of a held body sees all of it: scan it once, at its end.
        if let Some(first) = retry
            .attempts
            .first_mut()
            .filter(|a| a.cost_micro_usd.is_none())
        {
            let mut usage = UsageScanner::new();
            if let Ok(bytes) = host::buffer(BufferType::ResponseBody, 0, body_size) {
                usage.feed(&bytes);
            }
            if let Some(decision) = &self.decision {
                first.cost_micro_usd = shared
                    .config
                    .account(decision, &usage, Timing::default(), self.reply)
                    .cost_micro_usd;
            }
        }
        match retry.ready.take() {
            Some(answer) => {
                self.deliver(shared, answer);
                Action::Continue
            }
            None => Action::Pause,
        }
    }

    /// Writes `answer` over the held response, then accounts for it.
    /// Returns false when the answer went as a local reply (nothing is left to resume).
    fn deliver(&mut self, shared: &Shared, answer: Answer) -> bool {
        let config = &shared.config;
        let mut replaced = true;
        clear_response_headers();
        let status = answer.status.to_string();
        warn_on_err(
            "set the status",
            host::set_header(MapType::ResponseHeaders, ":status", &status),
        );
        for (name, value) in &answer.headers {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                let set = host::set_header(MapType::ResponseHeaders, name, value);
                warn_on_err("copy an answer header", set);
            }
        }
        let length = answer.body.len().to_string();
        warn_on_err(
            "set content-length",
            host::set_header(MapType::ResponseHeaders, "content-length", &length),
        );
        self.add_decision_headers(config, &answer.decision);
        if let Err(e) = host::set_buffer(BufferType::ResponseBody, 0, usize::MAX, &answer.body) {
            // The held response had no body (a bare 429): there is no buffer to replace, so
            // the answer goes as a local reply of its own, with its headers.
            log::debug!(
                "no response body to replace (host status {}): local reply",
                e.0
            );
            replaced = false;
            self.reply_locally(config, &answer);
        }
        if answer.decision.tier.is_some()
            && answer.decision.source == tier_router_core::Source::Session
        {
            config.repin(&self.head(), &answer.decision, &self.env());
        }
        self.reply = Reply {
            status: Some(answer.status),
            from_upstream: answer.from_upstream,
        };
        self.usage = UsageScanner::new();
        self.usage.feed(&answer.body);
        let now = now_ns();
        if answer.from_upstream {
            // Delivered whole: its first byte is its first token.
            self.timing.first_byte_ns = now;
            self.timing.first_token_ns = now;
        }
        self.timing.end_ns = now;
        self.decision = Some(answer.decision);
        self.account(true);
        replaced
    }

    /// Sends `answer` as a local reply: its status, headers (the decision headers included)
    /// and body; Envoy sets content-length.
    fn reply_locally(&self, config: &tier_router_core::Config, answer: &Answer) {
        let mut pairs: Vec<(&str, &str)> = answer
            .headers
            .iter()
            .filter(|(n, _)| !HOP_BY_HOP.contains(&n.as_str()))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let tier = config.tier_name(&answer.decision);
        let model = &config.model(answer.decision.model).name;
        if config.decision_headers {
            pairs.push((config.headers.response_tier.as_str(), tier));
            pairs.push((config.headers.response_model.as_str(), model.as_str()));
        }
        let headers = wire::serialize_pairs(&pairs);
        let sent = host::send_http_response(
            u32::from(answer.status),
            "tier_router_failover",
            &headers,
            &answer.body,
        );
        warn_on_err("send the answer as a local reply", sent);
    }
}

/// The callout answer's headers, names lowercased by Envoy.
fn call_headers(num_headers: usize) -> Vec<(String, String)> {
    if num_headers == 0 {
        return Vec::new();
    }
    let serialized = host::header_pairs(MapType::CallResponseHeaders).unwrap_or_else(|e| {
        log::warn!("cannot read a callout's headers: host status {}", e.0);
        Vec::new()
    });
    wire::header_pairs(&serialized)
        .unwrap_or_default()
        .into_iter()
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

/// Removes every header of the held response (its `retry-after`, its `content-type`...).
pub(super) fn clear_response_headers() {
    let serialized = host::header_pairs(MapType::ResponseHeaders).unwrap_or_default();
    let names: Vec<String> = wire::header_pairs(&serialized)
        .unwrap_or_default()
        .into_iter()
        .map(|(n, _)| String::from_utf8_lossy(n).into_owned())
        .filter(|n| !n.starts_with(':'))
        .collect();
    for name in names {
        warn_on_err(
            "remove a header of the failed response",
            host::remove_header(MapType::ResponseHeaders, &name),
        );
    }
}
