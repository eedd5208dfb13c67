//! `sysdig -j` output: one system call a line, with its process, thread, file descriptor and
//! container. Each becomes a timeline event, and its process feeds the process tree.

use super::falco_record::{Field, Fields};
use super::json_lines::{self, Record};
use super::mapping::EntityTable;
use super::Parsed;
use crate::model::Timestamp;
use crate::model::{Entities, EntityKey, Event, EventKind, Process, Severity, SourceKind};
use std::borrow::Cow;
use std::io::BufRead;

/// Reads `sysdig -j` lines (or the JSON array older versions print, one element a line).
/// A line is read as a flat list of borrowed fields, without a JSON tree: sysdig writes
/// hundreds of thousands of them a second.
pub fn parse_lines(
    reader: impl BufRead,
    source_name: &str,
    table: &EntityTable,
) -> (Parsed, Option<std::io::Error>) {
    json_lines::parse_records(reader, |raw| {
        let fields: Fields = serde_json::from_str(raw)
            .map_err(|e| format!("not a JSON object ({e}); run sysdig with -j for JSON"))?;
        syscall_event(&fields, raw, source_name, table).map(|e| Record::Event(Box::new(e)))
    })
}

fn text<'f>(fields: &'f Fields, name: &str) -> Option<Cow<'f, str>> {
    fields.get(name).and_then(Field::text)
}

fn int(fields: &Fields, name: &str) -> Option<i64> {
    fields.get(name).and_then(Field::int)
}

/// One system call. Its time is `evt.rawtime` or `evt.outputtime` (nanoseconds since the
/// epoch; `-j` prints one of them), or `evt.datetime` as text.
fn syscall_event(
    fields: &Fields,
    raw: &str,
    source_name: &str,
    table: &EntityTable,
) -> Result<Event, String> {
    let kind = text(fields, "evt.type").ok_or("not a sysdig event: no `evt.type`")?;
    let ts = ["evt.rawtime", "evt.outputtime", "evt.datetime", "evt.time"]
        .iter()
        .find_map(|name| match fields.get(name)? {
            Field::Str(s) => {
                Timestamp::parse_rfc3339(s).or_else(|| s.trim().parse::<i64>().ok().map(Timestamp))
            }
            f => f.int().map(Timestamp),
        })
        .ok_or("no usable time (`evt.rawtime`, `evt.outputtime`)")?;
    let name = text(fields, "proc.name");
    let title = match &name {
        Some(n) => format!("{n} {kind}"),
        None => kind.to_string(),
    };
    let info = text(fields, "evt.info").or_else(|| text(fields, "evt.args"));
    let mut message = String::with_capacity(64);
    for part in [text(fields, "evt.dir"), Some(kind), info]
        .into_iter()
        .flatten()
    {
        if !message.is_empty() {
            message.push(' ');
        }
        message.push_str(&part);
    }
    let mut entities = Entities::new();
    table.apply_fn(|f| text(fields, f), &mut entities);
    let process = process(fields, name.map(Cow::into_owned));
    if let Some(pid) = process.as_ref().and_then(|p| p.pid) {
        entities.add(EntityKey::Pid, &pid.to_string());
    }
    let failed = int(fields, "evt.res").is_some_and(|r| r < 0)
        || matches!(fields.get("evt.failed"), Some(Field::Bool(true)));
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
        tags: text(fields, "evt.category")
            .map(Cow::into_owned)
            .into_iter()
            .collect(),
        raw: raw.to_string(),
    })
}

/// The process: `proc.pid`, or else the thread id (a process's main thread has its pid as
/// its id, and the default `-j` fields carry only `thread.tid`).
fn process(fields: &Fields, name: Option<String>) -> Option<Process> {
    let owned = |f: &str| text(fields, f).map(Cow::into_owned);
    let process = Process {
        pid: int(fields, "proc.pid").or_else(|| int(fields, "thread.tid")),
        ppid: int(fields, "proc.ppid"),
        name,
        cmdline: owned("proc.cmdline"),
        exe: owned("proc.exepath").or_else(|| owned("proc.exe")),
        parent_name: owned("proc.pname"),
        entity_id: None,
        start: super::falco::process_start(fields),
        parent_entity_id: None,
    };
    (!process.is_empty()).then_some(process)
}
