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
}

/// One feature occurrence: its bucket, and the window and byte span it came from
/// (`window == usize::MAX`: a structural token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub bucket: u32,
    /// A token of its own (not a bigram, not structural).
    pub unigram: bool,
    pub window: usize,
    pub start: usize,
    pub end: usize,
}

pub const STRUCTURAL: usize = usize::MAX;

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

    /// Calls `emit` with every feature of `body`, windows in order (system, then the last user
    /// message), and returns how many there were.
    pub fn for_each(&self, body: &RequestBody, mut emit: impl FnMut(Feature)) -> usize {
        let mut count = 0;
        let mut emit_counted = |f: Feature| {
            count += 1;
            emit(f);
        };
        let windows = body
            .system
            .iter()
            .chain(body.last_user.iter().flat_map(|w| w.iter()));
        let mut fence = false;
        for (index, window) in windows.enumerate() {
            fence |= window.windows(3).any(|w| w == b"```");
            self.window_features(index, window, &mut emit_counted);
        }
        if self.flags & FLAG_STRUCTURE != 0 {
            for token in structural_tokens(body, fence) {
                emit_counted(Feature {
                    bucket: self.bucket(token),
                    unigram: false,
                    window: STRUCTURAL,
                    start: 0,
                    end: 0,
                });
            }
        }
        count
    }

    fn window_features(&self, index: usize, window: &[u8], emit: &mut impl FnMut(Feature)) {
        let bigrams = self.flags & FLAG_BIGRAMS != 0;
        let mut previous: Option<Token> = None;
        tokens(window, |token| {
            emit(Feature {
                bucket: self.bucket(token.hash),
                unigram: true,
                window: index,
                start: token.start,
                end: token.end,
            });
            if let (true, Some(p)) = (bigrams, previous) {
                let pair =
                    p.hash.wrapping_mul(FNV_PRIME) ^ token.hash.rotate_left(13) ^ BIGRAM_SALT;
                emit(Feature {
                    bucket: self.bucket(pair),
                    unigram: false,
                    window: index,
                    start: p.start,
                    end: token.end,
                });
            }
            previous = Some(token);
        });
    }
}

/// Splits `text` into tokens: runs of letters, digits and `_` (case folded, every digit read as
/// `0`), and each other non-space character alone. Invalid UTF-8 separates tokens.
pub fn tokens(text: &[u8], mut emit: impl FnMut(Token)) {
    let mut word: Option<(usize, u32)> = None;
    let mut at = 0;
    for chunk in text.utf8_chunks() {
        for (offset, c) in chunk.valid().char_indices() {
            let pos = at + offset;
            if is_word_char(c) {
                let hash = word.map_or(FNV_OFFSET, |(_, h)| h);
                word = Some((word.map_or(pos, |(s, _)| s), hash_folded(hash, c)));
                continue;
            }
            if let Some((start, hash)) = word.take() {
                emit(Token {
                    hash,
                    start,
                    end: pos,
                });
            }
            if !c.is_whitespace() {
                emit(Token {
                    hash: hash_folded(FNV_OFFSET ^ 0x5bd1_e995, c),
                    start: pos,
                    end: pos + c.len_utf8(),
                });
            }
        }
        at += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            if let Some((start, hash)) = word.take() {
                emit(Token {
                    hash,
                    start,
                    end: at,
                });
            }
        }
        at += chunk.invalid().len();
    }
    if let Some((start, hash)) = word {
        emit(Token {
            hash,
            start,
            end: text.len(),
        });
    }
}

/// Letters, digits and `_`. Outside ASCII, every character but spaces and the punctuation
/// blocks counts as a letter: the Unicode letter tables would cost the module ~10 KB.
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let u = u32::from(c);
    let punctuation = matches!(u, 0x80..=0xBF | 0xD7 | 0xF7 | 0x2000..=0x2BFF | 0x3000..=0x303F | 0xFE30..=0xFE4F | 0xFF00..=0xFF0F);
    !punctuation && !c.is_whitespace()
}

/// FNV-1a over the UTF-8 bytes of `c` case folded (digits as `0`).
fn hash_folded(mut hash: u32, c: char) -> u32 {
    let mut buf = [0u8; 4];
    for b in fold(c).encode_utf8(&mut buf).bytes() {
        hash = (hash ^ u32::from(b)).wrapping_mul(FNV_PRIME);
    }
    hash
}

/// Lowercase for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic capitals, by offset
/// (not `char::to_lowercase`, whose tables would cost the module ~10 KB); digits as `0`.
fn fold(c: char) -> char {
    let u = u32::from(c);
    let folded = match u {
        0x30..=0x39 => 0x30,
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
        tokens(text.as_bytes(), |t| out.push(&text[t.start..t.end]));
        out
    }

    fn hashes(text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        tokens(text.as_bytes(), |t| out.push(t.hash));
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
        tokens(b"ab\xffcd", |t| out.push((t.start, t.end)));
        assert_eq!(out, [(0, 2), (3, 5)]);
    }
}
