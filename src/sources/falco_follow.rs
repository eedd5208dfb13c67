//! Following a Falco file as it grows, like `tail -F`: lines are parsed only once complete
//! (a half-written last line waits for its newline), a rotated or truncated file is reopened
//! from its start after the old one is read to its end, and a deleted file is waited for.

use super::falco::{LineParser, MAX_LINE};
use super::task::{Cancel, SourceMessage};
use super::EntityTable;
use crate::load::SourceReport;
use crate::model::Event;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

/// How often an idle file is looked at again.
pub const POLL: Duration = Duration::from_millis(200);

/// The identity of a file, to notice rotation: a new file under the same name.
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

/// Reads `path` from its start and keeps following it until cancelled. Sends batches as
/// lines complete, `Progress` while catching up with what was already there, `Live` once
/// caught up, and notes (rotation, deletion) in the report's `error` while they last.
pub fn follow(
    path: &Path,
    source: usize,
    table: &EntityTable,
    cancel: &Cancel,
    report: &mut SourceReport,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) {
    let name = report.name.clone();
    let mut parser = LineParser::new(&name, table);
    let mut sink = |events: Vec<Event>| {
        send(SourceMessage::Batch { source, events });
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut discarding = false;
    let mut file: Option<(File, (u64, u64), u64)> = None;
    let mut caught_up = false;
    let mut buf = vec![0u8; 1 << 16];
    while !cancel.is_cancelled() {
        let Some((f, id, pos)) = file.as_mut() else {
            match File::open(path).and_then(|f| f.metadata().map(|m| (f, m))) {
                Ok((f, meta)) => {
                    if !caught_up {
                        send(SourceMessage::Progress {
                            source,
                            done: 0,
                            total: Some(meta.len()),
                        });
                    }
                    file = Some((f, identity(&meta), 0));
                }
                Err(_) => {
                    std::thread::sleep(POLL);
                }
            }
            continue;
        };
        match f.read(&mut buf) {
            Ok(0) => {
                // At the end: a complete batch is due now, however small (this is live).
                parser.flush(&mut sink);
                if !caught_up {
                    caught_up = true;
                    send(SourceMessage::Live { source });
                }
                // Rotated (another file now has the name), truncated, or deleted?
                match std::fs::metadata(path) {
                    Ok(meta) if identity(&meta) != *id || meta.len() < *pos => {
                        if !pending.is_empty() {
                            parser.line(&std::mem::take(&mut pending), &mut sink);
                            parser.flush(&mut sink);
                        }
                        file = None;
                        discarding = false;
                        continue;
                    }
                    Ok(_) | Err(_) => std::thread::sleep(POLL),
                }
            }
            Ok(n) => {
                *pos += n as u64;
                let mut start = 0;
                for i in 0..n {
                    if buf[i] == b'\n' {
                        if discarding {
                            // The end of a line too long to keep: it was counted already.
                            discarding = false;
                        } else if pending.is_empty() {
                            parser.line(&buf[start..i], &mut sink);
                        } else {
                            pending.extend_from_slice(&buf[start..i]);
                            parser.line(&std::mem::take(&mut pending), &mut sink);
                        }
                        start = i + 1;
                    }
                }
                if !discarding {
                    pending.extend_from_slice(&buf[start..n]);
                    // A line with no end in sight is skipped, never held whole.
                    if pending.len() > MAX_LINE {
                        parser.too_long(&pending);
                        pending.clear();
                        discarding = true;
                    }
                }
                if !caught_up {
                    let total = f.metadata().map(|m| m.len()).ok();
                    send(SourceMessage::Progress {
                        source,
                        done: *pos,
                        total,
                    });
                }
            }
            Err(e) => {
                report.error = Some(format!("read error: {e}"));
                let _ = f.seek(SeekFrom::Start(*pos));
                std::thread::sleep(POLL);
            }
        }
    }
    parser.flush(&mut sink);
    report.events = parser.stats.events;
    report.skipped = parser.stats.skipped;
    report.ignored = parser.stats.ignored;
}
