//! [`SharedComponentWal`]: one log served by the component, shared by many threads.
//!
//! The component is single-threaded, so producers are grouped on the host: a
//! [`walogs::SharedLog`] over the component's handle gathers every producer waiting into
//! one `append-batch` call (one write and one fdatasync in the guest), with the engine's
//! failure rules. Followers and iterators read the log's files on the host side, through
//! their own handles, and never enter the component.

use std::path::Path;
use std::sync::Arc;

use walogs::storage::StdStorage;
use walogs::{
    LogShape, LogWriter, Lsn, LsnRange, SharedLog, SharedSetup, VerifyReport, Wal, WalConfig,
    WalError,
};

use crate::{ComponentWal, HostError, Runtime};

/// One component log shared by many threads: `Clone + Send + Sync`. Concurrent appends
/// become one `append-batch` call into the guest per group; see [`walogs::SharedLog`].
pub type SharedComponentWal = SharedLog<ComponentWriter>;

impl Runtime {
    /// Opens the log in `dir` with `config` and shares it between threads.
    pub fn open_shared(
        &self,
        dir: impl AsRef<Path>,
        config: WalConfig,
    ) -> Result<SharedComponentWal, HostError> {
        let read_only = config.read_only;
        self.open_with_config(dir.as_ref(), config)?
            .into_shared(read_only)
    }
}

impl ComponentWal {
    /// Opens the log in `dir` with `config` through [`Runtime::shared`] and shares it
    /// between threads.
    #[cfg(feature = "embedded")]
    pub fn open_shared(
        dir: impl AsRef<Path>,
        config: WalConfig,
    ) -> Result<SharedComponentWal, HostError> {
        Runtime::shared().open_shared(dir, config)
    }

    /// Shares this log between threads. `read_only` says whether it was opened read-only
    /// (appends then fail before they reach the guest).
    pub fn into_shared(mut self, read_only: bool) -> Result<SharedComponentWal, HostError> {
        let setup = SharedSetup {
            storage: Arc::new(StdStorage::open_reader(self.dir())?),
            dir: self.dir().to_owned(),
            read_only,
            tail_state: self.tail_state()?,
        };
        SharedLog::new(ComponentWriter::new(self), setup)
    }
}

/// The component's handle as the single writer of a [`SharedComponentWal`].
#[derive(Debug)]
pub struct ComponentWriter {
    wal: ComponentWal,
    /// What poisoned the guest's log, once a call reported it.
    poisoned: Option<String>,
}

impl ComponentWriter {
    /// Wraps an open component log.
    pub fn new(wal: ComponentWal) -> Self {
        ComponentWriter {
            wal,
            poisoned: None,
        }
    }

    /// The component's handle itself: fault plans, statistics, fuel.
    pub fn component(&mut self) -> &mut ComponentWal {
        &mut self.wal
    }

    /// Notes a failure that leaves the guest's log poisoned: a failed write or sync (the
    /// guest poisoned itself) or a trap (the instance is gone).
    fn note<T>(&mut self, result: Result<T, HostError>) -> Result<T, HostError> {
        if let Err(e) = &result {
            let poisons = match e {
                HostError::Wal(WalError::Io(_) | WalError::Poisoned { .. }) => true,
                HostError::Wal(_) => false,
                _ => true,
            };
            if poisons && self.poisoned.is_none() {
                self.poisoned = Some(e.to_string());
            }
        }
        result
    }
}

impl LogWriter for ComponentWriter {
    type Error = HostError;

    fn append_batch(&mut self, entries: &[&[u8]]) -> Result<LsnRange, HostError> {
        let result = self.wal.append_batch(entries);
        self.note(result)
    }
    fn sync(&mut self) -> Result<Lsn, HostError> {
        let result = self.wal.sync();
        self.note(result)
    }
    fn rotate(&mut self) -> Result<(), HostError> {
        let result = self.wal.rotate();
        self.note(result)
    }
    fn checkpoint(&mut self, applied_up_to: Lsn) -> Result<usize, HostError> {
        let result = self.wal.checkpoint(applied_up_to);
        self.note(result)
    }
    fn truncate_after(&mut self, lsn: Lsn) -> Result<(), HostError> {
        let result = self.wal.truncate_after(lsn);
        self.note(result)
    }
    fn verify(&mut self) -> Result<VerifyReport, HostError> {
        self.wal.verify()
    }
    fn shape(&mut self) -> Result<LogShape, HostError> {
        let shape = (|| {
            Ok(LogShape {
                durable_lsn: self.wal.durable_lsn()?,
                next_lsn: self.wal.next_lsn()?,
                segments: self.wal.segments()?,
            })
        })();
        self.note(shape)
    }
    fn poisoned(&mut self) -> Option<String> {
        if self.wal.is_dead() && self.poisoned.is_none() {
            self.poisoned = Some(HostError::Dead.to_string());
        }
        self.poisoned.clone()
    }
    fn duplicate(error: &HostError) -> HostError {
        match error {
            HostError::Wal(e) => HostError::Wal(<Wal as LogWriter>::duplicate(e)),
            HostError::Trap(_) | HostError::Dead => HostError::Dead,
            other => HostError::Wal(WalError::Poisoned {
                cause: other.to_string(),
            }),
        }
    }
}
