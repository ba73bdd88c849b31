//! What a [`crate::SharedLog`] writes to: any single-threaded log handle — the engine
//! itself ([`Wal`]), or the engine behind a boundary such as a component instance.

use std::fmt;

use super::group::duplicate;
use crate::{Lsn, LsnRange, SegmentInfo, VerifyReport, Wal, WalError};

/// A single-threaded log handle that a [`crate::SharedLog`] shares between threads. Only
/// one call runs at a time; group commit turns many producers' appends into one
/// [`LogWriter::append_batch`].
pub trait LogWriter: Send + 'static {
    /// The error its calls return. The shared log makes its own (`Poisoned`) from a
    /// [`WalError`].
    type Error: From<WalError> + fmt::Display + fmt::Debug + Send + 'static;

    /// Appends `entries` with contiguous LSNs, durable on return under
    /// [`crate::Durability::Always`] (one write call and one fdatasync per segment).
    fn append_batch(&mut self, entries: &[&[u8]]) -> Result<LsnRange, Self::Error>;
    /// Makes everything appended durable; returns the durable LSN.
    fn sync(&mut self) -> Result<Lsn, Self::Error>;
    /// Seals the active segment and starts a new one.
    fn rotate(&mut self) -> Result<(), Self::Error>;
    /// Deletes the sealed segments whose entries are all `<= applied_up_to`.
    fn checkpoint(&mut self, applied_up_to: Lsn) -> Result<usize, Self::Error>;
    /// Removes every entry after `lsn`.
    fn truncate_after(&mut self, lsn: Lsn) -> Result<(), Self::Error>;
    /// Reads and checks every frame.
    fn verify(&mut self) -> Result<VerifyReport, Self::Error>;
    /// The log's shape now, for readers.
    fn shape(&mut self) -> Result<LogShape, Self::Error>;
    /// What poisoned the handle, once something did (a failed write or sync, a dead
    /// instance): from then on every write fails.
    fn poisoned(&mut self) -> Option<String>;
    /// A copy of `error` for another member of a failed group.
    fn duplicate(error: &Self::Error) -> Self::Error;
}

/// The shape of a log at one moment: what readers need to find its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogShape {
    /// The highest durable LSN (`Lsn(0)`: none).
    pub durable_lsn: Lsn,
    /// The LSN the next append gets.
    pub next_lsn: Lsn,
    /// Every segment file, oldest first.
    pub segments: Vec<SegmentInfo>,
}

impl LogWriter for Wal {
    type Error = WalError;

    fn append_batch(&mut self, entries: &[&[u8]]) -> Result<LsnRange, WalError> {
        Wal::append_batch(self, entries)
    }
    fn sync(&mut self) -> Result<Lsn, WalError> {
        Wal::sync(self)
    }
    fn rotate(&mut self) -> Result<(), WalError> {
        Wal::rotate(self)
    }
    fn checkpoint(&mut self, applied_up_to: Lsn) -> Result<usize, WalError> {
        Wal::checkpoint(self, applied_up_to)
    }
    fn truncate_after(&mut self, lsn: Lsn) -> Result<(), WalError> {
        Wal::truncate_after(self, lsn)
    }
    fn verify(&mut self) -> Result<VerifyReport, WalError> {
        Wal::verify(self)
    }
    fn shape(&mut self) -> Result<LogShape, WalError> {
        Ok(LogShape {
            durable_lsn: self.durable_lsn(),
            next_lsn: self.next_lsn(),
            segments: self.segments(),
        })
    }
    fn poisoned(&mut self) -> Option<String> {
        self.poison_cause().map(str::to_owned)
    }
    fn duplicate(error: &WalError) -> WalError {
        duplicate(error)
    }
}
