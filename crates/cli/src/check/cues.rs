//! Cues shared between tiers: the same phrase in two tiers, and a phrase of one tier inside a
//! phrase of another. Containment uses the classifier's own rule (on word boundaries,
//! ignoring case), so `only the` is inside `return only the label` but `tag` is not inside
//! `stage`: a prompt that matches the longer cue always scores the shorter one too.

use std::collections::BTreeMap;

use tier_router_core::classify::Cue;
use tier_router_core::config::TierId;
use tier_router_core::Config;

use super::Finding;

pub fn lint(config: &Config, findings: &mut Vec<Finding>) {
    let cues = config.classifier.cues();
    duplicates(config, cues, findings);
    overlaps(config, cues, findings);
}

fn duplicates(config: &Config, cues: &[Cue], findings: &mut Vec<Finding>) {
    let mut tiers_of: BTreeMap<&str, Vec<TierId>> = BTreeMap::new();
    for cue in cues {
        tiers_of.entry(&cue.phrase).or_default().push(cue.tier);
    }
    for (phrase, tiers) in tiers_of.into_iter().filter(|(_, t)| t.len() > 1) {
        let names: Vec<String> = tiers
            .iter()
            .map(|t| format!("`{}`", config.tier(*t).name))
            .collect();
        findings.push(Finding::new(
            "cue-in-two-tiers",
            format!(
                "cue `{phrase}` is in tiers {}: it adds to each of their scores, so it cannot \
                 tell them apart; keep it in one tier",
                names.join(" and ")
            ),
        ));
    }
}

fn overlaps(config: &Config, cues: &[Cue], findings: &mut Vec<Finding>) {
    for (i, a) in cues.iter().enumerate() {
        for b in cues.iter().skip(i + 1) {
            if a.tier == b.tier || a.phrase == b.phrase {
                continue;
            }
            let (inner, outer) = if contains_cue(&b.phrase, &a.phrase) {
                (a, b)
            } else if contains_cue(&a.phrase, &b.phrase) {
                (b, a)
            } else {
                continue;
            };
            let (inner_tier, outer_tier) =
                (&config.tier(inner.tier).name, &config.tier(outer.tier).name);
            findings.push(Finding::new(
                "cue-overlap",
                format!(
                    "tier `{inner_tier}` cue `{}` is contained in tier `{outer_tier}` cue `{}`: \
                     every prompt matching the `{outer_tier}` cue also scores {} for \
                     `{inner_tier}`; make the cues disjoint",
                    inner.phrase, outer.phrase, inner.weight
                ),
            ));
        }
    }
}

/// True when `needle` occurs in `haystack` with no letter, digit or `_` glued to either end
/// (the classifier's word-boundary rule; non-ASCII bytes count as letters).
pub fn contains_cue(haystack: &str, needle: &str) -> bool {
    let (hay, pat) = (haystack.as_bytes(), needle.as_bytes());
    if pat.is_empty() || pat.len() > hay.len() {
        return false;
    }
    (0..=hay.len() - pat.len()).any(|start| {
        let end = start + pat.len();
        hay.get(start..end)
            .is_some_and(|w| w.eq_ignore_ascii_case(pat))
            && !start
                .checked_sub(1)
                .and_then(|i| hay.get(i))
                .is_some_and(|b| is_word_byte(*b))
            && !hay.get(end).is_some_and(|b| is_word_byte(*b))
    })
}

pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_is_word_wise() {
        assert!(contains_cue("return only the label", "only the"));
        assert!(contains_cue("reply to", "reply to"));
        assert!(!contains_cue("at this stage", "tag"));
        assert!(!contains_cue("tags", "tag"));
        assert!(contains_cue("trade-offs", "offs"));
        assert!(!contains_cue("étag", "tag"));
    }
}
