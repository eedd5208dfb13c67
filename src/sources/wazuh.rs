//! Wazuh alerts: `alerts.json` lines from a manager, and the same alerts as documents of a
//! wazuh-indexer (OpenSearch) index. Authentication failures, file integrity (syscheck, with
//! the who-data user and process), rootcheck, and MITRE ATT&CK ids as tags.

use super::json_lines::{self, Record};
use super::json_path::{get, int, text, texts};
use super::mapping::EntityTable;
use super::Parsed;
use crate::model::{Entities, Event, EventKind, Process, Severity, SourceKind, Timestamp};
use serde_json::Value;
use std::io::BufRead;

/// Reads `alerts.json` (one alert a line).
pub fn parse_lines(
    reader: impl BufRead,
    source_name: &str,
    table: &EntityTable,
) -> (Parsed, Option<std::io::Error>) {
    json_lines::parse(
        reader,
        "; Wazuh writes JSON alerts to alerts.json, not alerts.log",
        |doc, raw| {
            alert_event(doc, raw, SourceKind::Wazuh, source_name, table)
                .map(|e| Record::Event(Box::new(e)))
        },
    )
}

/// Whether a document (an index hit's `_source`) is a Wazuh alert: a rule with a level and an
/// agent or manager, as every alert of a Wazuh manager has.
pub fn is_alert(doc: &Value) -> bool {
    get(doc, "rule.level").is_some()
        && get(doc, "rule.id").is_some()
        && (get(doc, "agent").is_some() || get(doc, "manager").is_some())
}

/// One alert. Accepts the alert itself, an index hit (`_source`), or an active-response
/// envelope (`parameters.alert`), so what a responder copies from any of them reads the same.
pub fn alert_event(
    doc: &Value,
    raw: &str,
    source: SourceKind,
    source_name: &str,
    table: &EntityTable,
) -> Result<Event, String> {
    let doc = get(doc, "_source")
        .or_else(|| get(doc, "parameters.alert"))
        .filter(|d| d.is_object())
        .unwrap_or(doc);
    let description =
        text(doc, "rule.description").ok_or("not a Wazuh alert: no `rule.description`")?;
    let ts = json_lines::first_time(doc, &["timestamp", "@timestamp"], Timestamp::from_millis)
        .ok_or("no usable `timestamp`")?;
    let level = int(doc, "rule.level").unwrap_or(0);
    let mut entities = Entities::new();
    table.apply_json(&[doc], &mut entities);
    Ok(Event {
        ts,
        source,
        source_name: source_name.to_string(),
        kind: EventKind::Alert,
        severity: severity(level),
        title: title(doc, &description),
        message: text(doc, "full_log").unwrap_or_else(|| description.clone()),
        entities,
        process: process(doc),
        tags: tags(doc),
        raw: raw.to_string(),
    })
}

/// Wazuh's levels (0–15) as its dashboard groups them: 12 and up critical, 8–11 high.
fn severity(level: i64) -> Severity {
    match level {
        12.. => Severity::Critical,
        8..=11 => Severity::Error,
        5..=7 => Severity::Warning,
        3..=4 => Severity::Notice,
        1..=2 => Severity::Info,
        _ => Severity::Debug,
    }
}

/// The rule's description, with what it is about: the file of a file-integrity alert, the
/// finding of a rootcheck.
fn title(doc: &Value, description: &str) -> String {
    let short = description.trim().trim_end_matches('.');
    if let Some(path) = text(doc, "syscheck.path") {
        format!("{short}: {path}")
    } else if let Some(finding) = text(doc, "data.title") {
        format!("{short}: {finding}")
    } else {
        description.trim().to_string()
    }
}

/// The process behind a file change (who-data, from auditd or eBPF).
fn process(doc: &Value) -> Option<Process> {
    let p = get(doc, "syscheck.audit.process")?;
    let process = Process {
        pid: int(p, "id"),
        ppid: int(p, "ppid"),
        name: text(p, "name").map(|n| n.rsplit('/').next().unwrap_or(&n).to_string()),
        exe: text(p, "name").filter(|n| n.starts_with('/')),
        parent_name: text(p, "parent_name"),
        ..Process::default()
    };
    (!process.is_empty()).then_some(process)
}

/// MITRE ATT&CK technique ids and tactics (`mitre_credential_access`, as Falco tags them),
/// then the rule's groups (`authentication_failed`, `syscheck`).
fn tags(doc: &Value) -> Vec<String> {
    let mut tags = texts(doc, "rule.mitre.id");
    for tactic in texts(doc, "rule.mitre.tactic") {
        tags.push(format!(
            "mitre_{}",
            tactic.trim().to_ascii_lowercase().replace([' ', '-'], "_")
        ));
    }
    tags.extend(texts(doc, "rule.groups"));
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| !t.is_empty() && seen.insert(t.clone()));
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_dashboard_groups() {
        let got: Vec<Severity> = [0, 2, 3, 5, 7, 8, 11, 12, 15, -1]
            .into_iter()
            .map(severity)
            .collect();
        use Severity::*;
        assert_eq!(
            got,
            [Debug, Info, Notice, Warning, Warning, Error, Error, Critical, Critical, Debug]
        );
    }

    #[test]
    fn deleted_and_added_files_are_titled_by_their_path() {
        for (id, description, event) in [
            ("553", "File deleted.", "deleted"),
            ("554", "File added to the system.", "added"),
        ] {
            let doc = serde_json::json!({
                "timestamp": "2026-11-20T13:04:52.417+0000",
                "rule": {"level": 7, "id": id, "description": description, "groups": ["ossec", "syscheck"]},
                "agent": {"id": "003", "name": "bastion-1"},
                "syscheck": {"path": "/etc/cron.d/x", "event": event, "mode": "realtime"},
                "full_log": format!("File '/etc/cron.d/x' {event}")
            });
            let e = alert_event(&doc, "{}", SourceKind::Wazuh, "w", &EntityTable::wazuh()).unwrap();
            let want = format!("{}: /etc/cron.d/x", description.trim_end_matches('.'));
            assert_eq!(e.title, want);
            assert_eq!(e.severity, Severity::Warning);
            assert!(e.entities.contains(crate::model::EntityKey::Rule, id));
            assert!(e.process.is_none());
        }
    }

    #[test]
    fn not_an_alert_is_named() {
        let doc: Value = serde_json::from_str(r#"{"timestamp":"2020-01-01T00:00:00Z"}"#).unwrap();
        let err = alert_event(&doc, "", SourceKind::Wazuh, "w", &EntityTable::wazuh());
        assert_eq!(err.unwrap_err(), "not a Wazuh alert: no `rule.description`");
        let doc: Value =
            serde_json::from_str(r#"{"timestamp":"yesterday","rule":{"description":"x"}}"#)
                .unwrap();
        let err = alert_event(&doc, "", SourceKind::Wazuh, "w", &EntityTable::wazuh());
        assert_eq!(err.unwrap_err(), "no usable `timestamp`");
    }
}
