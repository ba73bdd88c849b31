//! Pre-allocation of the active segment: the space ahead of the write position is filled
//! (real writes, not `fallocate`, whose unwritten extents would make every fdatasync
//! commit metadata again), so that a durable append overwrites space the file already has
//! and its fdatasync has no file size or block allocation to commit.
//!
//! The fill is not zeros but [`FILL`] repeated, placed by file offset: zeros (a lost
//! page, a zeroed sector) and 0xFF (erased flash) are what damage looks like, and a tail
//! of acknowledged frames zeroed by damage must not pass for unwritten space. No window
//! of four fill bytes is a plausible frame header (every length field exceeds 16 MiB), so
//! both this engine and walogs 0.1.0 read it as the end of the frames.
//!
//! The pre-filled space is only ever at the end of the active segment; a segment is cut
//! back to its last frame before it is sealed, before truncation and on close, so sealed
//! and cleanly closed segments look exactly as walogs 0.1.0 writes them. See
//! docs/FORMAT.md, "Pre-allocation".

use std::io;

use crate::storage::{StorageFile, read_full_at};

/// The pre-fill is written in multiples of this many bytes, and never less than it.
pub(crate) const GRAIN: u64 = 64 << 10;

/// The most bytes pre-filled ahead of a write.
pub(crate) const MAX_AHEAD: u64 = 1 << 20;

/// Writes of the current size one pre-fill should make room for.
const WRITES_PER_FILL: u64 = 256;

/// The file length to pre-fill the active segment to before a write of `write_len`
/// bytes ending at `write_end`, when the file (`file_len` bytes now) does not reach that
/// far; `None` when the write fits or pre-filling would not help it (a frame past the
/// segment size limit, which gets the segment to itself).
///
/// The fill reaches [`WRITES_PER_FILL`] writes of this size past `write_end` (at least
/// [`GRAIN`], at most [`MAX_AHEAD`]), rounded up to a multiple of [`GRAIN`], and never
/// past `max_segment_size`: no byte is pre-filled that a frame could not use. Small
/// appends get a small fill because an fdatasync costs more the longer the file is, even
/// where nothing changed (docs/BENCHMARKS.md, "Pre-allocation"): the file is kept little
/// longer than its frames, while one append in hundreds pays for a fill.
pub(crate) fn target_len(
    write_end: u64,
    write_len: u64,
    file_len: u64,
    max_segment_size: Option<u64>,
) -> Option<u64> {
    if write_end <= file_len {
        return None;
    }
    let ahead = write_len
        .saturating_mul(WRITES_PER_FILL)
        .clamp(GRAIN, MAX_AHEAD);
    let aligned = write_end
        .saturating_add(ahead)
        .div_ceil(GRAIN)
        .saturating_mul(GRAIN);
    let target = max_segment_size.map_or(aligned, |max| aligned.min(max));
    (target >= write_end).then_some(target)
}

/// The pre-fill pattern: the byte at file offset `o` is `FILL[o % 16]`.
pub(crate) const FILL: &[u8; 16] = b"walogs pre-fill\n";

/// The pre-fill bytes for `from..to`: the pattern's first period, then copies of what is
/// there already (a byte-by-byte loop costs milliseconds per MiB in the component).
fn fill_bytes(from: u64, to: u64) -> Vec<u8> {
    let len = usize::try_from(to.saturating_sub(from)).expect("a pre-fill fits in memory");
    let phase = (from % 16) as usize;
    let mut bytes = Vec::with_capacity(len.max(16));
    bytes.extend_from_slice(&FILL[phase..]);
    bytes.extend_from_slice(&FILL[..phase]);
    while bytes.len() < len {
        bytes.extend_from_within(..bytes.len().min(len - bytes.len()));
    }
    bytes.truncate(len);
    bytes
}

/// Writes the pre-fill over `from..to` of `file` (not synced: the caller's next
/// fdatasync makes it durable together with the frame written into it).
pub(crate) fn prefill(file: &mut dyn StorageFile, from: u64, to: u64) -> io::Result<()> {
    file.write_all_at(&fill_bytes(from, to), from)
}

