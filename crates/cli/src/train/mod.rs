//! `tier-router train`: a model file from labelled prompts, deterministic (same data and
//! flags, same bytes), with its held-out and leave-one-group-out scores.

mod data;
mod eval;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use tier_router_core::learn::features::{FLAG_BIGRAMS, FLAG_STRUCTURE};
use tier_router_core::learn::train::{self, Example, Options, SplitMix};
use tier_router_core::learn::{format, Model};
use tier_router_core::Config;

use data::{Fields, Labelled};

#[derive(clap::Args)]
#[command(
    after_help = "Input: JSONL, one {\"tier\": ..., \"prompt\": ...} object or request \
                        body with a label field a line.\n\
                        The written model is trained on every line; the scores printed come \
                        from models trained without the lines they score.\n\
                        Exit codes: 0 success; 1 invalid config, data or options; 2 usage \
                        error."
)]
pub struct Args {
    /// Labelled prompts (JSONL); repeat for several files.
    #[arg(long, value_name = "FILE", required = true)]
    data: Vec<PathBuf>,
    /// Where to write the model file.
    #[arg(long, value_name = "MODEL")]
    out: PathBuf,
    /// The configuration whose tiers the labels name (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The field of each line that holds its tier (a tier name or task alias).
    #[arg(long, value_name = "FIELD", default_value = "tier")]
    label_field: String,
    /// The share of each tier's lines held out for the printed scores (0: none).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.2)]
    holdout: f64,
    /// Seeds the held-out split and the training order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Leave-one-group-out cross-validation by this field (its value up to the first `:`,
    /// so `owner/repo:path` groups by repository).
    #[arg(long, value_name = "FIELD")]
    cv_by: Option<String>,
    /// Passes over the data.
    #[arg(long, default_value_t = 10)]
    epochs: u32,
    /// Hash buckets are 2^BITS; the model file is about 3 x 2^BITS bytes for three tiers
    /// (15: 96 KiB).
    #[arg(long, value_name = "BITS", default_value_t = 15)]
    hash_bits: u8,
    /// L2 decay per update of the weights an example touches.
    #[arg(long, default_value_t = 1e-3)]
    l2: f32,
    /// The first epoch's learning rate (epoch e uses LR / (1 + e/2)).
    #[arg(long, value_name = "LR", default_value_t = 0.5)]
    learning_rate: f32,
    /// Word unigrams only (no bigrams).
    #[arg(long)]
    no_bigrams: bool,
    /// No structural tokens (length, turns, system prompt, code fence).
    #[arg(long)]
    no_structure: bool,
}

pub fn run(args: &Args) -> Result<(), String> {
    let options = options(args)?;
    let text = super::read_config(args.config.as_deref())?;
    let config = super::compile(&text)?;
    let fields = Fields {
        label: &args.label_field,
        group: args.cv_by.as_deref(),
    };
    let labelled = data::read(&config, &args.data, &fields)?;
    let tiers = Tiers::of(&config, &labelled);
    let examples: Vec<Example> = labelled
        .iter()
        .map(|l| Example::new(&options.spec, &l.body, tiers.model_index(l.tier)))
        .collect();
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write stdout: {e}");
    writeln!(
        out,
        "{} labelled prompts: {}",
        labelled.len(),
        tiers.counts(&labelled)
    )
    .map_err(io)?;
    let min_confidence = min_confidence(&config);
    if args.holdout > 0.0 {
        let (train_idx, test_idx) = split(&labelled, args.holdout, args.seed);
        let model = fit(&tiers, &examples, &train_idx, &options, "held-out split");
        let scored = with_model(&text, model)?;
        let records: Vec<eval::Record> = test_idx
            .iter()
            .filter_map(|&i| labelled.get(i))
            .map(|l| eval::record(&scored, l))
            .collect();
        writeln!(
            out,
            "\n== Held-out split: {} prompts ({:.0}% of each tier, seed {}), trained on the other {}",
            test_idx.len(),
            100.0 * args.holdout,
            args.seed,
            train_idx.len()
        )
        .map_err(io)?;
        eval::report(&config, &records, min_confidence, &mut out).map_err(io)?;
    }
    if args.cv_by.is_some() {
        cross_validate(
            &text, &config, &labelled, &examples, &tiers, &options, &mut out,
        )?;
    }
    let all: Vec<usize> = (0..examples.len()).collect();
    let model = fit(&tiers, &examples, &all, &options, "final model");
    let bytes = model.to_bytes();
    std::fs::write(&args.out, &bytes)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    writeln!(
        out,
        "\nwrote {} ({} bytes; tiers {}; 2^{} buckets; trained on all {} prompts)",
        args.out.display(),
        bytes.len(),
        model.tiers().join(", "),
        options.spec.hash_bits,
        examples.len()
    )
    .map_err(io)
}

fn options(args: &Args) -> Result<Options, String> {
    if !(format::MIN_HASH_BITS..=format::MAX_HASH_BITS).contains(&args.hash_bits) {
        return Err(format!(
            "--hash-bits {} is out of range; use {} to {}",
            args.hash_bits,
            format::MIN_HASH_BITS,
            format::MAX_HASH_BITS
        ));
    }
    if !(0.0..1.0).contains(&args.holdout) {
        return Err(format!(
            "--holdout {} is out of range; use 0 to below 1",
            args.holdout
        ));
    }
    let mut options = Options {
        epochs: args.epochs,
        seed: args.seed,
        l2: args.l2,
        learning_rate: args.learning_rate,
        ..Options::default()
    };
    options.spec.hash_bits = args.hash_bits;
    let mut flags = FLAG_BIGRAMS | FLAG_STRUCTURE;
    if args.no_bigrams {
        flags &= !FLAG_BIGRAMS;
    }
    if args.no_structure {
        flags &= !FLAG_STRUCTURE;
    }
    options.spec.flags = flags;
    Ok(options)
}

