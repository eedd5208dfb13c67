//! Case metrics (README "Case metrics and the post-incident report"): how fast the response
//! went, so teams can hold it to SLAs, and what the case holds, by category, source and
//! severity. Computed at export into the bundle's manifest (BUNDLE.md), shown in the TUI and
//! in `casefile report`.
//!
//! Definitions:
//! - an **alert** is `(when it fired, its earliest evidence, its name)`. Today the alerts are
//!   the attack chains found: a chain fires at its last required (not optional) step's event
//!   and its earliest evidence is its earliest step's event ([`alerts::from_chain`]). Live
//!   alert rules can be fed in as more [`Alert`]s.
//! - the **first alert** is the one that fired first; the **first signal** is its earliest
//!   evidence. With no alert, the first signal is the earliest event at severity warning or
//!   worse that has a security category.
//! - the **first mark** is the earliest time an analyst starred, tagged or annotated an event
//!   (`marked_at`), among marks made at or after the first signal.
//! - **time to detect** = first alert − first signal;
//!   **time to triage** = first mark − first alert (− first signal when there is no alert);
//!   **time to export** = export − first signal.
//!
//! A value that is not known is absent, never 0. Times that cannot be compared are not
//! compared, and a note says why ([`CaseMetrics::notes`]):
//! - on the demo ([`Origin::Demo`]) the events keep their recorded times while marks and the
//!   export are made whenever the demo runs: no time to triage or to export;
//! - on a replayed bundle ([`Origin::Replay`]) the export is the bundle's first export, and
//!   marks made after it (in the review) are not triage;
//! - marks made before the first signal are not counted (the analyst's clock is behind the
//!   events', or they mark earlier, unrelated events), nor an export recorded before it (a
//!   pinned `SOURCE_DATE_EPOCH`, or a clock behind the events').

pub mod alerts;

use crate::model::{Event, Severity, SourceKind, Timestamp};
use crate::store::EventRef;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use alerts::Alert;

/// Where a case's events come from: whether the analyst's clock can be compared with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// Read from the sources during the response.
    #[default]
    Live,
    /// The built-in demo incident: its events keep their recorded times.
    Demo,
    /// A case bundle replayed. `exported_at` is its first export (the one during the
    /// response): its marks were made before it, and the review's marks after.
    Replay { exported_at: Timestamp },
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Live => "live",
            Origin::Demo => "demo",
            Origin::Replay { .. } => "replay",
        }
    }

    /// A bundle being replayed: its first export is the one its metrics name, else its own.
    /// A bundle of the demo stays the demo.
    pub fn of_bundle(manifest: &crate::bundle::format::Manifest) -> Origin {
        let metrics = manifest.metrics.as_ref();
        if metrics.is_some_and(|m| m.origin == Origin::Demo.as_str()) {
            return Origin::Demo;
        }
        let first = metrics
            .and_then(|m| m.exported_at.as_deref())
            .unwrap_or(&manifest.created_at);
        Origin::Replay {
            // `open` checked that `created_at` reads.
            exported_at: Timestamp::parse_rfc3339(first).unwrap_or_default(),
        }
    }
}

/// A point of the response: when, and what it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moment {
    /// RFC 3339, nanoseconds.
    pub at: String,
    pub what: String,
}

impl Moment {
    fn new(at: Timestamp, what: impl Into<String>) -> Moment {
        Moment {
            at: at.to_rfc3339(),
            what: what.into(),
        }
    }

    pub fn time(&self) -> Option<Timestamp> {
        Timestamp::parse_rfc3339(&self.at)
    }
}

/// The metrics of a case, as the manifest keeps them (`metrics`, BUNDLE.md). Durations are in
/// nanoseconds; absent when not known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseMetrics {
    /// `live`, `demo` or `replay` (see [`Origin`]).
    pub origin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_signal: Option<Moment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_alert: Option<Moment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_mark: Option<Moment>,
    /// The export the time to export runs to (on a replay: the bundle's first export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exported_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_detect_ns: Option<i64>,
    /// Negative when an analyst marked the case before the first alert fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_triage_ns: Option<i64>,
    /// What the time to triage runs from: `alert`, or `signal` when there is no alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_export_ns: Option<i64>,
    /// How many alerts there are (chains found).
    pub alerts: u64,
    /// Events in each of the seven categories (an event can be in several), every category
    /// listed.
    pub by_category: BTreeMap<String, u64>,
    /// Events by source kind, those present.
    pub by_source: BTreeMap<String, u64>,
    /// Events by severity, every severity listed.
    pub by_severity: BTreeMap<String, u64>,
    /// Why a value is absent, or what to keep in mind reading one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The counts over a case's events, one event at a time (an export streams them), and the
