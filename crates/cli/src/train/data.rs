//! Labelled prompts for `train`: JSONL, one `{"tier": ..., "prompt": ...}` object or request
//! body with a label field a line. Each line is parsed as the filter parses a request body,
//! so training sees exactly the windows the filter scans.

use std::path::PathBuf;

use serde_json::Value;
use tier_router_core::body::RequestBody;
use tier_router_core::Config;

use crate::classify::labels::class_of_label;

/// One labelled line.
pub struct Labelled {
    pub body: RequestBody,
    /// The line's bytes, for routing it as a request body in evaluations.
    pub line: Vec<u8>,
    /// Index into `Config::tiers`.
    pub tier: usize,
    /// The `--cv-by` group, if asked for.
    pub group: Option<String>,
}

pub struct Fields<'a> {
    pub label: &'a str,
    pub group: Option<&'a str>,
}

/// Reads every file in order; any line that is not JSON, lacks the label, or names no tier
/// of `config` is an error naming the file and line.
pub fn read(
    config: &Config,
    files: &[PathBuf],
    fields: &Fields<'_>,
) -> Result<Vec<Labelled>, String> {
    let mut out = Vec::new();
    for path in files {
        let text =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (index, line) in text.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let at = format!("{}:{}", path.display(), index + 1);
            out.push(parse_line(config, line, fields).map_err(|e| format!("{at}: {e}"))?);
        }
    }
    if out.is_empty() {
        return Err("no labelled lines in the --data files".to_string());
    }
    Ok(out)
}

fn parse_line(config: &Config, line: &[u8], fields: &Fields<'_>) -> Result<Labelled, String> {
    let value: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    let label = value
        .get(fields.label)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            format!(
                "no string field `{}` (the label; see --label-field)",
                fields.label
            )
        })?;
    let tier = class_of_label(config, label)
        .filter(|t| *t < config.tiers.len())
        .ok_or_else(|| {
            let names: Vec<&str> = config.tiers.iter().map(|t| t.name.as_str()).collect();
            format!(
                "the label {label:?} names no tier of the config ({}) and no task alias",
                names.join(", ")
            )
        })?;
    let group = match fields.group {
        None => None,
        Some(field) => Some(group_of(&value, field)?),
    };
    let body = RequestBody::parse_for(line, config.classifier.scan_bytes(), &config.dropped_fields)
        .map_err(|e| e.to_string())?;
    Ok(Labelled {
        body,
        line: line.to_vec(),
        tier,
        group,
    })
}

/// The group of a line: the field's value up to its first `:` (`owner/repo:path` groups by
/// repository).
fn group_of(value: &Value, field: &str) -> Result<String, String> {
    let raw = value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no string field `{field}` (the --cv-by group)"))?;
    Ok(raw.split(':').next().unwrap_or(raw).to_string())
}
