//! Root context: parses and validates the plugin configuration once per VM. A bad config
//! makes `on_configure` return false, so Envoy rejects it and keeps serving the old one.
//! It also flushes the counters on its tick.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::host::{self, BufferType};
use crate::http::RouterHttp;
use crate::metrics::Metrics;
use crate::store::HostStore;
use tier_router_core::hash::{self, HashKey};
use tier_router_core::Config;

/// How often counted metrics reach Envoy: finer than any Prometheus scrape.
pub const METRICS_FLUSH_MS: u32 = 1_000;

#[derive(Default)]
pub struct RouterRoot {
    state: Option<Rc<Shared>>,
}

/// What every HTTP context of this VM reads.
pub struct Shared {
    pub config: Config,
    pub metrics: Metrics,
}

impl Context for RouterRoot {
    fn on_done(&mut self) -> bool {
        if let Some(shared) = &self.state {
            shared.metrics.flush();
        }
        true
    }
}

impl RootContext for RouterRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let json = match host::buffer(BufferType::PluginConfiguration, 0, usize::MAX) {
            Ok(json) => json,
            Err(e) => {
                log::error!("cannot read the plugin configuration: host status {}", e.0);
                return false;
            }
        };
        match Config::from_json(&json) {
            Ok(mut config) => {
                config.use_process_key(process_key());
                log::info!(
                    "configured: {} tiers, {} models, fallback {}",
                    config.tiers.len(),
                    config.models.len(),
                    config.model(config.fallback_model).name
                );
                let metrics = Metrics::define(&config);
                self.state = Some(Rc::new(Shared { config, metrics }));
                if let Err(e) = host::set_tick_period_ms(METRICS_FLUSH_MS) {
                    log::warn!(
                        "no tick: counters reach Envoy only at shutdown (host status {})",
                        e.0
                    );
                }
                true
            }
            Err(e) => {
                log::error!("{e}");
                false
            }
        }
    }

    fn on_tick(&mut self) {
        if let Some(shared) = &self.state {
            shared.metrics.flush();
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let http = RouterHttp::new(self.state.clone());
        #[cfg(feature = "callback-timing")]
        let http = crate::timing::Timed(http);
        Some(Box::new(http))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// The random SipHash key this Envoy process uses where the config sets no `hash_key`: the
/// first worker VM's, kept in shared data, so every VM hashes sessions alike.
fn process_key() -> HashKey {
    let candidate = match host::random_bytes::<16>() {
        Ok(bytes) => HashKey(bytes),
        Err(e) => {
            // Not seen with Envoy; a time-derived key is weaker but still not a public one.
            log::error!(
                "random_get failed (WASI errno {}): hash key from the clock",
                e.0
            );
            let now = host::now_ns().unwrap_or_default().to_le_bytes();
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&now);
            HashKey(bytes)
        }
    };
    match hash::shared_process_key(&HostStore, candidate) {
        Some(key) => {
            log::info!(
                "per-process hash key in shared data {}",
                tier_router_core::names::PROCESS_HASH_KEY
            );
            key
        }
        None => {
            log::warn!("shared data unusable: this VM keeps its own hash key");
            candidate
        }
    }
}
