//! Raw configuration -> validated [`Config`]. Each check says which field is wrong and how
//! to fix it.

use std::collections::HashSet;

use super::json_path;
use super::raw::{PolicyKind, RawPolicyTuning, RawRollout, RawSessions};
use super::raw::{RawConfig, RawModel, RawPrice, RawTier};
use super::{
    Config, ConfigError, HashKeys, Headers, Model, ModelId, PolicyTuning, Price, Profile, Rollout,
    Sessions, Tier, TierId, TokenFloor,
};
use crate::hash::HashKey;
use crate::names::FALLBACK_TIER;

use super::bounds::{self, check_range};
use super::classifier::compile_classifier;
use super::failover::compile_failover;
use super::profiles::compile_profiles;

pub fn compile(json: &[u8]) -> Result<Config, ConfigError> {
    let raw = parse(json)?;
    let headers = check_headers(&raw)?;
    let (profiles, dropped_fields) = compile_profiles(&raw.profiles)?;
    let models = compile_models(&raw.models, &profiles)?;
    let tiers = compile_tiers(&raw.tiers, &models)?;
    let fallback_model = find_model(&models, &raw.fallback_model).ok_or_else(|| {
        ConfigError::new(
            "fallback_model",
            format!(
                "model `{}` is not defined; name one of `models` ({})",
                raw.fallback_model,
                names_of(models.iter().map(|m| m.name.as_str()))
            ),
        )
    })?;
    let baseline_model = match &raw.baseline_model {
        None => None,
        Some(name) => Some(find_model(&models, name).ok_or_else(|| {
            ConfigError::new(
                "baseline_model",
                format!("model `{name}` is not defined; name one of `models` or remove the field"),
            )
        })?),
    };
    let tasks = compile_tasks(&raw, &tiers)?;
    let paths = compile_paths(&raw, &tiers)?;
    // Headers clients send or the router sets cannot vouch for anyone.
    let router_headers = [
        headers.task.as_str(),
        headers.cluster.as_str(),
        headers.request_id.as_str(),
        raw.sessions.header.as_str(),
    ];
    let trusted_callers =
        super::trust::compile_trusted(&raw.explicit_tasks, &router_headers, check_header_name)?;
    let classifier = compile_classifier(&raw, &tiers)?;
    let sessions = compile_sessions(&raw.sessions)?;
    let rollout = compile_rollout(&raw.rollout)?;
    let tuning = compile_tuning(&raw.policies)?;
    check_range(
        "max_body_bytes",
        raw.max_body_bytes,
        1,
        bounds::MAX_BODY_BYTES,
        "bytes; bodies above it are passed through unread",
    )?;
    check_query_param(&raw.task_query_param)?;
    let hash_keys = compile_hash_keys(&raw)?;
    let bypass = super::unrewritable::compile(raw.endpoints, raw.passthrough, raw.unrewritable)?;
    Ok(Config {
        headers,
        task_query_param: raw.task_query_param,
        max_body_bytes: raw.max_body_bytes,
        read_body: raw.read_body,
        models,
        dropped_fields,
        tiers,
        fallback_model,
        baseline_model,
        request_stream_usage: raw.request_stream_usage,
        decision_headers: raw.decision_headers,
        filter_state: raw.filter_state,
        tasks,
        paths,
        trusted_callers,
        classifier,
        sessions,
        rollout,
        tuning,
        bypass,
        fingerprint: crate::store::fnv1a(json),
        hash_keys,
    })
}

fn compile_hash_keys(raw: &RawConfig) -> Result<HashKeys, ConfigError> {
    const FIX: &str = "is not a hash key; give 32 hex digits (16 random bytes), \
                       e.g. the output of `openssl rand -hex 16`";
    let key = |field: &str, hex: &Option<String>| match hex {
        None => Ok(None),
        Some(hex) => HashKey::from_hex(hex.trim())
            .map(Some)
            .ok_or_else(|| ConfigError::new(field, FIX)),
    };
    let route = key("hash_key", &raw.hash_key)?;
    let pins = key("sessions.hash_key", &raw.sessions.hash_key)?;
    Ok(HashKeys {
        route: route.unwrap_or_default(),
        pins: pins.unwrap_or_default(),
        route_configured: route.is_some(),
        pins_configured: pins.is_some(),
    })
}

fn parse(json: &[u8]) -> Result<RawConfig, ConfigError> {
    if json.iter().all(u8::is_ascii_whitespace) {
        return Err(ConfigError::new(
            "",
            "the configuration is empty; pass the JSON config (see envoy/tier-router.json)",
        ));
    }
    serde_json::from_slice(json).map_err(|e| {
        // serde_json knows the line and column; the scanner turns them into a field path.
        let offset = json_path::offset_of(json, e.line(), e.column());
        let message = e.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        ConfigError::new(json_path::path_at(json, offset), message)
    })
}

