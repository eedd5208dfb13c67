//! Elasticsearch / OpenSearch `_search` responses with Elastic Common Schema documents.

use super::json_path::{self, int, text, texts};
use super::mapping::EntityTable;
use super::{Parsed, SourceError};
use crate::model::{
    entity::looks_like_commit, Entities, EntityKey, Event, EventKind, Process, Severity,
    SourceKind, Timestamp,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Deserialize)]
struct SearchResponse<'a> {
    #[serde(default)]
    error: Option<Value>,
    #[serde(borrow, default)]
    hits: Option<Hits<'a>>,
}

#[derive(Deserialize)]
struct Hits<'a> {
    #[serde(borrow, default)]
    hits: Vec<&'a RawValue>,
}

/// Parses a `_search` response body. Each hit's raw record is its exact bytes in the response.
pub fn parse_response(
    body: &str,
    source_name: &str,
    table: &EntityTable,
) -> Result<Parsed, SourceError> {
    parse_documents(body, source_name, table, &EntityTable::wazuh())
}

/// Like [`parse_response`], with the table for the Wazuh alerts a wazuh-indexer (OpenSearch)
/// holds: those documents are Wazuh's own shape, not ECS, and are read as Wazuh alerts.
pub fn parse_documents(
    body: &str,
    source_name: &str,
    table: &EntityTable,
    wazuh_table: &EntityTable,
) -> Result<Parsed, SourceError> {
    let response: SearchResponse = serde_json::from_str(body).map_err(|e| {
        SourceError::Malformed(format!(
            "Elasticsearch response is not a search response ({e}): {}",
            crate::sanitize::line(&body.chars().take(200).collect::<String>())
        ))
    })?;
    if let Some(error) = response.error {
        return Err(SourceError::Server(error_reason(&error)));
    }
    let mut parsed = Parsed::default();
    for (i, hit) in response
        .hits
        .map(|h| h.hits)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        match hit_event(hit.get(), source_name, table, wazuh_table) {
            Ok(e) => parsed.events.push(e),
            Err(reason) => parsed.skipped.skip(i + 1, reason, hit.get()),
        }
    }
    Ok(parsed)
}

/// The server's own words from an error envelope: `type: reason` of the root cause.
pub fn error_reason(error: &Value) -> String {
    if let Some(s) = error.as_str() {
        return s.to_string();
    }
    let cause = error
        .get("root_cause")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .unwrap_or(error);
    let kind = text(cause, "type").or_else(|| text(error, "type"));
    let reason = text(cause, "reason").or_else(|| text(error, "reason"));
    match (kind, reason) {
        (Some(k), Some(r)) => format!("{k}: {r}"),
        (None, Some(r)) => r,
        (Some(k), None) => k,
        (None, None) => error.to_string(),
    }
}

fn hit_event(
    raw: &str,
    source_name: &str,
    table: &EntityTable,
    wazuh_table: &EntityTable,
) -> Result<Event, String> {
    let hit: Value = serde_json::from_str(raw).map_err(|e| format!("hit is not JSON ({e})"))?;
    let doc = hit.get("_source").ok_or("hit without `_source`")?;
    if super::wazuh::is_alert(doc) {
        return super::wazuh::alert_event(
            doc,
            raw,
            SourceKind::Elasticsearch,
            source_name,
            wazuh_table,
        );
    }
    let ts = timestamp(doc).ok_or("no usable `@timestamp`")?;

    let mut entities = Entities::new();
    table.apply_json(&[doc], &mut entities);
    for image in images(doc) {
        entities.add(EntityKey::Image, &image);
    }
    if let Some(tag) = text(doc, "container.image.tag").filter(|t| looks_like_commit(t)) {
        entities.add(EntityKey::Commit, &tag);
    }
    let resource_type = text(doc, "orchestrator.resource.type")
        .or_else(|| text(doc, "kubernetes.audit.objectRef.resource"));
    if resource_type.as_deref() == Some("pods") {
        for path in [
            "orchestrator.resource.name",
            "kubernetes.audit.objectRef.name",
        ] {
            if let Some(pod) = text(doc, path) {
                entities.add(EntityKey::Pod, &pod);
            }
        }
    }
    if let Some(ns) = text(doc, "kubernetes.audit.objectRef.namespace") {
        entities.add(EntityKey::Namespace, &ns);
    }

    let dataset = text(doc, "event.dataset").unwrap_or_default();
    let event_kind = text(doc, "event.kind").unwrap_or_default();
    let categories = texts(doc, "event.category");
    let kind = if event_kind == "alert" || event_kind == "signal" {
        EventKind::Alert
    } else if dataset.contains("audit") || categories.iter().any(|c| c == "iam") {
        EventKind::Audit
    } else {
        EventKind::Log
    };
    let severity = severity(doc, kind);
    let message = text(doc, "message").unwrap_or_default();
    let title = title(doc, &message, &dataset);
    let mut tags = texts(doc, "tags");
    tags.extend(texts(doc, "threat.technique.id"));

    Ok(Event {
        ts,
        source: SourceKind::Elasticsearch,
        source_name: source_name.to_string(),
        kind,
        severity,
        title,
        message,
        entities,
        process: process(doc),
        tags,
        raw: raw.to_string(),
    })
}

