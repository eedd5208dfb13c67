//! What the report says, worked out once from a checked bundle: plain values, neither escaped
//! nor laid out. [`super::markdown`] and [`super::html`] escape the bundle's text in them
//! (every [`Span::Text`] and [`Span::Code`], and every field taken from the bundle) and lay
//! them out, each in its own markup.

use super::Report;
use crate::bundle::records::{ChainRecord, MarkRecord, StepRecord};
use crate::case_metrics::{alerts, duration_text, Moment};
use crate::model::{EntityKey, Event, Timestamp};
use crate::ui::text::thousands;
use std::collections::BTreeMap;

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

/// How many values of each entity key the report names.
pub const TOP_ENTITIES: usize = 8;

/// What a starred mark says.
pub const STARRED: &str = "★ starred";

/// A piece of a line.
#[derive(Clone)]
pub enum Span {
    /// The report's own words and numbers, written as they are.
    Own(String),
    /// The bundle's text.
    Text(String),
    /// The bundle's text that HTML sets as code (a pivot, a query).
    Code(String),
    /// A time, set in a monospace font in HTML.
    Time(String),
    /// The report's own words, muted in HTML.
    Muted(&'static str),
}

/// A line of the report, or a table cell.
pub type Line = Vec<Span>;

/// How a table's column is set: numbers to the right, times in a monospace font in HTML.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Text,
    Number,
    Time,
}

/// A table: its columns' heads, and its rows of cells.
pub struct Table {
    pub head: Vec<(&'static str, Column)>,
    pub rows: Vec<Vec<Line>>,
}

impl Table {
    /// A count table: `title` and `events`, a row each name.
    pub fn counts(title: &'static str, rows: &[(&str, u64)]) -> Table {
        Table {
            head: vec![(title, Column::Text), ("events", Column::Number)],
            rows: rows
                .iter()
                .map(|(k, n)| vec![vec![Span::Text(k.to_string())], vec![own(count(*n))]])
                .collect(),
        }
    }
}

/// The most frequent values of one entity key.
pub struct EntityValues<'a> {
    pub key: &'static str,
    /// At most [`TOP_ENTITIES`] values, with how many events carry each, most first.
    pub top: Vec<(&'a str, String)>,
    /// `and 3 more`, when there are other values.
    pub more: Option<String>,
}

/// An attack chain.
pub struct Chain<'a> {
    pub rule: &'a str,
    /// The values it is joined on, each `key=value`.
    pub bound: Vec<Line>,
    /// When it fires as an alert (its last required step).
    pub fires: Option<Line>,
    pub steps: Table,
}

/// A marked event, with its mark.
pub struct Marked<'a> {
    pub mark: &'a MarkRecord,
    pub event: &'a Event,
    pub time: String,
    /// `marked 2026-11-20 12:35:00.000 UTC`, or that the time is not recorded.
    pub marked: String,
}

impl Report {
    /// The line under the title: the events, their sources and time, and the export.
    pub fn lead(&self) -> Line {
        let m = &self.manifest;
        let span = match self.span() {
            Some((a, b)) => format!(
                ", {} – {} UTC ({})",
                time_text(a),
                time_text(b),
                duration_text(b.0.saturating_sub(a.0))
            ),
            None => String::new(),
        };
        let mut line = vec![own(format!(
            "{} events from {}{span}, exported ",
            count(m.counts.events),
            plural(m.sources.len() as u64, "source"),
        ))];
        line.extend(self.exported());
        line.push(own("."));
        line
    }

    /// `2026-11-20 13:00:00 UTC by casefile 0.1.0`.
    fn exported(&self) -> Line {
        let m = &self.manifest;
        vec![
            Span::Text(created_text(&m.created_at)),
            own(" UTC by "),
            Span::Text(m.tool.clone()),
        ]
    }

    /// The summary table: each row's name and value.
    pub fn summary(&self) -> Vec<(&'static str, Line)> {
        let m = &self.manifest;
        let events = match self.span() {
            Some((a, b)) => vec![
                own(format!("{} from ", count(m.counts.events))),
                Span::Time(time_text(a)),
                own(" to "),
                Span::Time(time_text(b)),
                own(" UTC"),
            ],
            None => vec![own("none")],
        };
        let mut rows = vec![("Events", events)];
        if !m.counts.by_source.is_empty() {
            let by_source = m.counts.by_source.iter().map(|(k, n)| named(k, *n));
            rows.push(("By source", joined(by_source, " · ")));
        }
        let series = format!(
            "{} ({} samples)",
            count(m.counts.series),
            count(m.counts.samples)
        );
        rows.extend([
            ("Attack chains", vec![own(count(m.counts.chains))]),
            ("Marked events", vec![own(count(m.counts.marks))]),
            ("Metric series", vec![own(series)]),
            ("Selection", self.selection()),
            ("Secrets redacted", self.redacted()),
            ("Exported", self.exported()),
        ]);
        rows
    }

