//! Suffix truncation made crash-safe with a redo marker.
//!
//! `truncate_after(L)` first makes a small `TRUNCATE` file durable (L and its CRC), then
//! deletes later segments newest first, cuts the segment holding L after L's frame, and
//! finally deletes the marker. An open that finds a valid marker redoes the remaining
//! steps; an invalid (torn) marker was never committed and is removed. So a crash at any
//! point leaves either the old log or the new one.

use std::io;

use crate::WalError;
use crate::error::corrupt;
use crate::reader::{FrameReader, Next};
use crate::scan;
use crate::segment::{parse_segment_filename, segment_filename};
use crate::storage::{OpenMode, Storage, read_full_at};

/// Name of the redo marker.
pub(crate) const MARKER: &str = "TRUNCATE";

const MARKER_LEN: usize = 12;

/// Makes the intent "keep LSNs up to `lsn`" durable.
pub(crate) fn write_marker(storage: &dyn Storage, lsn: u64) -> io::Result<()> {
    let mut bytes = lsn.to_le_bytes().to_vec();
    bytes.extend_from_slice(&crc32fast::hash(&lsn.to_le_bytes()).to_le_bytes());
    let mut file = storage.open(MARKER, OpenMode::CreateNew)?;
    file.write_all_at(&bytes, 0)?;
    file.sync_data()?;
    storage.sync_dir()
}

/// The LSN in a whole marker, or `None` for a torn one.
fn read_marker(storage: &dyn Storage) -> io::Result<Option<u64>> {
    let file = storage.open(MARKER, OpenMode::Read)?;
    let mut bytes = [0u8; MARKER_LEN + 1];
    let n = read_full_at(file.as_ref(), &mut bytes, 0)?;
    if n != MARKER_LEN {
        return Ok(None);
    }
    let lsn = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    let crc = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    Ok((crc32fast::hash(&bytes[..8]) == crc).then_some(lsn))
}

/// Finishes (or discards, when torn) a truncation a crash interrupted.
pub(crate) fn finish_pending(storage: &dyn Storage) -> Result<(), WalError> {
    if let Some(lsn) = read_marker(storage)? {
        // The marker may sit only in the page cache (a crash after writing it): make it
        // durable before the first destructive step, or a power loss could leave neither log.
        storage.open(MARKER, OpenMode::ReadWrite)?.sync_data()?;
        storage.sync_dir()?;
        apply(storage, lsn)?;
    }
    storage.remove(MARKER)?;
    storage.sync_dir()?;
    Ok(())
}

/// Deletes every segment after the one holding `lsn` and cuts that one after `lsn`.
/// Idempotent, so it can be repeated after a crash. The marker stays.
pub(crate) fn apply(storage: &dyn Storage, lsn: u64) -> Result<(), WalError> {
    let mut seqs: Vec<u32> = storage
        .list()?
        .iter()
        .filter_map(|n| parse_segment_filename(n))
        .collect();
    seqs.sort_unstable();
    while let Some(&seq) = seqs.last() {
        let name = segment_filename(seq);
        let mut reader = FrameReader::new(storage.open(&name, OpenMode::Read)?, None)?;
        let first = scan::first_lsn(&mut reader, &name)?;
        match first {
            Some(first) if first <= lsn => return cut_after(storage, &name, lsn),
            _ if seqs.len() == 1 => return cut_after(storage, &name, lsn),
            _ => {
                storage.remove(&name)?;
                storage.sync_dir()?;
                seqs.pop();
            }
        }
    }
    Ok(())
}

/// Cuts segment `name` just after the frame of `lsn`.
fn cut_after(storage: &dyn Storage, name: &str, lsn: u64) -> Result<(), WalError> {
    let mut reader = FrameReader::new(storage.open(name, OpenMode::Read)?, None)?;
    let cut = loop {
        match reader.next_frame()? {
            Next::Frame { lsn: found, .. } if found == lsn => break reader.position(),
            Next::Frame { lsn: found, .. } if found < lsn => {}
            _ => {
                return Err(corrupt(format!(
                    "{name}: truncation to LSN {lsn} cannot find that entry"
                )));
            }
        }
    };
    drop(reader);
    let mut file = storage.open(name, OpenMode::ReadWrite)?;
    if file.size()? != cut {
        file.set_len(cut)?;
    }
    // Sync even when the size already matches: a redo may find the cut only in the page cache.
    file.sync_data()?;
    storage.sync_dir()?;
    Ok(())
}
