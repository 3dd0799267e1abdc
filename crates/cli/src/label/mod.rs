//! `tier-router label`: an interactive terminal labeller for the rollout's first step,
//! "sample production prompts; label task type manually". It shows each sampled prompt as
//! the classifier reads it with the classifier's suggestion, takes one key per tier (Enter
//! accepts the suggestion, `s` skips, `u` undoes, `q` quits), and writes the JSONL lines
//! `train` reads, synced after every key. A rerun with the same `--out` resumes.

mod keys;
mod sample;
mod screen;
mod session;
mod store;
mod suggest;
#[cfg(unix)]
mod terminal;
#[cfg(not(unix))]
#[path = "no_terminal.rs"]
mod terminal;

use std::path::{Path, PathBuf};

use session::{Flow, Session};
use store::Store;
use terminal::Terminal;

/// How often a wait for a key looks for a resized terminal.
const RESIZE_POLL_MS: i32 = 250;

#[derive(clap::Args)]
#[command(
    after_help = "Keys: a tier's digit or first letter labels the prompt; Enter \
                        accepts the suggestion; s skips; u undoes the last label or skip \
                        (also one from an earlier run); q or Ctrl-C quits.\n\
                        Output: one line per label, {\"tier\",\"prompt\",\"source\",\"id\",\
                        \"seq\"}, the format `train` reads; skips go to OUT.skipped. Both \
                        are synced after every key; rerun with the same --out to resume.\n\
                        Exit codes: 0 quit normally; 1 invalid config, unreadable sample \
                        or output, stdin or stdout not a terminal; 2 usage error."
)]
pub struct Args {
    /// The prompts: JSONL of request bodies (OpenAI chat, completions, responses; Anthropic
    /// messages) or `{"prompt": "..."}` lines.
    #[arg(long, value_name = "FILE")]
    sample: PathBuf,
    /// The labels file (JSONL), created or resumed.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The JSON configuration whose tiers and classifier are used (default: the built-in
    /// envoy/tier-router.json).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Label at most N prompts: the first N of the seeded order.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// The seed of the order prompts are shown in (a random sample of the file).
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
}

pub fn run(args: &Args) -> Result<(), String> {
    let config = super::load_config(args.config.as_deref())?;
    let tiers: Vec<String> = config.tiers.iter().map(|t| t.name.clone()).collect();
    let sample = sample::read(&args.sample, &config, args.seed, args.limit)?;
    let ignored = sample.ignored.describe();
    if sample.items.is_empty() {
        return Err(format!(
            "{}: no prompt to label{}",
            args.sample.display(),
            ignored.map(|i| format!(" ({i})")).unwrap_or_default()
        ));
    }
    refuse_same_file(&args.sample, &args.out)?;
    terminal::check_interactive()?;
    let store = Store::open(&args.out, format!("label:{}", file_name(&args.sample)))?;
    let mut session = Session::new(sample.items, store, tiers)?;
    session.set_status(opening_status(&session, sample.distinct, ignored));
    let title = format!("{} -> {}", file_name(&args.sample), file_name(&args.out));
    let result =
        Terminal::open().and_then(|mut terminal| interact(&mut terminal, &mut session, &title));
    // The terminal is restored here (dropped above), so the summary stays on screen.
    println!("{}", summary(&session, &args.out));
    result
}

fn interact(terminal: &mut Terminal, session: &mut Session, title: &str) -> Result<(), String> {
    let mut size = terminal.size();
    terminal.write(&screen::render(&session.view(title), size.0, size.1))?;
    loop {
        let Some(keys) = terminal.keys(RESIZE_POLL_MS)? else {
            if terminal.size() != size {
                size = terminal.size();
                terminal.write(&screen::render(&session.view(title), size.0, size.1))?;
            }
            continue;
        };
        for key in keys {
            if session.press(key)? == Flow::Quit {
                return Ok(());
            }
        }
        size = terminal.size();
        terminal.write(&screen::render(&session.view(title), size.0, size.1))?;
    }
}

fn opening_status(session: &Session, distinct: usize, ignored: Option<String>) -> String {
    let (labelled, skipped) = session.done_counts();
    let mut parts = Vec::new();
    if session.total() < distinct {
        parts.push(format!(
            "a sample of {} of {distinct} prompts",
            session.total()
        ));
    }
    if labelled + skipped > 0 {
        parts.push(format!("resumed: {} already done", labelled + skipped));
    }
    parts.extend(ignored);
    parts.join("; ")
}

fn summary(session: &Session, out: &Path) -> String {
    let (labelled, skipped) = session.done_counts();
    let tally = &session.tally;
    format!(
        "tier-router label: this run {} labelled, {} skipped, {} undone; the sample: {} of {} \
         done. Labels: {}; skips: {}.",
        tally.labelled,
        tally.skipped,
        tally.undone,
        labelled + skipped,
        session.total(),
        out.display(),
        session.store().skipped_path().display()
    )
}

/// Labels appended to the sample itself would be read back as prompts.
fn refuse_same_file(sample: &Path, out: &Path) -> Result<(), String> {
    let same = match (sample.canonicalize(), out.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(format!(
            "--out {} is the sample file; write the labels to another file",
            out.display()
        ));
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
