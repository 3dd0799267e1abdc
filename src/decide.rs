//! The routing decision: explicit task (header, query parameter, path prefix), else content
//! classification, else the fallback model; then the body edit that carries it out.
//! Pure: the caller passes the request in and applies what comes out.

use crate::body::{self, RequestBody};
use crate::classify::Classification;
use crate::config::{Config, ModelId, TierId};
use crate::names::FALLBACK_TIER;

/// What the router reads from the request headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestHead<'a> {
    /// `:path`, query string included.
    pub path: &'a str,
    /// Value of the task header, if present.
    pub task: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Header,
    Query,
    Path,
    Classifier,
    Fallback,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Header => "header",
            Source::Query => "query",
            Source::Path => "path",
            Source::Classifier => "classifier",
            Source::Fallback => "fallback",
        }
    }
}

/// What the router saw of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// `None` when the fallback model serves.
    pub tier: Option<TierId>,
    pub model: ModelId,
    pub source: Source,
    /// Where a task value came from that names no configured task (it was ignored).
    pub untrusted_task: Option<Source>,
    pub classification: Option<Classification>,
    pub body: BodyStatus,
    /// Bytes of prompt text (system and messages), for the usage estimate.
    pub prompt_bytes: u64,
    /// The client asked for a streamed response.
    pub stream: bool,
}

/// A decision and, when the body must change, the new body.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    pub decision: Decision,
    pub new_body: Option<Vec<u8>>,
}

impl Config {
    /// Decides for a request whose body is `body` (`None`: no body was read) and returns the
    /// rewritten body when it changes.
    pub fn route(&self, head: &RequestHead<'_>, body: Option<&[u8]>) -> Routed {
        let (explicit, untrusted_task) = self.explicit_task(head);
        let Some(bytes) = body.filter(|b| !b.is_empty()) else {
            let status = if body.is_some() {
                BodyStatus::Absent
            } else {
                BodyStatus::Skipped
            };
            return self.without_body(explicit, untrusted_task, status);
        };
        let parsed = match RequestBody::parse(bytes) {
            Ok(parsed) => parsed,
            Err(_) => return self.without_body(explicit, untrusted_task, BodyStatus::NotJson),
        };
        let decision = match explicit {
            Some((tier, source)) => self.for_tier(tier, source, untrusted_task, None),
            None => {
                let classification = self.classifier.classify(&parsed);
                match classification.winner {
                    Some(tier) => self.for_tier(
                        tier,
                        Source::Classifier,
                        untrusted_task,
                        Some(classification),
                    ),
                    None => self.fallback(untrusted_task, Some(classification)),
                }
            }
        };
        let mut edits = body::set_model(bytes, &parsed, &self.model(decision.model).name);
        let stream_usage = self.request_stream_usage && parsed.stream && accepts_stream_options(head.path);
        if stream_usage {
            edits.extend(body::request_stream_usage(bytes, &parsed));
        }
        let new_body = (!edits.is_empty()).then(|| body::apply(bytes, edits));
        Routed {
            decision: Decision {
                body: BodyStatus::Json,
                prompt_bytes: parsed.prompt_len() as u64,
                stream: parsed.stream,
                ..decision
            },
            new_body,
        }
    }

    /// Decides from the headers alone, for a request whose body is absent or not read.
    pub fn route_head(&self, head: &RequestHead<'_>, status: BodyStatus) -> Routed {
        let (explicit, untrusted_task) = self.explicit_task(head);
        self.without_body(explicit, untrusted_task, status)
    }

    fn without_body(
        &self,
        explicit: Option<(TierId, Source)>,
        untrusted: Option<Source>,
        status: BodyStatus,
    ) -> Routed {
        let decision = match explicit {
            Some((tier, source)) => self.for_tier(tier, source, untrusted, None),
            None => self.fallback(untrusted, None),
        };
        Routed {
            decision: Decision {
                body: status,
                ..decision
            },
            new_body: None,
        }
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

    fn for_tier(
        &self,
        tier: TierId,
        source: Source,
        untrusted: Option<Source>,
        c: Option<Classification>,
    ) -> Decision {
        // Tiers are validated non-empty; the fallback model keeps this total regardless.
        let model = self
            .tier(tier)
            .models
            .first()
            .copied()
            .unwrap_or(self.fallback_model);
        Decision {
            tier: Some(tier),
            model,
            source,
            untrusted_task: untrusted,
            classification: c,
            body: BodyStatus::Json,
            prompt_bytes: 0,
            stream: false,
        }
    }

    fn fallback(&self, untrusted: Option<Source>, c: Option<Classification>) -> Decision {
        Decision {
            tier: None,
            model: self.fallback_model,
            source: Source::Fallback,
            untrusted_task: untrusted,
            classification: c,
            body: BodyStatus::Json,
            prompt_bytes: 0,
            stream: false,
        }
    }

    /// The tier's name, or `fallback`.
    pub fn tier_name(&self, decision: &Decision) -> &str {
        decision
            .tier
            .map_or(FALLBACK_TIER, |t| self.tier(t).name.as_str())
    }

    /// Matched cues and signals, comma-separated, as logged.
    pub fn cue_list(&self, decision: &Decision) -> String {
        let Some(c) = &decision.classification else {
            return String::new();
        };
        let names: Vec<&str> = c
            .evidence
            .iter()
            .map(|(_, e)| self.classifier.evidence_name(*e))
            .collect();
        names.join(",")
    }
}

/// OpenAI Chat Completions and Completions take `stream_options`; Responses always reports
/// usage and Anthropic rejects unknown fields, so only these paths get it.
fn accepts_stream_options(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default().trim_end_matches('/');
    path.ends_with("/chat/completions") || path.ends_with("/completions")
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
