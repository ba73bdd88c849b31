//! Explicit repair of a log that opens with `Corrupt`: find the first damage, move every
//! byte from there on into a quarantine file inside the directory, and cut the log there.
//!
//! Nothing is ever deleted that is not first durable in the quarantine file, and the steps
//! are ordered so that a crash at any point leaves either the damaged log (repair can run
//! again) or the repaired one: (1) write the quarantine file, fdatasync it, sync the
//! directory; (2) delete the segments after the damaged one, newest first, syncing the
//! directory after each (the log is still damaged until the last step); (3) cut the
//! damaged segment at the damage, fdatasync, sync the directory.

use std::io;

use crate::error::corrupt;
use crate::prealloc::is_prefill;
use crate::reader::{FrameReader, Next, find_valid_frame, search_bounds};
use crate::segment::{V1_FILENAME, parse_segment_filename, segment_filename};
use crate::storage::{OpenMode, Storage, read_full_at};
use crate::{Lsn, WalError};

/// How [`crate::Wal::repair_with`] runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairOptions {
    /// Find and report the damage, change nothing.
    pub dry_run: bool,
}

impl RepairOptions {
    /// Options for a dry run: report only.
    pub fn dry_run() -> Self {
        RepairOptions { dry_run: true }
    }
}

/// Where a log is damaged: the first byte the log cannot vouch for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Damage {
    /// The damaged segment's sequence number (`wal-NNNNNN.log`).
    pub segment: u32,
    /// The offset in that segment where the intact prefix ends.
    pub offset: u64,
    /// What was found there.
    pub reason: String,
}

impl Damage {
    /// Damage at `offset` of segment `segment` (for hosts that carry it across a boundary).
    pub fn new(segment: u32, offset: u64, reason: impl Into<String>) -> Self {
        Damage {
            segment,
            offset,
            reason: reason.into(),
        }
    }
}

/// What [`crate::Wal::repair`] found and did. The default is a report of no damage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairReport {
    /// The first damage, or `None` for a log with nothing to repair (then nothing changed).
    pub damage: Option<Damage>,
    /// The last LSN of the intact prefix that is kept (`None`: no entry is kept).
    pub kept_up_to: Option<Lsn>,
    /// CRC-valid frames among the removed bytes (entries that were cut away).
    pub entries_removed: u64,
    /// Bytes removed from the log (all of them are in the quarantine file).
    pub bytes_removed: u64,
    /// The quarantine file in the log's directory holding every removed byte; `None` for a
    /// dry run or when nothing was removed.
    pub quarantine: Option<String>,
    /// Whether the files were changed (false for a dry run).
    pub applied: bool,
}

/// Prefix of quarantine file names. No open, 0.1.0's or this engine's, reads such a file,
/// and nothing ever deletes one.
pub(crate) const QUARANTINE_PREFIX: &str = "quarantine-";

/// First bytes of each record in a quarantine file.
const RECORD_MAGIC: &[u8; 4] = b"WQR1";

/// One segment file of the log, in order.
#[derive(Debug)]
struct Seg {
    seq: u32,
    size: u64,
}

