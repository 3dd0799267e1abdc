//! Per-request accounting: usage (reported or estimated), cost, counterfactual cost, timing,
//! and the access-log fields they become. Pure: the adapter passes times and bytes in.

use crate::config::{Config, PolicyKind};
use crate::cost;
use crate::decide::{Decision, Side};
use crate::names::state;
use crate::usage::{self, Usage, UsageScanner, UsageSource};

/// Proxy clock readings, in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    /// When the request headers arrived.
    pub start_ns: u64,
    /// When the first response body byte arrived from upstream.
    pub first_byte_ns: Option<u64>,
    /// When the chunk with the first content token arrived (`UsageScanner::first_token_seen`):
    /// a stream's first events carry none.
    pub first_token_ns: Option<u64>,
    /// When the last response byte arrived.
    pub end_ns: Option<u64>,
}

impl Timing {
    /// Request start to the first content token, in microseconds.
    pub fn ttft_us(&self) -> Option<u64> {
        self.first_token_ns
            .map(|t| t.saturating_sub(self.start_ns) / 1_000)
    }

    /// Request start to the first response byte, in microseconds.
    pub fn ttfb_us(&self) -> Option<u64> {
        self.first_byte_ns
            .map(|t| t.saturating_sub(self.start_ns) / 1_000)
    }

    /// Request start to the last response byte, in microseconds.
    pub fn latency_us(&self) -> Option<u64> {
        self.end_ns.map(|t| t.saturating_sub(self.start_ns) / 1_000)
    }
}

/// Microseconds as milliseconds with three decimals (`20.000`), in integer arithmetic: float
/// formatting would add 16 KB to the wasm module.
pub fn millis(us: u64) -> String {
    format!("{}.{:03}", us / 1_000, us % 1_000)
}

/// Who answered the request, as the adapter saw the response headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reply {
    /// The status the client got; `None` when no response started (the client went away).
    pub status: Option<u16>,
    /// The response came from the upstream (Envoy's `response.code_details` is
    /// `via_upstream`), not from Envoy or a filter (no healthy upstream, refused connection,
    /// timeout, a filter's local reply).
    pub from_upstream: bool,
}

impl Reply {
    pub fn upstream(status: u16) -> Reply {
        Reply {
            status: Some(status),
            from_upstream: true,
        }
    }

    pub fn local(status: u16) -> Reply {
        Reply {
            status: Some(status),
            from_upstream: false,
        }
    }

    /// The upstream's own status; `None` for a local reply.
    pub fn upstream_status(&self) -> Option<u16> {
        self.status.filter(|_| self.from_upstream)
    }

    /// The upstream answered with a 2xx: the call was served.
    pub fn upstream_succeeded(&self) -> bool {
        self.upstream_status()
            .is_some_and(|s| (200..300).contains(&s))
    }

    /// Whether this answer's body can change its account. Only an upstream's can: Envoy's
    /// own replies report no usage that counts, are never estimated and have no TTFT, so
    /// the filter does not copy their bodies into the VM. (An upstream's error page is read:
    /// a non-stream answer's first byte is its TTFT, whatever its type.)
    pub fn body_may_count(&self) -> bool {
        self.from_upstream
    }

    /// `2xx`, `4xx`, ... of the status the client got, `none` without a response: the
    /// metrics' `status_class` label.
    pub fn status_class(&self) -> &'static str {
        match self.status.map(|s| s / 100) {
            Some(1) => "1xx",
            Some(2) => "2xx",
            Some(3) => "3xx",
            Some(4) => "4xx",
            Some(5) => "5xx",
            _ => "none",
        }
    }
}

/// Every value of [`Reply::status_class`], for defining the metrics up front.
pub const STATUS_CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "none"];

/// What one call cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub usage: Usage,
    pub usage_source: UsageSource,
    /// `None` when the model has no price.
    pub cost_micro_usd: Option<u64>,
    /// The same tokens on `baseline_model`; `None` without one or without its price.
    pub baseline_micro_usd: Option<u64>,
    /// TTFT only when the upstream answered: Envoy's own error replies are not a model's.
    pub timing: Timing,
    pub reply: Reply,
}

impl Config {
    /// Accounts for a finished (or abandoned) response. Only what the upstream served is
    /// billed: its reported usage, else an estimate for a 2xx answer; anything else (an
    /// error without usage, Envoy's own reply, no response) costs 0, baseline included, so
    /// neither spend nor savings are invented.
    pub fn account(
        &self,
        decision: &Decision,
        response: &UsageScanner,
        mut timing: Timing,
        reply: Reply,
    ) -> Account {
        let reported = response.usage().and_then(|u| u.normalize());
        let served = reply.upstream_succeeded();
        let (usage, usage_source) = match reported {
            Some(usage) if reply.from_upstream => (usage, UsageSource::Reported),
            _ if served => (
                usage::estimate(decision.prompt_bytes, response),
                UsageSource::Estimated,
            ),
            _ => (Usage::default(), UsageSource::None),
        };
        if !reply.from_upstream {
            timing.first_byte_ns = None;
            timing.first_token_ns = None;
        }
        let price_of = |model| self.model(model).price.map(|p| cost::micro_usd(&p, &usage));
        Account {
            usage,
            usage_source,
            cost_micro_usd: decision.priced_model().and_then(price_of),
            baseline_micro_usd: self.baseline_model.and_then(price_of),
            timing,
            reply,
        }
    }

