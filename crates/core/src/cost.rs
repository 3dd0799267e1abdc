//! What a call cost, in integer micro-dollars, from a model's price table.

use crate::config::Price;
use crate::usage::Usage;

/// USD per 1M tokens is exactly micro-USD per token, so cost = Σ tokens × price, rounded.
/// Of the input tokens, cache reads are billed at `cached_input`, cache writes at
/// `cache_write` (`cache_write_1h` for the 1-hour cache), the rest at `input`; every output
/// token (reasoning included) at `output`.
pub fn micro_usd(price: &Price, usage: &Usage) -> u64 {
    // Clamped so that inconsistent counts never bill a token twice.
    let cached = usage.cached_input_tokens.min(usage.input_tokens);
    let writes = usage.cache_creation_tokens.min(usage.input_tokens - cached);
    let writes_1h = usage.cache_creation_1h_tokens.min(writes);
    let plain = usage.input_tokens - cached - writes;
    let total = plain as f64 * price.input
        + cached as f64 * price.cached_input
        + (writes - writes_1h) as f64 * price.cache_write
        + writes_1h as f64 * price.cache_write_1h
        + usage.output_tokens as f64 * price.output;
    total.round() as u64
}

/// Micro-dollars as a USD string for logs, e.g. `0.000123`.
pub fn usd(micro: u64) -> String {
    format!("{}.{:06}", micro / 1_000_000, micro % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRICE: Price = Price {
        input: 3.0,
        cached_input: 0.3,
        cache_write: 3.75,
        cache_write_1h: 6.0,
        output: 15.0,
    };

    #[test]
    fn cached_and_output_prices_apply() {
        let usage = Usage {
            input_tokens: 1000,
            cached_input_tokens: 400,
            output_tokens: 100,
            ..Usage::default()
        };
        // 600 × 3 + 400 × 0.3 + 100 × 15 = 1800 + 120 + 1500
        assert_eq!(micro_usd(&PRICE, &usage), 3420);
    }

    #[test]
    fn cache_writes_are_billed_by_lifetime() {
        let usage = Usage {
            input_tokens: 1000,
            cached_input_tokens: 100,
            cache_creation_tokens: 700,
            cache_creation_1h_tokens: 200,
            output_tokens: 10,
            ..Usage::default()
        };
        // 200 × 3 + 100 × 0.3 + 500 × 3.75 + 200 × 6 + 10 × 15 = 600 + 30 + 1875 + 1200 + 150
        assert_eq!(micro_usd(&PRICE, &usage), 3855);
    }

    #[test]
    fn inconsistent_counts_never_bill_a_token_twice() {
        // More reads and writes than input tokens: reads take the input first, writes the
        // rest, and 1h writes are at most the writes.
        let usage = Usage {
            input_tokens: 100,
            cached_input_tokens: 60,
            cache_creation_tokens: 80,
            cache_creation_1h_tokens: 90,
            ..Usage::default()
        };
        // 60 × 0.3 + 40 × 6 = 18 + 240
        assert_eq!(micro_usd(&PRICE, &usage), 258);
    }

    #[test]
    fn the_sum_is_rounded_once() {
        // 2 × 0.3 + 1 × 3.75 = 4.35 -> 4 micro-USD (rounding each term would give 1 + 4).
        let usage = Usage {
            input_tokens: 3,
            cached_input_tokens: 2,
            cache_creation_tokens: 1,
            ..Usage::default()
        };
        assert_eq!(micro_usd(&PRICE, &usage), 4);
        // 0.5 rounds half up: 1 plain token at 0.5.
        let half = Price {
            input: 0.5,
            ..PRICE
        };
        let one = Usage {
            input_tokens: 1,
            ..Usage::default()
        };
        assert_eq!(micro_usd(&half, &one), 1);
    }

    #[test]
    fn usd_formatting() {
        assert_eq!(usd(3420), "0.003420");
        assert_eq!(usd(12_500_000), "12.500000");
    }
}
