use super::{Entities, SourceKind, Timestamp};
use std::collections::BTreeMap;

/// One metric series (a Prometheus or Loki matrix result): labels and samples in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub source: SourceKind,
    pub source_name: String,
    /// The query that produced the series, to label it on the metric strip.
    pub query: String,
    pub labels: BTreeMap<String, String>,
    pub entities: Entities,
    pub samples: Vec<(Timestamp, f64)>,
}

impl Series {
    /// `name{k="v",…}` as Prometheus prints a series, sanitized by the caller before display.
    pub fn display_name(&self) -> String {
        let name = self.labels.get("__name__").cloned().unwrap_or_default();
        let labels: Vec<String> = self
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__")
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        if name.is_empty() && labels.is_empty() {
            self.query.clone()
        } else {
            format!("{name}{{{}}}", labels.join(","))
        }
    }
}
