//! Scoring a model on labelled prompts it did not train on: the decision as the router makes
//! it (cues first, then the model at `min_confidence`, else the fallback), the model alone,
//! and the alternative of summing cue scores and model probabilities; per-tier precision and
//! recall, the confusion matrix, and a `min_confidence` sweep.

use std::io::{self, Write};

use tier_router_core::{Config, RequestHead};

use super::data::Labelled;
use crate::{fmt, table::Table};

/// The weight of the model's probability when it is summed with cue scores (a strong cue
/// weighs 3 in the shipped config).
pub const SUM_WEIGHT: f64 = 3.0;

const SWEEP: [f64; 9] = [0.0, 0.34, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9];

/// What the classifier said about one prompt.
pub struct Record {
    pub truth: usize,
    /// The tier the cues (and signals) decided alone.
    pub cue_winner: Option<usize>,
    pub cue_scores: Vec<f64>,
    /// The model's probability per configured tier.
    pub probabilities: Vec<f64>,
}

pub fn record(config: &Config, example: &Labelled) -> Record {
    let head = RequestHead {
        path: "/v1/chat/completions",
        ..RequestHead::default()
    };
    let routed = config.route(&head, Some(&example.line));
    let c = routed.decision.classification;
    let (cue_winner, cue_scores, probabilities) = match c {
        Some(c) => (
            c.winner.filter(|_| !c.by_model).map(|t| t.0),
            c.scores,
            c.probabilities,
        ),
        None => (None, Vec::new(), Vec::new()),
    };
    Record {
        truth: example.tier,
        cue_winner,
        cue_scores,
        probabilities,
    }
}

/// How a decision is made from a record; `None` is the fallback.
#[derive(Clone, Copy)]
pub enum Rule {
    /// Cues first, then the model's top tier at this probability.
    Routed(f64),
    /// The model's top tier, always.
    ModelAlone,
    /// The largest of cue score + SUM_WEIGHT x probability, with the cue margin.
    Sum { min_score: f64, min_margin: f64 },
}

impl Rule {
    pub fn decide(self, r: &Record) -> Option<usize> {
        let top = tier_router_core::learn::argmax(&r.probabilities);
        match self {
            Rule::Routed(min) => r
                .cue_winner
                .or_else(|| top.filter(|(_, p)| *p >= min).map(|(i, _)| i)),
            Rule::ModelAlone => top.map(|(i, _)| i),
            Rule::Sum {
                min_score,
                min_margin,
            } => {
                let combined: Vec<f64> = (0..r.cue_scores.len().max(r.probabilities.len()))
                    .map(|i| {
                        r.cue_scores.get(i).copied().unwrap_or(0.0)
                            + SUM_WEIGHT * r.probabilities.get(i).copied().unwrap_or(0.0)
                    })
                    .collect();
                let (best, score) = tier_router_core::learn::argmax(&combined)?;
                let runner_up = combined
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != best)
                    .map(|(_, s)| *s)
                    .fold(0.0, f64::max);
                (score >= min_score && score - runner_up >= min_margin).then_some(best)
            }
        }
    }
}

/// A confusion matrix over the tiers plus the fallback (the last class).
pub struct Scores {
    names: Vec<String>,
    /// `matrix[truth][decided]`.
    matrix: Vec<Vec<u64>>,
}

impl Scores {
    pub fn new(config: &Config) -> Scores {
        let mut names: Vec<String> = config.tiers.iter().map(|t| t.name.clone()).collect();
        names.push(tier_router_core::names::FALLBACK_TIER.to_string());
        let n = names.len();
        Scores {
            names,
            matrix: vec![vec![0; n]; n],
        }
    }

    pub fn of(config: &Config, records: &[Record], rule: Rule) -> Scores {
        let mut scores = Scores::new(config);
        for r in records {
            scores.add(r.truth, rule.decide(r));
        }
        scores
    }

    pub fn add(&mut self, truth: usize, decided: Option<usize>) {
        let fallback = self.names.len() - 1;
        let decided = decided.unwrap_or(fallback);
        if let Some(cell) = self.matrix.get_mut(truth).and_then(|r| r.get_mut(decided)) {
            *cell += 1;
        }
    }

    fn cell(&self, truth: usize, decided: usize) -> u64 {
        self.matrix
            .get(truth)
            .and_then(|r| r.get(decided))
            .copied()
            .unwrap_or(0)
    }

    fn labelled(&self, truth: usize) -> u64 {
        self.matrix.get(truth).map_or(0, |r| r.iter().sum())
    }

    fn decided(&self, class: usize) -> u64 {
        self.matrix
            .iter()
            .map(|r| r.get(class).copied().unwrap_or(0))
            .sum()
    }

