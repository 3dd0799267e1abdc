//! Native microbenchmark of the core's per-request work.
//!
//! * `route`: `Config::route_in` on OpenAI chat bodies whose user prompt is 0.5, 4 or 32 KiB
//!   of real prompt text: one JSON parse, classification, the policy pick and the rewrite of
//!   `model` (the new body is built). `parse` is `RequestBody::parse` alone, for attribution.
//!   `route-*-cues` is the same with the learned model off (`classifier.model.enabled`
//!   false: the cue classifier alone), so `route` minus `route-cues` is what the model adds;
//!   `model` is the model's scoring alone on a parsed body.
//! * `usage`: `UsageScanner::feed` over a streamed Chat Completions response (SSE, one event per
//!   chunk, usage in the last chunk) and over a plain JSON response.
//!
//! Prints ns per request (median of batches) and MB/s (10^6 bytes/s of body or response).
//! `--cold` times each call alone after evicting the caches (8 MiB written between calls), as
//! a proxy runs the filter between its own work: the hot loop's figures are a lower bound.
//!
//! Usage: core-bench --prompts FILE [--config FILE] [--seconds S] [--json] [--cold]
//!        core-bench --prompts FILE --only route-32k --seconds 5   (for callgrind / perf)
//!        core-bench --prompts FILE --cold

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tier_router_core::body::RequestBody;
use tier_router_core::store::MemoryStore;
use tier_router_core::usage::UsageScanner;
use tier_router_core::{Config, Env, RequestHead};

/// Different bodies per size, so the figures are not one input's luck.
const VARIANTS: usize = 16;
const BATCHES: usize = 7;
const PROMPT_SIZES: [(&str, usize); 3] = [("0.5k", 512), ("4k", 4096), ("32k", 32768)];

