//! Requests the router does not rewrite. Only the configured LLM endpoints (`endpoints`) are
//! read; every other request, and every LLM call whose body cannot be rewritten (too large,
//! content-encoded, not JSON by content type, not a JSON object), gets the configured outcome:
//! `pass` forwards it untouched to the pass-through route (`passthrough.cluster`, else the
//! route's catch-all) and logs the client's model; `reject` answers with an OpenAI-shaped
//! error. A body the router did not rewrite never goes to a router-chosen cluster logged as
//! the router's model (`read_body: false` routes by cluster only, and logs no model).

mod client_model;

pub use client_model::ClientModelScanner;

use crate::config::{Config, ModelId, Outcome};
use crate::decide::{BodyStatus, Decision, Env, RequestHead, Routed, Side};
use crate::names::{state, PASSTHROUGH_TIER, UNPRICED};

/// Why a request was not rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassReason {
    /// The path is not one of `endpoints` (embeddings, images, audio, files, ...).
    Endpoint,
    /// The request ended with its headers.
    NoBody,
    /// `read_body` is off: routed from the headers alone.
    BodyNotRead,
    TooLarge,
    Encoded,
    NotJson,
    InvalidJson,
}

impl PassReason {
    pub const ALL: [PassReason; 7] = [
        PassReason::Endpoint,
        PassReason::NoBody,
        PassReason::BodyNotRead,
        PassReason::TooLarge,
        PassReason::Encoded,
        PassReason::NotJson,
        PassReason::InvalidJson,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PassReason::Endpoint => "endpoint",
            PassReason::NoBody => "no_body",
            PassReason::BodyNotRead => "body_not_read",
            PassReason::TooLarge => "too_large",
            PassReason::Encoded => "encoded",
            PassReason::NotJson => "not_json",
            PassReason::InvalidJson => "invalid_json",
        }
    }

    /// Whether the body goes by as plain bytes in which the client's `model` can be read
    /// (not compressed, not already parsed, not absent).
    pub fn body_readable(self) -> bool {
        matches!(
            self,
            PassReason::Endpoint | PassReason::TooLarge | PassReason::NotJson
        )
    }

    /// Whether `unrewritable` may reject it; the others always pass.
    pub fn can_reject(self) -> bool {
        matches!(
            self,
            PassReason::TooLarge
                | PassReason::Encoded
                | PassReason::NotJson
                | PassReason::InvalidJson
        )
    }
}

/// A request forwarded without the router's decision in its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Untouched {
    pub reason: PassReason,
    /// The `model` the client sent, when the router read it.
    pub client_model: Option<String>,
    /// The configured model of that name, whose price applies.
    pub priced: Option<ModelId>,
}

/// What the request headers say about the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct BodyHead<'a> {
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
    pub content_length: Option<usize>,
    /// The request ended with its headers.
    pub end_of_stream: bool,
}

/// An error answered by the router; nothing goes upstream.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub status: u16,
    pub reason: PassReason,
    /// `{"error":{"message":...,"type":...,"code":...}}`.
    pub body: String,
}

