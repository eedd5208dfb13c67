//! Starting the sources whose events keep arriving: Falco files and line files (followed like
//! `tail -F`), and the Falco receiver. The TUI and `casefile watch` start them the same way;
//! `watch` also reads standard input for a path `-`.

use crate::alerts::stdin_stream::{self, StdinFormat};
use crate::file_sources::LineFormat;
use crate::load::Loaded;
use crate::sources::task::{Cancel, SourceMessage};
use crate::sources::{falco_receiver, EntityTables};
use std::net::SocketAddr;
use std::sync::mpsc::SyncSender;

/// The followed sources a command names.
#[derive(Debug, Clone, Copy)]
pub struct Followed<'a> {
    pub falco: &'a [String],
    pub line_files: &'a [(LineFormat, String)],
    pub falco_listen: Option<&'a str>,
    /// A path `-` reads standard input (`watch`); otherwise it is refused like any other
    /// missing file (in the TUI, standard input is the terminal).
    pub stdin: bool,
}

/// Starts each source on a thread of its own, reporting on `tx`, and adds its report to
/// `loaded` (so its index is its report's). A file that cannot be opened or an address that
/// cannot be bound is an error at once. Returns the receiver's address, when there is one.
pub fn spawn(
    loaded: &mut Loaded,
    sources: Followed,
    tables: &EntityTables,
    cancel: &Cancel,
    tx: &SyncSender<SourceMessage>,
) -> Result<Option<SocketAddr>, String> {
    let sender = || {
        let tx = tx.clone();
        move |m| tx.send(m).is_ok()
    };
    for path in sources.falco {
        let index = loaded.reports.len();
        let report = if sources.stdin && path == "-" {
            let stdin = std::io::stdin();
            stdin_stream::spawn(index, StdinFormat::Falco, stdin, tables.clone(), sender())
        } else {
            crate::load::spawn_falco_file(
                index,
                path,
                tables.falco.clone(),
                loaded.rules.clone(),
                cancel.clone(),
                true,
                sender(),
            )?
        };
        loaded.reports.push(report);
    }
    for (format, path) in sources.line_files {
        let index = loaded.reports.len();
        let report = if sources.stdin && path == "-" {
            let format = StdinFormat::Lines(*format);
            stdin_stream::spawn(index, format, std::io::stdin(), tables.clone(), sender())
        } else {
            crate::file_sources::spawn(index, *format, path, tables, cancel.clone(), sender())?
        };
        loaded.reports.push(report);
    }
    let Some(addr) = sources.falco_listen else {
        return Ok(None);
    };
    let index = loaded.reports.len();
    let (local, report) =
        falco_receiver::spawn(addr, index, tables.falco.clone(), cancel.clone(), sender())?;
    loaded.reports.push(report);
    Ok(Some(local))
}
