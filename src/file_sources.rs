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

fn report_of(
    format: LineFormat,
    path: &str,
    parsed: &Parsed,
    err: Option<std::io::Error>,
) -> SourceReport {
    let mut report = SourceReport::new(&format.source_name(path), format.kind(), path);
    report.events = parsed.events.len();
    report.skipped = parsed.skipped.clone();
    report.ignored = parsed.ignored;
    if let Some(e) = err {
        report.error = Some(format!("read error after {} events: {e}", report.events));
    }
    report
}

/// Reads a whole file into the store, for the headless commands.
pub fn read_into(
    loaded: &mut Loaded,
    format: LineFormat,
    path: &str,
    tables: &EntityTables,
) -> Result<(), String> {
    let reader = BufReader::with_capacity(1 << 20, open(format, path)?);
    let name = format.source_name(path);
    let (parsed, err) = format.parse(reader, &name, tables);
    let report = report_of(format, path, &parsed, err);
    loaded.ingest(parsed.events);
    loaded.reports.push(report);
    Ok(())
}

/// How many events go to the loop in one message.
const BATCH: usize = 20_000;

/// Opens a file now (a bad path is an immediate error) and reads it on a thread, for the TUI:
/// its events in batches, then the final report.
pub fn spawn(
    source: usize,
    format: LineFormat,
    path: &str,
    tables: &EntityTables,
    cancel: Cancel,
    send: impl Fn(SourceMessage) -> bool + Send + 'static,
) -> Result<SourceReport, String> {
    if path == "-" {
        return Err(format!(
            "the TUI reads keys from the terminal, so it cannot read {} from stdin; use `casefile query {} -`",
            format.kind(),
            format.flag()
        ));
    }
    let reader = BufReader::with_capacity(1 << 20, open(format, path)?);
    let mut placeholder = SourceReport::new(&format.source_name(path), format.kind(), path);
    placeholder.progress = Some((0, None));
    let tables = tables.clone();
    let path = path.to_string();
    std::thread::spawn(move || {
        let name = format.source_name(&path);
        let outcome = crate::sources::task::catch_panic(|| format.parse(reader, &name, &tables));
        let mut report = match outcome {
            Ok((mut parsed, err)) => {
                let report = report_of(format, &path, &parsed, err);
                let mut events = std::mem::take(&mut parsed.events);
                while !events.is_empty() && !cancel.is_cancelled() {
                    let rest = events.split_off(events.len().min(BATCH));
                    send(SourceMessage::Batch { source, events });
                    events = rest;
                }
                report
            }
            Err(panic) => {
                let mut report = SourceReport::new(&name, format.kind(), &path);
                report.error = Some(format!(
                    "internal error, this source stopped: {}",
                    crate::sanitize::line(&panic)
                ));
                report
            }
        };
        report.cancelled = cancel.is_cancelled();
        send(SourceMessage::Finished { source, report });
    });
    Ok(placeholder)
}
