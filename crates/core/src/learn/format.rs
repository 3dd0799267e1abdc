//! The model file (`.trm`), version 1. All integers little-endian:
//!
//! | bytes            | field                                                        |
//! |------------------|--------------------------------------------------------------|
//! | 8                | magic `TRMODEL\0`                                            |
//! | 2                | version, `1`                                                 |
//! | 2                | feature flags: bit 0 bigrams, bit 1 structural tokens        |
//! | 1                | `hash_bits`, 8..=20: `1 << hash_bits` hash buckets           |
//! | 1                | tier count `T`, 2..=32                                       |
//! | 4                | hash seed                                                    |
//! | T x (1 + len)    | tier names: a length byte (1..=64), then UTF-8               |
//! | 4T               | bias per tier, f32                                           |
//! | 4T               | scale per tier, f32 (finite, >= 0): weight = i8 x scale      |
//! | buckets x T      | weights, i8, bucket-major (a bucket's T weights together)    |
//! | 4                | checksum: FNV-1a 32 of every byte before it                  |
//!
//! The file comes from operator config, so parsing checks every length and value and never
//! panics.

use std::fmt;

use super::features::FeatureSpec;
use super::Model;

pub const MAGIC: &[u8; 8] = b"TRMODEL\0";
pub const VERSION: u16 = 1;
pub const MIN_HASH_BITS: u8 = 8;
pub const MAX_HASH_BITS: u8 = 20;
pub const MAX_TIERS: usize = 32;
const MAX_TIER_NAME: usize = 64;
const KNOWN_FLAGS: u16 = super::features::FLAG_BIGRAMS | super::features::FLAG_STRUCTURE;

/// Why model bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError(pub String);

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(message: impl Into<String>) -> Result<T, ModelError> {
    Err(ModelError(message.into()))
}

pub fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Reads the file front to back; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ModelError> {
        let end = self.at.checked_add(n);
        match end.and_then(|end| self.bytes.get(self.at..end)) {
            Some(slice) => {
                self.at += n;
                Ok(slice)
            }
            None => err(format!(
                "the model file ends inside its {what} (at byte {} of {})",
                self.at,
                self.bytes.len()
            )),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ModelError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn f32s(&mut self, n: usize, what: &str) -> Result<Vec<f32>, ModelError> {
        let bytes = self.take(n * 4, what)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

impl Model {
    /// Parses a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        let Some(body_len) = bytes.len().checked_sub(4) else {
            return err("the model file is too short to be one");
        };
        let mut r = Reader { bytes, at: 0 };
        if r.take(8, "magic")? != MAGIC {
            return err("not a tier-router model file (the magic bytes are not TRMODEL)");
        }
        let version = u16::from_le_bytes(r.array("version")?);
        if version != VERSION {
            return err(format!(
                "model file version {version}; this build reads version {VERSION}"
            ));
        }
        let flags = u16::from_le_bytes(r.array("flags")?);
        if flags & !KNOWN_FLAGS != 0 {
            return err(format!("unknown feature flags {flags:#x}"));
        }
        let [hash_bits, tier_count] = r.array("hash size and tier count")?;
        if !(MIN_HASH_BITS..=MAX_HASH_BITS).contains(&hash_bits) {
            return err(format!(
                "hash_bits {hash_bits} is outside {MIN_HASH_BITS}..={MAX_HASH_BITS}"
            ));
        }
        let tier_count = usize::from(tier_count);
        if !(2..=MAX_TIERS).contains(&tier_count) {
            return err(format!("{tier_count} tiers; a model has 2 to {MAX_TIERS}"));
        }
        let seed = u32::from_le_bytes(r.array("seed")?);
        let tiers = read_tier_names(&mut r, tier_count)?;
        let bias = r.f32s(tier_count, "biases")?;
        let scales = r.f32s(tier_count, "scales")?;
        if bias.iter().any(|b| !b.is_finite()) {
            return err("a tier's bias is not a finite number");
        }
        if scales.iter().any(|s| !s.is_finite() || *s < 0.0) {
            return err("a tier's scale is negative or not a finite number");
        }
        let spec = FeatureSpec {
            hash_bits,
            seed,
            flags,
        };
        let weights = r.take(spec.buckets() * tier_count, "weights")?;
        let weights: Vec<i8> = weights.iter().map(|&b| b as i8).collect();
        let weights = weights.as_slice();
        if r.at != body_len {
            return err(format!(
                "the model file is {} bytes; its header describes {}",
                bytes.len(),
                r.at + 4
            ));
        }
        let stored = u32::from_le_bytes(r.array("checksum")?);
        let computed = fnv1a(bytes.get(..body_len).unwrap_or_default());
        if stored != computed {
            return err(format!(
                "checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the \
                 file is damaged or truncated"
            ));
        }
        Ok(Model::from_parts(spec, tiers, bias, scales, weights))
    }

    /// The model file's bytes; [`Model::from_bytes`] reads them back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.file_len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.spec.flags.to_le_bytes());
        out.push(self.spec.hash_bits);
        out.push(self.tiers.len() as u8);
        out.extend_from_slice(&self.spec.seed.to_le_bytes());
        for name in &self.tiers {
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
        }
        for v in self.bias.iter().chain(&self.scales) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend(self.file_weights().map(|w| w as u8));
        let checksum = fnv1a(&out);
        out.extend_from_slice(&checksum.to_le_bytes());
        out
    }
}

fn read_tier_names(r: &mut Reader<'_>, count: usize) -> Result<Vec<String>, ModelError> {
    let mut tiers: Vec<String> = Vec::with_capacity(count);
    for i in 0..count {
        let [len] = r.array("tier names")?;
        let len = usize::from(len);
        if !(1..=MAX_TIER_NAME).contains(&len) {
            return err(format!(
                "tier {i}'s name is {len} bytes; names are 1 to {MAX_TIER_NAME}"
            ));
        }
        let name = std::str::from_utf8(r.take(len, "tier names")?)
            .map_err(|_| ModelError(format!("tier {i}'s name is not UTF-8")))?;
        if tiers.iter().any(|t| t == name) {
            return err(format!("the tier name {name:?} appears twice"));
        }
        tiers.push(name.to_string());
    }
    Ok(tiers)
}
