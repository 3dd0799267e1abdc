//! The model's features, the same for training and serving: the windows the cue classifier
//! scans (the system prompt's head, the last user message's head and tail), tokenised into
//! words and symbols, case folded, digits folded to `0`; hashed word unigrams and bigrams, and
//! a few structural tokens (length, turns, system prompt, code fence).
//!
//! No allocation per token: a token's hash is built as its characters are read.

use crate::body::RequestBody;

/// What the feature hashing depends on; stored in the model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSpec {
    /// Hash buckets are `1 << hash_bits`.
    pub hash_bits: u8,
    pub seed: u32,
    /// [`FLAG_BIGRAMS`], [`FLAG_STRUCTURE`].
    pub flags: u16,
}

/// Word bigrams (pairs of adjacent tokens in one window).
pub const FLAG_BIGRAMS: u16 = 1;
/// Structural tokens: prompt length, turn count, a system prompt, a code fence.
pub const FLAG_STRUCTURE: u16 = 2;

/// A token as the hasher saw it, and where it is in its window (for explanations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub hash: u32,
    pub start: usize,
    pub end: usize,
    /// A word (letters, digits, `_`), not a symbol.
    pub word: bool,
}

/// One feature occurrence: its bucket, and the window and byte span it came from
/// (`window == STRUCTURAL`: a structural token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub bucket: u32,
    /// A token of its own (not a bigram, not structural).
    pub unigram: bool,
    pub window: u32,
    pub start: u32,
    pub end: u32,
}

pub const STRUCTURAL: u32 = u32::MAX;

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;
const BIGRAM_SALT: u32 = 0x9e37_79b9;

impl FeatureSpec {
    pub fn buckets(&self) -> usize {
        1usize << self.hash_bits
    }

    fn bucket(&self, hash: u32) -> u32 {
        fmix32(hash ^ self.seed) & ((1u32 << self.hash_bits) - 1)
    }

    /// Calls `emit` with every feature of `body`, in [`FeatureSpec::collect`]'s order, and
    /// returns how many there were.
    pub fn for_each(&self, body: &RequestBody, emit: impl FnMut(Feature)) -> usize {
        let mut counted = Counted(emit, 0);
        self.walk(body, &mut counted);
        counted.1
    }

    /// Appends every feature of `body` to `out`, windows in order (system, then the last user
    /// message), structural tokens last.
    pub fn collect(&self, body: &RequestBody, out: &mut Vec<Feature>) {
        self.walk(body, out);
    }

    /// Gives every feature of `body` to `out`, in [`FeatureSpec::collect`]'s order: the one
    /// feature extractor of training, scoring and explanations.
    pub fn walk(&self, body: &RequestBody, out: &mut impl FeatureOut) {
        let windows = body
            .system
            .iter()
            .chain(body.last_user.iter().flat_map(|w| w.iter()));
        let mut fence = false;
        for (index, window) in windows.enumerate() {
            fence = fence || has_fence(window);
            let mut sink = FeatureSink {
                spec: *self,
                bigrams: self.flags & FLAG_BIGRAMS != 0,
                window: index as u32,
                previous: None,
                out: &mut *out,
            };
            tokens(window, &mut sink);
        }
        if self.flags & FLAG_STRUCTURE != 0 {
            for token in structural_tokens(body, fence) {
                out.feature(Feature {
                    bucket: self.bucket(token),
                    unigram: false,
                    window: STRUCTURAL,
                    start: 0,
                    end: 0,
                });
            }
        }
    }
}

/// Where [`FeatureSpec::walk`] puts the features: a trait, so a consumer that only sums
/// weights is inlined into the token loop and the unused spans are never stored.
pub trait FeatureOut {
    fn feature(&mut self, feature: Feature);
}

impl FeatureOut for Vec<Feature> {
    #[inline(always)]
    fn feature(&mut self, feature: Feature) {
        self.push(feature);
    }
}

/// A closure, and how many features it was given.
struct Counted<F>(F, usize);

impl<F: FnMut(Feature)> FeatureOut for Counted<F> {
    #[inline(always)]
    fn feature(&mut self, feature: Feature) {
        self.1 += 1;
        (self.0)(feature);
    }
}

/// Where [`tokens`] puts what it finds: a trait rather than a closure, so the hot loop
/// inlines it at the module's opt-level `s`.
pub trait TokenSink {
    fn token(&mut self, token: Token);
}

impl<F: FnMut(Token)> TokenSink for F {
    fn token(&mut self, token: Token) {
        self(token)
    }
}

