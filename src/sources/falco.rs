//! Falco alerts: `json_output: true` lines, `http_output` bodies and falcosidekick payloads.

use super::falco_record::{FalcoLine, Field, Fields};
use super::mapping::EntityTable;
use super::{Parsed, SkipReport};
use crate::model::{
    entity::looks_like_commit, EntityKey, Event, EventKind, Severity, SourceKind, Timestamp,
};
use crate::store::{PackedBatch, ProcessParts};
use std::borrow::Cow;
use std::io::BufRead;

/// Why one record could not become an event.
pub type RecordError = String;

/// What became of one Falco record.
pub enum FalcoRecord {
    Event(Box<Event>),
    /// Falco's own periodic metrics snapshots (`source: internal`) are not alerts.
    Internal,
}

/// The longest line read: a longer one (a binary file, a runaway writer) is skipped and
/// counted without ever being held whole.
pub const MAX_LINE: usize = 16 << 20;

/// Reads one line into `buf` (without its newline), keeping at most `max` bytes of it and
/// skipping the rest. `Ok(None)` at the end of input, else whether the line was too long.
pub fn read_line_capped(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let (mut too_long, mut any) = (false, false);
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(too_long));
        }
        any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        if !too_long {
            let room = max.saturating_sub(buf.len());
            if chunk.len() > room {
                buf.extend_from_slice(&chunk[..room]);
                too_long = true;
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = newline.map_or(available.len(), |i| i + 1);
        reader.consume(used);
        if newline.is_some() {
            return Ok(Some(too_long));
        }
    }
}

/// How many events are handed to the sink at once.
pub const BATCH: usize = 8192;

/// What reading a stream of Falco lines came to, apart from the events.
#[derive(Debug, Default)]
pub struct LineStats {
    pub events: usize,
    pub skipped: SkipReport,
    pub ignored: usize,
    /// Lines read, blank and skipped ones included.
    pub lines: usize,
    /// Where the input stands after the last line handed on (for a reader that reads in
    /// chunks: a chunk read but never handed on, after an error, is not counted).
    pub bytes: u64,
}

/// Turns lines into events, batch by batch: shared by the one-shot reader and the follower.
pub struct LineParser<'a> {
    source_name: &'a str,
    table: &'a EntityTable,
    batch: Vec<Event>,
    pub stats: LineStats,
}

impl<'a> LineParser<'a> {
    pub fn new(source_name: &'a str, table: &'a EntityTable) -> Self {
        LineParser {
            source_name,
            table,
            batch: Vec::new(),
            stats: LineStats::default(),
        }
    }

    /// Counts lines read elsewhere (a file's start read on every core) as read by this one,
    /// so the lines after them keep their numbers.
    pub fn absorb(&mut self, read: LineStats) {
        self.stats.events += read.events;
        self.stats.ignored += read.ignored;
        self.stats.lines += read.lines;
        self.stats.skipped.merge(read.skipped);
    }

    /// A line longer than [`MAX_LINE`]: skipped and counted, with its start as the sample.
    pub fn too_long(&mut self, start: &[u8]) {
        self.stats.lines += 1;
        let excerpt = String::from_utf8_lossy(&start[..start.len().min(200)]).into_owned();
        self.stats.skipped.skip(
            self.stats.lines,
            format!("line longer than {} MiB", MAX_LINE >> 20),
            &excerpt,
        );
    }

    /// One line (without or with its newline). Full batches go to `sink`.
    pub fn line(&mut self, bytes: &[u8], sink: &mut impl FnMut(Vec<Event>)) {
        self.stats.lines += 1;
        let line = String::from_utf8_lossy(bytes);
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        match parse_record(line, self.source_name, self.table) {
            Ok(FalcoRecord::Event(e)) => {
                self.batch.push(*e);
                if self.batch.len() == BATCH {
                    self.flush(sink);
                }
            }
            Ok(FalcoRecord::Internal) => self.stats.ignored += 1,
            Err(reason) => self.stats.skipped.skip(self.stats.lines, reason, line),
        }
    }

    /// Hands over the events parsed so far.
    pub fn flush(&mut self, sink: &mut impl FnMut(Vec<Event>)) {
        if !self.batch.is_empty() {
            self.stats.events += self.batch.len();
            sink(std::mem::take(&mut self.batch));
        }
    }
}

