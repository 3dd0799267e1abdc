//! Number formatting for the human-readable tables.

/// `1234567` -> `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Micro-dollars as USD: exact to the micro-dollar (`0.000130`, `12.345678`) under $1,000,
/// cents above (`12,345.68`). Negative amounts (routing that cost more than the baseline)
/// keep their sign.
pub fn usd(micro: i64) -> String {
    let sign = if micro < 0 { "-" } else { "" };
    let abs = micro.unsigned_abs();
    if abs >= 1_000_000_000 {
        let cents = (abs + 5_000) / 10_000;
        format!("{sign}{}.{:02}", count(cents / 100), cents % 100)
    } else {
        format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
    }
}

/// `1 line`, `2,000 lines`.
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", count(n))
    }
}

/// A share as a percentage with one decimal, or `-` when the whole is zero.
pub fn percent(part: f64, whole: f64) -> String {
    if whole == 0.0 {
        return "-".to_string();
    }
    format!("{:.1}%", 100.0 * part / whole)
}

/// Milliseconds with three significant digits, or `-`.
pub fn ms(value: Option<f64>) -> String {
    match value {
        None => "-".to_string(),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// Bytes as B, KB, MB or GB (powers of 1000).
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    match n {
        n if n >= 1e9 => format!("{:.2} GB", n / 1e9),
        n if n >= 1e6 => format!("{:.1} MB", n / 1e6),
        n if n >= 1e3 => format!("{:.1} KB", n / 1e3),
        n => format!("{n} B"),
    }
}

/// Micro-dollars as a JSON number of USD.
pub fn usd_number(micro: i64) -> f64 {
    micro as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
    }

    #[test]
    fn usd_precision_follows_size() {
        assert_eq!(usd(130), "0.000130");
        assert_eq!(usd(1_234_567), "1.234567");
        assert_eq!(usd(12_345_678_901), "12,345.68");
        assert_eq!(usd(-130), "-0.000130");
    }
}
