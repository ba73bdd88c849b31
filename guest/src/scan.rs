//! Whole-segment checks: walks every frame of one segment, enforces LSN continuity, and
//! tells a torn tail (truncate it) from damage followed by valid data (report it).

use crate::WalError;
use crate::error::corrupt;
use crate::prealloc::is_prefill;
use crate::reader::{FrameReader, Next, find_valid_frame, search_bounds};

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
    /// Offset and stored CRC of the last good frame.
    pub last_frame: Option<(u64, u32)>,
    /// CRC-valid frames found in the torn tail (they belonged to the interrupted write).
    pub discarded_frames: u64,
    /// Bytes after `valid_len` that are the writer's own pre-fill (unwritten
    /// space: neither torn nor damage, and kept).
    pub unwritten: u64,
}

/// Where a segment sits in the log, which decides what damage means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A sealed segment: it was synced before its successor was created, so any damage
    /// is corruption.
    Sealed,
    /// The last segment. Damage at or past `durable_end` (a confirmed durable point) is an
    /// interrupted write; damage before it is corruption. Without a durable point, damage
    /// with no valid frame after it is a torn tail. `hint` is the LSN the first frame
    /// carries when known only from outside the segment: it narrows the search for later
    /// frames but is not checked.
    Last {
        /// Bytes known durable, from a confirmed durable point.
        durable_end: Option<u64>,
        /// The range the first frame's LSN lies in, when known from elsewhere.
        hint: Option<(u64, u64)>,
        /// Where the writer's pre-fill ends, from a confirmed durable point: a tail of
        /// pre-fill only at or past `durable_end` that ends there or before is unwritten
        /// space.
        prefilled_to: Option<u64>,
    },
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
        discarded_frames: 0,
        last_frame: None,
        unwritten: 0,
    };
    let mut expect = expect;
    loop {
        match reader.next_frame()? {
            Next::Frame {
                lsn, offset, crc, ..
            } => {
                check_lsn(name, offset, lsn, expect)?;
                scan.last_frame = Some((offset, crc));
                scan.first_lsn.get_or_insert(lsn);
                scan.last_lsn = Some(lsn);
                scan.entries += 1;
                expect = Some(lsn.checked_add(1).ok_or_else(|| {
                    corrupt(format!(
                        "{name}: frame at offset {offset} carries LSN {lsn}, the largest there is: no entry can follow it"
                    ))
                })?);
            }
            Next::End => break,
            Next::Bad { offset, kind } => {
                let what = format!("{name}: {} at offset {offset}", kind.describe());
                let Role::Last {
                    durable_end,
                    hint,
                    prefilled_to,
                } = role
                else {
                    return Err(corrupt(format!("{what} in a sealed segment")));
                };
                let lsns = search_bounds(expect, hint, offset + 1, reader.end());
                match durable_end {
                    Some(durable) if offset < durable => {
                        return Err(corrupt(format!(
                            "{what}, before the durable point at offset {durable}: \
                             acknowledged entries are damaged, so it is not truncated"
                        )));
                    }
                    Some(_) => {
                        let end = reader.end();
                        if prefilled_to.is_some_and(|to| end <= to)
                            && is_prefill(reader.file(), offset, end)?
                        {
                            scan.valid_len = offset;
                            scan.unwritten = end - offset;
                            return Ok(scan);
                        }
                    }
                    None => {
                        let follower =
                            find_valid_frame(reader.file(), offset + 1, reader.end(), lsns)?;
                        // A test-only mutant for the crash explorer: 0.1.0's rule, cut at any damage.
                        #[cfg(walogs_mutant = "truncate-at-first-bad-frame")]
                        let follower = follower.filter(|_| false);
                        if let Some((at, lsn)) = follower {
                            return Err(corrupt(format!(
                                "{what}, followed by a valid frame (LSN {lsn}) at offset {at}: \
                                 acknowledged entries may follow the damage, so it is not truncated"
                            )));
                        }
                    }
                }
                scan.torn = true;
                scan.valid_len = offset;
                scan.discarded_frames = count_frames_after(reader, offset + 1, lsns)?;
                return Ok(scan);
            }
        }
    }
    scan.valid_len = reader.position();
    Ok(scan)
}

/// Counts the CRC-valid frames in `from..end` of `reader`'s file whose LSNs lie in `lsns`: decodes sequentially, and searches again after each damage.
/// Each frame is read about once, so this costs a few reads of the segment at most.
fn count_frames_after(
    reader: &mut FrameReader,
    from: u64,
    lsns: (u64, u64),
) -> Result<u64, WalError> {
    let mut count = 0u64;
    let mut from = from;
    let mut lsns = lsns;
    while let Some((at, lsn)) = find_valid_frame(reader.file(), from, reader.end(), lsns)? {
        reader.seek(at);
        let mut next = lsn;
        while let Next::Frame { lsn, .. } = reader.next_frame()? {
            if lsn != next {
                break;
            }
            count += 1;
            next = lsn.saturating_add(1);
        }
        from = reader.position() + 1;
        lsns = search_bounds(Some(next), None, from, reader.end());
    }
    Ok(count)
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