/// earliest security event, the first signal when there is no alert.
#[derive(Debug, Clone, Default)]
pub struct EventTally {
    pub events: u64,
    by_category: BTreeMap<String, u64>,
    by_source: BTreeMap<String, u64>,
    by_severity: BTreeMap<String, u64>,
    first_security: Option<(Timestamp, String)>,
}

impl EventTally {
    pub fn add<'a>(
        &mut self,
        ts: Timestamp,
        source: SourceKind,
        severity: Severity,
        categories: impl IntoIterator<Item = &'a str>,
        title: &str,
    ) {
        self.events += 1;
        *self.by_source.entry(source.as_str().into()).or_default() += 1;
        *self
            .by_severity
            .entry(severity.as_str().into())
            .or_default() += 1;
        let mut security = false;
        for c in categories {
            security = true;
            *self.by_category.entry(c.to_string()).or_default() += 1;
        }
        // Severity orders the most severe first.
        if security
            && severity <= Severity::Warning
            && self.first_security.as_ref().is_none_or(|(t, _)| ts < *t)
        {
            self.first_security = Some((ts, title.to_string()));
        }
    }

    /// The counts of every event in a store, for the TUI: categories from the entity index,
    /// sources and severities in one pass over the rows, and the first security event found
    /// from the earliest (positions are in time order).
    pub fn of_store(store: &crate::store::Store) -> EventTally {
        use crate::model::{Category, EntityKey};
        let mut tally = EventTally {
            events: store.len() as u64,
            ..EventTally::default()
        };
        for (kind, n) in SourceKind::ALL.iter().zip(store.counts_by_source()) {
            if n > 0 {
                tally.by_source.insert(kind.as_str().into(), n as u64);
            }
        }
        for c in Category::ALL {
            let n = store.entity_count(EntityKey::Category, c.as_str());
            tally.by_category.insert(c.as_str().into(), n as u64);
        }
        let mut by_severity = [0u64; Severity::ALL.len()];
        for pos in 0..store.len() as u32 {
            let Some(e) = store.get(pos) else { continue };
            let severity = e.severity();
            by_severity[severity as usize] += 1;
            if tally.first_security.is_none()
                && severity <= Severity::Warning
                && e.entities().any(|(k, _)| k == EntityKey::Category)
            {
                tally.first_security = Some((e.ts(), e.title().to_string()));
            }
        }
        for (s, n) in Severity::ALL.iter().zip(by_severity) {
            tally.by_severity.insert(s.as_str().into(), n);
        }
        tally
    }

    pub fn add_event(&mut self, e: &Event) {
        let categories = e.entities.values(crate::model::EntityKey::Category);
        self.add(e.ts, e.source, e.severity, categories, &e.title);
    }

    pub fn add_ref(&mut self, e: &EventRef<'_>) {
        let categories = e
            .entities()
            .filter(|(k, _)| *k == crate::model::EntityKey::Category)
            .map(|(_, v)| v);
        self.add(e.ts(), e.source(), e.severity(), categories, e.title());
    }
}

/// Everything the metrics are computed from.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub events: EventTally,
    pub alerts: Vec<Alert>,
    /// When each mark was made; `None` for a mark from a bundle that did not record it.
    pub marks: Vec<Option<Timestamp>>,
    /// The export (a bundle's `created_at`); `None` before any export.
    pub exported_at: Option<Timestamp>,
    pub origin: Origin,
}

/// `10m 44s`, `2h 05m 10s`, `3d 4h`, `350ms`; `−2m 10s` when negative.
pub fn duration_text(ns: i64) -> String {
    let sign = if ns < 0 { "−" } else { "" };
    let ns = ns.unsigned_abs();
    let ms = ns / 1_000_000;
    let s = ns / 1_000_000_000;
    let text = match s {
        0 if ns > 0 && ms == 0 => format!("{}µs", ns / 1000),
        0 => format!("{ms}ms"),
        1..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h {:02}m {:02}s", s / 3600, s % 3600 / 60, s % 60),
        _ => format!("{}d {}h {:02}m", s / 86400, s % 86400 / 3600, s % 3600 / 60),
    };
    format!("{sign}{text}")
}

