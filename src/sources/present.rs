//! Sources that answer with the present rather than a log: Alertmanager's alerts, Zabbix's
//! problems, Grafana's annotations. Read once for a closed window; while the TUI follows an
//! open one, asked again every [`POLL_EVERY`], and only what is new reaches the store.

use super::http::{FetchError, HttpClient};
use super::spec::SourceSpec;
use super::task::{Cancel, SourceMessage};
use super::{alertmanager, grafana, zabbix, EntityTables, SourceError};
use crate::load::SourceReport;
use crate::model::{TimeRange, Timestamp};
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::time::Duration;

/// How often a followed source is asked again.
pub const POLL_EVERY: Duration = Duration::from_secs(30);

/// Why a source gave nothing this time.
#[derive(Debug)]
pub enum Failed {
    Cancelled,
    /// The server's or the transport's words.
    Said(String),
}

impl From<FetchError> for Failed {
    fn from(e: FetchError) -> Failed {
        match e {
            FetchError::Cancelled => Failed::Cancelled,
            e => Failed::Said(e.to_string()),
        }
    }
}

impl From<SourceError> for Failed {
    fn from(e: SourceError) -> Failed {
        Failed::Said(e.to_string())
    }
}

/// Reads the window; with `follow: Some(every)`, keeps asking that often until cancelled, the
/// window's end moving to the present each time. Records already sent (the same raw bytes)
/// are not sent again.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    client: &HttpClient,
    spec: &SourceSpec,
    window: TimeRange,
    budget: usize,
    follow: Option<Duration>,
    tables: &EntityTables,
    source: usize,
    report: &mut SourceReport,
    cancel: &Cancel,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) {
    let hasher = foldhash::fast::RandomState::default();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut window = window;
    loop {
        // Zabbix and Grafana answer with at most `budget`; Alertmanager with all it holds.
        let (answer, limited) = match spec {
            SourceSpec::Alertmanager { .. } => (
                alertmanager::fetch(client, window, &tables.alertmanager).await,
                false,
            ),
            SourceSpec::Zabbix { .. } => (
                zabbix::fetch(client, window, budget, &tables.zabbix).await,
                true,
            ),
            SourceSpec::Grafana { .. } => (
                grafana::fetch(client, window, budget, &tables.grafana).await,
                true,
            ),
            _ => return,
        };
        report.error = None;
        match answer {
            Ok(mut parsed) => {
                if limited && parsed.events.len() >= budget {
                    report.error = Some(format!(
                        "the window holds more than {budget} events; the newest {budget} were read"
                    ));
                }
                // What this answer could not use (the same records come back on every ask).
                report.skipped = parsed.skipped;
                // Only new records go on: the same alert, asked again, is not stored twice.
                parsed
                    .events
                    .retain(|e| seen.insert(hasher.hash_one(&e.raw)));
                report.events = seen.len();
                if !parsed.events.is_empty() {
                    send(SourceMessage::Batch {
                        source,
                        events: parsed.events,
                    });
                }
            }
            Err(Failed::Cancelled) => report.cancelled = true,
            Err(Failed::Said(m)) => report.error = Some(m),
        }
        let Some(every) = follow.filter(|_| !cancel.is_cancelled() && !report.cancelled) else {
            return;
        };
        if !report.live {
            report.progress = None;
            report.live = true;
            send(SourceMessage::Live { source });
        }
        send(SourceMessage::Update {
            source,
            report: report.clone(),
        });
        if !wait(every, cancel).await {
            return;
        }
        window = TimeRange::new(window.start, Timestamp::now().max(window.end));
    }
}

/// Sleeps `total`, or less when cancelled; returns whether it slept the whole time.
async fn wait(total: Duration, cancel: &Cancel) -> bool {
    let step = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    while waited < total {
        if cancel.is_cancelled() {
            return false;
        }
        tokio::time::sleep(step).await;
        waited += step;
    }
    !cancel.is_cancelled()
}