fn check_headers(raw: &RawConfig) -> Result<Headers, ConfigError> {
    check_header_name("headers.task", &raw.headers.task)?;
    check_header_name("headers.cluster", &raw.headers.cluster)?;
    check_header_name("headers.response_tier", &raw.headers.response_tier)?;
    check_header_name("headers.response_model", &raw.headers.response_model)?;
    check_header_name("headers.request_id", &raw.headers.request_id)?;
    if raw.headers.task == raw.headers.cluster {
        return Err(ConfigError::new(
            "headers.cluster",
            "must differ from `headers.task`; the cluster header is set by the router",
        ));
    }
    let h = &raw.headers;
    Ok(Headers {
        task: h.task.clone(),
        cluster: h.cluster.clone(),
        response_tier: h.response_tier.clone(),
        response_model: h.response_model.clone(),
        request_id: h.request_id.clone(),
    })
}

/// Envoy stores header names in lowercase; a mixed-case name here would never match.
pub(super) fn check_header_name(field: &str, name: &str) -> Result<(), ConfigError> {
    let valid = !name.is_empty()
        && !name.starts_with(':')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(ConfigError::new(
            field,
            format!("`{name}` is not a valid header name; use lowercase letters, digits and `-`"),
        ))
    }
}

fn check_query_param(name: &str) -> Result<(), ConfigError> {
    if name.is_empty() || name.contains(['&', '=', '?', '#', ' ']) {
        return Err(ConfigError::new(
            "task_query_param",
            format!("`{name}` is not a usable query parameter name; use e.g. `task`"),
        ));
    }
    Ok(())
}

fn compile_models(
    raw: &[RawModel],
    profiles: &[(String, Profile)],
) -> Result<Vec<Model>, ConfigError> {
    if raw.is_empty() {
        return Err(ConfigError::new(
            "models",
            "no models are defined; add at least one",
        ));
    }
    let mut seen = HashSet::new();
    let mut models = Vec::with_capacity(raw.len());
    for (i, m) in raw.iter().enumerate() {
        let at = format!("models[{i}]");
        if m.name.trim().is_empty() {
            return Err(ConfigError::new(
                format!("{at}.name"),
                "is empty; give the model's API name",
            ));
        }
        if !seen.insert(m.name.as_str()) {
            return Err(ConfigError::new(
                format!("{at}.name"),
                format!("model `{}` is defined twice; remove or rename one", m.name),
            ));
        }
        if m.cluster.trim().is_empty() {
            return Err(ConfigError::new(
                format!("{at}.cluster"),
                "is empty; name the Envoy cluster that serves this model",
            ));
        }
        let price = match &m.price_per_1m {
            None => None,
            Some(p) => Some(compile_price(&format!("{at}.price_per_1m"), p)?),
        };
        let profile = match &m.profile {
            None => Profile::default(),
            Some(name) => profiles
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, p)| p.clone())
                .ok_or_else(|| {
                    ConfigError::new(
                        format!("{at}.profile"),
                        format!(
                            "profile `{name}` is not defined; add it to `profiles`{}",
                            if profiles.is_empty() {
                                String::new()
                            } else {
                                format!(
                                    " or use one of {}",
                                    names_of(profiles.iter().map(|(n, _)| n.as_str()))
                                )
                            }
                        ),
                    )
                })?,
        };
        models.push(Model {
            name: m.name.clone(),
            cluster: m.cluster.clone(),
            price,
            profile,
        });
    }
    Ok(models)
}

/// An absent price falls back to the one it refines: `cached_input` and `cache_write` to
/// `input`, `cache_write_1h` to `cache_write`. So a config written before cache writes had a
/// price bills them as it did (at `input`); Anthropic's 1.25x and 2x must be written out.
fn compile_price(at: &str, raw: &RawPrice) -> Result<Price, ConfigError> {
    let cache_write = raw.cache_write.unwrap_or(raw.input);
    let price = Price {
        input: raw.input,
        cached_input: raw.cached_input.unwrap_or(raw.input),
        cache_write,
        cache_write_1h: raw.cache_write_1h.unwrap_or(cache_write),
        output: raw.output,
    };
    for (field, value) in [
        ("input", price.input),
        ("cached_input", price.cached_input),
        ("cache_write", price.cache_write),
        ("cache_write_1h", price.cache_write_1h),
        ("output", price.output),
    ] {
        check_range(
            &format!("{at}.{field}"),
            value,
            0.0,
            bounds::MAX_PRICE,
            "USD per 1M tokens, a number >= 0",
        )?;
    }
    Ok(price)
}

