//! Tiers whose cues describe a topic ("billing", "invoice", "the product") instead of the
//! shape of the answer ("one word", "step by step", "write an email"). A topic says nothing
//! about how big or how hard the answer is, so topic cues send a one-word lookup and a
//! ten-page analysis about the same product to the same tier, and a broad one ("help with
//! the product") matches nearly everything.
//!
//! The heuristic: a cue is *shape-like* when one of its words (split on anything but
//! letters, digits and `_`, compared in lowercase) is in [`SHAPE_WORDS`]: quantities and
//! restrictions (`one`, `only`, `short`), answer formats (`json`, `list`, `table`, `email`),
//! and verbs that name the kind of output (`return`, `extract`, `explain`, `write`, `prove`).
//! A tier is reported when its shape-like cues carry less than half of its total cue weight.

use tier_router_core::Config;

use super::Finding;

/// Below this share of the tier's cue weight, its cues are reported as topic-like.
const MIN_SHAPE_SHARE: f64 = 0.5;

/// Words that say what the output looks like. Sorted, for binary search.
#[rustfmt::skip]
pub const SHAPE_WORDS: &[&str] = &[
    "analyse", "analysis", "analyze", "answer", "brief", "bullet", "bullets", "calculate",
    "casual", "categories", "categorise", "categorize", "category", "choose", "classify",
    "code", "compare", "complete", "compute", "concise", "contrast", "conversational",
    "convert", "csv", "debug", "derivation", "derive", "describe", "detail", "detailed",
    "draft", "edit", "elaborate", "email", "essay", "explain", "explanation", "extract",
    "false", "field", "fields", "fill", "formal", "format", "friendly", "function", "generate",
    "implement", "json", "justify", "label", "labels", "letter", "line", "lines", "list",
    "long", "no", "number", "one", "only", "optimize", "outline", "output", "paragraph",
    "paragraphs", "paraphrase", "pick", "plan", "poem", "post", "program", "proof", "proofread",
    "prove", "rate", "reason", "refactor", "rephrase", "reply", "respond", "response", "return",
    "rewrite", "score", "script", "select", "sentence", "sentences", "sentiment", "short",
    "shorten", "show", "single", "solve", "step", "steps", "story", "summarise", "summarize",
    "summary", "table", "tag", "tags", "think", "tone", "translate", "true", "word", "words",
    "write", "yaml", "yes",
];

pub fn lint(config: &Config, findings: &mut Vec<Finding>) {
    for (index, tier) in config.tiers.iter().enumerate() {
        let cues: Vec<_> = config
            .classifier
            .cues()
            .iter()
            .filter(|c| c.tier.0 == index)
            .collect();
        let total: f64 = cues.iter().map(|c| c.weight.abs()).sum();
        if cues.is_empty() || total == 0.0 {
            continue;
        }
        let shape: f64 = cues
            .iter()
            .filter(|c| is_shape_like(&c.phrase))
            .map(|c| c.weight.abs())
            .sum();
        if shape / total >= MIN_SHAPE_SHARE {
            continue;
        }
        let topics: Vec<String> = cues
            .iter()
            .filter(|c| !is_shape_like(&c.phrase))
            .take(5)
            .map(|c| format!("`{}`", c.phrase))
            .collect();
        findings.push(Finding::new(
            "topic-cues",
            format!(
                "tier `{}` cues look like topics, not output shapes ({:.0}% of the cue weight \
                 has no output-shape word; e.g. {}): cues should say what the answer looks \
                 like (`one word`, `step by step`, `write an email`), or a topic will send \
                 short and long tasks to the same tier",
                tier.name,
                100.0 * (1.0 - shape / total),
                topics.join(", ")
            ),
        ));
    }
}

pub fn is_shape_like(phrase: &str) -> bool {
    phrase
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .any(|w| {
            SHAPE_WORDS
                .binary_search(&w.to_lowercase().as_str())
                .is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_words_are_sorted() {
        let mut sorted = SHAPE_WORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, SHAPE_WORDS);
    }

    #[test]
    fn shape_and_topic_cues() {
        assert!(is_shape_like("one word"));
        assert!(is_shape_like("step by step"));
        assert!(is_shape_like("write an email"));
        assert!(!is_shape_like("billing"));
        assert!(!is_shape_like("help with the product"));
    }
}
