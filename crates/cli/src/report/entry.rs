//! A parsed access-log line as numbers and flags: what the statistics add up.

use tier_router_core::names::FALLBACK_TIER;

use super::record::{Field, Record, Scalar};
use super::time::parse_rfc3339;

/// The group of lines whose tier or model is absent (the filter did not run, or failed open).
pub const UNKNOWN: &str = "(none)";

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Entry<'r> {
    pub tier: &'r str,
    pub model: &'r str,
    /// UTC seconds of `start_time`, read only for `--by`.
    pub time: Option<i64>,
    /// `tier_router.shadow` is true: decided and logged, not served.
    pub shadow: bool,
    /// The fallback model served: no tier claimed the request.
    pub fallback: bool,
    pub failover: bool,
    pub escalated: bool,
    /// The line carries `tier_router.failover` or `tier_router.escalated` at all.
    pub failover_known: bool,
    /// The upstream's status (else Envoy's) is 400 or more.
    pub error: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_input_tokens: u64,
    pub reasoning_tokens: u64,
    pub estimated: bool,
    /// `usage_source: none`: the upstream did not serve the request; nothing was billed.
    pub unbilled: bool,
    pub cost_micro: Option<u64>,
    pub baseline_micro: Option<u64>,
    pub ttft_ms: Option<f64>,
    pub latency_ms: Option<f64>,
}

impl<'r> Entry<'r> {
    pub fn new(record: &'r Record<'_>, with_time: bool) -> Entry<'r> {
        let tier = record.text(Field::Tier).unwrap_or(UNKNOWN);
        let status = number(record, Field::UpstreamStatus).or(number(record, Field::Status));
        Entry {
            tier,
            model: record.text(Field::Model).unwrap_or(UNKNOWN),
            time: if with_time {
                record.text(Field::StartTime).and_then(parse_rfc3339)
            } else {
                None
            },
            shadow: flag(record, Field::Shadow),
            fallback: tier == FALLBACK_TIER,
            failover: flag(record, Field::Failover),
            escalated: flag(record, Field::Escalated),
            failover_known: record.get(Field::Failover).is_some()
                || record.get(Field::Escalated).is_some(),
            error: status.is_some_and(|s| s >= 400.0),
            input_tokens: tokens(record, Field::InputTokens),
            output_tokens: tokens(record, Field::OutputTokens),
            cached_input_tokens: tokens(record, Field::CachedInputTokens),
            reasoning_tokens: tokens(record, Field::ReasoningTokens),
            estimated: record.text(Field::UsageSource) == Some("estimated"),
            unbilled: record.text(Field::UsageSource) == Some("none"),
            cost_micro: record.get(Field::Cost).and_then(micro_usd),
            baseline_micro: record.get(Field::BaselineCost).and_then(micro_usd),
            ttft_ms: number(record, Field::Ttft),
            latency_ms: number(record, Field::Latency),
        }
    }
}

/// A number, from a JSON number or a numeric string; negative and non-finite are absent.
fn number(record: &Record<'_>, field: Field) -> Option<f64> {
    let value = match record.get(field)? {
        Scalar::Number(n) => *n,
        Scalar::Text(t) => t.trim().parse().ok()?,
        Scalar::Bool(_) => return None,
    };
    (value.is_finite() && value >= 0.0).then_some(value)
}

fn tokens(record: &Record<'_>, field: Field) -> u64 {
    if let Some(Scalar::Text(t)) = record.get(field) {
        if let Ok(n) = t.trim().parse::<u64>() {
            return n;
        }
    }
    number(record, field).map_or(0, |n| n.round() as u64)
}

/// `true`, `1`, `yes` or any other value but `false`, `0`, `no` (a failover may log the model
/// it left); absent is false.
fn flag(record: &Record<'_>, field: Field) -> bool {
    match record.get(field) {
        None => false,
        Some(Scalar::Bool(b)) => *b,
        Some(Scalar::Number(n)) => *n != 0.0,
        Some(Scalar::Text(t)) => !["false", "0", "no"]
            .iter()
            .any(|f| t.trim().eq_ignore_ascii_case(f)),
    }
}

/// USD (`"0.000130"`, as the filter logs it) to integer micro-dollars, exactly for up to six
/// decimals and rounded beyond.
pub fn micro_usd(value: &Scalar<'_>) -> Option<u64> {
    let text = match value {
        Scalar::Text(t) => t.trim(),
        Scalar::Number(n) => return from_float(*n),
        Scalar::Bool(_) => return None,
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !plain(whole) || !plain(frac) {
        return from_float(text.parse().ok()?);
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut micro = 0u64;
    for (i, digit) in frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(7)
        .enumerate()
    {
        let d = u64::from(digit - b'0');
        if i < 6 {
            micro = micro * 10 + d;
        } else if d >= 5 {
            micro += 1;
        }
    }
    whole.checked_mul(1_000_000)?.checked_add(micro)
}

fn from_float(usd: f64) -> Option<u64> {
    (usd.is_finite() && usd >= 0.0).then(|| (usd * 1e6).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn usd(text: &str) -> Option<u64> {
        micro_usd(&Scalar::Text(Cow::Borrowed(text)))
    }

    #[test]
    fn usd_strings_are_exact() {
        assert_eq!(usd("0.000130"), Some(130));
        assert_eq!(usd("12.5"), Some(12_500_000));
        assert_eq!(usd("3"), Some(3_000_000));
        assert_eq!(usd("0.0000005"), Some(1));
        assert_eq!(usd("1e-4"), Some(100));
        assert_eq!(usd("-1"), None);
        assert_eq!(usd("abc"), None);
        assert_eq!(usd("."), None);
        assert_eq!(micro_usd(&Scalar::Number(0.25)), Some(250_000));
    }

    #[test]
    fn entry_from_a_filter_line() {
        let line = br#"{"start_time":"2026-11-28T03:29:01.798Z","status":"200","tier_router.tier":"fallback","gen_ai.request.model":"general-mini","tier_router.shadow":"false","gen_ai.usage.input_tokens":"25","gen_ai.usage.output_tokens":"7","tier_router.usage_source":"reported","tier_router.cost_usd":"0.000008","tier_router.baseline_cost_usd":"0.000180","tier_router.ttft_ms":"20.000","tier_router.upstream_status":"503"}"#;
        let record = Record::parse(line).unwrap();
        let entry = Entry::new(&record, true);
        assert_eq!(entry.tier, "fallback");
        assert!(entry.fallback && entry.error && !entry.shadow && !entry.estimated);
        assert_eq!((entry.input_tokens, entry.output_tokens), (25, 7));
        assert_eq!(
            (entry.cost_micro, entry.baseline_micro),
            (Some(8), Some(180))
        );
        assert_eq!(entry.ttft_ms, Some(20.0));
        assert_eq!(entry.latency_ms, None);
        assert_eq!(entry.time, Some(1_795_836_541));
    }
}
