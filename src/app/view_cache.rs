use crate::load::Loaded;
use crate::model::{Series, TimeRange};
use crate::store::{Histogram, Query};

/// Derived pictures of the current view (histogram, metric strips), rebuilt when the view or the
/// screen width changes, never while drawing.
#[derive(Debug, Clone, Default)]
pub struct ViewCache {
    pub histogram: Option<Histogram>,
    pub metrics: Vec<MetricStrip>,
    built_for: Option<BuiltFor>,
}

/// Everything the pictures are drawn from. A selection that moves changes none of it.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltFor {
    /// `TimelineState::generation` of the events shown.
    shown: u64,
    events: usize,
    series: usize,
    server_counts: usize,
    query: Query,
    axis: Option<TimeRange>,
    width: usize,
    /// No search narrows the events shown.
    unfiltered: bool,
}

impl BuiltFor {
    pub fn new(
        data: &Loaded,
        shown: u64,
        query: Query,
        axis: Option<TimeRange>,
        width: usize,
        unfiltered: bool,
    ) -> BuiltFor {
        BuiltFor {
            shown,
            events: data.store.len(),
            series: data.store.series().len(),
            server_counts: data.server_counts.len(),
            query,
            axis,
            width,
            unfiltered,
        }
    }
}

/// One series resampled to the screen's columns on the timeline's axis.
#[derive(Debug, Clone)]
pub struct MetricStrip {
    pub label: String,
    /// Mean value per column; `None` where the series has no sample.
    pub columns: Vec<Option<f64>>,
    pub max: f64,
    pub last: Option<f64>,
}

impl ViewCache {
    /// Draws the pictures again for the events `shown`, unless nothing they are drawn from
    /// changed since the last time.
    pub fn rebuild(&mut self, data: &Loaded, shown: &[u32], key: BuiltFor) {
        if self.built_for.as_ref() == Some(&key) {
            return;
        }
        let store = &data.store;
        let (query, width, unfiltered) = (&key.query, key.width, key.unfiltered);
        let Some(axis) = key.axis else {
            *self = ViewCache {
                built_for: Some(key),
                ..ViewCache::default()
            };
            return;
        };
        let mut histogram = Histogram::build(store, shown, axis, width.max(1));
        // Server counts describe the unfiltered window: they apply only without a pivot.
        if query.pivots.is_empty() && unfiltered {
            histogram.include_server_counts(&data.server_counts);
        }
        self.histogram = Some(histogram);
        // The series that fit the pivot: the most sudden change of each query first, then
        // the next of each, so one noisy query cannot take every strip.
        let mut by_query: Vec<Vec<&Series>> = Vec::new();
        for s in store.series_of_view(query, shown) {
            match by_query.iter_mut().find(|g| g[0].query == s.query) {
                Some(g) => g.push(s),
                None => by_query.push(vec![s]),
            }
        }
        for g in &mut by_query {
            g.sort_by(|a, b| spike(b).total_cmp(&spike(a)));
        }
        let mut ordered = Vec::new();
        for i in 0..by_query.iter().map(Vec::len).max().unwrap_or(0) {
            ordered.extend(by_query.iter().filter_map(|g| g.get(i)));
        }
        self.metrics = ordered
            .into_iter()
            .map(|s| MetricStrip::build(s, axis, width))
            .collect();
        self.built_for = Some(key);
    }
}

/// How far a series' peak rises above its lower quartile: a step up (a miner starting) scores
/// high even when the high part lasts longer than the low part.
fn spike(s: &Series) -> f64 {
    let mut values: Vec<f64> = s
        .samples
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let quartile = values[values.len() / 4].abs();
    peak(s) / (quartile + 1e-9 * peak(s).abs().max(1e-12))
}

fn peak(s: &Series) -> f64 {
    s.samples
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

impl MetricStrip {
    fn build(series: &Series, axis: TimeRange, width: usize) -> MetricStrip {
        let width = width.max(1);
        let mut sums = vec![(0.0f64, 0u32); width];
        let span = (axis.end.0 as i128 - axis.start.0 as i128).max(1);
        for &(ts, v) in &series.samples {
            if !axis.contains(ts) || !v.is_finite() {
                continue;
            }
            let i = (((ts.0 as i128 - axis.start.0 as i128) * width as i128) / span) as usize;
            let cell = &mut sums[i.min(width - 1)];
            cell.0 += v;
            cell.1 += 1;
        }
        let columns: Vec<Option<f64>> = sums
            .iter()
            .map(|(sum, n)| (*n > 0).then(|| sum / *n as f64))
            .collect();
        let max = columns.iter().flatten().copied().fold(0.0, f64::max);
        let last = series
            .samples
            .iter()
            .rev()
            .map(|(_, v)| *v)
            .find(|v| v.is_finite());
        MetricStrip {
            label: short_label(series),
            columns,
            max,
            last,
        }
    }
}

/// `api-7d9f-x2k4q cpu_usage` rather than the full label set: the most telling label, then the
/// gist of the metric's name.
fn short_label(s: &Series) -> String {
    let name = s
        .labels
        .get("__name__")
        .cloned()
        .unwrap_or_else(|| query_metric_name(&s.query));
    let mut gist = name.as_str();
    for prefix in ["container_", "node_", "kube_"] {
        gist = gist.strip_prefix(prefix).unwrap_or(gist);
    }
    for suffix in ["_total", "_seconds", "_bytes"] {
        gist = gist.strip_suffix(suffix).unwrap_or(gist);
    }
    let subject = ["pod", "container", "host", "node", "instance", "job"]
        .iter()
        .find_map(|k| s.labels.get(*k));
    match subject {
        Some(subject) => format!("{subject} {gist}"),
        None => gist.to_string(),
    }
}

/// The first metric name in a PromQL query: `rate(container_cpu_usage_seconds_total{…}[5m])` →
/// `container_cpu_usage_seconds_total`.
fn query_metric_name(q: &str) -> String {
    q.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.len() > 3 && w.contains('_'))
        .max_by_key(|w| w.len())
        .unwrap_or(q)
        .to_string()
}
