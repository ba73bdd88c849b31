//! One log, many threads. [`SharedLog`] group-commits concurrent appends (one write and one
//! fdatasync for every producer waiting) on any [`LogWriter`]; [`SharedWal`] is the engine's
//! own; [`Follow`] readers block for new durable entries.

mod follow;
mod gather;
mod group;
mod hub;
mod view;
mod wal;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use follow::Follow;
use group::{Committer, GroupQueue, publish};
use hub::Hub;
use view::View;
pub use wal::SharedWal;
pub use writer::{LogShape, LogWriter};

use crate::frame::check_size;
use crate::iter::DeletedReport;
use crate::storage::Storage;
use crate::{Lsn, LsnRange, SegmentInfo, TailState, VerifyReport, WalError, WalIter};

/// The default cap on the entry bytes one group commit writes (1 MiB).
pub const DEFAULT_MAX_GROUP_BYTES: usize = 1 << 20;

/// The default cap on how long a group's leader waits for producers to join (1 ms; the
/// wait is also never more than an eighth of the last group's write and sync).
pub const DEFAULT_MAX_GROUP_WAIT: Duration = Duration::from_millis(1);

/// A log handle many threads share: `Clone + Send + Sync`, every clone the same log.
/// [`SharedWal`] is this over the engine's own [`crate::Wal`].
///
/// Appends from many threads are **group-committed**: the first producer to find no group
/// in flight leads one — it takes every producer queued behind it (up to
/// [`SharedLog::set_max_group_bytes`] bytes), writes all their frames with one
/// [`LogWriter::append_batch`] (one write call and, under [`crate::Durability::Always`], one
/// fdatasync), and only then wakes each member and hands the lead to the first producer
/// queued. While one group syncs, the next one gathers; a new leader waits briefly for
/// the producers of the last group to come back (at most an eighth of that group's
/// duration, see [`SharedLog::set_max_group_wait`]), so that the busy producers share one
/// fdatasync. A producer's batch gets contiguous LSNs; LSN order is the order of the
/// frames in the file. With one producer there is nothing to wait for: it writes straight
/// away, as a plain `Wal` would.
///
/// A failed write or sync fails every member of its group with that error, fails every
/// producer still queued, and poisons the handle: every later write returns
/// [`WalError::Poisoned`] until the log is reopened. No caller is left waiting.
///
/// Readers ([`SharedLog::iter_from`], [`SharedLog::follow`], the getters) see only durable
/// entries and never wait for a writer's fdatasync: they read a snapshot of the log's shape
/// published after every change, and read the files through their own handles.
pub struct SharedLog<W: LogWriter> {
    inner: Arc<Inner<W>>,
}

impl<W: LogWriter> Clone for SharedLog<W> {
    fn clone(&self) -> Self {
        SharedLog {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<W: LogWriter> std::fmt::Debug for SharedLog<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLog")
            .field("dir", &self.inner.dir)
            .field("durable_lsn", &self.durable_lsn())
            .finish_non_exhaustive()
    }
}

struct Inner<W: LogWriter> {
    writer: Mutex<W>,
    queue: GroupQueue<W::Error>,
    hub: Arc<Hub>,
    read_only: bool,
    tail_state: TailState,
    dir: PathBuf,
    max_group_bytes: AtomicUsize,
    /// Nanoseconds.
    max_group_wait: AtomicU64,
}

impl<W: LogWriter> Drop for Inner<W> {
    fn drop(&mut self) {
        // Followers may outlive the log: tell them it is closed, and let the files (and
        // the directory lock) go with the last handle.
        self.hub.close();
    }
}

/// How a [`SharedLog`] is set up around its writer.
#[derive(Debug, Clone)]
pub struct SharedSetup {
    /// Readers open the log's files through this (a reader's storage: no lock).
    pub storage: Arc<dyn Storage>,
    /// The directory, for messages.
    pub dir: PathBuf,
    /// Whether the log was opened read-only: appends fail with [`WalError::ReadOnly`].
    pub read_only: bool,
    /// The tail state the writer's open reported.
    pub tail_state: TailState,
}

impl<W: LogWriter> SharedLog<W> {
    /// Shares `writer` between threads; readers open files through `setup.storage`.
    pub fn new(mut writer: W, setup: SharedSetup) -> Result<Self, W::Error> {
        let shape = writer.shape()?;
        let poisoned = writer.poisoned();
        Ok(SharedLog {
            inner: Arc::new(Inner {
                queue: GroupQueue::new(poisoned.clone()),
                hub: Arc::new(Hub::new(shape, poisoned, setup.storage)),
                writer: Mutex::new(writer),
                read_only: setup.read_only,
                tail_state: setup.tail_state,
                dir: setup.dir,
                max_group_bytes: AtomicUsize::new(DEFAULT_MAX_GROUP_BYTES),
                max_group_wait: AtomicU64::new(nanos(DEFAULT_MAX_GROUP_WAIT)),
            }),
        })
    }

    /// Caps the entry bytes one group writes (default [`DEFAULT_MAX_GROUP_BYTES`]), so one
    /// huge writer cannot make everyone queued behind it wait for its write. A producer's
    /// own batch is never split: a batch over the cap forms a group of its own.
    pub fn set_max_group_bytes(&self, bytes: usize) {
        self.inner.max_group_bytes.store(bytes, Ordering::Relaxed);
    }

    /// Caps how long a new group's leader waits for the producers of the last group to
    /// come back before it writes (default [`DEFAULT_MAX_GROUP_WAIT`]; the wait is never
    /// more than an eighth of the last group's write and sync, and ends as soon as every producer
    /// it expects has queued). `Duration::ZERO` writes at once with whoever is queued.
    pub fn set_max_group_wait(&self, wait: Duration) {
        self.inner
            .max_group_wait
            .store(nanos(wait), Ordering::Relaxed);
    }

