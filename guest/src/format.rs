//! The on-disk format's constants and names, for tools that read or write log files
//! directly (docs/FORMAT.md). The engine itself encodes and decodes frames; tests keep an
//! independent reference codec.
//!
//! A log directory holds segment files `wal-NNNNNN.log` (six decimal digits, from 1); each
//! is a sequence of frames `[len u32 LE][crc u32 LE][lsn u64 LE][data]`, the CRC-32 taken
//! over `len ‖ lsn ‖ data`.

pub use crate::frame::{HEADER_SIZE, MAX_ENTRY_SIZE};
pub use crate::segment::{
    MAX_SEGMENT_SEQ, V1_FILENAME, parse_segment_filename as parse_segment_name,
    segment_filename as segment_name,
};
pub use crate::storage::LOCK_FILENAME;

/// The frame holding entry `data` at `lsn`, as the engine writes it.
///
/// ```
/// let frame = walogs::format::encode_frame(1, b"abc")?;
/// assert_eq!(frame.len(), walogs::format::HEADER_SIZE + 3);
/// assert_eq!(frame[8..16], 1u64.to_le_bytes());
/// # Ok::<(), walogs::WalError>(())
/// ```
///
/// # Errors
///
/// [`WalError::EntryTooLarge`](crate::WalError::EntryTooLarge) when `data` is over
/// [`MAX_ENTRY_SIZE`].
pub fn encode_frame(lsn: u64, data: &[u8]) -> Result<Vec<u8>, crate::WalError> {
    crate::frame::check_size(data)?;
    let mut out = Vec::with_capacity(HEADER_SIZE + data.len());
    crate::frame::encode_into(&mut out, lsn, data);
    Ok(out)
}
