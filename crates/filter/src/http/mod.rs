//! Per-request context. Request path: hold the headers, buffer a JSON body up to
//! `max_body_bytes`, ask the core for a decision, then set the cluster header, the body and
//! the filter state. Response path: tell the client where the request went, scan each body
//! chunk for usage as it passes (never holding it), and account when the response ends.
//! The callbacks are here; `request.rs` and `response.rs` hold what each path does.

mod callout;
mod cascade;
mod request;
mod response;

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::host::{self, BufferType};
use crate::root::Shared;
use crate::store::HostStore;
use crate::timing::{self, Part};
use response::read_response_headers;
use tier_router_core::account::{Reply, Timing};
use tier_router_core::bypass::ClientModelScanner;
use tier_router_core::failover::{Failure, JsonEnds};
use tier_router_core::health::retry_after_seconds;
use tier_router_core::names::attribute;
use tier_router_core::trust::Caller;
use tier_router_core::usage::UsageScanner;
use tier_router_core::{BodyHead, Decision, Env, PassReason, RequestHead};

pub struct RouterHttp {
    shared: Option<Rc<Shared>>,
    path: String,
    task: Option<String>,
    session: Option<String>,
    request_id: Option<String>,
    caller: CallerFacts,
    has_content_length: bool,
    /// Bytes of request body buffered so far (for a request that ends with trailers).
    body_size: usize,
    /// Set once the request is routed; later request callbacks pass everything through.
    decision: Option<Decision>,
    /// Reads the client's `model` from a body passed through unparsed, as it goes by.
    client_model: Option<ClientModelScanner>,
    timing: Timing,
    reply: Reply,
    usage: UsageScanner,
    accounted: bool,
    /// Set for a request that may fail over: the kept request and its attempts.
    retry: Option<callout::Retry>,
    /// A non-streamed 2xx JSON answer passing through: is it an object end to end?
    json_ends: Option<JsonEnds>,
    /// Set for a request of a cascade tier (`cascade.rs`).
    cascade: Option<cascade::Cascade>,
}

/// What the host says about the caller, read only for `explicit_tasks.trusted`.
#[derive(Debug, Default)]
struct CallerFacts {
    peer_uri_san: Option<String>,
    peer_dns_san: Option<String>,
    source_address: Option<String>,
    trusted_header: bool,
}

/// Request headers that only steer the request path and are not kept.
#[derive(Debug, Default)]
struct RequestFacts {
    path: Option<String>,
    content_length: Option<String>,
    content_type: Option<String>,
    content_encoding: Option<String>,
    /// The request carries the `test-trap` build's trigger header.
    #[cfg(feature = "test-trap")]
    trap: bool,
    /// The client sent the cluster header (which only the filter may set).
    cluster_header: bool,
}

impl RouterHttp {
    pub fn new(shared: Option<Rc<Shared>>) -> Self {
        RouterHttp {
            shared,
            path: String::new(),
            task: None,
            session: None,
            request_id: None,
            caller: CallerFacts::default(),
            has_content_length: false,
            body_size: 0,
            decision: None,
            client_model: None,
            timing: Timing::default(),
            reply: Reply::default(),
            usage: UsageScanner::new(),
            accounted: false,
            retry: None,
            json_ends: None,
            cascade: None,
        }
    }

    fn head(&self) -> RequestHead<'_> {
        RequestHead {
            path: &self.path,
            task: self.task.as_deref(),
            session: self.session.as_deref(),
            request_id: self.request_id.as_deref(),
            caller: Caller {
                peer_uri_san: self.caller.peer_uri_san.as_deref(),
                peer_dns_san: self.caller.peer_dns_san.as_deref(),
                source_address: self.caller.source_address.as_deref(),
                trusted_header: self.caller.trusted_header,
            },
        }
    }

    fn env(&self) -> Env<'static> {
        Env {
            store: &HostStore,
            now_ns: self.timing.start_ns,
        }
    }
}

impl Context for RouterHttp {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        // Each ignores a token it did not send.
        self.call_answered(token_id, num_headers, body_size);
        if let Some(shared) = self.shared.clone() {
            self.cascade_call_response(&shared, token_id, body_size);
        }
    }
}

