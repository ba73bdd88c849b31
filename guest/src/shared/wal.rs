//! [`SharedWal`]: the engine's own [`Wal`] shared between threads.

use std::path::Path;
use std::sync::Arc;

use super::{SharedLog, SharedSetup};
use crate::{Wal, WalConfig, WalError};

/// The engine's log shared by many threads: a [`SharedLog`] over [`Wal`]. Opened like a
/// `Wal` ([`SharedWal::open`], [`SharedWal::open_with_config`], or `From<Wal>`).
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
pub type SharedWal = SharedLog<Wal>;

impl From<Wal> for SharedLog<Wal> {
    fn from(wal: Wal) -> Self {
        let setup = SharedSetup {
            storage: Arc::clone(wal.storage()),
            dir: wal.dir().to_owned(),
            read_only: wal.config().read_only,
            tail_state: wal.tail_state(),
        };
        SharedLog::new(wal, setup).expect("a Wal always reports its shape")
    }
}

impl SharedLog<Wal> {
    /// Opens (or creates) the log in `dir` with the default [`WalConfig`], like [`Wal::open`].
    pub fn open(dir: &Path) -> Result<Self, WalError> {
        Ok(Wal::open(dir)?.into())
    }

    /// Opens (or creates) the log in `dir` with `config`, like [`Wal::open_with_config`].
    pub fn open_with_config(dir: &Path, config: WalConfig) -> Result<Self, WalError> {
        Ok(Wal::open_with_config(dir, config)?.into())
    }
}
