//! `tier-router report LOG...`: per tier and per model spend, savings and latency from the
//! JSON access log `envoy/envoy.yaml` writes. One pass, streaming: memory depends on the
//! number of tiers, models and periods, never on the size of the log.

mod entry;
mod groups;
mod html;
mod input;
mod json;
mod progress;
mod record;
mod sketch;
mod stats;
mod summary;
mod text;
mod time;

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::fmt;
use input::{Counter, Input, Line};
use progress::Progress;
use summary::Summary;
use time::Period;

/// Lines between progress redraw checks.
const TICK_LINES: u64 = 4_096;

#[derive(clap::Args)]
#[command(
    after_help = "Lines: one JSON object per line with the keys envoy/envoy.yaml logs \
                        (docs/cli.md lists them); lines that are not JSON objects are counted \
                        and listed, not fatal.\n\
                        Exit codes: 0 success (unparseable lines included); 1 a LOG is missing \
                        or could not be read to the end (the report is still printed), or the \
                        --html FILE cannot be written; 2 usage error."
)]
pub struct Args {
    /// Access-log files of JSON lines; `-` reads stdin. Gzip-compressed input is detected
    /// and decompressed.
    #[arg(required = true, value_name = "LOG")]
    logs: Vec<PathBuf>,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
    /// Add a time series by hour or day (UTC, from `start_time`).
    #[arg(long, value_enum, value_name = "PERIOD")]
    by: Option<Period>,
    /// Also write the report as one self-contained HTML page (inline SVG charts, no
    /// scripts, nothing fetched) to FILE; its cost-over-time chart is by `--by`, else hour.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Do not draw the progress bar (it is drawn only when stderr is a terminal anyway).
    #[arg(long)]
    no_progress: bool,
    /// When done, print lines/s, MB/s and peak memory to stderr.
    #[arg(long)]
    stats: bool,
}

pub fn run(args: &Args) -> Result<(), String> {
    let total = total_size(&args.logs)?;
    let started = Instant::now();
    let counter = Counter::default();
    let mut progress = Progress::new(!args.no_progress, total, counter.clone());
    let period = args.by.or(args.html.as_ref().map(|_| Period::Hour));
    let mut summary = Summary::new(period, args.by.is_some());
    let mut buf = Vec::with_capacity(64 * 1024);
    for path in &args.logs {
        let mut input = Input::open(path, &counter)?;
        read_all(&mut input, &mut buf, &mut summary, &mut progress);
    }
    progress.finish();
    let inputs: Vec<String> = args.logs.iter().map(|p| p.display().to_string()).collect();
    write_report(args, &summary, &inputs).map_err(|e| format!("cannot write stdout: {e}"))?;
    if let Some(path) = &args.html {
        html::write_file(&summary, &inputs, path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if args.stats {
        eprintln!("{}", throughput(&summary, counter.get(), started));
    }
    if summary.unparseable > 0 && !args.json {
        eprintln!(
            "tier-router: unparseable lines: {} (first: {})",
            fmt::count(summary.unparseable),
            summary.unparseable_list().join("; ")
        );
    }
    match summary.read_errors.len() {
        0 => Ok(()),
        _ => Err(format!("cannot read {}", summary.read_errors.join("; "))),
    }
}

/// Checks every input exists before reading any; the total size for the progress bar
/// (`None` when stdin is an input).
fn total_size(paths: &[PathBuf]) -> Result<Option<u64>, String> {
    let mut total = Some(0u64);
    for path in paths {
        let size = input::size_of(path)?;
        total = total.zip(size).map(|(t, s)| t + s);
    }
    Ok(total)
}

/// Reads `input` to the end; a read error (a truncated gzip file) ends this input and is
/// reported, and the other inputs are still read.
fn read_all(input: &mut Input, buf: &mut Vec<u8>, summary: &mut Summary, progress: &mut Progress) {
    let mut number = 0u64;
    loop {
        number += 1;
        match input.read_line(buf) {
            Ok(Line::Read) => summary.add_line(&input.name, number, buf),
            Ok(Line::TooLong) => summary.add_too_long(&input.name, number),
            Ok(Line::Eof) => return,
            Err(e) => {
                let read = number - 1;
                summary
                    .read_errors
                    .push(format!("{}: after line {read}: {e}", input.name));
                return;
            }
        }
        if number % TICK_LINES == 0 {
            progress.tick(summary.lines);
        }
    }
}

fn write_report(args: &Args, summary: &Summary, inputs: &[String]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        json::write(summary, inputs, &mut out)?;
        writeln!(out)?;
    } else {
        text::write(summary, &mut out)?;
    }
    out.flush()
}

/// `12,345 lines (1.23 GB) in 4.5 s: 2,743 lines/s, 273.3 MB/s; peak memory 9.1 MB`.
fn throughput(summary: &Summary, raw_bytes: u64, started: Instant) -> String {
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let mut line = format!(
        "tier-router report: {} lines ({}",
        fmt::count(summary.lines),
        fmt::bytes(summary.bytes)
    );
    if raw_bytes != summary.bytes {
        line.push_str(&format!(", {} read", fmt::bytes(raw_bytes)));
    }
    line.push_str(&format!(
        ") in {seconds:.2} s: {} lines/s, {:.1} MB/s",
        fmt::count((summary.lines as f64 / seconds) as u64),
        summary.bytes as f64 / 1e6 / seconds
    ));
    if let Some(kb) = peak_memory_kb() {
        line.push_str(&format!("; peak memory {}", fmt::bytes(kb * 1024)));
    }
    line
}

/// The process's peak resident set (VmHWM), on Linux.
fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
