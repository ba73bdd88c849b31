//! The few log operations the adapter needs, and their two implementations: the native
//! engine and the engine inside the component.

use std::error::Error;
use std::path::Path;
use std::sync::Mutex;
#[cfg(feature = "component")]
use std::sync::mpsc;

use walogs::{Lsn, Wal, WalConfig};

/// What a backend's failures are: the engine's own error, boxed.
pub type BackendError = Box<dyn Error + Send + Sync + 'static>;

/// A walogs log as the adapter uses it. Every method takes `&self`: the adapter shares one
/// backend between the writer ([`crate::LogStore`]) and its readers.
///
/// Implementations must keep walogs' promises: [`LogBackend::append`] returns after the
/// entries are durable (`Durability::Always`), LSNs are dense, and a crash during
/// [`LogBackend::truncate_after`] or [`LogBackend::checkpoint`] leaves the old or the new log.
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

/// The engine inside the component, through the host runtime, on a thread of its own.
///
/// wasmtime-wasi's synchronous calls start their own async executor, which a thread of an
/// async runtime (where openraft calls the store) must not do; so the handle lives on a
/// dedicated thread and each call is sent there and waited for.
#[cfg(feature = "component")]
pub struct ComponentBackend {
    jobs: Option<Mutex<mpsc::Sender<Job>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[cfg(feature = "component")]
type Job = Box<dyn FnOnce(&mut walogs_host::ComponentWal) + Send>;

#[cfg(feature = "component")]
impl ComponentBackend {
    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut walogs_host::ComponentWal) -> Result<R, walogs_host::HostError>
        + Send
        + 'static,
    ) -> Result<R, BackendError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let jobs = self.jobs.as_ref().ok_or("the component thread is gone")?;
        lock(jobs)?
            .send(Box::new(move |wal| {
                let _ = tx.send(f(wal));
            }))
            .map_err(|_| "the component thread is gone")?;
        Ok(rx.recv().map_err(|_| "the component thread stopped")??)
    }
}

#[cfg(feature = "component")]
impl Drop for ComponentBackend {
    /// Stops the thread and waits for it, so the directory lock is released on return.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(feature = "component")]
impl LogBackend for ComponentBackend {
    fn open(dir: &Path) -> Result<Self, BackendError> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (opened_tx, opened) = mpsc::sync_channel(1);
        let dir = dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("walogs-component".into())
            .spawn(move || match walogs_host::ComponentWal::open(&dir) {
                Ok(mut wal) => {
                    let _ = opened_tx.send(Ok(()));
                    for job in inbox {
                        job(&mut wal);
                    }
                }
                Err(e) => {
                    let _ = opened_tx.send(Err(e));
                }
            })?;
        let backend = ComponentBackend {
            jobs: Some(Mutex::new(jobs)),
            thread: Some(thread),
        };
        opened
            .recv()
            .map_err(|_| "the component thread stopped")??;
        Ok(backend)
    }

    fn append(&self, entries: Vec<Vec<u8>>) -> Result<Lsn, BackendError> {
        self.call(move |wal| Ok(wal.append_batch(&entries)?.start))
    }

    fn read(&self, from: Lsn, until: Lsn) -> Result<Vec<Vec<u8>>, BackendError> {
        self.call(move |wal| {
            let n = until.0.saturating_sub(from.0) as usize;
            let mut out = Vec::with_capacity(n);
            for entry in wal.iter_from(from)?.take(n) {
                out.push(entry?.1);
            }
            Ok(out)
        })
    }

    fn first_lsn(&self) -> Result<Option<Lsn>, BackendError> {
        self.call(|wal| wal.first_lsn())
    }

    fn next_lsn(&self) -> Result<Lsn, BackendError> {
        self.call(|wal| wal.next_lsn())
    }

    fn truncate_after(&self, lsn: Lsn) -> Result<(), BackendError> {
        self.call(move |wal| wal.truncate_after(lsn))
    }

    fn checkpoint(&self, lsn: Lsn) -> Result<usize, BackendError> {
        self.call(move |wal| wal.checkpoint(lsn))
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
