//! The routing decision: explicit task (header, query parameter, path prefix), else the
//! session's pin, else content classification, else the fallback model; the tier's policy
//! picks the model; the rollout (shadow, canary) says whether the decision is served or only
//! logged; then the body edits that carry it out. The caller passes the request, the shared
//! store and the time in, and applies what comes out.

use crate::adapt::{OwnedEdit, ShapeFallback};
use crate::api::ApiShape;
use crate::body::RequestBody;
use crate::bypass::Untouched;
use crate::classify::Classification;
use crate::config::{Config, ModelId, PolicyKind, RolloutMode, TierId};
use crate::names::FALLBACK_TIER;
use crate::policy::PolicyInput;
use crate::session::{Pin, PinStore};
use crate::store::{MemoryStore, SharedStore};
use crate::trust::{Caller, UntrustedReason};

/// What the router reads from the request headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestHead<'a> {
    /// `:path`, query string included.
    pub path: &'a str,
    /// Value of the task header, if present.
    pub task: Option<&'a str>,
    /// Value of the session header, if present.
    pub session: Option<&'a str>,
    /// Value of the request-id header, if present.
    pub request_id: Option<&'a str>,
    /// Who is asking, for `explicit_tasks.trusted`; the adapter fills it only when an
    /// allow-list is configured and the request names a task ([`Config::reads_caller`]).
    pub caller: Caller<'a>,
}

/// An explicit task the router ignored: where it came from, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UntrustedTask {
    pub source: Source,
    pub reason: UntrustedReason,
}

/// State kept across requests and the proxy's clock.
pub struct Env<'a> {
    pub store: &'a dyn SharedStore,
    pub now_ns: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Header,
    Query,
    Path,
    Session,
    Classifier,
    /// The learned model decided (no cue did): `classifier.model`.
    Model,
    Fallback,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Header => "header",
            Source::Query => "query",
            Source::Path => "path",
            Source::Session => "session",
            Source::Classifier => "classifier",
            Source::Model => "model",
            Source::Fallback => "fallback",
        }
    }
}

/// What the router saw of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStatus {
    /// No body (a GET, or a request that ended with its headers).
    Absent,
    /// A JSON object: classified and rewritten.
    Json,
    /// Not a JSON object: passed through untouched.
    NotJson,
    /// Larger than `max_body_bytes`, or not JSON by content type: not read.
    Skipped,
}

/// Whether the decision is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Routed: cluster header and body edits applied.
    Routed,
    /// Decided and logged only; the request goes where it would without the router.
    Shadow,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// `None` when the fallback model serves.
    pub tier: Option<TierId>,
    pub model: ModelId,
    pub source: Source,
    /// An explicit task that was ignored (unknown, or from a caller not trusted to name one).
    pub untrusted_task: Option<UntrustedTask>,
    pub classification: Option<Classification>,
    pub body: BodyStatus,
    /// Bytes of prompt text (system and messages), for the usage estimate.
    pub prompt_bytes: u64,
    /// The client asked for a streamed response.
    pub stream: bool,
    /// The tier policy that picked the model, and the models it considered.
    pub policy: Option<PolicyKind>,
    pub candidates: Vec<ModelId>,
    /// The completion-token floor written into the body, if one was.
    pub floor_applied: Option<u64>,
    /// The request's API shape, from its path (`None`: a path of no known shape).
    pub api: Option<ApiShape>,
    /// Set when the model decided first does not serve the request's API shape.
    pub shape_fallback: Option<ShapeFallback>,
    /// The changes made to the body, in order (`model`, `stream_options`, profile, floor).
    pub edits: Vec<OwnedEdit>,
    pub side: Side,
    /// `Some(in_canary)` when a canary split is configured.
    pub canary: Option<bool>,
    /// Set when the body was not rewritten (`bypass.rs`): why, and the client's model.
    pub untouched: Option<Untouched>,
    /// The client's `model`, which the upstream received, when the decision was not served
    /// (shadow, no compatible model); logged as `tier_router.sent_model`.
    pub sent_model: Option<String>,
    /// Every model of the tier was cooling down when the request came (`on_tier_down`:
    /// `fallback_model` took it, or the request is refused with a 503: `failover.rs`).
    pub tier_down: bool,
}

