//! `casefile report CASE.casefile [-o FILE] [--format md|html]`: the post-incident timeline of
//! a case bundle, for the review. The bundle is checked first as `verify` checks it (nothing
//! is reported from a bundle that is not intact); then the report gives the summary, the case
//! metrics, the entities involved, the chains, the marked events with their notes in time
//! order, and a verification line with the file's SHA-256. What it says is worked out once
//! ([`facts`]) and its parts come in one order ([`write`]); the two formats ([`Format`]) only
//! escape it and lay it out.
//!
//! Everything in a bundle is someone else's text, the manifest included (a bundle can be
//! intact and still written by an attacker): every piece of it is escaped for the format
//! ([`markdown::text`], [`html::text`]). The output depends only on the bundle's bytes and its
//! file name, never on the clock.

pub mod facts;
pub mod html;
pub mod markdown;
pub mod svg;

use crate::bundle::format::{self, Manifest};
use crate::bundle::open::{self, Opened};
use crate::bundle::records::{ChainRecord, MarkRecord};
use crate::case_metrics::alerts::{self, OptionalSteps};
use crate::case_metrics::{CaseMetrics, EventTally, Inputs};
use crate::cli::{ReportArgs, ReportFormat};
use crate::model::{Event, Series, Timestamp};
use facts::{EntityValues, Line, Marked, Span, Table};
use std::path::Path;

/// The longest piece of the bundle's text shown (a title can be a whole log line).
pub const MAX_TEXT: usize = 300;
/// Notes are the analyst's own: longer.
pub const MAX_NOTE: usize = 4000;

/// A bundle checked and decoded, with what the report derives from it.
pub struct Report {
    /// The file's name (not its directory: the report reads the same wherever it is).
    pub name: String,
    /// SHA-256 of the whole file, of the bytes that were checked.
    pub sha256: String,
    /// The public key a valid signature is by (hex), when signed.
    pub signed_by: Option<String>,
    pub manifest: Manifest,
    pub events: Vec<Event>,
    pub series: Vec<Series>,
    pub marks: Vec<MarkRecord>,
    pub chains: Vec<ChainRecord>,
    pub metrics: CaseMetrics,
    /// The metrics are the manifest's (recorded at export), not computed by the report.
    pub metrics_recorded: bool,
    /// Which chain steps the rules in use call optional.
    pub optional: &'static OptionalSteps,
}

impl Report {
    /// Reads and checks a bundle. The file is read once, and the bytes hashed are the bytes
    /// checked.
    pub fn open(path: &Path) -> Result<Report, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Report::from_bytes(&name, &bytes)
    }

    /// [`Report::open`] on a bundle's bytes, named `name`.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Report, String> {
        let opened = open::check_from(&mut std::io::Cursor::new(bytes), bytes.len() as u64)
            .map_err(|r| {
                format!(
                    "{}: not intact: {r} (no report is made from a bundle that does not verify)",
                    crate::sanitize::line(name)
                )
            })?;
        Ok(Report::of(name, format::sha256_hex(bytes), opened))
    }

    fn of(name: &str, sha256: String, opened: Opened) -> Report {
        let optional = OptionalSteps::current();
        let (metrics, metrics_recorded) = match &opened.manifest.metrics {
            Some(m) => (m.clone(), true),
            None => (computed_metrics(&opened, optional), false),
        };
        Report {
            name: name.to_string(),
            sha256,
            signed_by: opened.signed_by.as_ref().map(|k| format::hex(k.as_bytes())),
            manifest: opened.manifest,
            events: opened.events,
            series: opened.series,
            marks: opened.marks,
            chains: opened.chains,
            metrics,
            metrics_recorded,
            optional,
        }
    }

    /// The first and last event's time.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        Some((self.events.first()?.ts, self.events.last()?.ts))
    }
}

/// The metrics of a bundle written before casefile recorded them, from what it holds: its
/// chains as alerts, its marks (no time recorded: no time to triage) and its creation time
/// as the export.
fn computed_metrics(opened: &Opened, optional: &OptionalSteps) -> CaseMetrics {
    let mut events = EventTally::default();
    for e in &opened.events {
        events.add_event(e);
    }
    let alerts = opened
        .chains
        .iter()
        .filter_map(|c| {
            let steps = c
                .steps
                .iter()
                .map(|s| Some((s.name.as_str(), opened.events.get(s.seq as usize)?.ts)))
                .collect::<Option<Vec<_>>>()?;
            alerts::from_steps(&c.rule, steps, optional)
        })
        .collect();
    let mut metrics = CaseMetrics::compute(&Inputs {
        events,
        alerts,
        marks: opened
            .marks
            .iter()
            .map(|m| m.marked_at.as_deref().and_then(Timestamp::parse_rfc3339))
            .collect(),
        exported_at: Timestamp::parse_rfc3339(&opened.manifest.created_at),
        origin: Default::default(),
    });
    metrics.notes.insert(
        0,
        "computed by the report: the bundle was written before casefile recorded its metrics"
            .into(),
    );
    metrics
}

