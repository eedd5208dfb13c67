//! The line-oriented files besides Falco's: Wazuh `alerts.json`, `sysdig -j` output and
//! Kubernetes audit logs, read from a path or stdin, with a report per file.

use crate::load::{Loaded, SourceReport};
use crate::model::SourceKind;
use crate::sources::task::{Cancel, SourceMessage};
use crate::sources::{k8s_audit, sysdig, wazuh, EntityTable, EntityTables, Parsed};
use std::io::{BufRead, BufReader, Read};

/// Which of them a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    Wazuh,
    Sysdig,
    K8sAudit,
}

impl LineFormat {
    pub fn kind(self) -> SourceKind {
        match self {
            LineFormat::Wazuh => SourceKind::Wazuh,
            LineFormat::Sysdig => SourceKind::Sysdig,
            LineFormat::K8sAudit => SourceKind::K8sAudit,
        }
    }

    /// The flag that names such a file, for messages.
    pub fn flag(self) -> &'static str {
        match self {
            LineFormat::Wazuh => "--wazuh",
            LineFormat::Sysdig => "--sysdig",
            LineFormat::K8sAudit => "--k8s-audit",
        }
    }

    fn table(self, tables: &EntityTables) -> &EntityTable {
        match self {
            LineFormat::Wazuh => &tables.wazuh,
            LineFormat::Sysdig => &tables.sysdig,
            LineFormat::K8sAudit => &tables.k8s_audit,
        }
    }

    /// Parses every line of `reader`.
    pub fn parse(
        self,
        reader: impl BufRead,
        source_name: &str,
        tables: &EntityTables,
    ) -> (Parsed, Option<std::io::Error>) {
        let table = self.table(tables);
        match self {
            LineFormat::Wazuh => wazuh::parse_lines(reader, source_name, table),
            LineFormat::Sysdig => sysdig::parse_lines(reader, source_name, table),
            LineFormat::K8sAudit => k8s_audit::parse_lines(reader, source_name, table),
        }
    }

    /// `wazuh:/var/ossec/logs/alerts/alerts.json`, `sysdig:stdin`.
    pub fn source_name(self, path: &str) -> String {
        let kind = self.kind().as_str();
        if path == "-" {
            format!("{kind}:stdin")
        } else {
            format!("{kind}:{path}")
        }
    }
}

/// Opens a path for reading (`-` is stdin); a directory or a missing file is a clear error.
fn open(format: LineFormat, path: &str) -> Result<Box<dyn Read + Send>, String> {
    if path == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    let what = format.kind().as_str();
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {what} input {path}: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {what} input {path}: {e}"))?;
    if meta.is_dir() {
        return Err(format!(
            "cannot read {what} input {path}: it is a directory"
        ));
    }
    Ok(Box::new(file))
}

