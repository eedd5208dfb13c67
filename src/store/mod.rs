//! The event store, built for a million events (SPEC §9): events in time order, compact rows
//! with interned and arena-held text, and an index from every entity to its events, so pivots
//! and time windows are answered from the index and binary searches, never by a full scan.

mod entity_pairs;
mod growth;
mod histogram;
mod interner;
mod messages;
mod packed;
mod pivot;
mod postings;
mod process;
mod raw;
mod search;

pub use histogram::Histogram;
pub use interner::Sym;
pub use packed::{EventBuilder, PackedBatch, PackedRef, ProcessParts};
pub use pivot::Pivot;
pub use process::ProcessRef;
pub use raw::RawFile;
pub use search::SearchJob;

use crate::model::{
    Category, Entities, EntityKey, Event, EventKind, Series, Severity, SourceKind, TimeRange,
    Timestamp,
};
use interner::Interner;
use raw::{RawAt, RawPlace};
use std::borrow::Cow;
use std::sync::Arc;

/// A filter over the store: every pivot must hold (AND), inside the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub pivots: Vec<Pivot>,
    pub window: TimeRange,
}

impl Query {
    /// Whether an event with this time and these entities is one [`Store::select`] picks:
    /// in the window, satisfying every pivot and no filter-out. A headless query asks it
    /// while reading, so only what it answers with is stored.
    pub fn admits<'a, I>(&self, ts: Timestamp, entities: impl Fn() -> I) -> bool
    where
        I: Iterator<Item = (EntityKey, &'a str)>,
    {
        self.window.contains(ts)
            && self
                .pivots
                .iter()
                .all(|p| entities().any(|(k, v)| p.accepts(k, v)) != p.exclude)
    }

    /// Whether a pivot asks for an event's category (which must then be known before
    /// [`Query::admits`] is asked).
    pub fn asks_category(&self) -> bool {
        self.pivots.iter().any(|p| p.key == EntityKey::Category)
    }
}

impl Default for Query {
    fn default() -> Self {
        Query {
            pivots: Vec::new(),
            window: TimeRange::ALL,
        }
    }
}

/// One event as stored: fixed-size, with its text elsewhere.
#[derive(Debug, Clone, Copy)]
struct Row {
    ts: Timestamp,
    source: SourceKind,
    kind: EventKind,
    severity: Severity,
    source_name: Sym,
    /// Interned: titles (Falco rules, alert names) repeat.
    title: Sym,
    raw: RawAt,
    entities_at: u32,
    entities_len: u16,
    tags_at: u32,
    tags_len: u16,
    /// Index into `processes`, or `u32::MAX`.
    process: u32,
    /// Arrival number: an event's identity while merges move its position.
    id: u32,
}

#[derive(Debug, Default)]
pub struct Store {
    rows: Vec<Row>,
    strings: Interner,
    /// Raw records with no file behind them, compressed in blocks by arrival number.
    raw_texts: messages::Messages,
    messages: messages::Messages,
    entity_pairs: entity_pairs::EntityPairs,
    tag_syms: Vec<Sym>,
    processes: Vec<process::ProcessRow>,
    /// Positions (into `rows`, so in time order) of the events that carry each entity.
    postings: postings::Postings,
    /// The distinct values seen for each key, for pivots that match by rule (prefix, digest)
    /// and for completion.
    values_by_key: [Vec<Sym>; EntityKey::ALL.len()],
    series: Vec<Series>,
    /// The files whose raw records are kept by offset.
    raw_files: Vec<Arc<RawFile>>,
    /// Current position of each event, by arrival number.
    pos_of_id: Vec<u32>,
    /// Events per source, kept as rows arrive: the top bar shows them on every frame.
    by_source: [usize; SourceKind::ALL.len()],
}

/// A borrowed view of one stored event, for drawing without allocation.
#[derive(Clone, Copy)]
pub struct EventRef<'a> {
    store: &'a Store,
    row: &'a Row,
}

