//! `tier-router`: the command-line tool over the same core the Envoy filter runs (check,
//! classify, report, label): command-line parsing and dispatch.
//!
//! Exit codes: 0 success (warnings included, unless `check --strict`); 1 the config or an
//! input is invalid or unreadable, or `check --strict` found warnings; 2 usage error (clap).

mod check;
mod classify;
mod fmt;
mod label;
mod report;
mod table;
mod train;

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tier_router_core::Config;

/// The default configuration, the same file `envoy/envoy.yaml` embeds.
const DEFAULT_CONFIG: &str = include_str!("../../../envoy/tier-router.json");

#[derive(Parser)]
#[command(
    name = "tier-router",
    version,
    about = "Route LLM calls to the cheapest model tier that can do the job",
    after_help = "Exit codes: 0 success; 1 invalid or unreadable config or input (or warnings \
                  with `check --strict`); 2 usage error.\nThe rollout walkthrough: docs/cli.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a configuration exactly as the filter does, and lint it.
    ///
    /// Lints (warnings): a cue in two tiers, a cue inside another tier's cue, topic-like cues,
    /// a tier whose cues cannot win, a reasoning tier with a token floor under 4096, models
    /// without prices or unused, no baseline_model, unreachable tiers.
    Check(check::Args),
    /// Decide the tier of sampled request bodies; summarise the task mix, accuracy and cost.
    ///
    /// Reads one JSON request body per line on stdin and writes one JSON decision per line to
    /// stdout, in order; then a summary to stderr (to stdout alone with --summary): the task
    /// mix, with --labels precision, recall and a confusion matrix, and the priced what-if
    /// (everything on the baseline model vs. tiered).
    Classify(classify::Args),
    /// Summarise access logs: spend, savings and latency per tier and model.
    ///
    /// Reads the JSON access log envoy/envoy.yaml writes (files, `-` for stdin, gzip) in one
    /// streaming pass and prints per tier and per model: requests, errors, tokens, cost,
    /// baseline cost and savings, TTFT and latency p50/p95, fallbacks, failovers,
    /// escalations; and, for shadow-mode lines, what routing would have saved.
    Report(report::Args),
    /// Label sampled prompts by hand, one key per tier, for `train`.
    ///
    /// Shows each prompt of a JSONL sample (request bodies or {"prompt": ...} lines) as the
    /// classifier reads it, with the classifier's suggestion; writes one
    /// {"tier","prompt","source","id"} line per label to --out, synced after every key.
    /// Resumable; interactive only.
    Label(label::Args),
    /// Train a tier model from labelled prompts (JSONL) and score it on prompts it did not see.
    ///
    /// Deterministic: the same data and flags give the same model bytes. Prints per-tier
    /// precision, recall and the confusion matrix on a held-out split (--holdout), and with
    /// --cv-by FIELD leave-one-group-out cross-validation; then writes the model trained on
    /// every line. Give it to the filter as classifier.model.weights_base64 (docs/classifier.md).
    Train(train::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Classify(args) => classify::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Label(args) => label::run(&args),
        Command::Train(args) => train::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tier-router: {message}");
            ExitCode::from(1)
        }
    }
}

/// A configuration document: where it came from and its bytes.
struct ConfigText {
    name: String,
    bytes: Vec<u8>,
}

/// Reads `path`, or the built-in default configuration.
fn read_config(path: Option<&Path>) -> Result<ConfigText, String> {
    let Some(path) = path else {
        return Ok(ConfigText {
            name: "built-in config".to_string(),
            bytes: DEFAULT_CONFIG.as_bytes().to_vec(),
        });
    };
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(ConfigText {
        name: path.display().to_string(),
        bytes,
    })
}

/// Validates a configuration document exactly as the filter's `on_configure` does.
fn compile(text: &ConfigText) -> Result<Config, String> {
    Config::from_json(&text.bytes).map_err(|e| format!("{}: {e}", text.name))
}

/// Loads and validates `path`, or the built-in default configuration.
fn load_config(path: Option<&Path>) -> Result<Config, String> {
    compile(&read_config(path)?)
}

/// Reads and parses a model file.
fn read_model(path: &Path) -> Result<tier_router_core::learn::Model, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    tier_router_core::learn::Model::from_bytes(&bytes)
        .map_err(|e| format!("{}: not a usable model: {e}", path.display()))
}
