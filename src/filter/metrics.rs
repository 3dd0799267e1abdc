//! Counters defined once per VM at configure time. Envoy adds counters across worker VMs.

use super::host::{self, MetricType};
use crate::names::metric;

#[derive(Debug, Default)]
pub struct Metrics {
    untrusted_task: Option<u32>,
    body_too_large: Option<u32>,
}

impl Metrics {
    pub fn define() -> Metrics {
        Metrics {
            untrusted_task: counter(metric::UNTRUSTED_TASK),
            body_too_large: counter(metric::BODY_TOO_LARGE),
        }
    }

    pub fn untrusted_task(&self) {
        increment(self.untrusted_task);
    }

    pub fn body_too_large(&self) {
        increment(self.body_too_large);
    }
}

/// Metrics are telemetry: a failure to define one is logged and the metric is skipped.
fn counter(name: &str) -> Option<u32> {
    host::define_metric(MetricType::Counter, name)
        .map_err(|e| log::warn!("cannot define metric {name}: host status {}", e.0))
        .ok()
}

fn increment(id: Option<u32>) {
    if let Some(id) = id {
        if let Err(e) = host::increment_metric(id, 1) {
            log::debug!("cannot increment metric {id}: host status {}", e.0);
        }
    }
}
