//! The core's [`SharedStore`] over Envoy's shared data: one store per `vm_id`, shared by all
//! worker VMs of the process, with compare-and-swap.

use crate::host;
use tier_router_core::store::{SharedStore, StoreError};

pub struct HostStore;

impl SharedStore for HostStore {
    fn get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        host::shared_data(key)
            .map_err(|e| log::debug!("shared data {key} unreadable: host status {}", e.0))
            .ok()
            .flatten()
    }

    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError> {
        match host::set_shared_data(key, value, cas.unwrap_or(0)) {
            Ok(()) => Ok(()),
            Err(e) if e.0 == host::CAS_MISMATCH => Err(StoreError::CasMismatch),
            Err(e) => {
                log::debug!("shared data {key} not written: host status {}", e.0);
                Err(StoreError::Unavailable)
            }
        }
    }
}
