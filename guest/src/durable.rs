//! The durable point: a small sidecar file, `DURABLE`, that records where acknowledged
//! data ends in the active segment, so that recovery can tell an interrupted write (cut
//! it) from damage to acknowledged data (report it) even when a crash persisted the
//! interrupted write out of order.
//!
//! The file holds two fixed 64-byte slots; update `g` overwrites slot `g % 2` with one
//! positional write and fdatasyncs it, so a torn update leaves the other slot intact. A
//! slot names the last durable frame (the *anchor*: offset, LSN and stored CRC), which
//! ties it to the exact bytes of the log: a point whose anchor is no longer there (the log
//! was truncated, rewritten or continued by walogs 0.1.0, which ignores this file) is
//! *unconfirmed* and recovery falls back to the rules that need no durable point.
//! See docs/FORMAT.md, "The durable point".

use std::io;

use crate::frame::{HEADER_SIZE, Header};
use crate::storage::{OpenMode, Storage, StorageFile, read_full_at};

/// Name of the sidecar file (walogs 0.1.0 ignores every name but segments and `wal.log`).
pub(crate) const SIDECAR: &str = "DURABLE";

/// Bytes of one slot; the file holds two.
const SLOT_LEN: usize = 64;

/// First bytes of a slot.
const MAGIC: &[u8; 4] = b"WDP1";

/// Flag bit: the slot was written by a clean close; nothing was written past `written`.
const CLEAN: u32 = 1;

/// Flag bit: the slot names an anchor frame.
const HAS_ANCHOR: u32 = 2;

/// Data syncs between two refreshes during appends. Each refresh costs one small write
/// and one fdatasync, so this bounds the cost to about 1/128 of a durable append's sync.
pub(crate) const REFRESH_EVERY_SYNCS: u32 = 128;

/// The last durable frame of the active segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Anchor {
    /// Where the frame starts.
    pub offset: u64,
    /// Its stored CRC.
    pub crc: u32,
}

/// What one slot records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DurablePoint {
    /// The active segment's sequence number.
    pub seq: u32,
    /// Bytes of the active segment known durable (a frame boundary).
    pub end: u64,
    /// The frame ending at `end` (its LSN is `next_lsn - 1`); `None` when `end` is 0.
    pub anchor: Option<Anchor>,
    /// The LSN the frame at `end` carries (the next LSN at the time of the update).
    pub next_lsn: u64,
    /// Written by a clean close: the writer wrote nothing past `written`.
    pub clean: bool,
    /// After a clean close: bytes of the active segment the writer had written. Otherwise
    /// the end of the space the writer pre-fills (`end` when it pre-fills none): pre-fill
    /// up to here are its own unwritten space, not a torn write.
    pub written: u64,
}

