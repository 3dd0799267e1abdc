//! `profiles`: what each model accepts (API shapes, the completion-cap field, fields to drop),
//! validated once at configure time.

use super::compile::names_of;
use super::ordered_map::OrderedMap;
use super::raw::RawProfile;
use super::{ConfigError, Profile};
use crate::api::{ApiSet, ApiShape};

/// Fields a profile cannot drop: the router owns or reads them (the token caps are renamed
/// with `completion_cap`, not dropped).
const NOT_DROPPABLE: [&str; 11] = [
    "model",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "messages",
    "input",
    "prompt",
    "system",
    "instructions",
];
const MAX_DROPPED_PER_PROFILE: usize = 64;

/// Compiled profiles by name.
pub(super) type Profiles = Vec<(String, Profile)>;

/// Compiled profiles, and every dropped field once (profiles refer to it by index).
pub(super) fn compile_profiles(
    raw: &OrderedMap<RawProfile>,
) -> Result<(Profiles, Vec<String>), ConfigError> {
    let mut fields: Vec<String> = Vec::new();
    let mut profiles = Vec::with_capacity(raw.0.len());
    for (name, p) in raw.iter() {
        let at = format!("profiles.{name}");
        if name.trim().is_empty() {
            return Err(ConfigError::new(
                "profiles",
                "a profile name is empty; name it",
            ));
        }
        let apis = match &p.apis {
            None => ApiSet::OPENAI,
            Some(list) => compile_apis(&format!("{at}.apis"), list)?,
        };
        if p.drop.len() > MAX_DROPPED_PER_PROFILE {
            return Err(ConfigError::new(
                format!("{at}.drop"),
                format!(
                    "lists {} fields; at most {MAX_DROPPED_PER_PROFILE}",
                    p.drop.len()
                ),
            ));
        }
        let mut drop = Vec::with_capacity(p.drop.len());
        for (i, field) in p.drop.iter().enumerate() {
            let at = format!("{at}.drop[{i}]");
            check_droppable(&at, field)?;
            let index = match fields.iter().position(|f| f == field) {
                Some(index) => index,
                None => {
                    fields.push(field.clone());
                    fields.len() - 1
                }
            };
            if drop.contains(&index) {
                return Err(ConfigError::new(
                    at,
                    format!("`{field}` is listed twice; remove one"),
                ));
            }
            drop.push(index);
        }
        let profile = Profile {
            apis,
            completion_cap: p.completion_cap,
            drop,
        };
        profiles.push((name.to_string(), profile));
    }
    Ok((profiles, fields))
}

fn compile_apis(at: &str, list: &[ApiShape]) -> Result<ApiSet, ConfigError> {
    let mut apis = ApiSet::default();
    for (i, api) in list.iter().enumerate() {
        if apis.contains(*api) {
            return Err(ConfigError::new(
                format!("{at}[{i}]"),
                format!("`{}` is listed twice; remove one", api.name()),
            ));
        }
        apis.insert(*api);
    }
    if apis.is_empty() {
        return Err(ConfigError::new(
            at,
            format!(
                "lists no API; name those the model serves: {}",
                names_of(ApiShape::ALL.iter().map(|a| a.name()))
            ),
        ));
    }
    Ok(apis)
}

fn check_droppable(at: &str, field: &str) -> Result<(), ConfigError> {
    if field.is_empty() {
        return Err(ConfigError::new(
            at,
            "is empty; name a top-level request field",
        ));
    }
    if NOT_DROPPABLE.contains(&field) {
        let fix = if field.starts_with("max_") {
            "to change the cap field use `completion_cap`"
        } else {
            "remove it from `drop`"
        };
        return Err(ConfigError::new(
            at,
            format!("`{field}` is a field the router owns or reads and cannot be dropped; {fix}"),
        ));
    }
    Ok(())
}
