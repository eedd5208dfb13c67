//! `sysdig -j` output: one system call a line, with its process, thread, file descriptor and
//! container. Each becomes a timeline event, and its process feeds the process tree.

use super::json_lines::{self, Record};
use super::json_path::{get, int, text};
use super::mapping::EntityTable;
use super::Parsed;
use crate::model::Timestamp;
use crate::model::{Entities, EntityKey, Event, EventKind, Process, Severity, SourceKind};
use serde_json::Value;
use std::io::BufRead;

/// Reads `sysdig -j` lines (or the JSON array older versions print, one element a line).
pub fn parse_lines(
    reader: impl BufRead,
    source_name: &str,
    table: &EntityTable,
) -> (Parsed, Option<std::io::Error>) {
    json_lines::parse(reader, "; run sysdig with -j for JSON", |doc, raw| {
        syscall_event(doc, raw, source_name, table).map(|e| Record::Event(Box::new(e)))
    })
}

/// One system call. Its time is `evt.rawtime` or `evt.outputtime` (nanoseconds since the
/// epoch; `-j` prints one of them), or `evt.datetime` as text.
pub fn syscall_event(
    doc: &Value,
    raw: &str,
    source_name: &str,
    table: &EntityTable,
) -> Result<Event, String> {
    let kind = text(doc, "evt.type").ok_or("not a sysdig event: no `evt.type`")?;
    let ts = json_lines::first_time(
        doc,
        &["evt.rawtime", "evt.outputtime", "evt.datetime", "evt.time"],
        |ns| Some(Timestamp(ns)),
    )
    .ok_or("no usable time (`evt.rawtime`, `evt.outputtime`)")?;
    let name = text(doc, "proc.name");
    let title = match &name {
        Some(n) => format!("{n} {kind}"),
        None => kind.clone(),
    };
    let info = text(doc, "evt.info").or_else(|| text(doc, "evt.args"));
    let message = [text(doc, "evt.dir"), Some(kind.clone()), info]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut entities = Entities::new();
    table.apply_json(&[doc], &mut entities);
    let process = process(doc, name);
    if let Some(pid) = process.as_ref().and_then(|p| p.pid) {
        entities.add(EntityKey::Pid, &pid.to_string());
    }
    let failed = int(doc, "evt.res").is_some_and(|r| r < 0)
        || get(doc, "evt.failed").and_then(Value::as_bool) == Some(true);
    Ok(Event {
        ts,
        source: SourceKind::Sysdig,
        source_name: source_name.to_string(),
        kind: EventKind::Log,
        severity: if failed {
            Severity::Notice
        } else {
            Severity::Info
        },
        title,
        message,
        entities,
        process,
        tags: text(doc, "evt.category").into_iter().collect(),
        raw: raw.to_string(),
    })
}

/// The process: `proc.pid`, or else the thread id (a process's main thread has its pid as
/// its id, and the default `-j` fields carry only `thread.tid`).
fn process(doc: &Value, name: Option<String>) -> Option<Process> {
    let process = Process {
        pid: int(doc, "proc.pid").or_else(|| int(doc, "thread.tid")),
        ppid: int(doc, "proc.ppid"),
        name,
        cmdline: text(doc, "proc.cmdline"),
        exe: text(doc, "proc.exepath").or_else(|| text(doc, "proc.exe")),
        parent_name: text(doc, "proc.pname"),
        entity_id: None,
    };
    (!process.is_empty()).then_some(process)
}
