//! Session pins: the first decision of a session (tier and model) is kept for its later
//! turns, so a conversation does not re-pay its prompt prefix on another model or change tone.
//!
//! The store is bounded however many session ids clients invent: `max_sessions` slots in
//! 4-way buckets (one shared-data key per bucket, `tier_router.pins.<n>`). A new session
//! takes an expired or free slot of its bucket, else evicts the slot closest to expiry. Use
//! refreshes the TTL. Entries carry a fingerprint of the config, so a pin made under another
//! config is ignored rather than misread.

use crate::config::{ModelId, TierId};
use crate::hash::HashKey;
use crate::store::{self, SharedStore};

const WAYS: usize = 4;
const ENTRY_BYTES: usize = 16;
const FALLBACK_TIER: u8 = u8::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    /// `None`: the fallback model.
    pub tier: Option<TierId>,
    pub model: ModelId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    session: u64,
    expires_s: u32,
    tier: u8,
    model: u8,
    fingerprint: u16,
}

pub struct PinStore<'a> {
    store: &'a dyn SharedStore,
    buckets: u64,
    ttl_s: u64,
    fingerprint: u16,
    key: HashKey,
}

impl<'a> PinStore<'a> {
    pub fn new(
        store: &'a dyn SharedStore,
        max_sessions: usize,
        ttl_s: u64,
        config_fingerprint: u64,
        key: HashKey,
    ) -> Self {
        PinStore {
            store,
            buckets: (max_sessions.div_ceil(WAYS)).max(1) as u64,
            ttl_s,
            fingerprint: config_fingerprint as u16,
            key,
        }
    }

    /// Number of shared-data keys the store can ever use.
    pub fn key_count(&self) -> u64 {
        self.buckets
    }

    /// The session's pin if it is live; refreshes its TTL.
    pub fn lookup(&self, session: &str, now_s: u64) -> Option<Pin> {
        let hash = self.key.hash(session.as_bytes());
        let key = self.key(hash);
        let (bytes, _) = self.store.get(&key)?;
        let entry = decode(&bytes)
            .into_iter()
            .find(|e| self.is_live(e, hash, now_s))?;
        let pin = Pin {
            tier: (entry.tier != FALLBACK_TIER).then_some(TierId(entry.tier.into())),
            model: ModelId(entry.model.into()),
        };
        // Refresh at most once a minute: every turn need not write the store.
        if u64::from(entry.expires_s) < now_s + self.ttl_s.saturating_sub(60) {
            self.pin(session, pin, now_s);
        }
        Some(pin)
    }

    /// Pins the session to `pin` (replacing any earlier pin of it).
    pub fn pin(&self, session: &str, pin: Pin, now_s: u64) {
        let (Some(tier), Ok(model)) = (tier_byte(pin.tier), u8::try_from(pin.model.0)) else {
            return;
        };
        let hash = self.key.hash(session.as_bytes());
        let new = Entry {
            session: hash,
            expires_s: u32::try_from(now_s + self.ttl_s).unwrap_or(u32::MAX),
            tier,
            model,
            fingerprint: self.fingerprint,
        };
        let result = store::update(self.store, &self.key(hash), |current| {
            let mut entries = current.map(decode).unwrap_or_default();
            entries.retain(|e| e.session != hash && u64::from(e.expires_s) > now_s);
            if entries.len() >= WAYS {
                // Evict the entry closest to expiry: the least recently used session.
                if let Some(oldest) = entries
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, e)| e.expires_s)
                    .map(|(i, _)| i)
                {
                    entries.remove(oldest);
                }
            }
            entries.push(new);
            Some(encode(&entries))
        });
        if let Err(e) = result {
            log::debug!("session pin not stored: {e:?}");
        }
    }

    fn is_live(&self, e: &Entry, hash: u64, now_s: u64) -> bool {
        e.session == hash && u64::from(e.expires_s) > now_s && e.fingerprint == self.fingerprint
    }

    fn key(&self, hash: u64) -> String {
        // The bucket uses the high bits; the low bits identify the session within it.
        format!("tier_router.pins.{}", (hash >> 32) % self.buckets)
    }
}

fn tier_byte(tier: Option<TierId>) -> Option<u8> {
    match tier {
        None => Some(FALLBACK_TIER),
        Some(t) => u8::try_from(t.0).ok().filter(|b| *b != FALLBACK_TIER),
    }
}

fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * ENTRY_BYTES);
    for e in entries {
        out.extend_from_slice(&e.session.to_le_bytes());
        out.extend_from_slice(&e.expires_s.to_le_bytes());
        out.push(e.tier);
        out.push(e.model);
        out.extend_from_slice(&e.fingerprint.to_le_bytes());
    }
    out
}

fn decode(bytes: &[u8]) -> Vec<Entry> {
    bytes
        .chunks_exact(ENTRY_BYTES)
        .map(|c| {
            let u64_at = |i: usize| {
                c.get(i..i + 8)
                    .and_then(|s| s.try_into().ok())
                    .map_or(0, u64::from_le_bytes)
            };
            let u32_at = |i: usize| {
                c.get(i..i + 4)
                    .and_then(|s| s.try_into().ok())
                    .map_or(0, u32::from_le_bytes)
            };
            let u16_at = |i: usize| {
                c.get(i..i + 2)
                    .and_then(|s| s.try_into().ok())
                    .map_or(0, u16::from_le_bytes)
            };
            Entry {
                session: u64_at(0),
                expires_s: u32_at(8),
                tier: c.get(12).copied().unwrap_or(FALLBACK_TIER),
                model: c.get(13).copied().unwrap_or(0),
                fingerprint: u16_at(14),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    const A: Pin = Pin {
        tier: Some(TierId(1)),
        model: ModelId(2),
    };

    #[test]
    fn pins_expire_and_refresh() {
        let store = MemoryStore::new();
        let pins = PinStore::new(&store, 100, 1800, 7, HashKey::default());
        assert_eq!(pins.lookup("s1", 1000), None);
        pins.pin("s1", A, 1000);
        assert_eq!(pins.lookup("s1", 2000), Some(A));
        // Used at 2000 (refreshed to 3800), so alive at 3700; gone after its TTL.
        assert_eq!(pins.lookup("s1", 3700), Some(A));
        assert_eq!(pins.lookup("s1", 3700 + 1801), None);
    }

    #[test]
    fn another_config_fingerprint_is_ignored() {
        let store = MemoryStore::new();
        PinStore::new(&store, 100, 1800, 7, HashKey::default()).pin("s1", A, 0);
        assert_eq!(
            PinStore::new(&store, 100, 1800, 8, HashKey::default()).lookup("s1", 1),
            None
        );
    }

    #[test]
    fn the_store_stays_bounded() {
        let store = MemoryStore::new();
        let pins = PinStore::new(&store, 1000, 1800, 1, HashKey::default());
        for i in 0..20_000 {
            pins.pin(&format!("session-{i}"), A, 10);
        }
        assert_eq!(store.len() as u64, pins.key_count());
        assert!(
            store.bytes() <= 250 * (WAYS * ENTRY_BYTES + 24),
            "{}",
            store.bytes()
        );
        // The newest session survives eviction.
        assert_eq!(pins.lookup("session-19999", 11), Some(A));
    }

    #[test]
    fn fallback_pins_round_trip() {
        let store = MemoryStore::new();
        let pins = PinStore::new(&store, 100, 60, 0, HashKey::default());
        let fallback = Pin {
            tier: None,
            model: ModelId(3),
        };
        pins.pin("s", fallback, 0);
        assert_eq!(pins.lookup("s", 1), Some(fallback));
    }
}
