//! The log handle: appends, rotation, checkpoint, truncation; the read side's entry
//! points are in `read`. Recovery lives in `recovery`, frame coding in `frame`, file
//! access in `storage`.

mod read;

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::durable::{ActiveSegment, Anchor, Tracker};
use crate::frame::{self, check_size, encode_into};
use crate::prealloc;
use crate::recovery::{self, SegMeta};
use crate::segment::MAX_SEGMENT_SEQ;
use crate::storage::{OpenMode, Storage, StorageFile};
use crate::truncate;
use crate::{Durability, Lsn, LsnRange, RecoveryReport, TailState, WalConfig, WalError};

/// A handle to a multi-segment WAL directory.
///
/// A writable handle is the directory's single writer: it holds an exclusive lock on the
/// directory's `LOCK` file until it is dropped. A second writer gets [`WalError::Locked`].
#[derive(Debug)]
pub struct Wal {
    storage: Arc<dyn Storage>,
    config: WalConfig,
    /// Every segment, oldest first; the last one is the active segment.
    segments: Vec<SegMeta>,
    /// Write handle of the active segment (`None` when read-only).
    active: Option<Box<dyn StorageFile>>,
    /// The active segment's file length: past its frames it holds the pre-fill.
    active_file_len: u64,
    next_lsn: u64,
    durable_lsn: u64,
    tail_state: TailState,
    /// Set by the first failed write or sync; every later call fails until reopen.
    poisoned: Option<String>,
    /// Reused encoding buffer: one write call per append or batch chunk.
    scratch: Vec<u8>,
    /// Where the last frame encoded in `scratch` starts.
    scratch_last: usize,
    /// What the most recent open cut, and the durable point it relied on.
    report: RecoveryReport,
    /// The durable point and its sidecar (`None` when read-only).
    durable: Option<Tracker>,
    /// The LSN each `truncate_after` kept, shared with live iterators (see [`crate::WalIter`]).
    truncations: Arc<Mutex<Vec<u64>>>,
}

impl Wal {
    /// Opens (or creates) the log in `dir` with the default [`WalConfig`].
    ///
    /// A torn tail in the last segment is truncated ([`Wal::tail_state`] says where);
    /// any other damage is a [`WalError::Corrupt`] and the files are left untouched.
    /// A v1 single-file `wal.log` is renamed to `wal-000001.log`.
    pub fn open(dir: &Path) -> Result<Self, WalError> {
        Self::open_with_config(dir, WalConfig::default())
    }

    /// Opens (or creates) the log in `dir` with `config`.
    pub fn open_with_config(dir: &Path, config: WalConfig) -> Result<Self, WalError> {
        let storage = crate::storage::open_dir(dir, config.read_only)?;
        Self::open_with_storage(storage, config)
    }

    /// Opens the log kept in `storage`: a custom file layer, e.g. one that injects faults.
    /// The storage is expected to be exclusively this handle's for writing.
    pub fn open_with_storage(
        storage: Arc<dyn Storage>,
        config: WalConfig,
    ) -> Result<Self, WalError> {
        let recovered = recovery::recover(storage.as_ref(), &config)?;
        let (active, durable) = match recovered.segments.last() {
            Some(seg) if !config.read_only => {
                let mut file = storage.open(&seg.name(), OpenMode::ReadWrite)?;
                // What recovery found may sit only in the page cache: make it durable,
                // so that durable_lsn is true from the start.
                file.sync_data()?;
                let tracker = Tracker::open(
                    storage.as_ref(),
                    recovered.durable_generation,
                    recovered.confirmed,
                    ActiveSegment {
                        seq: seg.seq,
                        len: seg.len,
                        anchor: recovered.active_anchor,
                        next_lsn: recovered.next_lsn,
                        file_len: recovered.active_file_len,
                    },
                )?;
                (Some(file), Some(tracker))
            }
            _ => (None, None),
        };
        Ok(Wal {
            storage,
            config,
            segments: recovered.segments,
            active,
            active_file_len: recovered.active_file_len,
            next_lsn: recovered.next_lsn,
            durable_lsn: recovered.next_lsn - 1,
            tail_state: recovered.tail_state,
            poisoned: None,
            scratch: Vec::new(),
            scratch_last: 0,
            report: recovered.report,
            durable,
            truncations: Arc::default(),
        })
    }