impl Decision {
    /// The request goes to the decided model's cluster: routed (not shadowed), and some model
    /// serves its API shape.
    pub fn is_served(&self) -> bool {
        self.side == Side::Routed && self.shape_fallback != Some(ShapeFallback::NoneCompatible)
    }
}

/// A decision and, when the body must change, the new body.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    pub decision: Decision,
    pub new_body: Option<Vec<u8>>,
}

impl Config {
    /// [`Config::route_in`] with no state kept between calls (the CLI, tests).
    pub fn route(&self, head: &RequestHead<'_>, body: Option<&[u8]>) -> Routed {
        self.route_in(
            head,
            body,
            &Env {
                store: &MemoryStore::new(),
                now_ns: 0,
            },
        )
    }

    /// Decides for a request whose body is `body` (`None`: not read) and returns the
    /// rewritten body when it changes.
    pub fn route_in(&self, head: &RequestHead<'_>, body: Option<&[u8]>, env: &Env<'_>) -> Routed {
        let scan_bytes = self.classifier.scan_bytes();
        let parsed = body
            .filter(|b| !b.is_empty())
            .map(|b| RequestBody::parse_for(b, scan_bytes, &self.dropped_fields));
        let status = match (&parsed, body) {
            (Some(Ok(_)), _) => BodyStatus::Json,
            (Some(Err(_)), _) => BodyStatus::NotJson,
            (None, Some(_)) => BodyStatus::Absent,
            (None, None) => BodyStatus::Skipped,
        };
        let parsed = parsed.and_then(Result::ok);
        let mut decision = self.decide(head, parsed.as_ref(), env);
        decision.body = status;
        self.rollout(head, &mut decision);
        let new_body = match (body, &parsed) {
            (Some(bytes), Some(parsed)) if decision.side == Side::Routed => {
                self.edit_body(bytes, parsed, &mut decision)
            }
            _ => None,
        };
        Routed { decision, new_body }
    }

    /// Decides from the headers alone, for a request whose body is absent or not read.
    pub fn route_head(&self, head: &RequestHead<'_>, status: BodyStatus, env: &Env<'_>) -> Routed {
        let mut routed = self.route_in(head, None, env);
        routed.decision.body = status;
        routed
    }

    fn decide(
        &self,
        head: &RequestHead<'_>,
        parsed: Option<&RequestBody>,
        env: &Env<'_>,
    ) -> Decision {
        let (explicit, untrusted_task) = self.trusted_task(head);
        let api = ApiShape::of_path(head.path);
        let input = PolicyInput {
            prompt_bytes: parsed.map_or(0, |p| p.prompt_len() as u64),
            max_tokens: parsed.and_then(|p| p.max_tokens),
            request_hash: self
                .hash_keys
                .route
                .hash(head.request_id.unwrap_or(head.path).as_bytes()),
            now_ns: env.now_ns,
        };
        let pins = self.pin_store(head, env);
        let now_s = env.now_ns / 1_000_000_000;
        let mut decision = if let Some((tier, source)) = explicit {
            self.for_tier(tier, source, &input, api, env, None)
        } else if let Some(pin) = pins
            .as_ref()
            .and_then(|(store, session)| store.lookup(session, now_s))
        {
            self.for_pin(pin)
        } else {
            match parsed.map(|p| self.classifier.classify(p)) {
                Some(c) => match c.winner {
                    Some(tier) => {
                        let source = if c.by_model {
                            Source::Model
                        } else {
                            Source::Classifier
                        };
                        self.for_tier(tier, source, &input, api, env, Some(c))
                    }
                    None => self.fallback(Some(c)),
                },
                None => self.fallback(None),
            }
        };
        decision.api = api;
        self.fit_shape(&mut decision);
        // A pinned (or picked) model that is cooling down is failed over before it is tried;
        // a pin moves with it.
        let moved = self.avoid_cooling(&mut decision, env);
        // Pin real LLM calls only: a GET /v1/models must not pin a session to the fallback.
        if let (Some((store, session)), Some(_)) = (&pins, parsed) {
            if decision.source != Source::Session || moved {
                store.pin(
                    session,
                    Pin {
                        tier: decision.tier,
                        model: decision.model,
                    },
                    now_s,
                );
            }
        }
        decision.untrusted_task = untrusted_task;
        decision.prompt_bytes = input.prompt_bytes;
        decision.stream = parsed.is_some_and(|p| p.stream);
        decision
    }

