use serde::Serialize;

/// Normalized severity, most severe first so that `Ord` sorts by urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Notice,
    Info,
    Debug,
}

impl Severity {
    pub const ALL: [Severity; 6] = [
        Severity::Critical,
        Severity::Error,
        Severity::Warning,
        Severity::Notice,
        Severity::Info,
        Severity::Debug,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
            Severity::Info => "info",
            Severity::Debug => "debug",
        }
    }

    /// Four letters for a timeline column.
    pub fn short(self) -> &'static str {
        match self {
            Severity::Critical => "CRIT",
            Severity::Error => "ERR ",
            Severity::Warning => "WARN",
            Severity::Notice => "NOTE",
            Severity::Info => "INFO",
            Severity::Debug => "DBG ",
        }
    }

    /// Reads the level words used by Falco priorities, syslog, log libraries and Loki's
    /// `detected_level`, case-insensitively. Unknown words give `None`.
    pub fn parse_loose(s: &str) -> Option<Severity> {
        let lower = s.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "emergency" | "emerg" | "alert" | "critical" | "crit" | "fatal" | "panic" => {
                Severity::Critical
            }
            "error" | "err" | "eror" => Severity::Error,
            "warning" | "warn" => Severity::Warning,
            "notice" => Severity::Notice,
            "informational" | "info" | "information" => Severity::Info,
            "debug" | "trace" | "dbug" => Severity::Debug,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falco_priorities_map() {
        assert_eq!(Severity::parse_loose("Emergency"), Some(Severity::Critical));
        assert_eq!(Severity::parse_loose("Informational"), Some(Severity::Info));
        assert_eq!(Severity::parse_loose("WARN"), Some(Severity::Warning));
        assert_eq!(Severity::parse_loose("unknown"), None);
    }
}