/// Turns one window's tokens into features: each token, and each pair of adjacent words.
struct FeatureSink<'a, O> {
    spec: FeatureSpec,
    bigrams: bool,
    window: u32,
    previous: Option<Token>,
    out: &'a mut O,
}

impl<O: FeatureOut> TokenSink for FeatureSink<'_, O> {
    #[inline(always)]
    fn token(&mut self, token: Token) {
        self.out.feature(Feature {
            bucket: self.spec.bucket(token.hash),
            unigram: true,
            window: self.window,
            start: token.start as u32,
            end: token.end as u32,
        });
        // Pairs of words only: symbol pairs (`);`) multiply the features of code and
        // measured no better.
        if let (true, Some(p)) = (self.bigrams && token.word, self.previous.filter(|p| p.word)) {
            let pair = p.hash.wrapping_mul(FNV_PRIME) ^ token.hash.rotate_left(13) ^ BIGRAM_SALT;
            self.out.feature(Feature {
                bucket: self.spec.bucket(pair),
                unigram: false,
                window: self.window,
                start: p.start as u32,
                end: token.end as u32,
            });
        }
        self.previous = Some(token);
    }
}

/// A code fence (three backticks) in `window`.
fn has_fence(window: &[u8]) -> bool {
    memchr::memchr_iter(b'`', window).any(|i| window.get(i + 1..i + 3) == Some(b"``".as_slice()))
}

/// Splits `text` into tokens: runs of letters, digits and `_` (case folded, every digit read as
/// `0`), and each other non-space character alone. Invalid UTF-8 separates tokens. ASCII, the
/// bulk of prompts, goes through two 256-entry tables (a run of word bytes in a loop of its own);
/// other characters are decoded.
pub fn tokens(text: &[u8], emit: &mut impl TokenSink) {
    let mut word = Word::default();
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if WORD_FOLD[usize::from(b)] != 0 {
            i = word.ascii_run(text, i);
            continue;
        }
        if b < 0x80 {
            word.end(i, emit);
            if ASCII_CLASS[usize::from(b)] == SYMBOL {
                emit.token(symbol(b, i, 1));
            }
            i += 1;
            continue;
        }
        let len = utf8_len(b);
        let c = text
            .get(i..i + len)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .and_then(|s| s.chars().next());
        match c {
            Some(c) if is_word_char(c) => {
                let mut buf = [0u8; 4];
                for &folded in fold(c).encode_utf8(&mut buf).as_bytes() {
                    word.push(i, folded);
                }
                i += len;
            }
            Some(c) => {
                word.end(i, emit);
                if !c.is_whitespace() {
                    let mut buf = [0u8; 4];
                    let mut hash = SYMBOL_SEED;
                    for &byte in c.encode_utf8(&mut buf).as_bytes() {
                        hash = fnv_step(hash, byte);
                    }
                    emit.token(Token {
                        hash,
                        start: i,
                        end: i + len,
                        word: false,
                    });
                }
                i += len;
            }
            None => {
                word.end(i, emit);
                i += 1;
            }
        }
    }
    word.end(text.len(), emit);
}

/// The word being read: where it started (`usize::MAX`: none) and its hash so far.
struct Word {
    start: usize,
    hash: u32,
}

impl Default for Word {
    fn default() -> Self {
        Word {
            start: usize::MAX,
            hash: FNV_OFFSET,
        }
    }
}

impl Word {
    /// Hashes the ASCII word bytes from `at` (the first is one) in a loop of their own, the
    /// bulk of every prompt; returns where they end.
    #[inline(always)]
    fn ascii_run(&mut self, text: &[u8], mut at: usize) -> usize {
        if self.start == usize::MAX {
            self.start = at;
        }
        let mut hash = self.hash;
        while let Some(&b) = text.get(at) {
            let folded = WORD_FOLD[usize::from(b)];
            if folded == 0 {
                break;
            }
            hash = fnv_step(hash, folded);
            at += 1;
        }
        self.hash = hash;
        at
    }

    fn push(&mut self, at: usize, folded: u8) {
        if self.start == usize::MAX {
            self.start = at;
        }
        self.hash = fnv_step(self.hash, folded);
    }

    #[inline(always)]
    fn end(&mut self, at: usize, emit: &mut impl TokenSink) {
        if self.start != usize::MAX {
            emit.token(Token {
                hash: self.hash,
                start: self.start,
                end: at,
                word: true,
            });
            *self = Word::default();
        }
    }
}

const SYMBOL_SEED: u32 = FNV_OFFSET ^ 0x5bd1_e995;

