//! Per-request context. Request path: hold the headers, buffer a JSON body up to
//! `max_body_bytes`, ask the core for a decision, then set the cluster header, the body and
//! the filter state. Response path: tell the client where the request went, scan each body
//! chunk for usage as it passes (never holding it), and account when the response ends.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::host::{self, BufferType, MapType};
use crate::root::Shared;
use crate::store::HostStore;
use tier_router_core::account::{record_json, Reply, Timing};
use tier_router_core::bypass::ClientModelScanner;
use tier_router_core::config::{FilterStateLayout, PolicyKind};
use tier_router_core::names::{attribute, state, PASSTHROUGH_TIER};
use tier_router_core::trust::Caller;
use tier_router_core::usage::UsageScanner;
use tier_router_core::{wire, Admit, BodyHead, Config, Decision, Env, PassReason, Rejection};
use tier_router_core::{RequestHead, Routed};

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

    /// The caller's mTLS SANs and address, for a request that names a task under an
    /// allow-list (up to three host calls; none for other requests).
    fn read_caller(&mut self, config: &Config) {
        let Some(trusted) = &config.trusted_callers else {
            return;
        };
        if !config.reads_caller(&self.head()) {
            return;
        }
        if trusted.reads_principals() {
            self.caller.peer_uri_san = property_text(attribute::PEER_URI_SAN);
            self.caller.peer_dns_san = property_text(attribute::PEER_DNS_SAN);
        }
        if trusted.reads_source() {
            self.caller.source_address = property_text(attribute::SOURCE_ADDRESS);
        }
    }

    fn env(&self) -> Env<'static> {
        Env {
            store: &HostStore,
            now_ns: self.timing.start_ns,
        }
    }

    /// Reads what the decision needs from the request headers, all in one host call;
    /// removes any client-sent cluster header so no client can pick a cluster.
    fn read_headers(&mut self, config: &Config) -> RequestFacts {
        let serialized = host::header_pairs(MapType::RequestHeaders)
            .map_err(|e| log::warn!("cannot read the request headers: host status {}", e.0))
            .unwrap_or_default();
        let Some(pairs) = wire::header_pairs(&serialized) else {
            log::warn!("request headers arrived in a layout this filter cannot read");
            let removed = host::remove_header(MapType::RequestHeaders, &config.headers.cluster);
            warn_on_err("remove the client's cluster header", removed);
            return RequestFacts::default();
        };
        let session_header = config.sessions.as_ref().map(|s| s.header.as_str());
        let trusted_header = config
            .trusted_callers
            .as_ref()
            .and_then(|t| t.header.as_deref());
        let mut facts = RequestFacts::default();
        // The first of repeated headers counts, as with Envoy's single-header lookup.
        for (name, value) in pairs {
            let slot = match name {
                b":path" => &mut facts.path,
                b"content-length" => &mut facts.content_length,
                b"content-type" => &mut facts.content_type,
                b"content-encoding" => &mut facts.content_encoding,
                #[cfg(feature = "test-trap")]
                n if n == tier_router_core::names::TEST_TRAP_HEADER.as_bytes() => {
                    facts.trap = true;
                    continue;
                }
                n if n == config.headers.task.as_bytes() => &mut self.task,
                n if n == config.headers.request_id.as_bytes() => &mut self.request_id,
                n if Some(n) == session_header.map(str::as_bytes) => &mut self.session,
                n if n == config.headers.cluster.as_bytes() => {
                    facts.cluster_header = true;
                    continue;
                }
                n if Some(n) == trusted_header.map(str::as_bytes) => {
                    self.caller.trusted_header = true;
                    continue;
                }
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(String::from_utf8_lossy(value).into_owned());
            }
        }
        self.path = facts.path.take().unwrap_or_default();
        if facts.cluster_header {
            let removed = host::remove_header(MapType::RequestHeaders, &config.headers.cluster);
            warn_on_err("remove the client's cluster header", removed);
        }
        self.has_content_length = facts.content_length.is_some();
        facts
    }

    fn apply(&mut self, shared: &Shared, routed: Routed, body_size: usize) {
        let config = &shared.config;
        let decision = routed.decision;
        let model = config.model(decision.model);
        if let Some(new_body) = &routed.new_body {
            self.replace_body(body_size, new_body);
        }
        // A shadowed request, or one no model serves the API of, keeps the route it would have
        // taken without the router; so does a pass-through, unless `passthrough.cluster` names one.
        if let Some(cluster) = config.cluster_for(&decision) {
            let cluster =
                host::set_header(MapType::RequestHeaders, &config.headers.cluster, cluster);
            warn_on_err("set the cluster header", cluster);
        }
        // The client's cluster header was removed in any case; newer Envoy ABIs no longer
        // re-pick the route when a header changes.
        if let Err(e) = host::call_foreign("clear_route_cache", &[]) {
            log::debug!("clear_route_cache unavailable: host status {}", e.0);
        }
        shared.metrics.decided(&decision);
        if decision
            .untouched
            .as_ref()
            .is_some_and(|u| u.reason.body_readable())
        {
            self.client_model = Some(ClientModelScanner::new());
        }
        log::debug!(
            "path={} tier={} model={} source={} body={:?}",
            self.path,
            config.tier_name(&decision),
            model.name,
            decision.source.as_str(),
            decision.body
        );
        self.decision = Some(decision);
    }

    fn replace_body(&self, old_size: usize, new_body: &[u8]) {
        if let Err(e) = host::set_buffer(BufferType::RequestBody, 0, old_size, new_body) {
            log::warn!(
                "cannot rewrite the request body, sending it unchanged: host status {}",
                e.0
            );
            return;
        }
        // Envoy does not fix content-length after a body change; a stale one truncates the JSON.
        if self.has_content_length {
            let length = new_body.len().to_string();
            warn_on_err(
                "update content-length",
                host::set_header(MapType::RequestHeaders, "content-length", &length),
            );
        }
    }

    /// Forwards the request, or answers it with the configured rejection.
    fn admit(&mut self, shared: &Shared, admit: Admit, body_size: usize) -> Action {
        match admit {
            Admit::Forward(routed) => {
                self.apply(shared, routed, body_size);
                Action::Continue
            }
            Admit::Reject(rejection) => {
                self.reject(shared, &rejection);
                Action::Pause
            }
        }
    }

    /// A request the router does not rewrite, for `reason`.
    fn unrewritten(&mut self, shared: &Shared, reason: PassReason) -> Action {
        let admit = shared
            .config
            .unrewritten(&self.head(), reason, None, &self.env());
        self.admit(shared, admit, 0)
    }

    fn reject(&mut self, shared: &Shared, rejection: &Rejection) {
        shared.metrics.rejected(rejection.reason);
        for (key, value) in shared.config.rejection_fields(rejection) {
            set_state(key, &value);
        }
        let headers = wire::serialize_pairs(&[("content-type", "application/json")]);
        let details = format!("tier_router_{}", rejection.reason.as_str());
        let sent = host::send_http_response(
            u32::from(rejection.status),
            &details,
            &headers,
            rejection.body.as_bytes(),
        );
        if let Err(e) = sent {
            // The request stays held; Envoy's stream timeout ends it. It reaches no upstream.
            log::warn!(
                "cannot send the {} reply: host status {}",
                rejection.status,
                e.0
            );
        }
    }

    /// Routes the whole buffered request body.
    fn route_buffered(&mut self, shared: &Shared) -> Action {
        match host::buffer(BufferType::RequestBody, 0, self.body_size) {
            Ok(body) => {
                let admit = shared.config.route_body(&self.head(), &body, &self.env());
                self.admit(shared, admit, self.body_size)
            }
            Err(e) => {
                log::warn!("cannot read the request body: host status {}", e.0);
                self.unrewritten(shared, PassReason::BodyNotRead)
            }
        }
    }

    /// Feeds the chunk that is about to pass to the client-model scanner, until it knows.
    fn scan_client_model(&mut self, body_size: usize) {
        let Some(scanner) = self.client_model.as_mut().filter(|s| !s.done()) else {
            return;
        };
        match host::buffer(BufferType::RequestBody, 0, body_size) {
            Ok(chunk) => scanner.feed(&chunk),
            Err(e) => log::debug!("cannot read a request chunk: host status {}", e.0),
        }
    }

    /// Writes the client's `model` read so far into the decision (for the response headers
    /// and the log).
    fn settle_client_model(&mut self) {
        let (Some(shared), Some(scanner), Some(decision)) =
            (&self.shared, &self.client_model, self.decision.as_mut())
        else {
            return;
        };
        shared.config.note_client_model(decision, scanner.model());
    }

    /// Accounts once, when the response ends (or the stream is torn down first).
    fn account(&mut self) {
        self.settle_client_model();
        let (Some(shared), Some(decision)) = (self.shared.clone(), self.decision.as_ref()) else {
            return;
        };
        if self.accounted {
            return;
        }
        self.accounted = true;
        if self.timing.end_ns.is_none() {
            self.timing.end_ns = now_ns();
        }
        let account = shared
            .config
            .account(decision, &self.usage, self.timing, self.reply);
        let fields = shared.config.log_record(decision, &account);
        match shared.config.filter_state {
            FilterStateLayout::Record => set_state(state::RECORD, &record_json(&fields)),
            FilterStateLayout::Fields => {
                for (key, value) in &fields {
                    set_state(key, value);
                }
            }
        }
        shared.metrics.accounted(decision, &account);
    }

    /// Feeds `fastest_ttft`: every VM learns from every response its tier routed.
    fn learn_ttft(&self) {
        let (Some(shared), Some(decision)) = (&self.shared, &self.decision) else {
            return;
        };
        let learns = decision.policy == Some(PolicyKind::FastestTtft);
        let answered = self
            .reply
            .upstream_status()
            .is_some_and(|s| (200..300).contains(&s));
        if !learns || !decision.is_served() || !answered {
            return;
        }
        if let Some(ttft_us) = self.timing.ttft_us() {
            let ttft_ms = ttft_us as f64 / 1_000.0;
            shared
                .config
                .record_ttft(decision.model, ttft_ms, &HostStore);
        }
    }

    fn add_decision_headers(&self, config: &Config, decision: &Decision) {
        if !config.decision_headers || !decision.is_served() {
            return;
        }
        let tier = if decision.is_passthrough() {
            PASSTHROUGH_TIER
        } else {
            config.tier_name(decision)
        };
        let tier = host::set_header(
            MapType::ResponseHeaders,
            &config.headers.response_tier,
            tier,
        );
        warn_on_err("set the tier response header", tier);
        if let Some(model) = config.upstream_model(decision) {
            let model = host::set_header(
                MapType::ResponseHeaders,
                &config.headers.response_model,
                model,
            );
            warn_on_err("set the model response header", model);
        }
    }
}

