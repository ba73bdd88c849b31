//! The frame codec: `[len u32 LE][crc u32 LE][lsn u64 LE][data]`, CRC-32 over len‖lsn‖data.
//!
//! Pure functions over byte slices; no I/O. See docs/FORMAT.md.

use crate::WalError;

/// Maximum size in bytes of a single entry's data (16 MiB).
///
/// Appends of larger entries return [`WalError::EntryTooLarge`]. The bound also keeps a
/// damaged length field from making the reader allocate more than this.
pub const MAX_ENTRY_SIZE: usize = 16 * 1024 * 1024;

/// Bytes in a frame header.
pub const HEADER_SIZE: usize = 16;

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Bytes of data after the header.
    pub len: u32,
    /// The stored CRC.
    pub crc: u32,
    /// The stored LSN.
    pub lsn: u64,
}

impl Header {
    /// Parses the first [`HEADER_SIZE`] bytes of `bytes`.
    pub fn parse(bytes: &[u8]) -> Header {
        Header {
            len: u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes")),
            crc: u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes")),
            lsn: u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")),
        }
    }

    /// Bytes of the whole frame.
    pub fn frame_len(&self) -> u64 {
        HEADER_SIZE as u64 + self.len as u64
    }

    /// Whether `data` is the body this header's CRC was computed over.
    pub fn matches(&self, data: &[u8]) -> bool {
        checksum(self.len, self.lsn, data) == self.crc
    }
}

/// CRC-32 of len‖lsn‖data. In the component, through [`crate::crc`] (crc32fast has no
/// hardware path on wasm and its portable one is about 1.4× slower there).
#[cfg(target_family = "wasm")]
fn checksum(len: u32, lsn: u64, data: &[u8]) -> u32 {
    let crc = crate::crc::update(0, &len.to_le_bytes());
    let crc = crate::crc::update(crc, &lsn.to_le_bytes());
    crate::crc::update(crc, data)
}

/// CRC-32 of len‖lsn‖data (crc32fast: PCLMULQDQ / ARMv8 CRC where the CPU has them).
#[cfg(not(target_family = "wasm"))]
fn checksum(len: u32, lsn: u64, data: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len.to_le_bytes());
    hasher.update(&lsn.to_le_bytes());
    hasher.update(data);
    hasher.finalize()
}

/// Checks that `data` may be appended.
pub fn check_size(data: &[u8]) -> Result<(), WalError> {
    if data.len() > MAX_ENTRY_SIZE {
        return Err(WalError::EntryTooLarge {
            size: data.len(),
            max: MAX_ENTRY_SIZE,
        });
    }
    Ok(())
}

/// Appends the frame for (`lsn`, `data`) to `out`. The caller has checked the size.
pub fn encode_into(out: &mut Vec<u8>, lsn: u64, data: &[u8]) {
    debug_assert!(data.len() <= MAX_ENTRY_SIZE);
    let len = data.len() as u32;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(len, lsn, data).to_le_bytes());
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend_from_slice(data);
}

/// Bytes the frame of an entry of `data_len` bytes takes.
pub fn frame_len(data_len: usize) -> u64 {
    (HEADER_SIZE + data_len) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(lsn: u64, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_into(&mut out, lsn, data);
        out
    }

    #[test]
    fn header_round_trip_and_crc_cover_len_lsn_data() {
        let frame = encode(42, b"hello");
        let header = Header::parse(&frame);
        assert_eq!((header.len, header.lsn), (5, 42));
        assert!(header.matches(&frame[HEADER_SIZE..]));
        for flip in [0usize, 8, HEADER_SIZE] {
            let mut bad = frame.clone();
            bad[flip] ^= 1;
            let h = Header::parse(&bad);
            assert!(
                !h.matches(&bad[HEADER_SIZE..HEADER_SIZE + 5]),
                "flip at {flip}"
            );
        }
    }

    #[test]
    fn empty_entry_is_a_bare_header() {
        assert_eq!(encode(1, b"").len(), HEADER_SIZE);
    }

    #[test]
    fn oversize_is_rejected_and_max_size_is_accepted() {
        assert!(check_size(&vec![0; MAX_ENTRY_SIZE]).is_ok());
        match check_size(&vec![0; MAX_ENTRY_SIZE + 1]) {
            Err(WalError::EntryTooLarge { size, max }) => {
                assert_eq!((size, max), (MAX_ENTRY_SIZE + 1, MAX_ENTRY_SIZE))
            }
            other => panic!("expected EntryTooLarge, got {other:?}"),
        }
    }
}
