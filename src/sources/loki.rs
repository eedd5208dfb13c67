//! Grafana Loki `query_range` responses: log streams become events, metric matrices become series.

use super::mapping::EntityTable;
use super::{line_fields, Parsed, SourceError};
use crate::model::{
    Entities, EntityKey, Event, EventKind, Process, Severity, SourceKind, Timestamp,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Parses a `/loki/api/v1/query_range` (or `/query`) response body.
pub fn parse_response(
    body: &str,
    source_name: &str,
    query: &str,
    table: &EntityTable,
) -> Result<Parsed, SourceError> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        SourceError::Malformed(format!(
            "Loki response is not JSON ({e}): {}",
            crate::sanitize::line(&body.chars().take(200).collect::<String>())
        ))
    })?;
    let status = value.get("status").and_then(Value::as_str).unwrap_or("");
    if status != "success" {
        let msg = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("response without status \"success\"");
        return Err(SourceError::Server(msg.to_string()));
    }
    let data = value
        .get("data")
        .ok_or_else(|| SourceError::Malformed("no `data`".into()))?;
    let result_type = data.get("resultType").and_then(Value::as_str).unwrap_or("");
    let results = data.get("result").and_then(Value::as_array);
    let mut parsed = Parsed::default();
    let Some(results) = results else {
        return Ok(parsed);
    };
    match result_type {
        "streams" => {
            for (i, stream) in results.iter().enumerate() {
                parse_stream(stream, i + 1, source_name, table, &mut parsed);
            }
        }
        "matrix" | "vector" => {
            for (i, series) in results.iter().enumerate() {
                match super::prometheus::series_from_result(
                    series,
                    SourceKind::Loki,
                    source_name,
                    query,
                    &EntityTable::prometheus(),
                ) {
                    Ok(s) => parsed.series.push(s),
                    Err(reason) => parsed.skipped.skip(i + 1, reason, &series.to_string()),
                }
            }
        }
        other => {
            return Err(SourceError::Malformed(format!(
                "unsupported Loki resultType `{}`",
                crate::sanitize::line(other)
            )))
        }
    }
    Ok(parsed)
}

/// One frame of `/loki/api/v1/tail`: `{"streams":[…],"dropped_entries":[…]}`. Entries Loki
/// dropped because the client was too slow become one warning event, so the gap is visible.
pub fn parse_tail_frame(
    text: &str,
    source_name: &str,
    table: &EntityTable,
) -> Result<Parsed, SourceError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| SourceError::Malformed(format!("tail frame is not JSON ({e})")))?;
    let mut parsed = Parsed::default();
    for (i, stream) in value
        .get("streams")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        parse_stream(stream, i + 1, source_name, table, &mut parsed);
    }
    if let Some(dropped) = value
        .get("dropped_entries")
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
    {
        let first = dropped
            .iter()
            .filter_map(|d| {
                d.get("timestamp")
                    .and_then(Value::as_str)?
                    .parse::<i64>()
                    .ok()
            })
            .min()
            .unwrap_or(0);
        let mut entities = Entities::new();
        for d in dropped {
            if let Some(labels) = d.get("labels").and_then(Value::as_object) {
                let pairs = labels
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)));
                table.apply_pairs(pairs, &mut entities);
            }
        }
        parsed.events.push(Event {
            ts: Timestamp::from_nanos(first),
            source: SourceKind::Loki,
            source_name: source_name.to_string(),
            kind: EventKind::Log,
            severity: Severity::Warning,
            title: format!(
                "gap: Loki dropped {} entries (the tail fell behind)",
                dropped.len()
            ),
            message: String::new(),
            entities,
            process: None,
            tags: vec!["gap".to_string()],
            raw: Value::Array(dropped.clone()).to_string(),
        });
    }
    Ok(parsed)
}