/// A format of the report: how it escapes the bundle's text and lays out the facts.
pub trait Format {
    /// At most `max` characters of the bundle's text, safe anywhere in the format.
    fn escape(s: &str, max: usize) -> String;
    /// Escaped text set as code ([`Span::Code`]); as it is where the format has no code.
    fn code(s: &str) -> String {
        s.to_string()
    }
    /// A time ([`Span::Time`]); as it is where the format does not set times apart.
    fn time(s: &str) -> String {
        s.to_string()
    }
    /// The report's muted words ([`Span::Muted`]); as they are where the format has no muting.
    fn muted(s: &str) -> String {
        s.to_string()
    }
    /// The title and the lead, escaped, that open the report.
    fn start(out: &mut String, title: &str, lead: &str);
    /// A section's heading, with its `id`, or a part's (no `id`); `title` is escaped.
    fn heading(out: &mut String, id: Option<&str>, title: &str);
    /// What a part says when it has nothing to show.
    fn none(out: &mut String, message: &str);
    fn table(out: &mut String, table: &Table);
    /// The summary, up to the sources.
    fn summary(out: &mut String, r: &Report);
    fn metrics(out: &mut String, r: &Report);
    fn entities(out: &mut String, all: &[EntityValues]);
    /// What a chain is joined on, and when it fires.
    fn joined(out: &mut String, bound: &[Line], fires: Option<&Line>);
    fn marked(out: &mut String, marked: &[Marked]);
    /// The metric series, in a format that plots them.
    fn series(_: &mut String, _: &Report) {}
    /// The verification, and the end of the document.
    fn end(out: &mut String, r: &Report);

    /// The bundle's text, escaped: at most [`MAX_TEXT`] characters of it.
    fn text(s: &str) -> String {
        Self::escape(s, MAX_TEXT)
    }

    /// A line of facts: the bundle's text escaped, the report's own as it is.
    fn line(spans: &[Span]) -> String {
        let span = |span: &Span| match span {
            Span::Own(s) => s.clone(),
            Span::Text(s) => Self::text(s),
            Span::Code(s) => Self::code(&Self::text(s)),
            Span::Time(s) => Self::time(s),
            Span::Muted(s) => Self::muted(s),
        };
        spans.iter().map(span).collect()
    }
}

/// The report in format `F`: its parts in order, each with its heading, and what a part
/// says when it has nothing to show.
pub fn write<F: Format>(r: &Report) -> String {
    let mut out = String::new();
    // Whether a part has anything to show; when it has not, it says so.
    let shows = |out: &mut String, empty: bool, none: &str| {
        if empty {
            F::none(out, none);
        }
        !empty
    };
    F::start(&mut out, &F::text(&r.name), &F::line(&r.lead()));
    F::heading(&mut out, Some("summary"), "Summary");
    F::summary(&mut out, r);
    F::heading(&mut out, None, "Sources and queries");
    let sources = r.sources();
    if shows(&mut out, sources.rows.is_empty(), "No source is recorded.") {
        F::table(&mut out, &sources);
    }
    F::heading(&mut out, Some("metrics"), "Case metrics");
    F::metrics(&mut out, r);
    F::heading(&mut out, Some("entities"), "Entities involved");
    let entities = r.entities();
    if shows(&mut out, entities.is_empty(), "No entities.") {
        F::entities(&mut out, &entities);
    }
    F::heading(&mut out, Some("chains"), "Attack chains");
    let chains = r.attack_chains();
    shows(
        &mut out,
        chains.is_empty(),
        "No chain was found by the rules.",
    );
    for (i, c) in chains.iter().enumerate() {
        F::heading(&mut out, None, &format!("{}. {}", i + 1, F::text(c.rule)));
        F::joined(&mut out, &c.bound, c.fires.as_ref());
        F::table(&mut out, &c.steps);
    }
    F::heading(&mut out, Some("marks"), "Marked events");
    let marked = r.marked();
    if shows(&mut out, marked.is_empty(), "No event was marked.") {
        F::marked(&mut out, &marked);
    }
    F::series(&mut out, r);
    F::heading(&mut out, Some("verification"), "Verification");
    F::end(&mut out, r);
    out
}

/// The report of the bundle at `path` in `format`.
pub fn render(path: &Path, format: ReportFormat) -> Result<String, String> {
    let report = Report::open(path)?;
    Ok(match format {
        ReportFormat::Md => markdown::render(&report),
        ReportFormat::Html => html::render(&report),
    })
}

/// The command: the report written to `-o` (atomically), or returned for stdout.
pub fn run(args: &ReportArgs) -> Result<Option<String>, String> {
    let text = render(&args.path, args.format)?;
    match &args.output {
        Some(out) => {
            crate::bundle::export::write_atomic(out, text.as_bytes())?;
            Ok(None)
        }
        None => Ok(Some(text)),
    }
}