/// Finds the first damage of the log in `storage`, walking every frame of every segment
/// with LSN continuity, and (when `count`) what cutting there removes.
fn survey(storage: &dyn Storage, count: bool) -> Result<(Vec<Seg>, RepairReport), WalError> {
    let names = storage.list()?;
    if names.iter().any(|n| n == V1_FILENAME) {
        return Err(corrupt(format!(
            "{}: repair does not handle the v1 file {V1_FILENAME}; open the log for writing to migrate it first",
            storage.path().display()
        )));
    }
    let mut seqs: Vec<u32> = names
        .iter()
        .filter_map(|n| parse_segment_filename(n))
        .collect();
    seqs.sort_unstable();
    let mut segs = Vec::with_capacity(seqs.len());
    for &seq in &seqs {
        let size = storage
            .open(&segment_filename(seq), OpenMode::Read)?
            .size()?;
        segs.push(Seg { seq, size });
    }
    let mut report = RepairReport::default();
    let mut expect: Option<u64> = None;
    for (i, seg) in segs.iter().enumerate() {
        let name = segment_filename(seg.seq);
        let damage = |offset, reason: String| Damage {
            segment: seg.seq,
            offset,
            reason: format!("{name}: {reason}"),
        };
        let found = if i > 0 && seg.seq != segs[i - 1].seq + 1 {
            Some(damage(
                0,
                format!("follows {} (a gap)", segment_filename(segs[i - 1].seq)),
            ))
        } else if seg.size == 0 && i + 1 < segs.len() {
            Some(damage(0, "empty, but later segments exist".into()))
        } else {
            first_bad_frame(storage, &name, &mut expect, i + 1 == segs.len())?
                .map(|(offset, reason)| damage(offset, reason))
        };
        if let Some(found) = found {
            report.kept_up_to = expect
                .and_then(|e| e.checked_sub(1))
                .filter(|&l| l > 0)
                .map(Lsn);
            if count {
                count_removed(storage, &segs[i..], &found, expect, &mut report)?;
            }
            report.damage = Some(found);
            break;
        }
    }
    if report.damage.is_none() {
        report.kept_up_to = expect
            .and_then(|e| e.checked_sub(1))
            .filter(|&l| l > 0)
            .map(Lsn);
    }
    Ok((segs, report))
}

/// The offset and description of the first frame of segment `name` that does not decode
/// or breaks LSN continuity; `expect` carries the next LSN across segments. In the `last`
/// segment, pre-fill from the end of the last frame to the end of the file is a writer's
/// unwritten space (docs/FORMAT.md, "Pre-allocation"), not damage: they hold
/// nothing to keep, and an open leaves them or cuts them.
fn first_bad_frame(
    storage: &dyn Storage,
    name: &str,
    expect: &mut Option<u64>,
    last: bool,
) -> Result<Option<(u64, String)>, WalError> {
    let mut reader = FrameReader::new(storage.open(name, OpenMode::Read)?, None)?;
    loop {
        match reader.next_frame()? {
            Next::Frame { lsn, offset, .. } => {
                let wanted = expect.unwrap_or(lsn.max(1));
                if lsn != wanted || lsn == u64::MAX {
                    return Ok(Some((
                        offset,
                        format!("LSN {lsn} at offset {offset}, expected {wanted}"),
                    )));
                }
                *expect = Some(lsn + 1);
            }
            Next::End => return Ok(None),
            Next::Bad { offset, kind } => {
                if last && is_prefill(reader.file(), offset, reader.end())? {
                    return Ok(None);
                }
                return Ok(Some((
                    offset,
                    format!("{} at offset {offset}", kind.describe()),
                )));
            }
        }
    }
}

/// Adds the bytes and the CRC-valid frames from `damage` on (in `segs[0]`, then every
/// later segment) to `report`.
fn count_removed(
    storage: &dyn Storage,
    segs: &[Seg],
    damage: &Damage,
    expect: Option<u64>,
    report: &mut RepairReport,
) -> Result<(), WalError> {
    let total: u64 = segs.iter().map(|s| s.size).sum::<u64>() - damage.offset;
    // Frames that could belong to the log carry LSNs from the expected one on, at most
    // one more per header that fits in the removed bytes.
    let lo = expect.unwrap_or(1);
    let lsns = search_bounds(Some(lo), None, 0, total);
    for (i, seg) in segs.iter().enumerate() {
        let from = if i == 0 { damage.offset } else { 0 };
        report.bytes_removed += seg.size - from;
        let file = storage.open(&segment_filename(seg.seq), OpenMode::Read)?;
        let mut reader = FrameReader::new(file, None)?;
        let mut at = from;
        while let Some((found, _)) = find_valid_frame(reader.file(), at, seg.size, lsns)? {
            reader.seek(found);
            while let Next::Frame { .. } = reader.next_frame()? {
                report.entries_removed += 1;
            }
            at = reader.position() + 1;
        }
    }
    Ok(())
}

