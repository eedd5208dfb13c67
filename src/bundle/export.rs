//! Writing a case bundle: the chosen events, the series, the sources and their queries, the
//! pivot history, the marks and the chains, with a manifest of every member's SHA-256.
//! Deterministic (fixed order, no clock but `created_at`, which `SOURCE_DATE_EPOCH` pins) and
//! atomic (a temporary file in the same directory, renamed over the target at the end).

use super::format::{self, Manifest, MemberEntry};
use super::records::{self, ChainRecord, MarkRecord, SeriesRecord, StepRecord};
use super::redact::Redactor;
use super::tar_io;
use crate::app::marks::Mark;
use crate::correlate::chains::Chain;
use crate::load::SourceReport;
use crate::model::{Series, Timestamp};
use crate::store::Store;
use flate2::write::GzEncoder;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

/// gzip level. For the 100,000-event file, the whole export takes 3.5 s and gives 15.5 MB at
/// level 3. At the default 6 it takes 4.4 s for 14.1 MB, and at 1 it takes 3.1 s for 27.5 MB.
const EVENT_LEVEL: u32 = 3;

/// Everything a bundle is made of, borrowed from where it lives.
pub struct Case<'a> {
    pub store: &'a Store,
    /// The events to export, in time order.
    pub positions: &'a [u32],
    pub series: Vec<&'a Series>,
    pub reports: &'a [SourceReport],
    pub selection: format::Selection,
    pub history: format::PivotHistory,
    /// Marks by the position of their event.
    pub marks: Vec<(u32, Mark)>,
    pub chains: &'a [Chain],
    /// Alerts the alert rules raised on these events (besides the chains), for the metrics.
    pub alerts: Vec<crate::case_metrics::alerts::Alert>,
    /// Where the events come from, for the case metrics (the demo's and a replayed bundle's
    /// events are not the analyst's present).
    pub origin: crate::case_metrics::Origin,
}

/// What was written, for the user.
#[derive(Debug, Clone)]
pub struct Written {
    pub bytes: u64,
    pub manifest: Manifest,
}

/// The creation time: `SOURCE_DATE_EPOCH` (seconds) when set, else now; whole seconds.
pub fn created_at() -> Result<i64, String> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|s| (0..=format::MAX_TIME).contains(s))
            .ok_or_else(|| {
                format!("SOURCE_DATE_EPOCH `{v}` is not a number of seconds from 1970 to 4147")
            }),
        _ => Ok(Timestamp::now().0 / 1_000_000_000),
    }
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    // No name, no time, the same level: the same input gives the same bytes.
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::new(EVENT_LEVEL));
    enc.write_all(bytes).map_err(|e| e.to_string())?;
    enc.finish().map_err(|e| e.to_string())
}

/// An export under way, a slice at a time (the TUI runs one between two looks at the
/// keyboard). It holds events by arrival number, so late events moving positions do not
/// disturb it, and owns everything else, so it borrows the store only while it works.
pub struct ExportJob {
    ids: Vec<u32>,
    done: usize,
    events: GzEncoder<Vec<u8>>,
    seq_of: HashMap<u32, u64>,
    redacted: BTreeMap<String, u64>,
    by_source: BTreeMap<String, u64>,
    by_name: BTreeMap<String, u64>,
    range: Option<(Timestamp, Timestamp)>,
    series: Vec<Series>,
    reports: Vec<SourceReport>,
    selection: format::Selection,
    history: format::PivotHistory,
    marks: Vec<(u32, Mark)>,
    chains: Vec<Chain>,
    /// The case metrics' counts, over the events as written (redacted).
    tally: crate::case_metrics::EventTally,
    /// The times of the chains' steps, by arrival number, for the metrics' alerts.
    step_times: HashMap<u32, Option<Timestamp>>,
    /// The alert rules' alerts, for the metrics.
    alerts: Vec<crate::case_metrics::alerts::Alert>,
    origin: crate::case_metrics::Origin,
    created_secs: i64,
    redactor: Redactor,
    signer: Option<ed25519_dalek::SigningKey>,
}

