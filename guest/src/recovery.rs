//! Opening a log directory: migration of the v1 layout, the segment index, and the
//! recovery policy (cut a torn tail, report everything else).

use crate::durable::{self, Anchor, DurablePoint};
use crate::error::corrupt;
use crate::reader::FrameReader;
use crate::scan::{self, Role, SegmentScan};
use crate::segment::{V1_FILENAME, parse_segment_filename, segment_filename};
use crate::storage::{OpenMode, Storage};
use crate::truncate;
use crate::{Lsn, RecoveryReport, TailState, VerifyReport, WalConfig, WalError};

/// What the log knows about one segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegMeta {
    /// Its sequence number.
    pub seq: u32,
    /// LSN of its first frame; `None` while it is empty.
    pub first_lsn: Option<u64>,
    /// Bytes of valid frames (for sealed segments read lazily: the file's size).
    pub len: u64,
    /// The v1 single file `wal.log` seen by a read-only open, which does not rename it.
    pub v1: bool,
}

impl SegMeta {
    pub(crate) fn name(&self) -> String {
        if self.v1 {
            V1_FILENAME.into()
        } else {
            segment_filename(self.seq)
        }
    }
}

/// The state of a log after open.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// Every segment, oldest first; the last is the active one. Empty only for a
    /// read-only open of a directory without segments.
    pub segments: Vec<SegMeta>,
    /// The LSN the next append gets.
    pub next_lsn: u64,
    /// What was found at the tail.
    pub tail_state: TailState,
    /// What was cut, and the durable point relied on.
    pub report: RecoveryReport,
    /// Generation of the newest valid durable-point slot, if the sidecar holds one.
    pub durable_generation: Option<u64>,
    /// The last frame of the active segment.
    pub active_anchor: Option<Anchor>,
    /// The durable point recovery confirmed against the files.
    pub confirmed: Option<DurablePoint>,
    /// The active segment's file length: past its frames (`segments.last().len`) it holds
    /// the writer's pre-fill, kept as unwritten space.
    pub active_file_len: u64,
}

/// Opens the log in `storage`: the recovery rules of docs/FORMAT.md.
pub(crate) fn recover(storage: &dyn Storage, config: &WalConfig) -> Result<Recovered, WalError> {
    let writable = !config.read_only;
    let names = storage.list()?;
    // A reader sees what a writer would recover: the truncated log when the marker
    // matches the files, the log as it is otherwise. Only a writer changes the files.
    let mut view = None;
    if names.iter().any(|n| n == truncate::MARKER) {
        if writable {
            truncate::finish_pending(storage)?;
            return recover(storage, config);
        }
        view = truncate::pending(storage)?.map(|plan| (plan.seq, plan.cut));
    }
    let mut seqs: Vec<u32> = names
        .iter()
        .filter_map(|n| parse_segment_filename(n))
        .filter(|&seq| view.is_none_or(|(last, _)| seq <= last))
        .collect();
    seqs.sort_unstable();
    if names.iter().any(|n| n == V1_FILENAME) {
        if !seqs.is_empty() {
            return Err(corrupt(format!(
                "both {V1_FILENAME} and segment files exist in {}",
                storage.path().display()
            )));
        }
        if !writable {
            // Read it where it is: a reader changes nothing.
            return index(storage, &[1], config, None, true);
        }
        storage.rename(V1_FILENAME, &segment_filename(1))?;
        storage.sync_dir()?;
        seqs.push(1);
    }
    for pair in seqs.windows(2) {
        if pair[1] != pair[0] + 1 {
            return Err(corrupt(format!(
                "gap in segment sequence: {} followed by {}",
                segment_filename(pair[0]),
                segment_filename(pair[1])
            )));
        }
    }
    if seqs.is_empty() {
        if !writable {
            return Ok(Recovered {
                segments: Vec::new(),
                next_lsn: 1,
                tail_state: TailState::Clean,
                report: RecoveryReport::default(),
                durable_generation: None,
                active_anchor: None,
                confirmed: None,
                active_file_len: 0,
            });
        }
        storage.open(&segment_filename(1), OpenMode::CreateNew)?;
        storage.sync_dir()?;
        seqs.push(1);
    }
    index(storage, &seqs, config, view.map(|(_, cut)| cut), false)
}

