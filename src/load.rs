//! Reading the sources named on the command line into a store, with a report per source.

use crate::correlate::categories::Classifier;
use crate::correlate::thresholds::Thresholds;
use crate::model::SourceKind;
use crate::model::{Event, Series, ServerCounts};
use crate::sources::falco_chunks;
use crate::sources::spec::SourceSpec;
use crate::sources::task::{Cancel, SourceMessage};
use crate::sources::{falco, falco_follow, runner, EntityTable, EntityTables, Parsed, SkipReport};
use crate::store::{PackedBatch, Query, RawFile, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What one source contributed, for the status bar and stderr.
#[derive(Debug, Clone)]
pub struct SourceReport {
    pub name: String,
    pub kind: SourceKind,
    /// The query that was run, or the file that was read.
    pub query: String,
    pub events: usize,
    pub series: usize,
    pub skipped: SkipReport,
    pub ignored: usize,
    /// Why the source gave nothing (or stopped early), in the server's or the OS's own words.
    pub error: Option<String>,
    /// While the source is still loading: bytes (or records) done, and the total when known.
    pub progress: Option<(u64, Option<u64>)>,
    /// The user stopped it before the end; what was read is kept.
    pub cancelled: bool,
    /// Caught up and following new data as it comes.
    pub live: bool,
    /// Events of the window the server holds but that were not loaded (over the budget).
    pub not_loaded: Option<u64>,
    /// With `not_loaded`: the oldest time loaded. The window before it stays on the server.
    pub oldest_loaded: Option<crate::model::Timestamp>,
    /// TLS verification was turned off for this source (`insecure = true`): shown as such.
    pub insecure: bool,
    /// Replaced by a re-run with another query: its late messages are ignored.
    pub retired: bool,
    /// Events casefile derived from what this source returned (threshold crossings of its
    /// series), beside the `events` it returned itself.
    pub derived: usize,
    /// Reads part of a window other tasks read too (a pushed-down pivot, older events): its
    /// events are checked against the store so none is held twice.
    pub overlaps: bool,
}

impl SourceReport {
    pub fn new(name: &str, kind: SourceKind, query: &str) -> Self {
        SourceReport {
            name: name.to_string(),
            kind,
            query: query.to_string(),
            events: 0,
            series: 0,
            skipped: SkipReport::default(),
            ignored: 0,
            error: None,
            progress: None,
            cancelled: false,
            live: false,
            not_loaded: None,
            oldest_loaded: None,
            insecure: false,
            retired: false,
            derived: 0,
            overlaps: false,
        }
    }

    /// Lines for stderr: errors, and skipped records with their first samples.
    pub fn diagnostics(&self) -> Vec<String> {
        let mut out = Vec::new();
        let name = crate::sanitize::line(&self.name);
        if let Some(e) = &self.error {
            out.push(format!("casefile: {name}: {}", crate::sanitize::line(e)));
        }
        if let Some(n) = self.not_loaded.filter(|n| *n > 0) {
            out.push(format!(
                "casefile: {name}: the window holds {n} more events than were loaded (the newest {} are); narrow the window or pivot to see the rest",
                self.events
            ));
        }
        if self.skipped.skipped > 0 {
            out.push(format!(
                "casefile: {name}: skipped {} malformed record{}:",
                self.skipped.skipped,
                if self.skipped.skipped == 1 { "" } else { "s" }
            ));
            for s in &self.skipped.samples {
                out.push(format!("  {s}"));
            }
        }
        out
    }
}

/// What is derived from the data as it is loaded: events' security-signal categories, and
/// events from metric series that cross a threshold.
#[derive(Debug, Default)]
pub struct IngestRules {
    pub categories: Classifier,
    pub thresholds: Thresholds,
}

impl IngestRules {
    /// Nothing derived: events are stored as they come (a bundle's, as exported).
    pub fn none() -> IngestRules {
        IngestRules {
            categories: Classifier::none(),
            thresholds: Thresholds::none(),
        }
    }
}

/// A store filled from sources, and what each source did.
#[derive(Debug, Default)]
pub struct Loaded {
    pub store: Store,
    /// What is derived from the data as it arrives.
    pub rules: Arc<IngestRules>,
    pub reports: Vec<SourceReport>,
    /// Server-side counts of windows too big to load whole.
    pub server_counts: Vec<ServerCounts>,
}

impl Loaded {
    /// Puts one parsed input into the store and records its report.
    pub fn add(&mut self, mut report: SourceReport, parsed: Parsed) {
        report.events += parsed.events.len();
        report.series += parsed.series.len();
        report.skipped.merge(parsed.skipped);
        report.ignored += parsed.ignored;
        self.ingest(parsed.events);
        self.reports.push(report);
        let source = self.reports.len() - 1;
        self.add_series(source, parsed.series);
    }

    /// Classifies the events and stores them; see [`Store::ingest`] for what it returns.
    pub fn ingest(&mut self, mut events: Vec<Event>) -> Option<usize> {
        for e in &mut events {
            self.rules.categories.classify(e);
        }
        self.store.ingest(events)
    }

    /// Classifies a packed batch's events and stores them, as [`Loaded::ingest`] does.
    pub fn ingest_packed(&mut self, batch: &PackedBatch) -> Option<usize> {
        let classifier = &self.rules.categories;
        if batch.is_classified() {
            self.store.ingest_packed(batch, |_| Vec::new())
        } else {
            self.store
                .ingest_packed(batch, |e| classifier.categories(e))
        }
    }

    /// Stores the series, and the events of their threshold crossings (once: a series read
    /// again crosses at the same samples).
    pub fn add_series(&mut self, source: usize, series: Vec<Series>) -> Option<usize> {
        let crossings: Vec<Event> = series
            .iter()
            .flat_map(|s| self.rules.thresholds.crossings(s))
            .filter(|e| !self.store.holds(e.ts, e.source, &e.raw))
            .collect();
        if let Some(r) = self.reports.get_mut(source) {
            r.derived += crossings.len();
        }
        self.store.add_series(series);
        self.ingest(crossings)
    }

    /// Applies one message from a source task. Returns the first store position that moved,
    /// when late events were merged in (see [`Store::ingest`]).
    pub fn apply(&mut self, msg: SourceMessage) -> Option<usize> {
        let source = match &msg {
            SourceMessage::Batch { source, .. }
            | SourceMessage::Packed { source, .. }
            | SourceMessage::Counts { source, .. }
            | SourceMessage::Series { source, .. }
            | SourceMessage::Live { source }
            | SourceMessage::Progress { source, .. }
            | SourceMessage::Labels { source, .. }
            | SourceMessage::Update { source, .. }
            | SourceMessage::Finished { source, .. } => *source,
        };
        if self.reports.get(source).is_some_and(|r| r.retired) {
            return None;
        }
        match msg {
            SourceMessage::Labels { .. } => {}
            SourceMessage::Batch { mut events, .. } => {
                if self.reports.get(source).is_some_and(|r| r.overlaps) {
                    events.retain(|e| !self.store.holds(e.ts, e.source, &e.raw));
                }
                return self.ingest(events);
            }
            SourceMessage::Packed { batch, .. } => {
                if self.reports.get(source).is_some_and(|r| r.overlaps) {
                    let mut events = batch.to_events();
                    events.retain(|e| !self.store.holds(e.ts, e.source, &e.raw));
                    return self.ingest(events);
                }
                return self.ingest_packed(&batch);
            }
            SourceMessage::Series { series, .. } => return self.add_series(source, series),
            SourceMessage::Counts { counts, .. } => self.server_counts.push(counts),
            SourceMessage::Progress {
                source,
                done,
                total,
            } => {
                if let Some(r) = self.reports.get_mut(source) {
                    r.progress = Some((done, total));
                }
            }
            SourceMessage::Live { source } => {
                if let Some(r) = self.reports.get_mut(source) {
                    r.progress = None;
                    r.live = true;
                }
            }
            SourceMessage::Finished { source, mut report }
            | SourceMessage::Update { source, mut report } => {
                if let Some(r) = self.reports.get_mut(source) {
                    report.overlaps |= r.overlaps;
                    report.derived = r.derived;
                    *r = report;
                }
            }
        }
        None
    }

    /// Reads live sources to the end (for `query`): each runs as a task, their messages are
    /// applied as they come.
    pub fn read_live(
        &mut self,
        specs: Vec<SourceSpec>,
        options: runner::RunOptions,
        tables: &EntityTables,
        cancel: &Cancel,
    ) {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        for spec in specs {
            let tx = tx.clone();
            let index = self.reports.len();
            let report = runner::spawn(
                spec,
                index,
                options,
                tables.clone(),
                cancel.clone(),
                move |m| tx.send(m).is_ok(),
            );
            self.reports.push(report);
        }
        drop(tx);
        for msg in rx {
            self.apply(msg);
        }
        // Every task ends with a final report; one that did not has died.
        for r in &mut self.reports {
            if r.progress.is_some() {
                r.progress = None;
                r.error
                    .get_or_insert_with(|| "the source stopped without a final report".into());
            }
        }
    }

    pub fn total_skipped(&self) -> usize {
        self.reports.iter().map(|r| r.skipped.skipped).sum()
    }
}

/// Reads Falco JSON lines from a file or `-` (stdin) straight into the store, batch by batch;
/// with `keep`, only the events that query picks are stored (the others are still checked,
/// counted and, when malformed, reported). An unreadable file is an error; a read error
/// part-way keeps what was read and says so.
pub fn falco_input(
    loaded: &mut Loaded,
    path: &str,
    table: &EntityTable,
    keep: Option<&Query>,
) -> Result<(), String> {
    let name = if path == "-" {
        "falco:stdin".to_string()
    } else {
        format!("falco:{path}")
    };
    let mut report = SourceReport::new(&name, SourceKind::Falco, path);
    let rules = loaded.rules.clone();
    let sink = |batch: PackedBatch| {
        loaded.ingest_packed(&batch);
    };
    let workers = falco_chunks::workers();
    let mut how = falco_chunks::ReadAs {
        source_name: &name,
        table,
        classifier: &rules.categories,
        raw_file: None,
        keep,
    };
    let (stats, err) = if path == "-" {
        falco_chunks::read_chunked(std::io::stdin(), &how, workers, sink)
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read Falco input {path}: {e}"))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot read Falco input {path}: {e}"))?;
        if meta.is_dir() {
            return Err(format!("cannot read Falco input {path}: it is a directory"));
        }
        how.raw_file = raw_file_for(path, &meta);
        falco_chunks::read_chunked(file, &how, workers, sink)
    };
    if let Some(e) = err {
        report.error = Some(format!("read error after {} events: {e}", stats.events));
    }
    report.events = stats.events;
    report.skipped = stats.skipped;
    report.ignored = stats.ignored;
    loaded.reports.push(report);
    Ok(())
}

