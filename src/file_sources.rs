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
    Ok(placeholder)
}