impl DurablePoint {
    /// The slot bytes of this point as update number `generation`.
    fn encode(&self, generation: u64) -> [u8; SLOT_LEN] {
        let mut b = [0u8; SLOT_LEN];
        let mut flags = if self.clean { CLEAN } else { 0 };
        if self.anchor.is_some() {
            flags |= HAS_ANCHOR;
        }
        let anchor = self.anchor.unwrap_or(Anchor { offset: 0, crc: 0 });
        b[0..4].copy_from_slice(MAGIC);
        b[4..8].copy_from_slice(&flags.to_le_bytes());
        b[8..16].copy_from_slice(&generation.to_le_bytes());
        b[16..20].copy_from_slice(&self.seq.to_le_bytes());
        b[20..24].copy_from_slice(&anchor.crc.to_le_bytes());
        b[24..32].copy_from_slice(&self.end.to_le_bytes());
        b[32..40].copy_from_slice(&self.written.to_le_bytes());
        b[40..48].copy_from_slice(&anchor.offset.to_le_bytes());
        b[48..56].copy_from_slice(&self.next_lsn.to_le_bytes());
        let crc = crc32fast::hash(&b[..60]);
        b[60..64].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// The point and generation in a slot, or `None` for a slot that is torn, empty or
    /// not a slot at all.
    fn decode(b: &[u8]) -> Option<(u64, DurablePoint)> {
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if b.len() != SLOT_LEN || &b[0..4] != MAGIC || crc32fast::hash(&b[..60]) != u32_at(60) {
            return None;
        }
        let flags = u32_at(4);
        let point = DurablePoint {
            seq: u32_at(16),
            end: u64_at(24),
            anchor: (flags & HAS_ANCHOR != 0).then(|| Anchor {
                offset: u64_at(40),
                crc: u32_at(20),
            }),
            next_lsn: u64_at(48),
            clean: flags & CLEAN != 0,
            written: u64_at(32),
        };
        Some((u64_at(8), point))
    }

    /// Where the writer's pre-fill ends, for a point that is not a clean close.
    pub(crate) fn prefilled_end(&self) -> Option<u64> {
        (!self.clean).then_some(self.written)
    }

    /// Whether this point describes the active segment `seq` of `size` bytes read
    /// through `file`: same segment, the anchor frame intact where it was, and (after a
    /// clean close) nothing written since. Only a confirmed point may decide what damage
    /// means; any mismatch means someone else (or an older state) wrote the files.
    pub(crate) fn confirm(&self, seq: u32, size: u64, file: &dyn StorageFile) -> io::Result<bool> {
        if self.seq != seq || self.end > size || (self.clean && size > self.written) {
            return Ok(false);
        }
        if self.next_lsn == 0 {
            return Ok(false);
        }
        let Some(anchor) = self.anchor else {
            return Ok(self.end == 0);
        };
        let mut head = [0u8; HEADER_SIZE];
        if anchor
            .offset
            .checked_add(HEADER_SIZE as u64)
            .is_none_or(|e| e > self.end)
            || read_full_at(file, &mut head, anchor.offset)? != HEADER_SIZE
        {
            return Ok(false);
        }
        let header = Header::parse(&head);
        if header.lsn != self.next_lsn - 1
            || header.crc != anchor.crc
            || anchor.offset + header.frame_len() != self.end
        {
            return Ok(false);
        }
        let mut body = vec![0u8; header.len as usize];
        let n = read_full_at(file, &mut body, anchor.offset + HEADER_SIZE as u64)?;
        Ok(n == body.len() && header.matches(&body))
    }
}

/// The newest valid slot of the sidecar in `storage`, if there is one.
pub(crate) fn read(storage: &dyn Storage) -> io::Result<Option<(u64, DurablePoint)>> {
    if cfg!(walogs_mutant = "ignore-durable-point") {
        return Ok(None); // A test-only mutant for the crash explorer.
    }
    let file = match storage.open(SIDECAR, OpenMode::Read) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = [0u8; 2 * SLOT_LEN];
    let n = read_full_at(file.as_ref(), &mut bytes, 0)?;
    let slots = bytes[..n].chunks(SLOT_LEN).filter_map(DurablePoint::decode);
    Ok(slots.max_by_key(|&(generation, _)| generation))
}

/// The writer's handle on the sidecar.
#[derive(Debug)]
pub(crate) struct Sidecar {
    file: Box<dyn StorageFile>,
    /// The generation of the last update written.
    generation: u64,
}

impl Sidecar {
    /// Opens the sidecar for updates, creating it (and syncing the directory) if missing.
    /// `generation` is the newest valid slot's, when one was read.
    pub(crate) fn open(storage: &dyn Storage, generation: Option<u64>) -> io::Result<Self> {
        let file = match storage.open(SIDECAR, OpenMode::ReadWrite) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let file = storage.open(SIDECAR, OpenMode::CreateNew)?;
                storage.sync_dir()?;
                file
            }
            Err(e) => return Err(e),
        };
        Ok(Sidecar {
            file,
            generation: generation.unwrap_or(0),
        })
    }

    /// Records `point` durably: one positional write into the older slot, one fdatasync.
    /// The caller has made everything up to `point.end` durable first.
    pub(crate) fn update(&mut self, point: &DurablePoint) -> io::Result<()> {
        let generation = self.generation + 1;
        let slot = (generation % 2) * SLOT_LEN as u64;
        self.file.write_all_at(&point.encode(generation), slot)?;
        self.file.sync_data()?;
        self.generation = generation;
        Ok(())
    }
}

/// The active segment as a writable open found it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActiveSegment {
    /// Its sequence number.
    pub seq: u32,
    /// Bytes of frames.
    pub len: u64,
    /// Its last frame.
    pub anchor: Option<Anchor>,
    /// The LSN the next frame gets.
    pub next_lsn: u64,
    /// The file's length: past `len` it holds the writer's pre-fill.
    pub file_len: u64,
}

/// The writer's view of what is durable, and the sidecar it keeps up to date.
#[derive(Debug)]
pub(crate) struct Tracker {
    sidecar: Sidecar,
    /// The last frame written to the active segment (durable or not).
    written_anchor: Option<Anchor>,
    /// The durable end of the active segment, its anchor, and the LSN that follows.
    durable: (u64, Option<Anchor>, u64),
    /// The last point recorded, to skip updates that would change nothing.
    recorded: Option<DurablePoint>,
    /// Where the pre-fill of the active segment ends (0: none).
    prefilled: u64,
    /// Data syncs since the last update.
    syncs_since: u32,
}

