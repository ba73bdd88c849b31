//! Suffix truncation made crash-safe with a redo marker tied to the log it applies to.
//!
//! `truncate_after(L)` first makes a small `TRUNCATE` file durable, then deletes later
//! segments newest first, cuts the segment holding L after L's frame, and finally deletes
//! the marker. The marker records L, where L's frame ends, and the size of every segment
//! from L's on, so an open can tell the states this plan passes through from any other:
//! it redoes the remaining steps only when the files are exactly the log the marker was
//! written for (or a state on the way to the result), after checking L's frame, and before
//! deleting anything. A marker that is torn, or that no longer matches the files (a crash,
//! then walogs 0.1.0, which ignores the marker, appended), is discarded: the log is then
//! the old one, and nothing anyone acknowledged is deleted.

use std::io;

use crate::WalError;
use crate::reader::{FrameReader, Next};
use crate::segment::{parse_segment_filename, segment_filename};
use crate::storage::{OpenMode, Storage, read_full_at};

/// Name of the redo marker.
pub(crate) const MARKER: &str = "TRUNCATE";

/// First bytes of a marker.
const MAGIC: &[u8; 4] = b"WTR2";

/// Bytes before the segment sizes: magic, LSN, cut offset, first segment, segment count.
const FIXED: usize = 4 + 8 + 8 + 4 + 4;

/// The most segments a marker can list (a bound on the bytes an open reads).
const MAX_SEGMENTS: u32 = 1 << 20;

/// A committed truncation: keep LSNs up to `lsn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The last LSN kept.
    pub lsn: u64,
    /// The segment holding it.
    pub seq: u32,
    /// Where its frame ends in that segment: the segment's length afterwards.
    pub cut: u64,
    /// Sizes of segments `seq`, `seq + 1`, … when the marker was written.
    pub sizes: Vec<u64>,
}

impl Plan {
    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(FIXED + 8 * self.sizes.len() + 4);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&self.lsn.to_le_bytes());
        b.extend_from_slice(&self.cut.to_le_bytes());
        b.extend_from_slice(&self.seq.to_le_bytes());
        b.extend_from_slice(&(self.sizes.len() as u32).to_le_bytes());
        for size in &self.sizes {
            b.extend_from_slice(&size.to_le_bytes());
        }
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// The plan in `b`, or `None` for anything but a whole marker.
    fn decode(b: &[u8]) -> Option<Plan> {
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if b.len() < FIXED + 4 || &b[..4] != MAGIC {
            return None;
        }
        let count = u32_at(24);
        if count == 0 || count > MAX_SEGMENTS || b.len() != FIXED + 8 * count as usize + 4 {
            return None;
        }
        let body = b.len() - 4;
        if crc32fast::hash(&b[..body]) != u32_at(body) {
            return None;
        }
        Some(Plan {
            lsn: u64_at(4),
            cut: u64_at(12),
            seq: u32_at(20),
            sizes: (0..count as usize).map(|i| u64_at(FIXED + 8 * i)).collect(),
        })
    }

    /// The last segment the marker knows.
    fn last_seq(&self) -> u64 {
        self.seq as u64 + self.sizes.len() as u64 - 1
    }
}

/// Sorted segment numbers in `storage`.
fn segment_seqs(storage: &dyn Storage) -> io::Result<Vec<u32>> {
    let mut seqs: Vec<u32> = storage
        .list()?
        .iter()
        .filter_map(|n| parse_segment_filename(n))
        .collect();
    seqs.sort_unstable();
    Ok(seqs)
}

fn size_of(storage: &dyn Storage, seq: u32) -> io::Result<u64> {
    storage.open(&segment_filename(seq), OpenMode::Read)?.size()
}

/// Where the frame of `lsn` ends in segment `seq`, reading only frames before it; `None`
/// when the segment does not hold `lsn` behind intact frames.
fn end_of_frame(storage: &dyn Storage, seq: u32, lsn: u64) -> Result<Option<u64>, WalError> {
    let file = storage.open(&segment_filename(seq), OpenMode::Read)?;
    let mut reader = FrameReader::new(file, None)?;
    let mut prev: Option<u64> = None;
    loop {
        match reader.next_frame()? {
            Next::Frame { lsn: found, .. }
                if prev.is_none_or(|p| p.checked_add(1) == Some(found)) =>
            {
                if found == lsn {
                    return Ok(Some(reader.position()));
                }
                if found > lsn {
                    return Ok(None);
                }
                prev = Some(found);
            }
            _ => return Ok(None),
        }
    }
}

