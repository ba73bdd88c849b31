//! Small value types of the public API.

/// A Log Sequence Number: the position of an entry in the log.
///
/// `Lsn(0)` is reserved for "none"; the first entry of a fresh log has `Lsn(1)`, and
/// LSNs stay dense (no gaps) across all segments and are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

/// Whether the WAL's tail was clean or truncated on the most recent open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailState {
    /// The last segment ended on a frame boundary.
    Clean,
    /// A torn (partially written) frame began at this byte offset of the last segment.
    /// The segment has been truncated there (a read-only open leaves it in place).
    TruncatedAt(u64),
}

/// The LSNs `start..end` (end exclusive) assigned by one batch append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LsnRange {
    /// The first LSN of the batch.
    pub start: Lsn,
    /// One past the last LSN of the batch; equal to `start` for an empty batch.
    pub end: Lsn,
}

impl LsnRange {
    /// How many LSNs the range holds.
    pub fn len(&self) -> u64 {
        self.end.0 - self.start.0
    }

    /// Whether the range holds no LSN.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The LSNs in the range, in order.
    pub fn iter(&self) -> impl Iterator<Item = Lsn> + use<> {
        (self.start.0..self.end.0).map(Lsn)
    }
}

/// One segment file of the log, as reported by [`crate::Wal::segments`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Its sequence number: the file is `wal-NNNNNN.log`.
    pub seq: u32,
    /// The LSN of its first entry, if it holds one.
    pub first_lsn: Option<Lsn>,
    /// Its size in bytes.
    pub size: u64,
}

/// The result of a full integrity check ([`crate::Wal::verify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Segments checked.
    pub segments: u32,
    /// Entries checked.
    pub entries: u64,
    /// Bytes of frames checked.
    pub bytes: u64,
    /// The first LSN, if the log holds any entry.
    pub first_lsn: Option<Lsn>,
    /// The last LSN, if the log holds any entry.
    pub last_lsn: Option<Lsn>,
}
