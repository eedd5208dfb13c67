//! Following a Falco file as it grows, like `tail -F`: lines are parsed only once complete
//! (a half-written last line waits for its newline), a rotated or truncated file is reopened
//! from its start after the old one is read to its end, and a deleted file is waited for.

use super::falco::{LineParser, LineStats, MAX_LINE};
use super::falco_chunks::{self, Metered, ReadAs};
use super::task::{Cancel, SourceMessage};
use super::EntityTable;
use crate::correlate::categories::Classifier;
use crate::load::SourceReport;
use crate::model::Event;
use crate::store::RawFile;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
    classifier: &Classifier,
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
    // A rotation was seen at the end of the old file: it is read to its end once more (a
    // writer may have added lines between that end and the rename) before the new file.
    let mut drained = false;
    let mut buf = vec![0u8; 1 << 16];
    while !cancel.is_cancelled() {
        let Some((f, id, pos)) = file.as_mut() else {
            match File::open(path).and_then(|f| f.metadata().map(|m| (f, m))) {
                Ok((mut f, meta)) => {
                    let mut pos = 0;
                    if !caught_up {
                        send(SourceMessage::Progress {
                            source,
                            done: 0,
                            total: Some(meta.len()),
                        });
                        let how = ReadAs {
                            source_name: &name,
                            table,
                            classifier,
                            raw_file: RawFile::open(path).ok().map(Arc::new),
                            keep: None,
                        };
                        pos = catch_up(&mut f, meta.len(), &how, source, cancel, send)
                            .map(|read| parser.absorb(read))
                            .map_or(0, |_| f.stream_position().unwrap_or(0));
                    }
                    file = Some((f, identity(&meta), pos));
                    drained = false;
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
                    Ok(meta) if identity(&meta) != *id && !drained => drained = true,
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

/// Reads the complete lines already in the file on every core (the follower then goes on from
/// the end of the last one). `None` when the read failed or was cancelled: the follower then
/// reads the file from its start, line by line.
fn catch_up(
    f: &mut File,
    size: u64,
    how: &ReadAs,
    source: usize,
    cancel: &Cancel,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) -> Option<LineStats> {
    let end = end_of_last_line(f, size).ok()?;
    if end == 0 {
        return None;
    }
    let done = Arc::new(AtomicU64::new(0));
    let reader = Metered {
        inner: Read::take(&*f, end),
        done: done.clone(),
        cancel: cancel.clone(),
    };
    let (read, err) = falco_chunks::read_chunked(reader, how, falco_chunks::workers(), |batch| {
        send(SourceMessage::Packed { source, batch });
        send(SourceMessage::Progress {
            source,
            done: done.load(Ordering::Relaxed),
            total: Some(size),
        });
    });
    if err.is_some() {
        // What was sent stays; reading again from the start would send it twice, so go on
        // from the end of the last line sent (a chunk read but not sent is read again).
        f.seek(SeekFrom::Start(read.bytes)).ok()?;
        return Some(read);
    }
    f.seek(SeekFrom::Start(end)).ok()?;
    Some(read)
}

/// Where the last complete line of the file's first `size` bytes ends (0 if there is none).
fn end_of_last_line(f: &File, size: u64) -> std::io::Result<u64> {
    let mut block = vec![0u8; 1 << 16];
    let mut end = size;
    while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        let part = &mut block[..(end - start) as usize];
        f.read_exact_at(part, start)?;
        if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}