fn compile_tiers(raw: &[RawTier], models: &[Model]) -> Result<Vec<Tier>, ConfigError> {
    if raw.is_empty() {
        return Err(ConfigError::new(
            "tiers",
            "no tiers are defined; add at least one",
        ));
    }
    let mut seen = HashSet::new();
    let mut tiers = Vec::with_capacity(raw.len());
    for (i, t) in raw.iter().enumerate() {
        let at = format!("tiers[{i}]");
        check_tier_name(&format!("{at}.name"), &t.name)?;
        if !seen.insert(t.name.as_str()) {
            return Err(ConfigError::new(
                format!("{at}.name"),
                format!("tier `{}` is defined twice; remove or rename one", t.name),
            ));
        }
        if t.models.is_empty() {
            return Err(ConfigError::new(
                format!("{at}.models"),
                "is empty; list at least one model from `models`",
            ));
        }
        let mut ids = Vec::with_capacity(t.models.len());
        for (j, name) in t.models.iter().enumerate() {
            let id = find_model(models, name).ok_or_else(|| {
                ConfigError::new(
                    format!("{at}.models[{j}]"),
                    format!(
                        "model `{name}` is not defined; add it to `models` or use one of {}",
                        names_of(models.iter().map(|m| m.name.as_str()))
                    ),
                )
            })?;
            if ids.contains(&id) {
                return Err(ConfigError::new(
                    format!("{at}.models[{j}]"),
                    format!("model `{name}` is listed twice in this tier; remove one"),
                ));
            }
            ids.push(id);
        }
        let weights = compile_weights(&at, t, &ids, models)?;
        check_range(
            &format!("{at}.expected_output_tokens"),
            t.expected_output_tokens,
            0,
            bounds::MAX_TOKENS,
            "completion tokens",
        )?;
        if let Some(floor) = &t.token_floor {
            check_range(
                &format!("{at}.token_floor.min"),
                floor.min,
                1,
                bounds::MAX_TOKENS,
                "completion tokens",
            )?;
        }
        let token_floor = t.token_floor.map(|f| TokenFloor {
            min: f.min,
            add_when_absent: f.add_when_absent,
        });
        let cascade =
            super::cascade::compile_cascade(&at, t.policy, t.cascade.as_ref(), ids.len())?;
        let failover = compile_failover(&at, &t.failover)?;
        tiers.push(Tier {
            name: t.name.clone(),
            description: t.description.clone(),
            models: ids,
            policy: t.policy,
            weights,
            expected_output_tokens: t.expected_output_tokens,
            token_floor,
            cascade,
            failover,
            on_tier_down: t.on_tier_down,
        });
    }
    Ok(tiers)
}

/// Tier names become metric labels and task values: keep them to a safe alphabet.
fn check_tier_name(field: &str, name: &str) -> Result<(), ConfigError> {
    if name == FALLBACK_TIER {
        return Err(ConfigError::new(
            field,
            format!("`{FALLBACK_TIER}` is reserved for requests served by `fallback_model`; pick another name"),
        ));
    }
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(ConfigError::new(
            field,
            format!(
                "`{name}` is not a valid tier name; use lowercase letters, digits, `_` and `-`"
            ),
        ))
    }
}

fn compile_tasks(raw: &RawConfig, tiers: &[Tier]) -> Result<Vec<(String, TierId)>, ConfigError> {
    let mut tasks: Vec<(String, TierId)> = tiers
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), TierId(i)))
        .collect();
    for (task, tier) in raw.tasks.iter() {
        let at = format!("tasks.{task}");
        let key = task.trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(ConfigError::new("tasks", "a task name is empty; remove it"));
        }
        let id = find_tier(tiers, &at, tier)?;
        match tasks.iter().find(|(k, _)| *k == key) {
            Some((_, existing)) if *existing == id => {}
            Some(_) => {
                return Err(ConfigError::new(
                    at,
                    format!(
                        "task `{key}` is already a tier name or another task's name; rename it"
                    ),
                ))
            }
            None => tasks.push((key, id)),
        }
    }
    Ok(tasks)
}

fn compile_paths(raw: &RawConfig, tiers: &[Tier]) -> Result<Vec<(String, TierId)>, ConfigError> {
    let mut paths = Vec::new();
    for (prefix, tier) in raw.paths.iter() {
        let at = format!("paths.{prefix}");
        if !prefix.starts_with('/') || prefix.contains(['?', '#']) {
            return Err(ConfigError::new(
                at,
                format!("`{prefix}` is not a path prefix; write it like `/api/classify`"),
            ));
        }
        let id = find_tier(tiers, &at, tier)?;
        paths.push((prefix.trim_end_matches('/').to_string(), id));
    }
    // Longest first, so `/api/classify/fast` wins over `/api/classify`.
    crate::policy::sort_short_by(&mut paths, |a, b| a.0.len() > b.0.len());
    Ok(paths)
}

pub(super) fn find_model(models: &[Model], name: &str) -> Option<ModelId> {
    models.iter().position(|m| m.name == name).map(ModelId)
}

