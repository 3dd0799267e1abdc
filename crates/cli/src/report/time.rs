//! `start_time` (RFC 3339, as Envoy's `%START_TIME%` prints it: `2026-11-28T03:29:01.798Z`)
//! to UTC seconds, and hour or day periods.

/// The time-series step of `report --by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Period {
    Hour,
    Day,
}

impl Period {
    pub fn name(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }

    fn seconds(self) -> i64 {
        match self {
            Period::Hour => 3_600,
            Period::Day => 86_400,
        }
    }

    /// The start of the period holding `epoch` (seconds, UTC).
    pub fn start(self, epoch: i64) -> i64 {
        epoch.div_euclid(self.seconds()) * self.seconds()
    }

    /// `2026-11-28T03:00Z` or `2026-11-28`.
    pub fn label(self, start: i64) -> String {
        let (y, m, d) = civil_from_days(start.div_euclid(86_400));
        match self {
            Period::Day => format!("{y:04}-{m:02}-{d:02}"),
            Period::Hour => {
                let hour = start.rem_euclid(86_400) / 3_600;
                format!("{y:04}-{m:02}-{d:02}T{hour:02}:00Z")
            }
        }
    }
}

/// Seconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`; `None` when the
/// text is not of that form. A space may stand for the `T`.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|(i, c)| b.get(*i) != Some(c))
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = b.get(19..)?;
    if rest.first() == Some(&b'.') {
        let digits = rest
            .iter()
            .skip(1)
            .take_while(|c| c.is_ascii_digit())
            .count();
        rest = rest.get(1 + digits..)?;
    }
    let offset = parse_offset(rest)?;
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second - offset)
}

/// `Z` -> 0, `+02:00` -> 7200 (seconds to subtract to get UTC).
fn parse_offset(rest: &[u8]) -> Option<i64> {
    match rest {
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let value = |hi: u8, lo: u8| i64::from(hi - b'0') * 10 + i64::from(lo - b'0');
            let seconds = value(*h1, *h2) * 3_600 + value(*m1, *m2) * 60;
            Some(if *sign == b'-' { -seconds } else { seconds })
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_envoy_start_time() {
        // date -u -d 2026-11-28T03:29:01Z +%s
        assert_eq!(
            parse_rfc3339("2026-11-28T03:29:01.798Z"),
            Some(1_795_836_541)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-28T05:29:01+02:00"),
            Some(1_795_836_541)
        );
        assert_eq!(parse_rfc3339("2026-11-28"), None);
        assert_eq!(parse_rfc3339("-"), None);
        assert_eq!(parse_rfc3339("2026-13-28T03:29:01Z"), None);
    }

    #[test]
    fn periods() {
        let t = 1_795_836_541;
        assert_eq!(
            Period::Hour.label(Period::Hour.start(t)),
            "2026-11-28T03:00Z"
        );
        assert_eq!(Period::Day.label(Period::Day.start(t)), "2026-11-28");
        assert_eq!(Period::Day.label(0), "1970-01-01");
        assert_eq!(Period::Day.label(951_782_400), "2000-02-29");
    }
}
