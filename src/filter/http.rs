//! Per-request context: hold the headers, buffer a JSON body up to `max_body_bytes`, ask the
//! core for a decision, then set the cluster header, the body and the filter state.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use super::host::{self, BufferType, MapType};
use super::root::Shared;
use crate::names::state;
use crate::{BodyStatus, Config, RequestHead, Routed};

pub struct RouterHttp {
    shared: Option<Rc<Shared>>,
    path: String,
    task: Option<String>,
    has_content_length: bool,
    /// The decision has been applied; later callbacks pass everything through.
    decided: bool,
}

impl RouterHttp {
    pub fn new(shared: Option<Rc<Shared>>) -> Self {
        RouterHttp {
            shared,
            path: String::new(),
            task: None,
            has_content_length: false,
            decided: false,
        }
    }

    fn head(&self) -> RequestHead<'_> {
        RequestHead {
            path: &self.path,
            task: self.task.as_deref(),
        }
    }

    /// Reads what the decision needs from the request headers; removes any client-sent
    /// cluster header so no client can pick a cluster.
    fn read_headers(&mut self, config: &Config) -> Option<usize> {
        warn_on_err(
            "remove the client's cluster header",
            host::remove_header(MapType::RequestHeaders, &config.headers.cluster),
        );
        self.path = request_header(":path").unwrap_or_default();
        self.task = request_header(&config.headers.task);
        let content_length =
            request_header("content-length").and_then(|v| v.trim().parse::<usize>().ok());
        self.has_content_length = content_length.is_some();
        content_length
    }

    fn apply(&mut self, shared: &Shared, routed: Routed, body_size: usize) {
        self.decided = true;
        let config = &shared.config;
        let decision = &routed.decision;
        let model = config.model(decision.model);
        if let Some(new_body) = &routed.new_body {
            self.replace_body(body_size, new_body);
        }
        warn_on_err(
            "set the cluster header",
            host::set_header(
                MapType::RequestHeaders,
                &config.headers.cluster,
                &model.cluster,
            ),
        );
        // Newer Envoy ABIs no longer re-pick the route when a header changes.
        if let Err(e) = host::call_foreign("clear_route_cache") {
            log::debug!("clear_route_cache unavailable: host status {}", e.0);
        }
        set_state(state::TIER, config.tier_name(decision));
        set_state(state::MODEL, &model.name);
        set_state(state::SOURCE, decision.source.as_str());
        set_state(state::CUES, &config.cue_list(decision));
        if decision.untrusted_task.is_some() {
            shared.metrics.untrusted_task();
        }
        log::debug!(
            "path={} tier={} model={} source={} body={:?}",
            self.path,
            config.tier_name(decision),
            model.name,
            decision.source.as_str(),
            decision.body
        );
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
            warn_on_err(
                "update content-length",
                host::set_header(
                    MapType::RequestHeaders,
                    "content-length",
                    &new_body.len().to_string(),
                ),
            );
        }
    }

    fn skip_body(&mut self, shared: &Shared, status: BodyStatus) {
        if status == BodyStatus::Skipped {
            shared.metrics.body_too_large();
        }
        let routed = shared.config.route_head(&self.head(), status);
        self.apply(shared, routed, 0);
    }
}

impl Context for RouterHttp {}

impl HttpContext for RouterHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(shared) = self.shared.clone() else {
            return Action::Continue;
        };
        let content_length = self.read_headers(&shared.config);
        if end_of_stream {
            let routed = shared.config.route_head(&self.head(), BodyStatus::Absent);
            self.apply(&shared, routed, 0);
            return Action::Continue;
        }
        let too_large = content_length.is_some_and(|n| n > shared.config.max_body_bytes);
        if too_large || !is_json_content_type(request_header("content-type").as_deref()) {
            self.skip_body(
                &shared,
                if too_large {
                    BodyStatus::Skipped
                } else {
                    BodyStatus::NotJson
                },
            );
            return Action::Continue;
        }
        // Hold the headers until the body is complete: the cluster header depends on it.
        Action::Pause
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(shared) = self.shared.clone() else {
            return Action::Continue;
        };
        if self.decided {
            return Action::Continue;
        }
        if body_size > shared.config.max_body_bytes {
            self.skip_body(&shared, BodyStatus::Skipped);
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        match host::buffer(BufferType::RequestBody, 0, body_size) {
            Ok(body) => {
                let routed = shared.config.route(&self.head(), Some(&body));
                self.apply(&shared, routed, body_size);
            }
            Err(e) => {
                log::warn!("cannot read the request body: host status {}", e.0);
                self.skip_body(&shared, BodyStatus::Skipped);
            }
        }
        Action::Continue
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // Trailers end the request without an end-of-stream body callback: decide from the
        // headers rather than hold the request forever.
        if let Some(shared) = self.shared.clone() {
            if !self.decided {
                self.skip_body(&shared, BodyStatus::Skipped);
            }
        }
        Action::Continue
    }
}

/// Absent or `*json*` content types are read; multipart uploads, audio and the like are not.
fn is_json_content_type(content_type: Option<&str>) -> bool {
    content_type.is_none_or(|ct| ct.to_ascii_lowercase().contains("json"))
}

fn request_header(name: &str) -> Option<String> {
    host::header_text(MapType::RequestHeaders, name)
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
