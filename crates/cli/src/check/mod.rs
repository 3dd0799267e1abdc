//! `tier-router check`: validate a configuration exactly as the filter's `on_configure` does
//! (an invalid config is an error: exit 1), then lint it (findings are warnings: exit 0, or 1
//! with `--strict`).

mod cues;
mod envoy;
mod finding;
mod model;
mod models;
mod rollout;
mod shape;
mod tiers;
mod trust;

use std::path::PathBuf;

use serde_json::Value;
use tier_router_core::Config;

use crate::fmt::plural;

pub use finding::Finding;

#[derive(clap::Args)]
#[command(
    after_help = "Exit codes: 0 valid (warnings allowed); 1 invalid or unreadable \
                        config, or any warning with --strict; 2 usage error."
)]
pub struct Args {
    /// The JSON configuration (default: the built-in envoy/tier-router.json).
    config: Option<PathBuf>,
    /// Exit 1 when the lints find anything, not only when the config is invalid.
    #[arg(long)]
    strict: bool,
    /// An Envoy bootstrap (YAML or JSON): every model's `cluster` must be one of its
    /// `static_resources.clusters`, else exit 1 (with CDS configured: warnings).
    #[arg(long, value_name = "ENVOY_YAML")]
    envoy: Option<PathBuf>,
    /// A model file (`tier-router train --out`) to lint against the config in place of its
    /// own: every model tier must be a config tier (else exit 1); tiers it never picks and a
    /// size over 256 KiB are warnings.
    #[arg(long, value_name = "MODEL")]
    model: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<(), String> {
    let text = super::read_config(args.config.as_deref())?;
    let mut config = super::compile(&text)?;
    if let Some(path) = &args.model {
        let model = super::read_model(path)?;
        config
            .use_model(model, None)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    // The filter accepted the document, so it is JSON; the lints read the signals from it.
    let document: Value =
        serde_json::from_slice(&text.bytes).map_err(|e| format!("{}: not JSON: {e}", text.name))?;
    let mut findings = lint(&config, &document);
    if let Some(path) = &args.envoy {
        check_clusters(&config, path, &mut findings)?;
    }
    for finding in &findings {
        println!("{finding}");
    }
    println!(
        "{}: ok ({} tiers, {} models, {} cues, {}, fallback {}); {}",
        text.name,
        config.tiers.len(),
        config.models.len(),
        config.classifier.cues().len(),
        model::describe(&config),
        config.model(config.fallback_model).name,
        plural(findings.len() as u64, "warning")
    );
    if args.strict && !findings.is_empty() {
        return Err(format!(
            "{}: {} (--strict)",
            text.name,
            plural(findings.len() as u64, "warning")
        ));
    }
    Ok(())
}

/// Models whose cluster the bootstrap lacks: an error, or warnings when the bootstrap takes
/// clusters from CDS too (they may arrive at run time).
fn check_clusters(
    config: &Config,
    path: &std::path::Path,
    findings: &mut Vec<Finding>,
) -> Result<(), String> {
    let bootstrap = envoy::read(path)?;
    let name = path.display().to_string();
    let missing = envoy::missing(config, &bootstrap, &name);
    if bootstrap.dynamic {
        let note = "; the bootstrap uses CDS, so it may arrive at run time";
        findings.extend(
            missing
                .into_iter()
                .map(|m| Finding::new("missing-cluster", format!("{m}{note}"))),
        );
        return Ok(());
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} model clusters missing from {name}:\n  {}",
        missing.len(),
        missing.join("\n  ")
    ))
}

/// Every lint, in the order they are reported.
pub fn lint(config: &Config, document: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    cues::lint(config, &mut findings);
    shape::lint(config, &mut findings);
    tiers::lint(config, document, &mut findings);
    models::lint(config, &mut findings);
    trust::lint(config, &mut findings);
    rollout::lint(config, &mut findings);
    model::lint(config, &mut findings);
    findings
}
