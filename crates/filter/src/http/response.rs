//! The response path: decision headers, the client's model of a passed body, TTFT learning
//! and the account written once as filter state and metrics.

use super::{now_ns, set_state, warn_on_err, RouterHttp};
use crate::host::{self, MapType};
use crate::store::HostStore;
use tier_router_core::account::record_json;
use tier_router_core::config::{FilterStateLayout, PolicyKind};
use tier_router_core::names::{state, PASSTHROUGH_TIER};
use tier_router_core::{Config, Decision};

impl RouterHttp {
    /// Writes the client's `model` read so far into the decision (for the response headers
    /// and the log).
    pub(super) fn settle_client_model(&mut self) {
        let (Some(shared), Some(scanner), Some(decision)) =
            (&self.shared, &self.client_model, self.decision.as_mut())
        else {
            return;
        };
        shared.config.note_client_model(decision, scanner.model());
    }

    /// Accounts once, when the response ends (or the stream is torn down first).
    pub(super) fn account(&mut self) {
        self.settle_client_model();
        let (Some(shared), Some(decision)) = (self.shared.clone(), self.decision.as_ref()) else {
            return;
        };
        if self.accounted {
            return;
        }
        self.accounted = true;
        if self.timing.end_ns.is_none() {
            self.timing.end_ns = now_ns();
        }
        let account = shared
            .config
            .account(decision, &self.usage, self.timing, self.reply);
        let fields = shared.config.log_record(decision, &account);
        match shared.config.filter_state {
            FilterStateLayout::Record => set_state(state::RECORD, &record_json(&fields)),
            FilterStateLayout::Fields => {
                for (key, value) in &fields {
                    set_state(key, value);
                }
            }
        }
        shared.metrics.accounted(decision, &account);
    }

    /// Feeds `fastest_ttft`: every VM learns from every response its tier routed.
    pub(super) fn learn_ttft(&self) {
        let (Some(shared), Some(decision)) = (&self.shared, &self.decision) else {
            return;
        };
        let learns = decision.policy == Some(PolicyKind::FastestTtft);
        let answered = self.reply.upstream_succeeded();
        if !learns || !decision.is_served() || !answered {
            return;
        }
        if let Some(ttft_us) = self.timing.ttft_us() {
            let ttft_ms = ttft_us as f64 / 1_000.0;
            shared
                .config
                .record_ttft(decision.model, ttft_ms, &HostStore);
        }
    }

    pub(super) fn add_decision_headers(&self, config: &Config, decision: &Decision) {
        if !config.decision_headers || !decision.is_served() {
            return;
        }
        let tier = if decision.is_passthrough() {
            PASSTHROUGH_TIER
        } else {
            config.tier_name(decision)
        };
        let tier = host::set_header(
            MapType::ResponseHeaders,
            &config.headers.response_tier,
            tier,
        );
        warn_on_err("set the tier response header", tier);
        if let Some(model) = config.upstream_model(decision) {
            let model = host::set_header(
                MapType::ResponseHeaders,
                &config.headers.response_model,
                model,
            );
            warn_on_err("set the model response header", model);
        }
    }
}
