//! The engine's only door to the disk: a directory of named files.
//!
//! Everything the engine does to the disk goes through [`Storage`] and [`StorageFile`], so
//! the file layer can be swapped (std on native targets and in the component; direct
//! `wasi:filesystem` calls later; a fault-injecting wrapper in tests) without touching the
//! log logic.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

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
    /// The names of the regular files in the directory, in no particular order.
    fn list(&self) -> io::Result<Vec<String>>;
    /// Opens `name` in the directory.
    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>>;
    /// Deletes `name`.
    fn remove(&self, name: &str) -> io::Result<()>;
    /// Renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;
    /// Makes the directory's entries (creates, deletes, renames) durable.
    fn sync_dir(&self) -> io::Result<()>;
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
    fn len(&self) -> io::Result<u64>;
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

/// [`Storage`] on a real directory through `std::fs` (native, and inside the component,
/// where std maps onto `wasi:filesystem`).
#[derive(Debug)]
pub struct StdStorage {
    dir: PathBuf,
    /// The held write lock, released when the storage is dropped.
    _lock: Option<File>,
}

/// Name of the lock file a writer holds.
pub const LOCK_FILENAME: &str = "LOCK";

impl StdStorage {
    /// Opens `dir` for a writer: creates it (and syncs its parent) if missing, checks that
    /// it is a directory, and takes the exclusive lock on its `LOCK` file.
    ///
    /// Inside the component there are no file locks; the host takes the lock instead.
    pub fn open_writer(dir: &Path) -> Result<Self, WalError> {
        Self::check_path(dir)?;
        match std::fs::metadata(dir) {
            Ok(meta) if !meta.is_dir() => {
                return Err(WalError::NotADirectory { path: dir.into() });
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                    File::open(parent)?.sync_all()?;
                }
            }
            Err(e) => return Err(e.into()),
        }
        let lock = lock_dir(dir)?;
        Ok(Self {
            dir: dir.into(),
            _lock: lock,
        })
    }

    /// Opens an existing `dir` for a reader: nothing is created and no lock is taken.
    pub fn open_reader(dir: &Path) -> Result<Self, WalError> {
        Self::check_path(dir)?;
        let meta = std::fs::metadata(dir)?;
        if !meta.is_dir() {
            return Err(WalError::NotADirectory { path: dir.into() });
        }
        Ok(Self {
            dir: dir.into(),
            _lock: None,
        })
    }

    fn check_path(dir: &Path) -> Result<(), WalError> {
        if dir.as_os_str().is_empty() {
            return Err(WalError::InvalidPath {
                path: String::new(),
                reason: "the path is empty".into(),
            });
        }
        Ok(())
    }
}

#[cfg(not(target_os = "wasi"))]
fn lock_dir(dir: &Path) -> Result<Option<File>, WalError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILENAME))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(WalError::Locked { dir: dir.into() }),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

#[cfg(target_os = "wasi")]
fn lock_dir(_dir: &Path) -> Result<Option<File>, WalError> {
    Ok(None)
}

impl Storage for StdStorage {
    fn path(&self) -> &Path {
        &self.dir
    }

    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                if let Some(name) = entry.file_name().to_str() {
                    names.push(name.to_owned());
                }
            }
        }
        Ok(names)
    }

    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        let mut options = OpenOptions::new();
        options.read(true);
        match mode {
            OpenMode::Read => {}
            OpenMode::ReadWrite => {
                options.write(true);
            }
            OpenMode::CreateNew => {
                options.write(true).create_new(true);
            }
        }
        Ok(Box::new(StdFile(options.open(self.dir.join(name))?)))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        std::fs::remove_file(self.dir.join(name))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        std::fs::rename(self.dir.join(from), self.dir.join(to))
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }
}

/// A [`StorageFile`] on a `std::fs::File`.
#[derive(Debug)]
struct StdFile(File);

impl StorageFile for StdFile {
    #[cfg(unix)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&self.0, buf, offset)
    }

    #[cfg(not(unix))]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = &self.0;
        file.seek(SeekFrom::Start(offset))?;
        file.read(buf)
    }

    #[cfg(unix)]
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(&self.0, buf, offset)
    }

    #[cfg(not(unix))]
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        use std::io::{Seek, SeekFrom, Write};
        self.0.seek(SeekFrom::Start(offset))?;
        self.0.write_all(buf)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
}
