//! Exporting from the TUI (`e`): the path is asked for (with the events shown, or all
//! loaded, by choice), the bundle is built a slice at a time between two looks at the
//! keyboard with its progress in the status line, `Esc` cancels it with nothing written, and
//! the file is written on its own thread, atomically.

use crate::bundle::export::{self, Case, ExportJob};
use crate::bundle::format::Manifest;
use crate::bundle::redact::Redactor;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};

/// Events one slice of an export writes.
pub const EXPORT_SLICE: usize = 20_000;

pub enum ExportState {
    /// The path being typed; whether every loaded event goes, or those shown.
    Asking {
        path: String,
        all: bool,
    },
    Building {
        path: PathBuf,
        job: Box<ExportJob>,
    },
    Writing {
        path: PathBuf,
        done: Receiver<Result<(u64, Manifest), String>>,
    },
}

impl ExportState {
    pub fn ask() -> ExportState {
        let now = crate::model::Timestamp::now().to_rfc3339();
        // `2026-11-23T05:40:12…` → `case-20261123-054012.casefile`
        let digits: String = now
            .chars()
            .take(19)
            .filter(|c| c.is_ascii_digit())
            .collect();
        let path = format!("case-{}-{}.casefile", &digits[..8], &digits[8..]);
        ExportState::Asking { path, all: false }
    }

    /// Percent built, while building.
    pub fn progress(&self) -> Option<u8> {
        match self {
            ExportState::Building { job, .. } => Some((job.progress() * 100.0) as u8),
            ExportState::Writing { .. } => Some(100),
            ExportState::Asking { .. } => None,
        }
    }

    pub fn running(&self) -> bool {
        !matches!(self, ExportState::Asking { .. })
    }
}

/// Starts building the case; the error is for the status line.
pub fn start(
    path: &str,
    case: &Case,
    redactor: &Redactor,
    signer: Option<ed25519_dalek::SigningKey>,
) -> Result<ExportState, String> {
    let path = path.trim();
    if path.is_empty() {
        return Err("give a file name to export to".into());
    }
    let created = export::created_at()?;
    Ok(ExportState::Building {
        path: PathBuf::from(path),
        job: Box::new(ExportJob::new(case, created, redactor).signed_by(signer)),
    })
}

/// What a step did.
pub enum Stepped {
    Working(ExportState),
    /// Finished: the message for the status line.
    Done(String),
}

/// Runs one slice: builds, then hands the bytes to a thread that writes them.
pub fn step(state: ExportState, store: &Store) -> Stepped {
    match state {
        ExportState::Building { path, mut job } => match job.step(store, EXPORT_SLICE) {
            Err(e) => Stepped::Done(format!("export failed: {e}")),
            Ok(false) => Stepped::Working(ExportState::Building { path, job }),
            Ok(true) => match job.finish() {
                Err(e) => Stepped::Done(format!("export failed: {e}")),
                Ok((bytes, manifest)) => {
                    let (tx, done) = mpsc::channel();
                    let target = path.clone();
                    std::thread::spawn(move || {
                        let written = export::write_atomic(&target, &bytes)
                            .map(|()| (bytes.len() as u64, manifest));
                        let _ = tx.send(written);
                    });
                    Stepped::Working(ExportState::Writing { path, done })
                }
            },
        },
        ExportState::Writing { path, done } => match done.try_recv() {
            Ok(Ok((bytes, m))) => Stepped::Done(format!(
                "wrote {}: {} events, {} series, {} marks, {} chains, {} secrets redacted, {} bytes",
                path.display(),
                m.counts.events,
                m.counts.series,
                m.counts.marks,
                m.counts.chains,
                m.redacted.values().sum::<u64>(),
                bytes
            )),
            Ok(Err(e)) => Stepped::Done(format!("export failed: {e}")),
            Err(TryRecvError::Empty) => Stepped::Working(ExportState::Writing { path, done }),
            Err(TryRecvError::Disconnected) => {
                Stepped::Done("export failed: the writer stopped".into())
            }
        },
        asking => Stepped::Working(asking),
    }
}