impl<'a> EventRef<'a> {
    pub fn ts(&self) -> Timestamp {
        self.row.ts
    }
    pub fn source(&self) -> SourceKind {
        self.row.source
    }
    pub fn kind(&self) -> EventKind {
        self.row.kind
    }
    pub fn severity(&self) -> Severity {
        self.row.severity
    }
    pub fn source_name(&self) -> &'a str {
        self.store.strings.resolve(self.row.source_name)
    }
    pub fn title(&self) -> &'a str {
        self.store.strings.resolve(self.row.title)
    }
    /// The message; decompressed from its block unless it is among the newest.
    pub fn message(&self) -> Cow<'a, str> {
        self.store.messages.get(self.row.id)
    }
    /// The raw record, read back from its file when it was kept by offset; a record that
    /// cannot be read back any more says why in its place.
    pub fn raw(&self) -> Cow<'a, str> {
        self.raw_checked().unwrap_or_else(|e| raw::unavailable(&e))
    }

    /// The raw record, or why it cannot be read back (its file changed since it was loaded).
    pub fn raw_checked(&self) -> Result<Cow<'a, str>, String> {
        match self.row.raw.place() {
            RawPlace::Held => Ok(self.store.raw_texts.get(self.row.id)),
            RawPlace::File {
                file,
                len,
                hash,
                offset,
            } => match self.store.raw_files.get(file as usize) {
                Some(f) => f.read(offset, len, hash).map(Cow::Owned),
                None => Err("its file is not known".into()),
            },
        }
    }
    pub fn entities(&self) -> impl Iterator<Item = (EntityKey, &'a str)> + 'a {
        let store = self.store;
        let at = self.row.entities_at as usize;
        store
            .entity_pairs
            .range(at, self.row.entities_len as usize)
            .map(move |(k, s)| (k, store.strings.resolve(s)))
    }
    pub fn tags(&self) -> impl Iterator<Item = &'a str> + 'a {
        let store = self.store;
        let at = self.row.tags_at as usize;
        store.tag_syms[at..at + self.row.tags_len as usize]
            .iter()
            .map(move |s| store.strings.resolve(*s))
    }
    pub fn process(&self) -> Option<ProcessRef<'a>> {
        let row = self.store.processes.get(self.row.process as usize)?;
        Some(ProcessRef {
            row,
            strings: &self.store.strings,
        })
    }

    /// The event as an owned value, for output; a raw record that cannot be read back says
    /// why in its place.
    pub fn to_event(&self) -> Event {
        let mut e = self.without_raw();
        e.raw = self.raw().into_owned();
        e
    }

    /// The event as an owned value, or why its raw record cannot be read back: what goes
    /// into a bundle must be the record itself.
    pub fn to_event_checked(&self) -> Result<Event, String> {
        let mut e = self.without_raw();
        e.raw = self.raw_checked()?.into_owned();
        Ok(e)
    }

    fn without_raw(&self) -> Event {
        Event {
            ts: self.ts(),
            source: self.source(),
            source_name: self.source_name().to_string(),
            kind: self.kind(),
            severity: self.severity(),
            title: self.title().to_string(),
            message: self.message().into_owned(),
            entities: self
                .entities()
                .map(|(k, v)| (k, v.to_string()))
                .collect::<Entities>(),
            process: self.process().map(|p| p.to_process()),
            tags: self.tags().map(str::to_string).collect(),
            raw: String::new(),
        }
    }
}

