//! Reading the sources named on the command line into a store, with a report per source.

use crate::correlate::categories::Classifier;
use crate::correlate::thresholds::Thresholds;
use crate::model::SourceKind;
use crate::model::{Event, Series, ServerCounts};
use crate::sources::spec::SourceSpec;
use crate::sources::task::{Cancel, SourceMessage};
use crate::sources::{falco, falco_follow, runner, EntityTable, EntityTables, Parsed, SkipReport};
use crate::store::Store;
use std::io::{BufReader, Read};
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

/// Reads Falco JSON lines from a file or `-` (stdin) straight into the store, batch by batch.
/// An unreadable file is an error; a read error part-way keeps what was read and says so.
pub fn falco_input(loaded: &mut Loaded, path: &str, table: &EntityTable) -> Result<(), String> {
    let name = if path == "-" {
        "falco:stdin".to_string()
    } else {
        format!("falco:{path}")
    };
    let mut report = SourceReport::new(&name, SourceKind::Falco, path);
    let sink = |batch| {
        loaded.ingest(batch);
    };
    let (stats, err) = if path == "-" {
        falco::read_lines(std::io::stdin().lock(), &name, table, sink)
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read Falco input {path}: {e}"))?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(format!("cannot read Falco input {path}: it is a directory"));
        }
        falco::read_lines(BufReader::with_capacity(1 << 20, file), &name, table, sink)
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

/// Counts the bytes read (for progress) and turns a cancel into an error that stops the reader
/// (an end of input would make the half-read last line look malformed).
struct Metered<R> {
    inner: R,
    done: Arc<AtomicU64>,
    cancel: Cancel,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("cancelled"));
        }
        let n = self.inner.read(buf)?;
        self.done.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens a Falco file now (so a bad path is an immediate, clear error) and reads it on a
/// thread, sending batches, progress and a final report through `send`. With `follow`, it
/// then keeps following the file (`tail -F`) until cancelled.
pub fn spawn_falco_file(
    source: usize,
    path: &str,
    table: EntityTable,
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
    if follow {
        drop(file);
        let path = std::path::PathBuf::from(path);
        std::thread::spawn(move || {
            let outcome = crate::sources::task::catch_panic(|| {
                falco_follow::follow(&path, source, &table, &cancel, &mut report, &send)
            });
            if let Err(panic) = outcome {
                report.error = Some(format!(
                    "internal error, this source stopped: {}",
                    crate::sanitize::line(&panic)
                ));
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
        let reader = Metered {
            inner: file,
            done: done.clone(),
            cancel: cancel.clone(),
        };
        let sink = |events: Vec<Event>| {
            send(SourceMessage::Batch { source, events });
            send(SourceMessage::Progress {
                source,
                done: done.load(Ordering::Relaxed),
                total,
            });
        };
        let outcome = crate::sources::task::catch_panic(|| {
            falco::read_lines(
                BufReader::with_capacity(1 << 20, reader),
                &name,
                &table,
                sink,
            )
        });
        let (stats, err) = match outcome {
            Ok(done) => done,
            Err(panic) => {
                report.error = Some(format!(
                    "internal error, this source stopped: {}",
                    crate::sanitize::line(&panic)
                ));
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
