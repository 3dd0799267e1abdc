//! The confidence gate: the verdict on one non-streaming answer, from the answer, what the
//! request asked for and the tier's gate config. The first failing check names the reason.

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{BuildError, Input, MatchKind};
use serde_json::Value;

use super::answer::Answer;
use super::contract::AnswerContract;
use super::Reason;
use crate::api::ApiShape;

/// Phrases of refusals and hedges, used when a cascade tier sets no `refusal_phrases`. Each
/// is also matched with a typographic apostrophe (`can’t`), case-insensitively, anywhere in
/// the answer: keep to phrases that do not appear in good answers.
pub const DEFAULT_REFUSAL_PHRASES: &[&str] = &[
    "i can't help with",
    "i cannot help with",
    "i can't assist with",
    "i cannot assist with",
    "i'm unable to",
    "i am unable to",
    "i'm not able to",
    "i am not able to",
    "i cannot answer",
    "i can't answer",
    "i don't know",
    "i do not know",
    "i'm not sure",
    "i am not sure",
    "as an ai language model",
    "i cannot provide",
    "i can't provide",
];

/// A cascade tier's compiled gate.
#[derive(Debug)]
pub struct Gate {
    /// `None` when `refusal_phrases` is `[]`.
    phrases: Option<DFA>,
    /// Normalised ([`normalise_label`]); empty: no label check.
    labels: Vec<String>,
    pub max_escalations: usize,
    pub min_mean_logprob: Option<f64>,
}

/// The gate's verdict on one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Escalate(Reason),
}

impl Gate {
    pub fn new(
        phrases: &[String],
        labels: &[String],
        max_escalations: usize,
        min_mean_logprob: Option<f64>,
    ) -> Result<Gate, BuildError> {
        let mut patterns: Vec<String> = Vec::with_capacity(phrases.len() * 2);
        for p in phrases {
            let p = p.trim().to_string();
            if p.contains('\'') {
                patterns.push(p.replace('\'', "\u{2019}"));
            }
            patterns.push(p);
        }
        let phrases = if patterns.is_empty() {
            None
        } else {
            Some(
                DFA::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    // As the cue automaton: no prefilter code in the module.
                    .prefilter(false)
                    .build(&patterns)?,
            )
        };
        Ok(Gate {
            phrases,
            labels: labels.iter().map(|l| normalise_label(l)).collect(),
            max_escalations,
            min_mean_logprob,
        })
    }

    /// The router asks the first model for logprobs (Chat Completions) to check them.
    pub fn wants_logprobs(&self) -> bool {
        self.min_mean_logprob.is_some()
    }

    /// The verdict on a 2xx answer `body` of shape `api` to a request with `contract`.
    pub fn check(&self, api: Option<ApiShape>, contract: &AnswerContract, body: &[u8]) -> Verdict {
        let Some(answer) = Answer::read(api, body) else {
            return Verdict::Escalate(Reason::Unreadable);
        };
        match self.first_failure(contract, &answer) {
            Some(reason) => Verdict::Escalate(reason),
            None => Verdict::Pass,
        }
    }

    fn first_failure(&self, contract: &AnswerContract, answer: &Answer) -> Option<Reason> {
        if answer.truncated {
            return Some(Reason::Length);
        }
        if !answer.tool_calls {
            let empty = answer.texts.is_empty() || answer.texts.iter().any(|t| t.trim().is_empty());
            if empty {
                return Some(Reason::Empty);
            }
            if answer.refused || answer.texts.iter().any(|t| self.has_phrase(t)) {
                return Some(Reason::Refusal);
            }
            for text in &answer.texts {
                if let Some(reason) = self.text_failure(contract, text) {
                    return Some(reason);
                }
            }
        }
        match (self.min_mean_logprob, answer.logprobs) {
            (Some(min), Some((sum, count))) if count > 0 && sum / (count as f64) < min => {
                Some(Reason::LowLogprob)
            }
            _ => None,
        }
    }

    /// The JSON checks when the request asked for JSON, else the configured labels.
    fn text_failure(&self, contract: &AnswerContract, text: &str) -> Option<Reason> {
        if contract.json {
            return json_failure(contract, text);
        }
        let label = normalise_label(text);
        (!self.labels.is_empty() && !self.labels.contains(&label)).then_some(Reason::LabelMiss)
    }

    fn has_phrase(&self, text: &str) -> bool {
        self.phrases
            .as_ref()
            .is_some_and(|dfa| matches!(dfa.try_find(&Input::new(text)), Ok(Some(_))))
    }
}

fn json_failure(contract: &AnswerContract, text: &str) -> Option<Reason> {
    let Ok(value) = serde_json::from_str::<Value>(text.trim()) else {
        return Some(Reason::InvalidJson);
    };
    if let Some(allowed) = &contract.enum_values {
        if !allowed.contains(&value) {
            return Some(Reason::EnumMiss);
        }
    }
    if !contract.required.is_empty() {
        let Some(object) = value.as_object() else {
            return Some(Reason::RequiredMissing);
        };
        if contract.required.iter().any(|k| !object.contains_key(k)) {
            return Some(Reason::RequiredMissing);
        }
    }
    let misses_enum = contract
        .property_enums
        .iter()
        .any(|(key, allowed)| value.get(key).is_some_and(|v| !allowed.contains(v)));
    misses_enum.then_some(Reason::EnumMiss)
}

/// A plain-text label as compared: trimmed, without surrounding quotes or backticks and a
/// trailing period, ASCII letters lowercase (`"Positive."` -> `positive`). Not
/// `str::to_lowercase`: its Unicode tables cost the module about 16 KB.
pub fn normalise_label(text: &str) -> String {
    let wrapping = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`');
    text.trim_start_matches(wrapping)
        .trim_end_matches(|c| wrapping(c) || c == '.')
        .to_ascii_lowercase()
}