/// A quarantine file name not yet used in `storage`.
fn quarantine_name(storage: &dyn Storage) -> io::Result<String> {
    let names = storage.list()?;
    let n = (1..)
        .find(|n| !names.contains(&format!("{QUARANTINE_PREFIX}{n:06}.bin")))
        .expect("a free number");
    Ok(format!("{QUARANTINE_PREFIX}{n:06}.bin"))
}

/// Writes every removed byte into a new quarantine file, durably. Each record is
/// "WQR1", the segment name's length (u16 LE) and name, the offset the bytes came from
/// (u64 LE), their count (u64 LE), and the bytes.
fn write_quarantine(
    storage: &dyn Storage,
    segs: &[Seg],
    damage: &Damage,
) -> Result<String, WalError> {
    let name = quarantine_name(storage)?;
    let mut out = storage.open(&name, OpenMode::CreateNew)?;
    let mut pos = 0u64;
    for (i, seg) in segs.iter().enumerate() {
        let from = if i == 0 { damage.offset } else { 0 };
        let seg_name = segment_filename(seg.seq);
        let mut header = RECORD_MAGIC.to_vec();
        header.extend_from_slice(&(seg_name.len() as u16).to_le_bytes());
        header.extend_from_slice(seg_name.as_bytes());
        header.extend_from_slice(&from.to_le_bytes());
        header.extend_from_slice(&(seg.size - from).to_le_bytes());
        out.write_all_at(&header, pos)?;
        pos += header.len() as u64;
        let file = storage.open(&seg_name, OpenMode::Read)?;
        let mut buf = vec![0u8; 1 << 20];
        let mut at = from;
        while at < seg.size {
            let want = buf.len().min((seg.size - at) as usize);
            let got = read_full_at(file.as_ref(), &mut buf[..want], at)?;
            if got < want {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{seg_name} shrank during repair"),
                )
                .into());
            }
            out.write_all_at(&buf[..got], pos)?;
            pos += got as u64;
            at += got as u64;
        }
    }
    out.sync_data()?;
    storage.sync_dir()?;
    Ok(name)
}

/// Finds the damage and, unless `dry_run`, quarantines and cuts it (see the module docs).
pub(crate) fn repair(storage: &dyn Storage, dry_run: bool) -> Result<RepairReport, WalError> {
    let (segs, mut report) = survey(storage, true)?;
    let Some(damage) = report.damage.clone() else {
        return Ok(report);
    };
    if dry_run {
        return Ok(report);
    }
    let at = segs
        .iter()
        .position(|s| s.seq == damage.segment)
        .expect("the damaged segment is listed");
    let removed = &segs[at..];
    if report.bytes_removed > 0 {
        report.quarantine = Some(write_quarantine(storage, removed, &damage)?);
    }
    for seg in removed[1..].iter().rev() {
        storage.remove(&segment_filename(seg.seq))?;
        storage.sync_dir()?;
    }
    let name = segment_filename(damage.segment);
    if damage.offset == 0 && at > 0 {
        // Nothing of it is kept: remove it too (after a gap, an empty file would still
        // leave the gap), and the previous segment, complete, becomes the active one.
        storage.remove(&name)?;
    } else {
        let mut file = storage.open(&name, OpenMode::ReadWrite)?;
        file.set_len(damage.offset)?;
        file.sync_data()?;
    }
    storage.sync_dir()?;
    report.applied = true;
    Ok(report)
}

