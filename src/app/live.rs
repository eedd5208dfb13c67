//! What the TUI needs to start source tasks after start-up: the live sources' specs, and how
//! to reach the loop. Used to push a pivot down to a source whose window was too big to load.

use crate::load::{Loaded, SourceReport};
use crate::sources::pushdown::{self, LokiStreams, Streams};
use crate::sources::runner::{self, RunOptions};
use crate::sources::spec::SourceSpec;
use crate::sources::task::{Cancel, SourceMessage};
use crate::sources::EntityTables;
use crate::store::Pivot;
use std::collections::{HashMap, HashSet};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};

/// A Loki query's streams, by (endpoint URL, query): `None` while the series API is being
/// asked, then its answer or why there is none.
type StreamsByQuery = HashMap<(String, String), Option<Result<LokiStreams, String>>>;

pub struct LiveSources {
    /// Report index → the spec that produced it, and the task's own cancel token.
    pub specs: Vec<(usize, SourceSpec)>,
    cancels: Vec<(usize, Cancel)>,
    pub options: RunOptions,
    pub tables: EntityTables,
    pub cancel: Cancel,
    pub tx: SyncSender<SourceMessage>,
    /// (report index, pivots, search) already pushed down, so going back and forth does not repeat.
    pushed: HashSet<(usize, Vec<Pivot>, Option<String>)>,
    /// The labels of the streams each Loki query selects, which decide where its pivots can
    /// go (see [`pushdown::narrow_with`]). Asked on a thread of its own as soon as the query
    /// is known, so a push-down (on the UI thread) only looks the answer up, never waits.
    streams: Arc<Mutex<StreamsByQuery>>,
    /// A push-down waits for a Loki query's stream labels (see [`LiveSources::retry_due`]).
    waiting: bool,
}

impl LiveSources {
    pub fn new(
        specs: Vec<(usize, SourceSpec)>,
        options: RunOptions,
        tables: EntityTables,
        cancel: Cancel,
        tx: SyncSender<SourceMessage>,
    ) -> Self {
        let live = LiveSources {
            specs,
            cancels: Vec::new(),
            options,
            tables,
            cancel,
            tx,
            pushed: HashSet::new(),
            streams: Arc::default(),
            waiting: false,
        };
        for (_, spec) in &live.specs {
            live.ask_streams(spec);
        }
        live
    }

    /// Asks a Loki log query's server which labels its streams carry, on a thread of its
    /// own; the answer is kept for [`LiveSources::push_down`]. Once per query.
    fn ask_streams(&self, spec: &SourceSpec) {
        let SourceSpec::Loki { endpoint, query } = spec else {
            return;
        };
        if pushdown::stream_selector(query).is_none() {
            return;
        }
        let key = (endpoint.url.clone(), query.clone());
        {
            let Ok(mut known) = self.streams.lock() else {
                return;
            };
            if known.contains_key(&key) {
                return;
            }
            known.insert(key.clone(), None);
        }
        let (endpoint, query, window, cancel, streams) = (
            endpoint.clone(),
            query.clone(),
            self.options.window,
            self.cancel.clone(),
            self.streams.clone(),
        );
        std::thread::spawn(move || {
            let answer =
                crate::sources::loki_client::streams_blocking(&endpoint, &query, window, cancel);
            if let Ok(mut known) = streams.lock() {
                known.insert(key, Some(answer));
            }
        });
    }

    /// What is known of a spec's streams: `None` while they are being read (or for a spec
    /// that is not a Loki log query).
    fn streams_of(&self, spec: &SourceSpec) -> Option<Result<LokiStreams, String>> {
        let SourceSpec::Loki { endpoint, query } = spec else {
            return None;
        };
        let known = self.streams.lock().ok()?;
        known
            .get(&(endpoint.url.clone(), query.clone()))
            .cloned()
            .flatten()
    }

    /// Whether a push-down waited for stream labels that have now come (or failed): the
    /// caller pushes the current pivot down again. Cheap: a look at what is known.
    pub fn retry_due(&mut self) -> bool {
        if !self.waiting {
            return false;
        }
        let known = self.specs.iter().all(|(_, spec)| {
            !matches!(spec, SourceSpec::Loki { query, .. } if pushdown::stream_selector(query).is_some())
                || self.streams_of(spec).is_some()
        });
        if known {
            self.waiting = false;
        }
        known
    }

