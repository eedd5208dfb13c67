//! Opening a case bundle, which may come from anyone: the layout is checked first (names,
//! types, sizes, headers; see `tar_io::scan`) before any member is decoded; then every member
//! against the manifest's SHA-256, every event record against its digest and place, and every
//! gzip member against a bound on how far it may expand. Nothing is written, and a bundle that
//! fails any check gives no store. The event log is decoded as a stream: its text is never
//! held whole, and a replay stores the events batch by batch as they are checked.

use super::format::{self, Manifest};
use super::records::{self, ChainRecord, MarkRecord, SeriesRecord};
use super::tar_io::{self, Member, Refusal};
use crate::load::{IngestRules, Loaded, SourceReport};
use crate::model::{Event, Series, SourceKind};
use flate2::bufread::GzDecoder;
use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::Arc;

/// A bundle that passed every check, decoded.
#[derive(Debug)]
pub struct Opened {
    pub manifest: Manifest,
    pub events: Vec<Event>,
    pub series: Vec<Series>,
    pub marks: Vec<MarkRecord>,
    pub chains: Vec<ChainRecord>,
    /// Who signed it, when it is signed (the signature was checked).
    pub signed_by: Option<ed25519_dalek::VerifyingKey>,
    /// The manifest's bytes, which a signature signs.
    pub manifest_bytes: Vec<u8>,
    /// The file's size.
    pub bytes: u64,
}

fn refuse(member: &str, reason: impl Into<String>) -> Refusal {
    Refusal {
        member: Some(member.to_string()),
        reason: reason.into(),
    }
}

/// How far a gzip member of `len` bytes may expand before it is refused as a bomb.
fn expansion_limit(len: usize) -> u64 {
    (len as u64)
        .saturating_mul(format::MAX_EXPANSION)
        .saturating_add(1 << 20)
        .min(format::MAX_EXPANDED_BYTES)
}

fn bomb(name: &str, limit: u64) -> Refusal {
    refuse(
        name,
        format!(
            "expands beyond {limit} bytes, more than {}× its size: refused as a compression bomb",
            format::MAX_EXPANSION
        ),
    )
}

/// Decompresses a member, refusing one that expands beyond the bounds (a compression bomb).
/// What was decoded before an error is returned with it, to find the first bad record.
fn gunzip(name: &str, bytes: &[u8]) -> Result<Vec<u8>, (Vec<u8>, Refusal)> {
    let limit = expansion_limit(bytes.len());
    // gzip's trailer says how long the text is (modulo 4 GiB): a hint for the buffer, never
    // more than the bound.
    let hint = bytes
        .len()
        .checked_sub(4)
        .and_then(|at| bytes.get(at..))
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64);
    let mut out = Vec::with_capacity(hint.min(limit) as usize);
    let mut decoder = GzDecoder::new(bytes);
    let read = (&mut decoder).take(limit + 1).read_to_end(&mut out);
    // One gzip member and nothing after it: what `zcat` shows is what casefile reads.
    let rest = decoder.into_inner();
    match read {
        Err(e) => Err((out, refuse(name, format!("cannot be decompressed ({e})")))),
        Ok(_) if !rest.is_empty() && out.len() as u64 <= limit => Err((
            out,
            refuse(
                name,
                format!("has {} bytes after its gzip stream", rest.len()),
            ),
        )),
        Ok(_) if out.len() as u64 > limit => Err((Vec::new(), bomb(name, limit))),
        Ok(_) => Ok(out),
    }
}

fn wrong_count(count: u64, expected: u64) -> Refusal {
    refuse(
        format::EVENTS,
        format!(
            "holds {count} records where the manifest counts {expected}: records were removed or added at the end"
        ),
    )
}

/// Events are handed on this many at a time.
const BATCH: usize = 16_384;

/// The event log's gzip member decoded as a stream, line by line: each record checked (its
/// place, its digest, a valid event) and handed to `sink` in order, in batches. Neither the
/// whole text nor every event is ever held. The same refusals as reading it whole: a bomb,
/// bytes after the gzip stream, text that is not UTF-8, a bad record, a wrong count.
fn stream_events(
    gz: &[u8],
    expected: u64,
    sink: &mut dyn FnMut(Vec<Event>),
) -> Result<(), Refusal> {
    let name = format::EVENTS;
    let limit = expansion_limit(gz.len());
    let mut decoder = GzDecoder::new(gz);
    let mut count = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    {
        let limited = (&mut decoder).take(limit + 1);
        let mut reader = std::io::BufReader::with_capacity(1 << 20, limited);
        let (mut line, mut total) = (String::new(), 0u64);
        loop {
            line.clear();
            let n = reader.read_line(&mut line).map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidData => refuse(name, format!("is not UTF-8 ({e})")),
                _ => refuse(name, format!("cannot be decompressed ({e})")),
            })?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > limit {
                return Err(bomb(name, limit));
            }
            let text = line.strip_suffix('\n').unwrap_or(&line);
            let text = text.strip_suffix('\r').unwrap_or(text);
            let seq = count;
            let event = records::read_event_line(text, seq)
                .map_err(|bad| refuse(name, format!("record {seq} (line {}) {bad}", seq + 1)))?;
            batch.push(event);
            count += 1;
            if batch.len() == BATCH {
                sink(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        }
    }
    // One gzip member and nothing after it: what `zcat` shows is what casefile reads.
    let rest = decoder.into_inner();
    if !rest.is_empty() {
        return Err(refuse(
            name,
            format!("has {} bytes after its gzip stream", rest.len()),
        ));
    }
    if count != expected {
        return Err(wrong_count(count, expected));
    }
    if !batch.is_empty() {
        sink(batch);
    }
    Ok(())
}