impl CaseMetrics {
    pub fn compute(inputs: &Inputs) -> CaseMetrics {
        let mut notes = Vec::new();
        let first_alert = inputs
            .alerts
            .iter()
            .min_by(|a, b| (a.at, a.first_evidence).cmp(&(b.at, b.first_evidence)));
        // The first signal is the earliest evidence any alert holds: a later alert can hold
        // older evidence (a chain starting with the failed logins, fired after a critical
        // event of its own).
        let earliest = inputs
            .alerts
            .iter()
            .min_by_key(|a| (a.first_evidence, a.at));
        let signal: Option<(Timestamp, String)> = match earliest {
            Some(a) => Some((
                a.first_evidence,
                format!("the earliest evidence of {}", a.name),
            )),
            None => inputs.events.first_security.clone(),
        };
        if first_alert.is_none() {
            notes.push(match &signal {
                Some(_) => "no alert: the first signal is the earliest event at warning or worse with a security category, and there is no time to detect".to_string(),
                None => "no alert and no event at warning or worse with a security category: no first signal, and no time to detect, triage or export".to_string(),
            });
        }
        let signal_at = signal.as_ref().map(|(t, _)| *t);
        let time_to_detect_ns = first_alert
            .zip(signal_at)
            .map(|(a, s)| a.at.0.saturating_sub(s.0));

        // The first mark: the earliest made at or after the first signal; on a replay, made
        // by the export (the response's, not the review's).
        let mut first_mark = None;
        let untimed = inputs.marks.iter().filter(|m| m.is_none()).count();
        let timed: Vec<Timestamp> = inputs.marks.iter().flatten().copied().collect();
        match inputs.origin {
            Origin::Demo if !inputs.marks.is_empty() || inputs.exported_at.is_some() => {
                notes.push("the demo's events keep their recorded times while marks and the export are made whenever the demo runs: no time to triage or to export".into());
            }
            Origin::Demo => {}
            _ => {
                let review_after = match inputs.origin {
                    Origin::Replay { exported_at } => Some(exported_at),
                    _ => None,
                };
                let mut early = 0;
                let mut review = 0;
                for &t in &timed {
                    if signal_at.is_some_and(|s| t < s) {
                        early += 1;
                    } else if review_after.is_some_and(|r| t > r) {
                        review += 1;
                    } else if signal_at.is_some() && first_mark.is_none_or(|f| t < f) {
                        first_mark = Some(t);
                    }
                }
                if early > 0 {
                    notes.push(format!(
                        "{} made before the first signal not counted: the analyst's clock is behind the events', or they mark earlier events",
                        marks_text(early)
                    ));
                }
                if review > 0 {
                    notes.push(format!(
                        "{} made in the review, after the bundle's first export, not counted as triage",
                        marks_text(review)
                    ));
                }
                if untimed > 0 {
                    notes.push(format!(
                        "{} without the time they were made (a bundle from before casefile recorded it)",
                        marks_text(untimed)
                    ));
                }
            }
        }
        let triage_base = first_alert
            .map(|a| (a.at, "alert"))
            .or(signal_at.map(|s| (s, "signal")));
        let (time_to_triage_ns, triage_from) = match (first_mark, triage_base) {
            (Some(m), Some((base, from))) => (Some(m.0.saturating_sub(base.0)), Some(from)),
            _ => (None, None),
        };
        if let Some(t) = time_to_triage_ns.filter(|t| *t < 0) {
            notes.push(format!(
                "an analyst marked the case {} before the first alert fired",
                duration_text(-t)
            ));
        }

        let export = match inputs.origin {
            Origin::Demo => None,
            Origin::Replay { exported_at } => {
                notes.push(format!(
                    "a replay of a bundle first exported at {}: the time to export runs to that export",
                    exported_at.to_rfc3339()
                ));
                Some(exported_at)
            }
            Origin::Live => inputs.exported_at,
        };
        let time_to_export_ns = match (export, signal_at) {
            (Some(e), Some(s)) if e >= s => Some(e.0.saturating_sub(s.0)),
            (Some(_), Some(_)) => {
                notes.push("the export's recorded time is before the first signal (a pinned SOURCE_DATE_EPOCH, or a clock behind the events'): no time to export".into());
                None
            }
            _ => None,
        };

        let mut by_category: BTreeMap<String, u64> = crate::model::Category::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), 0))
            .collect();
        for (c, n) in &inputs.events.by_category {
            *by_category.entry(c.clone()).or_default() += n;
        }
        let mut by_severity: BTreeMap<String, u64> = Severity::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), 0))
            .collect();
        for (s, n) in &inputs.events.by_severity {
            *by_severity.entry(s.clone()).or_default() += n;
        }
        CaseMetrics {
            origin: inputs.origin.as_str().into(),
            first_signal: signal.map(|(t, what)| Moment::new(t, what)),
            first_alert: first_alert.map(|a| Moment::new(a.at, a.name.clone())),
            first_mark: first_mark.map(|t| Moment::new(t, "the first analyst mark")),
            exported_at: export.map(|t| t.to_rfc3339()),
            time_to_detect_ns,
            time_to_triage_ns,
            triage_from: triage_from.map(str::to_string),
            time_to_export_ns,
            alerts: inputs.alerts.len() as u64,
            by_category,
            by_source: inputs.events.by_source.clone(),
            by_severity,
            notes,
        }
    }

    /// The three durations with their names, for display: `(name, value, from → to)`.
    pub fn durations(&self) -> [(&'static str, Option<i64>, String); 3] {
        let triage_from = match self.triage_from.as_deref() {
            Some("signal") => "first signal",
            _ => "first alert",
        };
        [
            (
                "time to detect",
                self.time_to_detect_ns,
                "first signal → first alert".into(),
            ),
            (
                "time to triage",
                self.time_to_triage_ns,
                format!("{triage_from} → first mark"),
            ),
            (
                "time to export",
                self.time_to_export_ns,
                "first signal → export".into(),
            ),
        ]
    }
}