impl Store {
    pub fn new() -> Self {
        Store::default()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, pos: u32) -> Option<EventRef<'_>> {
        self.rows
            .get(pos as usize)
            .map(|row| EventRef { store: self, row })
    }

    pub fn series(&self) -> &[Series] {
        &self.series
    }

    pub fn add_series(&mut self, series: impl IntoIterator<Item = Series>) {
        self.series.extend(series);
    }

    /// The time span of all events and samples, if there are any.
    pub fn time_span(&self) -> Option<TimeRange> {
        let mut lo = self.rows.first().map(|r| r.ts);
        let mut hi = self.rows.last().map(|r| r.ts);
        for s in &self.series {
            if let (Some(first), Some(last)) = (s.samples.first(), s.samples.last()) {
                lo = Some(lo.map_or(first.0, |l| l.min(first.0)));
                hi = Some(hi.map_or(last.0, |h| h.max(last.0)));
            }
        }
        Some(TimeRange::new(lo?, Timestamp(hi?.0.saturating_add(1))))
    }

    /// Adds events. A batch that arrives in time order is appended and indexed in place. Older
    /// events (sources interleaving, Falco's per-CPU buffers) are merged in: only the rows from
    /// the first displaced position onward are moved and re-indexed, so a nearly sorted stream
    /// costs little more than a sorted one.
    ///
    /// Returns the first position whose event changed, when older events moved later ones:
    /// positions held from before are then stale (map them through [`Store::id_at`] and
    /// [`Store::pos_of`]).
    pub fn ingest(&mut self, events: Vec<Event>) -> Option<usize> {
        if events.is_empty() {
            return None;
        }
        // One way into the store: owned events are packed first.
        self.ingest_packed(&PackedBatch::from_events(&events), |_| Vec::new())
    }

    /// Adds a packed batch, as [`Store::ingest`] does; `derived` gives each event's
    /// categories, added to its entities.
    pub fn ingest_packed(
        &mut self,
        batch: &PackedBatch,
        mut derived: impl FnMut(&PackedRef<'_>) -> Vec<Category>,
    ) -> Option<usize> {
        if batch.is_empty() {
            return None;
        }
        let file = batch.raw_file().map(|f| self.raw_file_index(f));
        // Each of the batch's distinct strings that its events use is interned once.
        let used = batch.used_values();
        let syms: Vec<Sym> = batch
            .values()
            .enumerate()
            .map(|(i, s)| match &used {
                Some(used) if !used[i] => Sym::NONE,
                _ => self.strings.intern(s),
            })
            .collect();
        let new_rows: Vec<Row> = batch
            .iter()
            .map(|e| {
                let categories = derived(&e);
                self.row_for_packed(&e, &syms, file, &categories)
            })
            .collect();
        self.insert_rows(new_rows)
    }

    /// The number of a raw file, registered on first use. Past 65,535 files, records are
    /// kept as text.
    fn raw_file_index(&mut self, f: &Arc<RawFile>) -> Option<u16> {
        if let Some(i) = self.raw_files.iter().position(|g| Arc::ptr_eq(f, g)) {
            return u16::try_from(i).ok();
        }
        let i = u16::try_from(self.raw_files.len()).ok()?;
        self.raw_files.push(f.clone());
        Some(i)
    }

    fn insert_rows(&mut self, mut new_rows: Vec<Row>) -> Option<usize> {
        if new_rows.is_empty() {
            return None;
        }
        let old_len = self.rows.len();
        for r in &new_rows {
            self.by_source[r.source.index()] += 1;
        }
        new_rows.sort_by_key(|r| r.ts);
        let k = self.rows.partition_point(|r| r.ts <= new_rows[0].ts);
        growth::reserve(&mut self.rows, new_rows.len());
        if k < self.rows.len() {
            self.unindex_from(k);
            let tail = self.rows.split_off(k);
            // Stable merge: on equal times, what was there first stays first.
            let (mut a, mut b) = (tail.into_iter().peekable(), new_rows.into_iter().peekable());
            while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
                let next = if y.ts < x.ts { b.next() } else { a.next() };
                self.rows.extend(next);
            }
            self.rows.extend(a);
            self.rows.extend(b);
        } else {
            self.rows.extend(new_rows);
        }
        let displaced = (k < old_len).then_some(k);
        for pos in k..self.rows.len() {
            self.index_row(pos);
        }
        displaced
    }

    /// Whether an event with this time, source kind and raw record is already held.
    pub fn holds(&self, ts: Timestamp, source: SourceKind, raw: &str) -> bool {
        let from = self.rows.partition_point(|r| r.ts < ts);
        self.rows[from..]
            .iter()
            .take_while(|r| r.ts == ts)
            .any(|r| {
                r.source == source
                    && EventRef {
                        store: self,
                        row: r,
                    }
                    .raw_checked()
                    .is_ok_and(|t| t == raw)
            })
    }

    /// The store without the events of the sources whose names `drop` picks. Rebuilt
    /// whole: a rare, explicit action (a source's query replaced).
    pub fn without_sources(&self, drop: impl Fn(&str) -> bool) -> Store {
        let mut kept = Store::new();
        let events: Vec<Event> = (0..self.rows.len() as u32)
            .filter_map(|p| self.get(p))
            .filter(|e| !drop(e.source_name()))
            .map(|e| e.to_event())
            .collect();
        kept.ingest(events);
        kept.series = self
            .series
            .iter()
            .filter(|s| !drop(&s.source_name))
            .cloned()
            .collect();
        kept
    }

    /// The arrival number of the event at a position.
    pub fn id_at(&self, pos: u32) -> Option<u32> {
        self.rows.get(pos as usize).map(|r| r.id)
    }

    /// Where the event with this arrival number is now.
    pub fn pos_of(&self, id: u32) -> Option<u32> {
        self.pos_of_id.get(id as usize).copied()
    }

    /// Removes positions `k..` from the index (they are about to move).
    fn unindex_from(&mut self, k: usize) {
        for pos in k..self.rows.len() {
            let row = self.rows[pos];
            let at = row.entities_at as usize;
            for i in at..at + row.entities_len as usize {
                let (key, sym) = self.entity_pairs.get(i);
                self.postings.truncate_from(key, sym, k as u32);
            }
        }
    }

    fn row_for_packed(
        &mut self,
        e: &PackedRef<'_>,
        syms: &[Sym],
        file: Option<Option<u16>>,
        categories: &[Category],
    ) -> Row {
        let sym = |v: packed::Val| syms[v.index()];
        let entities_at = self.entity_pairs.len() as u32;
        for &(k, v) in e.entity_vals() {
            self.entity_pairs.push(k, sym(v));
        }
        if !categories.is_empty() {
            for c in categories {
                let sym = self.strings.intern(c.as_str());
                self.entity_pairs.push(EntityKey::Category, sym);
            }
            // Keys in order, as `Entities` keeps them (each key's values already are).
            self.entity_pairs.sort_from_by_key(entities_at as usize);
        }
        let tags_at = self.tag_syms.len() as u32;
        for t in e.tag_vals() {
            growth::reserve(&mut self.tag_syms, 1);
            self.tag_syms.push(sym(t));
        }
        let process = match e.process_vals() {
            Some((pid, ppid, start, strings)) => {
                let row = process::ProcessRow::from_syms(
                    pid,
                    ppid,
                    start,
                    strings.map(|s| s.map_or(Sym::NONE, sym)),
                );
                growth::reserve(&mut self.processes, 1);
                self.processes.push(row);
                (self.processes.len() - 1) as u32
            }
            None => u32::MAX,
        };
        // Every event has a place in `raw_texts` (by arrival number): its record, or nothing
        // when the record stays in its file.
        let raw = match (e.raw(), file) {
            (packed::RawOfPacked::Text(t), _) => {
                self.raw_texts.push_whole(t);
                RawAt::held()
            }
            (packed::RawOfPacked::File { offset, len, hash }, Some(Some(file))) => {
                match RawAt::file(file, offset, len, hash) {
                    Some(at) => {
                        self.raw_texts.push_whole("");
                        at
                    }
                    None => {
                        self.raw_texts.push_whole(&e.to_event().raw);
                        RawAt::held()
                    }
                }
            }
            // The file is past the store's limits: read the record now and keep it as text.
            (packed::RawOfPacked::File { .. }, _) => {
                self.raw_texts.push_whole(&e.to_event().raw);
                RawAt::held()
            }
        };
        let id = self.pos_of_id.len() as u32;
        self.messages.push(e.message());
        growth::reserve(&mut self.pos_of_id, 1);
        self.pos_of_id.push(u32::MAX);
        Row {
            id,
            ts: e.ts(),
            source: e.source(),
            kind: e.kind(),
            severity: e.severity(),
            source_name: sym(e.source_name_val()),
            title: sym(e.title_val()),
            raw,
            entities_at,
            entities_len: (self.entity_pairs.len() as u32 - entities_at).min(u16::MAX as u32)
                as u16,
            tags_at,
            tags_len: (self.tag_syms.len() as u32 - tags_at).min(u16::MAX as u32) as u16,
            process,
        }
    }

    fn index_row(&mut self, pos: usize) {
        let row = self.rows[pos];
        self.pos_of_id[row.id as usize] = pos as u32;
        let at = row.entities_at as usize;
        for i in at..at + row.entities_len as usize {
            let (key, sym) = self.entity_pairs.get(i);
            if self.postings.push(key, sym, pos as u32) {
                self.values_by_key[key.index()].push(sym);
            }
        }
    }

    /// Positions `[lo, hi)` of the events inside a window, by binary search.
    fn window_bounds(&self, window: TimeRange) -> (u32, u32) {
        let lo = self.rows.partition_point(|r| r.ts < window.start);
        let hi = self.rows.partition_point(|r| r.ts < window.end);
        (lo as u32, hi.max(lo) as u32)
    }

    /// Every position in `[lo, hi)` whose event satisfies one pivot, in time order. Each
    /// posting list is cut to the window by binary search before anything is copied.
    fn pivot_positions(&self, pivot: &Pivot, lo: u32, hi: u32) -> Vec<u32> {
        let clip = |list: &'_ [u32]| -> std::ops::Range<usize> {
            list.partition_point(|&x| x < lo)..list.partition_point(|&x| x < hi)
        };
        let mut lists: Vec<&[u32]> = Vec::new();
        for &key in pivot.candidate_keys() {
            if let Some(value) = pivot.exact_value(key) {
                if let Some(list) = self
                    .strings
                    .lookup(&value)
                    .and_then(|sym| self.postings.get(key, sym))
                {
                    lists.push(&list[clip(list)]);
                }
                continue;
            }
            if !pivot.scans(key) {
                continue;
            }
            for &sym in &self.values_by_key[key.index()] {
                if pivot.accepts(key, self.strings.resolve(sym)) {
                    if let Some(list) = self.postings.get(key, sym) {
                        lists.push(&list[clip(list)]);
                    }
                }
            }
        }
        match lists.len() {
            0 => Vec::new(),
            1 => lists[0].to_vec(),
            _ => {
                let mut all: Vec<u32> = lists.concat();
                all.sort_unstable();
                all.dedup();
                all
            }
        }
    }

    /// The positions, in time order, of the events matching a query: every pivot holds, and
    /// no excluded entity is carried.
    pub fn select(&self, query: &Query) -> Vec<u32> {
        let (lo, hi) = self.window_bounds(query.window);
        let (excluded, included): (Vec<&Pivot>, Vec<&Pivot>) =
            query.pivots.iter().partition(|p| p.exclude);
        let mut selected: Vec<u32> = if included.is_empty() {
            (lo..hi).collect()
        } else {
            let mut lists: Vec<Vec<u32>> = included
                .iter()
                .map(|p| self.pivot_positions(p, lo, hi))
                .collect();
            lists.sort_by_key(Vec::len);
            let (smallest, rest) = lists.split_first().expect("at least one pivot");
            smallest
                .iter()
                .copied()
                .filter(|pos| rest.iter().all(|l| l.binary_search(pos).is_ok()))
                .collect()
        };
        for p in excluded {
            let out = self.pivot_positions(p, lo, hi);
            if !out.is_empty() {
                selected = difference(&selected, &out);
            }
        }
        selected
    }

    /// The series whose labels satisfy every pivot.
    pub fn select_series(&self, query: &Query) -> Vec<&Series> {
        self.series
            .iter()
            .filter(|s| {
                query
                    .pivots
                    .iter()
                    .all(|p| p.matches(&s.entities) != p.exclude)
            })
            .collect()
    }

    /// The series of a view: those that meet every pivot; or, when none does (a pivot on a
    /// container, a user or a pid, which no series label carries), the series of the pods the
    /// events `shown` (sorted positions) run in, else of their hosts, when they are at most a
    /// few: the CPU of the container's pod, not of the whole cluster.
    pub fn series_of_view(&self, query: &Query, shown: &[u32]) -> Vec<&Series> {
        let direct = self.select_series(query);
        if !direct.is_empty() || query.pivots.iter().all(|p| p.exclude) {
            return direct;
        }
        for key in [EntityKey::Pod, EntityKey::Host] {
            let places = self.values_among(key, shown, FEW_PLACES + 1);
            if places.is_empty() || places.len() > FEW_PLACES {
                continue;
            }
            let series: Vec<&Series> = self
                .series
                .iter()
                .filter(|s| places.iter().any(|v| s.entities.contains(key, v)))
                .collect();
            if !series.is_empty() {
                return series;
            }
        }
        Vec::new()
    }

    /// Up to `limit` values of `key` that some of `positions` (sorted) carry, found through
    /// the index.
    fn values_among(&self, key: EntityKey, positions: &[u32], limit: usize) -> Vec<&str> {
        let mut out = Vec::new();
        for &sym in &self.values_by_key[key.index()] {
            let Some(list) = self.postings.get(key, sym) else {
                continue;
            };
            let (small, big) = if list.len() <= positions.len() {
                (list, positions)
            } else {
                (positions, list)
            };
            if small.iter().any(|p| big.binary_search(p).is_ok()) {
                out.push(self.strings.resolve(sym));
                if out.len() >= limit {
                    break;
                }
            }
        }
        out
    }

    /// Distinct values seen for a key, for completion and summaries.
    pub fn values(&self, key: EntityKey) -> impl Iterator<Item = &str> {
        self.values_by_key[key.index()]
            .iter()
            .map(|s| self.strings.resolve(*s))
    }

    /// How many events carry this exact entity.
    pub fn entity_count(&self, key: EntityKey, value: &str) -> usize {
        self.strings
            .lookup(value)
            .and_then(|sym| self.postings.get(key, sym))
            .map_or(0, <[u32]>::len)
    }

    /// Approximate bytes held by each part of the store, for measuring (`examples/`).
    pub fn footprint(&self) -> Vec<(&'static str, usize)> {
        use std::mem::size_of;
        vec![
            ("rows", self.rows.capacity() * size_of::<Row>()),
            (
                "raw text (records with no file)",
                self.raw_texts.footprint(),
            ),
            ("messages (LZ4 blocks)", self.messages.footprint()),
            ("entity pairs", self.entity_pairs.footprint()),
            ("tags", self.tag_syms.capacity() * size_of::<Sym>()),
            (
                "processes",
                self.processes.capacity() * size_of::<process::ProcessRow>(),
            ),
            ("postings", self.postings.footprint()),
            ("interned strings", self.strings.footprint()),
            ("arrival index", self.pos_of_id.capacity() * 4),
        ]
    }

    /// Event counts per source.
    pub fn counts_by_source(&self) -> [usize; SourceKind::ALL.len()] {
        self.by_source
    }
}

/// A view whose events run in more pods (or hosts) than this shows no borrowed series: it is
/// not about one place.
const FEW_PLACES: usize = 4;

/// `a` without `b`, both sorted: one pass over each.
fn difference(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j >= b.len() || b[j] != x {
            out.push(x);
        }
    }
    out
}

#[cfg(test)]
mod tests;
