//! What readers of a shared log see: a snapshot of the log's shape, published after every
//! change, so that reading never waits for a writer's fdatasync.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::writer::LogShape;
use crate::segment::segment_filename;
use crate::storage::Storage;
use crate::{Lsn, SegmentInfo, WalError, WalIter};

/// The log as it stood after one change: its segments, its LSNs, what is durable.
#[derive(Debug, Clone)]
pub(crate) struct View {
    /// Grows by one with every publication; followers wait for it to move.
    pub version: u64,
    /// The highest durable LSN (0: none).
    pub durable: u64,
    /// The LSN the next append gets.
    pub next_lsn: u64,
    /// Every segment, oldest first, with the size it had at publication.
    pub segments: Vec<SegmentInfo>,
}

impl View {
    /// A view of `shape`.
    pub fn of(shape: LogShape, version: u64) -> View {
        View {
            version,
            durable: shape.durable_lsn.0,
            next_lsn: shape.next_lsn.0,
            segments: shape.segments,
        }
    }

    /// The first LSN the log holds, or the next LSN when it holds none.
    pub fn first_lsn(&self) -> u64 {
        self.segments
            .iter()
            .find_map(|s| s.first_lsn)
            .map_or(self.next_lsn, |l| l.0)
    }

    /// Whether the log holds any entry.
    pub fn is_empty(&self) -> bool {
        self.segments.iter().all(|s| s.first_lsn.is_none())
    }

    /// The error for an LSN the log does not hold.
    pub fn out_of_range(&self, lsn: u64) -> WalError {
        WalError::LsnOutOfRange {
            lsn: Lsn(lsn),
            first: Lsn(self.first_lsn()),
            next: Lsn(self.next_lsn),
        }
    }

    /// The error for `lsn` when a checkpoint deleted the segment holding it: `first` is
    /// past `lsn` even while this view still predates the checkpoint.
    pub fn deleted(&self, lsn: u64) -> WalError {
        WalError::LsnOutOfRange {
            lsn: Lsn(lsn),
            first: Lsn(self.first_lsn().max(lsn + 1).min(self.next_lsn)),
            next: Lsn(self.next_lsn),
        }
    }

    /// Checks that reading may start at `lsn`: from the first LSN held to the next LSN.
    pub fn check_start(&self, lsn: u64) -> Result<(), WalError> {
        if lsn < self.first_lsn() || lsn > self.next_lsn {
            return Err(self.out_of_range(lsn));
        }
        Ok(())
    }

    /// The index of the segment a read starting at `lsn` opens first.
    pub fn segment_index(&self, lsn: u64) -> usize {
        self.segments
            .iter()
            .rposition(|s| s.first_lsn.is_some_and(|f| f.0 <= lsn))
            .unwrap_or(self.segments.len().saturating_sub(1))
    }

    /// The durable entries from `lsn` on, read through `storage`.
    /// An iterator that a later truncation overtakes fails with a typed error (see
    /// [`WalIter`]); `truncations` is the log's shared list of them.
    pub fn iter_from(
        &self,
        storage: Arc<dyn Storage>,
        lsn: u64,
        truncations: Arc<Mutex<Vec<u64>>>,
    ) -> Result<WalIter, WalError> {
        self.check_start(lsn)?;
        let index = self.segment_index(lsn);
        let plan: VecDeque<_> = self.segments[index.min(self.segments.len())..]
            .iter()
            .map(|s| (segment_filename(s.seq), Some(s.size)))
            .collect();
        let expect = self
            .segments
            .get(index)
            .and_then(|s| s.first_lsn)
            .map(|l| l.0);
        Ok(WalIter::new(storage, plan, expect, lsn, truncations).stop_after(self.durable))
    }
}

#[cfg(test)]
mod tests {
    use super::View;
    use crate::{Lsn, SegmentInfo, WalError};

    /// A view of segments starting at `firsts`, the next LSN `next`.
    fn view(firsts: &[u64], next: u64) -> View {
        let segments = firsts.iter().enumerate().map(|(i, &f)| SegmentInfo {
            seq: i as u32 + 1,
            first_lsn: Some(Lsn(f)),
            size: 100,
        });
        View {
            version: 1,
            durable: next - 1,
            next_lsn: next,
            segments: segments.collect(),
        }
    }

    fn first_of(e: WalError) -> Lsn {
        match e {
            WalError::LsnOutOfRange { first, .. } => first,
            other => panic!("not out of range: {other:?}"),
        }
    }

    #[test]
    fn a_deleted_lsn_is_reported_below_the_first_even_from_a_view_older_than_the_checkpoint() {
        // Published after the checkpoint: the view's own first LSN.
        assert_eq!(first_of(view(&[21], 22).deleted(11)), Lsn(21));
        // Still the view from before it: the first LSN is past the one deleted.
        assert_eq!(first_of(view(&[1, 11, 21], 22).deleted(11)), Lsn(12));
        // Never past the next LSN.
        assert_eq!(first_of(view(&[1], 5).deleted(4)), Lsn(5));
    }
}
