//! The request path: read the headers (and the caller, for the trust allow-list), then
//! apply the decision: cluster header, body, content-length, or the configured rejection.

use proxy_wasm::types::Action;

use super::{property_text, set_state, warn_on_err, RequestFacts, RouterHttp};
use crate::host::{self, BufferType, MapType};
use crate::root::Shared;
use crate::timing::{self, Part};
use tier_router_core::account::{record_json, Reply};
use tier_router_core::bypass::ClientModelScanner;
use tier_router_core::config::FilterStateLayout;
use tier_router_core::names::{attribute, state};
use tier_router_core::usage::UsageScanner;
use tier_router_core::{wire, Admit, Config, Decision, PassReason, Rejection, Routed};

impl RouterHttp {
    /// The caller's mTLS SANs and address, for a request that names a task under an
    /// allow-list (up to three host calls; none for other requests).
    pub(super) fn read_caller(&mut self, config: &Config) {
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

    /// Reads what the decision needs from the request headers, all in one host call;
    /// removes any client-sent cluster header so no client can pick a cluster.
    pub(super) fn read_headers(&mut self, config: &Config) -> RequestFacts {
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
        for (name, value) in config.attempt_headers(&decision) {
            warn_on_err(
                "set a timeout header",
                host::set_header(MapType::RequestHeaders, name, &value),
            );
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
            Admit::Forward(routed) if shared.config.refuses(&routed.decision) => {
                self.refuse_tier_down(shared, &routed.decision);
                Action::Pause
            }
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
    pub(super) fn unrewritten(&mut self, shared: &Shared, reason: PassReason) -> Action {
        let admit = shared
            .config
            .unrewritten(&self.head(), reason, None, &self.env());
        self.admit(shared, admit, 0)
    }

    /// `on_tier_down: error`: every model of the tier is cooling down; nothing goes upstream.
    /// Logged and counted as a 503 of the tier (its error rate and tier-down alert see it);
    /// the response path leaves this local reply alone (no decision is kept).
    fn refuse_tier_down(&mut self, shared: &Shared, decision: &Decision) {
        let config = &shared.config;
        let mut timing = self.timing;
        timing.end_ns = super::now_ns();
        let account = config.account(decision, &UsageScanner::new(), timing, Reply::local(503));
        shared.metrics.decided(decision);
        shared.metrics.accounted(decision, &account);
        let mut fields = config.log_record(decision, &account);
        fields.push((state::TIER_DOWN, "true".to_string()));
        fields.push((state::REJECTED, "true".to_string()));
        match config.filter_state {
            FilterStateLayout::Record => set_state(state::RECORD, &record_json(&fields)),
            FilterStateLayout::Fields => {
                for (key, value) in fields {
                    set_state(key, &value);
                }
            }
        }
        let headers = wire::serialize_pairs(&[("content-type", "application/json")]);
        let body = config.tier_down_body(decision);
        let sent =
            host::send_http_response(503, "tier_router_tier_down", &headers, body.as_bytes());
        warn_on_err("send the tier-down reply", sent);
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
    pub(super) fn route_buffered(&mut self, shared: &Shared) -> Action {
        let body = timing::timed(Part::BodyRead, || {
            host::buffer(BufferType::RequestBody, 0, self.body_size)
        });
        match body {
            Ok(body) => {
                let admit = timing::timed(Part::Route, || {
                    shared.config.route_body(&self.head(), &body, &self.env())
                });
                let action =
                    timing::timed(Part::Apply, || self.admit(shared, admit, self.body_size));
                // A gated cascade keeps the body itself; any other request may fail over.
                if let Some(body) = self.begin_cascade(shared, body) {
                    timing::timed(Part::KeepForRetry, || self.keep_for_retry(shared, body));
                }
                action
            }
            Err(e) => {
                log::warn!("cannot read the request body: host status {}", e.0);
                self.unrewritten(shared, PassReason::BodyNotRead)
            }
        }
    }

    /// Feeds the chunk that is about to pass to the client-model scanner, until it knows.
    pub(super) fn scan_client_model(&mut self, body_size: usize) {
        let Some(scanner) = self.client_model.as_mut().filter(|s| !s.done()) else {
            return;
        };
        match host::buffer(BufferType::RequestBody, 0, body_size) {
            Ok(chunk) => scanner.feed(&chunk),
            Err(e) => log::debug!("cannot read a request chunk: host status {}", e.0),
        }
    }
}
