//! The engine's only door to the disk: a directory of named files.
//!
//! Everything the engine does to the disk goes through [`Storage`] and [`StorageFile`], so
//! the file layer can be swapped (std on native targets, direct `wasi:filesystem` calls in
//! the component, a fault-injecting wrapper in tests) without touching the log logic.

mod std_fs;
#[cfg(target_os = "wasi")]
mod wasi;

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

pub use std_fs::{LOCK_FILENAME, StdStorage};
#[cfg(target_os = "wasi")]
pub use wasi::WasiStorage;

use crate::WalError;

/// How [`Storage::open`] opens a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Read only; the file must exist.
    Read,
    /// Read and write; the file must exist.
    ReadWrite,
    /// Read and write; the file must not exist yet.
    CreateNew,
}

/// One directory holding the log's files. Names are plain file names (no separators).
pub trait Storage: Send + Sync + fmt::Debug {
    /// The directory, for messages.
    fn path(&self) -> &Path;
    /// The names of the entries in the directory (files, symlinks, anything), in no
    /// particular order.
    fn list(&self) -> io::Result<Vec<String>>;
    /// Opens `name` in the directory.
    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>>;
    /// Deletes `name`.
    fn remove(&self, name: &str) -> io::Result<()>;
    /// Renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;
    /// Makes the directory's entries (creates, deletes, renames) durable.
    fn sync_dir(&self) -> io::Result<()>;
    /// Called when the writer using this storage is dropped: release what only a writer
    /// needs (the directory's lock). Iterators that share the storage may still read.
    /// The default does nothing.
    fn close(&self) {}
}

/// One open file of the log.
pub trait StorageFile: Send + fmt::Debug {
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (0 at the end).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// Writes all of `buf` at `offset`.
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Makes the file's data durable (fdatasync).
    fn sync_data(&mut self) -> io::Result<()>;
    /// Cuts or extends the file to `len` bytes.
    fn set_len(&mut self, len: u64) -> io::Result<()>;
    /// The file's size in bytes.
    fn size(&self) -> io::Result<u64>;
}

/// Reads exactly `buf.len()` bytes at `offset` unless the file ends first; returns the count.
pub(crate) fn read_full_at(
    file: &dyn StorageFile,
    buf: &mut [u8],
    offset: u64,
) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The storage `Wal::open_with_config` uses for `dir`: a writer's (created if missing,
/// locked) or a reader's (must exist, untouched).
#[cfg(not(target_os = "wasi"))]
pub(crate) fn open_dir(dir: &Path, read_only: bool) -> Result<Arc<dyn Storage>, WalError> {
    Ok(if read_only {
        Arc::new(StdStorage::open_reader(dir)?)
    } else {
        Arc::new(StdStorage::open_writer(dir)?)
    })
}

/// The storage `Wal::open_with_config` uses for `dir` inside the component: direct
/// `wasi:filesystem` calls, no lock (the host holds it).
#[cfg(target_os = "wasi")]
pub(crate) fn open_dir(dir: &Path, read_only: bool) -> Result<Arc<dyn Storage>, WalError> {
    Ok(if read_only {
        Arc::new(WasiStorage::open_reader(dir)?)
    } else {
        Arc::new(WasiStorage::open_writer(dir)?)
    })
}