fn timestamp(doc: &Value) -> Option<Timestamp> {
    match json_path::get(doc, "@timestamp")? {
        Value::String(s) => Timestamp::parse_rfc3339(s),
        Value::Number(n) => n.as_i64().and_then(Timestamp::from_millis),
        _ => None,
    }
}

/// `name@sha256:…` for each digest in `container.image.hash.all`, or the bare name.
fn images(doc: &Value) -> Vec<String> {
    let name = text(doc, "container.image.name");
    let digests = texts(doc, "container.image.hash.all");
    match (name, digests.is_empty()) {
        (Some(n), false) => digests
            .iter()
            .map(|d| {
                if n.contains('@') {
                    n.clone()
                } else {
                    format!("{}@{d}", crate::model::entity::image_repository(&n))
                }
            })
            .collect(),
        (Some(n), true) => vec![n],
        (None, _) => digests,
    }
}

fn severity(doc: &Value, kind: EventKind) -> Severity {
    if let Some(level) = text(doc, "log.level").and_then(|l| Severity::parse_loose(&l)) {
        return level;
    }
    if kind == EventKind::Alert {
        // ECS `event.severity` for alerts, in Elastic's risk bands.
        return match int(doc, "event.severity") {
            Some(s) if s >= 74 => Severity::Critical,
            Some(s) if s >= 48 => Severity::Error,
            Some(s) if s >= 22 => Severity::Warning,
            _ => Severity::Notice,
        };
    }
    // Kubernetes API writes that grant power or open a shell deserve a look.
    let verb = text(doc, "kubernetes.audit.verb").or_else(|| text(doc, "event.action"));
    let resource = text(doc, "kubernetes.audit.objectRef.resource").unwrap_or_default();
    let subresource = text(doc, "kubernetes.audit.objectRef.subresource").unwrap_or_default();
    let writes = matches!(
        verb.as_deref(),
        Some("create" | "update" | "patch" | "delete")
    );
    if writes
        && (subresource == "exec" || subresource == "attach" || resource.contains("rolebindings"))
    {
        return Severity::Notice;
    }
    if text(doc, "event.outcome").as_deref() == Some("failure") {
        return Severity::Warning;
    }
    Severity::Info
}

fn title(doc: &Value, message: &str, dataset: &str) -> String {
    if let Some(first) = message.lines().next().filter(|l| !l.trim().is_empty()) {
        return first.to_string();
    }
    let action = text(doc, "event.action").unwrap_or_default();
    let object = match (
        text(doc, "orchestrator.resource.type"),
        text(doc, "orchestrator.resource.name"),
    ) {
        (Some(t), Some(n)) => format!(" {t}/{n}"),
        (Some(t), None) => format!(" {t}"),
        _ => String::new(),
    };
    let head = if dataset.is_empty() { "event" } else { dataset };
    format!("{head}: {action}{object}")
}

fn process(doc: &Value) -> Option<Process> {
    let p = Process {
        pid: int(doc, "process.pid"),
        ppid: int(doc, "process.parent.pid"),
        name: text(doc, "process.name"),
        cmdline: text(doc, "process.command_line"),
        exe: text(doc, "process.executable"),
        parent_name: text(doc, "process.parent.name"),
        entity_id: text(doc, "process.entity_id"),
        start: process_start(doc),
        parent_entity_id: text(doc, "process.parent.entity_id"),
    };
    (!p.is_empty()).then_some(p)
}

/// ECS `process.start`: a date, as text (RFC 3339) or as epoch milliseconds.
fn process_start(doc: &Value) -> Option<Timestamp> {
    match json_path::get(doc, "process.start")? {
        Value::String(s) => Timestamp::parse_rfc3339(s),
        Value::Number(n) => n.as_i64().and_then(Timestamp::from_millis),
        _ => None,
    }
}
