//! Processes as the store holds them: a pid, a parent pid, a start time and interned strings,
//! 48 bytes whatever the command line's length (a million Falco events repeat a few thousand).

use super::interner::{Interner, Sym};
use super::packed::ProcessParts;
use crate::model::{Process, Timestamp};

#[derive(Debug, Clone, Copy)]
pub(super) struct ProcessRow {
    /// `i64::MIN` when unknown (as are `ppid` and `start`).
    pid: i64,
    ppid: i64,
    /// Nanoseconds since the epoch.
    start: i64,
    name: Sym,
    cmdline: Sym,
    exe: Sym,
    parent_name: Sym,
    entity_id: Sym,
    parent_entity_id: Sym,
}

const UNKNOWN: i64 = i64::MIN;

impl ProcessRow {
    /// From symbols already interned: name, cmdline, exe, parent name, entity id, parent
    /// entity id.
    pub(super) fn from_syms(
        pid: Option<i64>,
        ppid: Option<i64>,
        start: Option<Timestamp>,
        s: [Sym; 6],
    ) -> ProcessRow {
        ProcessRow {
            pid: pid.unwrap_or(UNKNOWN),
            ppid: ppid.unwrap_or(UNKNOWN),
            start: start.map_or(UNKNOWN, |t| t.0),
            name: s[0],
            cmdline: s[1],
            exe: s[2],
            parent_name: s[3],
            entity_id: s[4],
            parent_entity_id: s[5],
        }
    }
}

/// A borrowed view of a stored process.
#[derive(Clone, Copy)]
pub struct ProcessRef<'a> {
    pub(super) row: &'a ProcessRow,
    pub(super) strings: &'a Interner,
}

impl<'a> ProcessRef<'a> {
    pub fn pid(&self) -> Option<i64> {
        (self.row.pid != UNKNOWN).then_some(self.row.pid)
    }
    pub fn ppid(&self) -> Option<i64> {
        (self.row.ppid != UNKNOWN).then_some(self.row.ppid)
    }
    /// When the process started, when the source says.
    pub fn start(&self) -> Option<Timestamp> {
        (self.row.start != UNKNOWN).then_some(Timestamp(self.row.start))
    }
    pub fn name(&self) -> Option<&'a str> {
        self.strings.resolve_opt(self.row.name)
    }
    pub fn cmdline(&self) -> Option<&'a str> {
        self.strings.resolve_opt(self.row.cmdline)
    }
    pub fn exe(&self) -> Option<&'a str> {
        self.strings.resolve_opt(self.row.exe)
    }
    pub fn parent_name(&self) -> Option<&'a str> {
        self.strings.resolve_opt(self.row.parent_name)
    }
    pub fn entity_id(&self) -> Option<&'a str> {
        self.strings.resolve_opt(self.row.entity_id)
    }
    pub fn parent_entity_id(&self) -> Option<&'a str> {
        self.strings.resolve_opt(self.row.parent_entity_id)
    }

    pub fn to_process(&self) -> Process {
        Process {
            pid: self.pid(),
            ppid: self.ppid(),
            name: self.name().map(str::to_string),
            cmdline: self.cmdline().map(str::to_string),
            exe: self.exe().map(str::to_string),
            parent_name: self.parent_name().map(str::to_string),
            entity_id: self.entity_id().map(str::to_string),
            start: self.start(),
            parent_entity_id: self.parent_entity_id().map(str::to_string),
        }
    }
}

impl<'a> From<&'a Process> for ProcessParts<'a> {
    fn from(p: &'a Process) -> Self {
        ProcessParts {
            pid: p.pid,
            ppid: p.ppid,
            name: p.name.as_deref(),
            cmdline: p.cmdline.as_deref(),
            exe: p.exe.as_deref(),
            parent_name: p.parent_name.as_deref(),
            entity_id: p.entity_id.as_deref(),
            start: p.start,
            parent_entity_id: p.parent_entity_id.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_stays_compact() {
        assert!(std::mem::size_of::<ProcessRow>() <= 48);
    }
}
