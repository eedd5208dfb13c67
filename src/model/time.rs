use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use std::fmt;

/// A UTC instant with nanosecond precision, as nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    pub fn from_nanos(ns: i64) -> Self {
        Timestamp(ns)
    }

    pub fn nanos(self) -> i64 {
        self.0
    }

    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        let ns = secs * 1e9;
        if ns.is_finite() && ns.abs() < i64::MAX as f64 {
            Some(Timestamp(ns.round() as i64))
        } else {
            None
        }
    }

    pub fn from_millis(ms: i64) -> Option<Self> {
        ms.checked_mul(1_000_000).map(Timestamp)
    }

    /// Parses RFC 3339 (`2026-11-20T13:04:05.123456789Z`, any offset). A timestamp with no offset
    /// at all (`2099-11-15T14:12:12`, as Elasticsearch stores some dates) is taken as UTC.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return dt.timestamp_nanos_opt().map(Timestamp);
        }
        // Falco's ISO output uses `+0000` without a colon.
        if let Ok(dt) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
            return dt.timestamp_nanos_opt().map(Timestamp);
        }
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
                return Utc
                    .from_utc_datetime(&naive)
                    .timestamp_nanos_opt()
                    .map(Timestamp);
            }
        }
        None
    }

    fn datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    /// `2026-11-20T13:04:05.123456789Z`: always nine fraction digits, always `Z`.
    pub fn to_rfc3339(self) -> String {
        self.datetime().format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
    }

    /// `13:04:05.123`, for timeline rows.
    pub fn clock_millis(self) -> String {
        self.datetime().format("%H:%M:%S%.3f").to_string()
    }

    /// `13:04`, for axes.
    pub fn clock_minutes(self) -> String {
        self.datetime().format("%H:%M").to_string()
    }

    /// `2026-11-20`.
    pub fn date(self) -> String {
        self.datetime().format("%Y-%m-%d").to_string()
    }

    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX))
    }

    pub fn saturating_sub_nanos(self, ns: i64) -> Self {
        Timestamp(self.0.saturating_sub(ns))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A half-open time range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        start: Timestamp::MIN,
        end: Timestamp::MAX,
    };

    pub fn new(start: Timestamp, end: Timestamp) -> Self {
        TimeRange { start, end }
    }

    pub fn contains(&self, ts: Timestamp) -> bool {
        ts >= self.start && ts < self.end
    }

    pub fn is_all(&self) -> bool {
        *self == Self::ALL
    }

    /// The range as a user reads it: `2026-11-20 13:00–14:00 UTC`.
    pub fn label(&self) -> String {
        if self.is_all() {
            return "all time".to_string();
        }
        let start = if self.start == Timestamp::MIN {
            "…".to_string()
        } else {
            format!("{} {}", self.start.date(), self.start.clock_minutes())
        };
        let end = if self.end == Timestamp::MAX {
            "…".to_string()
        } else if self.start != Timestamp::MIN && self.start.date() == self.end.date() {
            self.end.clock_minutes()
        } else {
            format!("{} {}", self.end.date(), self.end.clock_minutes())
        };
        format!("{start}–{end} UTC")
    }
}

/// Parses `90s`, `15m`, `2h`, `7d` (also `1h30m`) into nanoseconds.
/// A length of time as people say it, to the minute once it is long: `45s`, `47m`, `2h 5m`.
pub fn human_duration(ns: i64) -> String {
    let s = ns.max(0) / 1_000_000_000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        _ if s % 3600 < 60 => format!("{}h", s / 3600),
        _ => format!("{}h {}m", s / 3600, s % 3600 / 60),
    }
}

pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            unit = "ms".to_string();
        }
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        let scale: i64 = match unit.as_str() {
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            "d" => 86_400 * 1_000_000_000,
            "w" => 7 * 86_400 * 1_000_000_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(scale)?)?;
    }
    if !digits.is_empty() {
        return None;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_keeps_nanoseconds_and_normalizes_offsets() {
        let ts = Timestamp::parse_rfc3339("2026-11-20T14:04:05.123456789+01:00").unwrap();
        assert_eq!(ts.to_rfc3339(), "2026-11-20T13:04:05.123456789Z");
        let falco_iso = Timestamp::parse_rfc3339("2024-05-07T18:54:19.341081180+0000").unwrap();
        assert_eq!(falco_iso.to_rfc3339(), "2024-05-07T18:54:19.341081180Z");
        let naive = Timestamp::parse_rfc3339("2099-11-15T14:12:12").unwrap();
        assert_eq!(naive.to_rfc3339(), "2099-11-15T14:12:12.000000000Z");
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn human_durations() {
        let s = 1_000_000_000;
        assert_eq!(human_duration(45 * s), "45s");
        assert_eq!(human_duration(47 * 60 * s + 15 * s), "47m");
        assert_eq!(human_duration(2 * 3600 * s + 5 * 60 * s), "2h 5m");
        assert_eq!(human_duration(3600 * s + 30 * s), "1h");
        assert_eq!(human_duration(-5), "0s");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2h"), Some(7_200_000_000_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
        assert_eq!(parse_duration("2"), None);
        assert_eq!(parse_duration("2x"), None);
    }

    #[test]
    fn range_label() {
        let a = Timestamp::parse_rfc3339("2026-11-20T13:00:00Z").unwrap();
        let b = Timestamp::parse_rfc3339("2026-11-20T14:00:00Z").unwrap();
        assert_eq!(TimeRange::new(a, b).label(), "2026-11-20 13:00–14:00 UTC");
    }
}
