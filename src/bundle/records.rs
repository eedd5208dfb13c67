//! The records inside the members: one event a line (with its sequence number and digest, so
//! `verify` can name the first bad record), one series a line, the marks and the chains.

use super::format::record_digest;
use crate::model::{
    Entities, EntityKey, Event, EventKind, Process, Series, Severity, SourceKind, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// An event as the bundle keeps it: everything the store holds, entities and categories as
/// they were when exported (a replay does not classify again).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRecord {
    /// Nanoseconds since the Unix epoch.
    pub ts: i64,
    pub source: String,
    pub source_name: String,
    pub kind: String,
    pub severity: String,
    pub title: String,
    pub message: String,
    pub entities: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    pub tags: Vec<String>,
    pub raw: String,
}

impl EventRecord {
    pub fn from_event(e: &Event) -> EventRecord {
        EventRecord {
            ts: e.ts.0,
            source: e.source.as_str().into(),
            source_name: e.source_name.clone(),
            kind: e.kind.as_str().into(),
            severity: e.severity.as_str().into(),
            title: e.title.clone(),
            message: e.message.clone(),
            entities: e
                .entities
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_string()))
                .collect(),
            process: e.process.clone(),
            tags: e.tags.clone(),
            raw: e.raw.clone(),
        }
    }

    pub fn into_event(self) -> Result<Event, String> {
        let source = SourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.source)
            .ok_or_else(|| format!("unknown source `{}`", self.source))?;
        let kind = EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.kind)
            .ok_or_else(|| format!("unknown kind `{}`", self.kind))?;
        let severity = Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == self.severity)
            .ok_or_else(|| format!("unknown severity `{}`", self.severity))?;
        let mut entities = Entities::new();
        for (k, v) in &self.entities {
            entities.add(k.parse::<EntityKey>()?, v);
        }
        Ok(Event {
            ts: Timestamp(self.ts),
            source,
            source_name: self.source_name,
            kind,
            severity,
            title: self.title,
            message: self.message,
            entities,
            process: self.process,
            tags: self.tags,
            raw: self.raw,
        })
    }
}

/// `{"seq":N,"digest":"…","event":{…}}`: the digest is over the event's JSON text exactly.
pub fn event_line(seq: u64, e: &Event) -> String {
    let event = serde_json::to_string(&EventRecord::from_event(e)).unwrap_or_default();
    format!(
        "{{\"seq\":{seq},\"digest\":\"{}\",\"event\":{event}}}",
        record_digest(event.as_bytes())
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventLine<'a> {
    seq: u64,
    digest: String,
    #[serde(borrow)]
    event: &'a RawValue,
}

/// Why a record is not the one exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadRecord {
    /// Not a record at all (cut, or bytes changed in its frame).
    Unreadable(String),
    /// Its sequence number is not the next one: records were removed, added or reordered.
    OutOfOrder { expected: u64, found: u64 },
    /// Its content no longer matches its digest.
    Changed,
    /// It reads, but is not an event casefile knows.
    Invalid(String),
}

impl std::fmt::Display for BadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadRecord::Unreadable(e) => write!(f, "is not a record ({e})"),
            BadRecord::OutOfOrder { expected, found } => write!(
                f,
                "has sequence number {found} where {expected} belongs (records removed, added or reordered)"
            ),
            BadRecord::Changed => f.write_str("was changed (its digest no longer matches)"),
            BadRecord::Invalid(e) => write!(f, "is not a valid event ({e})"),
        }
    }
}

/// Checks one line of the event log (its frame, place and digest) without decoding the
/// event; returns the event's JSON text.
pub fn check_event_line(line: &str, seq: u64) -> Result<&str, BadRecord> {
    let parsed: EventLine =
        serde_json::from_str(line).map_err(|e| BadRecord::Unreadable(e.to_string()))?;
    if parsed.seq != seq {
        return Err(BadRecord::OutOfOrder {
            expected: seq,
            found: parsed.seq,
        });
    }
    if record_digest(parsed.event.get().as_bytes()) != parsed.digest {
        return Err(BadRecord::Changed);
    }
    Ok(parsed.event.get())
}

/// Reads one line of the event log, which must carry `seq`.
pub fn read_event_line(line: &str, seq: u64) -> Result<Event, BadRecord> {
    let event = check_event_line(line, seq)?;
    let record: EventRecord =
        serde_json::from_str(event).map_err(|e| BadRecord::Invalid(e.to_string()))?;
    record.into_event().map_err(BadRecord::Invalid)
}

/// A series as one line. Values are strings (`"NaN"`, `"+Inf"` are Prometheus values JSON
/// numbers cannot hold), written so they read back to the same `f64`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesRecord {
    pub source: String,
    pub source_name: String,
    pub query: String,
    pub labels: BTreeMap<String, String>,
    pub entities: Vec<(String, String)>,
    pub samples: Vec<(i64, String)>,
}

