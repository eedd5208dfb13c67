//! Where an event's raw record is kept. Records read from a file stay in the file: the store
//! holds their offset, length and a hash, and reads them back when they are asked for (the
//! detail pane, an export). A million Falco records are then a few bytes each in memory
//! instead of the 750 MB they take on disk. Records with no file behind them (stdin, HTTP, a
//! bundle) are kept in LZ4 blocks by arrival number, as messages are (`messages.rs`).

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};

/// A file that raw records are read back from.
#[derive(Debug)]
pub struct RawFile {
    path: PathBuf,
    file: std::fs::File,
}

impl RawFile {
    /// Opens its own handle: the reader that loads the file may close or move its one.
    pub fn open(path: &Path) -> std::io::Result<RawFile> {
        Ok(RawFile {
            path: path.to_path_buf(),
            file: std::fs::File::open(path)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The record at `offset`, checked against the hash taken when it was loaded: a file
    /// rewritten since (truncated, rotated in place) gives an error, never another record.
    pub fn read(&self, offset: u64, len: u32, hash: u32) -> Result<String, String> {
        let mut buf = vec![0; len as usize];
        read_exact_at(&self.file, &mut buf, offset).map_err(|e| {
            format!(
                "the raw record cannot be read back from {}: {e}",
                self.path.display()
            )
        })?;
        if record_hash(&buf) != hash {
            return Err(format!(
                "the raw record is no longer in {}: the file changed since it was loaded",
                self.path.display()
            ));
        }
        // A record is only kept by offset when it is valid UTF-8 (see `PackedBatch`).
        String::from_utf8(buf).map_err(|_| {
            format!(
                "the raw record in {} is no longer text: the file changed since it was loaded",
                self.path.display()
            )
        })
    }
}

#[cfg(unix)]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

/// The hash a record kept by offset is checked against: the same on every run and thread.
pub fn record_hash(bytes: &[u8]) -> u32 {
    foldhash::fast::FixedState::with_seed(0x6361_7365_6669_6c65).hash_one(bytes) as u32
}

/// Where a raw record is, as the store holds it: 16 bytes per row. `at` holds the file's number
/// in its top 16 bits (all ones: held by the store, compressed) and the offset in the other 48.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawAt {
    at: u64,
    len: u32,
    hash: u32,
}

/// A raw record's place, unpacked.
pub(super) enum RawPlace {
    /// In the store's compressed raw texts, by the event's arrival number.
    Held,
    File {
        file: u16,
        offset: u64,
        len: u32,
        hash: u32,
    },
}

const IN_TEXT: u64 = 0xFFFF;
const OFFSET_BITS: u32 = 48;

impl RawAt {
    pub(super) fn held() -> RawAt {
        RawAt {
            at: IN_TEXT << OFFSET_BITS,
            len: 0,
            hash: 0,
        }
    }

    /// `None` past what the packing holds (file number 65,535, offsets from 256 TiB).
    pub(super) fn file(file: u16, offset: u64, len: u32, hash: u32) -> Option<RawAt> {
        (u64::from(file) != IN_TEXT && offset < 1 << OFFSET_BITS).then_some(RawAt {
            at: u64::from(file) << OFFSET_BITS | offset,
            len,
            hash,
        })
    }

    pub(super) fn place(self) -> RawPlace {
        let file = self.at >> OFFSET_BITS;
        let offset = self.at & ((1 << OFFSET_BITS) - 1);
        if file == IN_TEXT {
            RawPlace::Held
        } else {
            RawPlace::File {
                file: file as u16,
                offset,
                len: self.len,
                hash: self.hash,
            }
        }
    }
}

/// The text of a record that could not be read back, shown in its place.
pub fn unavailable(reason: &str) -> Cow<'static, str> {
    Cow::Owned(format!("(raw record unavailable: {reason})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_pack_into_sixteen_bytes_and_back() {
        assert_eq!(std::mem::size_of::<RawAt>(), 16);
        match RawAt::file(3, (1 << 48) - 1, 700, 0xdead_beef).map(RawAt::place) {
            Some(RawPlace::File {
                file,
                offset,
                len,
                hash,
            }) => assert_eq!(
                (file, offset, len, hash),
                (3, (1 << 48) - 1, 700, 0xdead_beef)
            ),
            _ => panic!("a file place"),
        }
        assert!(RawAt::file(3, 1 << 48, 1, 0).is_none(), "past 256 TiB");
        assert!(
            RawAt::file(u16::MAX, 0, 1, 0).is_none(),
            "the held records' number"
        );
        assert!(matches!(RawAt::held().place(), RawPlace::Held));
    }
}
