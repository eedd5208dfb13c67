//! Fields inside a log line: JSON objects, logfmt, and classic syslog lines from sshd.

use crate::model::{EntityKey, Severity};
use serde_json::Value;

/// The top-level scalar fields of a JSON or logfmt line, in order.
#[derive(Debug, Default)]
pub struct LineFields {
    pairs: Vec<(String, String)>,
}

impl LineFields {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

pub fn parse(line: &str) -> LineFields {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(trimmed) {
            let pairs = obj
                .iter()
                .filter_map(|(k, v)| super::json_path::scalar_text(v).map(|s| (k.clone(), s)))
                .collect();
            return LineFields { pairs };
        }
        return LineFields::default();
    }
    LineFields {
        pairs: logfmt(line),
    }
}

/// `key=value key2="quoted value"`; a line that is not mostly logfmt gives no pairs.
fn logfmt(line: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = &rest[..eq];
        if key.is_empty() || key.contains(char::is_whitespace) || key.contains('"') {
            return Vec::new();
        }
        let after = &rest[eq + 1..];
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut end = None;
            let mut escaped = false;
            for (i, c) in quoted.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(i);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            let Some(end) = end else { return Vec::new() };
            (quoted[..end].replace("\\\"", "\""), &quoted[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (after[..end].to_string(), &after[end..])
        };
        pairs.push((key.to_string(), value));
        rest = remaining.trim_start();
    }
    pairs
}

/// `Nov 22 05:23:02 bastion-1 sshd[58160]: Failed password for root from …`
#[derive(Debug, PartialEq, Eq)]
pub struct Syslog<'a> {
    pub host: &'a str,
    pub program: &'a str,
    pub pid: Option<i64>,
    pub message: &'a str,
}

impl<'a> Syslog<'a> {
    pub fn parse(line: &'a str) -> Option<Syslog<'a>> {
        // Month, day, clock: three whitespace-separated fields, then host, then `prog[pid]:`.
        let mut rest = line.trim_start();
        let take = |rest: &mut &'a str| -> Option<&'a str> {
            let s = rest.trim_start();
            let end = s.find(' ')?;
            let (word, tail) = s.split_at(end);
            *rest = tail;
            Some(word)
        };
        let month = take(&mut rest)?;
        let day = take(&mut rest)?;
        let clock = take(&mut rest)?;
        let host = take(&mut rest)?;
        let valid_month = month.len() == 3 && month.chars().all(|c| c.is_ascii_alphabetic());
        let valid_day = day.parse::<u8>().is_ok();
        let valid_clock = clock.len() == 8 && clock.as_bytes()[2] == b':';
        if !(valid_month && valid_day && valid_clock) {
            return None;
        }
        let rest = rest.trim_start();
        let (tag, message) = rest.split_once(": ")?;
        let (program, pid) = match tag.split_once('[') {
            Some((p, pid)) => (p, pid.strip_suffix(']')?.parse().ok()),
            None => (tag, None),
        };
        if program.is_empty() || program.contains(' ') {
            return None;
        }
        Some(Syslog {
            host,
            program,
            pid,
            message,
        })
    }
}

/// The user and client address named in an sshd message.
pub fn sshd_entities(message: &str) -> Vec<(EntityKey, &str)> {
    let mut out = Vec::new();
    let after = |marker: &str| message.find(marker).map(|i| &message[i + marker.len()..]);
    fn first_word(s: &str) -> Option<&str> {
        s.split_whitespace()
            .next()
            .map(|w| w.trim_end_matches(['(', ',', ':']))
    }
    // Most specific first: `for invalid user X` before `for X`.
    const MARKERS: &[&str] = &[
        " for invalid user ",
        "Invalid user ",
        "invalid user ",
        "authenticating user ",
        "Disconnected from user ",
        "password for ",
        "publickey for ",
        "keyboard-interactive/pam for ",
        "session opened for user ",
        "session closed for user ",
        "attempts exceeded for ",
        "Received disconnect from user ",
    ];
    let user = MARKERS
        .iter()
        .find_map(|m| after(m))
        .and_then(first_word)
        .map(|u| u.split('(').next().unwrap_or(u));
    if let Some(u) = user.filter(|u| !u.is_empty()) {
        out.push((EntityKey::User, u));
    }
    // The client address may follow `from`, `by`, or the user name: take every word that is one.
    for word in message.split_whitespace() {
        let w = word.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')' | '[' | ']'));
        if w.parse::<std::net::IpAddr>().is_ok() && !out.contains(&(EntityKey::Ip, w)) {
            out.push((EntityKey::Ip, w));
        }
    }
    out
}

/// Failed logins are warnings, successful ones notices; other sshd chatter has no opinion.
pub fn sshd_severity(message: &str) -> Option<Severity> {
    if message.starts_with("Failed ")
        || message.starts_with("Invalid user")
        || message.contains("authentication failure")
    {
        Some(Severity::Warning)
    } else if message.starts_with("Accepted ") {
        Some(Severity::Notice)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_sshd_line() {
        let line = "Nov 22 05:23:02 bastion-1 sshd[58160]: Failed password for invalid user admin from 203.0.113.45 port 62623 ssh2";
        let s = Syslog::parse(line).unwrap();
        assert_eq!(
            (s.host, s.program, s.pid),
            ("bastion-1", "sshd", Some(58160))
        );
        assert_eq!(
            sshd_entities(s.message),
            [(EntityKey::User, "admin"), (EntityKey::Ip, "203.0.113.45")]
        );
        assert_eq!(sshd_severity(s.message), Some(Severity::Warning));
        let opened = "pam_unix(sshd:session): session opened for user mallory(uid=1003) by (uid=0)";
        assert_eq!(sshd_entities(opened), [(EntityKey::User, "mallory")]);
        for (line, user) in [
            ("Disconnected from authenticating user mallory 203.0.113.45 port 50522 [preauth]", "mallory"),
            ("Connection closed by authenticating user root 203.0.113.45 port 1 [preauth]", "root"),
            ("error: maximum authentication attempts exceeded for mallory from 203.0.113.45 port 2 ssh2 [preauth]", "mallory"),
            ("Disconnected from user mallory 203.0.113.45 port 51514", "mallory"),
        ] {
            assert_eq!(sshd_entities(line), [(EntityKey::User, user), (EntityKey::Ip, "203.0.113.45")], "{line}");
        }
        assert_eq!(
            sshd_entities("Connection closed by 10.0.8.6 port 43269 [preauth]"),
            [(EntityKey::Ip, "10.0.8.6")]
        );
        assert_eq!(Syslog::parse("not a syslog line at all: no"), None);
    }

    #[test]
    fn logfmt_and_json_fields() {
        let f = parse(r#"ts=2026-11-22T06:01:36.507Z level=info msg="slow request" status=503"#);
        assert_eq!(f.get("msg"), Some("slow request"));
        assert_eq!(f.get("status"), Some("503"));
        let j = parse(r#"{"level":"warn","commit":"9f1c2ab","n":3,"nested":{"a":1}}"#);
        assert_eq!(j.get("commit"), Some("9f1c2ab"));
        assert_eq!(j.get("n"), Some("3"));
        assert_eq!(j.get("nested"), None);
        assert!(parse("just some words = here").pairs().next().is_none());
    }
}
