//! One alert as raised or updated, and its JSON line for `casefile watch`.

use crate::model::{Entities, Severity, SourceKind, Timestamp};
use serde::Serialize;

/// An alert: one incident of one rule for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The key and which incident of that key this is (`3f2a9c0e1b7d4a55-1`): a new incident
    /// of the same group (after it was quiet) gets the next number.
    pub id: String,
    /// Stable: the rule and the group's values, hashed (see `dedup::alert_key`).
    pub key: String,
    /// The order alerts were raised in, from 1.
    pub seq: u64,
    /// The alert rule's name.
    pub rule: String,
    /// For a chain alert, the chain rule that completed.
    pub chain: Option<String>,
    /// The rule's `level`, else the most severe event counted.
    pub severity: Severity,
    /// The time of the first event of the incident, and of the latest.
    pub first: Timestamp,
    pub last: Timestamp,
    /// Events counted in the incident (for a chain: the events of its steps).
    pub count: u64,
    /// The group's values, by the rule's `by` keys (`None`: the events had no such value);
    /// for a chain, what its steps were joined on.
    pub group: Vec<(String, Option<String>)>,
    /// The triggering event's entities, with the group's values.
    pub entities: Entities,
    /// The title of the event that raised it (for a chain, its last step's).
    pub title: String,
    pub source: SourceKind,
    pub source_name: String,
    /// Still going: later matching events update it.
    pub open: bool,
}

/// Whether a line raises an alert or updates one already raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Raised,
    Updated,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Raised => "alert",
            Change::Updated => "update",
        }
    }
}

/// What the engine tells its caller: an alert raised or updated, as it stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertUpdate {
    pub change: Change,
    pub alert: Alert,
}

#[derive(Serialize)]
struct AlertLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    key: &'a str,
    rule: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    chain: Option<&'a str>,
    severity: &'static str,
    first: String,
    last: String,
    count: u64,
    group: serde_json::Map<String, serde_json::Value>,
    entities: &'a Entities,
    title: &'a str,
    source: &'static str,
    source_name: &'a str,
}

impl AlertUpdate {
    /// One JSON line (no newline). Every string in it is attacker-controlled text from the
    /// events, so what a terminal would act on is written as a `\u` escape, as in `casefile
    /// query`'s lines; the line parses back to the same values.
    pub fn json_line(&self) -> String {
        let a = &self.alert;
        let line = AlertLine {
            kind: self.change.as_str(),
            id: &a.id,
            key: &a.key,
            rule: &a.rule,
            chain: a.chain.as_deref(),
            severity: a.severity.as_str(),
            first: a.first.to_rfc3339(),
            last: a.last.to_rfc3339(),
            count: a.count,
            group: a
                .group
                .iter()
                .map(|(k, v)| {
                    let v = v
                        .as_ref()
                        .map_or(serde_json::Value::Null, |v| v.as_str().into());
                    (k.clone(), v)
                })
                .collect(),
            entities: &a.entities,
            title: &a.title,
            source: a.source.as_str(),
            source_name: &a.source_name,
        };
        crate::headless::terminal_safe_json(serde_json::to_string(&line).unwrap_or_default())
    }

    /// One line for a status bar: `ALERT SSH brute force: 21 events, user=root` (sanitized).
    pub fn summary(&self) -> String {
        let a = &self.alert;
        let group: Vec<String> = a
            .group
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect();
        let head = match self.change {
            Change::Raised => "ALERT",
            Change::Updated => "alert",
        };
        let text = format!(
            "{head} {}: {} event{}{}{}",
            a.rule,
            a.count,
            if a.count == 1 { "" } else { "s" },
            if group.is_empty() { "" } else { ", " },
            group.join(" ")
        );
        crate::sanitize::line(&text).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EntityKey;

    fn alert() -> Alert {
        let mut entities = Entities::new();
        entities.add(EntityKey::User, "root\u{1b}[2J");
        Alert {
            id: "k-1".into(),
            key: "k".into(),
            seq: 1,
            rule: "SSH brute force".into(),
            chain: None,
            severity: Severity::Warning,
            first: Timestamp(0),
            last: Timestamp(1),
            count: 21,
            group: vec![
                ("user".into(), Some("root\u{1b}[2J".into())),
                ("host".into(), None),
            ],
            entities,
            title: "sshd: Failed password \u{9b}31m\u{202e}".into(),
            source: SourceKind::Loki,
            source_name: "loki".into(),
            open: true,
        }
    }

    #[test]
    fn lines_escape_what_terminals_act_on_and_parse_back() {
        let update = AlertUpdate {
            change: Change::Raised,
            alert: alert(),
        };
        let line = update.json_line();
        assert!(!line.chars().any(crate::sanitize::needs_escape), "{line}");
        assert!(line.contains(r"root\u001b[2J"), "{line}");
        assert!(line.contains(r"\u009b31m\u202e"), "{line}");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["type"], "alert");
        assert_eq!(v["group"]["user"], "root\u{1b}[2J");
        assert_eq!(v["group"]["host"], serde_json::Value::Null);
        assert_eq!(v["entities"]["user"][0], "root\u{1b}[2J");
        assert_eq!(v["title"], "sshd: Failed password \u{9b}31m\u{202e}");
        assert_eq!(v["first"], "1970-01-01T00:00:00.000000000Z");
        assert_eq!(v["count"], 21);
        assert!(v.get("chain").is_none());
        let summary = update.summary();
        assert!(!summary.contains('\u{1b}'), "{summary}");
    }
}