    /// What the export selected: `every event loaded, pivot user=mallory, search “ssh”`.
    fn selection(&self) -> Line {
        let s = &self.manifest.selection;
        let mut parts = Vec::new();
        if s.all {
            parts.push(vec![own("every event loaded")]);
        }
        if !s.pivots.is_empty() {
            let pivots = s.pivots.iter().map(|p| vec![Span::Code(p.clone())]);
            parts.push([vec![own("pivot ")], joined(pivots, " and ")].concat());
        }
        let part =
            |before: &str, s: String, after: &str| vec![own(before), Span::Text(s), own(after)];
        if let Some(from) = &s.from {
            parts.push(part("from ", rfc3339_text(from), " UTC"));
        }
        if let Some(to) = &s.to {
            parts.push(part("to ", rfc3339_text(to), " UTC"));
        }
        if let Some(search) = &s.search {
            parts.push(part("search “", search.clone(), "”"));
        }
        if parts.is_empty() {
            vec![own("no filter")]
        } else {
            joined(parts, ", ")
        }
    }

    /// The secrets redacted: `0`, or `4 (aws 3, github 1)`.
    fn redacted(&self) -> Line {
        let redacted = &self.manifest.redacted;
        if redacted.is_empty() {
            return vec![own("0")];
        }
        let rules = redacted.iter().map(|(k, n)| named(k, *n));
        let total: u64 = redacted.values().sum();
        [
            vec![own(format!("{} (", count(total)))],
            joined(rules, ", "),
            vec![own(")")],
        ]
        .concat()
    }

    /// The sources and their queries (no row when no source is recorded).
    pub fn sources(&self) -> Table {
        let head = vec![
            ("source", Column::Text),
            ("kind", Column::Text),
            ("events", Column::Number),
            ("series", Column::Number),
            ("queries", Column::Text),
        ];
        let rows = self.manifest.sources.iter().map(|s| {
            vec![
                vec![Span::Text(s.name.clone())],
                vec![Span::Text(s.kind.clone())],
                vec![own(count(s.events))],
                vec![own(count(s.series))],
                vec![Span::Code(s.query.clone())],
            ]
        });
        let rows = rows.collect();
        Table { head, rows }
    }

    /// The case metrics' durations: each one's name, nanoseconds, value (`9m 55s`, or `not
    /// known`) and what it runs from and to (`first signal → first alert`).
    pub fn durations(&self) -> Vec<(&'static str, Option<i64>, String, String)> {
        let durations = self.metrics.durations().into_iter();
        let text = |ns: Option<i64>| ns.map_or_else(|| "not known".to_string(), duration_text);
        durations
            .map(|(name, ns, span)| (name, ns, text(ns), span))
            .collect()
    }

    /// The first signal, alert and mark: each one's time and what it was, when there is one.
    pub fn moments(&self) -> [(&'static str, Option<(String, &str)>); 3] {
        fn moment(mo: &Option<Moment>) -> Option<(String, &str)> {
            mo.as_ref()
                .map(|mo| (rfc3339_text(&mo.at), mo.what.as_str()))
        }
        let m = &self.metrics;
        [
            ("first signal", moment(&m.first_signal)),
            ("first alert", moment(&m.first_alert)),
            ("first mark", moment(&m.first_mark)),
        ]
    }

    /// The export the time to export runs to, when it is counted.
    pub fn export_time(&self) -> Option<String> {
        self.metrics.exported_at.as_deref().map(rfc3339_text)
    }

    /// The origin of the events and the alerts: `live; 1 alert`.
    pub fn origin(&self) -> Line {
        let m = &self.metrics;
        let alerts = format!("; {}", plural(m.alerts, "alert"));
        vec![Span::Text(m.origin.clone()), own(alerts)]
    }

    /// The events by category, by severity and by source: each table's title and rows.
    pub fn counts(&self) -> [(&'static str, Vec<(&str, u64)>); 3] {
        let m = &self.metrics;
        [
            ("category", in_order(&m.by_category, &CATEGORY_ORDER)),
            ("severity", in_order(&m.by_severity, &SEVERITY_ORDER)),
            ("source", in_order(&m.by_source, &[])),
        ]
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
                let mut values: Vec<(&str, u64)> = counts.remove(k)?.into_iter().collect();
                // Most events first; ties by value, so the order never depends on a hash.
                values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                let more = values.len().saturating_sub(TOP_ENTITIES);
                values.truncate(TOP_ENTITIES);
                Some(EntityValues {
                    key: k.as_str(),
                    top: values.into_iter().map(|(v, n)| (v, count(n))).collect(),
                    more: (more > 0).then(|| format!("and {} more", thousands(more))),
                })
            })
            .collect()
    }

