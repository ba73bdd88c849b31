//! Names of the files in a log directory.

/// The single file of the 0.1.0-era v1 layout, renamed to segment 1 on open.
pub const V1_FILENAME: &str = "wal.log";

/// The highest segment sequence number a name can hold (`wal-999999.log`).
pub const MAX_SEGMENT_SEQ: u32 = 999_999;

/// The file name of segment `seq`: `wal-NNNNNN.log`.
pub fn segment_filename(seq: u32) -> String {
    format!("wal-{seq:06}.log")
}

/// Parses `wal-000042.log` into `Some(42)`; any other name is `None`.
pub fn parse_segment_filename(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for seq in [1, 42, 999_999] {
            assert_eq!(parse_segment_filename(&segment_filename(seq)), Some(seq));
        }
        assert_eq!(segment_filename(7), "wal-000007.log");
    }

    #[test]
    fn foreign_names_are_not_segments() {
        for name in [
            "wal.log",
            "wal-01.log",
            "wal-0000001.log",
            "wal-+00001.log",
            "notes.txt",
            "",
        ] {
            assert_eq!(parse_segment_filename(name), None, "{name}");
        }
    }
}