/// Reads Falco JSON lines, handing events to `sink` in batches so that a big file is never held
/// twice. Malformed lines are skipped, counted and sampled; reading stops only at an I/O error,
/// which is returned with the stats of what was read.
pub fn read_lines(
    mut reader: impl BufRead,
    source_name: &str,
    table: &EntityTable,
    mut sink: impl FnMut(Vec<Event>),
) -> (LineStats, Option<std::io::Error>) {
    let mut parser = LineParser::new(source_name, table);
    let mut buf = Vec::new();
    let mut error = None;
    loop {
        match read_line_capped(&mut reader, &mut buf, MAX_LINE) {
            Ok(None) => break,
            Ok(Some(false)) => parser.line(&buf, &mut sink),
            Ok(Some(true)) => parser.too_long(&buf),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    parser.flush(&mut sink);
    (parser.stats, error)
}

/// Reads Falco JSON lines into one `Parsed`.
pub fn parse_lines(
    reader: impl BufRead,
    source_name: &str,
    table: &EntityTable,
) -> (Parsed, Option<std::io::Error>) {
    let mut events = Vec::new();
    let (stats, err) = read_lines(reader, source_name, table, |mut b| events.append(&mut b));
    let parsed = Parsed {
        events,
        series: Vec::new(),
        skipped: stats.skipped,
        ignored: stats.ignored,
    };
    (parsed, err)
}

/// Parses one Falco JSON record (a line, or an HTTP body).
pub fn parse_record(
    text_record: &str,
    source_name: &str,
    table: &EntityTable,
) -> Result<FalcoRecord, RecordError> {
    let mut batch = PackedBatch::new(source_name, None);
    match pack_record(text_record, None, table, &mut batch)? {
        Packed::Internal => Ok(FalcoRecord::Internal),
        Packed::Event => batch
            .to_events()
            .pop()
            .map(|e| FalcoRecord::Event(Box::new(e)))
            .ok_or_else(|| "no event".into()),
    }
}

/// What [`pack_record`] did with a record.
pub enum Packed {
    Event,
    /// Falco's own periodic metrics snapshots (`source: internal`) are not alerts.
    Internal,
}

/// Parses one Falco JSON record into `out`, borrowing from the record: no allocation per
/// field. With `offset` (where the record starts in the batch's file), the raw record is kept
/// by offset rather than copied.
pub fn pack_record(
    text_record: &str,
    offset: Option<u64>,
    table: &EntityTable,
    out: &mut PackedBatch,
) -> Result<Packed, RecordError> {
    let trimmed = text_record.trim_start();
    if !trimmed.starts_with('{') {
        return Err(if trimmed.starts_with('[') || trimmed.starts_with('"') {
            "not a JSON object".into()
        } else {
            "not JSON".into()
        });
    }
    let rec: FalcoLine =
        serde_json::from_str(text_record).map_err(|e| format!("not a Falco record ({e})"))?;
    fn text<'r>(f: &'r Option<Field>) -> Option<Cow<'r, str>> {
        f.as_ref().and_then(Field::text)
    }
    let event_source = text(&rec.source).unwrap_or_default();
    let rule = text(&rec.rule).unwrap_or_default();
    if event_source == "internal" || rule.starts_with("Falco internal") {
        return Ok(Packed::Internal);
    }
    let empty = Fields::default();
    let fields = rec.output_fields.as_ref().unwrap_or(&empty);
    let ts = timestamp(&rec, fields).ok_or("no usable `time` or `evt.time`")?;
    if rule.is_empty() {
        return Err("no `rule`".into());
    }
    let severity = text(&rec.priority)
        .and_then(|p| Severity::parse_loose(&p))
        .unwrap_or(Severity::Notice);
    let output = text(&rec.output).unwrap_or_default();

    let mut e = out.start(ts, SourceKind::Falco, EventKind::Alert, severity);
    e.title(&rule);
    e.message(strip_output_prefix(&output));
    match offset {
        Some(at) => e.raw_at(at, text_record),
        None => e.raw_text(text_record),
    }
    table.apply_with(
        |name| match name {
            "hostname" => rec.hostname.as_ref().and_then(Field::text),
            "rule" => rec.rule.as_ref().and_then(Field::text),
            other => fields.get(other).and_then(Field::text),
        },
        |key, value| e.entity(key, value),
    );
    if let Some(image) = image_reference(fields) {
        e.entity(EntityKey::Image, &image);
    }
    if let Some(tag) = field(fields, "container.image.tag").filter(|t| looks_like_commit(t)) {
        e.entity(EntityKey::Commit, tag);
    }
    match &rec.tags {
        Some(Field::List(items)) => items.iter().filter_map(Field::text).for_each(|t| e.tag(&t)),
        Some(one) => one.text().into_iter().for_each(|t| e.tag(&t)),
        None => {}
    }
    e.process(process(fields));
    e.finish();
    Ok(Packed::Event)
}