/// Reads a whole file into the store, for the headless commands: pieces of lines are parsed
/// on every core and stored in order. With `keep`, only the events that query picks are
/// stored (the others are still read, checked, counted and, when malformed, reported), as for
/// Falco.
pub fn read_into(
    loaded: &mut Loaded,
    format: LineFormat,
    path: &str,
    tables: &EntityTables,
    keep: Option<&crate::store::Query>,
) -> Result<(), String> {
    let reader = BufReader::with_capacity(1 << 20, open(format, path)?);
    let name = format.source_name(path);
    let mut report = SourceReport::new(&name, format.kind(), path);
    let rules = loaded.rules.clone();
    let workers = crate::sources::falco_chunks::workers();
    let (piece_tx, piece_rx) = std::sync::mpsc::sync_channel::<Piece>(workers * 2);
    let piece_rx = std::sync::Mutex::new(piece_rx);
    let read_error = std::thread::scope(|s| {
        let (parsed_tx, parsed_rx) = std::sync::mpsc::sync_channel(workers * 2);
        for _ in 0..workers {
            let (piece_rx, parsed_tx, name, rules) = (&piece_rx, parsed_tx.clone(), &name, &rules);
            s.spawn(move || loop {
                let next = piece_rx.lock().map(|rx| rx.recv());
                let Ok(Ok(piece)) = next else { break };
                let (mut parsed, _) = format.parse(&piece.bytes[..], name, tables);
                parsed.skipped.offset_lines(piece.lines_before);
                let read = parsed.events.len();
                if let Some(query) = keep {
                    if query.asks_category() {
                        parsed
                            .events
                            .iter_mut()
                            .for_each(|e| rules.categories.classify(e));
                    }
                    parsed
                        .events
                        .retain(|e| query.admits(e.ts, || e.entities.iter()));
                }
                if parsed_tx.send((piece.seq, read, parsed)).is_err() {
                    break;
                }
            });
        }
        drop(parsed_tx);
        let reading = s.spawn(move || read_pieces(reader, &piece_tx));
        // Stored in the file's order, so reports and samples read the same on every run.
        let mut waiting = std::collections::BTreeMap::new();
        let mut next = 0usize;
        for (seq, read, parsed) in parsed_rx {
            waiting.insert(seq, (read, parsed));
            while let Some((read, parsed)) = waiting.remove(&next) {
                let parsed: Parsed = parsed;
                report.events += read;
                report.ignored += parsed.ignored;
                report.skipped.merge(parsed.skipped);
                loaded.ingest(parsed.events);
                next += 1;
            }
        }
        reading.join().ok().flatten()
    });
    if let Some(e) = read_error {
        report.error = Some(format!("read error after {} events: {e}", report.events));
    }
    loaded.reports.push(report);
    Ok(())
}

/// Lines of a file, to be parsed together.
struct Piece {
    seq: usize,
    lines_before: usize,
    bytes: Vec<u8>,
}

/// Lines in one piece: memory holds a few pieces, not the file.
const PIECE_LINES: usize = 16_384;

/// Cuts the input into pieces of whole lines; returns the read error that ended it, if any.
fn read_pieces(
    mut reader: impl BufRead,
    out: &std::sync::mpsc::SyncSender<Piece>,
) -> Option<std::io::Error> {
    let (mut seq, mut lines, mut lines_before) = (0, 0, 0);
    let mut bytes = Vec::with_capacity(4 << 20);
    let mut error = None;
    loop {
        match reader.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(_) => lines += 1,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        if lines - lines_before == PIECE_LINES {
            let full = std::mem::replace(&mut bytes, Vec::with_capacity(4 << 20));
            if out
                .send(Piece {
                    seq,
                    lines_before,
                    bytes: full,
                })
                .is_err()
            {
                return error;
            }
            seq += 1;
            lines_before = lines;
        }
    }
    if !bytes.is_empty() {
        let _ = out.send(Piece {
            seq,
            lines_before,
            bytes,
        });
    }
    error
}

/// Opens a file now (a bad path is an immediate error), then reads and follows it on a thread
/// for the TUI, like `tail -F` (see [`crate::file_follow`]), until cancelled.
pub fn spawn(
    source: usize,
    format: LineFormat,
    path: &str,
    tables: &EntityTables,
    cancel: Cancel,
    send: impl Fn(SourceMessage) -> bool + Send + Sync + 'static,
) -> Result<SourceReport, String> {
    if path == "-" {
        return Err(format!(
            "the TUI reads keys from the terminal, so it cannot read {} from stdin; use `casefile query {} -`",
            format.kind(),
            format.flag()
        ));
    }
    drop(open(format, path)?);
    let mut report = SourceReport::new(&format.source_name(path), format.kind(), path);
    report.progress = Some((0, None));
    let placeholder = report.clone();
    let tables = tables.clone();
    let path = std::path::PathBuf::from(path);
    std::thread::spawn(move || {
        let outcome = crate::sources::task::catch_panic(|| {
            crate::file_follow::follow(&path, format, &tables, source, &cancel, &mut report, &send)
        });
        if let Err(panic) = outcome {
            report.error = Some(crate::sources::task::stopped_by_panic(&panic));
        }
        report.progress = None;
        report.live = false;
        report.cancelled = true;
        send(SourceMessage::Finished { source, report });
    });
    Ok(placeholder)
}