/// Builds the segment index, scanning the last segment in full and the sealed ones
/// lazily (first frame only) unless `verify_on_open` asks for every frame.
/// `active_end`, when set, is where a pending truncation cuts the active segment; `v1`
/// says the only segment is the v1 file `wal.log` (read-only opens).
fn index(
    storage: &dyn Storage,
    seqs: &[u32],
    config: &WalConfig,
    active_end: Option<u64>,
    v1: bool,
) -> Result<Recovered, WalError> {
    let (&active_seq, sealed) = seqs.split_last().expect("at least one segment");
    let mut segments = Vec::with_capacity(seqs.len());
    // Last LSN of the previous segment when it was read in full, else its first LSN.
    let mut prev_last: Option<u64> = None;
    let mut prev_first: Option<u64> = None;
    // Bytes of sealed segments from the one that starts at `prev_first` on.
    let mut bytes_since_prev_first = 0u64;
    for &seq in sealed {
        let name = segment_filename(seq);
        let mut reader = FrameReader::new(storage.open(&name, OpenMode::Read)?, None)?;
        let len = reader.end();
        let first_lsn = if config.verify_on_open {
            let expect = prev_last.map(|l| l + 1);
            let scan = scan::scan_segment(&mut reader, &name, expect, Role::Sealed)?;
            prev_last = scan.last_lsn.or(prev_last);
            scan.first_lsn
        } else {
            scan::first_lsn(&mut reader, &name)?
        };
        if first_lsn.is_none() {
            // Rotation never seals an empty segment: one emptied while later segments
            // exist lost its entries, and accepting it would let LSNs be reused.
            return Err(corrupt(format!(
                "{name} is empty but later segments exist: a sealed segment always holds entries"
            )));
        }
        check_order(&name, first_lsn, prev_first)?;
        if first_lsn.is_some() {
            bytes_since_prev_first = 0;
        }
        bytes_since_prev_first += len;
        prev_first = first_lsn.or(prev_first);
        segments.push(SegMeta {
            seq,
            first_lsn,
            len,
            v1: false,
        });
    }

    let name = if v1 {
        V1_FILENAME.to_string()
    } else {
        segment_filename(active_seq)
    };
    let mut reader = FrameReader::new(storage.open(&name, OpenMode::Read)?, active_end)?;
    let expect = if config.verify_on_open {
        prev_last.map(|l| l + 1)
    } else {
        None
    };
    let sidecar = durable::read(storage)?;
    let point = confirmed_point(sidecar.map(|(_, p)| p), active_seq, &reader)?;
    let hint = match (point, prev_first) {
        (Some(p), _) if p.end == 0 => Some((p.next_lsn, p.next_lsn)),
        // Each frame takes at least a header, which bounds the LSNs that can follow.
        (_, Some(first)) => Some((
            first.saturating_add(1),
            first.saturating_add(bytes_since_prev_first / 16),
        )),
        (_, None) if active_seq == 1 => Some((1, 1)),
        _ => None,
    };
    let role = Role::Last {
        durable_end: point.map(|p| p.end),
        hint,
        prefilled_to: point.and_then(|p| p.prefilled_end()),
    };
    let size = reader.end();
    let tail = scan::scan_segment(&mut reader, &name, expect, role)?;
    drop(reader);
    check_order(&name, tail.first_lsn, prev_first)?;
    let tail_state = cut_torn_tail(storage, &name, &tail, config)?;
    let report = RecoveryReport {
        segment: tail.torn.then_some(active_seq),
        cut_at: tail.torn.then_some(tail.valid_len),
        bytes_discarded: if tail.torn { size - tail.valid_len } else { 0 },
        frames_discarded: tail.discarded_frames,
        durable_point: point.map(|p| p.end),
        durable_next_lsn: point.map(|p| Lsn(p.next_lsn)),
    };
    segments.push(SegMeta {
        seq: active_seq,
        first_lsn: tail.first_lsn,
        len: tail.valid_len,
        v1,
    });

    let next_lsn = match tail.last_lsn {
        Some(last) => last + 1,
        // No segment holds an entry: the durable point of this segment, even one whose
        // anchor was the frame just cut, still knows the next LSN (only ever raising it
        // from 1, so no entry's LSN can be reused).
        None => match last_lsn_of_sealed(storage, &segments)? {
            Some(last) => last + 1,
            None => sidecar
                .map(|(_, p)| p)
                .filter(|p| p.seq == active_seq && p.next_lsn < u64::MAX)
                .map_or(1, |p| p.next_lsn.max(1)),
        },
    };
    Ok(Recovered {
        segments,
        next_lsn,
        tail_state,
        report,
        durable_generation: sidecar.map(|(generation, _)| generation),
        active_anchor: tail.last_frame.map(|(offset, crc)| Anchor { offset, crc }),
        confirmed: point,
        active_file_len: tail.valid_len + tail.unwritten,
    })
}

