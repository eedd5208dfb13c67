//! Events packed for ingest: a batch's text in one buffer and its events as fixed-size records.
//! A parser fills thousands of events with a handful of allocations, and a batch crosses
//! threads as a few buffers. (Building an owned `Event` per record cost a third of the load
//! time in the allocator.)

use super::raw::{record_hash, RawFile};
use crate::correlate::conditions::Facts;
use crate::model::entity::normalize;
use crate::model::{
    Category, Entities, EntityKey, Event, EventKind, Process, Severity, SourceKind, Timestamp,
};
use std::hash::BuildHasher;
use std::sync::Arc;

/// A piece of a batch's text.
#[derive(Debug, Clone, Copy, Default)]
struct Piece {
    at: usize,
    len: u32,
}

#[derive(Debug, Clone, Copy)]
enum PackedRaw {
    Text(Piece),
    /// In the batch's file, at this offset; its bytes are valid UTF-8.
    File {
        offset: u64,
        len: u32,
        hash: u32,
    },
}

/// A process's fields as a parser finds them.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessParts<'a> {
    pub pid: Option<i64>,
    pub ppid: Option<i64>,
    pub name: Option<&'a str>,
    pub cmdline: Option<&'a str>,
    pub exe: Option<&'a str>,
    pub parent_name: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    /// When the process started.
    pub start: Option<Timestamp>,
    pub parent_entity_id: Option<&'a str>,
}

impl ProcessParts<'_> {
    fn is_empty(&self) -> bool {
        self.pid.is_none()
            && self.ppid.is_none()
            && self.name.is_none()
            && self.cmdline.is_none()
            && self.exe.is_none()
            && self.parent_name.is_none()
            && self.entity_id.is_none()
            && self.start.is_none()
            && self.parent_entity_id.is_none()
    }
}

/// A distinct string of a batch (a value, a tag, a title, a process name): each is stored once
/// per batch, so the store interns it once per batch rather than once per event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Val(u32);

impl Val {
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct PackedProcess {
    pid: Option<i64>,
    ppid: Option<i64>,
    name: Option<Val>,
    cmdline: Option<Val>,
    exe: Option<Val>,
    parent_name: Option<Val>,
    entity_id: Option<Val>,
    start: Option<Timestamp>,
    parent_entity_id: Option<Val>,
}

#[derive(Debug, Clone, Copy)]
struct PackedEvent {
    ts: Timestamp,
    source: SourceKind,
    kind: EventKind,
    severity: Severity,
    title: Val,
    source_name: Val,
    message: Piece,
    raw: PackedRaw,
    entities: (u32, u32),
    tags: (u32, u32),
    process: Option<PackedProcess>,
    /// Its categories are among its entities.
    classified: bool,
}

/// Events of one source, packed.
#[derive(Debug)]
pub struct PackedBatch {
    /// The source name events get unless [`EventBuilder::source_name`] gives another.
    source_name: Val,
    raw_file: Option<Arc<RawFile>>,
    text: String,
    events: Vec<PackedEvent>,
    entities: Vec<(EntityKey, Val)>,
    tags: Vec<Val>,
    /// The batch's distinct strings, and a table to find them by their text.
    values: Vec<Piece>,
    value_ids: hashbrown::HashTable<Val>,
    hasher: foldhash::fast::FixedState,
    /// Some events were dropped by [`PackedBatch::keep_last_if`]: not every value is used.
    dropped: bool,
}

impl PackedBatch {
    /// A batch whose raw records may be kept by offset into `raw_file`.
    pub fn new(source_name: &str, raw_file: Option<Arc<RawFile>>) -> Self {
        let mut batch = PackedBatch {
            source_name: Val::default(),
            raw_file,
            text: String::new(),
            events: Vec::new(),
            entities: Vec::new(),
            tags: Vec::new(),
            values: Vec::new(),
            value_ids: hashbrown::HashTable::new(),
            hasher: foldhash::fast::FixedState::default(),
            dropped: false,
        };
        batch.source_name = batch.value(source_name);
        batch
    }

    /// Owned events packed, for one path into the store: each keeps its own source name, and
    /// its entities as they are (already normalized, already classified).
    pub fn from_events(events: &[Event]) -> PackedBatch {
        let mut batch = PackedBatch::new("", None);
        for e in events {
            let mut b = batch.start(e.ts, e.source, e.kind, e.severity);
            b.source_name(&e.source_name);
            b.title(&e.title);
            b.message(&e.message);
            b.raw_text(&e.raw);
            for (key, value) in e.entities.iter() {
                b.entity(key, value);
            }
            for tag in &e.tags {
                b.tag(tag);
            }
            if let Some(p) = &e.process {
                b.process(p.into());
            }
            b.finish();
        }
        batch
    }

