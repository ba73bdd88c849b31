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

/// Bytes pre-filled at a time: one extension per this many bytes of frames. Large enough
/// that at 4 KiB appends fewer than 1 in 200 pays for one, small enough that the one
/// that does writes about a millisecond's worth of pre-fill.
pub(crate) const CHUNK: u64 = 1 << 20;

/// The file length to pre-fill the active segment to before a write ending at
/// `write_end`, when the file (`file_len` bytes now) does not reach that far; `None`
/// when the write fits or pre-filling would not help it (a frame past the segment size
/// limit, which gets the segment to itself).
///
/// The new length is the next multiple of [`CHUNK`] after `write_end`, but never past
/// `max_segment_size`: no byte is pre-filled that a frame could not use.
pub(crate) fn target_len(
    write_end: u64,
    file_len: u64,
    max_segment_size: Option<u64>,
) -> Option<u64> {
    if write_end <= file_len {
        return None;
    }
    let aligned = (write_end / CHUNK + 1).saturating_mul(CHUNK);
    let target = max_segment_size.map_or(aligned, |max| aligned.min(max));
    (target >= write_end).then_some(target)
}

/// The pre-fill pattern: the byte at file offset `o` is `FILL[o % 16]`.
pub(crate) const FILL: &[u8; 16] = b"walogs pre-fill\n";

/// The pre-fill bytes for `from..to`.
fn fill_bytes(from: u64, to: u64) -> Vec<u8> {
    (from..to).map(|o| FILL[(o % 16) as usize]).collect()
}

/// Writes the pre-fill over `from..to` of `file` (not synced: the caller's next
/// fdatasync makes it durable together with the frame written into it).
pub(crate) fn prefill(file: &mut dyn StorageFile, from: u64, to: u64) -> io::Result<()> {
    file.write_all_at(&fill_bytes(from, to), from)
}

/// Whether `from..to` of `file` holds exactly the pre-fill (a file ending before `to` is
/// read up to its end).
pub(crate) fn is_prefill(file: &dyn StorageFile, from: u64, to: u64) -> io::Result<bool> {
    let mut buf = vec![0u8; CHUNK.min(to.saturating_sub(from)) as usize];
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
        assert_eq!(file_len_after_appends(true), CHUNK);
        assert_eq!(file_len_after_appends(false), 3 * 116);
    }

    #[test]
    fn a_write_that_fits_needs_no_pre_fill() {
        assert_eq!(target_len(100, 100, None), None);
        assert_eq!(target_len(50, CHUNK, Some(64 << 20)), None);
    }

    #[test]
    fn pre_fill_reaches_the_next_chunk_boundary_past_the_write() {
        assert_eq!(target_len(116, 0, None), Some(CHUNK));
        assert_eq!(target_len(CHUNK, CHUNK - 1, None), Some(2 * CHUNK));
        assert_eq!(
            target_len(CHUNK + 1, CHUNK, Some(64 << 20)),
            Some(2 * CHUNK)
        );
    }

    #[test]
    fn pre_fill_stops_at_the_segment_size_limit() {
        assert_eq!(target_len(116, 0, Some(300)), Some(300));
        assert_eq!(target_len(300, 200, Some(300)), Some(300));
        // A frame larger than the limit has the segment to itself: nothing to pre-fill.
        assert_eq!(target_len(500, 0, Some(300)), None);
    }
}
