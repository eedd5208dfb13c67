//! Sources that answer with the present rather than a log: Alertmanager's alerts, Zabbix's
//! problems, Grafana's annotations. Read once for a closed window; while the TUI follows an
//! open one, asked again every [`POLL_EVERY`], and only what is new reaches the store.

use super::http::HttpClient;
use super::spec::SourceSpec;
use super::task::{Cancel, SourceMessage};
use super::{alertmanager, grafana, zabbix, EntityTables};
use crate::load::SourceReport;
use crate::model::{TimeRange, Timestamp};
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::Duration;

/// How often a followed source is asked again.
pub const POLL_EVERY: Duration = Duration::from_secs(30);

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
    let seen: Mutex<HashSet<u64>> = Mutex::new(HashSet::new());
    // Only new records go on: the same alert, asked again, is not stored twice.
    let only_new = |msg: SourceMessage| match msg {
        SourceMessage::Batch { source, mut events } => {
            let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            events.retain(|e| seen.insert(hasher.hash_one(&e.raw)));
            events.is_empty() || send(SourceMessage::Batch { source, events })
        }
        other => send(other),
    };
    let mut window = window;
    loop {
        report.error = None;
        report.events = 0;
        match spec {
            SourceSpec::Alertmanager { .. } => {
                alertmanager::run(
                    client,
                    window,
                    &tables.alertmanager,
                    source,
                    report,
                    &only_new,
                )
                .await
            }
            SourceSpec::Zabbix { .. } => {
                zabbix::run(
                    client,
                    window,
                    budget,
                    &tables.zabbix,
                    source,
                    report,
                    &only_new,
                )
                .await
            }
            SourceSpec::Grafana { .. } => {
                grafana::run(
                    client,
                    window,
                    budget,
                    &tables.grafana,
                    source,
                    report,
                    &only_new,
                )
                .await
            }
            _ => return,
        }
        report.events = seen.lock().map(|s| s.len()).unwrap_or(report.events);
        let Some(every) = follow.filter(|_| !cancel.is_cancelled()) else {
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