impl Tracker {
    /// Starts tracking after a writable open that found `active` (all of it durable).
    /// Records that point, unless `confirmed` (what recovery found) is already the clean
    /// record of exactly this state: then an open that writes nothing changes no file.
    pub(crate) fn open(
        storage: &dyn Storage,
        generation: Option<u64>,
        confirmed: Option<DurablePoint>,
        active: ActiveSegment,
    ) -> io::Result<Self> {
        let ActiveSegment {
            seq,
            len,
            anchor,
            next_lsn,
            file_len,
        } = active;
        let mut tracker = Tracker {
            sidecar: Sidecar::open(storage, generation)?,
            written_anchor: anchor,
            durable: (len, anchor, next_lsn),
            recorded: None,
            prefilled: file_len,
            syncs_since: 0,
        };
        let clean_now = DurablePoint {
            seq,
            end: len,
            anchor,
            next_lsn,
            clean: true,
            written: len,
        };
        if confirmed == Some(clean_now) {
            tracker.recorded = confirmed;
        } else {
            tracker.record(seq, false, len)?;
        }
        Ok(tracker)
    }

    /// Called before every write to the active segment `seq`: a clean-close record must
    /// not outlive the first write past it, or a crash would leave bytes it disowns.
    pub(crate) fn before_write(&mut self, seq: u32) -> io::Result<()> {
        match self.recorded {
            Some(point) if point.clean => self.record(seq, false, point.end),
            _ => Ok(()),
        }
    }

    /// Notes that the frame `anchor` was written at the end of the active segment.
    pub(crate) fn wrote(&mut self, anchor: Anchor) {
        self.written_anchor = Some(anchor);
    }

    /// Notes a successful data sync of the active segment `seq` (`len` bytes, next LSN
    /// `next_lsn`), and records it every [`REFRESH_EVERY_SYNCS`] syncs.
    pub(crate) fn synced(&mut self, seq: u32, len: u64, next_lsn: u64) -> io::Result<()> {
        self.durable = (len, self.written_anchor, next_lsn);
        self.syncs_since += 1;
        if self.syncs_since >= REFRESH_EVERY_SYNCS {
            self.record(seq, false, len)?;
        }
        Ok(())
    }

    /// Notes that segment `seq` was created (empty, durable) and records it.
    pub(crate) fn rotated(&mut self, seq: u32, next_lsn: u64) -> io::Result<()> {
        self.written_anchor = None;
        self.durable = (0, None, next_lsn);
        self.prefilled = 0;
        self.record(seq, false, 0)
    }

    /// Records, before the pre-fill is written, that the active segment `seq` is about to
    /// be pre-filled up to `to`, so that a
    /// crash at any point of the filling leaves a pre-fill recovery knows as unwritten space.
    pub(crate) fn prefilling(&mut self, seq: u32, to: u64) -> io::Result<()> {
        self.prefilled = to;
        self.record(seq, false, 0)
    }

    /// Records the durable point of the active segment `seq`; with `clean`, also that the
    /// writer is done and wrote `written` bytes of it.
    pub(crate) fn record(&mut self, seq: u32, clean: bool, written: u64) -> io::Result<()> {
        let (end, anchor, next_lsn) = self.durable;
        let point = DurablePoint {
            seq,
            end,
            anchor,
            next_lsn,
            clean,
            written: if clean {
                written
            } else {
                end.max(self.prefilled)
            },
        };
        self.syncs_since = 0;
        if self.recorded == Some(point) {
            return Ok(());
        }
        self.sidecar.update(&point)?;
        self.recorded = Some(point);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point() -> DurablePoint {
        DurablePoint {
            seq: 3,
            end: 4096,
            anchor: Some(Anchor {
                offset: 4000,
                crc: 0xDEAD_BEEF,
            }),
            next_lsn: 77,
            clean: true,
            written: 5000,
        }
    }

    #[test]
    fn a_slot_round_trips() {
        let bytes = point().encode(9);
        assert_eq!(DurablePoint::decode(&bytes), Some((9, point())));
    }

    #[test]
    fn any_flipped_bit_makes_a_slot_invalid() {
        let bytes = point().encode(9);
        for i in 0..SLOT_LEN * 8 {
            let mut bad = bytes;
            bad[i / 8] ^= 1 << (i % 8);
            assert_eq!(DurablePoint::decode(&bad), None, "bit {i}");
        }
        assert_eq!(DurablePoint::decode(&bytes[..SLOT_LEN - 1]), None);
        assert_eq!(DurablePoint::decode(&[0u8; SLOT_LEN]), None);
    }
}