fn symbol(b: u8, at: usize, len: usize) -> Token {
    Token {
        hash: fnv_step(SYMBOL_SEED, b),
        start: at,
        end: at + len,
        word: false,
    }
}

fn fnv_step(hash: u32, byte: u8) -> u32 {
    (hash ^ u32::from(byte)).wrapping_mul(FNV_PRIME)
}

/// Bytes of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

const SPACE: u8 = 0;
const WORD: u8 = 1;
const SYMBOL: u8 = 2;

/// Each ASCII byte's class: word (letters, digits, `_`), space (whitespace and controls), or
/// symbol.
const ASCII_CLASS: [u8; 256] = {
    let mut table = [SPACE; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric() || c == b'_' {
            WORD
        } else if c.is_ascii_graphic() {
            SYMBOL
        } else {
            SPACE
        };
        b += 1;
    }
    table
};

/// Each byte that is an ASCII word character (letter, digit, `_`) folded: lowercase, digits
/// as `0`; 0 for every other byte. 256 entries, so a byte indexes it without a bounds check.
const WORD_FOLD: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_digit() {
            b'0'
        } else if c.is_ascii_alphabetic() || c == b'_' {
            c.to_ascii_lowercase()
        } else {
            0
        };
        b += 1;
    }
    table
};

/// Letters, digits and `_`. Outside ASCII, every character but spaces and the punctuation
/// blocks counts as a letter: the Unicode letter tables would cost the module ~10 KB.
pub(crate) fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let u = u32::from(c);
    let punctuation = matches!(u, 0x80..=0xBF | 0xD7 | 0xF7 | 0x2000..=0x2BFF | 0x3000..=0x303F | 0xFE30..=0xFE4F | 0xFF00..=0xFF0F);
    !punctuation && !c.is_whitespace()
}

/// Lowercase for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic capitals, by offset
/// (not `char::to_lowercase`, whose tables would cost the module ~10 KB).
pub(crate) fn fold(c: char) -> char {
    let u = u32::from(c);
    let folded = match u {
        0x41..=0x5A | 0xC0..=0xD6 | 0xD8..=0xDE | 0x391..=0x3A1 | 0x3A3..=0x3AB | 0x410..=0x42F => {
            u + 0x20
        }
        0x400..=0x40F => u + 0x50,
        0x100..=0x137 | 0x14A..=0x177 if u % 2 == 0 => u + 1,
        0x139..=0x148 | 0x179..=0x17E if u % 2 == 1 => u + 1,
        _ => u,
    };
    char::from_u32(folded).unwrap_or(c)
}

/// Structural tokens, hashed in a space of their own: the log2 bucket of the last user
/// message's length, the turn count (capped), a system prompt, a code fence.
fn structural_tokens(body: &RequestBody, fence: bool) -> [u32; 4] {
    let user_len = body.last_user.as_ref().map_or(0, |w| w.len());
    let length_bucket = usize::BITS - user_len.leading_zeros();
    let turns = body.turns.min(8) as u32;
    [
        0xa000_0000 | length_bucket,
        0xb000_0000 | turns,
        0xc000_0000 | u32::from(!body.system.is_empty()),
        0xd000_0000 | u32::from(fence),
    ]
}

/// MurmurHash3's finaliser: spreads the FNV hash over the bucket bits.
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        tokens(text.as_bytes(), &mut |t: Token| {
            out.push(&text[t.start..t.end])
        });
        out
    }

    fn hashes(text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        tokens(text.as_bytes(), &mut |t: Token| out.push(t.hash));
        out
    }

    #[test]
    fn words_and_symbols_split() {
        assert_eq!(
            spans("Write a fn(x) -> y_2; Überprüfe"),
            [
                "Write",
                "a",
                "fn",
                "(",
                "x",
                ")",
                "-",
                ">",
                "y_2",
                ";",
                "Überprüfe"
            ]
        );
    }

    #[test]
    fn case_and_digits_fold() {
        assert_eq!(hashes("HELLO 2024"), hashes("hello 1999"));
        assert_eq!(
            hashes("ÜBER ŁÓDŹ ΣΟΦΙΑ ПРИВЕТ"),
            hashes("über łódź σοφια привет")
        );
        assert_ne!(hashes("hello"), hashes("hallo"));
    }

    #[test]
    fn invalid_utf8_separates_tokens() {
        let mut out = Vec::new();
        tokens(b"ab\xffcd", &mut |t: Token| out.push((t.start, t.end)));
        assert_eq!(out, [(0, 2), (3, 5)]);
    }
}
