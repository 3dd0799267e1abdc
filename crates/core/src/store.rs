//! The key-value store the router keeps across requests (session pins, TTFT averages, model
//! health). In Envoy it is the proxy's shared data, one store per `vm_id` shared by every
//! worker VM; natively (CLI, tests) it is [`MemoryStore`]. The core only sees this trait.

use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// Another writer changed the value since it was read: read again and retry.
    CasMismatch,
    /// The store refused or failed; callers carry on without it.
    Unavailable,
}

pub trait SharedStore {
    /// The value and its compare-and-swap token, or `None` when absent.
    fn get(&self, key: &str) -> Option<(Vec<u8>, u32)>;
    /// Sets the value; with `cas`, only if the value has not changed since it was read.
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError>;
}

/// Reads `key`, lets `update` compute the new value from the old, and writes it with CAS,
/// retrying a few times under contention. `update` returning `None` writes nothing.
pub fn update(
    store: &dyn SharedStore,
    key: &str,
    mut update: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
) -> Result<(), StoreError> {
    const ATTEMPTS: usize = 4;
    for _ in 0..ATTEMPTS {
        let current = store.get(key);
        let Some(new) = update(current.as_ref().map(|(v, _)| v.as_slice())) else {
            return Ok(());
        };
        match store.set(key, &new, current.map(|(_, cas)| cas)) {
            Err(StoreError::CasMismatch) => continue,
            other => return other,
        }
    }
    Err(StoreError::CasMismatch)
}

/// An in-process store with Envoy's semantics, for the CLI and tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: RefCell<HashMap<String, (Vec<u8>, u32)>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held in keys and values.
    pub fn bytes(&self) -> usize {
        self.entries
            .borrow()
            .iter()
            .map(|(k, (v, _))| k.len() + v.len())
            .sum()
    }
}

impl SharedStore for MemoryStore {
    fn get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        self.entries.borrow().get(key).cloned()
    }

    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError> {
        let mut entries = self.entries.borrow_mut();
        let next_cas = match (entries.get(key), cas) {
            (Some((_, current)), Some(expected)) if *current != expected => {
                return Err(StoreError::CasMismatch)
            }
            (Some((_, current)), _) => current.wrapping_add(1).max(1),
            (None, _) => 1,
        };
        entries.insert(key.to_string(), (value.to_vec(), next_cas));
        Ok(())
    }
}

/// FNV-1a, 64 bit: a stable hash for session ids and request ids (the same in every VM and
/// every build, unlike std's randomly seeded hasher).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
