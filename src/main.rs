//! `tier-router`: the command-line tool over the same core the Envoy filter runs.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
