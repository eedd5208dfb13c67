//! Threshold crossings of metric series, as events (SPEC §3: "threshold crossings also become
//! events on the timeline"). A rule (`rules/thresholds.toml`) says which series it watches and
//! what crossing means: above a fixed value, or a rise to some multiple of the series' own
//! recent median. Each crossing that lasts long enough is one event, at the sample where the
//! series crossed, carrying the series' entities.

use crate::model::{
    human_duration, parse_duration, EntityKey, Event, EventKind, Series, Severity, SourceKind,
    Timestamp,
};
use serde::Deserialize;

pub const DEFAULT_RULES: &str = include_str!("../../rules/thresholds.toml");

/// A median needs this many samples before it is a baseline.
const MIN_BASELINE_SAMPLES: usize = 4;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdFile {
    #[serde(default)]
    threshold: Vec<ThresholdRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdRule {
    name: String,
    series: String,
    above: Option<f64>,
    rise: Option<f64>,
    baseline: Option<String>,
    min: Option<f64>,
    #[serde(rename = "for")]
    lasting: Option<String>,
    severity: Option<String>,
}

/// One rule, read.
#[derive(Debug, Clone)]
struct Threshold {
    name: String,
    /// Lowercase.
    series: String,
    above: Option<f64>,
    rise: Option<f64>,
    baseline_ns: i64,
    min: f64,
    lasting_ns: i64,
    severity: Severity,
}

#[derive(Debug, Clone)]
pub struct Thresholds(Vec<Threshold>);

impl Default for Thresholds {
    /// The built-in rules.
    fn default() -> Thresholds {
        Thresholds::parse("rules/thresholds.toml (built in)", DEFAULT_RULES)
            .unwrap_or(Thresholds(Vec::new()))
    }
}

impl Thresholds {
    /// No thresholds: no series makes an event (a replayed bundle holds its events already).
    pub fn none() -> Thresholds {
        Thresholds(Vec::new())
    }

    pub fn parse(label: &str, text: &str) -> Result<Thresholds, String> {
        let file: ThresholdFile =
            crate::ui::config_file::parse_toml(label, text).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for r in file.threshold {
            let at = |what: String| format!("{label}: threshold `{}`: {what}", r.name);
            let duration = |field: &str, value: &Option<String>, default: i64| match value {
                None => Ok(default),
                Some(v) => {
                    parse_duration(v).ok_or_else(|| at(format!("{field} `{v}` is not a duration")))
                }
            };
            if r.above.is_none() == r.rise.is_none() {
                return Err(at("give one of `above` or `rise`".into()));
            }
            if r.rise.is_some_and(|x| x.is_nan() || x <= 1.0) {
                return Err(at("`rise` must be more than 1".into()));
            }
            let severity = match &r.severity {
                None => Severity::Warning,
                Some(s) => Severity::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| at(format!("unknown severity `{s}`")))?,
            };
            out.push(Threshold {
                series: r.series.to_lowercase(),
                above: r.above,
                rise: r.rise,
                baseline_ns: duration("baseline", &r.baseline, 15 * 60 * 1_000_000_000)?,
                min: r.min.unwrap_or(f64::NEG_INFINITY),
                lasting_ns: duration("for", &r.lasting, 0)?,
                severity,
                name: r.name,
            });
        }
        Ok(Thresholds(out))
    }

    /// Every crossing of every rule on this series, in time order.
    pub fn crossings(&self, series: &Series) -> Vec<Event> {
        let name = series.labels.get("__name__").map(String::as_str);
        let mut out = Vec::new();
        for rule in &self.0 {
            let watched = series.query.to_lowercase().contains(&rule.series)
                || name.is_some_and(|n| n.to_lowercase().contains(&rule.series));
            if watched {
                out.extend(rule.crossings(series));
            }
        }
        out.sort_by_key(|e| e.ts);
        out
    }
}

/// One stretch of samples past the threshold.
struct Crossing {
    at: usize,
    until: usize,
    baseline: Option<f64>,
}