    /// Every access-log field of a routed request: the decision's, then the account's.
    pub fn log_record(
        &self,
        decision: &Decision,
        account: &Account,
    ) -> Vec<(&'static str, String)> {
        let mut fields = self.decision_fields(decision);
        fields.extend(self.log_fields(account));
        fields
    }

    /// The access-log fields of an account, as (key, text) pairs; Envoy's JSON access log
    /// escapes the text.
    pub fn log_fields(&self, account: &Account) -> Vec<(&'static str, String)> {
        let u = &account.usage;
        let mut fields = vec![
            (state::INPUT_TOKENS, u.input_tokens.to_string()),
            (state::OUTPUT_TOKENS, u.output_tokens.to_string()),
            (
                state::CACHED_INPUT_TOKENS,
                u.cached_input_tokens.to_string(),
            ),
            (
                state::CACHE_CREATION_TOKENS,
                u.cache_creation_tokens.to_string(),
            ),
            (state::REASONING_TOKENS, u.reasoning_tokens.to_string()),
            (
                state::USAGE_SOURCE,
                account.usage_source.as_str().to_string(),
            ),
        ];
        let optional = [
            (state::COST_USD, account.cost_micro_usd.map(cost::usd)),
            (
                state::BASELINE_COST_USD,
                account.baseline_micro_usd.map(cost::usd),
            ),
            (state::TTFT_MS, account.timing.ttft_us().map(millis)),
            (state::TTFB_MS, account.timing.ttfb_us().map(millis)),
            (state::LATENCY_MS, account.timing.latency_us().map(millis)),
            (
                state::UPSTREAM_STATUS,
                account.reply.upstream_status().map(|s| s.to_string()),
            ),
        ];
        fields.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        fields
    }

    /// The decision's access-log fields.
    pub fn decision_fields(&self, decision: &Decision) -> Vec<(&'static str, String)> {
        if let Some(fields) = self.passthrough_fields(decision) {
            return fields;
        }
        let candidates: Vec<&str> = decision
            .candidates
            .iter()
            .map(|m| self.model(*m).name.as_str())
            .collect();
        let mut fields = vec![(state::TIER, self.tier_name(decision).to_string())];
        if let Some(model) = self.upstream_model(decision) {
            fields.push((state::MODEL, model.to_string()));
        }
        fields.extend([
            (state::SOURCE, decision.source.as_str().to_string()),
            (state::CUES, self.cue_list(decision)),
            (state::CANDIDATES, candidates.join(",")),
            (state::SHADOW, (decision.side == Side::Shadow).to_string()),
        ]);
        if let Some(policy) = decision.policy {
            fields.push((state::POLICY, policy_name(policy).to_string()));
        }
        if let Some(floor) = decision.floor_applied {
            fields.push((state::FLOOR_APPLIED, floor.to_string()));
        }
        if !decision.edits.is_empty() {
            fields.push((state::EDITS, self.edit_list(decision)));
        }
        if let Some(how) = decision.shape_fallback {
            fields.push((state::SHAPE_FALLBACK, how.as_str().to_string()));
        }
        if let Some(untrusted) = decision.untrusted_task {
            fields.push((
                state::UNTRUSTED_TASK,
                format!(
                    "{}:{}",
                    untrusted.source.as_str(),
                    untrusted.reason.as_str()
                ),
            ));
        }
        if let Some(in_canary) = decision.canary {
            fields.push((
                state::CANARY,
                if in_canary { "in" } else { "out" }.to_string(),
            ));
        }
        fields.extend(self.rewrite_fields(decision));
        fields
    }
}

pub fn policy_name(policy: PolicyKind) -> &'static str {
    match policy {
        PolicyKind::Priority => "priority",
        PolicyKind::Cheapest => "cheapest",
        PolicyKind::FastestTtft => "fastest_ttft",
        PolicyKind::Weighted => "weighted",
        PolicyKind::Cascade => "cascade",
    }
}

/// The fields as one JSON object of strings, in order: the `record` filter-state value, which
/// an access log prints with `%FILTER_STATE(wasm.tier_router:PLAIN)%`.
pub fn record_json(fields: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(fields.len() * 40);
    out.push('{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, key);
        out.push(':');
        push_json_string(&mut out, value);
    }
    out.push('}');
    out
}

/// JSON objects (already serialised) as one JSON array.
pub fn record_json_array(objects: &[String]) -> String {
    format!("[{}]", objects.join(","))
}

/// `text` as a JSON string literal (RFC 8259 escapes), without serde's serializer in the
/// module.
fn push_json_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