    /// Moves the session's pin to `decision`'s model: a request that failed over keeps its
    /// later turns on the model that answered.
    pub fn repin(&self, head: &RequestHead<'_>, decision: &Decision, env: &Env<'_>) {
        if let Some((store, session)) = self.pin_store(head, env) {
            let pin = Pin {
                tier: decision.tier,
                model: decision.model,
            };
            store.pin(session, pin, env.now_ns / 1_000_000_000);
        }
    }

    fn pin_store<'h, 's>(
        &self,
        head: &RequestHead<'h>,
        env: &Env<'s>,
    ) -> Option<(PinStore<'s>, &'h str)> {
        let sessions = self.sessions.as_ref()?;
        let session = head.session.filter(|s| !s.is_empty())?;
        let store = PinStore::new(
            env.store,
            sessions.max_sessions,
            sessions.ttl_seconds,
            self.fingerprint,
            self.hash_keys.pins,
        );
        Some((store, session))
    }

    /// Shadow mode, or the share of sessions outside the canary, is decided but not served.
    fn rollout(&self, head: &RequestHead<'_>, decision: &mut Decision) {
        let percent = self.rollout.canary_percent;
        if self.rollout.mode == RolloutMode::Shadow {
            decision.side = Side::Shadow;
            return;
        }
        if percent >= 100.0 {
            return;
        }
        // The same session always lands on the same side.
        let key = head.session.or(head.request_id).unwrap_or_default();
        let in_canary =
            (self.hash_keys.route.hash(key.as_bytes()) % 10_000) as f64 / 100.0 < percent;
        decision.canary = Some(in_canary);
        if !in_canary {
            decision.side = Side::Shadow;
        }
    }

    /// [`Config::explicit_task`], ignored when the caller may not name one.
    fn trusted_task(
        &self,
        head: &RequestHead<'_>,
    ) -> (Option<(TierId, Source)>, Option<UntrustedTask>) {
        let (explicit, unknown) = self.explicit_task(head);
        let unknown = unknown.map(|source| UntrustedTask {
            source,
            reason: UntrustedReason::UnknownTask,
        });
        match (explicit, &self.trusted_callers) {
            (Some((_, source)), Some(trusted)) if !trusted.trusts(&head.caller) => (
                None,
                Some(UntrustedTask {
                    source,
                    reason: UntrustedReason::CallerNotTrusted,
                }),
            ),
            _ => (explicit, unknown),
        }
    }

    /// Whether the adapter must fill [`RequestHead::caller`]: an allow-list is configured and
    /// the request names a task. Other requests cost no host calls for it.
    pub fn reads_caller(&self, head: &RequestHead<'_>) -> bool {
        self.trusted_callers.is_some() && self.explicit_task(head).0.is_some()
    }

    /// The first configured explicit task, in the order header, query parameter, path; and
    /// where an unknown task value was seen, if one was.
    pub fn explicit_task(
        &self,
        head: &RequestHead<'_>,
    ) -> (Option<(TierId, Source)>, Option<Source>) {
        let (path, query) = head.path.split_once('?').unwrap_or((head.path, ""));
        let mut untrusted = None;
        let candidates = [
            (head.task.map(str::to_string), Source::Header),
            (query_param(query, &self.task_query_param), Source::Query),
        ];
        for (value, source) in candidates {
            let Some(value) = value else { continue };
            match self.task_tier(&value) {
                Some(tier) => return (Some((tier, source)), untrusted),
                None => untrusted = untrusted.or(Some(source)),
            }
        }
        let by_path = self
            .paths
            .iter()
            .find(|(prefix, _)| path_has_prefix(path, prefix));
        (by_path.map(|(_, tier)| (*tier, Source::Path)), untrusted)
    }

