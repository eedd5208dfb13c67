//! The outer container: a plain ustar archive written one way only, so that every byte of a
//! bundle is either a header casefile can rebuild, member data a SHA-256 covers, zero padding,
//! or the two zero blocks that end it. Reading checks all four, and refuses anything else
//! (links, directories, paths, duplicates, absurd sizes) before any member is decoded.

use super::format;
use std::io::{Read, Seek, SeekFrom, Write};

const BLOCK: u64 = 512;

/// The header casefile writes for a member: its name, size and time; everything else fixed.
pub fn header(name: &str, size: u64, mtime: u64) -> Result<[u8; 512], String> {
    let mut h = tar::Header::new_ustar();
    h.set_path(name).map_err(|e| format!("{name}: {e}"))?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = [0u8; 512];
    out.copy_from_slice(h.as_bytes());
    Ok(out)
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// Writes the members in the order given, then the end of the archive.
pub fn write(out: &mut impl Write, members: &[(&str, &[u8])], mtime: u64) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    for (name, data) in members {
        out.write_all(&header(name, data.len() as u64, mtime)?)
            .map_err(io)?;
        out.write_all(data).map_err(io)?;
        out.write_all(&vec![0u8; padding(data.len() as u64) as usize])
            .map_err(io)?;
    }
    out.write_all(&[0u8; 2 * BLOCK as usize]).map_err(io)
}

/// One member's place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub offset: u64,
    pub size: u64,
    pub mtime: u64,
}

/// Why a bundle was refused: what, and where (the member, when there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub member: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.member {
            Some(m) => write!(f, "{}: {}", crate::sanitize::line(m), self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

fn refuse(member: Option<&str>, reason: impl Into<String>) -> Refusal {
    Refusal {
        member: member.map(str::to_string),
        reason: reason.into(),
    }
}

/// The expected order: the manifest and its checksum, the data members, then the signature
/// when there is one.
fn expected_at(i: usize) -> &'static [&'static str] {
    match i {
        0 => &[format::MANIFEST],
        1 => &[format::MANIFEST_SUM],
        n if n - 2 < format::DATA_MEMBERS.len() => {
            std::slice::from_ref(&format::DATA_MEMBERS[n - 2])
        }
        n if n - 2 == format::DATA_MEMBERS.len() => &[format::SIGNATURE],
        _ => &[],
    }
}