/// The first record of a changed log that is not the one exported: each record's place and
/// digest are checked, not decoded.
fn first_bad_record(text: &[u8], expected: u64) -> Result<(), Refusal> {
    let text = std::str::from_utf8(text)
        .map_err(|e| refuse(format::EVENTS, format!("is not UTF-8 ({e})")))?;
    let mut count = 0u64;
    for (seq, line) in text.lines().enumerate() {
        let bad = |bad: records::BadRecord| {
            refuse(
                format::EVENTS,
                format!("record {seq} (line {}) {bad}", seq + 1),
            )
        };
        records::check_event_line(line, seq as u64).map_err(bad)?;
        count += 1;
    }
    if count != expected {
        return Err(wrong_count(count, expected));
    }
    Ok(())
}

/// Only the manifest of a bundle, checked against `manifest.json.sha256` (the layout is
/// checked, no data member is read): what a re-export needs to know of the bundle it reads.
pub fn manifest_of(path: &Path) -> Result<Manifest, Refusal> {
    let mut file = std::fs::File::open(path).map_err(|e| Refusal {
        member: None,
        reason: format!("cannot read {}: {e}", path.display()),
    })?;
    let members = tar_io::scan(&mut file)?;
    let manifest_bytes = tar_io::read_member(&mut file, &members[0])?;
    let sum = tar_io::read_member(&mut file, &members[1])?;
    let expected = format!(
        "{}  {}\n",
        format::sha256_hex(&manifest_bytes),
        format::MANIFEST
    );
    if sum != expected.as_bytes() {
        return Err(refuse(
            format::MANIFEST,
            "does not match manifest.json.sha256 (one of the two was changed)",
        ));
    }
    serde_json::from_slice(&manifest_bytes)
        .map_err(|e| refuse(format::MANIFEST, format!("is not a bundle manifest ({e})")))
}

/// Every check a bundle must pass; the decoded content when it does.
pub fn check(path: &Path) -> Result<Opened, Refusal> {
    let (mut file, bytes) = open_file(path)?;
    check_from(&mut file, bytes)
}

/// [`check`] that keeps no event: what `verify` needs.
pub fn verify(path: &Path) -> Result<Opened, Refusal> {
    let (mut file, bytes) = open_file(path)?;
    check_streaming(&mut file, bytes, &mut |_| {})
}

fn open_file(path: &Path) -> Result<(std::fs::File, u64), Refusal> {
    let file = std::fs::File::open(path).map_err(|e| Refusal {
        member: None,
        reason: format!("cannot read {}: {e}", path.display()),
    })?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((file, bytes))
}

/// [`check`] on a bundle's bytes from any seekable reader (`bytes` long).
pub fn check_from<R: Read + std::io::Seek>(file: &mut R, bytes: u64) -> Result<Opened, Refusal> {
    let mut events = Vec::new();
    let mut opened = check_streaming(file, bytes, &mut |batch| events.extend(batch))?;
    opened.events = events;
    Ok(opened)
}