impl Context for RouterHttp {}

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
        self.settle_client_model();
        let (Some(shared), Some(decision)) = (self.shared.clone(), self.decision.as_ref()) else {
            return Action::Continue;
        };
        self.reply = Reply {
            status: response_header(":status").and_then(|s| s.parse().ok()),
            from_upstream: property_text(attribute::CODE_DETAILS).as_deref()
                == Some(attribute::VIA_UPSTREAM),
        };
        self.add_decision_headers(&shared.config, decision);
        // `priority` skips a model that is shedding load or failing (Envoy's 503 for a
        // refused connection included; a pass-through's upstream is not the decided model).
        if decision.is_served()
            && !decision.is_passthrough()
            && self.reply.status.is_some_and(|s| s == 429 || s >= 500)
        {
            shared
                .config
                .mark_unhealthy(decision.model, now_ns().unwrap_or(0), &HostStore);
        }
        if end_of_stream {
            self.account();
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.decision.is_none() || self.accounted {
            return Action::Continue;
        }
        if body_size > 0 {
            // TTFT is the model's: Envoy's own error replies do not count.
            if self.reply.from_upstream && self.timing.first_byte_ns.is_none() {
                self.timing.first_byte_ns = now_ns();
                self.learn_ttft();
            }
            // Each callback sees only the chunk that has not been passed on yet.
            match host::buffer(BufferType::ResponseBody, 0, body_size) {
                Ok(chunk) => self.usage.feed(&chunk),
                Err(e) => log::debug!("cannot read a response chunk: host status {}", e.0),
            }
        }
        if end_of_stream {
            self.account();
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        // A response torn down before its end still gets a record, with what was seen.
        self.account();
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

fn response_header(name: &str) -> Option<String> {
    header(MapType::ResponseHeaders, name)
}

fn header(map: MapType, name: &str) -> Option<String> {
    host::header_text(map, name)
        .map_err(|e| log::warn!("cannot read header {name}: host status {}", e.0))
        .ok()
        .flatten()
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