impl Threshold {
    fn crossings(&self, s: &Series) -> Vec<Event> {
        let samples = &s.samples;
        let mut found = Vec::new();
        let mut open: Option<Crossing> = None;
        let mut was_past = true; // a series already past the threshold at its start is not a crossing
        let mut from = 0; // the first sample of the baseline window
        for (i, &(ts, value)) in samples.iter().enumerate() {
            while from < i && samples[from].0 .0 < ts.0.saturating_sub(self.baseline_ns) {
                from += 1;
            }
            let (past, baseline) = self.past(value, &samples[from..i]);
            match (&mut open, past) {
                (Some(c), true) => c.until = i,
                (Some(_), false) => found.extend(open.take()),
                (None, true) if !was_past => {
                    open = Some(Crossing {
                        at: i,
                        until: i,
                        baseline,
                    })
                }
                _ => {}
            }
            was_past = past;
        }
        found.extend(open);
        found
            .into_iter()
            .filter(|c| samples[c.until].0 .0 - samples[c.at].0 .0 >= self.lasting_ns)
            .map(|c| self.event(s, &c))
            .collect()
    }

    /// Whether a value is past the threshold, given the samples before it; and the baseline
    /// it was measured against.
    fn past(&self, value: f64, before: &[(Timestamp, f64)]) -> (bool, Option<f64>) {
        if !value.is_finite() || value < self.min {
            return (false, None);
        }
        if let Some(above) = self.above {
            return (value > above, None);
        }
        let Some(rise) = self.rise else {
            return (false, None);
        };
        let mut values: Vec<f64> = before
            .iter()
            .map(|(_, v)| *v)
            .filter(|v| v.is_finite())
            .collect();
        if values.len() < MIN_BASELINE_SAMPLES {
            return (false, None);
        }
        values.sort_by(f64::total_cmp);
        let median = values[values.len() / 2];
        (value > median * rise && value > 0.0, Some(median))
    }

    fn event(&self, s: &Series, c: &Crossing) -> Event {
        let (at, value) = s.samples[c.at];
        let (until, _) = s.samples[c.until];
        let peak = s.samples[c.at..=c.until]
            .iter()
            .map(|(_, v)| *v)
            .fold(f64::NEG_INFINITY, f64::max);
        // A rise is measured against a baseline that catches up, so how long it lasted says
        // little; a fixed threshold's time above it is the news.
        let why = match (self.above, c.baseline) {
            (Some(above), _) => format!(
                "above {} for {}",
                number(above),
                human_duration(until.0 - at.0)
            ),
            (None, Some(b)) => format!(
                "{:.1}× its median of {} over the {} before",
                if b > 0.0 { value / b } else { f64::INFINITY },
                number(b),
                human_duration(self.baseline_ns)
            ),
            (None, None) => String::new(),
        };
        let metric = s
            .labels
            .get("__name__")
            .cloned()
            .unwrap_or_else(|| s.query.clone());
        let message = format!(
            "{metric} rose to {} ({why}), peak {}",
            number(value),
            number(peak)
        );
        // What crossed, in a word: its pod, else its container, instance or node.
        let subject = ["pod", "container", "instance", "node", "host", "job"]
            .iter()
            .find_map(|k| s.labels.get(*k).map(|v| format!(" on {k} {v}")))
            .unwrap_or_default();
        let mut entities = s.entities.clone();
        entities.add(EntityKey::Rule, &self.name);
        let raw = serde_json::json!({
            "threshold": self.name,
            "query": s.query,
            "labels": s.labels,
            "crossed_at": at.to_rfc3339(),
            "value": value,
            "baseline": c.baseline,
            "peak": peak,
            "until": until.to_rfc3339(),
        });
        Event {
            ts: at,
            source: SourceKind::Prometheus,
            source_name: s.source_name.clone(),
            kind: EventKind::Alert,
            severity: self.severity,
            title: format!("{}{subject}", self.name),
            message,
            entities,
            process: None,
            tags: vec!["threshold".to_string()],
            raw: raw.to_string(),
        }
    }
}

