//! Following a Wazuh, Sysdig or Kubernetes audit file as it grows, like `tail -F`: only
//! complete lines are parsed (a half-written last line waits for its newline), a truncated
//! file is read again from its start, a rotated one is read to its end and then the new file
//! is followed, and a deleted one is waited for.

use crate::file_sources::LineFormat;
use crate::load::SourceReport;
use crate::sources::task::{Cancel, SourceMessage};
use crate::sources::EntityTables;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

/// How often an idle file is looked at again.
const POLL: Duration = Duration::from_millis(250);

/// A line longer than this is not a record anyone wrote: it is skipped, not buffered.
const MAX_LINE: usize = 16 << 20;

/// What has been read of the file being followed.
struct Reading {
    file: File,
    id: (u64, u64),
    pos: u64,
    /// Bytes after the last newline, waiting for the rest of their line.
    partial: Vec<u8>,
    /// Lines read so far, so skipped lines are named by their number in the file.
    lines: usize,
    /// When the file was last changed, as seen at its end: a file rewritten in place to the
    /// same size is told apart from one that is idle by this.
    changed: Option<std::time::SystemTime>,
}

/// Reads `path` from its start, then follows it until cancelled, sending events as their
/// lines complete, `Live` once caught up, and the report as it changes.
pub fn follow(
    path: &Path,
    format: LineFormat,
    tables: &EntityTables,
    source: usize,
    cancel: &Cancel,
    report: &mut SourceReport,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) {
    let name = report.name.clone();
    let mut reading: Option<Reading> = None;
    let mut live = false;
    let mut sent: Option<Told> = None;
    let mut buf = vec![0u8; 1 << 20];
    while !cancel.is_cancelled() {
        let Some(r) = reading.as_mut() else {
            match File::open(path).and_then(|f| f.metadata().map(|m| (f, m))) {
                Ok((file, meta)) => {
                    reading = Some(Reading {
                        file,
                        id: (meta.dev(), meta.ino()),
                        pos: 0,
                        partial: Vec::new(),
                        lines: 0,
                        changed: None,
                    });
                    report.error = None;
                }
                Err(e) => {
                    report.error = Some(format!("waiting for {}: {e}", path.display()));
                    tell_if_changed(report, &mut sent, source, send);
                    std::thread::sleep(POLL);
                }
            }
            continue;
        };
        let n = match r.file.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                report.error = Some(format!("read error: {e}"));
                reading = None;
                continue;
            }
        };
        if n > 0 {
            r.pos += n as u64;
            absorb(r, &buf[..n], format, tables, &name, source, report, send);
            if !live {
                let total = r.file.metadata().map(|m| m.len()).ok();
                send(SourceMessage::Progress {
                    source,
                    done: r.pos,
                    total,
                });
            }
            continue;
        }
        // At the end: live from now on, then look for truncation and rotation.
        if !live {
            live = true;
            report.progress = None;
            report.live = true;
            send(SourceMessage::Live { source });
        }
        tell_if_changed(report, &mut sent, source, send);
        // The file's change time with everything read: taken from the open file after the
        // read came back empty, so a write since shows as growth, never as a rewrite.
        if let Ok(m) = r.file.metadata() {
            if m.len() == r.pos {
                r.changed = m.modified().ok();
            }
        }
        std::thread::sleep(POLL);
        match std::fs::metadata(path) {
            Ok(meta) if (meta.dev(), meta.ino()) != r.id => {
                // Rotated: whatever the old file got since is read by the loop first, then
                // the new one from its start.
                let mut rest = Vec::new();
                if r.file.read_to_end(&mut rest).is_ok() && !rest.is_empty() {
                    absorb(r, &rest, format, tables, &name, source, report, send);
                }
                reading = None;
            }
            Ok(meta)
                if meta.len() < r.pos
                    || (meta.len() == r.pos
                        && r.changed.is_some()
                        && meta.modified().ok() != r.changed) =>
            {
                // Truncated, or rewritten to the same size: read again from the start.
                if r.file.seek(SeekFrom::Start(0)).is_ok() {
                    r.pos = 0;
                    r.partial.clear();
                    r.changed = None;
                } else {
                    reading = None;
                }
            }
            Ok(_) => {}
            Err(_) => {
                report.error = Some(format!("{} was deleted; waiting for it", path.display()));
                reading = None;
            }
        }
    }
}

/// What the loop was last told of the report, so an idle file sends nothing.
type Told = (usize, usize, Option<String>);

fn tell_if_changed(
    report: &SourceReport,
    sent: &mut Option<Told>,
    source: usize,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) {
    let now = (report.events, report.skipped.skipped, report.error.clone());
    if sent.as_ref() != Some(&now) {
        send(SourceMessage::Update {
            source,
            report: report.clone(),
        });
        *sent = Some(now);
    }
}

/// Parses the complete lines of what was read and sends their events.
#[allow(clippy::too_many_arguments)]
fn absorb(
    r: &mut Reading,
    bytes: &[u8],
    format: LineFormat,
    tables: &EntityTables,
    name: &str,
    source: usize,
    report: &mut SourceReport,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) {
    r.partial.extend_from_slice(bytes);
    let Some(last_newline) = r.partial.iter().rposition(|b| *b == b'\n') else {
        if r.partial.len() > MAX_LINE {
            report
                .skipped
                .skip(r.lines + 1, "a line longer than 16 MiB", "");
            r.partial.clear();
        }
        return;
    };
    let complete: Vec<u8> = r.partial.drain(..=last_newline).collect();
    let lines = complete.iter().filter(|b| **b == b'\n').count();
    let (mut parsed, _) = format.parse(&complete[..], name, tables);
    parsed.skipped.offset_lines(r.lines);
    r.lines += lines;
    report.events += parsed.events.len();
    report.ignored += parsed.ignored;
    report.skipped.merge(parsed.skipped);
    if !parsed.events.is_empty() {
        send(SourceMessage::Batch {
            source,
            events: parsed.events,
        });
    }
}