impl HttpContext for RouterHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(shared) = self.shared.clone() else {
            return Action::Continue;
        };
        self.timing.start_ns = now_ns().unwrap_or(0);
        let facts = self.read_headers(&shared.config);
        self.read_caller(&shared.config);
        #[cfg(feature = "test-trap")]
        if facts.trap {
            // Test builds only: a VM trap, as a bug would cause (tests/e2e/test_bypass.py).
            core::arch::wasm32::unreachable();
        }
        let body = BodyHead {
            content_type: facts.content_type.as_deref(),
            content_encoding: facts.content_encoding.as_deref(),
            content_length: facts
                .content_length
                .as_deref()
                .and_then(|v| v.trim().parse::<usize>().ok()),
            end_of_stream,
        };
        match shared.config.screen(&self.path, &body) {
            Some(reason) => self.unrewritten(&shared, reason),
            // Hold the headers until the body is complete: the cluster header depends on it.
            None => Action::Pause,
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(shared) = self.shared.clone() else {
            return Action::Continue;
        };
        if self.decision.is_some() {
            self.scan_client_model(body_size);
            return Action::Continue;
        }
        self.body_size = body_size;
        if body_size > shared.config.max_body_bytes {
            let action = self.unrewritten(&shared, PassReason::TooLarge);
            self.scan_client_model(body_size);
            return action;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        self.route_buffered(&shared)
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // Trailers end the request without an end-of-stream body callback; the headers are
        // still held, so the buffered body is routed as usual.
        match self.shared.clone() {
            Some(shared) if self.decision.is_none() => self.route_buffered(&shared),
            _ => Action::Continue,
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        // A failed-over answer sent as a local reply comes through here again: it is done.
        if self.accounted {
            return Action::Continue;
        }
        self.settle_client_model();
        let (Some(shared), Some(decision)) = (self.shared.clone(), self.decision.as_ref()) else {
            return Action::Continue;
        };
        self.usage.expect(decision.api, decision.stream);
        let facts = read_response_headers();
        // The response-code-details property costs a few µs: it is read only for an answer
        // the router's header does not already show came from the upstream.
        let details = if facts.upstream_timed {
            String::new()
        } else {
            property_text(attribute::CODE_DETAILS).unwrap_or_default()
        };
        self.reply = Reply {
            status: facts.status,
            from_upstream: facts.upstream_timed || details == attribute::VIA_UPSTREAM,
        };
        let failure = self
            .reply
            .status
            .and_then(|status| Failure::of_response(status, self.reply.from_upstream, &details));
        let decision = decision.clone();
        // Every policy skips a model that is shedding load or failing (Envoy's 503 for a
        // refused connection included), for its Retry-After or the default cool-down.
        if failure.is_some() {
            let now_s = now_ns().unwrap_or(0) / 1_000_000_000;
            let retry_after = facts
                .retry_after
                .as_deref()
                .and_then(|v| retry_after_seconds(v, now_s));
            self.note_health(&shared, &decision, failure, retry_after);
        }
        if let Some(failure) = failure.filter(|f| shared.config.moves_on(&decision, *f)) {
            if self.retry.is_some() {
                let action = self.first_attempt_failed(&shared, failure, end_of_stream);
                if action == Action::Pause {
                    return action;
                }
            }
        }
        self.add_decision_headers(&shared.config, &decision);
        if self.cascade_holds() {
            // The gate reads the whole answer before any of it goes to the client.
            return if end_of_stream {
                self.cascade_end(&shared, &[])
            } else {
                Action::Pause
            };
        }
        let json = facts.content_type.is_some_and(|t| t.contains("json"));
        if json && !decision.stream && self.reply.upstream_succeeded() {
            self.json_ends = Some(JsonEnds::default());
        }
        if end_of_stream {
            self.account(true);
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self
            .retry
            .as_ref()
            .is_some_and(|r| r.holding || r.is_calling())
            && !self.accounted
        {
            if let Some(shared) = self.shared.clone() {
                return self.held_body(&shared, body_size, end_of_stream);
            }
        }
        if self.decision.is_none() || self.accounted {
            return Action::Continue;
        }
        if let Some(shared) = self.shared.clone().filter(|_| self.cascade_holds()) {
            if !end_of_stream {
                return Action::Pause;
            }
            let body = host::buffer(BufferType::ResponseBody, 0, body_size)
                .map_err(|e| log::warn!("cannot read the answer to check: host status {}", e.0))
                .unwrap_or_default();
            return self.cascade_end(&shared, &body);
        }
        // Envoy's own reply cannot change the account (`Reply::body_may_count`): its chunks
        // are not copied into the VM.
        if body_size > 0 && self.reply.body_may_count() {
            // TTFT and TTFB are the model's: Envoy's own error replies do not count. Until
            // the core has seen the first content token, each chunk's arrival is read.
            let timed = self.reply.from_upstream && !self.usage.first_token_seen();
            let now = if timed { now_ns() } else { None };
            if timed && self.timing.first_byte_ns.is_none() {
                self.timing.first_byte_ns = now;
            }
            // Each callback sees only the chunk that has not been passed on yet.
            timing::timed(Part::ResponseChunk, || {
                match host::buffer(BufferType::ResponseBody, 0, body_size) {
                    Ok(chunk) => {
                        self.usage.feed(&chunk);
                        if let Some(ends) = self.json_ends.as_mut() {
                            ends.feed(&chunk);
                        }
                    }
                    Err(e) => log::debug!("cannot read a response chunk: host status {}", e.0),
                }
            });
            if timed && self.usage.first_token_seen() {
                self.timing.first_token_ns = now;
                self.learn_ttft();
            }
        }
        if end_of_stream {
            self.account(true);
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        // A response torn down before its end still gets a record, with what was seen.
        self.account(false);
    }
}

impl RouterHttp {
    /// The held first answer is complete: the gate decides; a served answer is accounted.
    fn cascade_end(&mut self, shared: &Shared, body: &[u8]) -> Action {
        let action = self.cascade_answer(shared, body);
        if action == Action::Continue {
            self.account(true);
        }
        action
    }
}

fn now_ns() -> Option<u64> {
    host::now_ns()
        .map_err(|e| log::debug!("no clock: host status {}", e.0))
        .ok()
}

/// A string attribute; `None` when absent or unreadable.
fn property_text(path: &[&str]) -> Option<String> {
    host::property(path)
        .map_err(|e| log::debug!("cannot read property {path:?}: host status {}", e.0))
        .ok()
        .flatten()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
}

fn set_state(key: &str, value: &str) {
    if let Err(e) = host::set_property(key, value.as_bytes()) {
        log::debug!("cannot set filter state {key}: host status {}", e.0);
    }
}

fn warn_on_err(what: &str, result: Result<(), host::HostError>) {
    if let Err(e) = result {
        log::warn!("cannot {what}: host status {}", e.0);
    }
}
