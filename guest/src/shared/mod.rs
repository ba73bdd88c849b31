//! [`SharedWal`]: one log, many threads. Concurrent appends are group-committed (one write
//! and one fdatasync for every producer waiting), and [`Follow`] readers block for new
//! durable entries.

mod follow;
mod group;
mod view;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

pub use follow::Follow;
use group::{Committer, Hub};

use crate::frame::check_size;
use crate::{
    Lsn, LsnRange, SegmentInfo, TailState, VerifyReport, Wal, WalConfig, WalError, WalIter,
};

/// The default cap on the entry bytes one group commit writes (1 MiB).
pub const DEFAULT_MAX_GROUP_BYTES: usize = 1 << 20;

/// A log handle many threads share: `Clone + Send + Sync`, every clone the same log.
///
/// Appends from many threads are **group-committed**: the first producer to find no group
/// in flight leads one — it takes every producer queued behind it (up to
/// [`SharedWal::set_max_group_bytes`] bytes), writes all their frames with one write call
/// and, under [`crate::Durability::Always`], one fdatasync, and only then hands every
/// member its LSNs. While one group syncs, the next one gathers. A producer's batch gets
/// contiguous LSNs; LSN order is the order of the frames in the file.
///
/// A failed write or sync fails every member of its group with that error, fails every
/// producer still queued, and poisons the handle: every later call returns
/// [`WalError::Poisoned`] until the log is reopened. No caller is left waiting.
///
/// Readers ([`SharedWal::iter_from`], [`SharedWal::follow`], the getters) see only durable
/// entries and never wait for a writer's fdatasync: they read a snapshot of the log's shape
/// published after every change.
///
/// ```
/// use std::thread;
/// use walogs::{Lsn, SharedWal};
///
/// let dir = tempfile::tempdir()?;
/// let wal = SharedWal::open(dir.path())?;
/// let producers: Vec<_> = (0..4)
///     .map(|i| {
///         let wal = wal.clone();
///         thread::spawn(move || wal.append(format!("from thread {i}").as_bytes()))
///     })
///     .collect();
/// for producer in producers {
///     producer.join().unwrap()?; // Ok: durable
/// }
/// assert_eq!(wal.durable_lsn(), Lsn(4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SharedWal {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    wal: Mutex<Wal>,
    hub: Arc<Hub>,
    read_only: bool,
    tail_state: TailState,
    dir: PathBuf,
    max_group_bytes: AtomicUsize,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Followers outlive the log: tell them it is closed, and let the files (and the
        // directory lock) go with the last handle.
        let mut state = self.hub.lock();
        state.storage = None;
        drop(state);
        self.hub.view_changed.notify_all();
    }
}

impl From<Wal> for SharedWal {
    fn from(wal: Wal) -> Self {
        let hub = Arc::new(Hub::new(&wal));
        SharedWal {
            inner: Arc::new(Inner {
                read_only: wal.config().read_only,
                tail_state: wal.tail_state(),
                dir: wal.dir().to_owned(),
                wal: Mutex::new(wal),
                hub,
                max_group_bytes: AtomicUsize::new(DEFAULT_MAX_GROUP_BYTES),
            }),
        }
    }
}

impl SharedWal {
    /// Opens (or creates) the log in `dir` with the default [`WalConfig`], like [`Wal::open`].
    pub fn open(dir: &Path) -> Result<Self, WalError> {
        Ok(Wal::open(dir)?.into())
    }

    /// Opens (or creates) the log in `dir` with `config`, like [`Wal::open_with_config`].
    pub fn open_with_config(dir: &Path, config: WalConfig) -> Result<Self, WalError> {
        Ok(Wal::open_with_config(dir, config)?.into())
    }

    /// Caps the entry bytes one group writes (default [`DEFAULT_MAX_GROUP_BYTES`]), so one
    /// huge writer cannot make everyone queued behind it wait for its write. A producer's
    /// own batch is never split: a batch over the cap forms a group of its own.
    pub fn set_max_group_bytes(&self, bytes: usize) {
        self.inner.max_group_bytes.store(bytes, Ordering::Relaxed);
    }

    /// Appends one entry; returns its LSN once it is durable (under
    /// [`crate::Durability::Always`]), possibly in one group commit with other threads'.
    #[must_use = "check Ok/Err and use the returned Lsn"]
    pub fn append(&self, data: &[u8]) -> Result<Lsn, WalError> {
        Ok(self.append_batch(&[data])?.start)
    }

    /// Appends `entries` with contiguous LSNs, in one group commit. An oversize entry fails
    /// the call before anything is queued ([`WalError::EntryTooLarge`]).
    pub fn append_batch<T: AsRef<[u8]>>(&self, entries: &[T]) -> Result<LsnRange, WalError> {
        if self.inner.read_only {
            return Err(WalError::ReadOnly);
        }
        for entry in entries {
            check_size(entry.as_ref())?;
        }
        Committer {
            hub: &self.inner.hub,
            wal: &self.inner.wal,
            max_group_bytes: self.inner.max_group_bytes.load(Ordering::Relaxed),
        }
        .commit(entries)
    }

