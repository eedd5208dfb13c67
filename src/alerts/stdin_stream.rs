//! Standard input as a live source (`tail -F events.json | casefile watch --falco -`): lines
//! are parsed as they come, and what was parsed is sent as soon as no more input is waiting,
//! not when a big chunk is full, so an alert is raised while its line is news. The source
//! ends at the end of input.

use crate::file_sources::LineFormat;
use crate::load::SourceReport;
use crate::model::SourceKind;
use crate::sources::falco::{read_line_capped, LineParser, MAX_LINE};
use crate::sources::task::SourceMessage;
use crate::sources::EntityTables;
use std::io::{BufReader, Read};

/// Events are sent at least every this many, even while input keeps coming.
const BATCH: usize = 1_024;

/// What stdin holds: Falco's JSON lines, or one of the other line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdinFormat {
    Falco,
    Lines(LineFormat),
}

impl StdinFormat {
    fn kind(self) -> SourceKind {
        match self {
            StdinFormat::Falco => SourceKind::Falco,
            StdinFormat::Lines(f) => f.kind(),
        }
    }
}

/// Reads `input` on a thread until its end, sending batches and then the final report.
pub fn spawn(
    source: usize,
    format: StdinFormat,
    input: impl Read + Send + 'static,
    tables: EntityTables,
    send: impl Fn(SourceMessage) -> bool + Send + Sync + 'static,
) -> SourceReport {
    let name = format!("{}:stdin", format.kind().as_str());
    let mut report = SourceReport::new(&name, format.kind(), "-");
    report.live = true;
    let placeholder = report.clone();
    std::thread::spawn(move || {
        let outcome = crate::sources::task::catch_panic(|| {
            read(
                BufReader::new(input),
                format,
                &name,
                &tables,
                source,
                &mut report,
                &send,
            )
        });
        if let Err(panic) = outcome {
            report.error = Some(crate::sources::task::stopped_by_panic(&panic));
        }
        report.live = false;
        send(SourceMessage::Finished { source, report });
    });
    placeholder
}

fn read<R: Read>(
    mut reader: BufReader<R>,
    format: StdinFormat,
    name: &str,
    tables: &EntityTables,
    source: usize,
    report: &mut SourceReport,
    send: &dyn Fn(SourceMessage) -> bool,
) {
    let mut falco = LineParser::new(name, &tables.falco);
    let mut events = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    let mut sink = |batch: Vec<crate::model::Event>| {
        send(SourceMessage::Batch {
            source,
            events: batch,
        });
    };
    loop {
        let line = read_line_capped(&mut reader, &mut buf, MAX_LINE);
        line_no += 1;
        match (line, format) {
            (Ok(None), _) => break,
            (Err(e), _) => {
                report.error = Some(format!("read error after {line_no} lines: {e}"));
                break;
            }
            (Ok(Some(true)), StdinFormat::Falco) => falco.too_long(&buf),
            (Ok(Some(false)), StdinFormat::Falco) => falco.line(&buf, &mut sink),
            (Ok(Some(too_long)), StdinFormat::Lines(f)) => {
                if too_long {
                    report.skipped.skip(
                        line_no,
                        format!("line longer than {} MiB", MAX_LINE >> 20),
                        &String::from_utf8_lossy(&buf[..buf.len().min(200)]),
                    );
                } else {
                    let (mut parsed, _) = f.parse(&buf[..], name, tables);
                    parsed.skipped.offset_lines(line_no - 1);
                    report.skipped.merge(parsed.skipped);
                    report.ignored += parsed.ignored;
                    report.events += parsed.events.len();
                    events.append(&mut parsed.events);
                }
            }
        }
        // Nothing more waiting: what was read is news now.
        if reader.buffer().is_empty() || events.len() >= BATCH {
            falco.flush(&mut sink);
            if !events.is_empty() {
                sink(std::mem::take(&mut events));
            }
        }
    }
    falco.flush(&mut sink);
    if !events.is_empty() {
        sink(events);
    }
    if format == StdinFormat::Falco {
        report.events = falco.stats.events;
        report.skipped = falco.stats.skipped.clone();
        report.ignored = falco.stats.ignored;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one piece per read, as a pipe does when its writer pauses.
    struct Pieces(std::collections::VecDeque<Vec<u8>>);

    impl Read for Pieces {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let Some(piece) = self.0.pop_front() else {
                return Ok(0);
            };
            out[..piece.len()].copy_from_slice(&piece);
            Ok(piece.len())
        }
    }

    #[test]
    fn each_piece_of_input_is_sent_when_it_has_been_read() {
        let line = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/falco/website_terminal_shell_in_container.ndjson"
        ))
        .unwrap();
        let line = line.trim();
        let pieces = Pieces(
            [format!("{line}\n{line}\n"), format!("{line}\nnot json\n")]
                .into_iter()
                .map(String::into_bytes)
                .collect(),
        );
        let (tx, rx) = std::sync::mpsc::channel();
        spawn(
            0,
            StdinFormat::Falco,
            pieces,
            EntityTables::default(),
            move |m| tx.send(m).is_ok(),
        );
        let mut batches = Vec::new();
        let mut report = None;
        for m in rx {
            match m {
                SourceMessage::Batch { events, .. } => batches.push(events.len()),
                SourceMessage::Finished { report: r, .. } => report = Some(r),
                _ => {}
            }
        }
        assert_eq!(batches, [2, 1]);
        let report = report.unwrap();
        assert_eq!((report.events, report.skipped.skipped), (3, 1));
        assert_eq!(report.skipped.samples[0].line, 4);
    }
}
