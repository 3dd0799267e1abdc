//! The prompts to label: a JSONL file of request bodies (or `{"prompt": ...}` lines) read
//! with the core's body parser, so each item holds exactly the text the classifier reads,
//! with the classifier's suggestion; then a seeded shuffle and `--limit`.

use std::collections::HashSet;
use std::path::Path;

use tier_router_core::body::{RequestBody, Windows};
use tier_router_core::hash::HashKey;
use tier_router_core::Config;

use super::suggest::Suggestion;

/// The fixed key of the item ids: ids must be the same on every run and machine.
const ID_KEY: HashKey = HashKey([0; 16]);

/// One prompt to label.
#[derive(Debug)]
pub struct Item {
    /// SipHash-2-4 (all-zero key) of the body line, trimmed: 16 hex digits.
    pub id: String,
    /// The system prompt as the classifier scans it (empty without one).
    pub system: String,
    /// The last user message as the classifier scans it.
    pub user: String,
    /// Bytes of all prompt text in the body, system and earlier turns included.
    pub prompt_bytes: usize,
    pub turns: usize,
    pub suggestion: Suggestion,
}

impl Item {
    /// The text written to the labels file: what the classifier reads.
    pub fn prompt(&self) -> String {
        match (self.system.is_empty(), self.user.is_empty()) {
            (true, _) => self.user.clone(),
            (false, true) => self.system.clone(),
            (false, false) => format!("{}\n\n{}", self.system, self.user),
        }
    }
}

/// Lines of the sample file that are not items.
#[derive(Debug, Default)]
pub struct Ignored {
    pub not_json: u64,
    pub no_prompt: u64,
    pub duplicates: u64,
}

impl Ignored {
    pub fn describe(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.not_json, "not a JSON object"),
            (self.no_prompt, "without prompt text"),
            (self.duplicates, "a duplicate of an earlier line"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{} {what}", crate::fmt::plural(*n, "line")))
        .collect();
        (!parts.is_empty()).then(|| format!("ignored {}", parts.join(", ")))
    }
}

pub struct Sample {
    /// In the order they are shown.
    pub items: Vec<Item>,
    /// Distinct prompts in the file, before `--limit`.
    pub distinct: usize,
    pub ignored: Ignored,
}

/// Reads `path`, shuffles its distinct prompts with `seed`, and keeps the first `limit`.
/// The order depends only on the file and the seed, so a larger limit extends the same
/// sample and a rerun shows the same prompts.
pub fn read(
    path: &Path,
    config: &Config,
    seed: u64,
    limit: Option<usize>,
) -> Result<Sample, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut ignored = Ignored::default();
    let mut seen = HashSet::new();
    let mut items = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let id = format!("{:016x}", ID_KEY.hash(line));
        if !seen.insert(id.clone()) {
            ignored.duplicates += 1;
            continue;
        }
        match item(config, line, id) {
            Ok(item) => items.push(item),
            Err(Unusable::NotJson) => ignored.not_json += 1,
            Err(Unusable::NoPrompt) => ignored.no_prompt += 1,
        }
    }
    let distinct = items.len();
    shuffle(&mut items, seed);
    items.truncate(limit.unwrap_or(usize::MAX));
    Ok(Sample {
        items,
        distinct,
        ignored,
    })
}

enum Unusable {
    NotJson,
    NoPrompt,
}

fn item(config: &Config, line: &[u8], id: String) -> Result<Item, Unusable> {
    let scan_bytes = config.classifier.scan_bytes();
    let body = RequestBody::parse_for(line, scan_bytes, &config.dropped_fields)
        .map_err(|_| Unusable::NotJson)?;
    let system = text(&body.system);
    let user = body.last_user.as_ref().map(text).unwrap_or_default();
    if system.trim().is_empty() && user.trim().is_empty() {
        return Err(Unusable::NoPrompt);
    }
    let classification = config.classifier.classify(&body);
    Ok(Item {
        id,
        system,
        user,
        prompt_bytes: body.prompt_len(),
        turns: body.turns,
        suggestion: Suggestion::new(config, &classification),
    })
}

/// The windows' parts, one per line (a window may end inside a character: lossy).
fn text(windows: &Windows) -> String {
    let parts: Vec<String> = windows
        .iter()
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect();
    parts.join("\n")
}

/// Fisher-Yates with SplitMix64: small, fixed, the same on every platform and release.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        let j = (splitmix64(&mut state) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shuffle_is_fixed_by_the_seed() {
        let order = |seed| {
            let mut v: Vec<u32> = (0..10).collect();
            shuffle(&mut v, seed);
            v
        };
        assert_eq!(order(7), order(7));
        assert_ne!(order(7), order(8));
        // Pinned: a change of algorithm would reorder every operator's sample.
        assert_eq!(order(0), vec![6, 3, 2, 9, 8, 1, 4, 7, 0, 5]);
        // SplitMix64's reference output for seed 0 (Vigna's splitmix64.c).
        let mut state = 0;
        assert_eq!(splitmix64(&mut state), 0xe220_a839_7b1d_cdaf);
        let mut sorted = order(3);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }
}