/// A text field of `output_fields`, with Falco's `<NA>` placeholder read as absent.
fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Field::as_text)
}

fn timestamp(rec: &FalcoLine, fields: &Fields) -> Option<Timestamp> {
    if let Some(ts) = rec
        .time
        .as_ref()
        .and_then(Field::as_text)
        .and_then(Timestamp::parse_rfc3339)
    {
        return Some(ts);
    }
    for name in ["evt.time", "evt.rawtime", "evt.time.iso8601"] {
        if let Some(ns) = fields.get(name).and_then(Field::int) {
            return Some(Timestamp::from_nanos(ns));
        }
    }
    // falcosidekick's Elasticsearch output adds `@timestamp`.
    rec.at_timestamp
        .as_ref()
        .and_then(Field::as_text)
        .and_then(Timestamp::parse_rfc3339)
}

/// `repo@sha256:…` when Falco knows the digest, else `repo:tag`, else `container.image`.
fn image_reference<'a>(fields: &'a Fields) -> Option<Cow<'a, str>> {
    let repo = field(fields, "container.image.repository");
    let digest = field(fields, "container.image.digest");
    let tag = field(fields, "container.image.tag");
    match (repo, digest, tag) {
        (Some(r), Some(d), _) => Some(Cow::Owned(format!("{r}@{d}"))),
        (Some(r), None, Some(t)) => Some(Cow::Owned(format!("{r}:{t}"))),
        (Some(r), None, None) => Some(Cow::Borrowed(r)),
        (None, Some(d), _) => Some(Cow::Borrowed(d)),
        (None, None, _) => field(fields, "container.image").map(Cow::Borrowed),
    }
}

fn process<'a>(fields: &'a Fields) -> ProcessParts<'a> {
    ProcessParts {
        pid: fields.get("proc.pid").and_then(Field::int),
        ppid: fields.get("proc.ppid").and_then(Field::int),
        name: field(fields, "proc.name"),
        cmdline: field(fields, "proc.cmdline"),
        exe: field(fields, "proc.exepath").or_else(|| field(fields, "proc.exe")),
        parent_name: field(fields, "proc.pname"),
        entity_id: None,
        start: process_start(fields),
        parent_entity_id: None,
    }
}

/// `proc.pid.ts`: when the process started, in nanoseconds since the epoch (a number, or a
/// number in a string). Anything else, or not after the epoch, is ignored.
pub(super) fn process_start(fields: &Fields) -> Option<Timestamp> {
    fields
        .get("proc.pid.ts")
        .and_then(Field::int)
        .filter(|ns| *ns > 0)
        .map(Timestamp::from_nanos)
}

/// Falco prefixes `output` with the time and priority (`13:44:05.478445995: Critical …` or
/// `2024-05-07T18:54:19.341081180+0000: Warning …`); the event already carries both.
fn strip_output_prefix(output: &str) -> &str {
    let Some((stamp, rest)) = output.split_once(": ") else {
        return output;
    };
    if stamp.contains(' ') || !stamp.starts_with(|c: char| c.is_ascii_digit()) {
        return output;
    }
    match rest.split_once(' ') {
        Some((word, tail)) if Severity::parse_loose(word).is_some() => tail,
        _ => output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_and_skipped_without_being_held() {
        let input = format!("short\n{}\nlast", "x".repeat(100));
        let mut reader = std::io::BufReader::with_capacity(8, input.as_bytes());
        let mut buf = Vec::new();
        assert_eq!(
            read_line_capped(&mut reader, &mut buf, 10).unwrap(),
            Some(false)
        );
        assert_eq!(buf, b"short");
        assert_eq!(
            read_line_capped(&mut reader, &mut buf, 10).unwrap(),
            Some(true)
        );
        assert_eq!(buf.len(), 10);
        assert_eq!(
            read_line_capped(&mut reader, &mut buf, 10).unwrap(),
            Some(false)
        );
        assert_eq!(buf, b"last");
        assert_eq!(read_line_capped(&mut reader, &mut buf, 10).unwrap(), None);
    }

    #[test]
    fn output_prefix_is_removed_only_when_it_is_one() {
        assert_eq!(
            strip_output_prefix("13:44:05.478445995: Critical A shell was spawned"),
            "A shell was spawned"
        );
        assert_eq!(
            strip_output_prefix("2024-05-07T18:54:19.341081180+0000: Warning Sensitive file"),
            "Sensitive file"
        );
        assert_eq!(
            strip_output_prefix("This is a test from falcosidekick"),
            "This is a test from falcosidekick"
        );
        assert_eq!(strip_output_prefix("12: Bogus thing"), "12: Bogus thing");
    }
}
