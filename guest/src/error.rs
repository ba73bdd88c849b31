//! The one error type of the engine.

use std::io;
use std::path::PathBuf;

use crate::Lsn;

/// Errors returned by [`crate::Wal`] operations.
///
/// No error loses an acknowledged entry: either the call changed nothing, or (for
/// [`WalError::Io`] during a write or sync) the handle is poisoned and every later call
/// returns [`WalError::Poisoned`] until the log is reopened, which recovers the durable prefix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalError {
    /// An OS-level I/O error (disk full, permission denied, hardware fault, …).
    #[error("io error: {0}")]
    Io(#[from] io::Error),

    /// The entry passed to an append exceeds [`crate::MAX_ENTRY_SIZE`]; nothing was written.
    #[error("entry too large: {size} bytes, max is {max}")]
    EntryTooLarge {
        /// Bytes in the rejected entry.
        size: usize,
        /// The largest entry allowed.
        max: usize,
    },

    /// The log on disk is damaged in a way recovery must not guess about: a bad frame
    /// followed by valid ones, a bad sealed segment, an LSN discontinuity, a gap in the
    /// segment numbers. The files are left untouched.
    #[error("wal corrupt: {reason}")]
    Corrupt {
        /// What was found, and where.
        reason: String,
    },

    /// Another handle (in this or another process) holds the directory's write lock.
    #[error("wal locked: {} is already open for writing", dir.display())]
    Locked {
        /// The locked directory.
        dir: PathBuf,
    },

    /// An earlier write or sync on this handle failed, so what the disk holds is unknown.
    /// Reopen the log: recovery keeps every entry that was acknowledged durable.
    #[error("wal poisoned by an earlier failure ({cause}); reopen the log")]
    Poisoned {
        /// The failure that poisoned the handle.
        cause: String,
    },

    /// The LSN is not in the log.
    #[error("lsn {} out of range: the log holds {}..{}", lsn.0, first.0, next.0)]
    LsnOutOfRange {
        /// The LSN asked for.
        lsn: Lsn,
        /// The first LSN the log holds (the next LSN when it is empty).
        first: Lsn,
        /// The LSN the next append gets.
        next: Lsn,
    },

    /// The path is not usable as a log directory (empty, or outside the sandbox).
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        reason: String,
    },

    /// A directory on the way to the log, inside the component's preopened directory, is
    /// not a directory (a case walogs 0.1.0 did not have). A log path that is itself a
    /// regular file is, as in 0.1.0, an [`WalError::Io`] whose kind is
    /// [`io::ErrorKind::NotADirectory`].
    #[error("not a directory: {}", path.display())]
    NotADirectory {
        /// The offending path.
        path: PathBuf,
    },

    /// The log was opened read-only and the call would change it.
    #[error("the wal was opened read-only")]
    ReadOnly,
}

/// Shorthand for a corruption error.
pub(crate) fn corrupt(reason: impl Into<String>) -> WalError {
    WalError::Corrupt {
        reason: reason.into(),
    }
}
