//! The links of a case: where the responder's Grafana and Kibana are (the config file's
//! `[links]`), and which queries and window a link for the current pivot carries. The queries
//! are the ones the sources ran (the demo's recorded ones too), narrowed by the pivots the way
//! they are pushed down to the servers.

use crate::links::{self, DiscoverTarget, ExploreTarget};
use crate::load::SourceReport;
use crate::model::{SourceKind, TimeRange, Timestamp};
use crate::sources::pushdown;
use crate::sources::spec::{Endpoint, SourceSpec};
use crate::sources::EntityTables;
use crate::store::Pivot;
use serde::Deserialize;

/// `[links]` in config.toml.
///
/// ```toml
/// [links]
/// grafana = "https://grafana.example"
/// grafana_org_id = 1
/// grafana_loki_uid = "P8E80F9AEF21F6940"
/// grafana_prometheus_uid = "PBFA97CFB590B2093"
/// kibana = "https://kibana.example"
/// kibana_data_view = "logs-*"
/// ```
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LinkSettings {
    pub grafana: Option<String>,
    pub grafana_org_id: Option<u32>,
    pub grafana_loki_uid: Option<String>,
    pub grafana_prometheus_uid: Option<String>,
    pub kibana: Option<String>,
    pub kibana_data_view: Option<String>,
}

/// Which link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    GrafanaExplore,
    KibanaDiscover,
}

/// What a link is made from: the view and the case's sources.
pub struct LinkInput<'a> {
    pub pivots: &'a [Pivot],
    pub search: Option<&'a str>,
    /// The window asked for; an open end becomes the data's first or last event.
    pub window: TimeRange,
    pub data_span: Option<TimeRange>,
    pub reports: &'a [SourceReport],
    pub tables: &'a EntityTables,
}

/// The link, and a line for the status bar about what it could not carry.
pub fn build(
    settings: &LinkSettings,
    kind: LinkKind,
    input: &LinkInput,
) -> Result<(String, Option<String>), String> {
    let window = closed_window(input.window, input.data_span);
    match kind {
        LinkKind::GrafanaExplore => {
            let grafana = settings.grafana.as_deref().ok_or(
                "no Grafana to link to: set `grafana` (and the datasource uids) under [links] in config.toml",
            )?;
            let logql = queries(input, SourceKind::Loki).into_iter().next();
            let promql = queries(input, SourceKind::Prometheus);
            let target = ExploreTarget {
                grafana_url: grafana,
                loki_uid: settings.grafana_loki_uid.as_deref(),
                logql: logql
                    .as_deref()
                    .filter(|_| settings.grafana_loki_uid.is_some()),
                prometheus_uid: settings.grafana_prometheus_uid.as_deref(),
                promql: if settings.grafana_prometheus_uid.is_some() {
                    &promql
                } else {
                    &[]
                },
                org_id: settings.grafana_org_id,
            };
            let url = links::grafana_explore(&target, window)?;
            Ok((url, None))
        }
        LinkKind::KibanaDiscover => {
            let kibana = settings.kibana.as_deref().ok_or(
                "no Kibana to link to: set `kibana` and `kibana_data_view` under [links] in config.toml",
            )?;
            let data_view = settings
                .kibana_data_view
                .as_deref()
                .ok_or("set `kibana_data_view` under [links] in config.toml")?;
            let target = DiscoverTarget {
                kibana_url: kibana,
                data_view,
            };
            let link =
                links::kibana_discover(&target, input.pivots, input.search, window, input.tables)?;
            let left_out = (!link.left_out.is_empty()).then(|| {
                let names: Vec<String> = link.left_out.iter().map(|p| p.to_string()).collect();
                format!("not in the link (no ECS field): {}", names.join(" & "))
            });
            Ok((link.url, left_out))
        }
    }
}

/// Open ends become the data's own first and last times, so a link shows what the case
/// holds, not the hour before it was opened.
fn closed_window(window: TimeRange, data: Option<TimeRange>) -> TimeRange {
    let Some(data) = data else { return window };
    let start = if window.start == Timestamp::MIN {
        data.start
    } else {
        window.start
    };
    let end = if window.end == Timestamp::MAX {
        // The last event is inside the link: one millisecond past it.
        Timestamp(data.end.0.saturating_add(1_000_000))
    } else {
        window.end
    };
    TimeRange::new(start, end)
}

/// The distinct queries the sources of this kind ran, narrowed by the pivots and the search
/// as they would be pushed down.
fn queries(input: &LinkInput, kind: SourceKind) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for report in input
        .reports
        .iter()
        .filter(|r| r.kind == kind && !r.retired)
    {
        for q in report
            .query
            .split(" ; ")
            .map(str::trim)
            .filter(|q| !q.is_empty())
        {
            let spec = match kind {
                SourceKind::Loki => SourceSpec::Loki {
                    endpoint: Endpoint::new("link"),
                    query: q.to_string(),
                },
                _ => SourceSpec::Prometheus {
                    endpoint: Endpoint::new("link"),
                    queries: vec![q.to_string()],
                },
            };
            let narrowed =
                pushdown::narrow(&spec, input.pivots, input.search, input.tables).unwrap_or(spec);
            let text = match narrowed {
                SourceSpec::Loki { query, .. } => query,
                SourceSpec::Prometheus { queries, .. } => queries.join(" ; "),
                _ => continue,
            };
            if !out.contains(&text) {
                out.push(text);
            }
        }
    }
    out
}