    /// A batch sized for records read from `bytes` bytes of input: its buffers and table do
    /// not grow (and rehash) record by record. The ratios are those of Falco alerts.
    pub fn for_input(source_name: &str, raw_file: Option<Arc<RawFile>>, bytes: usize) -> Self {
        let mut batch = PackedBatch::new(source_name, raw_file);
        let records = bytes / 600 + 16;
        batch.text.reserve(bytes / 2);
        batch.events.reserve(records);
        batch.entities.reserve(records * 12);
        batch.tags.reserve(records * 2);
        batch.values.reserve(records * 4);
        batch.value_ids.reserve(records * 4, |_| 0);
        batch
    }

    /// The batch's distinct string `s`, added if new.
    fn value(&mut self, s: &str) -> Val {
        let hash = self.hasher.hash_one(s);
        let (text, values) = (&self.text, &self.values);
        let get = |v: &Val| piece_text(text, values[v.index()]);
        if let Some(&v) = self.value_ids.find(hash, |v| get(v) == s) {
            return v;
        }
        let v = Val(self.values.len() as u32);
        let piece = self.push_text(s);
        self.values.push(piece);
        let (hasher, text, values) = (&self.hasher, &self.text, &self.values);
        self.value_ids.insert_unique(hash, v, |v| {
            hasher.hash_one(piece_text(text, values[v.index()]))
        });
        v
    }

    fn val(&self, v: Val) -> &str {
        piece_text(&self.text, self.values[v.index()])
    }

    /// The distinct strings, in the order their `Val`s number them.
    pub(super) fn values(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|p| piece_text(&self.text, *p))
    }

    /// Adds the last event's categories to its entities; a batch whose every event went
    /// through this is classified (the store does not classify it again).
    pub fn classify_last(&mut self, categories: impl Fn(&PackedRef<'_>) -> Vec<Category>) {
        let Some(last) = self.events.last().filter(|e| !e.classified) else {
            return;
        };
        let found = categories(&PackedRef {
            batch: self,
            event: last,
        });
        let from = last.entities.0 as usize;
        for c in found {
            let v = self.value(c.as_str());
            self.entities.push((EntityKey::Category, v));
        }
        // Keys in order, as `Entities` keeps them (each key's values already are).
        self.entities[from..].sort_by_key(|(k, _)| *k);
        if let Some(last) = self.events.last_mut() {
            last.entities.1 = self.entities.len() as u32;
            last.classified = true;
        }
    }

    /// Drops the last event unless `keep` takes it; says whether it was kept. What it wrote
    /// into the batch's text stays, unreferenced, and the store interns only what the kept
    /// events use.
    pub fn keep_last_if(&mut self, keep: impl Fn(&PackedRef<'_>) -> bool) -> bool {
        let Some(last) = self.events.last() else {
            return false;
        };
        if keep(&PackedRef {
            batch: self,
            event: last,
        }) {
            return true;
        }
        let (from, _) = last.entities;
        let (tags_from, _) = last.tags;
        self.entities.truncate(from as usize);
        self.tags.truncate(tags_from as usize);
        self.events.pop();
        self.dropped = true;
        false
    }

    /// Which distinct values the events use, when some events were dropped (else all are).
    pub(super) fn used_values(&self) -> Option<Vec<bool>> {
        if !self.dropped {
            return None;
        }
        let mut used = vec![false; self.values.len()];
        let mut mark = |v: Val| used[v.index()] = true;
        for e in self.iter() {
            mark(e.title_val());
            mark(e.source_name_val());
            e.entity_vals().iter().for_each(|&(_, v)| mark(v));
            e.tag_vals().for_each(&mut mark);
            if let Some((_, _, _, strings)) = e.process_vals() {
                strings.into_iter().flatten().for_each(&mut mark);
            }
        }
        Some(used)
    }

    /// Whether every event's categories were added by [`PackedBatch::classify_last`].
    pub fn is_classified(&self) -> bool {
        self.events.iter().all(|e| e.classified)
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub(super) fn raw_file(&self) -> Option<&Arc<RawFile>> {
        self.raw_file.as_ref()
    }

    /// Starts an event; it is added when [`EventBuilder::finish`] is called.
    pub fn start(
        &mut self,
        ts: Timestamp,
        source: SourceKind,
        kind: EventKind,
        severity: Severity,
    ) -> EventBuilder<'_> {
        let entities_at = self.entities.len() as u32;
        let tags_at = self.tags.len() as u32;
        // An event with no title given has an empty one.
        let no_title = self.value("");
        EventBuilder {
            event: PackedEvent {
                ts,
                source,
                kind,
                severity,
                title: no_title,
                source_name: self.source_name,
                message: Piece::default(),
                raw: PackedRaw::Text(Piece::default()),
                entities: (entities_at, entities_at),
                tags: (tags_at, tags_at),
                process: None,
                classified: false,
            },
            batch: self,
        }
    }

    fn push_text(&mut self, s: &str) -> Piece {
        // A single field over 4 GiB is cut at a char boundary rather than wrapping.
        let mut end = s.len().min(u32::MAX as usize);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let piece = Piece {
            at: self.text.len(),
            len: end as u32,
        };
        self.text.push_str(&s[..end]);
        piece
    }

    fn get(&self, p: Piece) -> &str {
        piece_text(&self.text, p)
    }

    pub fn iter(&self) -> impl Iterator<Item = PackedRef<'_>> {
        self.events
            .iter()
            .map(move |event| PackedRef { batch: self, event })
    }

    /// The events as owned values (for the paths that still take them).
    pub fn to_events(&self) -> Vec<Event> {
        self.iter().map(|e| e.to_event()).collect()
    }
}

/// Fills one event of a batch.
pub struct EventBuilder<'b> {
    batch: &'b mut PackedBatch,
    event: PackedEvent,
}

