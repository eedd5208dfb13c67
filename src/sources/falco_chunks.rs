//! Reading a big Falco file on every core: the input is cut into chunks of whole lines, worker
//! threads parse chunks into packed batches, and the caller's thread stores them in input
//! order (so equal times keep their order, and skipped lines keep their numbers).

use super::falco::{pack_record, read_line_capped, LineStats, Packed, MAX_LINE};
use super::mapping::EntityTable;
use super::task::Cancel;
use crate::correlate::categories::Classifier;
use crate::store::{PackedBatch, Query, RawFile};
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::sync::{mpsc, Arc, Mutex};

/// Bytes per chunk: big enough that a chunk is worth a thread hop, small enough that a few in
/// flight cost little memory.
const CHUNK: usize = 4 << 20;

/// Whole lines of the input.
struct Chunk {
    seq: u64,
    /// Where the input stands after it (past an over-long line's skipped rest too).
    end: u64,
    /// Where `data` starts in the input.
    offset: u64,
    /// The number (1-based) of the first line.
    first_line: usize,
    data: Vec<u8>,
    /// The last line was longer than [`MAX_LINE`]: `data` holds only its start.
    cut_last: bool,
}

/// Counts what is read from the inner reader, so chunk offsets are exact even when part of an
/// over-long line is skipped.
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

struct Chunker<R> {
    reader: BufReader<Counted<R>>,
    size: usize,
    seq: u64,
    next_line: usize,
    done: bool,
    /// Buffers of chunks already parsed, filled again rather than allocated: a fresh one
    /// would be mapped and zeroed by the kernel page by page.
    spare: Vec<Vec<u8>>,
}

impl<R: Read> Chunker<R> {
    fn position(&self) -> u64 {
        self.reader.get_ref().read - self.reader.buffer().len() as u64
    }

    /// Takes back a parsed chunk's buffer for a later chunk.
    fn recycle(&mut self, mut data: Vec<u8>) {
        if self.spare.len() < 4 {
            data.clear();
            self.spare.push(data);
        }
    }

    fn next(&mut self) -> std::io::Result<Option<Chunk>> {
        if self.done {
            return Ok(None);
        }
        let offset = self.position();
        let mut data = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.size + (64 << 10)));
        // Straight into the chunk: once its buffer is drained, `BufReader` hands big reads
        // to the file itself, so the bytes are copied once, not twice.
        (&mut self.reader)
            .take(self.size as u64)
            .read_to_end(&mut data)?;
        if data.len() < self.size {
            self.done = true;
        }
        let mut cut_last = false;
        if !self.done && data.last() != Some(&b'\n') {
            // Finish the last line, up to the longest line kept.
            let line_start = memchr::memrchr(b'\n', &data).map_or(0, |i| i + 1);
            let room = MAX_LINE.saturating_sub(data.len() - line_start);
            let mut rest = Vec::new();
            match read_line_capped(&mut self.reader, &mut rest, room)? {
                None => self.done = true,
                Some(too_long) => cut_last = too_long,
            }
            data.extend_from_slice(&rest);
            data.push(b'\n');
        }
        if data.is_empty() {
            return Ok(None);
        }
        let lines =
            memchr::memchr_iter(b'\n', &data).count() + usize::from(data.last() != Some(&b'\n'));
        let chunk = Chunk {
            seq: self.seq,
            offset,
            end: self.position(),
            first_line: self.next_line,
            data,
            cut_last,
        };
        self.seq += 1;
        self.next_line += lines;
        Ok(Some(chunk))
    }
}

/// What a file is read as: its source's name, its entity table, the categories its events are
/// put in, and the file raw records are kept by offset into (none for a pipe).
pub struct ReadAs<'a> {
    pub source_name: &'a str,
    pub table: &'a EntityTable,
    pub classifier: &'a Classifier,
    pub raw_file: Option<Arc<RawFile>>,
    /// Only the events this query picks are handed on (a headless query's answer); the
    /// others are parsed, checked and counted all the same.
    pub keep: Option<&'a Query>,
}

