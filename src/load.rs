//! Reading the sources named on the command line into a store, with a report per source.

use crate::model::SourceKind;
use crate::sources::{falco, EntityTable, Parsed, SkipReport};
use crate::store::Store;
use std::io::BufReader;

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
        }
    }

    /// Lines for stderr: errors, and skipped records with their first samples.
    pub fn diagnostics(&self) -> Vec<String> {
        let mut out = Vec::new();
        let name = crate::sanitize::line(&self.name);
        if let Some(e) = &self.error {
            out.push(format!("casefile: {name}: {}", crate::sanitize::line(e)));
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

/// A store filled from sources, and what each source did.
#[derive(Debug, Default)]
pub struct Loaded {
    pub store: Store,
    pub reports: Vec<SourceReport>,
}

impl Loaded {
    /// Puts one parsed input into the store and records its report.
    pub fn add(&mut self, mut report: SourceReport, parsed: Parsed) {
        report.events += parsed.events.len();
        report.series += parsed.series.len();
        report.skipped.merge(parsed.skipped);
        report.ignored += parsed.ignored;
        self.store.ingest(parsed.events);
        self.store.add_series(parsed.series);
        self.reports.push(report);
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
    let store = &mut loaded.store;
    let sink = |batch| store.ingest(batch);
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