/// [`check_from`], handing the events to `sink` in batches as they are checked instead of
/// keeping them (`Opened::events` is empty). A refusal may come after some batches.
pub fn check_streaming<R: Read + std::io::Seek>(
    file: &mut R,
    bytes: u64,
    sink: &mut dyn FnMut(Vec<Event>),
) -> Result<Opened, Refusal> {
    let mut file = file;
    let members = tar_io::scan(&mut file)?;
    let read = |file: &mut &mut R, m: &Member| tar_io::read_member(file, m);
    let manifest_bytes = read(&mut file, &members[0])?;
    let sum = read(&mut file, &members[1])?;
    let expected_sum = format!(
        "{}  {}\n",
        format::sha256_hex(&manifest_bytes),
        format::MANIFEST
    );
    if sum != expected_sum.as_bytes() {
        return Err(refuse(
            format::MANIFEST,
            "does not match manifest.json.sha256 (one of the two was changed)",
        ));
    }
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| refuse(format::MANIFEST, format!("is not a bundle manifest ({e})")))?;
    if manifest.format != format::FORMAT || manifest.version != format::VERSION {
        return Err(refuse(
            format::MANIFEST,
            format!(
                "is {} version {}; this casefile reads {} version {}",
                manifest.format,
                manifest.version,
                format::FORMAT,
                format::VERSION
            ),
        ));
    }
    // The headers' time is the manifest's `created_at`: no header byte goes unchecked.
    let created = crate::model::Timestamp::parse_rfc3339(&manifest.created_at)
        .map(|t| t.0.div_euclid(1_000_000_000));
    if created != Some(members[0].mtime as i64) {
        return Err(refuse(
            format::MANIFEST,
            "its created_at is not the time in the archive's headers (one of them was changed)",
        ));
    }
    let data = &members[2..2 + format::DATA_MEMBERS.len()];
    let listed: Vec<&str> = manifest.members.iter().map(|m| m.name.as_str()).collect();
    if listed != format::DATA_MEMBERS {
        return Err(refuse(
            format::MANIFEST,
            format!(
                "lists the members {listed:?}, not {:?}",
                format::DATA_MEMBERS
            ),
        ));
    }
    let mut contents = Vec::new();
    for (m, entry) in data.iter().zip(&manifest.members) {
        let bytes = read(&mut file, m)?;
        if bytes.len() as u64 != entry.size || format::sha256_hex(&bytes) != entry.sha256 {
            return Err(changed_member(&m.name, &bytes, &manifest));
        }
        contents.push(bytes);
    }
    let signed_by = match members.get(2 + format::DATA_MEMBERS.len()) {
        Some(m) => {
            let member = read(&mut file, m)?;
            Some(
                super::sign::check(&member, &manifest_bytes)
                    .map_err(|why| refuse(format::SIGNATURE, why))?,
            )
        }
        None => None,
    };
    stream_events(&contents[0], manifest.counts.events, sink)?;
    let series_text = gunzip(format::SERIES, &contents[1]).map_err(|(_, r)| r)?;
    let series = String::from_utf8_lossy(&series_text)
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str::<SeriesRecord>(line)
                .map_err(|e| e.to_string())
                .and_then(SeriesRecord::into_series)
                .map_err(|e| refuse(format::SERIES, format!("line {}: {e}", i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let marks: Vec<MarkRecord> =
        serde_json::from_slice(&contents[2]).map_err(|e| refuse(format::MARKS, e.to_string()))?;
    let chains: Vec<ChainRecord> =
        serde_json::from_slice(&contents[3]).map_err(|e| refuse(format::CHAINS, e.to_string()))?;
    let n = manifest.counts.events;
    if let Some(m) = marks.iter().find(|m| m.seq >= n) {
        return Err(refuse(
            format::MARKS,
            format!("marks record {}, which is not in the bundle", m.seq),
        ));
    }
    if chains.iter().flat_map(|c| &c.steps).any(|s| s.seq >= n) {
        return Err(refuse(
            format::CHAINS,
            "names a record that is not in the bundle",
        ));
    }
    Ok(Opened {
        manifest,
        events: Vec::new(),
        series,
        marks,
        chains,
        signed_by,
        manifest_bytes,
        bytes,
    })
}

/// Says how a data member differs from what the manifest recorded; for the event log, which
/// record is the first bad one.
fn changed_member(name: &str, bytes: &[u8], manifest: &Manifest) -> Refusal {
    let general = refuse(name, "was changed: its SHA-256 is not the manifest's");
    if name != format::EVENTS {
        return general;
    }
    let (text, broken) = match gunzip(name, bytes) {
        Ok(text) => (text, None),
        Err((partial, why)) => (partial, Some(why)),
    };
    // The records up to where decoding stopped.
    let good_text = match text.iter().rposition(|b| *b == b'\n') {
        Some(end) if broken.is_some() => &text[..=end],
        _ => &text[..],
    };
    match first_bad_record(good_text, manifest.counts.events) {
        Err(bad) if !bad.reason.starts_with("holds") || broken.is_none() => Refusal {
            reason: format!("was changed; {}", bad.reason),
            ..bad
        },
        _ => match broken {
            Some(why) => {
                let intact = String::from_utf8_lossy(good_text).lines().count();
                refuse(
                    name,
                    format!(
                        "was changed; records 0–{} read, then it {}",
                        intact.saturating_sub(1),
                        why.reason
                    ),
                )
            }
            None => general,
        },
    }
}

/// Opens a bundle into a store for replay: its events as they were exported (no rule runs
/// again), its series, and its sources with the queries that were run.
pub fn load(path: &Path) -> Result<(Loaded, Opened), String> {
    let said = |r: Refusal| format!("{}: {r}", path.display());
    let (mut file, bytes) = open_file(path).map_err(said)?;
    let mut loaded = Loaded {
        rules: Arc::new(IngestRules::none()),
        ..Loaded::default()
    };
    // Batch by batch, in record order: arrival numbers are the records' sequence numbers.
    let mut opened = check_streaming(&mut file, bytes, &mut |batch| {
        loaded.ingest(batch);
    })
    .map_err(said)?;
    for s in &opened.manifest.sources {
        let kind = SourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.kind)
            .unwrap_or(SourceKind::Falco);
        let mut report = SourceReport::new(&s.name, kind, &s.query);
        report.events = s.events as usize;
        report.series = s.series as usize;
        loaded.reports.push(report);
    }
    loaded.store.add_series(std::mem::take(&mut opened.series));
    Ok((loaded, opened))
}