/// Whether `from..to` of `file` holds exactly the pre-fill (a file ending before `to` is
/// read up to its end).
pub(crate) fn is_prefill(file: &dyn StorageFile, from: u64, to: u64) -> io::Result<bool> {
    let mut buf = vec![0u8; MAX_AHEAD.min(to.saturating_sub(from)) as usize];
    let mut at = from;
    while at < to {
        let want = buf.len().min((to - at) as usize);
        let got = read_full_at(file, &mut buf[..want], at)?;
        if !buf[..got]
            .iter()
            .zip(at..)
            .all(|(&byte, o)| byte == FILL[(o % 16) as usize])
        {
            return Ok(false);
        }
        if got < want {
            break;
        }
        at += got as u64;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::MAX_ENTRY_SIZE;

    #[test]
    fn no_window_of_the_fill_is_a_plausible_frame_length() {
        let bytes = fill_bytes(0, 32);
        for w in bytes.windows(4) {
            let len = u32::from_le_bytes(w.try_into().unwrap()) as usize;
            assert!(len > MAX_ENTRY_SIZE, "{w:?}");
        }
    }

    #[test]
    fn the_fill_is_placed_by_file_offset() {
        assert_eq!(fill_bytes(14, 18), b"l\nwa");
        assert_eq!(fill_bytes(3, 3), b"");
        for (from, to) in [(0, 1), (5, 16), (7, 100), (16, 4096), (3, 1 << 20)] {
            let bytes = fill_bytes(from, to);
            assert_eq!(bytes.len() as u64, to - from);
            assert!(
                bytes
                    .iter()
                    .zip(from..)
                    .all(|(&b, o)| b == FILL[(o % 16) as usize])
            );
        }
    }

    /// The active segment's file length after 3 appends of 100 B with `preallocate`.
    fn file_len_after_appends(preallocate: bool) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::WalConfig {
            preallocate,
            ..crate::WalConfig::default()
        };
        let mut wal = crate::Wal::open_with_config(dir.path(), config).unwrap();
        for _ in 0..3 {
            wal.append(&[7u8; 100]).unwrap();
        }
        let len = std::fs::metadata(dir.path().join("wal-000001.log"))
            .unwrap()
            .len();
        drop(wal);
        let closed = std::fs::metadata(dir.path().join("wal-000001.log"))
            .unwrap()
            .len();
        assert_eq!(closed, 3 * 116, "a clean close leaves the frames only");
        len
    }

    #[test]
    fn the_switch_turns_pre_filling_on_and_off() {
        assert_eq!(file_len_after_appends(true), 2 * GRAIN);
        assert_eq!(file_len_after_appends(false), 3 * 116);
    }

    #[test]
    fn a_write_that_fits_needs_no_pre_fill() {
        assert_eq!(target_len(100, 100, 100, None), None);
        assert_eq!(target_len(50, 50, GRAIN, Some(64 << 20)), None);
    }

    #[test]
    fn small_writes_get_at_least_one_grain_of_pre_fill_ahead() {
        assert_eq!(target_len(116, 116, 0, None), Some(2 * GRAIN));
        assert_eq!(target_len(GRAIN, 116, GRAIN - 1, None), Some(2 * GRAIN));
        assert_eq!(target_len(GRAIN + 1, 116, GRAIN, None), Some(3 * GRAIN));
    }

    #[test]
    fn the_pre_fill_grows_with_the_write_up_to_its_limit() {
        // 256 writes of 1,016 bytes: 254 KiB ahead, rounded up to whole grains.
        assert_eq!(target_len(1016, 1016, 0, None), Some(4 * GRAIN));
        assert_eq!(target_len(4112, 4112, 0, None), Some(MAX_AHEAD + GRAIN));
        assert_eq!(target_len(4 << 20, 4 << 20, 0, None), Some(5 << 20));
    }

    #[test]
    fn pre_fill_stops_at_the_segment_size_limit() {
        assert_eq!(target_len(116, 116, 0, Some(300)), Some(300));
        assert_eq!(target_len(300, 116, 200, Some(300)), Some(300));
        // A frame larger than the limit has the segment to itself: nothing to pre-fill.
        assert_eq!(target_len(500, 500, 0, Some(300)), None);
    }
}