fn min_confidence(config: &Config) -> f64 {
    config
        .classifier
        .model()
        .map_or(tier_router_core::config::DEFAULT_MIN_CONFIDENCE, |m| {
            m.min_confidence
        })
}

/// The configured tiers that have labelled lines, in config order: the model's tiers.
struct Tiers {
    names: Vec<String>,
    /// Config tier index -> model tier index.
    to_model: Vec<usize>,
}

impl Tiers {
    fn of(config: &Config, labelled: &[Labelled]) -> Tiers {
        let mut present = vec![false; config.tiers.len()];
        for l in labelled {
            if let Some(p) = present.get_mut(l.tier) {
                *p = true;
            }
        }
        let mut names = Vec::new();
        let mut to_model = Vec::new();
        for (tier, here) in config.tiers.iter().zip(&present) {
            to_model.push(names.len());
            if *here {
                names.push(tier.name.clone());
            }
        }
        Tiers { names, to_model }
    }

    fn model_index(&self, config_tier: usize) -> usize {
        self.to_model
            .get(config_tier)
            .copied()
            .unwrap_or(usize::MAX)
    }

    fn counts(&self, labelled: &[Labelled]) -> String {
        let mut counts = vec![0u64; self.names.len()];
        for l in labelled {
            if let Some(c) = counts.get_mut(self.model_index(l.tier)) {
                *c += 1;
            }
        }
        self.names
            .iter()
            .zip(counts)
            .map(|(n, c)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A stratified split: each tier's lines in a seeded shuffle, the first `fraction` held out.
/// Returns (train, test) indices, each ascending.
fn split(labelled: &[Labelled], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut by_tier: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, l) in labelled.iter().enumerate() {
        by_tier.entry(l.tier).or_default().push(i);
    }
    let mut rng = SplitMix(seed ^ 0x5eed_5eed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for indices in by_tier.values_mut() {
        rng.shuffle(indices);
        let held = ((indices.len() as f64) * fraction).round() as usize;
        test.extend_from_slice(indices.get(..held).unwrap_or_default());
        train.extend_from_slice(indices.get(held..).unwrap_or_default());
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

fn fit(
    tiers: &Tiers,
    examples: &[Example],
    subset: &[usize],
    options: &Options,
    what: &str,
) -> Model {
    let chosen: Vec<Example> = subset
        .iter()
        .filter_map(|&i| examples.get(i).cloned())
        .collect();
    let mut progress = Progress::new(what, options.epochs);
    let model = train::train_reporting(&tiers.names, &chosen, options, &mut |e| progress.epoch(e));
    progress.done();
    model
}

/// The config with `model` in place of its own.
fn with_model(text: &super::ConfigText, model: Model) -> Result<Config, String> {
    let mut config = super::compile(text)?;
    config.use_model(model, None)?;
    Ok(config)
}

fn cross_validate(
    text: &super::ConfigText,
    config: &Config,
    labelled: &[Labelled],
    examples: &[Example],
    tiers: &Tiers,
    options: &Options,
    out: &mut dyn Write,
) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot write stdout: {e}");
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in labelled.iter().enumerate() {
        groups
            .entry(l.group.as_deref().unwrap_or(""))
            .or_default()
            .push(i);
    }
    if groups.len() < 2 {
        return Err("--cv-by: the lines form fewer than two groups".to_string());
    }
    writeln!(
        out,
        "\n== Leave-one-group-out cross-validation: {} groups",
        groups.len()
    )
    .map_err(io)?;
    let min_confidence = min_confidence(config);
    let mut all_records = Vec::new();
    for (group, held) in &groups {
        let rest: Vec<usize> = (0..labelled.len())
            .filter(|i| held.binary_search(i).is_err())
            .collect();
        let model = fit(tiers, examples, &rest, options, &format!("without {group}"));
        let scored = with_model(text, model)?;
        let records: Vec<eval::Record> = held
            .iter()
            .filter_map(|&i| labelled.get(i))
            .map(|l| eval::record(&scored, l))
            .collect();
        let scores = eval::Scores::of(config, &records, eval::Rule::Routed(min_confidence));
        writeln!(
            out,
            "{group} ({} prompts): {}",
            held.len(),
            scores.headline()
        )
        .map_err(io)?;
        all_records.extend(records);
    }
    writeln!(
        out,
        "\nAll groups, each scored by the model trained without it:"
    )
    .map_err(io)?;
    eval::report(config, &all_records, min_confidence, out).map_err(io)
}

/// `training <what>: epoch 3/10` on stderr, only when stderr is a terminal.
struct Progress {
    enabled: bool,
    what: String,
    epochs: u32,
}

impl Progress {
    fn new(what: &str, epochs: u32) -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            what: what.to_string(),
            epochs,
        }
    }

    fn epoch(&mut self, done: u32) {
        if self.enabled {
            eprint!("\rtraining {}: epoch {done}/{}   ", self.what, self.epochs);
        }
    }

    fn done(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}
