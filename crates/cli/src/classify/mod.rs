//! `tier-router classify`: the filter's decision for request bodies read from stdin, one
//! JSON decision per line on stdout, and a summary of the sample: the task mix, with
//! `--labels` precision, recall and a confusion matrix, and the priced what-if (everything
//! on the baseline model vs. tiered).

mod decision;
pub(crate) mod labels;
mod mix;
mod whatif;

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use tier_router_core::{Config, Decision, RequestHead};

use labels::Labels;
use mix::TaskMix;
use whatif::WhatIf;

#[derive(clap::Args)]
#[command(
    after_help = "Input: one JSON request body per line (blank lines are skipped).\n\
                        Output: one JSON decision per input line on stdout; the summary goes \
                        to stderr, or alone to stdout with --summary.\n\
                        Exit codes: 0 success; 1 invalid config or options, unreadable \
                        input; 2 usage error."
)]
pub struct Args {
    /// The JSON configuration (default: the built-in envoy/tier-router.json).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Decide as if the request carried this task header value.
    #[arg(long)]
    task: Option<String>,
    /// Decide as if the request was sent to this path (query string included).
    #[arg(long, default_value = "/v1/chat/completions")]
    path: String,
    /// Print only the summary, on stdout, instead of one decision per line.
    #[arg(long)]
    summary: bool,
    /// Score the decisions against this top-level field of each input line: a tier name,
    /// `fallback`, or a task alias. The body is decided as sent (the router ignores unknown
    /// fields).
    #[arg(long, value_name = "FIELD")]
    labels: Option<String>,
    /// A model file (`tier-router train --out`) in place of the config's model, to evaluate
    /// it with --labels.
    #[arg(long, value_name = "MODEL")]
    model: Option<PathBuf>,
    /// Completion tokens each tier's answers are expected to take, for the priced what-if
    /// [default: label=20,chat=300,analysis=1500; other tiers 1500 with a token_floor, else
    /// their expected_output_tokens; fallback 256].
    #[arg(long, value_name = "TIER=TOKENS,...")]
    expected_output: Option<String>,
    /// The model every request would use without the router, for the what-if [default: the
    /// config's baseline_model].
    #[arg(long, value_name = "MODEL")]
    baseline: Option<String>,
}

/// Tiers by index, then `fallback`: the classes the summary counts.
pub fn class_of(config: &Config, decision: &Decision) -> usize {
    decision.tier.map_or(config.tiers.len(), |t| t.0)
}

pub fn class_names(config: &Config) -> Vec<&str> {
    let mut names: Vec<&str> = config.tiers.iter().map(|t| t.name.as_str()).collect();
    names.push(tier_router_core::names::FALLBACK_TIER);
    names
}

pub fn run(args: &Args) -> Result<(), String> {
    let mut config = super::load_config(args.config.as_deref())?;
    if let Some(path) = &args.model {
        let model = super::read_model(path)?;
        config
            .use_model(model, None)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut summary = Summary {
        mix: TaskMix::new(&config),
        labels: args
            .labels
            .as_deref()
            .map(|field| Labels::new(&config, field)),
        whatif: WhatIf::new(
            &config,
            args.expected_output.as_deref(),
            args.baseline.as_deref(),
        )?,
    };
    decide_lines(&config, args, &mut summary)?;
    if args.summary {
        let mut out = std::io::stdout().lock();
        summary.write(&config, &mut out)
    } else {
        let mut err = std::io::stderr().lock();
        summary.write(&config, &mut err)
    }
    .map_err(|e| format!("cannot write the summary: {e}"))
}

fn decide_lines(config: &Config, args: &Args, summary: &mut Summary) -> Result<(), String> {
    let head = RequestHead {
        path: &args.path,
        task: args.task.as_deref(),
        session: None,
        request_id: None,
        ..RequestHead::default()
    };
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (index, line) in stdin.split(b'\n').enumerate() {
        let line = line.map_err(|e| format!("cannot read stdin: {e}"))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let routed = config.route(&head, Some(&line));
        summary.add(config, &routed.decision, &line, index + 1);
        if !args.summary {
            let record = decision::decision_json(config, &routed, index + 1);
            writeln!(out, "{record}").map_err(|e| format!("cannot write stdout: {e}"))?;
        }
    }
    out.flush().map_err(|e| format!("cannot write stdout: {e}"))
}

struct Summary {
    mix: TaskMix,
    labels: Option<Labels>,
    whatif: WhatIf,
}

impl Summary {
    fn add(&mut self, config: &Config, decision: &Decision, line: &[u8], number: usize) {
        let class = class_of(config, decision);
        self.mix.add(class, decision);
        if let Some(labels) = &mut self.labels {
            labels.add(config, class, line, number);
        }
        self.whatif.add(config, class, decision);
    }

    fn write(&self, config: &Config, out: &mut dyn Write) -> std::io::Result<()> {
        self.mix.write(config, out)?;
        if let Some(labels) = &self.labels {
            writeln!(out)?;
            labels.write(config, out)?;
        }
        writeln!(out)?;
        self.whatif.write(config, out)
    }
}
