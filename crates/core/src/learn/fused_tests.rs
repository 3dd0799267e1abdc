//! The fused scoring (features summed as the tokens are read, no feature list) and the
//! tokenizer's ASCII word loop against the implementation they replaced, kept here verbatim as
//! the reference: the same tokens, the same probabilities bit for bit, the same explanations,
//! on random texts (ASCII, Latin, Greek, Cyrillic, CJK, punctuation, invalid UTF-8) and random
//! bodies (system prompt, several turns, messages longer than the scan windows).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use proptest::prelude::*;

use super::features::{tokens, Feature, FeatureOut, Token};
use super::{softmax, Model, Strongest, LANES};
use crate::body::RequestBody;

/// The model's probabilities and token count as `Model::score` computed them before: every
/// feature collected into a list, then the weights summed over the list.
fn reference_score(model: &Model, body: &RequestBody) -> (Vec<f64>, usize) {
    let mut features: Vec<Feature> = Vec::new();
    model.spec.collect(body, &mut features);
    let n = features.len();
    let t = model.tiers.len();
    let mut sums = [0i32; super::format::MAX_TIERS];
    for f in &features {
        let at = f.bucket as usize * model.stride;
        let row = model.weights.get(at..at + model.stride).unwrap();
        for (s, w) in sums.iter_mut().zip(row) {
            *s += i32::from(*w);
        }
    }
    let tokens = features.iter().filter(|f| f.unigram).count();
    let norm = if n == 0 { 0.0 } else { 1.0 / (n as f64).sqrt() };
    let logits: Vec<f64> = (0..t)
        .map(|i| {
            let bias = f64::from(model.bias[i]);
            let scale = f64::from(model.scales[i]);
            bias + scale * f64::from(sums[i]) * norm
        })
        .collect();
    (softmax(&logits), tokens)
}

/// The tokenizer before the ASCII word loop, verbatim (two 128-entry tables, one byte a step).
/// `Model::explain` over a list of features made first, as the model did before it scored
/// while walking.
fn reference_strongest(
    model: &Model,
    features: &[Feature],
    tier: usize,
    top: usize,
) -> Vec<Feature> {
    let mut strongest = Strongest::new(model, tier, top);
    features.iter().for_each(|f| strongest.feature(*f));
    strongest.best.into_iter().map(|(_, f)| f).collect()
}

fn reference_tokens(text: &[u8]) -> Vec<Token> {
    const FNV_OFFSET: u32 = 0x811c_9dc5;
    const FNV_PRIME: u32 = 0x0100_0193;
    const SYMBOL_SEED: u32 = FNV_OFFSET ^ 0x5bd1_e995;
    let step = |hash: u32, byte: u8| (hash ^ u32::from(byte)).wrapping_mul(FNV_PRIME);
    let mut out = Vec::new();
    let (mut start, mut hash) = (usize::MAX, FNV_OFFSET);
    let end = |at: usize, start: &mut usize, hash: &mut u32, out: &mut Vec<Token>| {
        if *start != usize::MAX {
            out.push(Token {
                hash: *hash,
                start: *start,
                end: at,
                word: true,
            });
            (*start, *hash) = (usize::MAX, FNV_OFFSET);
        }
    };
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b < 0x80 {
            if b.is_ascii_alphanumeric() || b == b'_' {
                let folded = if b.is_ascii_digit() {
                    b'0'
                } else {
                    b.to_ascii_lowercase()
                };
                if start == usize::MAX {
                    start = i;
                }
                hash = step(hash, folded);
            } else {
                end(i, &mut start, &mut hash, &mut out);
                if b.is_ascii_graphic() {
                    out.push(Token {
                        hash: step(SYMBOL_SEED, b),
                        start: i,
                        end: i + 1,
                        word: false,
                    });
                }
            }
            i += 1;
            continue;
        }
        let len = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        let c = text
            .get(i..i + len)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .and_then(|s| s.chars().next());
        match c {
            Some(c) if super::features::is_word_char(c) => {
                let mut buf = [0u8; 4];
                for &folded in super::features::fold(c).encode_utf8(&mut buf).as_bytes() {
                    if start == usize::MAX {
                        start = i;
                    }
                    hash = step(hash, folded);
                }
                i += len;
            }
            Some(c) => {
                end(i, &mut start, &mut hash, &mut out);
                if !c.is_whitespace() {
                    let mut buf = [0u8; 4];
                    let mut h = SYMBOL_SEED;
                    for &byte in c.encode_utf8(&mut buf).as_bytes() {
                        h = step(h, byte);
                    }
                    out.push(Token {
                        hash: h,
                        start: i,
                        end: i + len,
                        word: false,
                    });
                }
                i += len;
            }
            None => {
                end(i, &mut start, &mut hash, &mut out);
                i += 1;
            }
        }
    }
    end(text.len(), &mut start, &mut hash, &mut out);
    out
}

/// Pieces random texts are made of: words of every script the tokenizer folds, digits,
/// punctuation, spaces, code, and bytes that are not UTF-8.
const PIECES: [&[u8]; 24] = [
    b"Write",
    b"a",
    b"haiku",
    b"ABOUT",
    b"x_1",
    b"2024",
    b" ",
    b"  ",
    b"\n",
    b"\t",
    b"(",
    b");",
    b"```",
    b"fn main() {}",
    "Überprüfe".as_bytes(),
    "ŁÓDŹ".as_bytes(),
    "ΣΟΦΙΑ".as_bytes(),
    "Привет".as_bytes(),
    "東京は".as_bytes(),
    "—".as_bytes(),
    "。".as_bytes(),
    "\u{3000}".as_bytes(),
    b"\xff",
    b"\xc3",
];

fn text(max_pieces: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0..PIECES.len(), 0..max_pieces)
        .prop_map(|picks| picks.into_iter().flat_map(|p| PIECES[p].to_vec()).collect())
}

fn as_json_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_tokens_are_the_reference_tokens(text in text(200)) {
        let mut got = Vec::new();
        tokens(&text, &mut |t: Token| got.push(t));
        prop_assert_eq!(got, reference_tokens(&text));
    }

    #[test]
    fn fused_scoring_gives_the_reference_probabilities_and_explanations(
        system in prop::option::of(text(40)),
        turns in prop::collection::vec(text(60), 1..4),
        repeat in 1usize..300,
    ) {
        let model = Model::builtin().unwrap();
        prop_assert_eq!(model.stride, LANES);
        let mut messages = Vec::new();
        if let Some(s) = &system {
            messages.push(serde_json::json!({"role": "system", "content": as_json_text(s)}));
        }
        for (i, t) in turns.iter().enumerate() {
            let role = if i % 2 == 0 { "user" } else { "assistant" };
            // The last turn is long enough, at times, to be cut into head and tail windows.
            let content = if i + 1 == turns.len() { as_json_text(t).repeat(repeat) } else { as_json_text(t) };
            messages.push(serde_json::json!({"role": role, "content": content}));
        }
        let body = serde_json::json!({"model": "auto", "messages": messages}).to_string();
        let parsed = RequestBody::parse(body.as_bytes()).unwrap();
        let scored = model.score(&parsed);
        let (probabilities, tokens) = reference_score(&model, &parsed);
        prop_assert_eq!(&scored.probabilities, &probabilities);
        prop_assert_eq!(scored.tokens, tokens);
        let mut features = Vec::new();
        model.spec.collect(&parsed, &mut features);
        for tier in 0..model.tiers.len() {
            prop_assert_eq!(model.explain(&parsed, tier, 3), reference_strongest(&model, &features, tier, 3));
        }
    }
}