impl EventBuilder<'_> {
    pub fn title(&mut self, s: &str) {
        self.event.title = self.batch.value(s);
    }

    pub fn source_name(&mut self, s: &str) {
        self.event.source_name = self.batch.value(s);
    }

    pub fn message(&mut self, s: &str) {
        self.event.message = self.batch.push_text(s);
    }

    /// The raw record as text.
    pub fn raw_text(&mut self, s: &str) {
        self.event.raw = PackedRaw::Text(self.batch.push_text(s));
    }

    /// The raw record, found at `offset` of the batch's file. Without a file (or for a record
    /// over 4 GiB) it is kept as text.
    pub fn raw_at(&mut self, offset: u64, s: &str) {
        match u32::try_from(s.len()) {
            Ok(len) if self.batch.raw_file.is_some() => {
                self.event.raw = PackedRaw::File {
                    offset,
                    len,
                    hash: record_hash(s.as_bytes()),
                }
            }
            _ => self.raw_text(s),
        }
    }

    /// Adds an entity after normalizing it for its key; repeats are dropped.
    pub fn entity(&mut self, key: EntityKey, value: &str) {
        let Some(v) = normalize(key, value) else {
            return;
        };
        let v = self.batch.value(&v);
        let (from, to) = self.event.entities;
        if self.batch.entities[from as usize..to as usize].contains(&(key, v)) {
            return;
        }
        self.batch.entities.push((key, v));
        self.event.entities.1 += 1;
    }

    pub fn tag(&mut self, tag: &str) {
        let v = self.batch.value(tag);
        self.batch.tags.push(v);
        self.event.tags.1 += 1;
    }

    pub fn process(&mut self, p: ProcessParts) {
        if p.is_empty() {
            return;
        }
        let mut text = |s: Option<&str>| s.map(|s| self.batch.value(s));
        self.event.process = Some(PackedProcess {
            pid: p.pid,
            ppid: p.ppid,
            name: text(p.name),
            cmdline: text(p.cmdline),
            exe: text(p.exe),
            parent_name: text(p.parent_name),
            entity_id: text(p.entity_id),
            start: p.start,
            parent_entity_id: text(p.parent_entity_id),
        });
    }

    /// Adds the event, its entities in the order [`Entities`] keeps them.
    pub fn finish(self) {
        let (from, to) = self.event.entities;
        let batch = self.batch;
        let mut pairs = std::mem::take(&mut batch.entities);
        pairs[from as usize..to as usize]
            .sort_by(|a, b| (a.0, batch.val(a.1)).cmp(&(b.0, batch.val(b.1))));
        batch.entities = pairs;
        batch.events.push(self.event);
    }
}

/// A process as [`PackedRef::process_vals`] gives it: pid, ppid, start, and its strings.
pub(super) type ProcessVals = (
    Option<i64>,
    Option<i64>,
    Option<Timestamp>,
    [Option<Val>; 6],
);

/// One event of a batch.
#[derive(Clone, Copy)]
pub struct PackedRef<'a> {
    batch: &'a PackedBatch,
    event: &'a PackedEvent,
}