pub(super) fn find_tier(tiers: &[Tier], at: &str, name: &str) -> Result<TierId, ConfigError> {
    tiers
        .iter()
        .position(|t| t.name == name)
        .map(TierId)
        .ok_or_else(|| {
            ConfigError::new(
                at,
                format!(
                    "tier `{name}` is not defined; use one of {}",
                    names_of(tiers.iter().map(|t| t.name.as_str()))
                ),
            )
        })
}

pub(super) fn names_of<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn compile_weights(
    at: &str,
    tier: &RawTier,
    ids: &[ModelId],
    models: &[Model],
) -> Result<Vec<(ModelId, f64)>, ConfigError> {
    if tier.policy != PolicyKind::Weighted {
        if !tier.weights.0.is_empty() {
            return Err(ConfigError::new(
                format!("{at}.weights"),
                "weights are only read by `\"policy\": \"weighted\"`; remove them or set that policy",
            ));
        }
        return Ok(Vec::new());
    }
    let mut weights = Vec::new();
    for (name, percent) in tier.weights.iter() {
        let field = format!("{at}.weights.{name}");
        let id = find_model(models, name)
            .filter(|id| ids.contains(id))
            .ok_or_else(|| {
                ConfigError::new(
                    &field,
                    format!(
                        "model `{name}` is not one of this tier's `models`; list it there first"
                    ),
                )
            })?;
        check_range(
            &field,
            *percent,
            0.0,
            bounds::MAX_PERCENT,
            "the model's percentage of the tier's requests",
        )?;
        weights.push((id, *percent));
    }
    if weights.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
        return Err(ConfigError::new(
            format!("{at}.weights"),
            "a weighted tier needs weights that add up to more than 0, e.g. {\"model-a\": 80, \"model-b\": 20}",
        ));
    }
    Ok(weights)
}

fn compile_sessions(raw: &RawSessions) -> Result<Option<Sessions>, ConfigError> {
    check_header_name("sessions.header", &raw.header)?;
    check_range(
        "sessions.ttl_seconds",
        raw.ttl_seconds,
        1,
        bounds::MAX_SESSION_TTL_SECONDS,
        "seconds a pin lives after its last use",
    )?;
    check_range(
        "sessions.max_sessions",
        raw.max_sessions,
        bounds::MIN_SESSIONS,
        bounds::MAX_SESSIONS,
        "pinned sessions kept; 16 bytes of shared data each",
    )?;
    Ok(raw.enabled.then(|| Sessions {
        header: raw.header.clone(),
        ttl_seconds: raw.ttl_seconds,
        max_sessions: raw.max_sessions,
    }))
}

fn compile_rollout(raw: &RawRollout) -> Result<Rollout, ConfigError> {
    check_range(
        "rollout.canary_percent",
        raw.canary_percent,
        0.0,
        100.0,
        "a percentage of sessions",
    )?;
    Ok(Rollout {
        mode: raw.mode,
        canary_percent: raw.canary_percent,
    })
}

fn compile_tuning(raw: &RawPolicyTuning) -> Result<PolicyTuning, ConfigError> {
    if !(raw.ttft_alpha > 0.0 && raw.ttft_alpha <= 1.0) {
        return Err(ConfigError::new(
            "policies.ttft_alpha",
            "must be in (0, 1]; 0.2 weighs the newest sample 20%",
        ));
    }
    check_range(
        "policies.explore_percent",
        raw.explore_percent,
        0.0,
        100.0,
        "a percentage of requests",
    )?;
    check_range(
        "policies.ttft_min_samples",
        raw.ttft_min_samples,
        0,
        bounds::MAX_TTFT_MIN_SAMPLES,
        "samples",
    )?;
    check_range(
        "policies.unhealthy_seconds",
        raw.unhealthy_seconds,
        0,
        bounds::MAX_UNHEALTHY_SECONDS,
        "seconds a failing model is skipped",
    )?;
    check_range(
        "policies.max_retry_after_seconds",
        raw.max_retry_after_seconds,
        0,
        bounds::MAX_UNHEALTHY_SECONDS,
        "the longest cool-down a Retry-After may ask for",
    )?;
    check_range(
        "policies.eject_after_failures",
        raw.eject_after_failures,
        1,
        bounds::MAX_EJECT_AFTER_FAILURES,
        "consecutive failures that cool a model down",
    )?;
    Ok(PolicyTuning {
        max_retry_after_seconds: raw.max_retry_after_seconds,
        eject_after_failures: raw.eject_after_failures,
        ttft_alpha: raw.ttft_alpha,
        ttft_min_samples: raw.ttft_min_samples,
        explore_percent: raw.explore_percent,
        unhealthy_seconds: raw.unhealthy_seconds,
    })
}