/// Raw records are kept by offset only in a regular file (a pipe or a device cannot be read
/// back). A file that cannot be opened a second time keeps its records as text.
fn raw_file_for(path: &str, meta: &std::fs::Metadata) -> Option<Arc<RawFile>> {
    if !meta.is_file() {
        return None;
    }
    RawFile::open(std::path::Path::new(path)).ok().map(Arc::new)
}

/// Opens a Falco file now (so a bad path is an immediate, clear error) and reads it on a
/// thread, sending batches, progress and a final report through `send`. With `follow`, it
/// then keeps following the file (`tail -F`) until cancelled.
pub fn spawn_falco_file(
    source: usize,
    path: &str,
    table: EntityTable,
    rules: Arc<IngestRules>,
    cancel: Cancel,
    follow: bool,
    send: impl Fn(SourceMessage) -> bool + Send + Sync + 'static,
) -> Result<SourceReport, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read Falco input {path}: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read Falco input {path}: {e}"))?;
    if meta.is_dir() {
        return Err(format!("cannot read Falco input {path}: it is a directory"));
    }
    let name = format!("falco:{path}");
    let mut report = SourceReport::new(&name, SourceKind::Falco, path);
    let total = meta.is_file().then_some(meta.len());
    report.progress = Some((0, total));
    let placeholder = report.clone();
    let raw_file = raw_file_for(path, &meta);
    if follow {
        drop(file);
        let path = std::path::PathBuf::from(path);
        std::thread::spawn(move || {
            let outcome = crate::sources::task::catch_panic(|| {
                falco_follow::follow(
                    &path,
                    source,
                    &table,
                    &rules.categories,
                    &cancel,
                    &mut report,
                    &send,
                )
            });
            if let Err(panic) = outcome {
                report.error = Some(crate::sources::task::stopped_by_panic(&panic));
            }
            report.progress = None;
            report.live = false;
            report.cancelled = true;
            send(SourceMessage::Finished { source, report });
        });
        return Ok(placeholder);
    }
    std::thread::spawn(move || {
        let done = Arc::new(AtomicU64::new(0));
        let reader = falco_chunks::Metered {
            inner: file,
            done: done.clone(),
            cancel: cancel.clone(),
        };
        let sink = |batch: PackedBatch| {
            send(SourceMessage::Packed { source, batch });
            send(SourceMessage::Progress {
                source,
                done: done.load(Ordering::Relaxed),
                total,
            });
        };
        let outcome = crate::sources::task::catch_panic(|| {
            let how = falco_chunks::ReadAs {
                source_name: &name,
                table: &table,
                classifier: &rules.categories,
                raw_file,
                keep: None,
            };
            falco_chunks::read_chunked(reader, &how, falco_chunks::workers(), sink)
        });
        let (stats, err) = match outcome {
            Ok(done) => done,
            Err(panic) => {
                report.error = Some(crate::sources::task::stopped_by_panic(&panic));
                (falco::LineStats::default(), None)
            }
        };
        report.progress = None;
        report.cancelled = cancel.is_cancelled();
        if let Some(e) = err.filter(|_| !report.cancelled) {
            report.error = Some(format!("read error after {} events: {e}", stats.events));
        }
        report.events = stats.events;
        report.skipped = stats.skipped;
        report.ignored = stats.ignored;
        send(SourceMessage::Finished { source, report });
    });
    Ok(placeholder)
}