fn marks_text(n: usize) -> String {
    if n == 1 {
        "1 mark".into()
    } else {
        format!("{n} marks")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn alert(at: &str, from: &str) -> Alert {
        Alert {
            at: t(at),
            first_evidence: t(from),
            name: "brute force".into(),
        }
    }

    fn tally() -> EventTally {
        let mut tally = EventTally::default();
        tally.add(
            t("2026-11-20T12:00:00Z"),
            SourceKind::Loki,
            Severity::Info,
            ["authentication"],
            "login",
        );
        tally.add(
            t("2026-11-20T12:10:00Z"),
            SourceKind::Falco,
            Severity::Warning,
            ["runtime", "network"],
            "shell",
        );
        tally.add(
            t("2026-11-20T12:05:00Z"),
            SourceKind::Falco,
            Severity::Critical,
            [],
            "no category",
        );
        tally
    }

    #[test]
    fn durations_run_from_the_first_signal_through_alert_mark_and_export() {
        let inputs = Inputs {
            events: tally(),
            alerts: vec![
                alert("2026-11-20T13:00:00Z", "2026-11-20T12:30:00Z"),
                alert("2026-11-20T12:45:00Z", "2026-11-20T12:40:00Z"),
            ],
            marks: vec![
                Some(t("2026-11-20T12:50:30Z")),
                Some(t("2026-11-20T12:47:00Z")),
                None,
            ],
            exported_at: Some(t("2026-11-20T14:00:00Z")),
            origin: Origin::Live,
        };
        let m = CaseMetrics::compute(&inputs);
        // The first signal is the earliest evidence of any alert: the later alert's, 12:30.
        assert_eq!(m.first_signal.unwrap().at, "2026-11-20T12:30:00.000000000Z");
        // The first alert fired at 12:45: 15 minutes to detect.
        assert_eq!(m.first_alert.unwrap().at, "2026-11-20T12:45:00.000000000Z");
        assert_eq!(m.time_to_detect_ns, Some(15 * 60 * 1_000_000_000));
        assert_eq!(m.time_to_triage_ns, Some(2 * 60 * 1_000_000_000));
        assert_eq!(m.triage_from.as_deref(), Some("alert"));
        assert_eq!(m.time_to_export_ns, Some(90 * 60 * 1_000_000_000));
        assert_eq!(m.by_category["runtime"], 1);
        assert_eq!(m.by_category["secrets"], 0, "every category listed");
        assert_eq!(m.by_severity["debug"], 0);
        assert_eq!(m.by_source["falco"], 2);
        assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
        assert!(m.notes[0].contains("1 mark without"));
    }

    #[test]
    fn without_an_alert_the_first_security_signal_starts_the_clock() {
        let inputs = Inputs {
            events: tally(),
            marks: vec![
                Some(t("2026-11-20T12:00:00Z")),
                Some(t("2026-11-20T12:20:00Z")),
            ],
            exported_at: Some(t("2026-11-20T12:11:00Z")),
            ..Inputs::default()
        };
        let m = CaseMetrics::compute(&inputs);
        // The critical event has no category; the warning with one is the signal.
        assert_eq!(m.first_signal.as_ref().unwrap().what, "shell");
        assert_eq!(m.time_to_detect_ns, None, "no alert: not 0");
        assert_eq!(m.time_to_triage_ns, Some(10 * 60 * 1_000_000_000));
        assert_eq!(m.triage_from.as_deref(), Some("signal"));
        assert_eq!(m.time_to_export_ns, Some(60 * 1_000_000_000));
        assert!(m.notes.iter().any(|n| n.starts_with("no alert")));
        assert!(m.notes.iter().any(|n| n.starts_with("1 mark made before")));
    }

    #[test]
    fn the_demo_and_replays_do_not_report_their_own_clock() {
        let base = Inputs {
            events: tally(),
            alerts: vec![alert("2026-11-20T12:45:00Z", "2026-11-20T12:40:00Z")],
            marks: vec![Some(t("2026-11-23T09:00:00Z"))],
            exported_at: Some(t("2026-11-23T10:00:00Z")),
            origin: Origin::Demo,
        };
        let demo = CaseMetrics::compute(&base);
        assert_eq!(demo.time_to_detect_ns, Some(5 * 60 * 1_000_000_000));
        assert_eq!(
            (demo.time_to_triage_ns, demo.time_to_export_ns),
            (None, None)
        );
        assert!(demo.notes[0].contains("demo"));
        let replay = CaseMetrics::compute(&Inputs {
            marks: vec![
                Some(t("2026-11-23T09:00:00Z")),
                Some(t("2026-11-20T12:44:00Z")),
            ],
            origin: Origin::Replay {
                exported_at: t("2026-11-20T13:00:00Z"),
            },
            ..base.clone()
        });
        // Marked before the alert fired: a negative time to triage, said so.
        assert_eq!(replay.time_to_triage_ns, Some(-60 * 1_000_000_000));
        assert_eq!(replay.time_to_export_ns, Some(20 * 60 * 1_000_000_000));
        assert_eq!(
            replay.exported_at.as_deref(),
            Some("2026-11-20T13:00:00.000000000Z")
        );
        assert!(replay.notes.iter().any(|n| n.contains("in the review")));
        assert!(replay.notes.iter().any(|n| n.contains("1m 00s before")));
        // An export recorded before the signal (SOURCE_DATE_EPOCH) gives no time to export.
        let pinned = CaseMetrics::compute(&Inputs {
            exported_at: Some(t("2026-11-18T11:06:40Z")),
            origin: Origin::Live,
            ..base
        });
        assert_eq!(pinned.time_to_export_ns, None);
        assert!(pinned.notes.iter().any(|n| n.contains("SOURCE_DATE_EPOCH")));
    }

    #[test]
    fn durations_read_as_people_say_them() {
        let s = 1_000_000_000;
        assert_eq!(duration_text(350_000_000), "350ms");
        assert_eq!(duration_text(44 * s), "44s");
        assert_eq!(duration_text(644 * s + 676), "10m 44s");
        assert_eq!(
            duration_text(2 * 3600 * s + 5 * 60 * s + 3 * s),
            "2h 05m 03s"
        );
        assert_eq!(duration_text(3 * 86400 * s + 4 * 3600 * s), "3d 4h 00m");
        assert_eq!(duration_text(-130 * s), "−2m 10s");
    }
}
