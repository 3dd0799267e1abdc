//! What a call cost, in integer micro-dollars, from a model's price table.

use crate::config::Price;
use crate::usage::Usage;

/// USD per 1M tokens is exactly micro-USD per token, so cost = Σ tokens × price, rounded.
/// Cached input tokens are billed at `cached_input`, every other input token (cache writes
/// included) at `input`, and every output token (reasoning included) at `output`.
pub fn micro_usd(price: &Price, usage: &Usage) -> u64 {
    let cached = usage.cached_input_tokens.min(usage.input_tokens);
    let uncached = usage.input_tokens - cached;
    let total = uncached as f64 * price.input
        + cached as f64 * price.cached_input
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
    fn usd_formatting() {
        assert_eq!(usd(3420), "0.003420");
        assert_eq!(usd(12_500_000), "12.500000");
    }
}
