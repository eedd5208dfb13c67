//! What a case bundle holds (BUNDLE.md): the member names in their fixed order, the manifest,
//! and the limits an import holds any bundle to.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const FORMAT: &str = "casefile-bundle";
pub const VERSION: u32 = 1;

pub const MANIFEST: &str = "manifest.json";
pub const MANIFEST_SUM: &str = "manifest.json.sha256";
pub const EVENTS: &str = "events.jsonl.gz";
pub const SERIES: &str = "series.jsonl.gz";
pub const MARKS: &str = "marks.json";
pub const CHAINS: &str = "chains.json";
pub const SIGNATURE: &str = "signature.ed25519";

/// The data members the manifest lists, in the order they are written.
pub const DATA_MEMBERS: [&str; 4] = [EVENTS, SERIES, MARKS, CHAINS];

/// No member may declare more than this (a bundle of 100,000 events is about 15 MB).
pub const MAX_MEMBER_BYTES: u64 = 4 << 30;
/// The manifest and its checksum are small; a big one is not ours.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;
/// A gzip member may expand at most this many times (JSON lines compress 5–10×; the demo
/// 8×).
pub const MAX_EXPANSION: u64 = 64;
/// … and to at most this many bytes, whatever its ratio.
pub const MAX_EXPANDED_BYTES: u64 = 4 << 30;
/// The signature member is exactly this long.
pub const SIGNATURE_BYTES: u64 = 8 + 64 + 1 + 128 + 1;
/// ustar holds a time in 11 octal digits.
pub const MAX_TIME: i64 = 0o77777777777;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// `casefile 0.1.0`.
    pub tool: String,
    /// RFC 3339, seconds; `SOURCE_DATE_EPOCH` pins it.
    pub created_at: String,
    /// The first and last event's time (RFC 3339, nanoseconds), when there are events.
    pub time_range: Option<[String; 2]>,
    /// What chose the events: the pivots, the window and the search.
    pub selection: Selection,
    /// Each source with the query that was run (never credentials).
    pub sources: Vec<SourceEntry>,
    /// The pivots the responder went through, and the one they were at.
    pub pivot_history: PivotHistory,
    pub counts: Counts,
    /// What redaction removed, by rule: counts, never values.
    pub redacted: BTreeMap<String, u64>,
    /// How fast the response went (time to detect, triage, export) and the events by
    /// category, source and severity. Absent in bundles written before casefile kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<crate::case_metrics::CaseMetrics>,
    /// Every data member, in archive order, with its size and SHA-256.
    pub members: Vec<MemberEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    pub pivots: Vec<String>,
    /// RFC 3339 bounds, when the window was limited.
    pub from: Option<String>,
    pub to: Option<String>,
    pub search: Option<String>,
    /// Everything loaded, whatever the pivot (the TUI's "all").
    pub all: bool,
}

impl Selection {
    /// What a query and a search chose.
    pub fn of(query: &crate::store::Query, search: Option<String>) -> Selection {
        let w = query.window;
        Selection {
            pivots: query.pivots.iter().map(|p| p.to_string()).collect(),
            from: (w.start != crate::model::Timestamp::MIN).then(|| w.start.to_rfc3339()),
            to: (w.end != crate::model::Timestamp::MAX).then(|| w.end.to_rfc3339()),
            search,
            all: false,
        }
    }

    /// Every event loaded, whatever the pivot.
    pub fn everything() -> Selection {
        Selection {
            all: true,
            ..Selection::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEntry {
    pub name: String,
    pub kind: String,
    pub query: String,
    pub events: u64,
    pub series: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PivotHistory {
    pub steps: Vec<Vec<String>>,
    pub at: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub events: u64,
    pub series: u64,
    pub samples: u64,
    pub marks: u64,
    pub chains: u64,
    pub by_source: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEntry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// Lowercase hex of SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A record's digest in the event log: the first 16 hex digits of its SHA-256, enough to say
/// which record changed (the member's full SHA-256 is what proves it).
pub fn record_digest(bytes: &[u8]) -> String {
    sha256_hex(bytes)[..16].to_string()
}