    pub fn recall(&self, tier: usize) -> Option<f64> {
        let n = self.labelled(tier);
        (n > 0).then(|| self.cell(tier, tier) as f64 / n as f64)
    }

    /// Mean recall over the tiers that have labelled prompts.
    pub fn macro_recall(&self) -> f64 {
        let recalls: Vec<f64> = (0..self.names.len() - 1)
            .filter_map(|t| self.recall(t))
            .collect();
        recalls.iter().sum::<f64>() / recalls.len().max(1) as f64
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The share of `from` prompts decided as `to`.
    pub fn share(&self, from: &str, to: &str) -> Option<f64> {
        let (f, t) = (self.index(from)?, self.index(to)?);
        let n = self.labelled(f);
        (n > 0).then(|| self.cell(f, t) as f64 / n as f64)
    }

    fn fallback_share(&self) -> f64 {
        let fallback = self.names.len() - 1;
        let total: u64 = self.matrix.iter().flatten().sum();
        self.decided(fallback) as f64 / total.max(1) as f64
    }

    /// One line: macro recall, each tier's recall, analysis sent to label, the fallback.
    pub fn headline(&self) -> String {
        let tiers: Vec<String> = (0..self.names.len() - 1)
            .map(|t| {
                let r = self
                    .recall(t)
                    .map_or("-".to_string(), |r| format!("{r:.3}"));
                format!("{} {r}", self.names.get(t).map_or("?", |n| n.as_str()))
            })
            .collect();
        let to_label = self
            .share("analysis", "label")
            .map_or("-".to_string(), |s| format!("{:.1}%", 100.0 * s));
        format!(
            "macro recall {:.3} ({}); analysis sent to label {to_label}; fallback {:.1}%",
            self.macro_recall(),
            tiers.join(", "),
            100.0 * self.fallback_share()
        )
    }

    /// Per-tier precision and recall, then the confusion matrix.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut table = Table::new(&["tier", "precision", "recall", "labelled", "decided"], 1);
        for (i, name) in self.names.iter().enumerate() {
            let decided = self.decided(i);
            let precision = (decided > 0).then(|| self.cell(i, i) as f64 / decided as f64);
            table.row(vec![
                name.clone(),
                precision.map_or("-".to_string(), |p| format!("{p:.3}")),
                self.recall(i)
                    .map_or("-".to_string(), |r| format!("{r:.3}")),
                fmt::count(self.labelled(i)),
                fmt::count(decided),
            ]);
        }
        table.write(out)?;
        writeln!(out)?;
        writeln!(out, "Confusion matrix (rows: label, columns: decision)")?;
        let mut headers = vec!["label \\ decision"];
        headers.extend(self.names.iter().map(String::as_str));
        let mut matrix = Table::new(&headers, 1);
        for (i, name) in self.names.iter().enumerate() {
            let mut row = vec![name.clone()];
            row.extend((0..self.names.len()).map(|j| fmt::count(self.cell(i, j))));
            matrix.row(row);
        }
        matrix.write(out)
    }
}

/// The full report on `records`: the routed rule in detail, the alternatives and the sweep.
pub fn report(
    config: &Config,
    records: &[Record],
    min_confidence: f64,
    out: &mut dyn Write,
) -> io::Result<()> {
    let routed = Scores::of(config, records, Rule::Routed(min_confidence));
    writeln!(
        out,
        "As routed (cues first, then the model at min_confidence {min_confidence}, else the \
         fallback): {}",
        routed.headline()
    )?;
    routed.write(out)?;
    writeln!(out)?;
    let (min_score, min_margin) = config.classifier.thresholds();
    let alternatives = [
        (
            "Cues alone (today's classifier)",
            Rule::Routed(f64::INFINITY),
        ),
        ("Model alone (top tier, no threshold)", Rule::ModelAlone),
        (
            "Sum (cue score + 3 x model probability, cue min_score and margin)",
            Rule::Sum {
                min_score,
                min_margin,
            },
        ),
    ];
    for (name, rule) in alternatives {
        writeln!(
            out,
            "{name}: {}",
            Scores::of(config, records, rule).headline()
        )?;
    }
    writeln!(out)?;
    let mut sweep = Table::new(
        &[
            "min_confidence",
            "macro recall",
            "analysis->label",
            "fallback",
        ],
        0,
    );
    for threshold in SWEEP {
        let s = Scores::of(config, records, Rule::Routed(threshold));
        sweep.row(vec![
            format!("{threshold:.2}"),
            format!("{:.3}", s.macro_recall()),
            s.share("analysis", "label")
                .map_or("-".to_string(), |v| format!("{:.1}%", 100.0 * v)),
            format!("{:.1}%", 100.0 * s.fallback_share()),
        ]);
    }
    sweep.write(out)
}
