//! The walogs frame format seen from outside the engine (docs/FORMAT.md): enough to write
//! a v1 log for a workload to start from, and to tell which entries a damage fault hit.

/// Bytes in a frame header: len u32 ‖ crc u32 ‖ lsn u64, little-endian.
pub const HEADER: usize = 16;

/// One frame: `[len][crc of len‖lsn‖data][lsn][data]`.
pub fn encode(lsn: u64, data: &[u8]) -> Vec<u8> {
    let len = u32::try_from(data.len()).expect("entries are small");
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len.to_le_bytes());
    hasher.update(&lsn.to_le_bytes());
    hasher.update(data);
    let mut out = Vec::with_capacity(HEADER + data.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&hasher.finalize().to_le_bytes());
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// The frames of an undamaged segment: `(lsn, start offset, end offset)` each. Stops at
/// the first bytes that are not a whole frame.
pub fn frames(segment: &[u8]) -> Vec<(u64, usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while segment.len() - at >= HEADER {
        let len = u32::from_le_bytes(segment[at..at + 4].try_into().expect("4 bytes")) as usize;
        let lsn = u64::from_le_bytes(segment[at + 8..at + 16].try_into().expect("8 bytes"));
        let end = at + HEADER + len;
        if end > segment.len() {
            break;
        }
        out.push((lsn, at, end));
        at = end;
    }
    out
}

/// Whether `name` is a walogs log file (`wal-NNNNNN.log` or the v1 `wal.log`).
pub fn is_log_file(name: &str) -> bool {
    name == "wal.log"
        || name
            .strip_prefix("wal-")
            .and_then(|n| n.strip_suffix(".log"))
            .is_some_and(|n| n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut seg = encode(7, b"abc");
        seg.extend(encode(8, b""));
        seg.extend_from_slice(&[1, 2, 3]);
        assert_eq!(frames(&seg), vec![(7, 0, 19), (8, 19, 35)]);
        assert!(is_log_file("wal-000012.log") && is_log_file("wal.log"));
        assert!(!is_log_file("wal-12.log") && !is_log_file("LOCK"));
    }
}
