//! The concurrent side of the harness: a log many threads share, and readers that follow
//! it, identical across backends.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use walogs::{Follow, Lsn, LsnRange, SharedWal, WalConfig, WalError, WalIter};
use walogs_host::interpose::FaultPlan;
use walogs_host::{HostError, Runtime, SharedComponentWal};

use crate::native::Faults;
use crate::{Component, Native};

/// Everything a concurrent test does with a shared log, identical across backends.
pub trait SharedLog: Clone + Send + Sync + 'static {
    /// A reader following the log.
    type Follower: Follower;
    /// Appends one entry.
    fn append(&self, data: &[u8]) -> Result<Lsn, WalError>;
    /// Appends a batch with contiguous LSNs.
    fn append_batch(&self, entries: &[Vec<u8>]) -> Result<LsnRange, WalError>;
    /// Syncs; returns the durable LSN.
    fn sync(&self) -> Result<Lsn, WalError>;
    /// The durable LSN.
    fn durable_lsn(&self) -> Lsn;
    /// Rotates.
    fn rotate(&self) -> Result<(), WalError>;
    /// Checkpoints; returns segments deleted.
    fn checkpoint(&self, lsn: Lsn) -> Result<usize, WalError>;
    /// Truncates after `lsn`.
    fn truncate_after(&self, lsn: Lsn) -> Result<(), WalError>;
    /// An iterator over the durable entries from `lsn` on, as they stand now.
    fn iter_from(&self, lsn: Lsn) -> Result<WalIter, WalError>;
    /// The durable entries from `lsn` on, or the first error.
    fn entries_from(&self, lsn: Lsn) -> Result<Vec<(Lsn, Vec<u8>)>, WalError> {
        self.iter_from(lsn)?.collect()
    }
    /// A follower from `lsn`.
    fn follow(&self, lsn: Lsn) -> Result<Self::Follower, WalError>;
    /// Makes every later sync (file or directory) fail with an I/O error.
    fn fail_syncs(&self);
    /// File and directory syncs made so far.
    fn syncs(&self) -> u64;
}

/// A reader following a shared log.
pub trait Follower: Send + 'static {
    /// The next durable entry, waiting at most `timeout`; `Ok(None)` if none came.
    fn next_timeout(&mut self, timeout: Duration) -> Result<Option<(Lsn, Vec<u8>)>, WalError>;
}

/// A way to run the engine shared by many threads.
pub trait SharedBackend {
    /// The shared handle.
    type Shared: SharedLog;
    /// Opens (or creates) the log in `dir` for many threads.
    fn open_shared(dir: &Path, config: WalConfig) -> Result<Self::Shared, WalError>;
}

/// The native [`SharedWal`] and the switch that makes its syncs fail.
#[derive(Debug, Clone)]
pub struct NativeShared {
    wal: SharedWal,
    faults: Arc<Faults>,
}

impl SharedBackend for Native {
    type Shared = NativeShared;

    fn open_shared(dir: &Path, config: WalConfig) -> Result<NativeShared, WalError> {
        let (wal, faults) = Native::open_wal(dir, config)?;
        Ok(NativeShared {
            wal: wal.into(),
            faults,
        })
    }
}

impl SharedLog for NativeShared {
    type Follower = Follow;

    fn append(&self, data: &[u8]) -> Result<Lsn, WalError> {
        self.wal.append(data)
    }
    fn append_batch(&self, entries: &[Vec<u8>]) -> Result<LsnRange, WalError> {
        self.wal.append_batch(entries)
    }
    fn sync(&self) -> Result<Lsn, WalError> {
        self.wal.sync()
    }
    fn durable_lsn(&self) -> Lsn {
        self.wal.durable_lsn()
    }
    fn rotate(&self) -> Result<(), WalError> {
        self.wal.rotate()
    }
    fn checkpoint(&self, lsn: Lsn) -> Result<usize, WalError> {
        self.wal.checkpoint(lsn)
    }
    fn truncate_after(&self, lsn: Lsn) -> Result<(), WalError> {
        self.wal.truncate_after(lsn)
    }
    fn iter_from(&self, lsn: Lsn) -> Result<WalIter, WalError> {
        self.wal.iter_from(lsn)
    }
    fn follow(&self, lsn: Lsn) -> Result<Follow, WalError> {
        self.wal.follow(lsn)
    }
    fn fail_syncs(&self) {
        self.faults.fail_syncs();
    }
    fn syncs(&self) -> u64 {
        self.faults.syncs()
    }
}

impl Follower for Follow {
    fn next_timeout(&mut self, timeout: Duration) -> Result<Option<(Lsn, Vec<u8>)>, WalError> {
        Follow::next_timeout(self, timeout)
    }
}

impl SharedBackend for Component {
    type Shared = SharedComponentWal;

    fn open_shared(dir: &Path, config: WalConfig) -> Result<SharedComponentWal, WalError> {
        Runtime::shared()
            .open_shared(dir, config)
            .map_err(wal_error)
    }
}

/// A guest error is the engine's own error; anything else (a trap) is a test failure.
fn wal_error(e: HostError) -> WalError {
    match e {
        HostError::Wal(e) => e,
        other => panic!("the host failed, not the log: {other}"),
    }
}

impl SharedLog for SharedComponentWal {
    type Follower = Follow;

    fn append(&self, data: &[u8]) -> Result<Lsn, WalError> {
        SharedComponentWal::append(self, data).map_err(wal_error)
    }
    fn append_batch(&self, entries: &[Vec<u8>]) -> Result<LsnRange, WalError> {
        SharedComponentWal::append_batch(self, entries).map_err(wal_error)
    }
    fn sync(&self) -> Result<Lsn, WalError> {
        SharedComponentWal::sync(self).map_err(wal_error)
    }
    fn durable_lsn(&self) -> Lsn {
        SharedComponentWal::durable_lsn(self)
    }
    fn rotate(&self) -> Result<(), WalError> {
        SharedComponentWal::rotate(self).map_err(wal_error)
    }
    fn checkpoint(&self, lsn: Lsn) -> Result<usize, WalError> {
        SharedComponentWal::checkpoint(self, lsn).map_err(wal_error)
    }
    fn truncate_after(&self, lsn: Lsn) -> Result<(), WalError> {
        SharedComponentWal::truncate_after(self, lsn).map_err(wal_error)
    }
    fn iter_from(&self, lsn: Lsn) -> Result<WalIter, WalError> {
        SharedComponentWal::iter_from(self, lsn)
    }
    fn follow(&self, lsn: Lsn) -> Result<Follow, WalError> {
        SharedComponentWal::follow(self, lsn)
    }
    fn fail_syncs(&self) {
        self.with_writer(|writer| {
            let wal = writer.component();
            let stats = wal.fs_stats();
            // The guest poisons its log at the first failed sync: failing that one is
            // failing every later one.
            let plan = FaultPlan {
                fail_sync: Some(stats.syncs + stats.sync_datas + 1),
                ..wal.fault_plan()
            };
            wal.set_fault_plan(plan);
        });
    }
    fn syncs(&self) -> u64 {
        self.with_writer(|writer| {
            let stats = writer.component().fs_stats();
            stats.syncs + stats.sync_datas - stats.failed_syncs
        })
    }
}
