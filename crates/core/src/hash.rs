//! SipHash-2-4 (Aumasson and Bernstein, 2012), keyed: the hash behind the canary split,
//! `weighted` picks, `fastest_ttft` exploration and the session pin buckets. A client who
//! does not know the key cannot choose its side of a canary, its model of a weighted tier,
//! or a session id that lands in a given pin bucket (with an unkeyed hash it could flood
//! one bucket and evict other sessions' pins).
//!
//! Written out here (about 50 lines) rather than taken from a crate: it is the reference
//! algorithm, checked against the paper's test vectors and std's (deprecated) SipHasher in
//! the tests below, and the module stays free of another dependency.

use std::fmt;

use crate::names::PROCESS_HASH_KEY;
use crate::store::SharedStore;

/// A 128-bit SipHash key.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct HashKey(pub [u8; 16]);

impl fmt::Debug for HashKey {
    // A key is a secret: never print it (configs are logged in Debug form by tests and tools).
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("HashKey(..)")
    }
}

impl HashKey {
    /// Parses 32 hex digits (e.g. the output of `openssl rand -hex 16`).
    pub fn from_hex(hex: &str) -> Option<HashKey> {
        let hex = hex.as_bytes();
        if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let mut key = [0u8; 16];
        for (byte, pair) in key.iter_mut().zip(hex.chunks_exact(2)) {
            let digits = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(digits, 16).ok()?;
        }
        Some(HashKey(key))
    }

    /// SipHash-2-4 of `bytes` under this key.
    pub fn hash(&self, bytes: &[u8]) -> u64 {
        siphash24(self, bytes)
    }
}

/// The SipHash key every worker VM of this Envoy process uses where the config sets none:
/// the one already in shared data, else `candidate` (fresh random bytes from the caller).
///
/// Envoy's shared data has no "insert if absent", but a write with a CAS token is refused
/// when the key exists with another token and succeeds when the key is absent. So the
/// candidate is written with a token no live value has (`u32::MAX`; Envoy hands tokens out
/// from 1 up, so only after 2^32 writes in one process could one match) and the stored
/// value is read back: the first VM's key wins, every VM reads the same one. `None` when
/// the store cannot be read (the caller keeps its own candidate and logs it).
pub fn shared_process_key(store: &dyn SharedStore, candidate: HashKey) -> Option<HashKey> {
    if let Some(key) = stored_key(store) {
        return Some(key);
    }
    // An error here is a lost race (`CasMismatch`) or a broken store: the read decides.
    let _ = store.set(PROCESS_HASH_KEY, &candidate.0, Some(u32::MAX));
    stored_key(store)
}

fn stored_key(store: &dyn SharedStore) -> Option<HashKey> {
    let (bytes, _) = store.get(PROCESS_HASH_KEY)?;
    Some(HashKey(bytes.try_into().ok()?))
}

fn siphash24(key: &HashKey, bytes: &[u8]) -> u64 {
    let k0 = le_u64(&key.0[..8]);
    let k1 = le_u64(&key.0[8..]);
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut blocks = bytes.chunks_exact(8);
    for block in &mut blocks {
        let m = le_u64(block);
        v[3] ^= m;
        sip_round(&mut v);
        sip_round(&mut v);
        v[0] ^= m;
    }
    // The last block: the remaining bytes, and the length's low byte on top.
    let mut last = [0u8; 8];
    let tail = blocks.remainder();
    last[..tail.len()].copy_from_slice(tail);
    let m = le_u64(&last) | ((bytes.len() as u64 & 0xff) << 56);
    v[3] ^= m;
    sip_round(&mut v);
    sip_round(&mut v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for _ in 0..4 {
        sip_round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// Little-endian u64 of up to 8 bytes (callers pass exactly 8).
fn le_u64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paper's key: bytes 00..0f.
    fn paper_key() -> HashKey {
        let mut key = [0u8; 16];
        for (i, b) in key.iter_mut().enumerate() {
            *b = i as u8;
        }
        HashKey(key)
    }

    fn message(len: usize) -> Vec<u8> {
        (0..len).map(|i| i as u8).collect()
    }

    /// Appendix A of the SipHash paper (15-byte message 00..0e) and the first entries of the
    /// reference implementation's vectors.h (messages 00..len-1 under key 00..0f).
    #[test]
    fn reference_vectors() {
        let key = paper_key();
        assert_eq!(key.hash(&message(15)), 0xa129_ca61_49be_45e5);
        let vectors: [(usize, [u8; 8]); 4] = [
            (0, [0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72]),
            (1, [0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74]),
            (2, [0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d]),
            (8, [0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93]),
        ];
        for (len, expected) in vectors {
            assert_eq!(key.hash(&message(len)).to_le_bytes(), expected, "len {len}");
        }
    }

    /// std's SipHasher is SipHash-2-4 too: the same answer for every length and many keys.
    #[test]
    #[allow(deprecated)]
    fn matches_std_siphash() {
        use std::hash::Hasher;
        for len in 0..80 {
            for seed in 0..8u8 {
                let mut raw = [0u8; 16];
                for (i, b) in raw.iter_mut().enumerate() {
                    *b = seed.wrapping_mul(31).wrapping_add(i as u8 * 7);
                }
                let key = HashKey(raw);
                let k0 = u64::from_le_bytes(raw[..8].try_into().unwrap_or_default());
                let k1 = u64::from_le_bytes(raw[8..].try_into().unwrap_or_default());
                let mut std = std::hash::SipHasher::new_with_keys(k0, k1);
                std.write(&message(len));
                assert_eq!(
                    key.hash(&message(len)),
                    std.finish(),
                    "len {len} seed {seed}"
                );
            }
        }
    }

    #[test]
    fn worker_vms_agree_on_the_first_process_key() {
        use crate::store::MemoryStore;
        let store = MemoryStore::new();
        let first = shared_process_key(&store, HashKey([1; 16]));
        let second = shared_process_key(&store, HashKey([2; 16]));
        assert_eq!(first, Some(HashKey([1; 16])));
        assert_eq!(second, first);
        // A VM that read "absent" just before another wrote still ends with the stored key:
        // its CAS write is refused and it reads the winner's.
        let race = MemoryStore::new();
        race.set(PROCESS_HASH_KEY, &[3; 16], None)
            .unwrap_or_default();
        assert_eq!(
            race.set(PROCESS_HASH_KEY, &[4; 16], Some(u32::MAX)),
            Err(crate::store::StoreError::CasMismatch)
        );
        assert_eq!(
            shared_process_key(&race, HashKey([4; 16])),
            Some(HashKey([3; 16]))
        );
    }

    #[test]
    fn keys_parse_from_hex_only() {
        assert_eq!(
            HashKey::from_hex("000102030405060708090a0b0c0d0e0f"),
            Some(paper_key())
        );
        assert_eq!(
            HashKey::from_hex("000102030405060708090A0B0C0D0E0F"),
            Some(paper_key())
        );
        assert_eq!(HashKey::from_hex("0001"), None);
        assert_eq!(HashKey::from_hex("zz0102030405060708090a0b0c0d0e0f"), None);
        assert_eq!(HashKey::from_hex("+00102030405060708090a0b0c0d0e0f"), None);
    }

    #[test]
    fn the_key_changes_the_hash() {
        let other = HashKey([1; 16]);
        assert_ne!(paper_key().hash(b"session-1"), other.hash(b"session-1"));
        assert_eq!(format!("{other:?}"), "HashKey(..)");
    }
}