fn parse_stream(
    stream: &Value,
    position: usize,
    source_name: &str,
    table: &EntityTable,
    parsed: &mut Parsed,
) {
    let Some(labels) = stream.get("stream").and_then(Value::as_object) else {
        parsed
            .skipped
            .skip(position, "stream without labels", &stream.to_string());
        return;
    };
    let Some(values) = stream.get("values").and_then(Value::as_array) else {
        parsed
            .skipped
            .skip(position, "stream without values", &stream.to_string());
        return;
    };
    let label_pairs: Vec<(&str, &str)> = labels
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
        .collect();
    for entry in values {
        match entry_event(labels, &label_pairs, entry, source_name, table) {
            Ok(e) => parsed.events.push(e),
            Err(reason) => parsed.skipped.skip(position, reason, &entry.to_string()),
        }
    }
}

fn entry_event(
    labels: &Map<String, Value>,
    label_pairs: &[(&str, &str)],
    entry: &Value,
    source_name: &str,
    table: &EntityTable,
) -> Result<Event, String> {
    let parts = entry.as_array().ok_or("entry is not an array")?;
    let ts_text = parts
        .first()
        .and_then(Value::as_str)
        .ok_or("entry without timestamp")?;
    let ns: i64 = ts_text
        .parse()
        .map_err(|_| format!("timestamp `{ts_text}` is not nanoseconds"))?;
    let line = parts
        .get(1)
        .and_then(Value::as_str)
        .ok_or("entry without line")?;
    // Loki 3 may add a third element: structured metadata, flat or categorized.
    let metadata = metadata_pairs(parts.get(2));

    let mut entities = Entities::new();
    table.apply_pairs(label_pairs.iter().copied(), &mut entities);
    table.apply_pairs(
        metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &mut entities,
    );

    let fields = line_fields::parse(line);
    table.apply_pairs(fields.pairs(), &mut entities);
    let syslog = line_fields::Syslog::parse(line);
    let mut process = None;
    if let Some(sys) = &syslog {
        for (key, value) in line_fields::sshd_entities(sys.message) {
            entities.add(key, value);
        }
        if let Some(pid) = sys.pid {
            entities.add(EntityKey::Pid, &pid.to_string());
            process = Some(Process {
                pid: Some(pid),
                name: Some(sys.program.to_string()),
                ..Process::default()
            });
        }
    }

    let label = |name: &str| labels.get(name).and_then(Value::as_str);
    let severity = label("detected_level")
        .or(label("level"))
        .and_then(Severity::parse_loose)
        .or_else(|| fields.get("level").and_then(Severity::parse_loose))
        .or_else(|| fields.get("severity").and_then(Severity::parse_loose))
        .or_else(|| {
            syslog
                .as_ref()
                .and_then(|s| line_fields::sshd_severity(s.message))
        })
        .unwrap_or(Severity::Info);
    let title = match (&syslog, fields.get("msg").or(fields.get("message"))) {
        (_, Some(msg)) => msg.to_string(),
        (Some(sys), None) => format!("{}: {}", sys.program, sys.message),
        (None, None) => line.to_string(),
    };

    let mut raw_stream = Map::new();
    raw_stream.insert("stream".into(), Value::Object(labels.clone()));
    raw_stream.insert("values".into(), Value::Array(vec![entry.clone()]));

    Ok(Event {
        ts: Timestamp::from_nanos(ns),
        source: SourceKind::Loki,
        source_name: source_name.to_string(),
        kind: if label("job").is_some_and(|j| j.contains("audit")) {
            EventKind::Audit
        } else {
            EventKind::Log
        },
        severity,
        title,
        message: line.to_string(),
        entities,
        process,
        tags: Vec::new(),
        raw: Value::Object(raw_stream).to_string(),
    })
}

/// Structured metadata as flat pairs, from `{"k":"v"}` or the categorized
/// `{"structuredMetadata":{…},"parsed":{…}}` form.
fn metadata_pairs(meta: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(Value::Object(obj)) = meta else {
        return out;
    };
    let mut add_flat = |o: &Map<String, Value>| {
        for (k, v) in o {
            if let Some(s) = v.as_str() {
                out.insert(k.clone(), s.to_string());
            }
        }
    };
    let categorized = ["structuredMetadata", "parsed"]
        .iter()
        .filter_map(|k| obj.get(*k).and_then(Value::as_object))
        .collect::<Vec<_>>();
    if categorized.is_empty() {
        add_flat(obj);
    } else {
        for o in categorized {
            add_flat(o);
        }
    }
    out
}
