//! Iteration over the entries of a log, across segments, checking as it goes.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use crate::error::corrupt;
use crate::reader::{FrameReader, Next};
use crate::scan::check_lsn;
use crate::storage::{OpenMode, Storage};
use crate::{Lsn, WalError};

/// Iterator over WAL entries in LSN order, across all segments.
///
/// Returned by [`crate::Wal::iter`] and [`crate::Wal::iter_from`]. It reads through its own
/// file handles and yields the entries that existed when it was created, up to the log's
/// end at that moment; entries appended later are not yielded. Every frame is checked
/// (CRC and LSN continuity): damage yields one `Err(WalError::Corrupt)`, after which the
/// iterator ends — it never ends silently on damage.
///
/// If [`crate::Wal::truncate_after`]`(L)` runs while the iterator is alive, entries up to
/// `L` are still yielded, but instead of any entry after `L` (removed, and perhaps
/// replaced by a new entry with the same LSN) it yields one
/// `Err(WalError::LsnOutOfRange)` naming that LSN, and ends. It never mixes removed or
/// new entries into what it yields. It does not keep the directory's write lock: a
/// writer can open the log once the `Wal` is dropped.
#[derive(Debug)]
pub struct WalIter {
    storage: Arc<dyn Storage>,
    /// Segments still to read: file name and the offset to stop at (`None`: EOF).
    plan: VecDeque<(String, Option<u64>)>,
    current: Option<(String, FrameReader)>,
    /// The LSN the next frame must carry, when known.
    expect: Option<u64>,
    /// Frames below this LSN are checked but not yielded.
    skip_below: u64,
    /// LSNs kept by each `truncate_after` on the log (shared with the `Wal`), and how
    /// many of them predate this iterator.
    truncations: Arc<Mutex<Vec<u64>>>,
    truncations_before: usize,
    /// The first LSN of the log when the iterator was made (for the error).
    first: u64,
    /// The iterator ends after this LSN (`u64::MAX`: at the end of the files).
    stop_after: u64,
    /// Names the error when a segment of the plan is gone (a checkpoint deleted it).
    on_deleted: Option<DeletedReport>,
    done: bool,
}

/// What a shared log answers for the LSN an iterator wanted when a checkpoint deleted the
/// segment holding it before the iterator got there.
#[derive(Clone)]
pub(crate) struct DeletedReport(pub Arc<dyn Fn(u64) -> WalError + Send + Sync>);

impl std::fmt::Debug for DeletedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeletedReport")
    }
}

impl WalIter {
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        plan: VecDeque<(String, Option<u64>)>,
        expect: Option<u64>,
        skip_below: u64,
        truncations: Arc<Mutex<Vec<u64>>>,
    ) -> Self {
        let truncations_before = truncations.lock().map_or(0, |t| t.len());
        WalIter {
            storage,
            plan,
            current: None,
            expect,
            skip_below,
            truncations,
            truncations_before,
            first: expect.unwrap_or(skip_below),
            stop_after: u64::MAX,
            on_deleted: None,
            done: false,
        }
    }

    /// The lowest LSN kept by a truncation since this iterator was made.
    fn kept_by_truncation(&self) -> Option<u64> {
        let truncations = self.truncations.lock().ok()?;
        let since = &truncations[self.truncations_before.min(truncations.len())..];
        since.iter().copied().min()
    }

    /// The error for reaching `lsn`, removed by a truncation that kept up to `kept`.
    fn truncated(&self, lsn: u64, kept: u64) -> WalError {
        WalError::LsnOutOfRange {
            lsn: Lsn(lsn),
            first: Lsn(self.first),
            next: Lsn(kept + 1),
        }
    }

    /// Reports a segment of the plan that is gone with `report`'s error instead of the
    /// file system's `NotFound`.
    pub(crate) fn on_deleted(mut self, report: DeletedReport) -> Self {
        self.on_deleted = Some(report);
        self
    }

    /// The LSN the iterator would yield next.
    fn wanted(&self) -> u64 {
        self.expect
            .map_or(self.skip_below, |e| e.max(self.skip_below))
    }

    /// Ends the iteration after `lsn`: what a reader of durable entries only wants.
    pub(crate) fn stop_after(mut self, lsn: u64) -> Self {
        self.stop_after = lsn;
        self
    }

    fn advance(&mut self) -> Result<Option<(Lsn, Vec<u8>)>, WalError> {
        match self.read_next() {
            Ok(Some((lsn, data))) => match self.kept_by_truncation() {
                Some(kept) if lsn > kept => Err(self.truncated(lsn, kept)),
                _ => Ok(Some((Lsn(lsn), data))),
            },
            Ok(None) => Ok(None),
            // A truncation may have cut the file under the reader: name what happened.
            Err(e) => match (self.kept_by_truncation(), self.expect) {
                (Some(kept), Some(next)) if next > kept => Err(self.truncated(next, kept)),
                _ => Err(e),
            },
        }
    }

    /// The next frame at or after `skip_below`, checked.
    fn read_next(&mut self) -> Result<Option<(u64, Vec<u8>)>, WalError> {
        loop {
            if self.current.is_none() {
                let Some((name, end)) = self.plan.pop_front() else {
                    return Ok(None);
                };
                let file = match self.storage.open(&name, OpenMode::Read) {
                    Ok(file) => file,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        return Err(match &self.on_deleted {
                            Some(report) => (report.0)(self.wanted()),
                            None => e.into(),
                        });
                    }
                    Err(e) => return Err(e.into()),
                };
                self.current = Some((name, FrameReader::new(file, end)?));
            }
            let (name, reader) = self.current.as_mut().expect("a segment is open");
            match reader.next_frame()? {
                Next::Frame {
                    lsn, data, offset, ..
                } => {
                    check_lsn(name, offset, lsn, self.expect)?;
                    self.expect = Some(lsn.checked_add(1).ok_or_else(|| {
                        corrupt(format!(
                            "{name}: frame at offset {offset} carries LSN {lsn}, the largest there is"
                        ))
                    })?);
                    if lsn > self.stop_after {
                        return Ok(None);
                    }
                    if lsn >= self.skip_below {
                        return Ok(Some((lsn, data.to_vec())));
                    }
                }
                Next::End => self.current = None,
                Next::Bad { offset, kind } => {
                    return Err(corrupt(format!(
                        "{name}: {} at offset {offset}",
                        kind.describe()
                    )));
                }
            }
        }
    }
}

impl Iterator for WalIter {
    type Item = Result<(Lsn, Vec<u8>), WalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
