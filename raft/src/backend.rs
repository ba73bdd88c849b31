//! The few log operations the adapter needs, and their implementations: the native engine
//! (alone or shared between threads) and the engine inside the component.

use std::error::Error;
use std::path::Path;
use std::sync::Mutex;

use walogs::{Lsn, Wal, WalConfig};

/// What a backend's failures are: the engine's own error, boxed.
pub type BackendError = Box<dyn Error + Send + Sync + 'static>;

/// A walogs log as the adapter uses it. Every method takes `&self`: the adapter shares one
/// backend between the writer ([`crate::LogStore`]) and its readers.
///
/// Implementations must keep walogs' promises: [`LogBackend::append`] returns after the
/// entries are durable (`Durability::Always`), LSNs are dense, and a crash during
/// [`LogBackend::truncate_after`] or [`LogBackend::checkpoint`] leaves the old or the new log.
///
/// [`crate::LogStore`] calls the writing methods (`append`, `truncate_after`, `checkpoint`)
/// from tokio's blocking pool, never from an async task: they may block on fdatasync, and
/// the component's must not run inside an async task (see [`SharedComponentBackend`]).
pub trait LogBackend: Send + Sync + 'static {
    /// Opens (or creates) the log in `dir`.
    fn open(dir: &Path) -> Result<Self, BackendError>
    where
        Self: Sized;

    /// Appends `entries` (one write, durable when `Ok`) and returns the first one's LSN.
    fn append(&self, entries: Vec<Vec<u8>>) -> Result<Lsn, BackendError>;

    /// The entries with LSNs in `from..until`, in order. `from` must be at or after the first
    /// LSN the log holds, and `until` at most its next LSN.
    fn read(&self, from: Lsn, until: Lsn) -> Result<Vec<Vec<u8>>, BackendError>;

    /// The first LSN the log holds, or `None` when it holds no entry.
    fn first_lsn(&self) -> Result<Option<Lsn>, BackendError>;

    /// The LSN the next append gets.
    fn next_lsn(&self) -> Result<Lsn, BackendError>;

    /// Removes every entry after `lsn` (an LSN the log holds), crash-safely.
    fn truncate_after(&self, lsn: Lsn) -> Result<(), BackendError>;

    /// Deletes the sealed segments whose entries are all at or below `lsn`.
    fn checkpoint(&self, lsn: Lsn) -> Result<usize, BackendError>;
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, BackendError> {
    m.lock()
        .map_err(|_| "the log's lock was poisoned by a panic".into())
}

/// The native engine, one handle behind a mutex.
impl LogBackend for Mutex<Wal> {
    fn open(dir: &Path) -> Result<Self, BackendError> {
        Ok(Mutex::new(Wal::open_with_config(
            dir,
            WalConfig::default(),
        )?))
    }

    fn append(&self, entries: Vec<Vec<u8>>) -> Result<Lsn, BackendError> {
        Ok(lock(self)?.append_batch(&entries)?.start)
    }

    fn read(&self, from: Lsn, until: Lsn) -> Result<Vec<Vec<u8>>, BackendError> {
        let wal = lock(self)?;
        let n = until.0.saturating_sub(from.0) as usize;
        let mut out = Vec::with_capacity(n);
        for entry in wal.iter_from(from)?.take(n) {
            out.push(entry?.1);
        }
        Ok(out)
    }

    fn first_lsn(&self) -> Result<Option<Lsn>, BackendError> {
        Ok(lock(self)?.first_lsn())
    }

    fn next_lsn(&self) -> Result<Lsn, BackendError> {
        Ok(lock(self)?.next_lsn())
    }

    fn truncate_after(&self, lsn: Lsn) -> Result<(), BackendError> {
        Ok(lock(self)?.truncate_after(lsn)?)
    }

    fn checkpoint(&self, lsn: Lsn) -> Result<usize, BackendError> {
        Ok(lock(self)?.checkpoint(lsn)?)
    }
}

/// The native engine shared between threads ([`walogs::SharedWal`]): concurrent appends are
/// group-committed (one write and one fdatasync for the appends that arrive together), and
/// reads go through the log's own readers without taking the writer's lock.
impl LogBackend for walogs::SharedWal {
    fn open(dir: &Path) -> Result<Self, BackendError> {
        Ok(walogs::SharedWal::open(dir)?)
    }

