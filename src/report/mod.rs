//! `casefile report CASE.casefile [-o FILE] [--format md|html]`: the post-incident timeline of
//! a case bundle, for the review. The bundle is checked first as `verify` checks it (nothing
//! is reported from a bundle that is not intact); then the report gives the summary, the case
//! metrics, the entities involved, the chains, the marked events with their notes in time
//! order, and a verification line with the file's SHA-256.
//!
//! Everything in a bundle is someone else's text, the manifest included (a bundle can be
//! intact and still written by an attacker): every piece of it is escaped for the format
//! ([`markdown::text`], [`html::text`]). The output depends only on the bundle's bytes and its
//! file name, never on the clock.

pub mod html;
pub mod markdown;
pub mod svg;

use crate::bundle::format::{self, Manifest};
use crate::bundle::open::{self, Opened};
use crate::bundle::records::{ChainRecord, MarkRecord};
use crate::case_metrics::alerts::{self, OptionalSteps};
use crate::case_metrics::{CaseMetrics, EventTally, Inputs};
use crate::cli::{ReportArgs, ReportFormat};
use crate::model::{EntityKey, Event, Series, Timestamp};
use std::collections::BTreeMap;
use std::path::Path;

/// The entity keys the report lists, in this order (categories are in the metrics; pids
/// mean little without their host).
pub const ENTITY_KEYS: [EntityKey; 9] = [
    EntityKey::User,
    EntityKey::Ip,
    EntityKey::Host,
    EntityKey::Container,
    EntityKey::Pod,
    EntityKey::Namespace,
    EntityKey::Image,
    EntityKey::Commit,
    EntityKey::Rule,
];

/// The categories in the order the README and the TUI list them.
pub const CATEGORY_ORDER: [&str; 7] = [
    "authentication",
    "authorization",
    "runtime",
    "network",
    "cicd",
    "secrets",
    "file_integrity",
];

/// The severities, most severe first.
pub const SEVERITY_ORDER: [&str; 6] = ["critical", "error", "warning", "notice", "info", "debug"];

/// A count table's rows: the names of `order` first, in that order, then any other name.
pub fn in_order<'a>(counts: &'a BTreeMap<String, u64>, order: &[&str]) -> Vec<(&'a str, u64)> {
    let mut rows: Vec<(&str, u64)> = order
        .iter()
        .filter_map(|k| counts.get_key_value(*k).map(|(k, n)| (k.as_str(), *n)))
        .collect();
    rows.extend(
        counts
            .iter()
            .filter(|(k, _)| !order.contains(&k.as_str()))
            .map(|(k, n)| (k.as_str(), *n)),
    );
    rows
}

/// How many values of each entity key the report names.
pub const TOP_ENTITIES: usize = 8;

/// A bundle checked and decoded, with what the report derives from it.
pub struct Report {
    /// The file's name (not its directory: the report reads the same wherever it is).
    pub name: String,
    /// SHA-256 of the whole file, of the bytes that were checked.
    pub sha256: String,
    /// The public key a valid signature is by (hex), when signed.
    pub signed_by: Option<String>,
    pub manifest: Manifest,
    pub events: Vec<Event>,
    pub series: Vec<Series>,
    pub marks: Vec<MarkRecord>,
    pub chains: Vec<ChainRecord>,
    pub metrics: CaseMetrics,
    /// The metrics are the manifest's (recorded at export), not computed by the report.
    pub metrics_recorded: bool,
    /// Which chain steps the rules in use call optional.
    pub optional: &'static OptionalSteps,
}

/// The most frequent values of one entity key.
pub struct EntityValues<'a> {
    pub key: EntityKey,
    /// At most [`TOP_ENTITIES`] values, with how many events carry each, most first.
    pub top: Vec<(&'a str, u64)>,
    /// How many other values there are.
    pub more: usize,
}

/// One chain step for display.
pub struct StepRow<'a> {
    pub number: usize,
    pub name: &'a str,
    pub optional: bool,
    pub count: u64,
    pub event: &'a Event,
}