/// Parses one chunk's lines.
fn parse_chunk(chunk: &Chunk, how: &ReadAs) -> (PackedBatch, LineStats) {
    let (table, classifier) = (how.table, how.classifier);
    let mut batch = PackedBatch::for_input(how.source_name, how.raw_file.clone(), chunk.data.len());
    let mut stats = LineStats {
        bytes: chunk.end,
        ..LineStats::default()
    };
    // Categories are found before the query's check only when it asks for one: they cost
    // more than the check.
    let categories_first = how.keep.is_none_or(Query::asks_category);
    let mut start = 0;
    let mut line_no = chunk.first_line;
    let data = &chunk.data;
    while start < data.len() {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
        let is_last = end + 1 >= data.len();
        let line = &data[start..end];
        if is_last && chunk.cut_last {
            let excerpt = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
            stats.skipped.skip(
                line_no,
                format!("line longer than {} MiB", MAX_LINE >> 20),
                &excerpt,
            );
        } else {
            let trimmed = line.trim_ascii();
            if !trimmed.is_empty() {
                let at = chunk.offset
                    + (start + (trimmed.as_ptr() as usize - line.as_ptr() as usize)) as u64;
                let outcome = match std::str::from_utf8(trimmed) {
                    Ok(text) => pack_record(text, Some(at), table, &mut batch)
                        .map_err(|reason| (reason, text.to_string())),
                    // Invalid UTF-8 is read with replacement characters: the record is then
                    // not the file's bytes, so it is kept as text.
                    Err(_) => {
                        let text = String::from_utf8_lossy(trimmed);
                        pack_record(&text, None, table, &mut batch)
                            .map_err(|reason| (reason, text.into_owned()))
                    }
                };
                match outcome {
                    Ok(Packed::Event) => {
                        stats.events += 1;
                        if categories_first {
                            batch.classify_last(|e| classifier.categories(e));
                        }
                        let kept = how.keep.is_none_or(|q| {
                            batch.keep_last_if(|e| q.admits(e.ts(), || e.entities()))
                        });
                        if kept && !categories_first {
                            batch.classify_last(|e| classifier.categories(e));
                        }
                    }
                    Ok(Packed::Internal) => stats.ignored += 1,
                    Err((reason, text)) => stats.skipped.skip(line_no, reason, &text),
                }
            }
        }
        start = end + 1;
        line_no += 1;
    }
    stats.lines = line_no - chunk.first_line;
    (batch, stats)
}

/// Reads Falco JSON lines with `workers` parsing threads, handing packed and classified
/// batches to `sink` in input order. Malformed lines are skipped, counted and sampled; reading
/// stops only at an I/O error, which is returned with the stats of what was read.
pub fn read_chunked(
    reader: impl Read + Send,
    how: &ReadAs,
    workers: usize,
    sink: impl FnMut(PackedBatch),
) -> (LineStats, Option<std::io::Error>) {
    read_in_chunks(reader, CHUNK, how, workers, sink)
}

fn read_in_chunks(
    reader: impl Read + Send,
    chunk_size: usize,
    how: &ReadAs,
    workers: usize,
    mut sink: impl FnMut(PackedBatch),
) -> (LineStats, Option<std::io::Error>) {
    let chunker = Mutex::new(Chunker {
        size: chunk_size.max(1),
        reader: BufReader::with_capacity(
            1 << 20,
            Counted {
                inner: reader,
                read: 0,
            },
        ),
        seq: 0,
        next_line: 1,
        done: false,
        spare: Vec::new(),
    });
    let error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let mut stats = LineStats::default();
    std::thread::scope(|scope| {
        // A few chunks in flight per worker: parsed batches wait here until their turn.
        let (tx, rx) = mpsc::sync_channel::<(u64, PackedBatch, LineStats)>(workers * 2);
        for _ in 0..workers.max(1) {
            let tx = tx.clone();
            let (chunker, error) = (&chunker, &error);
            scope.spawn(move || {
                let mut parsed: Option<Vec<u8>> = None;
                loop {
                    let next = match chunker.lock() {
                        Ok(mut c) => {
                            if let Some(data) = parsed.take() {
                                c.recycle(data);
                            }
                            c.next()
                        }
                        Err(_) => return,
                    };
                    let chunk = match next {
                        Ok(Some(c)) => c,
                        Ok(None) => return,
                        Err(e) => {
                            if let Ok(mut slot) = error.lock() {
                                slot.get_or_insert(e);
                            }
                            if let Ok(mut c) = chunker.lock() {
                                c.done = true;
                            }
                            return;
                        }
                    };
                    let (batch, chunk_stats) = parse_chunk(&chunk, how);
                    if tx.send((chunk.seq, batch, chunk_stats)).is_err() {
                        return;
                    }
                    parsed = Some(chunk.data);
                }
            });
        }
        drop(tx);
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        for (seq, batch, chunk_stats) in rx {
            waiting.insert(seq, (batch, chunk_stats));
            while let Some((batch, chunk_stats)) = waiting.remove(&next) {
                next += 1;
                stats.events += chunk_stats.events;
                stats.ignored += chunk_stats.ignored;
                stats.bytes = chunk_stats.bytes;
                stats.lines += chunk_stats.lines;
                stats.skipped.merge(chunk_stats.skipped);
                if !batch.is_empty() {
                    sink(batch);
                }
            }
        }
    });
    let error = error.into_inner().ok().flatten();
    (stats, error)
}