/// Reads the layout of a bundle, checking every byte that is not member data: each header is
/// exactly the one casefile writes for that name, size and time; names are the known members
/// in their order (so no path, link, directory or duplicate gets through); sizes are within
/// bounds; padding is zero; two zero blocks end the file, and nothing follows them.
pub fn scan(file: &mut (impl Read + Seek)) -> Result<Vec<Member>, Refusal> {
    let len = file
        .seek(SeekFrom::End(0))
        .map_err(|e| refuse(None, format!("cannot read: {e}")))?;
    let mut members: Vec<Member> = Vec::new();
    let mut at = 0u64;
    let mut block = [0u8; 512];
    loop {
        let here = members.last().map(|m| m.name.clone());
        let after = |what: &str| match &here {
            Some(m) => format!("{what} after {m}"),
            None => what.to_string(),
        };
        if at + BLOCK > len {
            return Err(refuse(None, after("the file ends inside a header")));
        }
        read_at(file, at, &mut block).map_err(|e| refuse(None, e))?;
        if block.iter().all(|b| *b == 0) {
            // The end: a second zero block, and then nothing.
            let mut second = [0u8; 512];
            if at + 2 * BLOCK != len {
                return Err(refuse(
                    None,
                    after("bytes were added or removed at the end of the archive"),
                ));
            }
            read_at(file, at + BLOCK, &mut second).map_err(|e| refuse(None, e))?;
            if second.iter().any(|b| *b != 0) {
                return Err(refuse(None, "the end of the archive was changed"));
            }
            break;
        }
        let parsed = tar::Header::from_byte_slice(&block);
        let name = parsed.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&name).to_string();
        let allowed = expected_at(members.len());
        if !allowed.contains(&name.as_str()) {
            let why = if members.iter().any(|m| m.name == name) {
                "appears twice".to_string()
            } else if format::DATA_MEMBERS.contains(&name.as_str())
                || [format::MANIFEST, format::MANIFEST_SUM, format::SIGNATURE]
                    .contains(&name.as_str())
            {
                format!(
                    "is out of its place (expected {})",
                    allowed.first().copied().unwrap_or("the end of the archive")
                )
            } else {
                "is not a member of a case bundle (only the names in BUNDLE.md are)".to_string()
            };
            return Err(refuse(Some(&name), why));
        }
        let kind = parsed.entry_type();
        if kind != tar::EntryType::Regular {
            return Err(refuse(
                Some(&name),
                format!("is a {kind:?}, not a regular file (links are refused)"),
            ));
        }
        let size = parsed
            .size()
            .map_err(|e| refuse(Some(&name), format!("its size is unreadable: {e}")))?;
        let limit = if name.starts_with("manifest") {
            format::MAX_MANIFEST_BYTES
        } else if name == format::SIGNATURE {
            format::SIGNATURE_BYTES
        } else {
            format::MAX_MEMBER_BYTES
        };
        if size > limit {
            return Err(refuse(
                Some(&name),
                format!("declares {size} bytes, more than the {limit} a bundle member may hold"),
            ));
        }
        let mtime = parsed
            .mtime()
            .map_err(|e| refuse(Some(&name), format!("its time is unreadable: {e}")))?;
        let canonical = header(&name, size, mtime).map_err(|e| refuse(Some(&name), e))?;
        if canonical != block {
            return Err(refuse(Some(&name), "its header was changed"));
        }
        if let Some(first) = members.first() {
            if first.mtime != mtime {
                return Err(refuse(Some(&name), "its header was changed (time)"));
            }
        }
        let data = at + BLOCK;
        let pad = padding(size);
        if data + size + pad > len {
            return Err(refuse(Some(&name), "the file ends inside this member"));
        }
        let mut zeros = vec![0u8; pad as usize];
        read_at(file, data + size, &mut zeros).map_err(|e| refuse(Some(&name), e))?;
        if zeros.iter().any(|b| *b != 0) {
            return Err(refuse(Some(&name), "the padding after it was changed"));
        }
        members.push(Member {
            name,
            offset: data,
            size,
            mtime,
        });
        at = data + size + pad;
    }
    if members.len() < 2 + format::DATA_MEMBERS.len() {
        let missing = (members.len()..2 + format::DATA_MEMBERS.len())
            .map(|i| expected_at(i)[0])
            .next()
            .unwrap_or("?");
        return Err(refuse(Some(missing), "is missing"));
    }
    Ok(members)
}

fn read_at(file: &mut (impl Read + Seek), at: u64, buf: &mut [u8]) -> Result<(), String> {
    file.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
    file.read_exact(buf).map_err(|e| e.to_string())
}

/// A member's bytes.
pub fn read_member(file: &mut (impl Read + Seek), m: &Member) -> Result<Vec<u8>, Refusal> {
    let mut buf = vec![0u8; m.size as usize];
    read_at(file, m.offset, &mut buf).map_err(|e| refuse(Some(&m.name), e))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn sample() -> Vec<u8> {
        let mut out = Vec::new();
        let members: Vec<(&str, &[u8])> = vec![
            (format::MANIFEST, b"{}"),
            (format::MANIFEST_SUM, b"x"),
            (format::EVENTS, b"e"),
            (format::SERIES, b""),
            (format::MARKS, b"[]"),
            (format::CHAINS, b"[]"),
        ];
        write(&mut out, &members, 1_700_000_000).unwrap();
        out
    }

    #[test]
    fn what_is_written_scans_back_and_any_changed_byte_outside_data_is_refused() {
        let bytes = sample();
        let members = scan(&mut Cursor::new(&bytes)).unwrap();
        assert_eq!(members.len(), 6);
        assert_eq!(members[2].name, format::EVENTS);
        assert_eq!(
            read_member(&mut Cursor::new(&bytes), &members[4]).unwrap(),
            b"[]"
        );
        let data: Vec<std::ops::Range<u64>> = members
            .iter()
            .map(|m| m.offset..m.offset + m.size)
            .collect();
        for pos in 0..bytes.len() as u64 {
            if data.iter().any(|r| r.contains(&pos)) {
                continue; // member data: the manifest's SHA-256 covers it
            }
            let mut changed = bytes.clone();
            changed[pos as usize] ^= 0x20;
            assert!(
                scan(&mut Cursor::new(&changed)).is_err(),
                "a change at byte {pos} went unnoticed"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(scan(&mut Cursor::new(&longer)).is_err());
        assert!(scan(&mut Cursor::new(&bytes[..bytes.len() - 1])).is_err());
    }
}