impl Report {
    /// Reads and checks a bundle. The file is read once, and the bytes hashed are the bytes
    /// checked.
    pub fn open(path: &Path) -> Result<Report, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Report::from_bytes(&name, &bytes)
    }

    /// [`Report::open`] on a bundle's bytes, named `name`.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Report, String> {
        let opened = open::check_from(&mut std::io::Cursor::new(bytes), bytes.len() as u64)
            .map_err(|r| {
                format!(
                    "{}: not intact: {r} (no report is made from a bundle that does not verify)",
                    crate::sanitize::line(name)
                )
            })?;
        Ok(Report::of(name, format::sha256_hex(bytes), opened))
    }

    fn of(name: &str, sha256: String, opened: Opened) -> Report {
        let optional = OptionalSteps::current();
        let (metrics, metrics_recorded) = match &opened.manifest.metrics {
            Some(m) => (m.clone(), true),
            None => (computed_metrics(&opened, optional), false),
        };
        Report {
            name: name.to_string(),
            sha256,
            signed_by: opened.signed_by.as_ref().map(|k| format::hex(k.as_bytes())),
            manifest: opened.manifest,
            events: opened.events,
            series: opened.series,
            marks: opened.marks,
            chains: opened.chains,
            metrics,
            metrics_recorded,
            optional,
        }
    }

    /// The first and last event's time.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        Some((self.events.first()?.ts, self.events.last()?.ts))
    }

    /// The most frequent values of each entity key, with how many events carry each: the
    /// keys that have any, at most [`TOP_ENTITIES`] values each, and how many more there are.
    pub fn entities(&self) -> Vec<EntityValues<'_>> {
        let mut counts: BTreeMap<EntityKey, BTreeMap<&str, u64>> = BTreeMap::new();
        for e in &self.events {
            for (k, v) in e.entities.iter() {
                if ENTITY_KEYS.contains(&k) {
                    *counts.entry(k).or_default().entry(v).or_default() += 1;
                }
            }
        }
        ENTITY_KEYS
            .iter()
            .filter_map(|k| {
                let values = counts.remove(k)?;
                let mut values: Vec<(&str, u64)> = values.into_iter().collect();
                // Most events first; ties by value, so the order never depends on a hash.
                values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                let more = values.len().saturating_sub(TOP_ENTITIES);
                values.truncate(TOP_ENTITIES);
                Some(EntityValues {
                    key: *k,
                    top: values,
                    more,
                })
            })
            .collect()
    }

    /// The marked events in time order, each with its mark.
    pub fn marked(&self) -> Vec<(&MarkRecord, &Event)> {
        let mut out: Vec<(&MarkRecord, &Event)> = self
            .marks
            .iter()
            .filter_map(|m| Some((m, self.events.get(m.seq as usize)?)))
            .collect();
        out.sort_by_key(|(m, e)| (e.ts, m.seq));
        out
    }

    /// A chain's steps with their events.
    pub fn steps<'a>(&'a self, chain: &'a ChainRecord) -> Vec<StepRow<'a>> {
        chain
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                Some(StepRow {
                    number: i + 1,
                    name: &s.name,
                    optional: self.optional.is_optional(&chain.rule, &s.name),
                    count: s.count,
                    event: self.events.get(s.seq as usize)?,
                })
            })
            .collect()
    }

    /// When a chain fires as an alert (its last required step).
    pub fn fires_at(&self, chain: &ChainRecord) -> Option<Timestamp> {
        let steps = self.steps(chain);
        alerts::from_steps(
            &chain.rule,
            steps.iter().map(|s| (s.name, s.event.ts)),
            self.optional,
        )
        .map(|a| a.at)
    }

    /// `intact · signed by … · sha256 …`, the facts of the verification line.
    pub fn signature_text(&self) -> String {
        match &self.signed_by {
            Some(key) => format!(
                "Signed: the signature holds for key {key} (`casefile verify --pubkey` checks whose it is)"
            ),
            None => "Not signed".to_string(),
        }
    }
}

/// The metrics of a bundle written before casefile recorded them, from what it holds: its
/// chains as alerts, its marks (no time recorded: no time to triage) and its creation time
/// as the export.
fn computed_metrics(opened: &Opened, optional: &OptionalSteps) -> CaseMetrics {
    let mut events = EventTally::default();
    for e in &opened.events {
        events.add_event(e);
    }
    let alerts = opened
        .chains
        .iter()
        .filter_map(|c| {
            let steps = c
                .steps
                .iter()
                .map(|s| Some((s.name.as_str(), opened.events.get(s.seq as usize)?.ts)))
                .collect::<Option<Vec<_>>>()?;
            alerts::from_steps(&c.rule, steps, optional)
        })
        .collect();
    let mut metrics = CaseMetrics::compute(&Inputs {
        events,
        alerts,
        marks: opened
            .marks
            .iter()
            .map(|m| m.marked_at.as_deref().and_then(Timestamp::parse_rfc3339))
            .collect(),
        exported_at: Timestamp::parse_rfc3339(&opened.manifest.created_at),
        origin: Default::default(),
    });
    metrics.notes.insert(
        0,
        "computed by the report: the bundle was written before casefile recorded its metrics"
            .into(),
    );
    metrics
}

/// A time as the report shows it: `2026-11-20 12:58:20.327`.
pub fn time_text(t: Timestamp) -> String {
    format!("{} {}", t.date(), t.clock_millis())
}

/// A manifest's RFC 3339 time as the report shows it; the text itself when it does not read.
pub fn rfc3339_text(s: &str) -> String {
    match Timestamp::parse_rfc3339(s) {
        Some(t) => time_text(t),
        None => s.to_string(),
    }
}

/// The bundle's creation time, which is in whole seconds: `2026-11-20 13:00:00`.
pub fn created_text(s: &str) -> String {
    match Timestamp::parse_rfc3339(s) {
        Some(t) => format!("{} {}", t.date(), &t.clock_millis()[..8]),
        None => s.to_string(),
    }
}

/// `1 source`, `6 sources`.
pub fn plural(n: u64, noun: &str) -> String {
    format!(
        "{} {noun}{}",
        crate::ui::text::thousands(n as usize),
        if n == 1 { "" } else { "s" }
    )
}

/// The report of the bundle at `path` in `format`.
pub fn render(path: &Path, format: ReportFormat) -> Result<String, String> {
    let report = Report::open(path)?;
    Ok(match format {
        ReportFormat::Md => markdown::render(&report),
        ReportFormat::Html => html::render(&report),
    })
}

/// The command: the report written to `-o` (atomically), or returned for stdout.
pub fn run(args: &ReportArgs) -> Result<Option<String>, String> {
    let text = render(&args.path, args.format)?;
    match &args.output {
        Some(out) => {
            crate::bundle::export::write_atomic(out, text.as_bytes())?;
            Ok(None)
        }
        None => Ok(Some(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_orders_are_the_models() {
        let categories = crate::model::Category::ALL.map(|c| c.as_str());
        assert_eq!(CATEGORY_ORDER, categories);
        let severities = crate::model::Severity::ALL.map(|s| s.as_str());
        assert_eq!(SEVERITY_ORDER, severities);
    }
}
