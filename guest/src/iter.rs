//! Iteration over the entries of a log, across segments, checking as it goes.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::error::corrupt;
use crate::reader::{FrameReader, Next};
use crate::scan::check_lsn;
use crate::segment::segment_filename;
use crate::storage::{OpenMode, Storage};
use crate::{Lsn, WalError};

/// Iterator over WAL entries in LSN order, across all segments.
///
/// Returned by [`crate::Wal::iter`] and [`crate::Wal::iter_from`]. It reads through its own
/// file handles and sees the entries that existed when it was created. Every frame is
/// checked (CRC and LSN continuity): damage yields one `Err(WalError::Corrupt)`, after
/// which the iterator ends — it never ends silently on damage.
#[derive(Debug)]
pub struct WalIter {
    storage: Arc<dyn Storage>,
    /// Segments still to read: sequence number and the offset to stop at (`None`: EOF).
    plan: VecDeque<(u32, Option<u64>)>,
    current: Option<(String, FrameReader)>,
    /// The LSN the next frame must carry, when known.
    expect: Option<u64>,
    /// Frames below this LSN are checked but not yielded.
    skip_below: u64,
    /// The iterator ends after this LSN (`u64::MAX`: at the end of the files).
    stop_after: u64,
    done: bool,
}

impl WalIter {
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        plan: VecDeque<(u32, Option<u64>)>,
        expect: Option<u64>,
        skip_below: u64,
    ) -> Self {
        WalIter {
            storage,
            plan,
            current: None,
            expect,
            skip_below,
            stop_after: u64::MAX,
            done: false,
        }
    }

    /// Ends the iteration after `lsn`: what a reader of durable entries only wants.
    pub(crate) fn stop_after(mut self, lsn: u64) -> Self {
        self.stop_after = lsn;
        self
    }

    fn advance(&mut self) -> Result<Option<(Lsn, Vec<u8>)>, WalError> {
        loop {
            if self.current.is_none() {
                let Some((seq, end)) = self.plan.pop_front() else {
                    return Ok(None);
                };
                let name = segment_filename(seq);
                let file = self.storage.open(&name, OpenMode::Read)?;
                self.current = Some((name, FrameReader::new(file, end)?));
            }
            let (name, reader) = self.current.as_mut().expect("a segment is open");
            match reader.next_frame()? {
                Next::Frame { lsn, data, offset } => {
                    check_lsn(name, offset, lsn, self.expect)?;
                    self.expect = Some(lsn + 1);
                    if lsn > self.stop_after {
                        return Ok(None);
                    }
                    if lsn >= self.skip_below {
                        return Ok(Some((Lsn(lsn), data.to_vec())));
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