impl ExportJob {
    /// Signs the bundle with this key (`signature.ed25519`).
    pub fn signed_by(mut self, key: Option<ed25519_dalek::SigningKey>) -> ExportJob {
        self.signer = key;
        self
    }

    pub fn new(case: &Case, created_secs: i64, redactor: &Redactor) -> ExportJob {
        let store = case.store;
        let id = |pos: &u32| store.id_at(*pos);
        let step_times = case
            .chains
            .iter()
            .flat_map(|c| &c.steps)
            .filter_map(|s| Some((id(&s.pos)?, None)))
            .collect();
        ExportJob {
            ids: case.positions.iter().filter_map(id).collect(),
            done: 0,
            events: GzEncoder::new(Vec::new(), flate2::Compression::new(EVENT_LEVEL)),
            seq_of: HashMap::with_capacity(case.positions.len()),
            redacted: BTreeMap::new(),
            by_source: BTreeMap::new(),
            by_name: BTreeMap::new(),
            range: None,
            series: case.series.iter().map(|s| (*s).clone()).collect(),
            reports: case.reports.to_vec(),
            selection: case.selection.clone(),
            history: case.history.clone(),
            marks: case
                .marks
                .iter()
                .filter_map(|(pos, m)| Some((id(pos)?, m.clone())))
                .collect(),
            // Steps by arrival number too.
            chains: case
                .chains
                .iter()
                .filter_map(|c| {
                    let mut c = c.clone();
                    for s in &mut c.steps {
                        s.pos = id(&s.pos)?;
                    }
                    Some(c)
                })
                .collect(),
            tally: Default::default(),
            step_times,
            alerts: case.alerts.clone(),
            origin: case.origin,
            created_secs,
            redactor: redactor.clone(),
            signer: None,
        }
    }

    /// Writes up to `budget` more events; returns whether all are written.
    pub fn step(&mut self, store: &Store, budget: usize) -> Result<bool, String> {
        let end = (self.done + budget).min(self.ids.len());
        // The events still held, with their numbers in the log, in order.
        let mut todo: Vec<Todo> = Vec::with_capacity(end - self.done);
        let mut seq = self.seq_of.len() as u64;
        for &id in &self.ids[self.done..end] {
            if let Some(pos) = store.pos_of(id).filter(|&p| store.get(p).is_some()) {
                todo.push(Todo { id, pos, seq });
                seq += 1;
            }
        }
        let prepared = prepare(store, &todo, &self.redactor)?;
        let mut lines = Vec::new();
        for (t, (event, line, counts)) in todo.iter().zip(prepared) {
            let (id, seq) = (t.id, t.seq);
            for (rule, n) in counts {
                *self.redacted.entry(rule).or_default() += n;
            }
            self.tally.add_event(&event);
            if let Some(t) = self.step_times.get_mut(&id) {
                *t = Some(event.ts);
            }
            *self
                .by_source
                .entry(event.source.as_str().to_string())
                .or_default() += 1;
            *self.by_name.entry(event.source_name.clone()).or_default() += 1;
            let (first, _) = self.range.get_or_insert((event.ts, event.ts));
            self.range = Some((*first, event.ts));
            lines.extend_from_slice(line.as_bytes());
            lines.push(b'\n');
            self.seq_of.insert(id, seq);
        }
        self.events.write_all(&lines).map_err(|e| e.to_string())?;
        self.done = end;
        Ok(self.done == self.ids.len())
    }

    /// The share of events written.
    pub fn progress(&self) -> f64 {
        self.done as f64 / self.ids.len().max(1) as f64
    }

    pub fn events(&self) -> usize {
        self.ids.len()
    }

