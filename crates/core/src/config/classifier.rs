//! `classifier` and the tiers' cues and signals -> the compiled [`Classifier`].

use super::bounds::{self, check_range};
use super::compile::find_tier;
use super::raw::{RawConfig, RawSignal, RawTier};
use super::{ConfigError, Tier, TierId};
use crate::classify::{Classifier, Cue, Signal, Signals};

pub(super) fn compile_classifier(
    raw: &RawConfig,
    tiers: &[Tier],
) -> Result<Classifier, ConfigError> {
    let c = &raw.classifier;
    check_range(
        "classifier.scan_bytes",
        c.scan_bytes,
        bounds::MIN_SCAN_BYTES,
        bounds::MAX_SCAN_BYTES,
        "bytes of each prompt part scanned for cues",
    )?;
    let score = "a sum of cue and signal weights";
    check_range(
        "classifier.min_score",
        c.min_score,
        0.0,
        bounds::MAX_SCORE,
        score,
    )?;
    check_range(
        "classifier.min_margin",
        c.min_margin,
        0.0,
        bounds::MAX_SCORE,
        score,
    )?;
    let cues = compile_cues(&raw.tiers)?;
    let s = &c.signals;
    let signals = Signals {
        small_max_tokens: signal(tiers, "small_max_tokens", &s.small_max_tokens, |r| {
            r.at_most.unwrap_or(64)
        })?,
        enum_schema: signal(tiers, "enum_schema", &s.enum_schema, |_| 0)?,
        reasoning_effort: signal(tiers, "reasoning_effort", &s.reasoning_effort, |_| 0)?,
        code_fence: signal(tiers, "code_fence", &s.code_fence, |_| 0)?,
        long_prompt: signal(tiers, "long_prompt", &s.long_prompt, |r| {
            r.min_chars.unwrap_or(12_000) as u64
        })?,
        multi_turn: signal(tiers, "multi_turn", &s.multi_turn, |r| {
            r.min_turns.unwrap_or(3) as u64
        })?,
    };
    let classifier = Classifier::new(
        cues,
        signals,
        tiers.len(),
        c.scan_bytes,
        c.min_score,
        c.min_margin,
    )
    .map_err(|e| {
        ConfigError::new(
            "tiers[].cues",
            format!("the cue automaton could not be built: {e}"),
        )
    })?;
    let (model, source) = super::classifier_model::compile_model(&c.model, tiers)?;
    Ok(classifier.with_model(model, source))
}

fn compile_cues(raw: &[RawTier]) -> Result<Vec<Cue>, ConfigError> {
    let mut cues: Vec<Cue> = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        for (phrase, weight) in t.cues.iter() {
            let at = format!("tiers[{i}].cues.{phrase}");
            let normalized = phrase.trim().to_ascii_lowercase();
            if normalized.is_empty() {
                return Err(ConfigError::new(
                    format!("tiers[{i}].cues"),
                    "a cue phrase is empty; remove it",
                ));
            }
            check_weight(&at, *weight)?;
            if cues
                .iter()
                .any(|c| c.tier == TierId(i) && c.phrase == normalized)
            {
                return Err(ConfigError::new(
                    at,
                    "this cue is listed twice (cues ignore case); keep one",
                ));
            }
            cues.push(Cue {
                tier: TierId(i),
                phrase: normalized,
                weight: *weight,
            });
        }
    }
    Ok(cues)
}

fn signal(
    tiers: &[Tier],
    name: &str,
    raw: &Option<RawSignal>,
    threshold: impl Fn(&RawSignal) -> u64,
) -> Result<Option<Signal>, ConfigError> {
    let Some(r) = raw else { return Ok(None) };
    let at = format!("classifier.signals.{name}");
    let tier = find_tier(tiers, &format!("{at}.tier"), &r.tier)?;
    check_weight(&format!("{at}.weight"), r.weight)?;
    if let Some(at_most) = r.at_most {
        check_range(
            &format!("{at}.at_most"),
            at_most,
            0,
            bounds::MAX_TOKENS,
            "tokens",
        )?;
    }
    if let Some(min_chars) = r.min_chars {
        let max = bounds::MAX_BODY_BYTES;
        check_range(
            &format!("{at}.min_chars"),
            min_chars,
            0,
            max,
            "characters of prompt",
        )?;
    }
    if let Some(min_turns) = r.min_turns {
        check_range(
            &format!("{at}.min_turns"),
            min_turns,
            0,
            bounds::MAX_TURNS,
            "turns",
        )?;
    }
    Ok(Some(Signal {
        tier,
        weight: r.weight,
        threshold: threshold(r),
    }))
}

fn check_weight(field: &str, weight: f64) -> Result<(), ConfigError> {
    let max = bounds::MAX_WEIGHT;
    check_range(
        field,
        weight,
        -max,
        max,
        "a weight added to the tier's score",
    )
}