impl crate::Wal {
    /// Repairs a log that [`crate::Wal::open`] refuses with [`WalError::Corrupt`]: cuts it
    /// at the first damage and moves every byte from there on (the rest of that segment and
    /// every later segment) into a new `quarantine-NNNNNN.bin` file in the directory,
    /// which nothing ever deletes or reads. Returns what was found and removed; a log with
    /// no damage is left as it is. A crash during repair leaves the damaged log or the
    /// repaired one, and loses no byte. Takes the directory's write lock.
    ///
    /// ```
    /// use walogs::{Lsn, Wal, WalError};
    /// # let dir = tempfile::tempdir()?;
    /// let mut wal = Wal::open(dir.path())?;
    /// for i in 0..5u8 { wal.append(&[i; 100])?; }
    /// drop(wal);
    /// let seg = dir.path().join("wal-000001.log");
    /// let mut bytes = std::fs::read(&seg)?;
    /// bytes[116 * 2 + 40] ^= 1; // a bit flip in entry 3
    /// std::fs::write(&seg, bytes)?;
    /// assert!(matches!(Wal::open(dir.path()), Err(WalError::Corrupt { .. })));
    ///
    /// let report = Wal::repair(dir.path())?;
    /// assert_eq!(report.kept_up_to, Some(Lsn(2)));
    /// assert_eq!((report.entries_removed, report.bytes_removed), (2, 3 * 116));
    /// assert_eq!(Wal::open(dir.path())?.next_lsn(), Lsn(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn repair(dir: &std::path::Path) -> Result<RepairReport, WalError> {
        Self::repair_with(dir, RepairOptions::default())
    }

    /// [`crate::Wal::repair`] with options: [`RepairOptions::dry_run`] reports what a
    /// repair would remove and changes nothing (it takes no lock).
    pub fn repair_with(
        dir: &std::path::Path,
        options: RepairOptions,
    ) -> Result<RepairReport, WalError> {
        let storage = crate::storage::open_dir(dir, options.dry_run)?;
        Self::repair_storage(storage, options)
    }

    /// [`crate::Wal::repair_with`] on a custom file layer.
    pub fn repair_storage(
        storage: std::sync::Arc<dyn Storage>,
        options: RepairOptions,
    ) -> Result<RepairReport, WalError> {
        if !options.dry_run && storage.list()?.iter().any(|n| n == crate::truncate::MARKER) {
            crate::truncate::finish_pending(storage.as_ref())?;
        }
        let report = repair(storage.as_ref(), options.dry_run)?;
        if report.applied {
            // Open once: recovery must now accept the log, and it records a fresh
            // durable point.
            let config = crate::WalConfig::default();
            let opened = crate::Wal::open_with_storage(storage, config)?;
            drop(opened);
        }
        Ok(report)
    }

    /// The first damage of the log in `dir`, as [`crate::Wal::repair_with`] with
    /// [`RepairOptions::dry_run`] reports it but without counting what a repair would
    /// remove: `None` when every frame of every segment is intact (a torn tail that an
    /// open would cut counts as damage). Changes nothing and takes no lock; tools use it
    /// to show the intact prefix of a log that [`crate::Wal::open`] refuses.
    pub fn find_damage(dir: &std::path::Path) -> Result<Option<Damage>, WalError> {
        let storage = crate::storage::open_dir(dir, true)?;
        Ok(survey(storage.as_ref(), false)?.1.damage)
    }

    /// Reads a log without recovery's checks, for tools that show what a damaged log
    /// still holds: yields every entry of the intact prefix, then one
    /// `Err(WalError::Corrupt)` whose text names the segment and the offset of the damage
    /// (a torn tail that an open would cut shows as damage too). Changes nothing and takes
    /// no lock. [`crate::Wal::repair_with`] with [`RepairOptions::dry_run`] describes the
    /// same damage as a [`Damage`].
    pub fn read_up_to_damage(dir: &std::path::Path) -> Result<crate::WalIter, WalError> {
        let storage = crate::storage::open_dir(dir, true)?;
        let names = storage.list()?;
        let mut seqs: Vec<u32> = names
            .iter()
            .filter_map(|n| parse_segment_filename(n))
            .collect();
        seqs.sort_unstable();
        let mut plan: std::collections::VecDeque<(String, Option<u64>)> = seqs
            .into_iter()
            .map(|s| (segment_filename(s), None))
            .collect();
        if plan.is_empty() && names.iter().any(|n| n == V1_FILENAME) {
            plan.push_back((V1_FILENAME.to_string(), None));
        }
        Ok(crate::WalIter::new(
            storage,
            plan,
            None,
            0,
            Default::default(),
        ))
    }
}
