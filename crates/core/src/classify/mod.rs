//! Content classification: which tier's output shape a request asks for, from cue phrases
//! and structural signals, with a minimum score and a margin over the runner-up; when no cue
//! decides, the learned model's top tier if its probability reaches `min_confidence`.

mod cues;
mod learned;

use aho_corasick::BuildError;

use crate::body::RequestBody;
use crate::config::TierId;
use cues::CueAutomaton;
pub use learned::{ModelSource, TierModel};

#[derive(Debug, Clone)]
pub struct Cue {
    pub tier: TierId,
    /// Lowercase.
    pub phrase: String,
    pub weight: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct Signal {
    pub tier: TierId,
    pub weight: f64,
    /// `at_most` tokens, `min_chars` or `min_turns`, by signal; unused by the others.
    pub threshold: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalKind {
    SmallMaxTokens,
    EnumSchema,
    ReasoningEffort,
    CodeFence,
    LongPrompt,
    MultiTurn,
}

impl SignalKind {
    pub fn name(self) -> &'static str {
        match self {
            SignalKind::SmallMaxTokens => "signal:small_max_tokens",
            SignalKind::EnumSchema => "signal:enum_schema",
            SignalKind::ReasoningEffort => "signal:reasoning_effort",
            SignalKind::CodeFence => "signal:code_fence",
            SignalKind::LongPrompt => "signal:long_prompt",
            SignalKind::MultiTurn => "signal:multi_turn",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Signals {
    pub small_max_tokens: Option<Signal>,
    pub enum_schema: Option<Signal>,
    pub reasoning_effort: Option<Signal>,
    pub code_fence: Option<Signal>,
    pub long_prompt: Option<Signal>,
    pub multi_turn: Option<Signal>,
}

/// Why a tier scored: a cue (index into the classifier's cues) or a structural signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evidence {
    Cue(usize),
    Signal(SignalKind),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The tier that scored at least `min_score` with `min_margin` over the runner-up.
    pub winner: Option<TierId>,
    /// Score per tier, indexed like `Config::tiers`.
    pub scores: Vec<f64>,
    /// Every cue and signal that matched, in the order found.
    pub evidence: Vec<(TierId, Evidence)>,
    /// The model's probability per tier, indexed like `Config::tiers` (empty: no model).
    pub probabilities: Vec<f64>,
    /// The winner is the model's: no cue decided and its probability passed `min_confidence`.
    pub by_model: bool,
    /// When the model decided: the features that raised the winner most, strongest first.
    pub model_features: Vec<String>,
}

impl Classification {
    /// The model's most likely tier and its probability, whether or not it decided.
    pub fn model_top(&self) -> Option<(TierId, f64)> {
        crate::learn::argmax(&self.probabilities).map(|(i, p)| (TierId(i), p))
    }
}

#[derive(Debug)]
pub struct Classifier {
    cues: Vec<Cue>,
    automaton: CueAutomaton,
    signals: Signals,
    tier_count: usize,
    scan_bytes: usize,
    min_score: f64,
    min_margin: f64,
    model: Option<TierModel>,
    model_source: ModelSource,
}

impl Classifier {
    pub fn new(
        cues: Vec<Cue>,
        signals: Signals,
        tier_count: usize,
        scan_bytes: usize,
        min_score: f64,
        min_margin: f64,
    ) -> Result<Classifier, BuildError> {
        let phrases: Vec<&str> = cues.iter().map(|c| c.phrase.as_str()).collect();
        let automaton = CueAutomaton::new(&phrases)?;
        Ok(Classifier {
            cues,
            automaton,
            signals,
            tier_count,
            scan_bytes,
            min_score,
            min_margin,
            model: None,
            model_source: ModelSource::Disabled,
        })
    }

    /// The classifier with a learned model (`None`: cues and signals only).
    pub fn with_model(mut self, model: Option<TierModel>, source: ModelSource) -> Classifier {
        self.model = model;
        self.model_source = source;
        self
    }

    pub fn set_model(&mut self, model: Option<TierModel>, source: ModelSource) {
        self.model = model;
        self.model_source = source;
    }

    pub fn model(&self) -> Option<&TierModel> {
        self.model.as_ref()
    }

    pub fn model_source(&self) -> &ModelSource {
        &self.model_source
    }

    /// Bytes scanned of the system prompt and of the last user message.
    pub fn scan_bytes(&self) -> usize {
        self.scan_bytes
    }

    /// `min_score` and `min_margin`, which a cue winner must pass.
    pub fn thresholds(&self) -> (f64, f64) {
        (self.min_score, self.min_margin)
    }

    pub fn cues(&self) -> &[Cue] {
        &self.cues
    }

    /// The name of a piece of evidence as it appears in logs: the cue phrase or `signal:<name>`.
    pub fn evidence_name(&self, evidence: Evidence) -> &str {
        match evidence {
            Evidence::Cue(i) => self.cues.get(i).map_or("?", |c| c.phrase.as_str()),
            Evidence::Signal(kind) => kind.name(),
        }
    }

    pub fn classify(&self, body: &RequestBody) -> Classification {
        let mut result = Classification {
            winner: None,
            scores: vec![0.0; self.tier_count],
            evidence: Vec::new(),
            probabilities: Vec::new(),
            by_model: false,
            model_features: Vec::new(),
        };
        let fence = self.scan_text(body, &mut result);
        self.apply_signals(body, fence, &mut result);
        result.winner = self.pick_winner(&result.scores);
        if let Some(model) = &self.model {
            self.apply_model(model, body, &mut result);
        }
        result
    }

    /// Cues decide first, as explicit rules; else the model's top tier when it is confident.
    fn apply_model(&self, model: &TierModel, body: &RequestBody, result: &mut Classification) {
        let scored = model.model.score(body);
        result.probabilities = model.probabilities(&scored.probabilities, self.tier_count);
        if result.winner.is_some() || scored.tokens < crate::learn::MIN_TOKENS {
            return;
        }
        let Some((index, p)) = crate::learn::argmax(&scored.probabilities) else {
            return;
        };
        if p >= model.min_confidence {
            result.winner = model.tiers.get(index).copied();
            result.by_model = result.winner.is_some();
            let top = crate::learn::EXPLAINED_FEATURES;
            let evidence = model.model.explain(body, index, top);
            result.model_features = crate::learn::Model::feature_text(body, &evidence);
        }
    }

    /// Scans the system prompt and the last user message, each within `scan_bytes`; returns
    /// whether a code fence was seen.
    fn scan_text(&self, body: &RequestBody, result: &mut Classification) -> bool {
        let mut seen = vec![false; self.cues.len()];
        let mut fence = false;
        let mut on_hit = |id: usize| {
            if id == self.automaton.fence_id() {
                fence = true;
                return;
            }
            let (Some(cue), Some(flag)) = (self.cues.get(id), seen.get_mut(id)) else {
                return;
            };
            if !*flag {
                *flag = true;
                add(result, cue.tier, cue.weight, Evidence::Cue(id));
            }
        };
        // The parser kept exactly the windows to scan (`scan_bytes` of each).
        for window in body.system.iter() {
            self.automaton.scan(window, &mut on_hit);
        }
        for window in body.last_user.iter().flat_map(|w| w.iter()) {
            self.automaton.scan(window, &mut on_hit);
        }
        fence
    }

    fn apply_signals(&self, body: &RequestBody, fence: bool, result: &mut Classification) {
        let s = &self.signals;
        let turns = body.turns as u64;
        let prompt_len = body.prompt_len() as u64;
        fire(
            result,
            s.small_max_tokens,
            SignalKind::SmallMaxTokens,
            |at_most| body.max_tokens.is_some_and(|cap| cap <= at_most),
        );
        fire(result, s.enum_schema, SignalKind::EnumSchema, |_| {
            body.enum_schema
        });
        fire(
            result,
            s.reasoning_effort,
            SignalKind::ReasoningEffort,
            |_| body.reasoning,
        );
        fire(result, s.code_fence, SignalKind::CodeFence, |_| fence);
        fire(result, s.long_prompt, SignalKind::LongPrompt, |min_chars| {
            prompt_len >= min_chars
        });
        fire(result, s.multi_turn, SignalKind::MultiTurn, |min_turns| {
            turns >= min_turns
        });
    }

    fn pick_winner(&self, scores: &[f64]) -> Option<TierId> {
        let mut best: Option<(usize, f64)> = None;
        let mut runner_up = 0.0_f64;
        for (i, &score) in scores.iter().enumerate() {
            match best {
                Some((_, b)) if score <= b => runner_up = runner_up.max(score),
                _ => {
                    if let Some((_, b)) = best {
                        runner_up = runner_up.max(b);
                    }
                    best = Some((i, score));
                }
            }
        }
        let (tier, score) = best?;
        (score >= self.min_score && score - runner_up >= self.min_margin).then_some(TierId(tier))
    }
}

/// Adds the signal's weight to its tier when it is configured and `fires(threshold)`.
fn fire(
    result: &mut Classification,
    signal: Option<Signal>,
    kind: SignalKind,
    fires: impl FnOnce(u64) -> bool,
) {
    if let Some(sig) = signal {
        if fires(sig.threshold) {
            add(result, sig.tier, sig.weight, Evidence::Signal(kind));
        }
    }
}

fn add(result: &mut Classification, tier: TierId, weight: f64, evidence: Evidence) {
    if let Some(score) = result.scores.get_mut(tier.0) {
        *score += weight;
        result.evidence.push((tier, evidence));
    }
}