/// Makes the intent "keep LSNs up to `lsn`" durable, tied to the files as they are now.
/// The caller has checked that the log holds `lsn` and synced what it wrote.
pub(crate) fn write_marker(storage: &dyn Storage, lsn: u64) -> Result<(), WalError> {
    let seqs = segment_seqs(storage)?;
    let mut holder = None;
    for &seq in seqs.iter().rev() {
        let file = storage.open(&segment_filename(seq), OpenMode::Read)?;
        if let Next::Frame { lsn: first, .. } = FrameReader::new(file, None)?.next_frame()?
            && first <= lsn
        {
            holder = Some(seq);
            break;
        }
    }
    let not_found = || {
        crate::error::corrupt(format!(
            "truncation to LSN {lsn}: no segment holds that entry"
        ))
    };
    let seq = holder.ok_or_else(not_found)?;
    let cut = end_of_frame(storage, seq, lsn)?.ok_or_else(not_found)?;
    let last = *seqs.last().expect("a segment holds the entry");
    let sizes = (seq..=last)
        .map(|s| size_of(storage, s))
        .collect::<io::Result<Vec<u64>>>()?;
    let plan = Plan {
        lsn,
        seq,
        cut,
        sizes,
    };
    let mut file = storage.open(MARKER, OpenMode::CreateNew)?;
    file.write_all_at(&plan.encode(), 0)?;
    file.sync_data()?;
    storage.sync_dir()?;
    Ok(())
}

/// The plan of a whole marker in `storage` that matches its files exactly: the log it
/// was written for, or a state its steps pass through. `None` when there is no marker, or
/// it is torn, or the log has moved on. Reads only; deletes nothing.
pub(crate) fn pending(storage: &dyn Storage) -> Result<Option<Plan>, WalError> {
    let file = match storage.open(MARKER, OpenMode::Read) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let size = file.size()?;
    let max = (FIXED + 8 * MAX_SEGMENTS as usize + 4) as u64;
    if size > max {
        return Ok(None);
    }
    let mut bytes = vec![0u8; size as usize];
    let n = read_full_at(file.as_ref(), &mut bytes, 0)?;
    let Some(plan) = Plan::decode(&bytes[..n]) else {
        return Ok(None);
    };
    Ok(matches(storage, &plan)?.then_some(plan))
}

/// Whether the files are a state of `plan`: segments from `plan.seq` to some `k` present
/// (those after `k` deleted, none added), each later one at its recorded size, the first
/// at its recorded size or already cut, and `plan.lsn`'s frame ending exactly at the cut.
fn matches(storage: &dyn Storage, plan: &Plan) -> Result<bool, WalError> {
    let seqs = segment_seqs(storage)?;
    let Some(&last) = seqs.last() else {
        return Ok(false);
    };
    if (last as u64) > plan.last_seq() || last < plan.seq || !seqs.contains(&plan.seq) {
        return Ok(false);
    }
    for seq in plan.seq + 1..=last {
        if size_of(storage, seq)? != plan.sizes[(seq - plan.seq) as usize] {
            return Ok(false);
        }
    }
    let first = size_of(storage, plan.seq)?;
    let cut_already = last == plan.seq && first == plan.cut;
    if first != plan.sizes[0] && !cut_already {
        return Ok(false);
    }
    Ok(end_of_frame(storage, plan.seq, plan.lsn)? == Some(plan.cut))
}

/// Finishes a truncation a crash interrupted when the marker matches the files, and
/// otherwise discards the marker (torn: never committed; not matching: the log moved on).
pub(crate) fn finish_pending(storage: &dyn Storage) -> Result<(), WalError> {
    if let Some(plan) = pending(storage)? {
        // The marker may sit only in the page cache (a crash after writing it): make it
        // durable before the first destructive step, or a power loss could leave neither log.
        storage.open(MARKER, OpenMode::ReadWrite)?.sync_data()?;
        storage.sync_dir()?;
        apply(storage, &plan)?;
    }
    storage.remove(MARKER)?;
    storage.sync_dir()?;
    Ok(())
}

/// Deletes every segment after `plan.seq`, newest first, and cuts that one at `plan.cut`.
/// Idempotent, so it can be repeated after a crash. The marker stays.
fn apply(storage: &dyn Storage, plan: &Plan) -> Result<(), WalError> {
    for seq in segment_seqs(storage)?.into_iter().rev() {
        if seq <= plan.seq {
            break;
        }
        storage.remove(&segment_filename(seq))?;
        storage.sync_dir()?;
    }
    let mut file = storage.open(&segment_filename(plan.seq), OpenMode::ReadWrite)?;
    if file.size()? != plan.cut {
        file.set_len(plan.cut)?;
    }
    // Sync even when the size already matches: a redo may find the cut only in the page cache.
    file.sync_data()?;
    storage.sync_dir()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_round_trips_and_any_flipped_bit_tears_it() {
        let plan = Plan {
            lsn: 41,
            seq: 3,
            cut: 900,
            sizes: vec![1000, 2000],
        };
        let bytes = plan.encode();
        assert_eq!(Plan::decode(&bytes), Some(plan));
        for i in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert_eq!(Plan::decode(&bad), None, "bit {i}");
        }
        assert_eq!(Plan::decode(&bytes[..bytes.len() - 1]), None);
    }
}
