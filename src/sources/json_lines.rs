//! Line-oriented JSON inputs (Wazuh `alerts.json`, `sysdig -j`, Kubernetes audit logs): one
//! record a line, each parsed alone. A bad line is skipped, counted and sampled; the rest are
//! read. The raw record is the line as it was written.

use super::Parsed;
use crate::model::Event;
use serde_json::Value;
use std::io::BufRead;

/// What a parser made of one well-formed record.
pub enum Record {
    Event(Box<Event>),
    /// Well-formed, but not an event for the timeline (a heartbeat, an empty record).
    Ignored,
}

/// Reads every line of `reader` as a JSON object, through `to_event`. Blank lines, and the
/// `[`, `]` and trailing commas of a JSON array written one element a line (older
/// `sysdig -j`), are not records. A read error part-way keeps what was read and is returned
/// beside it.
pub fn parse(
    reader: impl BufRead,
    not_json_hint: &str,
    mut to_event: impl FnMut(&Value, &str) -> Result<Record, String>,
) -> (Parsed, Option<std::io::Error>) {
    parse_records(reader, |record| {
        let value: Value =
            serde_json::from_str(record).map_err(|e| format!("not JSON ({e}){not_json_hint}"))?;
        if !value.is_object() {
            return Err("not a JSON object".into());
        }
        to_event(&value, record)
    })
}

/// Like [`parse`], handing each record's text to `to_event`, which parses it its own way
/// (borrowed, without a JSON tree, for the busiest inputs).
pub fn parse_records(
    mut reader: impl BufRead,
    mut to_event: impl FnMut(&str) -> Result<Record, String>,
) -> (Parsed, Option<std::io::Error>) {
    let mut parsed = Parsed::default();
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return (parsed, None),
            Ok(_) => {}
            Err(e) => return (parsed, Some(e)),
        }
        line_no += 1;
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t,
            Err(e) => {
                let lossy = String::from_utf8_lossy(&buf);
                parsed
                    .skipped
                    .skip(line_no, format!("not UTF-8 text ({e})"), lossy.trim());
                continue;
            }
        };
        let record = text.trim().trim_end_matches(',').trim_end();
        if record.is_empty() || record == "[" || record == "]" {
            continue;
        }
        match to_event(record) {
            Ok(Record::Event(e)) => parsed.events.push(*e),
            Ok(Record::Ignored) => parsed.ignored += 1,
            Err(reason) => parsed.skipped.skip(line_no, reason, record),
        }
    }
}

/// The first time at any of `paths` that parses (RFC 3339 text, or epoch numbers as
/// `parse_number` reads them).
pub fn first_time(
    doc: &Value,
    paths: &[&str],
    parse_number: impl Fn(i64) -> Option<crate::model::Timestamp>,
) -> Option<crate::model::Timestamp> {
    paths
        .iter()
        .find_map(|p| match super::json_path::get(doc, p)? {
            Value::String(s) => crate::model::Timestamp::parse_rfc3339(s)
                .or_else(|| s.trim().parse::<i64>().ok().and_then(&parse_number)),
            Value::Number(n) => n.as_i64().and_then(&parse_number),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entities, EventKind, Severity, SourceKind, Timestamp};

    fn event(title: &str) -> Record {
        Record::Event(Box::new(Event {
            ts: Timestamp(0),
            source: SourceKind::Sysdig,
            source_name: "t".into(),
            kind: EventKind::Log,
            severity: Severity::Info,
            title: title.into(),
            message: String::new(),
            entities: Entities::new(),
            process: None,
            tags: Vec::new(),
            raw: String::new(),
        }))
    }

    #[test]
    fn bad_lines_are_skipped_counted_and_sampled_and_arrays_are_read() {
        let input = b"[\n{\"a\":1},\n\n{\"a\":\n\xff\xfe\n[1,2]\n{\"skip\":true}\n{\"a\":2}\n]\n";
        let (parsed, err) = parse(&input[..], "", |v, raw| {
            if v.get("skip").is_some() {
                return Ok(Record::Ignored);
            }
            assert!(raw.starts_with('{') && !raw.ends_with(','));
            Ok(event(&v["a"].to_string()))
        });
        assert!(err.is_none());
        let titles: Vec<&str> = parsed.events.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["1", "2"]);
        assert_eq!(parsed.ignored, 1);
        assert_eq!(parsed.skipped.skipped, 3);
        let lines: Vec<usize> = parsed.skipped.samples.iter().map(|s| s.line).collect();
        assert_eq!(lines, [4, 5, 6]);
        assert!(parsed.skipped.samples[0].reason.starts_with("not JSON"));
        assert!(parsed.skipped.samples[1].reason.starts_with("not UTF-8"));
        assert_eq!(parsed.skipped.samples[2].reason, "not a JSON object");
    }
}
