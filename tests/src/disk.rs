//! File surgery for tests: what a crash, a bad disk or a stray process leaves behind.

use std::fs;
use std::path::{Path, PathBuf};

/// Path of segment `seq` in `dir`.
pub fn segment(dir: &Path, seq: u32) -> PathBuf {
    dir.join(format!("wal-{seq:06}.log"))
}

/// Sequence numbers of the segment files in `dir`, sorted.
pub fn segment_seqs(dir: &Path) -> Vec<u32> {
    let mut seqs: Vec<u32> = fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("wal-")?
                .strip_suffix(".log")?
                .parse()
                .ok()
        })
        .collect();
    seqs.sort_unstable();
    seqs
}

/// The newest segment file in `dir`.
pub fn last_segment(dir: &Path) -> PathBuf {
    segment(dir, *segment_seqs(dir).last().expect("a segment"))
}

/// Flips every bit of the byte at `offset`.
pub fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).expect("read");
    bytes[offset as usize] ^= 0xFF;
    fs::write(path, bytes).expect("write");
}

/// Cuts the file to `len` bytes.
pub fn cut(path: &Path, len: u64) {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open")
        .set_len(len)
        .expect("set_len");
}

/// Appends raw bytes to the file.
pub fn append_bytes(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open")
        .write_all(bytes)
        .expect("write");
}

/// Size of the file.
pub fn len(path: &Path) -> u64 {
    fs::metadata(path).expect("metadata").len()
}

/// A frame in walogs' format, independent of the engine's encoder.
pub fn frame(lsn: u64, data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u32).to_le_bytes();
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len);
    hasher.update(&lsn.to_le_bytes());
    hasher.update(data);
    let mut out = len.to_vec();
    out.extend_from_slice(&hasher.finalize().to_le_bytes());
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// Every file in `dir` with its bytes, sorted by name: a snapshot to compare against.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().into_string().expect("utf-8"),
                fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Every whole record of every quarantine file in `dir`: (segment name, offset, bytes).
/// A record is "WQR1", the segment name's length (u16 LE) and name, the offset the bytes
/// came from (u64 LE), their count (u64 LE), and the bytes; a partial record (a repair
/// stopped while writing it) is skipped.
pub fn quarantined(dir: &Path) -> Vec<(String, u64, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, bytes) in snapshot(dir) {
        if !name.starts_with("quarantine-") {
            continue;
        }
        let mut at = 0;
        while at + 6 <= bytes.len() {
            assert_eq!(&bytes[at..at + 4], b"WQR1", "{name}: record magic");
            let n = u16::from_le_bytes(bytes[at + 4..at + 6].try_into().unwrap()) as usize;
            if at + 6 + n + 16 > bytes.len() {
                break;
            }
            let seg = String::from_utf8(bytes[at + 6..at + 6 + n].to_vec()).expect("utf-8");
            at += 6 + n;
            let offset = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
            let len = u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap()) as usize;
            at += 16;
            if at + len > bytes.len() {
                break;
            }
            out.push((seg, offset, bytes[at..at + len].to_vec()));
            at += len;
        }
    }
    out
}

/// Checks that every byte of the segments in `before` (a [`snapshot`]) is in `dir` now:
/// in its segment at its place, or in a quarantine record.
pub fn assert_no_byte_lost(dir: &Path, before: &[(String, Vec<u8>)]) {
    let now = snapshot(dir);
    let quarantine = quarantined(dir);
    for (name, bytes) in before.iter().filter(|(n, _)| n.starts_with("wal-")) {
        let kept = now
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[][..], |(_, b)| &b[..]);
        assert_eq!(&bytes[..kept.len()], kept, "{name}: kept bytes unchanged");
        if kept.len() < bytes.len() {
            let from = kept.len() as u64;
            let found = quarantine.iter().any(|(seg, offset, q)| {
                seg == name && *offset <= from && bytes[*offset as usize..] == q[..]
            });
            assert!(
                found,
                "{name}: bytes from {from} on are in a quarantine file"
            );
        }
    }
}
