//! The read side of a [`Wal`]: iterators and the getters that describe the log.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use super::Wal;
use crate::recovery;
use crate::storage::Storage;
use crate::{
    Lsn, RecoveryReport, SegmentInfo, TailState, VerifyReport, WalConfig, WalError, WalIter,
};

impl Wal {
    /// Iterates every entry in LSN order. See [`WalIter`].
    pub fn iter(&self) -> WalIter {
        let first = self
            .segments
            .iter()
            .find_map(|s| s.first_lsn)
            .unwrap_or(self.next_lsn);
        self.iter_at(0, first)
    }

    /// Iterates from `lsn` on, using the segment index to skip straight to the segment
    /// holding it. `lsn` may be [`Wal::next_lsn`] (an empty iterator); below the first
    /// retained LSN or beyond that it is [`WalError::LsnOutOfRange`].
    ///
    /// ```
    /// use walogs::{Lsn, Wal};
    /// # let dir = tempfile::tempdir()?;
    /// let mut wal = Wal::open(dir.path())?;
    /// wal.append_batch(&[b"a", b"b", b"c"])?;
    /// let tail: Vec<u64> = wal.iter_from(Lsn(2))?.map(|e| e.map(|(lsn, _)| lsn.0)).collect::<Result<_, _>>()?;
    /// assert_eq!(tail, [2, 3]);
    /// # Ok::<(), walogs::WalError>(())
    /// ```
    pub fn iter_from(&self, lsn: Lsn) -> Result<WalIter, WalError> {
        let first = self.first_lsn().map_or(self.next_lsn, |l| l.0);
        if lsn.0 < first || lsn.0 > self.next_lsn {
            return Err(self.out_of_range(lsn));
        }
        let index = self
            .segments
            .iter()
            .rposition(|s| s.first_lsn.is_some_and(|f| f <= lsn.0))
            .unwrap_or(self.segments.len().saturating_sub(1));
        Ok(self.iter_at(index, lsn.0))
    }

    fn iter_at(&self, index: usize, skip_below: u64) -> WalIter {
        let last = self.segments.len().saturating_sub(1);
        let plan: VecDeque<_> = self.segments[index.min(self.segments.len())..]
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name(), (index + i == last).then_some(s.len)))
            .collect();
        let expect = self.segments.get(index).and_then(|s| s.first_lsn);
        WalIter::new(
            Arc::clone(&self.storage),
            plan,
            expect,
            skip_below,
            Arc::clone(&self.truncations),
        )
    }

    /// The tail state recorded by the most recent open.
    pub fn tail_state(&self) -> TailState {
        self.tail_state
    }

    /// What the most recent open cut off (bytes and CRC-valid frames of an interrupted
    /// write) and the durable point it relied on. See docs/FORMAT.md.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let wal = walogs::Wal::open(dir.path())?;
    /// let report = wal.recovery_report();
    /// assert_eq!((report.bytes_discarded, report.frames_discarded), (0, 0));
    /// # Ok::<(), walogs::WalError>(())
    /// ```
    pub fn recovery_report(&self) -> RecoveryReport {
        self.report.clone()
    }

    /// The LSN the next successful append will assign.
    #[must_use]
    pub fn next_lsn(&self) -> Lsn {
        Lsn(self.next_lsn)
    }

    /// The first LSN the log holds, or `None` when it holds no entry.
    pub fn first_lsn(&self) -> Option<Lsn> {
        self.segments.iter().find_map(|s| s.first_lsn).map(Lsn)
    }

    /// The last LSN the log holds, or `None` when it holds no entry.
    pub fn last_lsn(&self) -> Option<Lsn> {
        self.first_lsn().map(|_| Lsn(self.next_lsn - 1))
    }

    /// Segment files of the log, including the active one.
    #[must_use]
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Every segment file, oldest first.
    pub fn segments(&self) -> Vec<SegmentInfo> {
        self.segments
            .iter()
            .map(|s| SegmentInfo {
                seq: s.seq,
                first_lsn: s.first_lsn.map(Lsn),
                size: s.len,
            })
            .collect()
    }

    /// Reads and checks every frame of every segment (CRC, LSN continuity within and
    /// across segments). Damage is a [`WalError::Corrupt`] naming the file and offset.
    pub fn verify(&self) -> Result<VerifyReport, WalError> {
        recovery::verify(self.storage.as_ref(), &self.segments)
    }

    /// The directory holding the log.
    pub fn dir(&self) -> &Path {
        self.storage.path()
    }

    /// The storage the log lives in (for readers that open their own file handles).
    pub(crate) fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The configuration the log was opened with.
    pub(crate) fn config(&self) -> &WalConfig {
        &self.config
    }

    /// What poisoned the handle, if anything did.
    pub(crate) fn poison_cause(&self) -> Option<&str> {
        self.poisoned.as_deref()
    }
}
