//! Model health, shared by every worker VM through the store: a model that failed hard (429,
//! 5xx, refused connection, reset, timeout) cools down at once, for its `Retry-After` (capped
//! by `policies.max_retry_after_seconds`) or `policies.unhealthy_seconds`; soft failures (a
//! cut stream, a stream idle timeout, an unparseable 200) cool it down only after
//! `policies.eject_after_failures` in a row. A success clears both.

use crate::config::{Config, ModelId};
use crate::failover::Failure;
use crate::store::{self, SharedStore};

const NS_PER_S: u64 = 1_000_000_000;

/// One model's health as stored: 12 bytes (`until_ns` LE, then `failures` LE). The 8-byte
/// value earlier versions stored (the time alone) reads as no failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    /// The model is skipped until this proxy time (ns since the Unix epoch).
    pub cooling_until_ns: u64,
    /// Consecutive failures since the last success.
    pub failures: u32,
}

impl Health {
    pub fn is_cooling(&self, now_ns: u64) -> bool {
        self.cooling_until_ns > now_ns
    }

    fn encode(self) -> Vec<u8> {
        let mut out = self.cooling_until_ns.to_le_bytes().to_vec();
        out.extend_from_slice(&self.failures.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Health> {
        let until = bytes.get(..8)?.try_into().ok().map(u64::from_le_bytes)?;
        let failures = bytes
            .get(8..12)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_le_bytes);
        Some(Health {
            cooling_until_ns: until,
            failures,
        })
    }
}

/// How a failure changes a model's health; pure, for the store update and for tests.
pub fn after_failure(
    health: Health,
    failure: Failure,
    retry_after_s: Option<u64>,
    now_ns: u64,
    default_s: u64,
    max_retry_after_s: u64,
    eject_after: u32,
) -> Health {
    let failures = health.failures.saturating_add(1);
    let cool_s = match retry_after_s {
        Some(s) if failure.honours_retry_after() => Some(s.min(max_retry_after_s)),
        _ if failure.is_hard() || failures >= eject_after => Some(default_s),
        _ => None,
    };
    let cooling_until_ns = match cool_s {
        Some(s) => health
            .cooling_until_ns
            .max(now_ns.saturating_add(s.saturating_mul(NS_PER_S))),
        None => health.cooling_until_ns,
    };
    Health {
        cooling_until_ns,
        failures,
    }
}

impl Config {
    pub fn health(&self, model: ModelId, store: &dyn SharedStore) -> Health {
        store
            .get(&health_key(&self.model(model).name))
            .and_then(|(v, _)| Health::decode(&v))
            .unwrap_or_default()
    }

    pub fn is_healthy(&self, model: ModelId, now_ns: u64, store: &dyn SharedStore) -> bool {
        !self.health(model, store).is_cooling(now_ns)
    }

    /// Records a failure of `model`; `retry_after_s` is the upstream's `Retry-After`, in
    /// seconds from now ([`retry_after_seconds`]).
    pub fn record_failure(
        &self,
        model: ModelId,
        failure: Failure,
        retry_after_s: Option<u64>,
        now_ns: u64,
        store: &dyn SharedStore,
    ) {
        let t = &self.tuning;
        self.update_health(model, store, |h| {
            Some(after_failure(
                h,
                failure,
                retry_after_s,
                now_ns,
                t.unhealthy_seconds,
                t.max_retry_after_seconds,
                t.eject_after_failures,
            ))
        });
    }

    /// A success clears the model's failures and any cool-down (writes only when set).
    pub fn record_success(&self, model: ModelId, store: &dyn SharedStore) {
        self.update_health(model, store, |h| {
            (h != Health::default()).then(Health::default)
        });
    }

    /// Marks `model` as failing with a 429 or 5xx and no `Retry-After`: it cools down for
    /// `policies.unhealthy_seconds`.
    pub fn mark_unhealthy(&self, model: ModelId, now_ns: u64, store: &dyn SharedStore) {
        self.record_failure(model, Failure::Status(503), None, now_ns, store);
    }

    fn update_health(
        &self,
        model: ModelId,
        store: &dyn SharedStore,
        mut next: impl FnMut(Health) -> Option<Health>,
    ) {
        let key = health_key(&self.model(model).name);
        let result = store::update(store, &key, |current| {
            let health = current.and_then(Health::decode).unwrap_or_default();
            next(health).map(Health::encode)
        });
        if let Err(e) = result {
            log::debug!("health of {} not stored: {e:?}", self.model(model).name);
        }
    }
}

fn health_key(model: &str) -> String {
    format!("tier_router.health.{model}")
}

/// A `Retry-After` value as seconds from `now_s` (Unix seconds): delay-seconds, or an
/// HTTP-date (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`) in the future; `None` when it
/// is neither (RFC 9110 §10.2.3). A date in the past is 0.
pub fn retry_after_seconds(value: &str, now_s: u64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Longer than u64 is "a very long time", which the cap then bounds.
        return Some(value.parse().unwrap_or(u64::MAX));
    }
    let at = http_date_unix_s(value)?;
    Some(at.saturating_sub(now_s))
}

/// IMF-fixdate to Unix seconds.
fn http_date_unix_s(value: &str) -> Option<u64> {
    let (_weekday, rest) = value.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: u64 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let year: u64 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || !(1..=31).contains(&day) || year < 1970 || h > 23 || m > 59 || s > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3_600 + m * 60 + s)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}
