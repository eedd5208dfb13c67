//! `casefile watch`: the sources run live (files followed like `tail -F`, stdin read to its
//! end, the Falco receiver listening, Loki tailed), the alert engine looks at each batch as it
//! arrives, and every alert or update is one JSON line on stdout, flushed at once.
//! Diagnostics go to stderr. It ends on SIGINT or SIGTERM, when stdout is closed, or when
//! every source has ended (what was read at once, like the demo or a bundle, has ended when
//! it was read).

use super::engine::AlertEngine;
use crate::file_sources::LineFormat;
use crate::load::Loaded;
use crate::sources::runner::{self, RunOptions};
use crate::sources::spec::SourceSpec;
use crate::sources::task::{Cancel, SourceMessage};
use crate::sources::EntityTables;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the loop waits for a message before it looks at the signals again.
const POLL: Duration = Duration::from_millis(100);
/// After this long with nothing new, counts not yet told are told (an incident that stopped
/// growing between two update points still gets its final count out).
const IDLE_FLUSH: Duration = Duration::from_secs(5);
/// The chain search runs at most this often while events stream in.
const CHAIN_EVERY: Duration = Duration::from_secs(1);
/// Messages taken from the channel before the engine looks at what they brought.
const MESSAGES_PER_LOOK: usize = 64;

/// What `casefile watch` runs.
pub struct WatchInputs {
    /// What was read at once: the demo, a bundle.
    pub loaded: Loaded,
    /// Falco files to follow (`-`: stdin).
    pub falco: Vec<String>,
    /// Wazuh, Sysdig and audit files to follow (`-`: stdin).
    pub line_files: Vec<(LineFormat, String)>,
    pub falco_listen: Option<String>,
    /// Live backends, tailed where they can be (Loki).
    pub specs: Vec<SourceSpec>,
    pub options: RunOptions,
    pub tables: EntityTables,
}

/// How the watch ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// A source failed (its message is on stderr).
    pub failed: bool,
}

/// Runs the watch, writing alert lines to `out`. An error is a source that could not start
/// (a missing file, an address in use) or a write to `out` that failed other than by the
/// reader going away.
pub fn run(
    inputs: WatchInputs,
    mut engine: AlertEngine,
    out: &mut dyn Write,
) -> Result<Ended, String> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // The first signal ends the loop (and the last counts are told); a second one, while
        // a write is stuck on a full pipe, ends the process.
        signal_hook::flag::register_conditional_shutdown(sig, 130, stop.clone())
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()))
            .map_err(|e| format!("cannot watch for signals: {e}"))?;
    }
    engine.set_chain_interval(CHAIN_EVERY);
    let WatchInputs {
        mut loaded,
        falco,
        line_files,
        falco_listen,
        specs,
        options,
        tables,
    } = inputs;
    for report in &loaded.reports {
        for line in report.diagnostics() {
            eprintln!("{line}");
        }
    }
    let cancel = Cancel::default();
    let (tx, rx) = mpsc::sync_channel::<SourceMessage>(16);
    let followed = crate::followed::Followed {
        falco: &falco,
        line_files: &line_files,
        falco_listen: falco_listen.as_deref(),
        stdin: true,
    };
    if let Some(local) = crate::followed::spawn(&mut loaded, followed, &tables, &cancel, &tx)? {
        eprintln!("casefile: receiving Falco events on http://{local}/");
    }
    for spec in specs {
        let index = loaded.reports.len();
        let tx = tx.clone();
        let send = move |m| tx.send(m).is_ok();
        let report = runner::spawn(spec, index, options, tables.clone(), cancel.child(), send);
        loaded.reports.push(report);
    }
    // Only the tasks hold senders now: the channel closes when the last source ends.
    drop(tx);

    let mut writer = Lines { out, closed: false };
    writer.write(engine.observe(&loaded.store))?;
    // What a source said last on stderr, so a lasting note is said once.
    let mut said: Vec<Said> = vec![Said::default(); loaded.reports.len()];
    let mut quiet_since = Instant::now();
    let mut owed = false;
    while !stop.load(Ordering::Relaxed) && !writer.closed {
        let first = match rx.recv_timeout(POLL) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                if owed && quiet_since.elapsed() >= IDLE_FLUSH {
                    writer.write(engine.flush(&loaded.store))?;
                    owed = false;
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut messages = vec![first];
        messages.extend(rx.try_iter().take(MESSAGES_PER_LOOK));
        for m in messages {
            let source = match &m {
                SourceMessage::Finished { source, .. } => Some((*source, true)),
                SourceMessage::Update { source, .. } => Some((*source, false)),
                _ => None,
            };
            loaded.apply(m);
            if let Some((i, finished)) = source {
                tell(&loaded, i, &mut said, finished);
            }
        }
        let lines = engine.observe(&loaded.store);
        owed = true;
        quiet_since = Instant::now();
        writer.write(lines)?;
    }
    cancel.cancel();
    writer.write(engine.flush(&loaded.store))?;
    Ok(Ended {
        failed: loaded.reports.iter().any(|r| r.error.is_some()),
    })
}

/// What stderr was told of a source.
#[derive(Debug, Clone, Default)]
struct Said {
    error: Option<String>,
    samples: usize,
}

/// Says on stderr what is new in a source's report: an error (or a note, like a rotated
/// file) when it changes, each new sample of a skipped record, and at the end how many were
/// skipped in all. A source that runs for days says each thing once.
fn tell(loaded: &Loaded, index: usize, said: &mut Vec<Said>, finished: bool) {
    let Some(report) = loaded.reports.get(index) else {
        return;
    };
    if said.len() <= index {
        said.resize(index + 1, Said::default());
    }
    let s = &mut said[index];
    let name = crate::sanitize::line(&report.name);
    if report.error != s.error {
        if let Some(e) = &report.error {
            eprintln!("casefile: {name}: {}", crate::sanitize::line(e));
        }
        s.error = report.error.clone();
    }
    for sample in report.skipped.samples.iter().skip(s.samples) {
        eprintln!("casefile: {name}: skipped {sample}");
    }
    s.samples = s.samples.max(report.skipped.samples.len());
    if finished {
        let n = report.skipped.skipped;
        if n > 0 {
            let plural = if n == 1 { "" } else { "s" };
            eprintln!("casefile: {name}: skipped {n} malformed record{plural} in all");
        }
        if let Some(n) = report.not_loaded.filter(|n| *n > 0) {
            eprintln!(
                "casefile: {name}: the window holds {n} more events than were loaded (the newest {} are)",
                report.events
            );
        }
    }
}

/// The alert lines. Those of one look at the events are written together and flushed at
/// once: none waits for later input, and an alert storm is not one system call a line. A
/// closed stdout (the pager or chat bridge went away) ends the watch, and is no error.
struct Lines<'a> {
    out: &'a mut dyn Write,
    closed: bool,
}

impl Lines<'_> {
    fn write(&mut self, updates: Vec<super::AlertUpdate>) -> Result<(), String> {
        if self.closed || updates.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for u in updates {
            text.push_str(&u.json_line());
            text.push('\n');
        }
        match self
            .out
            .write_all(text.as_bytes())
            .and_then(|_| self.out.flush())
        {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(format!("cannot write to stdout: {e}")),
        }
    }
}
