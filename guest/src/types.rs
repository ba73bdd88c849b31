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

/// What the most recent open found at the tail and cut off ([`crate::Wal::recovery_report`]).
///
/// Only an interrupted write is ever cut: bytes past the durable point (or, when the log
/// has no durable point that matches the files, a tail no valid frame follows). The
/// frames counted here were written but never acknowledged durable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// The segment whose tail was cut, when one was.
    pub segment: Option<u32>,
    /// Where the cut is (the same offset as [`TailState::TruncatedAt`]).
    pub cut_at: Option<u64>,
    /// Bytes removed from the segment (a read-only open only reports them).
    pub bytes_discarded: u64,
    /// CRC-valid frames among the removed bytes.
    pub frames_discarded: u64,
    /// The durable point recovery relied on: bytes of the active segment known to hold
    /// acknowledged entries only. `None` when the log has no durable point that matches
    /// its files (a log written by walogs 0.1.0, or changed since the point was recorded).
    pub durable_point: Option<u64>,
    /// The LSN of the first entry past the durable point: entries from it on were not
    /// known durable to the point, the window in which damage to acknowledged data cannot
    /// be told from an interrupted write (docs/FORMAT.md). `None` without a durable point.
    pub durable_next_lsn: Option<Lsn>,
}