    /// Events written so far.
    pub fn done(&self) -> usize {
        self.done
    }

    /// The bundle's bytes and its manifest, once every event is written.
    pub fn finish(mut self) -> Result<(Vec<u8>, Manifest), String> {
        let events = std::mem::replace(
            &mut self.events,
            GzEncoder::new(Vec::new(), flate2::Compression::new(EVENT_LEVEL)),
        )
        .finish()
        .map_err(|e| e.to_string())?;
        // Series in a fixed order, not the order parallel source tasks happened to deliver
        // them: the same data gives the same bytes.
        self.series.sort_by(|a, b| {
            (&a.source_name, &a.query, &a.labels).cmp(&(&b.source_name, &b.query, &b.labels))
        });
        let mut series = Vec::new();
        let mut samples = 0u64;
        for s in &self.series {
            samples += s.samples.len() as u64;
            let mut record = SeriesRecord::from_series(s);
            record.query = self.redactor.text(&record.query, &mut self.redacted);
            series.extend_from_slice(
                serde_json::to_string(&record)
                    .map_err(|e| e.to_string())?
                    .as_bytes(),
            );
            series.push(b'\n');
        }
        let seq_of = &self.seq_of;
        let mut marks: Vec<MarkRecord> = self
            .marks
            .iter()
            .filter_map(|(id, m)| {
                let mut counts = BTreeMap::new();
                let record = MarkRecord {
                    seq: *seq_of.get(id)?,
                    star: m.star,
                    tags: m.tags.clone(),
                    note: self.redactor.text(&m.note, &mut counts),
                    marked_at: m.marked_at.map(Timestamp::to_rfc3339),
                };
                for (rule, n) in counts {
                    *self.redacted.entry(rule).or_default() += n;
                }
                Some(record)
            })
            .collect();
        marks.sort_by_key(|m| m.seq);
        // A chain goes in when every step of it does.
        let chains: Vec<ChainRecord> = self
            .chains
            .iter()
            .filter_map(|c| {
                let steps = c
                    .steps
                    .iter()
                    .map(|s| {
                        Some(StepRecord {
                            name: s.name.clone(),
                            seq: *seq_of.get(&s.pos)?,
                            count: s.count as u64,
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(ChainRecord {
                    rule: c.rule.clone(),
                    bound: c
                        .bound
                        .iter()
                        .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                        .collect(),
                    steps,
                })
            })
            .collect();
        let data: Vec<(&str, Vec<u8>)> = vec![
            (format::EVENTS, events),
            (format::SERIES, gzip(&series)?),
            (
                format::MARKS,
                serde_json::to_vec_pretty(&marks).map_err(|e| e.to_string())?,
            ),
            (
                format::CHAINS,
                serde_json::to_vec_pretty(&chains).map_err(|e| e.to_string())?,
            ),
        ];
        // What the responder typed can hold a secret too.
        let mut selection = self.selection.clone();
        let redactor = &self.redactor;
        let redacted = &mut self.redacted;
        for p in &mut selection.pivots {
            *p = redactor.text(p, redacted);
        }
        if let Some(s) = &mut selection.search {
            *s = redactor.text(s, redacted);
        }
        let mut history = self.history.clone();
        for p in history.steps.iter_mut().flatten() {
            *p = redactor.text(p, redacted);
        }
        let sources = sources(
            &self.reports,
            &self.by_name,
            &self.redactor,
            &mut self.redacted,
        );
        let manifest = Manifest {
            format: format::FORMAT.into(),
            version: format::VERSION,
            tool: format!("casefile {}", env!("CARGO_PKG_VERSION")),
            created_at: Timestamp(self.created_secs.saturating_mul(1_000_000_000))
                .to_rfc3339()
                .replace(".000000000Z", "Z"),
            time_range: self.range.map(|(a, b)| [a.to_rfc3339(), b.to_rfc3339()]),
            selection,
            sources,
            pivot_history: history,
            counts: format::Counts {
                events: self.seq_of.len() as u64,
                series: self.series.len() as u64,
                samples,
                marks: marks.len() as u64,
                chains: chains.len() as u64,
                by_source: self.by_source.clone(),
            },
            redacted: self.redacted.clone(),
            metrics: Some(self.metrics(&marks)),
            members: data
                .iter()
                .map(|(name, bytes)| MemberEntry {
                    name: name.to_string(),
                    size: bytes.len() as u64,
                    sha256: format::sha256_hex(bytes),
                })
                .collect(),
        };
        let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
        let sum = format!(
            "{}  {}\n",
            format::sha256_hex(&manifest_bytes),
            format::MANIFEST
        );
        let mut members: Vec<(&str, &[u8])> = vec![
            (format::MANIFEST, &manifest_bytes),
            (format::MANIFEST_SUM, sum.as_bytes()),
        ];
        members.extend(data.iter().map(|(n, b)| (*n, b.as_slice())));
        let signature = self
            .signer
            .as_ref()
            .map(|key| super::sign::signature_member(key, &manifest_bytes));
        if let Some(sig) = &signature {
            members.push((format::SIGNATURE, sig));
        }
        let mut out = Vec::new();
        tar_io::write(&mut out, &members, self.created_secs.max(0) as u64)?;
        Ok((out, manifest))
    }
}

impl ExportJob {
    /// The case metrics of what is written: its events, the chains that go in (as alerts),
    /// the marks that go in, and this export's time.
    fn metrics(&self, marks: &[MarkRecord]) -> crate::case_metrics::CaseMetrics {
        use crate::case_metrics::{alerts, CaseMetrics, Inputs};
        let optional = alerts::OptionalSteps::current();
        let alerts = self
            .chains
            .iter()
            .filter_map(|c| {
                let steps = c
                    .steps
                    .iter()
                    .map(|s| Some((s.name.as_str(), (*self.step_times.get(&s.pos)?)?)))
                    .collect::<Option<Vec<_>>>()?;
                alerts::from_steps(&c.rule, steps, optional)
            })
            .chain(self.alerts.iter().cloned())
            .collect();
        CaseMetrics::compute(&Inputs {
            events: self.tally.clone(),
            alerts,
            marks: marks
                .iter()
                .map(|m| m.marked_at.as_deref().and_then(Timestamp::parse_rfc3339))
                .collect(),
            exported_at: Some(Timestamp(self.created_secs.saturating_mul(1_000_000_000))),
            origin: self.origin,
        })
    }
}

/// An event to write: its arrival number, its position in the store and its number in the log.
struct Todo {
    id: u32,
    pos: u32,
    seq: u64,
}

/// One event ready for the log: redacted, its line, and the secrets removed from it by rule.
type Prepared = (crate::model::Event, String, BTreeMap<String, u64>);

/// Reads each event back, redacts it and writes its log line, on every core, in order. The
/// first event (in order) whose raw record cannot be read back stops the export: a bundle
/// is evidence.
fn prepare(store: &Store, todo: &[Todo], redactor: &Redactor) -> Result<Vec<Prepared>, String> {
    let one = |t: &Todo| -> Result<Prepared, String> {
        let e = store
            .get(t.pos)
            .ok_or_else(|| "an event left the store during the export".to_string())?;
        let mut event = e.to_event_checked().map_err(|err| {
            format!(
                "the event of {} ({}) cannot be exported: {err}",
                e.ts().to_rfc3339(),
                crate::sanitize::line(e.source_name())
            )
        })?;
        let mut counts = BTreeMap::new();
        redactor.event(&mut event, &mut counts);
        let line = records::event_line(t.seq, &event);
        Ok((event, line, counts))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if threads == 1 || todo.len() < 256 {
        return todo.iter().map(one).collect();
    }
    let part = todo.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = todo
            .chunks(part)
            .map(|chunk| s.spawn(move || chunk.iter().map(one).collect::<Vec<_>>()))
            .collect();
        let mut out = Vec::with_capacity(todo.len());
        for h in handles {
            let done = h
                .join()
                .map_err(|_| "an export thread failed".to_string())?;
            for r in done {
                out.push(r?);
            }
        }
        Ok(out)
    })
}

/// The bundle's bytes and manifest, built in slices, signed when a key is given.
/// `keep_going` is told the events done and the events in all between slices, and once when
/// all are built; when it answers false, the answer is `Ok(None)`.
pub fn build(
    case: &Case,
    created_secs: i64,
    redactor: &Redactor,
    signer: Option<ed25519_dalek::SigningKey>,
    keep_going: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<(Vec<u8>, Manifest)>, String> {
    let mut job = ExportJob::new(case, created_secs, redactor).signed_by(signer);
    while !job.step(case.store, 4096)? {
        if !keep_going(job.done(), job.events()) {
            return Ok(None);
        }
    }
    let events = job.events();
    let built = job.finish()?;
    Ok(keep_going(events, events).then_some(built))
}

/// One entry per source (name and kind): a source read twice (a re-run, an older part) is
/// one source with its queries in order.
fn sources(
    reports: &[SourceReport],
    exported: &BTreeMap<String, u64>,
    redactor: &Redactor,
    redacted: &mut BTreeMap<String, u64>,
) -> Vec<format::SourceEntry> {
    let mut out: Vec<format::SourceEntry> = Vec::new();
    for r in reports {
        let query = redactor.text(&r.query, redacted);
        match out
            .iter_mut()
            .find(|s| s.name == r.name && s.kind == r.kind.as_str())
        {
            Some(s) => {
                if !s.query.split(" ; ").any(|q| q == query) {
                    s.query = format!("{} ; {query}", s.query);
                }
                s.series += r.series as u64;
            }
            None => out.push(format::SourceEntry {
                name: r.name.clone(),
                kind: r.kind.as_str().into(),
                query,
                events: exported.get(&r.name).copied().unwrap_or(0),
                series: r.series as u64,
            }),
        }
    }
    out
}

/// Writes the bundle to `path` atomically: a temporary file in the same directory, synced,
/// then renamed. Until the rename nothing exists under `path`; an interrupted export leaves
/// only a `.casefile-export-*` file beside it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_unless(path, bytes, &mut || true).map(|_| ())
}

/// [`write_atomic`], asking `keep_going` once the temporary file is written and synced: when
/// it answers false the temporary file is removed, nothing is renamed, and the answer is
/// `Ok(false)`.
fn write_unless(
    path: &Path,
    bytes: &[u8],
    keep_going: &mut dyn FnMut() -> bool,
) -> Result<bool, String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".casefile-export-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    if !keep_going() {
        // Dropped: the temporary file goes with it.
        return Ok(false);
    }
    tmp.persist(path)
        .map_err(|e| format!("cannot write {}: {}", path.display(), e.error))?;
    Ok(true)
}

/// Builds and writes a bundle, signed when a key is given. `keep_going` is told the events
/// done and the events in all between slices of work, once more before the file is written,
/// and once before it is renamed into place; when it answers false, nothing is left under
/// `path` or beside it, and the answer is `Ok(None)`.
pub fn export(
    case: &Case,
    path: &Path,
    redactor: &Redactor,
    signer: Option<ed25519_dalek::SigningKey>,
    keep_going: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<Written>, String> {
    let Some((bytes, manifest)) = build(case, created_at()?, redactor, signer, keep_going)? else {
        return Ok(None);
    };
    let events = manifest.counts.events as usize;
    if !write_unless(path, &bytes, &mut || keep_going(events, events))? {
        return Ok(None);
    }
    Ok(Some(Written {
        bytes: bytes.len() as u64,
        manifest,
    }))
}
