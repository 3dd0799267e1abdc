//! `tier-router classify`: the filter's decision for request bodies read from stdin.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use serde_json::{json, Map, Value};
use tier_router::{BodyStatus, Config, RequestHead, Routed};

#[derive(clap::Args)]
pub struct Args {
    /// The JSON configuration (default: the built-in envoy/tier-router.json).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Decide as if the request carried this task header value.
    #[arg(long)]
    task: Option<String>,
    /// Decide as if the request was sent to this path (query string included).
    #[arg(long, default_value = "/v1/chat/completions")]
    path: String,
}

pub fn run(args: &Args) -> Result<(), String> {
    let config = super::load_config(args.config.as_deref())?;
    let head = RequestHead {
        path: &args.path,
        task: args.task.as_deref(),
        session: None,
        request_id: None,
    };
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (index, line) in stdin.split(b'\n').enumerate() {
        let line = line.map_err(|e| format!("cannot read stdin: {e}"))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let routed = config.route(&head, Some(&line));
        let record = decision_json(&config, &routed, index + 1);
        writeln!(out, "{record}").map_err(|e| format!("cannot write stdout: {e}"))?;
    }
    out.flush().map_err(|e| format!("cannot write stdout: {e}"))
}

/// One output line: the decision as the filter would log it, plus the per-tier scores.
pub fn decision_json(config: &Config, routed: &Routed, line: usize) -> Value {
    let decision = &routed.decision;
    let model = config.model(decision.model);
    let cues: Vec<&str> = decision
        .classification
        .iter()
        .flat_map(|c| c.evidence.iter())
        .map(|(_, e)| config.classifier.evidence_name(*e))
        .collect();
    let mut scores = Map::new();
    if let Some(c) = &decision.classification {
        for (tier, score) in config.tiers.iter().zip(&c.scores) {
            scores.insert(tier.name.clone(), json!(score));
        }
    }
    let mut record = json!({
        "line": line,
        "tier": config.tier_name(decision),
        "model": model.name,
        "cluster": model.cluster,
        "source": decision.source.as_str(),
        "cues": cues,
        "scores": scores,
    });
    if let Value::Object(fields) = &mut record {
        if decision.body == BodyStatus::NotJson {
            fields.insert(
                "note".into(),
                json!("body is not a JSON object; passed through untouched"),
            );
        }
        if let Some(source) = decision.untrusted_task {
            fields.insert("untrusted_task".into(), json!(source.as_str()));
        }
    }
    record
}