    /// Appends one entry and returns its LSN.
    ///
    /// Under [`Durability::Always`] the entry has been fdatasync'd when this returns `Ok`.
    /// If the active segment would grow past `max_segment_size`, it is rotated first.
    #[must_use = "check Ok/Err and use the returned Lsn"]
    pub fn append(&mut self, data: &[u8]) -> Result<Lsn, WalError> {
        Ok(self.append_batch(&[data])?.start)
    }

    /// Appends `entries` with one write call and (under [`Durability::Always`]) one
    /// fdatasync per segment the batch touches, and returns their LSNs.
    ///
    /// Sizes are checked first: an oversize entry fails the whole batch before anything
    /// is written. A batch that would push the active segment past `max_segment_size`
    /// fills it up to the limit, rotates, and continues in the new segment. After a crash
    /// in the middle, recovery keeps a prefix of the batch (possibly none of it), never a
    /// hole: parts a crash persisted out of order are cut at the first missing byte.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut wal = walogs::Wal::open(dir.path())?;
    /// let lsns = wal.append_batch(&[&b"debit 10"[..], b"credit 10"])?;
    /// assert_eq!((lsns.start.0, lsns.end.0, lsns.len()), (1, 3, 2));
    /// # Ok::<(), walogs::WalError>(())
    /// ```
    pub fn append_batch<T: AsRef<[u8]>>(&mut self, entries: &[T]) -> Result<LsnRange, WalError> {
        self.check_writable()?;
        for entry in entries {
            check_size(entry.as_ref())?;
        }
        if self.next_lsn.checked_add(entries.len() as u64).is_none() {
            // The last LSN, u64::MAX, is never assigned: nothing could follow it.
            let msg = format!("the LSN space is exhausted (next LSN {})", self.next_lsn);
            return Err(WalError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                msg,
            )));
        }
        let start = self.next_lsn;
        self.scratch.clear();
        let mut pending = 0u64;
        for entry in entries {
            let data = entry.as_ref();
            if self.must_rotate_before(frame::frame_len(data.len())) {
                self.write_scratch(pending)?;
                pending = 0;
                self.seal_and_start_next()?;
            }
            self.scratch_last = self.scratch.len();
            encode_into(&mut self.scratch, self.next_lsn + pending, data);
            pending += 1;
        }
        self.write_scratch(pending)?;
        if pending > 0 && self.config.durability == Durability::Always {
            self.sync_active()?;
        }
        Ok(LsnRange {
            start: Lsn(start),
            end: Lsn(self.next_lsn),
        })
    }

    /// Makes everything appended so far durable and returns the durable LSN
    /// (`Lsn(0)` for an empty log). A failure poisons the handle.
    ///
    /// ```
    /// use walogs::{Durability, Lsn, Wal, WalConfig};
    /// # let dir = tempfile::tempdir()?;
    /// let config = WalConfig { durability: Durability::Explicit, ..WalConfig::default() };
    /// let mut wal = Wal::open_with_config(dir.path(), config)?;
    /// wal.append(b"a")?;
    /// wal.append(b"b")?;
    /// assert_eq!(wal.durable_lsn(), Lsn(0)); // written, not yet synced
    /// assert_eq!(wal.sync()?, Lsn(2));
    /// # Ok::<(), walogs::WalError>(())
    /// ```
    pub fn sync(&mut self) -> Result<Lsn, WalError> {
        self.check_writable()?;
        self.sync_active()?;
        Ok(Lsn(self.durable_lsn))
    }

    /// The highest LSN known to be durable (`Lsn(0)` when none is).
    pub fn durable_lsn(&self) -> Lsn {
        Lsn(self.durable_lsn)
    }

    /// Seals the active segment (fdatasync) and starts a new one. No-op when the active
    /// segment holds no entry.
    pub fn rotate(&mut self) -> Result<(), WalError> {
        self.check_writable()?;
        if self.active_meta().len == 0 {
            return Ok(());
        }
        self.seal_and_start_next()
    }

    /// Deletes sealed segments whose entries all have `lsn <= applied_up_to`, oldest first
    /// with a directory sync after each, and returns how many were deleted.
    ///
    /// The active segment is never deleted, and neither is the newest segment holding
    /// entries while every later segment is empty: it carries the next LSN across a
    /// reopen, so LSNs are never reused.
    #[must_use = "check Ok/Err; segment deletion errors leave WAL in a partial state"]
    ///
    /// ```
    /// use walogs::{Lsn, Wal};
    /// # let dir = tempfile::tempdir()?;
    /// let mut wal = Wal::open(dir.path())?;
    /// wal.append_batch(&[b"1", b"2", b"3"])?;
    /// wal.rotate()?;
    /// wal.append(b"4")?;
    /// assert_eq!(wal.checkpoint(Lsn(3))?, 1); // segment 1 (LSNs 1..=3) is gone
    /// assert_eq!(wal.first_lsn(), Some(Lsn(4)));
    /// # Ok::<(), walogs::WalError>(())
    /// ```
    pub fn checkpoint(&mut self, applied_up_to: Lsn) -> Result<usize, WalError> {
        self.check_writable()?;
        // The anchor rule below trusts the entries of later segments: make them durable
        // before deleting what they replace.
        self.sync_if_behind()?;
        let mut deleted = 0;
        while self.segments.len() > 1 {
            let anchored = self.segments[1..].iter().any(|s| s.first_lsn.is_some());
            if !anchored || self.last_lsn_of(0) > applied_up_to.0 {
                break;
            }
            let name = self.segments[0].name();
            let removed = self
                .storage
                .remove(&name)
                .and_then(|()| self.storage.sync_dir());
            self.poison_on_error(removed)?;
            self.segments.remove(0);
            deleted += 1;
        }
        self.record_durable_point(false)?;
        Ok(deleted)
    }

    /// Removes every entry with an LSN greater than `lsn` (what a Raft follower does with a
    /// conflicting suffix); the next append gets `lsn + 1`.
    ///
    /// `lsn` must be an LSN the log holds ([`WalError::LsnOutOfRange`] otherwise). Later
    /// segments are deleted and the segment holding `lsn` is cut, behind a durable redo
    /// marker, so a crash at any point leaves either the old or the new log.
    ///
    /// ```
    /// use walogs::{Lsn, Wal};
    /// # let dir = tempfile::tempdir()?;
    /// let mut wal = Wal::open(dir.path())?;
    /// wal.append_batch(&[&b"term 1"[..], b"term 1", b"term 2 (conflicting)"])?;
    /// wal.truncate_after(Lsn(2))?;
    /// assert_eq!(wal.append(b"term 3")?, Lsn(3));
    /// # Ok::<(), walogs::WalError>(())
    /// ```
    pub fn truncate_after(&mut self, lsn: Lsn) -> Result<(), WalError> {
        self.check_writable()?;
        let last = self.next_lsn - 1;
        match self.first_lsn() {
            Some(first) if (first.0..=last).contains(&lsn.0) => {}
            None if lsn.0 == last => return Ok(()),
            _ => return Err(self.out_of_range(lsn)),
        }
        if lsn.0 == last {
            return Ok(());
        }
        // The cut must land on durable frames, or a power loss could leave neither log.
        // The marker records the files' sizes: cut the pre-filled space off first.
        self.sync_if_behind()?;
        if self.trim_active()? {
            self.sync_active()?;
        }
        self.active = None;
        let storage = Arc::clone(&self.storage);
        let result = truncate::write_marker(storage.as_ref(), lsn.0)
            .and_then(|()| truncate::finish_pending(storage.as_ref()))
            .and_then(|()| Wal::open_with_storage(Arc::clone(&storage), self.config.clone()));
        match result {
            Ok(reopened) => {
                let tail_state = self.tail_state;
                let report = std::mem::take(&mut self.report);
                let truncations = Arc::clone(&self.truncations);
                if let Ok(mut kept) = truncations.lock() {
                    kept.push(lsn.0);
                }
                *self = reopened;
                self.tail_state = tail_state;
                self.report = report;
                self.truncations = truncations;
                Ok(())
            }
            Err(e) => {
                self.poisoned = Some(e.to_string());
                Err(e)
            }
        }
    }

    fn check_writable(&self) -> Result<(), WalError> {
        if self.config.read_only {
            return Err(WalError::ReadOnly);
        }
        match &self.poisoned {
            Some(cause) => Err(WalError::Poisoned {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    fn out_of_range(&self, lsn: Lsn) -> WalError {
        WalError::LsnOutOfRange {
            lsn,
            first: self.first_lsn().unwrap_or(Lsn(self.next_lsn)),
            next: Lsn(self.next_lsn),
        }
    }

    fn poison_on_error<T>(&mut self, result: io::Result<T>) -> Result<T, WalError> {
        result.map_err(|e| {
            self.poisoned = Some(e.to_string());
            WalError::Io(e)
        })
    }

    fn active_meta(&self) -> &SegMeta {
        self.segments
            .last()
            .expect("a writable log has an active segment")
    }

    fn active_file(&mut self) -> &mut Box<dyn StorageFile> {
        self.active
            .as_mut()
            .expect("a writable log has an active segment")
    }

    /// The last LSN segment `i` holds: one before the next segment's first LSN.
    fn last_lsn_of(&self, i: usize) -> u64 {
        self.segments[i + 1..]
            .iter()
            .find_map(|s| s.first_lsn)
            .unwrap_or(self.next_lsn)
            - 1
    }

    /// Whether a frame of `frame_len` bytes, after what is already encoded, must go to a
    /// new segment. A frame never waits for an empty segment.
    fn must_rotate_before(&self, frame_len: u64) -> bool {
        let used = self.active_meta().len + self.scratch.len() as u64;
        self.config
            .max_segment_size
            .is_some_and(|max| used > 0 && used + frame_len > max)
    }

    /// Writes the `count` frames encoded in `scratch` at the end of the active segment.
    fn write_scratch(&mut self, count: u64) -> Result<(), WalError> {
        if count == 0 {
            return Ok(());
        }
        let (seq, offset) = (self.active_meta().seq, self.active_meta().len);
        self.prefill_before(offset, self.scratch.len() as u64)?;
        if let Some(tracker) = &mut self.durable {
            let recorded = tracker.before_write(seq);
            self.poison_on_error(recorded)?;
        }
        let scratch = std::mem::take(&mut self.scratch);
        let written = self.active_file().write_all_at(&scratch, offset);
        self.scratch = scratch;
        self.poison_on_error(written)?;
        let first = self.next_lsn;
        if let Some(tracker) = &mut self.durable {
            let at = self.scratch_last;
            let crc = u32::from_le_bytes(self.scratch[at + 4..at + 8].try_into().expect("4 bytes"));
            tracker.wrote(Anchor {
                offset: offset + at as u64,
                crc,
            });
        }
        let active = self.segments.last_mut().expect("active segment");
        active.len += self.scratch.len() as u64;
        active.first_lsn.get_or_insert(first);
        self.next_lsn += count;
        self.scratch.clear();
        Ok(())
    }

    fn sync_active(&mut self) -> Result<(), WalError> {
        // Test-only mutants for the crash explorer (docs/CRASH-TESTING.md).
        #[cfg(not(walogs_mutant = "skip-fdatasync"))]
        let synced = self.active_file().sync_data();
        #[cfg(walogs_mutant = "skip-fdatasync")]
        let synced: io::Result<()> = Ok(());
        #[cfg(walogs_mutant = "ignore-fsync-errors")]
        let synced = synced.or(Ok(()));
        self.poison_on_error(synced)?;
        self.durable_lsn = self.next_lsn - 1;
        let (seq, len, next) = (
            self.active_meta().seq,
            self.active_meta().len,
            self.next_lsn,
        );
        if let Some(tracker) = &mut self.durable {
            let recorded = tracker.synced(seq, len, next);
            self.poison_on_error(recorded)?;
        }
        Ok(())
    }

    /// Syncs the active segment unless everything appended is durable already.
    fn sync_if_behind(&mut self) -> Result<(), WalError> {
        if self.durable_lsn + 1 < self.next_lsn {
            self.sync_active()?;
        }
        Ok(())
    }

    /// Pre-fills the active segment (docs/FORMAT.md, "Pre-allocation") when a write of
    /// `write_len` bytes at `offset` would reach past its file, and pre-allocation is on.
    /// The pre-fill is recorded in the durable point first, and made durable by the sync
    /// that follows the write.
    fn prefill_before(&mut self, offset: u64, write_len: u64) -> Result<(), WalError> {
        if !self.config.preallocate || self.config.durability != Durability::Always {
            return Ok(());
        }
        let Some(to) = prealloc::target_len(
            offset + write_len,
            write_len,
            self.active_file_len,
            self.config.max_segment_size,
        ) else {
            return Ok(());
        };
        let seq = self.active_meta().seq;
        if let Some(tracker) = &mut self.durable {
            let recorded = tracker.prefilling(seq, to);
            self.poison_on_error(recorded)?;
        }
        let from = self.active_file_len;
        let filled = prealloc::prefill(self.active_file().as_mut(), from, to);
        self.poison_on_error(filled)?;
        self.active_file_len = to;
        Ok(())
    }

    /// Cuts the active segment back to its last frame (no sync: the caller syncs), so it
    /// looks exactly as walogs 0.1.0 writes it. Returns whether there was anything to cut.
    fn trim_active(&mut self) -> Result<bool, WalError> {
        let len = self.active_meta().len;
        let pre_filled = self.active_file_len > len;
        if pre_filled {
            let cut = self.active_file().set_len(len);
            self.poison_on_error(cut)?;
        }
        self.active_file_len = len;
        Ok(pre_filled)
    }

    /// Cuts the pre-filled space off the active segment, syncs it, then creates the next
    /// segment and syncs the directory.
    fn seal_and_start_next(&mut self) -> Result<(), WalError> {
        self.trim_active()?;
        self.sync_active()?;
        let seq = self.active_meta().seq + 1;
        if seq > MAX_SEGMENT_SEQ {
            // The name has six digits: a seventh would make a file no open recognizes.
            let full = format!("segment numbers are exhausted (wal-{MAX_SEGMENT_SEQ}.log)");
            return self.poison_on_error(Err(io::Error::other(full)));
        }
        let seg = SegMeta {
            seq,
            first_lsn: None,
            len: 0,
            v1: false,
        };
        let created = self.storage.open(&seg.name(), OpenMode::CreateNew);
        let file = self.poison_on_error(created)?;
        let synced = self.storage.sync_dir();
        self.poison_on_error(synced)?;
        self.active = Some(file);
        self.active_file_len = 0;
        self.segments.push(seg);
        if let Some(tracker) = &mut self.durable {
            let recorded = tracker.rotated(seq, self.next_lsn);
            self.poison_on_error(recorded)?;
        }
        Ok(())
    }

    /// Records the durable point now (see docs/FORMAT.md); `clean` on close.
    fn record_durable_point(&mut self, clean: bool) -> Result<(), WalError> {
        let (seq, len) = match (self.segments.last(), &self.active) {
            (Some(seg), Some(_)) => (seg.seq, seg.len),
            _ => return Ok(()),
        };
        if let Some(tracker) = &mut self.durable {
            let recorded = tracker.record(seq, clean, len);
            self.poison_on_error(recorded)?;
        }
        Ok(())
    }
}

impl Drop for Wal {
    /// Records a clean close in the durable point, so that bytes a later writer (walogs
    /// 0.1.0 ignores the sidecar) adds are never taken for this writer's. Errors are
    /// ignored: a missing clean record only makes the next open rely on less.
    fn drop(&mut self) {
        if self.poisoned.is_none() && !self.config.read_only && self.active.is_some() {
            // Cut the pre-filled space off, so a cleanly closed log is exactly 0.1.0's.
            let closed = match self.trim_active() {
                Ok(true) => self.sync_active(),
                other => other.map(|_| ()),
            };
            if closed.is_ok() {
                let _ = self.record_durable_point(true);
            }
        }
        // Live iterators share the storage: they keep reading, but not the writer's lock.
        // (A handle replaced by `truncate_after` has no active file and must not release
        // the lock its successor holds.)
        if self.active.is_some() {
            self.storage.close();
        }
    }
}