/// A value as people read it: `1.88`, `5.9M`, `41.2k`.
fn number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn series(values: &[f64]) -> Series {
        let mut labels = BTreeMap::new();
        labels.insert("pod".to_string(), "api-1".to_string());
        let mut entities = crate::model::Entities::new();
        entities.add(EntityKey::Pod, "api-1");
        Series {
            source: SourceKind::Prometheus,
            source_name: "prom".into(),
            query: "rate(container_cpu_usage_seconds_total[5m])".into(),
            labels,
            entities,
            samples: values
                .iter()
                .enumerate()
                .map(|(i, v)| (Timestamp(i as i64 * 15_000_000_000), *v))
                .collect(),
        }
    }

    fn rules(text: &str) -> Thresholds {
        Thresholds::parse("t.toml", text).unwrap()
    }

    #[test]
    fn a_rise_over_the_recent_median_is_one_event_at_the_crossing() {
        let t = rules(
            "[[threshold]]\nname = \"CPU spike\"\nseries = \"CPU\"\nrise = 3.0\nmin = 0.5\nfor = \"30s\"\n",
        );
        let mut v = vec![0.2; 10];
        v.extend([1.9; 6]);
        v.extend([0.2; 4]);
        let events = t.crossings(&series(&v));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(e.ts, Timestamp(10 * 15_000_000_000));
        assert_eq!(e.title, "CPU spike on pod api-1");
        assert!(e.entities.contains(EntityKey::Pod, "api-1"));
        assert!(e.entities.contains(EntityKey::Rule, "CPU spike"));
        assert!(
            e.message.starts_with(
                "rate(container_cpu_usage_seconds_total[5m]) rose to 1.90 (9.5× its median of 0.20 over the 15m before), peak 1.90"
            ),
            "{}",
            e.message
        );
        let raw: serde_json::Value = serde_json::from_str(&e.raw).unwrap();
        assert_eq!(raw["peak"], 1.9);
        // Too short, under the floor, or never below: nothing.
        let mut brief = vec![0.2; 10];
        brief.push(1.9);
        brief.extend([0.2; 4]);
        assert!(t.crossings(&series(&brief)).is_empty());
        assert!(t
            .crossings(&series(
                &[0.01; 10]
                    .iter()
                    .chain(&[0.2; 5])
                    .copied()
                    .collect::<Vec<_>>()
            ))
            .is_empty());
        assert!(t.crossings(&series(&[1.9; 12])).is_empty());
        // A series another rule watches is not this one's.
        let mut other = series(&v);
        other.query = "rate(container_network_transmit_bytes_total[5m])".into();
        assert!(t.crossings(&other).is_empty());
    }

    #[test]
    fn a_fixed_threshold_crossed_twice_is_two_events() {
        let t = rules("[[threshold]]\nname = \"hot\"\nseries = \"cpu\"\nabove = 1.0\n");
        let events = t.crossings(&series(&[0.5, 1.5, 1.6, 0.5, 0.4, 2.0]));
        let at: Vec<i64> = events.iter().map(|e| e.ts.0 / 15_000_000_000).collect();
        assert_eq!(at, [1, 5]);
        assert!(
            events[0]
                .message
                .contains("rose to 1.50 (above 1.00 for 15s), peak 1.60"),
            "{}",
            events[0].message
        );
        // NaN and infinities are never a crossing.
        assert!(t
            .crossings(&series(&[0.5, f64::NAN, f64::INFINITY, 0.5]))
            .is_empty());
    }

    #[test]
    fn broken_rules_say_what_is_wrong() {
        for (text, says) in [
            (
                "[[threshold]]\nname = \"x\"\nseries = \"cpu\"\n",
                "give one of `above` or `rise`",
            ),
            (
                "[[threshold]]\nname = \"x\"\nseries = \"cpu\"\nrise = 0.5\n",
                "`rise` must be more than 1",
            ),
            (
                "[[threshold]]\nname = \"x\"\nseries = \"cpu\"\nabove = 1\nfor = \"soon\"\n",
                "for `soon` is not a duration",
            ),
            (
                "[[threshold]]\nname = \"x\"\nseries = \"cpu\"\nabove = 1\nseverity = \"loud\"\n",
                "unknown severity `loud`",
            ),
            ("[[threshold]]\nname = \"x\"\nserie = \"cpu\"\n", "t.toml:3"),
        ] {
            let err = Thresholds::parse("t.toml", text).unwrap_err();
            assert!(err.contains(says), "{err}");
        }
    }
}