    /// Whether the labels of a Loki source's streams have been read (or failed to be): until
    /// then, its pivots that a stream label could carry are filtered locally only.
    pub fn streams_known(&self, index: usize) -> bool {
        self.specs
            .iter()
            .find(|(i, _)| *i == index)
            .is_some_and(|(_, spec)| self.streams_of(spec).is_some())
    }

    /// Registers the cancel token a source's task was started with, so that it alone can be
    /// stopped when its query is replaced.
    pub fn set_cancel(&mut self, index: usize, cancel: Cancel) {
        self.cancels.push((index, cancel));
    }

    /// The first Loki source still in use: its report index and query.
    pub fn loki_query(&self) -> Option<(usize, String)> {
        self.specs.iter().find_map(|(i, s)| match s {
            SourceSpec::Loki { query, .. } => Some((*i, query.clone())),
            _ => None,
        })
    }

    /// Asks the source's server for its label names, or one label's values (for completion);
    /// the answer comes back as a `Labels` message.
    pub fn fetch_labels(&self, index: usize, label: Option<String>) {
        let Some((_, SourceSpec::Loki { endpoint, .. })) =
            self.specs.iter().find(|(i, _)| *i == index)
        else {
            return;
        };
        let (endpoint, window, tx, cancel) = (
            endpoint.clone(),
            self.options.window,
            self.tx.clone(),
            self.cancel.clone(),
        );
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let values = crate::sources::task::catch_panic(|| {
                rt.block_on(async {
                    let client = crate::sources::http::HttpClient::new(&endpoint, cancel).ok()?;
                    crate::sources::loki_client::labels(&client, label.as_deref(), window)
                        .await
                        .ok()
                })
            })
            .ok()
            .flatten();
            if let Some(values) = values {
                let _ = tx.send(SourceMessage::Labels {
                    source: index,
                    label,
                    values,
                });
            }
        });
    }

    /// Starts another task for a window part of a source already loaded (its events may
    /// overlap what is in the store), as a new source report; gives its cancel token.
    fn spawn_overlapping(
        &self,
        spec: SourceSpec,
        options: RunOptions,
        data: &mut Loaded,
    ) -> Cancel {
        let tx = self.tx.clone();
        let cancel = self.cancel.child();
        let mut placeholder: SourceReport = runner::spawn(
            spec,
            data.reports.len(),
            options,
            self.tables.clone(),
            cancel.clone(),
            move |m| tx.send(m).is_ok(),
        );
        placeholder.overlaps = true;
        data.reports.push(placeholder);
        cancel
    }

    /// Loads the next part of each window that stayed on the server: up to another budget of
    /// events, the newest first, before the oldest loaded so far. The new task takes over the
    /// count of what is left.
    pub fn load_older(&mut self, data: &mut Loaded) -> Vec<String> {
        let mut said = Vec::new();
        for (index, spec) in self.specs.clone() {
            let Some(report) = data.reports.get_mut(index) else {
                continue;
            };
            let (Some(left), Some(oldest)) =
                (report.not_loaded.filter(|n| *n > 0), report.oldest_loaded)
            else {
                continue;
            };
            report.not_loaded = None;
            let name = report.name.clone();
            let options = RunOptions {
                window: crate::model::TimeRange::new(self.options.window.start, oldest),
                follow: false,
                budget: self.options.budget,
            };
            let source = data.reports.len();
            let cancel = self.spawn_overlapping(spec.clone(), options, data);
            self.specs.push((source, spec));
            self.cancels.push((source, cancel.clone()));
            self.cancels.push((index, cancel));
            said.push(format!(
                "{name}: loading older events ({left} were left on the server)"
            ));
        }
        if said.is_empty() {
            said.push("every source loaded its whole window".into());
        }
        said
    }

    /// Replaces a Loki source's query: its task is stopped, its events leave the store, and a
    /// new task reads the window with the new query.
    pub fn rerun(
        &mut self,
        index: usize,
        query: &str,
        data: &mut Loaded,
    ) -> Result<String, String> {
        let Some(pos) = self.specs.iter().position(|(i, _)| *i == index) else {
            return Err("that source cannot be re-run".into());
        };
        let SourceSpec::Loki { endpoint, .. } = self.specs[pos].1.clone() else {
            return Err("only Loki queries are edited here".into());
        };
        // The source's task, and the tasks started on its behalf (pushed-down pivots, older
        // parts), all stop.
        for (_, c) in self.cancels.iter().filter(|(i, _)| *i == index) {
            c.cancel();
        }
        let name = endpoint.name.clone();
        if let Some(old) = data.reports.get_mut(index) {
            let mut retired = SourceReport::new(&old.name, old.kind, &old.query);
            retired.retired = true;
            *old = retired;
        }
        let pushed_prefix = format!("{name} · ");
        data.store = data
            .store
            .without_sources(|n| n == name || n.starts_with(&pushed_prefix));
        let spec = SourceSpec::Loki {
            endpoint,
            query: query.to_string(),
        };
        let source = data.reports.len();
        let tx = self.tx.clone();
        let cancel = self.cancel.child();
        let report = runner::spawn(
            spec.clone(),
            source,
            self.options,
            self.tables.clone(),
            cancel.clone(),
            move |m| tx.send(m).is_ok(),
        );
        data.reports.push(report);
        self.ask_streams(&spec);
        self.specs[pos] = (source, spec);
        self.cancels.push((source, cancel));
        Ok(format!("{name}: running {query}"))
    }

    /// For each source that left part of its window on the server, asks the server for that
    /// part again with the pivots pushed down. Returns what was done, for the status line.
    pub fn push_down(
        &mut self,
        pivots: &[Pivot],
        search: Option<&str>,
        data: &mut Loaded,
    ) -> Vec<String> {
        let mut said = Vec::new();
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if pivots.is_empty() && search.is_none() {
            return said;
        }
        for (index, spec) in self.specs.clone() {
            let Some(report) = data.reports.get(index) else {
                continue;
            };
            let (Some(left), Some(oldest)) =
                (report.not_loaded.filter(|n| *n > 0), report.oldest_loaded)
            else {
                continue;
            };
            let name = report.name.clone();
            let mut parts: Vec<String> = pivots.iter().map(|p| p.to_string()).collect();
            parts.extend(search.map(|s| format!("search \"{s}\"")));
            let label = parts.join(" & ");
            // A Loki query's streams were asked for when it was set up. Until the answer
            // comes, a pivot a stream label could carry cannot be placed: this source waits
            // (no waiting on the network here: this is the UI thread), and `retry_due` says
            // when to push again.
            let known = self.streams_of(&spec);
            if known.is_none() && pushdown::needs_streams(&spec, pivots, &self.tables) {
                self.waiting = true;
                said.push(format!(
                    "{name}: {label} waits for its streams' labels before asking the server"
                ));
                continue;
            }
            if !self
                .pushed
                .insert((index, pivots.to_vec(), search.map(str::to_string)))
            {
                continue;
            }
            let streams = known.as_ref().map_or(Streams::NotAsked, Streams::from);
            let ctx = pushdown::Context::new(&self.tables, streams);
            let why = pushdown::why_local(&spec, pivots, &ctx);
            let Some(mut narrowed) = pushdown::narrow_with(&spec, pivots, search, &ctx) else {
                let why = why.map(|w| format!("; {w}")).unwrap_or_default();
                said.push(format!(
                    "{name}: {label} filtered locally ({left} events stay on the server{why})"
                ));
                continue;
            };
            narrowed.endpoint_mut().name = format!("{name} · {label}");
            let options = RunOptions {
                window: crate::model::TimeRange::new(self.options.window.start, oldest),
                follow: false,
                budget: self.options.budget,
            };
            // Stopped with the source it narrows (its query replaced) or with everything.
            let cancel = self.spawn_overlapping(narrowed, options, data);
            self.cancels.push((index, cancel));
            let local = pushdown::kept_local(&spec, pivots, &ctx);
            let local = if local.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = local.iter().map(|p| p.to_string()).collect();
                let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
                format!("; {} filtered locally{why}", names.join(" & "))
            };
            said.push(format!(
                "{label} pushed down to {name} for the older part of the window{local}"
            ));
        }
        said
    }
}
