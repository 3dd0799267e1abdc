//! `tiers[].cascade`: the confidence gate of a `"policy": "cascade"` tier, as written and
//! compiled (phrases into one automaton, labels normalised, bounds checked).

use serde::Deserialize;

use super::raw::PolicyKind;
use super::ConfigError;
use crate::cascade::{Gate, DEFAULT_REFUSAL_PHRASES};

/// The longest refusal phrase or label: they are compared with answers, not documents.
const MAX_ENTRY_BYTES: usize = 256;
/// Entries of `refusal_phrases` or `labels`.
const MAX_ENTRIES: usize = 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCascade {
    /// Phrases that mark an answer as a refusal or a guess (case-insensitive). Absent: the
    /// built-in list; `[]`: no phrase check.
    #[serde(default)]
    pub refusal_phrases: Option<Vec<String>>,
    /// The answers this tier's requests may give (a plain-text answer must be one of them).
    #[serde(default)]
    pub labels: Vec<String>,
    /// How many times one request may move to the next model.
    #[serde(default = "default_max_escalations")]
    pub max_escalations: usize,
    /// Escalate when the answer's mean token logprob is below this; the router then asks the
    /// first model for `logprobs` itself (Chat Completions).
    #[serde(default)]
    pub min_mean_logprob: Option<f64>,
}

impl Default for RawCascade {
    fn default() -> Self {
        RawCascade {
            refusal_phrases: None,
            labels: Vec::new(),
            max_escalations: default_max_escalations(),
            min_mean_logprob: None,
        }
    }
}

fn default_max_escalations() -> usize {
    1
}

/// The tier's gate: `Some` for a cascade tier, `None` otherwise.
pub fn compile_cascade(
    at: &str,
    policy: PolicyKind,
    raw: Option<&RawCascade>,
    model_count: usize,
) -> Result<Option<Gate>, ConfigError> {
    if policy != PolicyKind::Cascade {
        return match raw {
            Some(_) => Err(ConfigError::new(
                format!("{at}.cascade"),
                "is only read by `\"policy\": \"cascade\"`; remove it or set that policy",
            )),
            None => Ok(None),
        };
    }
    if model_count < 2 {
        return Err(ConfigError::new(
            format!("{at}.models"),
            "a cascade needs at least two models: the first answers, the next take the \
             escalations; add a stronger model after the first, or use `\"policy\": \"priority\"`",
        ));
    }
    let default = RawCascade::default();
    let raw = raw.unwrap_or(&default);
    let at = format!("{at}.cascade");
    let max = model_count - 1;
    if raw.max_escalations == 0 || raw.max_escalations > max {
        return Err(ConfigError::new(
            format!("{at}.max_escalations"),
            format!(
                "{} is out of range; use 1 to {max} (one escalation per model after the first)",
                raw.max_escalations
            ),
        ));
    }
    if let Some(min) = raw.min_mean_logprob {
        if !(-100.0..0.0).contains(&min) {
            return Err(ConfigError::new(
                format!("{at}.min_mean_logprob"),
                format!("{min} is out of range; use a negative number down to -100, e.g. -1.0 (natural log)"),
            ));
        }
    }
    let phrases: Vec<String> = match &raw.refusal_phrases {
        Some(list) => {
            check_entries(&format!("{at}.refusal_phrases"), list, "a phrase")?;
            list.clone()
        }
        None => DEFAULT_REFUSAL_PHRASES
            .iter()
            .map(|p| p.to_string())
            .collect(),
    };
    check_entries(&format!("{at}.labels"), &raw.labels, "a label")?;
    Gate::new(
        &phrases,
        &raw.labels,
        raw.max_escalations,
        raw.min_mean_logprob,
    )
    .map(Some)
    .map_err(|e| {
        ConfigError::new(
            format!("{at}.refusal_phrases"),
            format!("cannot build the phrase automaton ({e}); use fewer or shorter phrases"),
        )
    })
}

fn check_entries(at: &str, list: &[String], what: &str) -> Result<(), ConfigError> {
    if list.len() > MAX_ENTRIES {
        return Err(ConfigError::new(
            at,
            format!("has {} entries; keep it to {MAX_ENTRIES}", list.len()),
        ));
    }
    for (i, entry) in list.iter().enumerate() {
        let text = entry.trim();
        if text.is_empty() || text.len() > MAX_ENTRY_BYTES {
            return Err(ConfigError::new(
                format!("{at}[{i}]"),
                format!("give {what} of 1 to {MAX_ENTRY_BYTES} bytes (not blank)"),
            ));
        }
    }
    Ok(())
}