    /// Makes everything appended so far durable and returns the durable LSN, like
    /// [`Wal::sync`].
    pub fn sync(&self) -> Result<Lsn, WalError> {
        self.with_wal(Wal::sync)
    }

    /// Seals the active segment and starts a new one, like [`Wal::rotate`]; safe while
    /// other threads append.
    pub fn rotate(&self) -> Result<(), WalError> {
        self.with_wal(Wal::rotate)
    }

    /// Deletes the sealed segments whose entries are all `<= applied_up_to`, like
    /// [`Wal::checkpoint`]; safe while other threads append. A follower that has not read
    /// those entries yet gets [`WalError::LsnOutOfRange`] on its next call.
    #[must_use = "check Ok/Err; segment deletion errors leave WAL in a partial state"]
    pub fn checkpoint(&self, applied_up_to: Lsn) -> Result<usize, WalError> {
        self.with_wal(|wal| wal.checkpoint(applied_up_to))
    }

    /// Removes every entry after `lsn`, like [`Wal::truncate_after`]; safe while other
    /// threads append (their entries land after the cut). A follower that already read an
    /// entry after `lsn` gets [`WalError::LsnOutOfRange`] on its next call.
    pub fn truncate_after(&self, lsn: Lsn) -> Result<(), WalError> {
        let hub = &self.inner.hub;
        self.with_wal(|wal| {
            wal.truncate_after(lsn)?;
            hub.lock().truncations.push(lsn.0);
            Ok(())
        })
    }

    /// Runs an operation that needs the log itself, then publishes what it changed.
    fn with_wal<R>(&self, op: impl FnOnce(&mut Wal) -> Result<R, WalError>) -> Result<R, WalError> {
        self.inner.hub.lock().check_poisoned()?;
        let mut wal = self
            .inner
            .wal
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = op(&mut wal);
        let hub = &self.inner.hub;
        hub.publish(&mut hub.lock(), &wal);
        result
    }

    /// The durable entries from `lsn` on (`lsn` from [`SharedWal::first_lsn`] to
    /// [`SharedWal::next_lsn`], else [`WalError::LsnOutOfRange`]), as they stand now.
    /// A checkpoint that deletes a segment before the iterator reaches it makes the
    /// iterator yield an error there ([`SharedWal::follow`] reports it as out of range).
    pub fn iter_from(&self, lsn: Lsn) -> Result<WalIter, WalError> {
        let (view, storage) = self.snapshot();
        view.iter_from(storage, lsn.0)
    }

    /// Every durable entry, in LSN order.
    pub fn iter(&self) -> WalIter {
        let (view, storage) = self.snapshot();
        view.iter_from(storage, view.first_lsn())
            .expect("the first LSN is always in range")
    }

    fn snapshot(&self) -> (Arc<view::View>, Arc<dyn crate::storage::Storage>) {
        let state = self.inner.hub.lock();
        let storage = state.storage.clone().expect("open while a handle exists");
        (Arc::clone(&state.view), storage)
    }

    /// Follows the log from `lsn`: an iterator that yields every durable entry from `lsn`
    /// on and then blocks for the next group commit. See [`Follow`].
    pub fn follow(&self, lsn: Lsn) -> Result<Follow, WalError> {
        Follow::new(Arc::clone(&self.inner.hub), lsn.0)
    }

    /// The highest durable LSN (`Lsn(0)` when none is).
    pub fn durable_lsn(&self) -> Lsn {
        Lsn(self.inner.hub.lock().view.durable)
    }

    /// The LSN the next append will get (if no other thread appends first).
    pub fn next_lsn(&self) -> Lsn {
        Lsn(self.inner.hub.lock().view.next_lsn)
    }

    /// The first LSN the log holds, or `None` when it holds no entry.
    pub fn first_lsn(&self) -> Option<Lsn> {
        let state = self.inner.hub.lock();
        (!state.view.is_empty()).then(|| Lsn(state.view.first_lsn()))
    }

    /// The last LSN the log holds, or `None` when it holds no entry.
    pub fn last_lsn(&self) -> Option<Lsn> {
        let state = self.inner.hub.lock();
        (!state.view.is_empty()).then(|| Lsn(state.view.next_lsn - 1))
    }

    /// Segment files of the log, including the active one.
    pub fn segment_count(&self) -> usize {
        self.inner.hub.lock().view.segments.len()
    }

    /// Every segment file, oldest first.
    pub fn segments(&self) -> Vec<SegmentInfo> {
        self.inner.hub.lock().view.segments.clone()
    }

    /// The tail state recorded when the log was opened.
    pub fn tail_state(&self) -> TailState {
        self.inner.tail_state
    }

    /// Reads and checks every frame of every segment, like [`Wal::verify`].
    pub fn verify(&self) -> Result<VerifyReport, WalError> {
        let wal = self
            .inner
            .wal
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        wal.verify()
    }

    /// The directory holding the log.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }
}
