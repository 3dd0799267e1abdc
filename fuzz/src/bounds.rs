//! Every number of a valid config is within its bound (tier_router_core::config::bounds):
//! validation rejects the rest, so the request path never sees an out-of-range number.

use tier_router_core::config::bounds as b;
use tier_router_core::Config;

pub fn check(c: &Config, text: &dyn Fn() -> String) {
    let within =
        |name: &str, ok: bool| assert!(ok, "valid config with {name} out of bounds\n{}", text());
    within(
        "max_body_bytes",
        (1..=b::MAX_BODY_BYTES).contains(&c.max_body_bytes),
    );
    for m in &c.models {
        if let Some(p) = m.price {
            for v in [
                p.input,
                p.cached_input,
                p.cache_write,
                p.cache_write_1h,
                p.output,
            ] {
                within("a price", (0.0..=b::MAX_PRICE).contains(&v));
            }
        }
    }
    for t in &c.tiers {
        within(
            "expected_output_tokens",
            t.expected_output_tokens <= b::MAX_TOKENS,
        );
        if let Some(f) = t.token_floor {
            within("token_floor.min", (1..=b::MAX_TOKENS).contains(&f.min));
        }
        for (_, w) in &t.weights {
            within("a weight", (0.0..=b::MAX_PERCENT).contains(w));
        }
    }
    for cue in c.classifier.cues() {
        within("a cue weight", cue.weight.abs() <= b::MAX_WEIGHT);
    }
    if let Some(s) = &c.sessions {
        within(
            "ttl_seconds",
            (1..=b::MAX_SESSION_TTL_SECONDS).contains(&s.ttl_seconds),
        );
        within(
            "max_sessions",
            (b::MIN_SESSIONS..=b::MAX_SESSIONS).contains(&s.max_sessions),
        );
    }
    within(
        "canary_percent",
        (0.0..=100.0).contains(&c.rollout.canary_percent),
    );
    let p = &c.tuning;
    within("ttft_alpha", p.ttft_alpha > 0.0 && p.ttft_alpha <= 1.0);
    within(
        "explore_percent",
        (0.0..=100.0).contains(&p.explore_percent),
    );
    within(
        "ttft_min_samples",
        p.ttft_min_samples <= b::MAX_TTFT_MIN_SAMPLES,
    );
    within(
        "unhealthy_seconds",
        p.unhealthy_seconds <= b::MAX_UNHEALTHY_SECONDS,
    );
}
