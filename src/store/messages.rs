//! Events' messages (and raw records with no file behind them), compressed in blocks: a million Falco messages take about 210 MB as text
//! and a fifth of that in LZ4 blocks of 256. Messages are held by arrival number, so a row
//! needs no field of its own for them. The newest block stays open (uncompressed) until full;
//! reading a sealed one decompresses it once into a small cache of the last blocks read, so
//! reading rows in order (the timeline, a search on each core) costs one decompression per 256
//! messages and reader.

use std::borrow::Cow;
use std::sync::Mutex;

/// Messages per block.
const BLOCK: usize = 256;
/// A block is also sealed at this many bytes (a few huge messages are not held open).
const BLOCK_BYTES: usize = 256 << 10;
/// Decompressed blocks kept: one for each search thread reading in order, and the view's.
const CACHED_BLOCKS: usize = 6;

#[derive(Debug, Default)]
pub(super) struct Messages {
    /// The first arrival number of each sealed block.
    block_first: Vec<u32>,
    blocks: Vec<Box<[u8]>>,
    /// By arrival number: where its message ends in its block's text.
    ends: Vec<u32>,
    open: String,
    open_first: u32,
    /// The last sealed blocks read, the most recent last: their numbers and texts.
    cache: Mutex<Vec<(usize, std::sync::Arc<str>)>>,
}

impl Messages {
    /// Adds the message of the next arrival number, cut at 16 MiB as a line is.
    pub(super) fn push(&mut self, message: &str) {
        self.push_cut(message, 16 << 20);
    }

    /// Adds the text of the next arrival number whole (a raw record is evidence: it is not
    /// cut short). A block's offsets are u32, and a block is sealed past `BLOCK_BYTES`, so
    /// one text may take the rest of 4 GiB.
    pub(super) fn push_whole(&mut self, text: &str) {
        self.push_cut(text, u32::MAX as usize - BLOCK_BYTES);
    }

    fn push_cut(&mut self, message: &str, most: usize) {
        let mut end = message.len().min(most);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        self.open.push_str(&message[..end]);
        super::growth::reserve(&mut self.ends, 1);
        self.ends.push(self.open.len() as u32);
        let held = self.ends.len() - self.open_first as usize;
        if held >= BLOCK || self.open.len() >= BLOCK_BYTES {
            self.seal();
        }
    }

    fn seal(&mut self) {
        if self.open.is_empty() && self.ends.len() == self.open_first as usize {
            return;
        }
        let packed = lz4_flex::compress_prepend_size(self.open.as_bytes());
        super::growth::reserve(&mut self.blocks, 1);
        self.blocks.push(packed.into_boxed_slice());
        super::growth::reserve(&mut self.block_first, 1);
        self.block_first.push(self.open_first);
        self.open.clear();
        self.open_first = self.ends.len() as u32;
    }

    /// The message of an arrival number ("" for one not held).
    pub(super) fn get(&self, id: u32) -> Cow<'_, str> {
        let i = id as usize;
        let Some(&end) = self.ends.get(i) else {
            return Cow::Borrowed("");
        };
        let end = end as usize;
        if id >= self.open_first {
            let start = if id == self.open_first {
                0
            } else {
                self.ends[i - 1] as usize
            };
            return Cow::Borrowed(self.open.get(start..end).unwrap_or(""));
        }
        let block = self.block_first.partition_point(|&f| f <= id) - 1;
        let start = if id == self.block_first[block] {
            0
        } else {
            self.ends[i - 1] as usize
        };
        let text = self.block_text(block);
        Cow::Owned(text.get(start..end).unwrap_or("").to_string())
    }

    /// A sealed block's text, from the cache or decompressed into it (outside the lock, so
    /// readers on other cores are not held up).
    fn block_text(&self, block: usize) -> std::sync::Arc<str> {
        if let Ok(mut cache) = self.cache.lock() {
            if let Some(i) = cache.iter().position(|(b, _)| *b == block) {
                let hit = cache.remove(i);
                let text = hit.1.clone();
                cache.push(hit);
                return text;
            }
        }
        let text: std::sync::Arc<str> = lz4_flex::decompress_size_prepended(&self.blocks[block])
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default()
            .into();
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHED_BLOCKS {
                cache.remove(0);
            }
            cache.push((block, text.clone()));
        }
        text
    }

    /// Approximate bytes held.
    pub(super) fn footprint(&self) -> usize {
        self.blocks.iter().map(|b| b.len()).sum::<usize>()
            + self.blocks.capacity() * 16
            + self.block_first.capacity() * 4
            + self.ends.capacity() * 4
            + self.open.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_reads_back_across_blocks_and_the_open_one() {
        let mut m = Messages::default();
        let text = |i: usize| format!("message {i} ünïcödé {}", "x".repeat(i % 7));
        for i in 0..(3 * BLOCK + 17) {
            m.push(&text(i));
        }
        assert_eq!(m.blocks.len(), 3);
        // In order, out of order, and the open block.
        for i in (0..(3 * BLOCK + 17)).chain([5, 2 * BLOCK + 3, 1, 3 * BLOCK + 16]) {
            assert_eq!(m.get(i as u32), text(i), "message {i}");
        }
        assert_eq!(m.get(10_000), "");
        // A big message seals its block early.
        m.push(&"y".repeat(BLOCK_BYTES));
        m.push("after");
        assert_eq!(m.get((3 * BLOCK + 17) as u32).len(), BLOCK_BYTES);
        assert_eq!(m.get((3 * BLOCK + 18) as u32), "after");
    }
}