/// Counts the bytes read (for progress) and turns a cancel into an error that stops the reader
/// (an end of input would make the half-read last line look malformed).
pub struct Metered<R> {
    pub inner: R,
    pub done: Arc<std::sync::atomic::AtomicU64>,
    pub cancel: Cancel,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("cancelled"));
        }
        let n = self.inner.read(buf)?;
        self.done
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// The parsing threads to use: every core, up to four.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: usize) -> String {
        format!(
            r#"{{"time":"2026-11-20T12:00:{:02}.{i:09}Z","rule":"r{i}","priority":"Notice","output":"o{i}","output_fields":{{"user.name":"u{i}"}}}}"#,
            i % 60
        )
    }

    #[test]
    fn chunks_keep_every_line_once_in_order_with_its_number() {
        let mut input = String::new();
        for i in 0..20_000 {
            if i == 7_000 {
                input.push_str("not json\n");
            }
            input.push_str(&line(i));
            input.push('\n');
        }
        let mut titles = Vec::new();
        // Small chunks, so lines straddle chunk ends.
        let how = ReadAs {
            source_name: "falco",
            table: &EntityTable::falco(),
            classifier: &Classifier::none(),
            raw_file: None,
            keep: None,
        };
        let (stats, err) = read_in_chunks(input.as_bytes(), 4_000, &how, 3, |b| {
            titles.extend(b.iter().map(|e| e.title().to_string()))
        });
        assert!(err.is_none());
        assert_eq!(stats.events, 20_000);
        let expected: Vec<String> = (0..20_000).map(|i| format!("r{i}")).collect();
        assert_eq!(titles, expected);
        assert_eq!(stats.skipped.skipped, 1);
        assert_eq!(stats.skipped.samples[0].line, 7_001);
    }

    /// A varied line: users, containers, hosts and categories repeat with different periods,
    /// and times go back and forth so the store has to merge.
    fn varied_line(i: usize) -> String {
        let tags = if i.is_multiple_of(3) {
            r#"["network"]"#
        } else {
            r#"["container"]"#
        };
        format!(
            r#"{{"time":"2026-11-20T12:{:02}:{:02}Z","rule":"r{}","priority":"Notice","hostname":"node-{}","tags":{tags},"output":"o{i}","output_fields":{{"user.name":"u{}","container.id":"{:012x}","proc.pid":{i},"proc.name":"p{}"}}}}"#,
            (i * 7) % 60,
            i % 60,
            i % 11,
            i % 5,
            i % 7,
            0xabc000 + i % 13,
            i % 17
        )
    }

    /// What a store holds, event by event, in its order.
    fn held(store: &crate::store::Store, positions: impl Iterator<Item = u32>) -> Vec<String> {
        positions
            .map(|pos| {
                let e = store.get(pos).expect("a held position");
                let entities: Vec<String> =
                    e.entities().map(|(k, v)| format!("{k:?}={v}")).collect();
                format!("{:?} {} {}", e.ts(), e.title(), entities.join(","))
            })
            .collect()
    }

    #[test]
    fn a_query_read_keeps_exactly_what_it_would_select_from_the_whole_file() {
        use crate::correlate::categories::Classifier;
        let mut input = String::new();
        for i in 0..3_000 {
            input.push_str(&varied_line(i));
            input.push('\n');
            if i == 1_234 {
                input.push_str("{\"truncated\n");
            }
        }
        let classifier = Classifier::default();
        let read = |keep: Option<&Query>| {
            let how = ReadAs {
                source_name: "falco",
                table: &EntityTable::falco(),
                classifier: &classifier,
                raw_file: None,
                keep,
            };
            let mut store = crate::store::Store::new();
            let (stats, err) = read_in_chunks(input.as_bytes(), 20_000, &how, 2, |b| {
                store.ingest_packed(&b, |_| Vec::new());
            });
            assert!(err.is_none());
            (store, stats)
        };
        let (whole, whole_stats) = read(None);
        assert_eq!(whole.len(), 3_000);
        let queries = [
            "user=u3",
            "user!=u3",
            "container=000000abc005 host=node-2",
            "category=network user=u1",
            "category!=network host!=node-4",
            "pid=78",
        ];
        for text in queries {
            let mut query = Query::default();
            for p in text.split(' ') {
                query.pivots.push(p.parse().expect("a pivot"));
            }
            query.window = crate::model::TimeRange {
                start: crate::model::Timestamp::parse_rfc3339("2026-11-20T12:05:00Z").unwrap(),
                end: crate::model::Timestamp::parse_rfc3339("2026-11-20T12:50:00Z").unwrap(),
            };
            let expected = held(&whole, whole.select(&query).into_iter());
            let (kept, stats) = read(Some(&query));
            assert!(!expected.is_empty(), "{text} picks something");
            assert!(expected.len() < 3_000, "{text} leaves something out");
            assert_eq!(held(&kept, 0..kept.len() as u32), expected, "{text}");
            // Every line is still read, checked and counted.
            assert_eq!(stats.events, whole_stats.events);
            assert_eq!(stats.skipped.skipped, 1);
            assert_eq!(stats.skipped.samples[0].line, 1_236);
        }
    }

    #[test]
    fn an_over_long_line_is_skipped_and_the_lines_after_it_are_read_at_their_offsets() {
        let long = format!("{{\"rule\":\"{}\"}}", "x".repeat(MAX_LINE + 10));
        let input = format!("{}\n{long}\n{}\n", line(1), line(2));
        let dir = std::env::temp_dir().join(format!("casefile-chunks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("falco.jsonl");
        std::fs::write(&path, &input).unwrap();
        let raw_file = Arc::new(RawFile::open(&path).unwrap());
        let mut store = crate::store::Store::new();
        let how = ReadAs {
            source_name: "falco",
            table: &EntityTable::falco(),
            classifier: &Classifier::none(),
            raw_file: Some(raw_file),
            keep: None,
        };
        let (stats, err) =
            read_in_chunks(std::fs::File::open(&path).unwrap(), 1_000, &how, 2, |b| {
                store.ingest_packed(&b, |_| Vec::new());
            });
        std::fs::remove_dir_all(&dir).ok();
        assert!(err.is_none());
        assert_eq!((stats.events, stats.skipped.skipped), (2, 1));
        assert_eq!(stats.skipped.samples[0].line, 2);
        assert!(stats.skipped.samples[0].reason.contains("longer than"));
        let raws: Vec<String> = (0..2)
            .map(|p| store.get(p).unwrap().raw_checked().unwrap().into_owned())
            .collect();
        assert_eq!(raws, vec![line(1), line(2)]);
    }

    /// Gives `limit` bytes, then fails.
    struct Failing<'a> {
        data: &'a [u8],
        limit: usize,
    }

    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.limit == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.limit).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.limit -= n;
            Ok(n)
        }
    }

    #[test]
    fn after_a_read_error_the_position_given_is_the_end_of_the_last_line_handed_on() {
        let mut input = String::new();
        for i in 0..200 {
            input.push_str(&line(i));
            input.push('\n');
        }
        let how = ReadAs {
            source_name: "falco",
            table: &EntityTable::falco(),
            classifier: &Classifier::none(),
            raw_file: None,
            keep: None,
        };
        let mut titles = Vec::new();
        let reader = Failing {
            data: input.as_bytes(),
            limit: input.len() / 2,
        };
        let (stats, err) = read_in_chunks(reader, 2_000, &how, 2, |b| {
            titles.extend(b.iter().map(|e| e.title().to_string()))
        });
        assert!(err.is_some());
        let handed: &str = &input[..stats.bytes as usize];
        assert!(handed.ends_with('\n'));
        assert_eq!(handed.lines().count(), titles.len());
        assert_eq!(stats.lines, titles.len());
        let expected: Vec<String> = (0..titles.len()).map(|i| format!("r{i}")).collect();
        assert_eq!(titles, expected, "in order, none missing");
        assert!(!titles.is_empty() && titles.len() < 200);
    }
}
