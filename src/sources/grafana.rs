//! Grafana annotations (`GET /api/annotations`): deploy markers, notes people left on
//! dashboards, alert state changes. Each is an event at its time; a region keeps its end in
//! the message. Tags written `key:value` or `key=value` with an entity key (`pod:api-7d9f`)
//! are entities.

use super::http::{FetchError, HttpClient};
use super::json_path::{int, text, texts};
use super::mapping::EntityTable;
use super::present::Failed;
use super::{Parsed, SourceError};
use crate::model::{
    Entities, EntityKey, Event, EventKind, Severity, SourceKind, TimeRange, Timestamp,
};
use serde_json::value::RawValue;
use serde_json::Value;

/// Parses an `/api/annotations` answer (a JSON array).
pub fn parse_annotations(
    body: &str,
    source_name: &str,
    table: &EntityTable,
) -> Result<Parsed, SourceError> {
    let items: Vec<&RawValue> =
        serde_json::from_str(body).map_err(|e| match grafana_says(body) {
            Some(m) => SourceError::Server(m),
            None => SourceError::Malformed(format!(
                "Grafana answer is not a list of annotations ({e}): {}",
                body.chars().take(200).collect::<String>()
            )),
        })?;
    let mut parsed = Parsed::default();
    for (i, raw) in items.into_iter().enumerate() {
        match annotation(raw.get(), source_name, table) {
            Ok(e) => parsed.events.push(e),
            Err(reason) => parsed.skipped.skip(i + 1, reason, raw.get()),
        }
    }
    Ok(parsed)
}

fn annotation(raw: &str, source_name: &str, table: &EntityTable) -> Result<Event, String> {
    let doc: Value = serde_json::from_str(raw).map_err(|e| format!("not JSON ({e})"))?;
    let time = int(&doc, "time").ok_or("an annotation without `time`")?;
    let ts = Timestamp::from_millis(time).ok_or("`time` is out of range")?;
    let text_of = text(&doc, "text").unwrap_or_default();
    let tags = texts(&doc, "tags");
    let mut entities = Entities::new();
    table.apply_json(&[&doc], &mut entities);
    for tag in &tags {
        if let Some((k, v)) = tag.split_once([':', '=']) {
            if let Ok(key) = k.trim().parse::<EntityKey>() {
                entities.add(key, v.trim());
            }
        }
    }
    let alert = int(&doc, "alertId").is_some_and(|a| a != 0)
        || text(&doc, "newState").is_some_and(|s| !s.is_empty());
    let first_line = text_of.lines().next().unwrap_or("").trim().to_string();
    let title = match (first_line.is_empty(), text(&doc, "newState")) {
        (_, Some(state)) if alert => format!("alert {state}: {first_line}"),
        (false, _) => first_line,
        (true, _) => format!("annotation {}", tags.join(" ")),
    };
    let mut message = text_of.clone();
    if let Some(end) = int(&doc, "timeEnd").filter(|e| *e > time) {
        message.push_str(&format!(
            " (until {})",
            Timestamp::from_millis(end)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        ));
    }
    Ok(Event {
        ts,
        source: SourceKind::Grafana,
        source_name: source_name.to_string(),
        kind: if alert {
            EventKind::AlertFiring
        } else {
            EventKind::Log
        },
        severity: if alert {
            Severity::Warning
        } else {
            Severity::Notice
        },
        title: title.trim().to_string(),
        message: message.trim().to_string(),
        entities,
        process: None,
        tags,
        raw: raw.to_string(),
    })
}

/// Reads the window's annotations, `limit` at most. Grafana's errors are `{"message": "…"}`:
/// its words are reported, not the JSON around them.
pub async fn fetch(
    client: &HttpClient,
    window: TimeRange,
    limit: usize,
    table: &EntityTable,
) -> Result<Parsed, Failed> {
    let params = [
        ("from", (window.start.0 / 1_000_000).to_string()),
        ("to", (window.end.0 / 1_000_000).to_string()),
        ("limit", limit.to_string()),
    ];
    let body = match client.get("/api/annotations", &params).await {
        Ok(body) => body,
        Err(FetchError::Status { code, body }) => {
            return Err(Failed::Said(match grafana_says(&body) {
                Some(m) => format!("HTTP {code}: {}", crate::sanitize::line(&m)),
                None => FetchError::Status { code, body }.to_string(),
            }))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(parse_annotations(&body, &client.endpoint().name, table)?)
}

/// The `message` of a Grafana error answer.
fn grafana_says(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| text(&v, "message"))
}
