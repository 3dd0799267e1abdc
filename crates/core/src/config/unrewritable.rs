//! Config of the requests the router does not rewrite: which endpoints are LLM calls
//! (`endpoints`), where the others go (`passthrough.cluster`), and what happens to a body of
//! an LLM call that cannot be rewritten (`unrewritable`: `pass` or `reject`).

use serde::Deserialize;

use super::ConfigError;
use crate::names;

const MAX_ENDPOINTS: usize = 32;
const MAX_NAME_LEN: usize = 256;

/// `pass`: forward the request untouched (logged `rewritten: false` with the client's
/// model); `reject`: answer with an OpenAI-shaped error and send nothing upstream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    #[default]
    Pass,
    Reject,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPassthrough {
    /// Cluster for requests the router does not rewrite; `None`: the route's catch-all.
    #[serde(default)]
    pub cluster: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unrewritable {
    /// A body over `max_body_bytes`.
    #[serde(default)]
    pub too_large: Outcome,
    /// A body with a `content-encoding` other than `identity` (gzip, br, ...).
    #[serde(default)]
    pub encoded: Outcome,
    /// A body whose `content-type` is not JSON (`text/plain`, multipart, ...).
    #[serde(default)]
    pub not_json: Outcome,
    /// A body that is not a JSON object (serde rejects it).
    #[serde(default)]
    pub invalid_json: Outcome,
}

/// The compiled settings.
#[derive(Debug, Clone)]
pub struct Bypass {
    /// Path suffixes of the LLM endpoints the router rewrites.
    pub endpoints: Vec<String>,
    pub cluster: Option<String>,
    pub unrewritable: Unrewritable,
}

pub fn default_endpoints() -> Vec<String> {
    names::DEFAULT_ENDPOINTS
        .iter()
        .map(|e| e.to_string())
        .collect()
}

pub fn compile(
    endpoints: Vec<String>,
    passthrough: RawPassthrough,
    unrewritable: Unrewritable,
) -> Result<Bypass, ConfigError> {
    check_endpoints(&endpoints)?;
    if let Some(cluster) = &passthrough.cluster {
        let usable = !cluster.is_empty()
            && cluster.len() <= MAX_NAME_LEN
            && !cluster
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control());
        if !usable {
            return Err(ConfigError::new(
                "passthrough.cluster",
                format!(
                    "`{cluster}` is not an Envoy cluster name; name a cluster (at most \
                     {MAX_NAME_LEN} characters, no spaces) or remove the field to use the \
                     route's catch-all"
                ),
            ));
        }
    }
    Ok(Bypass {
        endpoints,
        cluster: passthrough.cluster,
        unrewritable,
    })
}

fn check_endpoints(endpoints: &[String]) -> Result<(), ConfigError> {
    if endpoints.is_empty() {
        return Err(ConfigError::new(
            "endpoints",
            format!(
                "lists no endpoint, so nothing would be routed; list the LLM endpoints, e.g. {:?}",
                names::DEFAULT_ENDPOINTS
            ),
        ));
    }
    if endpoints.len() > MAX_ENDPOINTS {
        return Err(ConfigError::new(
            "endpoints",
            format!(
                "lists {} endpoints; at most {MAX_ENDPOINTS}",
                endpoints.len()
            ),
        ));
    }
    for (i, endpoint) in endpoints.iter().enumerate() {
        let usable = endpoint.len() > 1
            && endpoint.len() <= MAX_NAME_LEN
            && endpoint.starts_with('/')
            && !endpoint.ends_with('/')
            && !endpoint.contains(['?', '#', ' ']);
        if !usable {
            return Err(ConfigError::new(
                format!("endpoints[{i}]"),
                format!(
                    "`{endpoint}` is not a path suffix; write it like `/chat/completions` \
                     (starts with `/`, no trailing `/`, no query, at most {MAX_NAME_LEN} characters)"
                ),
            ));
        }
    }
    Ok(())
}