    fn append(&self, entries: Vec<Vec<u8>>) -> Result<Lsn, BackendError> {
        Ok(self.append_batch(&entries)?.start)
    }

    fn read(&self, from: Lsn, until: Lsn) -> Result<Vec<Vec<u8>>, BackendError> {
        let n = until.0.saturating_sub(from.0) as usize;
        let mut out = Vec::with_capacity(n);
        for entry in self.iter_from(from)?.take(n) {
            out.push(entry?.1);
        }
        Ok(out)
    }

    fn first_lsn(&self) -> Result<Option<Lsn>, BackendError> {
        Ok(walogs::SharedWal::first_lsn(self))
    }

    fn next_lsn(&self) -> Result<Lsn, BackendError> {
        Ok(walogs::SharedWal::next_lsn(self))
    }

    fn truncate_after(&self, lsn: Lsn) -> Result<(), BackendError> {
        Ok(walogs::SharedWal::truncate_after(self, lsn)?)
    }

    fn checkpoint(&self, lsn: Lsn) -> Result<usize, BackendError> {
        Ok(walogs::SharedWal::checkpoint(self, lsn)?)
    }
}

/// The engine inside the component, shared between threads
/// ([`walogs_host::SharedComponentWal`]): concurrent appends are grouped on the host into one
/// `append-batch` call into the guest (one write and one fdatasync), and reads go through
/// the host's own readers of the log's files, without entering the component.
///
/// The calls that do enter the component (open, appends, truncation, checkpoint, and the
/// guest's cleanup when the log is dropped) go through wasmtime-wasi's synchronous
/// bindings, which run a future to completion on the calling thread; inside an async task
/// that would panic ("cannot start a runtime from within a runtime"). [`crate::LogStore`]
/// makes its writes from tokio's blocking pool, where this is allowed, and this type opens
/// and drops the log on a short-lived thread of its own. No thread is kept per log.
#[cfg(feature = "component")]
pub struct SharedComponentBackend {
    /// `None` only while being dropped.
    wal: Option<walogs_host::SharedComponentWal>,
}

#[cfg(feature = "component")]
impl SharedComponentBackend {
    /// The shared component log (for statistics, or a test's fault injection through
    /// `with_writer`; calls that enter the component must not be made from an async task).
    pub fn wal(&self) -> &walogs_host::SharedComponentWal {
        self.wal.as_ref().expect("only None while dropping")
    }
}

/// Runs `f` on a new thread, outside any async runtime, and waits for it.
#[cfg(feature = "component")]
fn outside_async<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

#[cfg(feature = "component")]
impl Drop for SharedComponentBackend {
    /// Drops the log (the guest closes its files) outside any async task, and waits, so the
    /// directory lock is released on return.
    fn drop(&mut self) {
        if let Some(wal) = self.wal.take() {
            outside_async(move || drop(wal));
        }
    }
}

#[cfg(feature = "component")]
impl LogBackend for SharedComponentBackend {
    fn open(dir: &Path) -> Result<Self, BackendError> {
        let wal =
            outside_async(|| walogs_host::ComponentWal::open_shared(dir, WalConfig::default()))?;
        Ok(SharedComponentBackend { wal: Some(wal) })
    }

    fn append(&self, entries: Vec<Vec<u8>>) -> Result<Lsn, BackendError> {
        Ok(self.wal().append_batch(&entries)?.start)
    }

    fn read(&self, from: Lsn, until: Lsn) -> Result<Vec<Vec<u8>>, BackendError> {
        let n = until.0.saturating_sub(from.0) as usize;
        let mut out = Vec::with_capacity(n);
        for entry in self.wal().iter_from(from)?.take(n) {
            out.push(entry?.1);
        }
        Ok(out)
    }

    fn first_lsn(&self) -> Result<Option<Lsn>, BackendError> {
        Ok(self.wal().first_lsn())
    }

    fn next_lsn(&self) -> Result<Lsn, BackendError> {
        Ok(self.wal().next_lsn())
    }

    fn truncate_after(&self, lsn: Lsn) -> Result<(), BackendError> {
        Ok(self.wal().truncate_after(lsn)?)
    }

    fn checkpoint(&self, lsn: Lsn) -> Result<usize, BackendError> {
        Ok(self.wal().checkpoint(lsn)?)
    }
}
