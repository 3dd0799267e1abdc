//! `explicit_tasks`: who may name a task. Absent (the default), every caller may, as before.

use serde::Deserialize;

use super::ConfigError;
use crate::trust::{Cidr, CidrError, Principal, TrustedCallers};

/// Each list is compared on every request that names a task: keep them short.
const MAX_ENTRIES: usize = 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExplicitTasks {
    /// Callers whose explicit task is honoured; any match trusts. Absent: everyone.
    #[serde(default)]
    pub trusted: Option<RawTrusted>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrusted {
    /// mTLS peer SANs (URI or DNS), exact or ending in `*`.
    #[serde(default)]
    pub principals: Vec<String>,
    /// Downstream addresses, IPv4 or IPv6 CIDRs.
    #[serde(default)]
    pub source_cidrs: Vec<String>,
    /// A request header whose presence trusts the caller (set by an earlier filter).
    #[serde(default)]
    pub header: Option<String>,
}

pub fn compile_trusted(
    raw: &RawExplicitTasks,
    router_headers: &[&str],
    check_header: impl Fn(&str, &str) -> Result<(), ConfigError>,
) -> Result<Option<TrustedCallers>, ConfigError> {
    let Some(t) = &raw.trusted else {
        return Ok(None);
    };
    const AT: &str = "explicit_tasks.trusted";
    if t.principals.is_empty() && t.source_cidrs.is_empty() && t.header.is_none() {
        return Err(ConfigError::new(
            AT,
            "lists no caller; give `principals`, `source_cidrs` or `header`, or remove `trusted` to let every caller name a task",
        ));
    }
    for (field, len) in [
        ("principals", t.principals.len()),
        ("source_cidrs", t.source_cidrs.len()),
    ] {
        if len > MAX_ENTRIES {
            return Err(ConfigError::new(
                format!("{AT}.{field}"),
                format!("{len} entries; at most {MAX_ENTRIES} (use a `*` prefix or a wider CIDR)"),
            ));
        }
    }
    let principals = t
        .principals
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Principal::parse(p).ok_or_else(|| {
                ConfigError::new(
                    format!("{AT}.principals[{i}]"),
                    format!("`{p}` is not a principal; write a SAN like `spiffe://cluster.local/ns/app/sa/batch`, or a prefix ending in `*` like `spiffe://cluster.local/ns/batch/*`"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let source_cidrs = t
        .source_cidrs
        .iter()
        .enumerate()
        .map(|(i, c)| compile_cidr(&format!("{AT}.source_cidrs[{i}]"), c))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(header) = &t.header {
        let field = format!("{AT}.header");
        check_header(&field, header)?;
        if router_headers.contains(&header.as_str()) {
            return Err(ConfigError::new(
                field,
                format!("`{header}` is a header the router reads or sets (task, cluster, request id, session), which clients can send; name the header your authenticating filter adds"),
            ));
        }
    }
    Ok(Some(TrustedCallers {
        principals,
        source_cidrs,
        header: t.header.clone(),
    }))
}

fn compile_cidr(field: &str, text: &str) -> Result<Cidr, ConfigError> {
    Cidr::parse(text.trim()).map_err(|e| {
        let message = match e {
            CidrError::Malformed => format!(
                "`{text}` is not a CIDR; write `address/length` like `10.0.0.0/8`, `127.0.0.1/32` or `fd00::/8`"
            ),
            CidrError::HostBits(network) => format!(
                "`{text}` has address bits set beyond its length; write the network, `{network}`"
            ),
        };
        ConfigError::new(field, message)
    })
}