impl<'a> PackedRef<'a> {
    pub fn ts(&self) -> Timestamp {
        self.event.ts
    }
    pub fn source(&self) -> SourceKind {
        self.event.source
    }
    pub fn kind(&self) -> EventKind {
        self.event.kind
    }
    pub fn severity(&self) -> Severity {
        self.event.severity
    }
    pub fn title(&self) -> &'a str {
        self.batch.val(self.event.title)
    }
    pub fn message(&self) -> &'a str {
        self.batch.get(self.event.message)
    }
    pub fn entities(&self) -> impl Iterator<Item = (EntityKey, &'a str)> + 'a {
        let batch = self.batch;
        let (from, to) = self.event.entities;
        batch.entities[from as usize..to as usize]
            .iter()
            .map(move |(k, v)| (*k, batch.val(*v)))
    }
    pub fn tags(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.tag_vals().map(|v| self.batch.val(v))
    }

    /// The entities as the batch's distinct strings, for the store (which interns each of
    /// those once).
    pub(super) fn entity_vals(&self) -> &'a [(EntityKey, Val)] {
        let (from, to) = self.event.entities;
        &self.batch.entities[from as usize..to as usize]
    }
    pub(super) fn tag_vals(&self) -> impl Iterator<Item = Val> + 'a {
        let (from, to) = self.event.tags;
        self.batch.tags[from as usize..to as usize].iter().copied()
    }
    pub(super) fn title_val(&self) -> Val {
        self.event.title
    }
    pub(super) fn source_name_val(&self) -> Val {
        self.event.source_name
    }
    /// pid, ppid, start, and name, cmdline, exe, parent name, entity id, parent entity id as
    /// distinct strings.
    pub(super) fn process_vals(&self) -> Option<ProcessVals> {
        let p = self.event.process?;
        Some((
            p.pid,
            p.ppid,
            p.start,
            [
                p.name,
                p.cmdline,
                p.exe,
                p.parent_name,
                p.entity_id,
                p.parent_entity_id,
            ],
        ))
    }

    /// The raw record: text, or where it is in the batch's file.
    pub(super) fn raw(&self) -> RawOfPacked<'a> {
        match self.event.raw {
            PackedRaw::Text(p) => RawOfPacked::Text(self.batch.get(p)),
            PackedRaw::File { offset, len, hash } => RawOfPacked::File { offset, len, hash },
        }
    }

    pub fn process(&self) -> Option<ProcessParts<'a>> {
        let p = self.event.process?;
        let text = |v: Option<Val>| v.map(|x| self.batch.val(x));
        Some(ProcessParts {
            pid: p.pid,
            ppid: p.ppid,
            name: text(p.name),
            cmdline: text(p.cmdline),
            exe: text(p.exe),
            parent_name: text(p.parent_name),
            entity_id: text(p.entity_id),
            start: p.start,
            parent_entity_id: text(p.parent_entity_id),
        })
    }

    fn raw_string(&self) -> String {
        match self.raw() {
            RawOfPacked::Text(t) => t.to_string(),
            RawOfPacked::File { offset, len, hash } => match &self.batch.raw_file {
                Some(f) => f
                    .read(offset, len, hash)
                    .unwrap_or_else(|e| super::raw::unavailable(&e).into_owned()),
                None => String::new(),
            },
        }
    }

    pub fn to_event(&self) -> Event {
        Event {
            ts: self.ts(),
            source: self.event.source,
            source_name: self.batch.val(self.event.source_name).to_string(),
            kind: self.event.kind,
            severity: self.severity(),
            title: self.title().to_string(),
            message: self.message().to_string(),
            entities: self
                .entities()
                .map(|(k, v)| (k, v.to_string()))
                .collect::<Entities>(),
            process: self.process().map(|p| Process {
                pid: p.pid,
                ppid: p.ppid,
                name: p.name.map(str::to_string),
                cmdline: p.cmdline.map(str::to_string),
                exe: p.exe.map(str::to_string),
                parent_name: p.parent_name.map(str::to_string),
                entity_id: p.entity_id.map(str::to_string),
                start: p.start,
                parent_entity_id: p.parent_entity_id.map(str::to_string),
            }),
            tags: self.tags().map(str::to_string).collect(),
            raw: self.raw_string(),
        }
    }
}

pub(super) enum RawOfPacked<'a> {
    Text(&'a str),
    File { offset: u64, len: u32, hash: u32 },
}

impl Facts for PackedRef<'_> {
    fn source(&self) -> SourceKind {
        PackedRef::source(self)
    }
    fn kind(&self) -> EventKind {
        PackedRef::kind(self)
    }
    fn title(&self) -> &str {
        PackedRef::title(self)
    }
    fn message(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(PackedRef::message(self))
    }
    fn has_entity(&self, key: EntityKey, value: &str) -> bool {
        self.entities().any(|(k, v)| k == key && v == value)
    }
    fn has_tag(&self, tag: &str) -> bool {
        self.tags().any(|t| t.eq_ignore_ascii_case(tag))
    }
}

fn piece_text(text: &str, p: Piece) -> &str {
    &text[p.at..p.at + p.len as usize]
}