    fn task_tier(&self, value: &str) -> Option<TierId> {
        let value = value.trim();
        self.tasks
            .iter()
            .find(|(task, _)| task.eq_ignore_ascii_case(value))
            .map(|(_, tier)| *tier)
    }

    /// The tier's policy picks among the tier's models that serve the request's API (all of
    /// them when none does: [`Config::fit_shape`] then finds another model).
    fn for_tier(
        &self,
        tier: TierId,
        source: Source,
        input: &PolicyInput,
        api: Option<ApiShape>,
        env: &Env<'_>,
        c: Option<Classification>,
    ) -> Decision {
        let models = &self.tier(tier).models;
        let serving = self.serving(models, api);
        let pool = if serving.is_empty() { models } else { &serving };
        let choice = self.choose_model(tier, pool, input, env.store);
        Decision {
            tier: Some(tier),
            model: choice.model,
            source,
            policy: Some(self.tier(tier).policy),
            candidates: choice.candidates,
            classification: c,
            ..self.fallback(None)
        }
    }

    fn for_pin(&self, pin: Pin) -> Decision {
        // A pin names indices of this config (the fingerprint guarantees it); stay in bounds.
        let tier = pin.tier.filter(|t| t.0 < self.tiers.len());
        let model = Some(pin.model)
            .filter(|m| m.0 < self.models.len())
            .unwrap_or(self.fallback_model);
        Decision {
            tier,
            model,
            source: Source::Session,
            ..self.fallback(None)
        }
    }

    pub(crate) fn fallback(&self, c: Option<Classification>) -> Decision {
        Decision {
            tier: None,
            model: self.fallback_model,
            source: Source::Fallback,
            untrusted_task: None,
            classification: c,
            body: BodyStatus::Json,
            prompt_bytes: 0,
            stream: false,
            policy: None,
            candidates: Vec::new(),
            floor_applied: None,
            api: None,
            shape_fallback: None,
            edits: Vec::new(),
            side: Side::Routed,
            canary: None,
            untouched: None,
            sent_model: None,
            tier_down: false,
        }
    }

    /// The tier's name, or `fallback`.
    pub fn tier_name(&self, decision: &Decision) -> &str {
        decision
            .tier
            .map_or(FALLBACK_TIER, |t| self.tier(t).name.as_str())
    }

    /// Matched cues and signals, comma-separated, as logged; when the model decided,
    /// `model:TIER p=P [feature, ...]`, its top contributing features.
    pub fn cue_list(&self, decision: &Decision) -> String {
        let Some(c) = &decision.classification else {
            return String::new();
        };
        if c.by_model {
            let (tier, p) = c.model_top().unwrap_or((TierId(0), 0.0));
            // Hundredths by integer: float formatting would add ~20 KB to the module.
            let hundredths = (p * 100.0).round().clamp(0.0, 100.0) as u32;
            return format!(
                "model:{} p={}.{:02} [{}]",
                self.tier(tier).name,
                hundredths / 100,
                hundredths % 100,
                c.model_features.join(", ")
            );
        }
        let names: Vec<&str> = c
            .evidence
            .iter()
            .map(|(_, e)| self.classifier.evidence_name(*e))
            .collect();
        names.join(",")
    }
}

/// `/api/classify` matches `/api/classify` and `/api/classify/...`, not `/api/classifyx`.
fn path_has_prefix(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The first value of `name` in a query string, percent-decoded.
fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_prefix_respects_segments() {
        assert!(path_has_prefix("/api/classify", "/api/classify"));
        assert!(path_has_prefix(
            "/api/classify/v1/chat/completions",
            "/api/classify"
        ));
        assert!(!path_has_prefix("/api/classifyx", "/api/classify"));
    }

    #[test]
    fn query_param_is_decoded() {
        assert_eq!(
            query_param("a=1&task=clas%73ify", "task").as_deref(),
            Some("classify")
        );
        assert_eq!(query_param("tasks=x", "task"), None);
        assert_eq!(query_param("task=%zz", "task").as_deref(), Some("%zz"));
    }
}
