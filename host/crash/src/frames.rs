//! The walogs frame format seen from outside the engine (docs/FORMAT.md): enough to write
//! a v1 log for a workload to start from, and to tell which entries a damage fault hit.

use walogs::format::{self, HEADER_SIZE};

/// One frame: `[len][crc of len‖lsn‖data][lsn][data]`.
pub fn encode(lsn: u64, data: &[u8]) -> Vec<u8> {
    format::encode_frame(lsn, data).expect("workload entries are under the size limit")
}

/// The frames of an undamaged segment: `(lsn, start offset, end offset)` each. Stops at
/// the first bytes that are not a whole frame.
pub fn frames(segment: &[u8]) -> Vec<(u64, usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while segment.len() - at >= HEADER_SIZE {
        let len = u32::from_le_bytes(segment[at..at + 4].try_into().expect("4 bytes")) as usize;
        let lsn = u64::from_le_bytes(segment[at + 8..at + 16].try_into().expect("8 bytes"));
        let end = at + HEADER_SIZE + len;
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
    name == format::V1_FILENAME || format::parse_segment_name(name).is_some()
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
