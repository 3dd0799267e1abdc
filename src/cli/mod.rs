//! Command-line parsing and dispatch. Exit codes: 0 success, 1 the input or config is
//! invalid, 2 usage error (clap).

mod check;
mod classify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tier_router::Config;

/// The default configuration, the same file `envoy/envoy.yaml` embeds.
const DEFAULT_CONFIG: &str = include_str!("../../envoy/tier-router.json");

#[derive(Parser)]
#[command(
    name = "tier-router",
    version,
    about = "Route LLM calls to the cheapest model tier that can do the job"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a configuration exactly as the filter does.
    Check {
        /// The JSON configuration (default: the built-in envoy/tier-router.json).
        config: Option<PathBuf>,
    },
    /// Decide the tier for JSON request bodies read one per line on stdin; write one JSON
    /// decision per line to stdout, in order.
    Classify(classify::Args),
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { config } => check::run(config.as_deref()),
        Command::Classify(args) => classify::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tier-router: {message}");
            ExitCode::from(1)
        }
    }
}

/// Loads `path`, or the built-in default configuration.
fn load_config(path: Option<&std::path::Path>) -> Result<Config, String> {
    let Some(path) = path else {
        return Config::from_json(DEFAULT_CONFIG.as_bytes())
            .map_err(|e| format!("built-in config: {e}"));
    };
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Config::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}