/// The durable point of the sidecar, if it matches the active segment read by `reader`.
fn confirmed_point(
    point: Option<DurablePoint>,
    active_seq: u32,
    reader: &FrameReader,
) -> Result<Option<DurablePoint>, WalError> {
    let Some(point) = point else {
        return Ok(None);
    };
    Ok(point
        .confirm(active_seq, reader.end(), reader.file())?
        .then_some(point))
}

/// Fails unless a segment starting at `first` may follow one that started at `prev`.
fn check_order(name: &str, first: Option<u64>, prev: Option<u64>) -> Result<(), WalError> {
    match (first, prev) {
        (Some(first), Some(prev)) if first <= prev => Err(corrupt(format!(
            "{name}: starts at LSN {first}, not after the previous segment's first LSN {prev}"
        ))),
        _ => Ok(()),
    }
}

/// Cuts the torn tail found by `scan` (a read-only open leaves it and only reports it).
fn cut_torn_tail(
    storage: &dyn Storage,
    name: &str,
    scan: &SegmentScan,
    config: &WalConfig,
) -> Result<TailState, WalError> {
    if !scan.torn {
        return Ok(TailState::Clean);
    }
    if !config.read_only {
        let mut file = storage.open(name, OpenMode::ReadWrite)?;
        file.set_len(scan.valid_len)?;
        file.sync_data()?;
        storage.sync_dir()?;
    }
    Ok(TailState::TruncatedAt(scan.valid_len))
}

/// With an empty active segment the next LSN comes from the newest sealed segment that
/// holds entries: scan that one in full.
fn last_lsn_of_sealed(
    storage: &dyn Storage,
    segments: &[SegMeta],
) -> Result<Option<u64>, WalError> {
    let Some(seg) = segments.iter().rev().find(|s| s.first_lsn.is_some()) else {
        return Ok(None);
    };
    let name = seg.name();
    let mut reader = FrameReader::new(storage.open(&name, OpenMode::Read)?, None)?;
    Ok(scan::scan_segment(&mut reader, &name, seg.first_lsn, Role::Sealed)?.last_lsn)
}

/// Reads and checks every frame of every segment, the last one up to `segments`' length.
pub(crate) fn verify(
    storage: &dyn Storage,
    segments: &[SegMeta],
) -> Result<VerifyReport, WalError> {
    let mut report = VerifyReport {
        segments: segments.len() as u32,
        entries: 0,
        bytes: 0,
        first_lsn: None,
        last_lsn: None,
    };
    let mut expect = segments.iter().find_map(|s| s.first_lsn);
    for (i, seg) in segments.iter().enumerate() {
        let name = seg.name();
        let last = i + 1 == segments.len();
        let end = if last { Some(seg.len) } else { None };
        let mut reader = FrameReader::new(storage.open(&name, OpenMode::Read)?, end)?;
        let scan = scan::scan_segment(&mut reader, &name, expect, Role::Sealed)?;
        if seg.first_lsn.is_some() && scan.first_lsn != seg.first_lsn {
            return Err(corrupt(format!(
                "{name}: its first frame changed while the log was open"
            )));
        }
        report.entries += scan.entries;
        report.bytes += scan.valid_len;
        report.first_lsn = report.first_lsn.or(scan.first_lsn.map(Lsn));
        report.last_lsn = scan.last_lsn.map(Lsn).or(report.last_lsn);
        expect = scan.last_lsn.map(|l| l + 1).or(expect);
    }
    Ok(report)
}
