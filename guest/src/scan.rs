//! Whole-segment checks: walks every frame of one segment, enforces LSN continuity, and
//! tells a torn tail (truncate it) from damage followed by valid data (report it).

use crate::WalError;
use crate::error::corrupt;
use crate::reader::{FrameReader, Next, find_valid_frame};

/// What a full scan of one segment found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentScan {
    /// LSN of the first frame.
    pub first_lsn: Option<u64>,
    /// LSN of the last good frame.
    pub last_lsn: Option<u64>,
    /// Good frames.
    pub entries: u64,
    /// Offset just past the last good frame.
    pub valid_len: u64,
    /// Whether bytes after `valid_len` form a torn tail (only ever set for the last segment).
    pub torn: bool,
}

/// Where a segment sits in the log, which decides what damage means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A sealed segment: it was synced before its successor was created, so any damage
    /// is corruption.
    Sealed,
    /// The last segment: damage with no valid frame after it is a torn tail.
    Last,
}

/// Scans every frame of the segment read by `reader`.
///
/// `expect` is the LSN the first frame must carry, when known. Every later frame must
/// carry the previous LSN + 1. `name` is used in error messages.
pub(crate) fn scan_segment(
    reader: &mut FrameReader,
    name: &str,
    expect: Option<u64>,
    role: Role,
) -> Result<SegmentScan, WalError> {
    let mut scan = SegmentScan {
        first_lsn: None,
        last_lsn: None,
        entries: 0,
        valid_len: 0,
        torn: false,
    };
    let mut expect = expect;
    loop {
        match reader.next_frame()? {
            Next::Frame { lsn, offset, .. } => {
                check_lsn(name, offset, lsn, expect)?;
                scan.first_lsn.get_or_insert(lsn);
                scan.last_lsn = Some(lsn);
                scan.entries += 1;
                expect = Some(lsn + 1);
            }
            Next::End => break,
            Next::Bad { offset, kind } => {
                let what = format!("{name}: {} at offset {offset}", kind.describe());
                if role == Role::Sealed {
                    return Err(corrupt(format!("{what} in a sealed segment")));
                }
                let follower = find_valid_frame(reader.file(), offset + 1, reader.end(), expect)?;
                // A test-only mutant for the crash explorer: 0.1.0's rule, cut at any damage.
                #[cfg(walogs_mutant = "truncate-at-first-bad-frame")]
                let follower = follower.filter(|_| false);
                if let Some((at, lsn)) = follower {
                    return Err(corrupt(format!(
                        "{what}, followed by a valid frame (LSN {lsn}) at offset {at}: \
                         acknowledged entries may follow the damage, so it is not truncated"
                    )));
                }
                scan.torn = true;
                break;
            }
        }
    }
    scan.valid_len = reader.position();
    Ok(scan)
}

/// Reads only the first frame of a segment: its LSN, or `None` for an empty segment.
pub(crate) fn first_lsn(reader: &mut FrameReader, name: &str) -> Result<Option<u64>, WalError> {
    match reader.next_frame()? {
        Next::Frame { lsn, .. } => Ok(Some(lsn)),
        Next::End => Ok(None),
        Next::Bad { offset, kind } => Err(corrupt(format!(
            "{name}: {} at offset {offset} in a sealed segment",
            kind.describe()
        ))),
    }
}

/// Fails unless `lsn` is the expected one.
pub(crate) fn check_lsn(
    name: &str,
    offset: u64,
    lsn: u64,
    expect: Option<u64>,
) -> Result<(), WalError> {
    match expect {
        Some(expected) if lsn != expected => Err(corrupt(format!(
            "{name}: LSN discontinuity at offset {offset}: found LSN {lsn}, expected {expected}"
        ))),
        None if lsn == 0 => Err(corrupt(format!(
            "{name}: frame at offset {offset} has the reserved LSN 0"
        ))),
        _ => Ok(()),
    }
}
