//! Alertmanager: the alerts it holds (`GET /api/v2/alerts`), each a firing-alert event at the
//! time it started, with its labels as entities.

use super::http::HttpClient;
use super::json_path::text;
use super::mapping::EntityTable;
use super::present::Failed;
use super::{Parsed, SourceError};
use crate::model::{
    Entities, EntityKey, Event, EventKind, Severity, SourceKind, TimeRange, Timestamp,
};
use serde_json::value::RawValue;
use serde_json::Value;

/// Parses a `/api/v2/alerts` answer: a JSON array of alerts. Each raw record is the alert's
/// exact bytes in the answer. Kept are the alerts of `window`: started before its end, not
/// ended before its start.
pub fn parse_alerts(
    body: &str,
    source_name: &str,
    table: &EntityTable,
    window: TimeRange,
) -> Result<Parsed, SourceError> {
    let alerts: Vec<&RawValue> = serde_json::from_str(body).map_err(|e| {
        SourceError::Malformed(format!(
            "Alertmanager answer is not a list of alerts ({e}): {}",
            body.chars().take(200).collect::<String>()
        ))
    })?;
    let mut parsed = Parsed::default();
    for (i, raw) in alerts.into_iter().enumerate() {
        match alert_event(raw.get(), source_name, table) {
            Ok((e, ends)) => {
                if e.ts <= window.end && ends.is_none_or(|end| end >= window.start) {
                    parsed.events.push(e);
                }
            }
            Err(reason) => parsed.skipped.skip(i + 1, reason, raw.get()),
        }
    }
    Ok(parsed)
}

/// An alert's event, and when it ends (`endsAt`).
fn alert_event(
    raw: &str,
    source_name: &str,
    table: &EntityTable,
) -> Result<(Event, Option<Timestamp>), String> {
    let alert: Value = serde_json::from_str(raw).map_err(|e| format!("not JSON ({e})"))?;
    let labels = alert
        .get("labels")
        .filter(|l| l.is_object())
        .ok_or("an alert without `labels`")?;
    let name = text(labels, "alertname").ok_or("an alert without `labels.alertname`")?;
    let ts = text(&alert, "startsAt")
        .and_then(|s| Timestamp::parse_rfc3339(&s))
        .ok_or("no usable `startsAt`")?;
    let summary = text(&alert, "annotations.summary");
    let description = text(&alert, "annotations.description");
    let title = match &summary {
        Some(s) => format!("{name}: {s}"),
        None => name.clone(),
    };
    let message = description.or(summary).unwrap_or_else(|| name.clone());
    let mut entities = Entities::new();
    table.apply_json(&[&alert], &mut entities);
    // `instance` is `host:port` for most exporters: the host is the entity.
    if let Some(instance) = text(labels, "instance") {
        let host = match instance.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h.to_string(),
            _ => instance.clone(),
        };
        entities.add(EntityKey::Host, host.trim_matches(['[', ']']));
    }
    let state = text(&alert, "status.state").unwrap_or_else(|| "active".into());
    let mut tags = vec![format!("alertmanager_{state}")];
    tags.extend(
        alert
            .get("receivers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| text(r, "name"))
            .map(|r| format!("receiver:{r}")),
    );
    let ends = text(&alert, "endsAt").and_then(|s| Timestamp::parse_rfc3339(&s));
    let event = Event {
        ts,
        source: SourceKind::Alertmanager,
        source_name: source_name.to_string(),
        kind: EventKind::AlertFiring,
        severity: text(labels, "severity")
            .map(|s| severity(&s))
            .unwrap_or(Severity::Warning),
        title,
        message,
        entities,
        process: None,
        tags,
        raw: raw.to_string(),
    };
    Ok((event, ends))
}

/// Alertmanager severities are free text: the usual words, and the ones teams use
/// (`page`, `high`, `medium`, `low`, `P1`…).
fn severity(s: &str) -> Severity {
    Severity::parse_loose(s).unwrap_or_else(|| match s.trim().to_ascii_lowercase().as_str() {
        "page" | "p1" | "sev1" | "disaster" => Severity::Critical,
        "high" | "major" | "p2" | "sev2" => Severity::Error,
        "medium" | "average" | "minor" | "p3" | "sev3" => Severity::Warning,
        "low" | "p4" | "sev4" => Severity::Notice,
        "none" | "p5" => Severity::Info,
        _ => Severity::Warning,
    })
}

/// Asks for the alerts. Alertmanager keeps only the present (active, silenced and inhibited
/// alerts, and resolved ones until they expire), so the window only decides which are kept.
pub async fn fetch(
    client: &HttpClient,
    window: TimeRange,
    table: &EntityTable,
) -> Result<Parsed, Failed> {
    let body = client.get("/api/v2/alerts", &[]).await?;
    Ok(parse_alerts(&body, &client.endpoint().name, table, window)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_severities_are_read_as_teams_write_them() {
        let got: Vec<Severity> = [
            "critical", "page", "high", "medium", "low", "info", "whatever",
        ]
        .into_iter()
        .map(severity)
        .collect();
        use Severity::*;
        assert_eq!(
            got,
            [Critical, Critical, Error, Warning, Notice, Info, Warning]
        );
    }

    #[test]
    fn not_a_list_and_alerts_without_names_are_reported() {
        let err = parse_alerts(
            "{\"error\":1}",
            "am",
            &EntityTable::alertmanager(),
            TimeRange::ALL,
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a list of alerts"), "{err}");
        let p = parse_alerts(
            "[{\"labels\":{}},{\"startsAt\":\"x\",\"labels\":{\"alertname\":\"A\"}},3]",
            "am",
            &EntityTable::alertmanager(),
            TimeRange::ALL,
        )
        .unwrap();
        let reasons: Vec<&str> = p
            .skipped
            .samples
            .iter()
            .map(|s| s.reason.as_str())
            .collect();
        assert_eq!(
            reasons,
            [
                "an alert without `labels.alertname`",
                "no usable `startsAt`",
                "an alert without `labels`"
            ]
        );
    }
}