    /// Appends one entry; returns its LSN once it is durable (under
    /// [`crate::Durability::Always`]), possibly in one group commit with other threads'.
    #[must_use = "check Ok/Err and use the returned Lsn"]
    pub fn append(&self, data: &[u8]) -> Result<Lsn, W::Error> {
        Ok(self.append_batch(&[data])?.start)
    }

    /// Appends `entries` with contiguous LSNs, in one group commit. An oversize entry fails
    /// the call before anything is queued ([`WalError::EntryTooLarge`]).
    pub fn append_batch<T: AsRef<[u8]>>(&self, entries: &[T]) -> Result<LsnRange, W::Error> {
        if self.inner.read_only {
            return Err(WalError::ReadOnly.into());
        }
        for entry in entries {
            check_size(entry.as_ref())?;
        }
        Committer {
            queue: &self.inner.queue,
            writer: &self.inner.writer,
            hub: &self.inner.hub,
            max_group_bytes: self.inner.max_group_bytes.load(Ordering::Relaxed),
            max_group_wait: Duration::from_nanos(self.inner.max_group_wait.load(Ordering::Relaxed)),
        }
        .commit(entries)
    }

    /// Makes everything appended so far durable and returns the durable LSN.
    pub fn sync(&self) -> Result<Lsn, W::Error> {
        self.run(W::sync)
    }

    /// Seals the active segment and starts a new one; safe while other threads append.
    pub fn rotate(&self) -> Result<(), W::Error> {
        self.run(W::rotate)
    }

    /// Deletes the sealed segments whose entries are all `<= applied_up_to`; safe while
    /// other threads append. A follower that has not read those entries yet gets
    /// [`WalError::LsnOutOfRange`] on its next call.
    #[must_use = "check Ok/Err; segment deletion errors leave WAL in a partial state"]
    pub fn checkpoint(&self, applied_up_to: Lsn) -> Result<usize, W::Error> {
        self.run(|w| w.checkpoint(applied_up_to))
    }

    /// Removes every entry after `lsn`; safe while other threads append (their entries
    /// land after the cut). A follower that already read an entry after `lsn` gets
    /// [`WalError::LsnOutOfRange`] on its next call.
    pub fn truncate_after(&self, lsn: Lsn) -> Result<(), W::Error> {
        let hub = &self.inner.hub;
        self.run(|w| {
            w.truncate_after(lsn)?;
            hub.truncated(lsn.0);
            Ok(())
        })
    }

    /// Reads and checks every frame of every segment.
    pub fn verify(&self) -> Result<VerifyReport, W::Error> {
        let mut writer = self.lock_writer();
        writer.verify()
    }

    /// Runs `op` with the writer to itself (no group is in flight meanwhile), then
    /// publishes the log's shape to readers: for what the shared API does not cover, such
    /// as a test's fault injection. Appending through it bypasses group commit but stays
    /// safe: readers see the result after `op` returns.
    pub fn with_writer<R>(&self, op: impl FnOnce(&mut W) -> R) -> R {
        let mut writer = self.lock_writer();
        let result = op(&mut writer);
        if let Some(cause) = publish(&self.inner.hub, &mut *writer) {
            self.inner.queue.poison(cause);
        }
        result
    }

    /// Runs an operation that needs the writer itself, then publishes what it changed.
    fn run<R>(&self, op: impl FnOnce(&mut W) -> Result<R, W::Error>) -> Result<R, W::Error> {
        self.inner.queue.check_poisoned()?;
        let mut writer = self.lock_writer();
        let result = op(&mut writer);
        if let Some(cause) = publish(&self.inner.hub, &mut *writer) {
            self.inner.queue.poison(cause);
        }
        result
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, W> {
        self.inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The durable entries from `lsn` on (`lsn` from [`SharedLog::first_lsn`] to
    /// [`SharedLog::next_lsn`], else [`WalError::LsnOutOfRange`]), as they stand now.
    /// A checkpoint that deletes a segment before the iterator reaches it makes the
    /// iterator yield one [`WalError::LsnOutOfRange`] there, for the LSN it would have
    /// yielded next (as [`SharedLog::follow`] does), and end.
    pub fn iter_from(&self, lsn: Lsn) -> Result<WalIter, WalError> {
        let (view, storage) = self.inner.hub.snapshot()?;
        self.reader(view, storage, lsn.0)
    }

    /// Every durable entry, in LSN order (see [`SharedLog::iter_from`]).
    pub fn iter(&self) -> Result<WalIter, WalError> {
        let (view, storage) = self.inner.hub.snapshot()?;
        let first = view.first_lsn();
        self.reader(view, storage, first)
    }

    /// An iterator over `view` from `lsn` that names truncations and checkpoints that
    /// overtake it.
    fn reader(
        &self,
        view: Arc<View>,
        storage: Arc<dyn Storage>,
        lsn: u64,
    ) -> Result<WalIter, WalError> {
        let truncations = Arc::clone(&self.inner.hub.truncations);
        let hub = Arc::clone(&self.inner.hub);
        let deleted = DeletedReport(Arc::new(move |lsn| hub.lock().view.deleted(lsn)));
        Ok(view
            .iter_from(storage, lsn, truncations)?
            .on_deleted(deleted))
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

    /// The directory holding the log.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }
}

/// `wait` in whole nanoseconds, saturating.
fn nanos(wait: Duration) -> u64 {
    u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX)
}
