//! Falco alerts: `json_output: true` lines, `http_output` bodies and falcosidekick payloads.

use super::json_path::{self, int, text};
use super::mapping::EntityTable;
use super::Parsed;
use crate::model::{
    entity::looks_like_commit, Entities, EntityKey, Event, EventKind, Process, Severity,
    SourceKind, Timestamp,
};
use serde_json::Value;
use std::io::BufRead;

/// Why one record could not become an event.
pub type RecordError = String;

/// What became of one Falco record.
pub enum FalcoRecord {
    Event(Box<Event>),
    /// Falco's own periodic metrics snapshots (`source: internal`) are not alerts.
    Internal,
}

/// Reads Falco JSON lines. Malformed lines are skipped, counted and sampled; reading stops only
/// at an I/O error, which is returned with what was parsed so far.
pub fn parse_lines(
    mut reader: impl BufRead,
    source_name: &str,
    table: &EntityTable,
) -> (Parsed, Option<std::io::Error>) {
    let mut parsed = Parsed::default();
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return (parsed, Some(e)),
        }
        line_no += 1;
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match parse_record(line, source_name, table) {
            Ok(FalcoRecord::Event(e)) => parsed.events.push(*e),
            Ok(FalcoRecord::Internal) => parsed.ignored += 1,
            Err(reason) => parsed.skipped.skip(line_no, reason, line),
        }
    }
    (parsed, None)
}

/// Parses one Falco JSON record (a line, or an HTTP body).
pub fn parse_record(
    text_record: &str,
    source_name: &str,
    table: &EntityTable,
) -> Result<FalcoRecord, RecordError> {
    let value: Value = serde_json::from_str(text_record).map_err(|e| format!("not JSON ({e})"))?;
    if !value.is_object() {
        return Err("not a JSON object".into());
    }
    let event_source = text(&value, "source").unwrap_or_default();
    let rule = text(&value, "rule").unwrap_or_default();
    if event_source == "internal" || rule.starts_with("Falco internal") {
        return Ok(FalcoRecord::Internal);
    }
    let fields = value.get("output_fields").cloned().unwrap_or(Value::Null);
    let ts = timestamp(&value, &fields).ok_or("no usable `time` or `evt.time`")?;
    let rule = if rule.is_empty() {
        return Err("no `rule`".into());
    } else {
        rule
    };
    let priority = text(&value, "priority").unwrap_or_default();
    let severity = Severity::parse_loose(&priority).unwrap_or(Severity::Notice);
    let output = text(&value, "output").unwrap_or_default();

    let mut entities = Entities::new();
    table.apply_json(&[&value, &fields], &mut entities);
    if let Some(image) = image_reference(&fields) {
        entities.add(EntityKey::Image, &image);
    }
    if let Some(tag) = field(&fields, "container.image.tag").filter(|t| looks_like_commit(t)) {
        entities.add(EntityKey::Commit, &tag);
    }
    let tags = json_path::texts(&value, "tags");

    Ok(FalcoRecord::Event(Box::new(Event {
        ts,
        source: SourceKind::Falco,
        source_name: source_name.to_string(),
        kind: EventKind::Alert,
        severity,
        title: rule,
        message: strip_output_prefix(&output).to_string(),
        entities,
        process: process(&fields),
        tags,
        raw: text_record.to_string(),
    })))
}

/// A field of `output_fields`, with Falco's `<NA>` placeholder read as absent.
fn field(fields: &Value, name: &str) -> Option<String> {
    fields
        .get(name)
        .and_then(json_path::scalar_text)
        .filter(|s| !s.is_empty() && s != "<NA>")
}

fn timestamp(record: &Value, fields: &Value) -> Option<Timestamp> {
    if let Some(ts) = text(record, "time").and_then(|t| Timestamp::parse_rfc3339(&t)) {
        return Some(ts);
    }
    for name in ["evt.time", "evt.rawtime", "evt.time.iso8601"] {
        if let Some(ns) = int(fields, name) {
            return Some(Timestamp::from_nanos(ns));
        }
    }
    // falcosidekick's Elasticsearch output adds `@timestamp`.
    text(record, "@timestamp").and_then(|t| Timestamp::parse_rfc3339(&t))
}

/// `repo@sha256:…` when Falco knows the digest, else `repo:tag`, else `container.image`.
fn image_reference(fields: &Value) -> Option<String> {
    let repo = field(fields, "container.image.repository");
    let digest = field(fields, "container.image.digest");
    let tag = field(fields, "container.image.tag");
    match (repo, digest, tag) {
        (Some(r), Some(d), _) => Some(format!("{r}@{d}")),
        (Some(r), None, Some(t)) => Some(format!("{r}:{t}")),
        (Some(r), None, None) => Some(r),
        (None, Some(d), _) => Some(d),
        (None, None, _) => field(fields, "container.image"),
    }
}

fn process(fields: &Value) -> Option<Process> {
    let p = Process {
        pid: field_int(fields, "proc.pid"),
        ppid: field_int(fields, "proc.ppid"),
        name: field(fields, "proc.name"),
        cmdline: field(fields, "proc.cmdline"),
        exe: field(fields, "proc.exepath").or_else(|| field(fields, "proc.exe")),
        parent_name: field(fields, "proc.pname"),
        entity_id: None,
    };
    (!p.is_empty()).then_some(p)
}

fn field_int(fields: &Value, name: &str) -> Option<i64> {
    field(fields, name).and_then(|s| s.parse().ok())
}

/// Falco prefixes `output` with the time and priority (`13:44:05.478445995: Critical …` or
/// `2024-05-07T18:54:19.341081180+0000: Warning …`); the event already carries both.
fn strip_output_prefix(output: &str) -> &str {
    let Some((stamp, rest)) = output.split_once(": ") else {
        return output;
    };
    if stamp.contains(' ') || !stamp.starts_with(|c: char| c.is_ascii_digit()) {
        return output;
    }
    match rest.split_once(' ') {
        Some((word, tail)) if Severity::parse_loose(word).is_some() => tail,
        _ => output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_prefix_is_removed_only_when_it_is_one() {
        assert_eq!(
            strip_output_prefix("13:44:05.478445995: Critical A shell was spawned"),
            "A shell was spawned"
        );
        assert_eq!(
            strip_output_prefix("2024-05-07T18:54:19.341081180+0000: Warning Sensitive file"),
            "Sensitive file"
        );
        assert_eq!(
            strip_output_prefix("This is a test from falcosidekick"),
            "This is a test from falcosidekick"
        );
        assert_eq!(strip_output_prefix("12: Bogus thing"), "12: Bogus thing");
    }
}
