//! [`ComponentIter`]: iteration over a log in bounded batches across the component boundary.

use std::collections::VecDeque;

use walogs::Lsn;
use wasmtime::component::ResourceAny;

use crate::error::HostError;
use crate::wal::ComponentWal;

/// Entries fetched per call into the guest, at most.
pub const BATCH_ENTRIES: u32 = 1024;
/// Bytes of entry data fetched per call into the guest, at most (a larger single entry
/// still comes alone). Small enough that a batch is still in the CPU cache when the host
/// copies it out of the guest: 256 KiB iterates 4 KiB entries ~10% faster than 4 MiB did.
pub const BATCH_BYTES: u64 = 256 << 10;

/// An iterator over a [`ComponentWal`]'s entries, like [`walogs::WalIter`].
///
/// It pulls up to [`BATCH_ENTRIES`] entries / [`BATCH_BYTES`] bytes per call. The log's
/// errors come out as [`HostError::Wal`], a trap as [`HostError::Trap`]; after the first
/// error it ends. Dropping it drops the guest's cursor.
///
/// It borrows the log, so it cannot outlive the handle that holds the directory's lock
/// (the lock goes with the handle; a live iterator never keeps it):
///
/// ```compile_fail,E0505
/// # fn main() -> Result<(), walogs_host::HostError> {
/// let mut wal = walogs_host::ComponentWal::open("/tmp/my-wal")?;
/// let iter = wal.iter()?;
/// drop(wal); // error[E0505]: cannot move out of `wal` because it is borrowed
/// for entry in iter {
///     entry?;
/// }
/// # Ok(())
/// # }
/// ```
pub struct ComponentIter<'a> {
    wal: &'a mut ComponentWal,
    cursor: Option<ResourceAny>,
    buffer: VecDeque<(Lsn, Vec<u8>)>,
}

impl std::fmt::Debug for ComponentIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentIter")
            .field("buffered", &self.buffer.len())
            .field("done", &self.cursor.is_none())
            .finish_non_exhaustive()
    }
}

impl<'a> ComponentIter<'a> {
    /// Wraps a guest cursor.
    pub(crate) fn new(wal: &'a mut ComponentWal, cursor: ResourceAny) -> Self {
        Self {
            wal,
            cursor: Some(cursor),
            buffer: VecDeque::new(),
        }
    }

    /// Fetches the next batch; `Ok(false)` at the end.
    fn refill(&mut self, cursor: ResourceAny) -> Result<bool, HostError> {
        let batch = self.wal.enter(|b, store| {
            b.walogs_wal_log()
                .cursor()
                .call_next_batch(store, cursor, BATCH_ENTRIES, BATCH_BYTES)
        })?;
        let batch = batch.map_err(|e| self.wal.wal_error(e))?;
        self.buffer
            .extend(batch.into_iter().map(|e| (Lsn(e.lsn), e.data)));
        Ok(!self.buffer.is_empty())
    }

    /// Ends the iteration and drops the guest cursor.
    fn finish(&mut self) {
        if let Some(cursor) = self.cursor.take() {
            self.wal.drop_resource(cursor);
        }
    }
}

impl Iterator for ComponentIter<'_> {
    type Item = Result<(Lsn, Vec<u8>), HostError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.buffer.pop_front() {
            return Some(Ok(entry));
        }
        let cursor = self.cursor?;
        match self.refill(cursor) {
            Ok(true) => self.buffer.pop_front().map(Ok),
            Ok(false) => {
                self.finish();
                None
            }
            Err(e) => {
                self.finish();
                Some(Err(e))
            }
        }
    }
}

impl Drop for ComponentIter<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}