impl SeriesRecord {
    pub fn from_series(s: &Series) -> SeriesRecord {
        SeriesRecord {
            source: s.source.as_str().into(),
            source_name: s.source_name.clone(),
            query: s.query.clone(),
            labels: s.labels.clone(),
            entities: s
                .entities
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_string()))
                .collect(),
            samples: s
                .samples
                .iter()
                .map(|(t, v)| (t.0, v.to_string()))
                .collect(),
        }
    }

    pub fn into_series(self) -> Result<Series, String> {
        let source = SourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.source)
            .ok_or_else(|| format!("unknown source `{}`", self.source))?;
        let mut entities = Entities::new();
        for (k, v) in &self.entities {
            entities.add(k.parse::<EntityKey>()?, v);
        }
        let samples = self
            .samples
            .into_iter()
            .map(|(t, v)| {
                v.parse::<f64>()
                    .map(|v| (Timestamp(t), v))
                    .map_err(|_| format!("`{v}` is not a number"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Series {
            source,
            source_name: self.source_name,
            query: self.query,
            labels: self.labels,
            entities,
            samples,
        })
    }
}

/// An analyst mark on the event with this sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRecord {
    pub seq: u64,
    pub star: bool,
    pub tags: Vec<String>,
    pub note: String,
    /// When the analyst made the mark (RFC 3339, nanoseconds): the analyst's clock, recorded
    /// as data. Absent in bundles written before casefile kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked_at: Option<String>,
}

/// A chain found, its steps by sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainRecord {
    pub rule: String,
    pub bound: BTreeMap<String, String>,
    pub steps: Vec<StepRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRecord {
    pub name: String,
    pub seq: u64,
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_line_reads_back_and_a_changed_one_is_named() {
        let loaded = crate::demo::load();
        let e = loaded.store.get(100).unwrap().to_event();
        let line = event_line(100, &e);
        assert_eq!(read_event_line(&line, 100).unwrap(), e);
        assert_eq!(
            read_event_line(&line, 101),
            Err(BadRecord::OutOfOrder {
                expected: 101,
                found: 100
            })
        );
        let changed = line.replacen("\"title\":\"", "\"title\":\"X", 1);
        assert_eq!(read_event_line(&changed, 100), Err(BadRecord::Changed));
        assert!(matches!(
            read_event_line(&line[..line.len() - 1], 100),
            Err(BadRecord::Unreadable(_))
        ));
    }

    #[test]
    fn a_process_start_and_parent_entity_id_survive_the_store_and_a_bundle() {
        let loaded = crate::demo::load();
        let mut e = loaded.store.get(100).unwrap().to_event();
        e.process = Some(Process {
            pid: Some(4243),
            ppid: Some(4200),
            name: Some("ssh".into()),
            entity_id: Some("c2c455d9f99375d".into()),
            start: Some(Timestamp(1_463_990_734_853_000_000)),
            parent_entity_id: Some("a8b1d4f3e2c19b7".into()),
            ..Process::default()
        });
        let mut store = crate::store::Store::new();
        store.ingest(vec![e.clone()]);
        let stored = store.get(0).unwrap().to_event();
        assert_eq!(stored.process, e.process);
        let line = event_line(7, &stored);
        assert!(line.contains("\"start\":1463990734853000000"), "{line}");
        assert_eq!(read_event_line(&line, 7).unwrap().process, e.process);
        // A bundle written before these fields existed still opens: they are absent.
        let mut old = e.clone();
        if let Some(p) = &mut old.process {
            p.start = None;
            p.parent_entity_id = None;
        }
        let old_line = event_line(8, &old);
        assert!(!old_line.contains("\"start\"") && !old_line.contains("parent_entity_id"));
        assert_eq!(read_event_line(&old_line, 8).unwrap(), old);
    }

    #[test]
    fn series_values_round_trip_exactly_even_when_not_finite() {
        let loaded = crate::demo::load();
        let mut s = loaded.store.series()[0].clone();
        s.samples.push((Timestamp(1), f64::NAN));
        s.samples.push((Timestamp(2), f64::INFINITY));
        s.samples.push((Timestamp(3), 0.1 + 0.2));
        let text = serde_json::to_string(&SeriesRecord::from_series(&s)).unwrap();
        let back = serde_json::from_str::<SeriesRecord>(&text)
            .unwrap()
            .into_series()
            .unwrap();
        assert_eq!(back.labels, s.labels);
        assert_eq!(back.samples.len(), s.samples.len());
        for (a, b) in back.samples.iter().zip(&s.samples) {
            assert_eq!(a.0, b.0);
            assert_eq!(a.1.to_bits(), b.1.to_bits());
        }
    }
}