struct Args {
    prompts: PathBuf,
    config: PathBuf,
    seconds: f64,
    json: bool,
    only: Option<String>,
    cold: bool,
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("core-bench: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("core-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = Args {
        prompts: repo.join("../shared/eval/arena_hard_v0.1_prompts.jsonl"),
        config: repo.join("envoy/tier-router.json"),
        seconds: 0.5,
        json: false,
        only: None,
        cold: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--prompts" => args.prompts = value()?.into(),
            "--config" => args.config = value()?.into(),
            "--seconds" => {
                args.seconds = value()?
                    .parse()
                    .map_err(|_| "--seconds takes a number".to_string())?
            }
            "--only" => args.only = Some(value()?),
            "--json" => args.json = true,
            "--cold" => args.cold = true,
            "-h" | "--help" => {
                return Err(
                    "usage: core-bench --prompts FILE [--config FILE] [--seconds S] [--only NAME] [--json] [--cold]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn run(args: &Args) -> Result<(), String> {
    let prompts = load_prompts(&args.prompts)?;
    let config_json = std::fs::read(&args.config)
        .map_err(|e| format!("cannot read {}: {e}", args.config.display()))?;
    let config = Config::from_json(&config_json).map_err(|e| e.to_string())?;
    let cues_only = cues_only(&config_json)?;
    let mode = if args.cold {
        Mode::Cold
    } else {
        Mode::Hot(Duration::from_secs_f64(args.seconds))
    };
    let wanted = |name: &str| args.only.as_deref().is_none_or(|only| only == name);
    if !args.json {
        println!(
            "{:<22} {:>10} {:>12} {:>10}",
            "case", "bytes", "ns/request", "MB/s"
        );
    }
    let report = |name: &str, bytes: usize, ns: f64| {
        let mb_s = bytes as f64 / ns * 1e3;
        if args.json {
            println!(
                "{{\"case\":\"{name}\",\"bytes\":{bytes},\"ns_per_request\":{ns:.1},\"mb_per_s\":{mb_s:.1}}}"
            );
        } else {
            println!("{name:<22} {bytes:>10} {ns:>12.0} {mb_s:>10.0}");
        }
    };

    for (label, size) in PROMPT_SIZES {
        let bodies: Vec<Vec<u8>> = (0..VARIANTS)
            .map(|v| chat_body(&prompt_text(&prompts, v * 31, size)))
            .collect();
        let bytes = bodies.iter().map(Vec::len).sum::<usize>() / bodies.len();
        let name = format!("route-{label}");
        if wanted(&name) {
            check_routed(&config, &bodies)?;
            let store = MemoryStore::new();
            let ns = measure(mode, &bodies, |body| {
                let env = Env {
                    store: &store,
                    now_ns: 1,
                };
                let routed = config.route_in(&RequestHead::default(), Some(body), &env);
                black_box(routed);
            });
            report(&name, bytes, ns);
        }
        let name = format!("route-{label}-cues");
        if wanted(&name) {
            let store = MemoryStore::new();
            let ns = measure(mode, &bodies, |body| {
                let env = Env {
                    store: &store,
                    now_ns: 1,
                };
                black_box(cues_only.route_in(&RequestHead::default(), Some(body), &env));
            });
            report(&name, bytes, ns);
        }
        let name = format!("model-{label}");
        if let (true, Some(model)) = (wanted(&name), config.classifier.model()) {
            let parsed: Vec<RequestBody> = bodies
                .iter()
                .filter_map(|b| RequestBody::parse(b).ok())
                .collect();
            let ns = measure(mode, &parsed, |body| {
                black_box(model.model.score(body));
            });
            report(&name, bytes, ns);
        }
        let name = format!("parse-{label}");
        if wanted(&name) {
            let ns = measure(mode, &bodies, |body| {
                black_box(RequestBody::parse(body).ok());
            });
            report(&name, bytes, ns);
        }
    }

    let responses = [
        ("usage-sse-20", sse_response(20)),
        ("usage-sse-400", sse_response(400)),
        ("usage-json", vec![json_response().into_bytes()]),
    ];
    for (name, chunks) in &responses {
        if !wanted(name) {
            continue;
        }
        check_usage(name, chunks)?;
        let bytes = chunks.iter().map(Vec::len).sum();
        let inputs = [chunks.clone()];
        let ns = measure(mode, &inputs, |chunks| {
            let mut scanner = UsageScanner::new();
            for chunk in chunks {
                scanner.feed(chunk);
            }
            black_box(scanner.usage());
        });
        report(name, bytes, ns);
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Mode {
    /// Calls back to back for about this long.
    Hot(Duration),
    /// Each call alone, after evicting the caches.
    Cold,
}

fn measure<T>(mode: Mode, inputs: &[T], work: impl FnMut(&T)) -> f64 {
    match mode {
        Mode::Hot(budget) => measure_hot(budget, inputs, work),
        Mode::Cold => measure_cold(inputs, work),
    }
}

/// Mean ns per call, each call after 8 MiB were written (more than this machine's caches),
/// less the cost of reading the clock.
fn measure_cold<T>(inputs: &[T], mut work: impl FnMut(&T)) -> f64 {
    const CALLS: usize = 2_000;
    let mut evict = vec![0u8; 8 << 20];
    let (mut busy, mut clock) = (0u128, 0u128);
    for i in 0..CALLS {
        for j in (0..evict.len()).step_by(64) {
            evict[j] = evict[j].wrapping_add(1);
        }
        let start = Instant::now();
        work(&inputs[i % inputs.len()]);
        busy += start.elapsed().as_nanos();
        let start = Instant::now();
        clock += start.elapsed().as_nanos();
    }
    black_box(&evict);
    busy.saturating_sub(clock) as f64 / CALLS as f64
}

/// Median over batches of the mean ns per call, after a warm-up batch.
fn measure_hot<T>(budget: Duration, inputs: &[T], mut work: impl FnMut(&T)) -> f64 {
    // Calibrate: how many calls fill one batch.
    let start = Instant::now();
    let mut calls = 0usize;
    while start.elapsed() < budget / (BATCHES as u32 + 1) {
        work(&inputs[calls % inputs.len()]);
        calls += 1;
    }
    let per_batch = calls.max(inputs.len());
    let mut samples: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for i in 0..per_batch {
                work(&inputs[i % inputs.len()]);
            }
            start.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The config with the learned model off: today's cue classifier alone.
fn cues_only(config_json: &[u8]) -> Result<Config, String> {
    let mut value: serde_json::Value =
        serde_json::from_slice(config_json).map_err(|e| e.to_string())?;
    value["classifier"]["model"] = serde_json::json!({"enabled": false});
    Config::from_json(value.to_string().as_bytes()).map_err(|e| e.to_string())
}

fn load_prompts(path: &PathBuf) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the eval prompts at {} ({e}); they live in shared/eval/ beside the repo",
            path.display()
        )
    })?;
    let mut prompts = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        if let Some(prompt) = value.get("prompt").and_then(|p| p.as_str()) {
            prompts.push(prompt.to_string());
        }
    }
    if prompts.is_empty() {
        return Err(format!("no prompts in {}", path.display()));
    }
    Ok(prompts)
}

/// `size` bytes of real prompt text: prompts from `start` on, joined by blank lines.
fn prompt_text(prompts: &[String], start: usize, size: usize) -> String {
    let mut text = String::with_capacity(size + 4096);
    let mut i = start;
    while text.len() < size {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&prompts[i % prompts.len()]);
        i += 1;
    }
    let mut cut = size;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

/// The body shape bench/run.py sends through Envoy.
fn chat_body(prompt: &str) -> Vec<u8> {
    serde_json::json!({
        "model": "auto",
        "messages": [{ "role": "user", "content": prompt }],
    })
    .to_string()
    .into_bytes()
}

fn check_routed(config: &Config, bodies: &[Vec<u8>]) -> Result<(), String> {
    for body in bodies {
        let routed = config.route(&RequestHead::default(), Some(body));
        if routed.new_body.is_none() {
            return Err(
                "a benchmark body was not rewritten: it would not measure the rewrite".into(),
            );
        }
    }
    Ok(())
}

fn check_usage(name: &str, chunks: &[Vec<u8>]) -> Result<(), String> {
    let mut scanner = UsageScanner::new();
    for chunk in chunks {
        scanner.feed(chunk);
    }
    match scanner.usage().and_then(|u| u.normalize()) {
        Some(_) => Ok(()),
        None => Err(format!("{name}: the scanner found no usage")),
    }
}

const USAGE: &str = r#"{"prompt_tokens":812,"completion_tokens":400,"total_tokens":1212,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}}"#;

/// A streamed chat completion as OpenAI sends it with `include_usage`: a role chunk, `words`
/// content chunks, a finish chunk, the usage chunk and `[DONE]`, one event per chunk.
fn sse_response(words: usize) -> Vec<Vec<u8>> {
    let head = r#"{"id":"chatcmpl-bench0123456789abcdef","object":"chat.completion.chunk","created":1767225600,"model":"frontier-chat","system_fingerprint":"fp_bench","#;
    let mut events = vec![format!(
        r#"data: {head}"choices":[{{"index":0,"delta":{{"role":"assistant","content":""}},"finish_reason":null}}],"usage":null}}"#
    )];
    for i in 0..words {
        events.push(format!(
            r#"data: {head}"choices":[{{"index":0,"delta":{{"content":" word{i}"}},"finish_reason":null}}],"usage":null}}"#
        ));
    }
    events.push(format!(
        r#"data: {head}"choices":[{{"index":0,"delta":{{}},"finish_reason":"stop"}}],"usage":null}}"#
    ));
    events.push(format!(r#"data: {head}"choices":[],"usage":{USAGE}}}"#));
    events.push("data: [DONE]".to_string());
    events
        .into_iter()
        .map(|e| format!("{e}\n\n").into_bytes())
        .collect()
}

fn json_response() -> String {
    format!(
        r#"{{"id":"chatcmpl-bench0123456789abcdef","object":"chat.completion","created":1767225600,"model":"frontier-chat","choices":[{{"index":0,"message":{{"role":"assistant","content":"Mock answer from the benchmark upstream: a few sentences of text, about as long as a short reply.","refusal":null}},"logprobs":null,"finish_reason":"stop"}}],"usage":{USAGE},"system_fingerprint":"fp_bench"}}"#
    )
}