/// What the adapter does with a request.
// Made once per request and taken apart at once: boxing `Routed` would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Admit {
    Forward(Routed),
    Reject(Rejection),
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Config {
    /// Whether the headers already rule out reading the body, and why; `None`: read it.
    pub fn screen(&self, path: &str, body: &BodyHead<'_>) -> Option<PassReason> {
        let encoded = body
            .content_encoding
            .is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
        let json = body
            .content_type
            .is_none_or(|ct| ct.to_ascii_lowercase().contains("json"));
        let too_large = body.content_length.is_some_and(|n| n > self.max_body_bytes);
        if !self.is_llm_endpoint(path) {
            Some(PassReason::Endpoint)
        } else if body.end_of_stream {
            Some(PassReason::NoBody)
        } else if !self.read_body {
            Some(PassReason::BodyNotRead)
        } else if encoded {
            Some(PassReason::Encoded)
        } else if !json {
            Some(PassReason::NotJson)
        } else if too_large {
            Some(PassReason::TooLarge)
        } else {
            None
        }
    }

    /// The path (without its query or a trailing `/`) ends with one of `endpoints` at a
    /// segment boundary: `/v1/chat/completions`, `/api/chat/v1/messages`.
    pub fn is_llm_endpoint(&self, path: &str) -> bool {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        let path = path.trim_end_matches('/');
        self.bypass
            .endpoints
            .iter()
            .any(|e| path.ends_with(e.as_str()))
    }

    /// The configured outcome for a request not rewritten for `reason`.
    pub fn outcome(&self, reason: PassReason) -> Outcome {
        let u = &self.bypass.unrewritable;
        match reason {
            PassReason::TooLarge => u.too_large,
            PassReason::Encoded => u.encoded,
            PassReason::NotJson => u.not_json,
            PassReason::InvalidJson => u.invalid_json,
            PassReason::Endpoint | PassReason::NoBody | PassReason::BodyNotRead => Outcome::Pass,
        }
    }

    /// A request that is not rewritten: its outcome. `client_model` is the `model` the
    /// client sent, when known.
    pub fn unrewritten(
        &self,
        head: &RequestHead<'_>,
        reason: PassReason,
        client_model: Option<&str>,
        env: &Env<'_>,
    ) -> Admit {
        if self.outcome(reason) == Outcome::Reject {
            return Admit::Reject(self.rejection(reason));
        }
        let untouched = Untouched {
            reason,
            client_model: client_model.map(str::to_string),
            priced: client_model.and_then(|m| self.model_id(m)),
        };
        let decision = if reason == PassReason::BodyNotRead {
            // Header-only routing: the cluster follows the explicit task, the body stays
            // the client's, so no model is logged or priced.
            let mut routed = self.route_head(head, BodyStatus::Skipped, env);
            routed.decision.untouched = Some(untouched);
            routed.decision
        } else {
            let mut decision = self.fallback(None);
            decision.untouched = Some(untouched);
            decision.body = match reason {
                PassReason::NoBody | PassReason::Endpoint => BodyStatus::Absent,
                PassReason::InvalidJson => BodyStatus::NotJson,
                _ => BodyStatus::Skipped,
            };
            decision
        };
        Admit::Forward(Routed {
            decision,
            new_body: None,
        })
    }

    /// The whole body of an LLM call: routed and rewritten, or, when it is not a JSON object,
    /// the `invalid_json` outcome. A leading UTF-8 BOM is tolerated and kept.
    pub fn route_body(&self, head: &RequestHead<'_>, body: &[u8], env: &Env<'_>) -> Admit {
        let (bom, json) = match body.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, body),
        };
        if json.iter().all(u8::is_ascii_whitespace) {
            return self.unrewritten(head, PassReason::NoBody, None, env);
        }
        let mut routed = self.route_in(head, Some(json), env);
        if routed.decision.body != BodyStatus::Json {
            let client_model = ClientModelScanner::model_of(json);
            return self.unrewritten(head, PassReason::InvalidJson, client_model.as_deref(), env);
        }
        if bom {
            routed.new_body = routed.new_body.map(|b| [BOM, &b].concat());
        }
        if !routed.decision.is_served() {
            // The body goes up as the client sent it: say which model it names.
            routed.decision.sent_model = ClientModelScanner::model_of(json);
        }
        Admit::Forward(routed)
    }

    /// Records the client's `model`, read from the passed body, for the log and the price.
    pub fn note_client_model(&self, decision: &mut Decision, model: Option<&str>) {
        if let Some(untouched) = decision.untouched.as_mut() {
            untouched.client_model = model.map(str::to_string);
            untouched.priced = model.and_then(|m| self.model_id(m));
        }
    }

    /// The cluster header's value for a decision; `None`: set none (the route's catch-all).
    pub fn cluster_for(&self, decision: &Decision) -> Option<&str> {
        match &decision.untouched {
            Some(u) if u.reason != PassReason::BodyNotRead => self.bypass.cluster.as_deref(),
            _ if decision.is_served() => Some(&self.model(decision.model).cluster),
            _ => None,
        }
    }

    /// The model the upstream received, as logged: the router's for a rewritten body, the
    /// client's (if read) otherwise. Shadow lines keep the decision (`tier_router.shadow`).
    pub fn upstream_model<'a>(&'a self, decision: &'a Decision) -> Option<&'a str> {
        match &decision.untouched {
            Some(u) => u.client_model.as_deref(),
            None => Some(&self.model(decision.model).name),
        }
    }

    /// `tier_router.rewritten`, `tier_router.pass_reason`, `tier_router.priced_as`.
    pub fn rewrite_fields(&self, decision: &Decision) -> Vec<(&'static str, String)> {
        let reason = match (&decision.untouched, decision.side) {
            (Some(u), _) => Some(u.reason.as_str()),
            (None, Side::Shadow) => Some("shadow"),
            // No model serves the request's API shape: sent as it came (`tier_router.edits`).
            (None, Side::Routed) if !decision.is_served() => Some("no_compatible_model"),
            (None, Side::Routed) => None,
        };
        let priced_as = decision
            .priced_model()
            .filter(|m| self.model(*m).price.is_some())
            .map_or(UNPRICED, |m| self.model(m).name.as_str());
        let mut fields = vec![(state::REWRITTEN, reason.is_none().to_string())];
        if let Some(reason) = reason {
            fields.push((state::PASS_REASON, reason.to_string()));
        }
        if let Some(model) = &decision.sent_model {
            fields.push((state::SENT_MODEL, model.clone()));
        }
        fields.push((state::PRICED_AS, priced_as.to_string()));
        fields
    }

    /// The log fields of a pass-through (any reason but `body_not_read`, which keeps the
    /// decision's fields): no tier, source or cues were chosen.
    pub fn passthrough_fields(&self, decision: &Decision) -> Option<Vec<(&'static str, String)>> {
        let untouched = decision.untouched.as_ref()?;
        if untouched.reason == PassReason::BodyNotRead {
            return None;
        }
        let mut fields = vec![(state::TIER, PASSTHROUGH_TIER.to_string())];
        if let Some(model) = &untouched.client_model {
            fields.push((state::MODEL, model.clone()));
        }
        fields.extend(self.rewrite_fields(decision));
        Some(fields)
    }

    /// The log fields of a rejected request.
    pub fn rejection_fields(&self, rejection: &Rejection) -> Vec<(&'static str, String)> {
        vec![
            (state::TIER, PASSTHROUGH_TIER.to_string()),
            (state::REWRITTEN, "false".to_string()),
            (state::PASS_REASON, rejection.reason.as_str().to_string()),
            (state::REJECTED, "true".to_string()),
            (state::PRICED_AS, UNPRICED.to_string()),
        ]
    }

    fn rejection(&self, reason: PassReason) -> Rejection {
        let (status, code, message) = match reason {
            PassReason::TooLarge => (
                413,
                "request_too_large",
                format!(
                    "the request body is larger than this router reads ({} bytes); send a \
                     smaller request",
                    self.max_body_bytes
                ),
            ),
            PassReason::Encoded => (
                415,
                "unsupported_content_encoding",
                "the request body has a content-encoding; send it uncompressed".to_string(),
            ),
            PassReason::NotJson => (
                415,
                "unsupported_content_type",
                "the request body is not JSON by its content-type; send application/json"
                    .to_string(),
            ),
            _ => (
                400,
                "invalid_json",
                "the request body is not a JSON object".to_string(),
            ),
        };
        // The messages are fixed text without quotes or backslashes: no escaping needed.
        let body = format!(
            r#"{{"error":{{"message":"{message}","type":"invalid_request_error","code":"{code}"}}}}"#
        );
        Rejection {
            status,
            reason,
            body,
        }
    }
}

impl Decision {
    /// The model whose price applies: the router's for a rewritten body, the client's
    /// configured model for an untouched one (`None`: unknown or not configured).
    pub fn priced_model(&self) -> Option<ModelId> {
        match &self.untouched {
            Some(u) => u.priced,
            None => Some(self.model),
        }
    }

    /// The request went to the pass-through route, not to a tier.
    pub fn is_passthrough(&self) -> bool {
        self.untouched
            .as_ref()
            .is_some_and(|u| u.reason != PassReason::BodyNotRead)
    }
}
