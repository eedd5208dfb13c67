//! Prometheus over HTTP: `query_range` with a step that keeps every series under the server's
//! 11,000-point limit, and the pending and firing alerts of `/api/v1/alerts` and
//! `/api/v1/rules` as timeline events.

use super::http::{FetchError, HttpClient};
use super::task::SourceMessage;
use super::{prometheus, EntityTable, SourceError};
use crate::load::SourceReport;
use crate::model::{TimeRange, Timestamp};
use std::collections::HashSet;

/// Prometheus refuses a `query_range` of more than 11,000 points per series.
pub const MAX_POINTS: i64 = 11_000;

/// The finest step, in whole seconds, that keeps `[start, end]` within `MAX_POINTS` points.
pub fn step_seconds(window: TimeRange) -> i64 {
    // A series has ⌊secs / step⌋ + 1 points; that is at most MAX_POINTS exactly when
    // step > secs / MAX_POINTS.
    let secs = ((window.end.0 - window.start.0) / 1_000_000_000).max(0);
    secs / MAX_POINTS + 1
}

fn unix_secs(ts: Timestamp) -> String {
    let ns = ts.0;
    format!(
        "{}.{:03}",
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000) / 1_000_000
    )
}

/// The server's own words from an error answer.
fn server_message(e: FetchError) -> String {
    match e {
        FetchError::Status { code, body } => {
            match prometheus::parse_response(&body, "", "", &EntityTable::prometheus()) {
                Err(SourceError::Server(m)) => format!("HTTP {code}: {m}"),
                _ => FetchError::Status { code, body }.to_string(),
            }
        }
        other => other.to_string(),
    }
}

/// Runs every query over the window, then the alerts when the window reaches the present.
pub async fn run(
    client: &HttpClient,
    queries: &[String],
    window: TimeRange,
    table: &EntityTable,
    source: usize,
    report: &mut SourceReport,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) {
    let name = client.endpoint().name.clone();
    let step = step_seconds(window);
    let mut errors = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let params = [
            ("query", q.clone()),
            ("start", unix_secs(window.start)),
            ("end", unix_secs(window.end)),
            ("step", step.to_string()),
        ];
        send(SourceMessage::Progress {
            source,
            done: i as u64,
            total: Some(queries.len() as u64 + 1),
        });
        match client.get("/api/v1/query_range", &params).await {
            Ok(body) => match prometheus::parse_response(&body, &name, q, table) {
                Ok(parsed) => {
                    report.series += parsed.series.len();
                    report.skipped.merge(parsed.skipped);
                    send(SourceMessage::Series {
                        source,
                        series: parsed.series,
                    });
                }
                Err(e) => errors.push(format!("{q}: {e}")),
            },
            Err(FetchError::Cancelled) => {
                report.cancelled = true;
                return;
            }
            // The server cannot be reached: the other queries would say the same.
            Err(FetchError::Transport(t)) => {
                report.error = Some(t);
                return;
            }
            Err(e) => errors.push(format!("{q}: {}", server_message(e))),
        }
    }
    // Alerts describe the present: only a window that reaches now asks for them.
    if window.end.0 >= Timestamp::now().0 - 300_000_000_000 {
        let mut seen = HashSet::new();
        for path in ["/api/v1/alerts", "/api/v1/rules"] {
            let params: Vec<(&str, String)> = if path.ends_with("rules") {
                vec![("type", "alert".to_string())]
            } else {
                Vec::new()
            };
            match client.get(path, &params).await {
                Ok(body) => match prometheus::parse_alerts(&body, &name, table) {
                    Ok(parsed) => {
                        // An alert is in both answers: keep it once.
                        let events: Vec<_> = parsed
                            .events
                            .into_iter()
                            .filter(|e| seen.insert(prometheus::alert_identity(&e.raw)))
                            .collect();
                        report.events += events.len();
                        report.skipped.merge(parsed.skipped);
                        send(SourceMessage::Batch { source, events });
                    }
                    Err(e) => errors.push(format!("{path}: {e}")),
                },
                Err(FetchError::Cancelled) => {
                    report.cancelled = true;
                    return;
                }
                Err(e) => errors.push(format!("{path}: {}", server_message(e))),
            }
        }
    }
    if !errors.is_empty() {
        report.error = Some(errors.join("; "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(secs: i64) -> TimeRange {
        TimeRange::new(Timestamp(0), Timestamp(secs * 1_000_000_000))
    }

    #[test]
    fn steps_keep_every_series_under_the_limit() {
        for secs in [1, 3_600, 10_999, 11_000, 86_400, 30 * 86_400, 365 * 86_400] {
            let step = step_seconds(window(secs));
            assert!(
                secs / step < MAX_POINTS,
                "{secs}s at {step}s: points = secs / step + 1"
            );
            // And it is the finest whole-second step that does.
            if step > 1 {
                assert!(
                    secs / (step - 1) + 1 > MAX_POINTS,
                    "{secs}s: {} would do",
                    step - 1
                );
            }
        }
        assert_eq!(step_seconds(window(3_600)), 1);
        assert_eq!(
            unix_secs(Timestamp(1_795_321_380_500_000_000)),
            "1795321380.500"
        );
    }
}