    /// The attack chains, each with its steps and when it fires.
    pub fn attack_chains(&self) -> Vec<Chain<'_>> {
        self.chains.iter().map(|c| self.chain(c)).collect()
    }

    fn chain<'a>(&'a self, c: &'a ChainRecord) -> Chain<'a> {
        let event =
            |(i, s): (usize, &'a StepRecord)| Some((i + 1, s, self.events.get(s.seq as usize)?));
        let steps: Vec<_> = c.steps.iter().enumerate().filter_map(event).collect();
        let times = steps.iter().map(|(_, s, e)| (s.name.as_str(), e.ts));
        let fires = alerts::from_steps(&c.rule, times, self.optional).map(|a| {
            let at = Span::Time(time_text(a.at));
            vec![own("Fires at "), at, own(" UTC (its last required step).")]
        });
        let rows = steps.iter().map(|(number, s, e)| {
            let mut step = vec![Span::Text(s.name.clone())];
            if s.count > 1 {
                step.push(own(format!(" (×{})", count(s.count))));
            }
            if self.optional.is_optional(&c.rule, &s.name) {
                step.extend([own(" "), Span::Muted("(optional)")]);
            }
            let (time, source) = (time_text(e.ts), e.source.as_str());
            let title = Span::Text(e.title.clone());
            vec![
                vec![own(number.to_string())],
                vec![own(time)],
                vec![own(source)],
                step,
                vec![title],
            ]
        });
        let pair = |(k, v): (&String, &String)| {
            vec![Span::Text(k.clone()), own("="), Span::Text(v.clone())]
        };
        let head = vec![
            ("#", Column::Number),
            ("time (UTC)", Column::Time),
            ("source", Column::Text),
            ("step", Column::Text),
            ("event", Column::Text),
        ];
        let rows = rows.collect();
        let steps = Table { head, rows };
        let bound = c.bound.iter().map(pair).collect();
        Chain {
            rule: &c.rule,
            bound,
            fires,
            steps,
        }
    }

    /// The marked events in time order, each with its mark.
    pub fn marked(&self) -> Vec<Marked<'_>> {
        let marked = self.marks.iter().filter_map(|mark| {
            let event = self.events.get(mark.seq as usize)?;
            let marked = match mark.marked_at.as_deref().and_then(Timestamp::parse_rfc3339) {
                Some(t) => format!("marked {} UTC", time_text(t)),
                None => "marked at a time not recorded".into(),
            };
            let time = time_text(event.ts);
            Some(Marked {
                mark,
                event,
                time,
                marked,
            })
        });
        let mut marked: Vec<Marked> = marked.collect();
        marked.sort_by_key(|m| (m.event.ts, m.mark.seq));
        marked
    }

    /// Whether the bundle is signed, and by whose key: the end of the verification line.
    pub fn signature_text(&self) -> String {
        match &self.signed_by {
            Some(key) => format!(
                "Signed: the signature holds for key {key} (`casefile verify --pubkey` checks whose it is)"
            ),
            None => "Not signed".to_string(),
        }
    }
}

/// The report's own words.
fn own(s: impl Into<String>) -> Span {
    Span::Own(s.into())
}

/// `items` with `sep` between them.
fn joined(items: impl IntoIterator<Item = Line>, sep: &str) -> Line {
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(own(sep));
        }
        out.extend(item);
    }
    out
}

/// A name from the bundle and its count: `loki 7`.
fn named(name: &str, n: u64) -> Line {
    vec![Span::Text(name.to_string()), own(format!(" {}", count(n)))]
}

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

/// A count: `6,047`.
pub fn count(n: u64) -> String {
    thousands(n as usize)
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
    format!("{} {noun}{}", count(n), if n == 1 { "" } else { "s" })
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
