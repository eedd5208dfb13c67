//! Live sources as tasks: each runs on its own thread with its own small async runtime, talks
//! to its server, and sends what it finds as messages. The caller (the TUI loop, or `query`)
//! only receives.

use super::http::HttpClient;
use super::spec::SourceSpec;
use super::task::{Cancel, SourceMessage};
use super::{prometheus_client, EntityTables};
use crate::load::SourceReport;
use crate::model::{SourceKind, TimeRange, Timestamp};

/// Live backends read the last hour unless told otherwise (SPEC §2).
pub const DEFAULT_WINDOW_NS: i64 = 3_600 * 1_000_000_000;

/// How many events one source loads before it switches to the newest first and stops: sized
/// for SPEC §9's million. The rest of the window stays on the server.
pub const DEFAULT_BUDGET: usize = 1_000_000;

/// Without a count from the server (an old one, or a count that timed out) the budget still
/// holds: past twice the budget, reading stops and says the window was not read to its end.
pub fn over_budget(newest_first: bool, events: usize, budget: usize) -> Option<String> {
    (!newest_first && events >= budget.saturating_mul(2)).then(|| {
        format!(
            "stopped after {events} events, twice the budget, without reaching the end of the window (the server gave no count): narrow the window or pivot"
        )
    })
}

/// How a source task reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    pub window: TimeRange,
    /// Keep following new data after the window (Loki's tail), until cancelled.
    pub follow: bool,
    /// Events to load at most; past it, the newest first.
    pub budget: usize,
}

/// The latest instant a live window may reach (year 2116): far enough for anyone, and it
/// keeps `end - start` and the steps added to it inside an i64.
const LATEST: i64 = i64::MAX / 2;

/// A window with both ends set: open ends become "now" and "an hour before the end"; no
/// backend has data before 1970, so the start is never earlier.
pub fn resolve_window(window: TimeRange, now: Timestamp) -> TimeRange {
    let end = if window.end == Timestamp::MAX {
        now
    } else {
        window.end
    };
    let end = Timestamp(end.0.clamp(1, LATEST));
    let start = if window.start == Timestamp::MIN {
        end.saturating_sub_nanos(DEFAULT_WINDOW_NS)
    } else {
        window.start
    };
    TimeRange::new(Timestamp(start.0.clamp(0, end.0)), end)
}

fn kind_of(spec: &SourceSpec) -> SourceKind {
    match spec {
        SourceSpec::Prometheus { .. } => SourceKind::Prometheus,
        SourceSpec::Loki { .. } => SourceKind::Loki,
        SourceSpec::Elasticsearch { .. } => SourceKind::Elasticsearch,
        SourceSpec::Alertmanager { .. } => SourceKind::Alertmanager,
        SourceSpec::Zabbix { .. } => SourceKind::Zabbix,
        SourceSpec::Grafana { .. } => SourceKind::Grafana,
    }
}

/// Starts a live source. Returns its report as it stands now (loading); the final one comes
/// in `SourceMessage::Finished`. With `follow`, a source that can (Loki's tail) keeps sending
/// new events after the window until cancelled.
pub fn spawn(
    spec: SourceSpec,
    source: usize,
    options: RunOptions,
    tables: EntityTables,
    cancel: Cancel,
    send: impl Fn(SourceMessage) -> bool + Send + Sync + 'static,
) -> SourceReport {
    let RunOptions {
        window,
        follow,
        budget,
    } = options;
    let endpoint = spec.endpoint().clone();
    let mut report = SourceReport::new(&endpoint.name, kind_of(&spec), &spec.describe());
    report.progress = Some((0, None));
    report.insecure = endpoint.tls.insecure;
    let placeholder = report.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let runtime = match runtime {
            Ok(rt) => rt,
            Err(e) => {
                report.progress = None;
                report.error = Some(format!("cannot start: {e}"));
                send(SourceMessage::Finished { source, report });
                return;
            }
        };
        let outcome = super::task::catch_panic(|| {
            runtime.block_on(async {
                match HttpClient::new(&endpoint, cancel.clone()) {
                    Err(e) => report.error = Some(e),
                    Ok(client) => match &spec {
                        SourceSpec::Prometheus { queries, .. } => {
                            prometheus_client::run(
                                &client,
                                queries,
                                window,
                                &tables.prometheus,
                                source,
                                &mut report,
                                &send,
                            )
                            .await
                        }
                        SourceSpec::Loki { query, endpoint } => {
                            super::loki_client::run(
                                &client,
                                query,
                                window,
                                budget,
                                &tables.loki,
                                source,
                                &mut report,
                                &send,
                            )
                            .await;
                            if follow && report.error.is_none() && !cancel.is_cancelled() {
                                super::loki_client::tail(
                                    endpoint,
                                    query,
                                    window.end.0,
                                    &tables.loki,
                                    source,
                                    &mut report,
                                    &cancel,
                                    &send,
                                )
                                .await;
                            }
                        }
                        SourceSpec::Alertmanager { .. }
                        | SourceSpec::Zabbix { .. }
                        | SourceSpec::Grafana { .. } => {
                            super::present::run(
                                &client,
                                &spec,
                                window,
                                budget,
                                follow.then_some(super::present::POLL_EVERY),
                                &tables,
                                source,
                                &mut report,
                                &cancel,
                                &send,
                            )
                            .await
                        }
                        SourceSpec::Elasticsearch { index, query, .. } => {
                            super::elastic_client::run(
                                &client,
                                index,
                                query.as_deref(),
                                window,
                                budget,
                                &tables,
                                source,
                                &mut report,
                                &send,
                            )
                            .await
                        }
                    },
                }
            })
        });
        if let Err(panic) = outcome {
            report.error = Some(crate::sources::task::stopped_by_panic(&panic));
        }
        report.progress = None;
        report.cancelled |= cancel.is_cancelled();
        send(SourceMessage::Finished { source, report });
    });
    placeholder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_windows_become_the_last_hour() {
        let now = Timestamp(10_000 * 1_000_000_000);
        let w = resolve_window(TimeRange::ALL, now);
        assert_eq!((w.start.0, w.end.0), (now.0 - DEFAULT_WINDOW_NS, now.0));
        let from = Timestamp(5_000 * 1_000_000_000);
        let w = resolve_window(TimeRange::new(from, Timestamp::MAX), now);
        assert_eq!((w.start, w.end), (from, now));
        // Absurd ends are brought back to where arithmetic on them is safe.
        let ancient = Timestamp::parse_rfc3339("1700-01-01T00:00:00Z").unwrap();
        let w = resolve_window(TimeRange::new(ancient, Timestamp(i64::MAX - 1)), now);
        assert_eq!(w.start, Timestamp(0));
        assert!(
            w.end.0.checked_sub(w.start.0).is_some()
                && w.end.0.checked_add(w.end.0 - w.start.0).is_some()
        );
    }
}
