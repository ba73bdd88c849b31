//! [`Storage`] through `std::fs`: the native default. It also works inside the component,
//! where std maps onto `wasi:filesystem`, but there `open_dir` picks the faster
//! `WasiStorage`.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{OpenMode, Storage, StorageFile};
use crate::WalError;

/// [`Storage`] on a real directory through `std::fs` (native, and inside the component,
/// where std maps onto `wasi:filesystem`).
#[derive(Debug)]
pub struct StdStorage {
    dir: PathBuf,
    /// The held write lock, released by [`Storage::close`] or when the storage is dropped.
    lock: Mutex<Option<File>>,
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
            Ok(meta) if !meta.is_dir() => return Err(not_a_directory(dir)),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create_dir_durably(dir, &mut |parent| File::open(parent)?.sync_all())?;
            }
            Err(e) => return Err(e.into()),
        }
        let lock = lock_dir(dir)?;
        Ok(Self {
            dir: dir.into(),
            lock: Mutex::new(lock),
        })
    }

    /// Opens an existing `dir` for a reader: nothing is created and no lock is taken.
    pub fn open_reader(dir: &Path) -> Result<Self, WalError> {
        Self::check_path(dir)?;
        let meta = std::fs::metadata(dir)?;
        if !meta.is_dir() {
            return Err(not_a_directory(dir));
        }
        Ok(Self {
            dir: dir.into(),
            lock: Mutex::new(None),
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

/// What walogs 0.1.0 returned for a path that is not a directory: an [`io::Error`] (its
/// kind `NotADirectory`), which 0.1.0's own tests expect.
fn not_a_directory(dir: &Path) -> WalError {
    let msg = format!("not a directory: {}", dir.display());
    WalError::Io(io::Error::new(io::ErrorKind::NotADirectory, msg))
}

/// Creates `dir` and every missing parent, top down, calling `sync_parent` on the parent
/// of each directory created (the working directory `.` for a relative top), so that no
/// created directory can vanish in a power loss.
fn create_dir_durably(
    dir: &Path,
    sync_parent: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = dir;
    loop {
        match std::fs::metadata(at) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(at),
            Err(e) => return Err(e),
        }
        match at.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => at = parent,
            _ => break,
        }
    }
    for created in missing.into_iter().rev() {
        match std::fs::create_dir(created) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && created.is_dir() => continue,
            Err(e) => return Err(e),
        }
        let parent = created
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        sync_parent(parent)?;
    }
    Ok(())
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
            // Every name, whatever its type: a segment name that is a symlink (followed on
            // open) or a directory (an error on open) must never be skipped, or the log
            // would read as shorter and reuse LSNs.
            if let Some(name) = entry?.file_name().to_str() {
                names.push(name.to_owned());
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
        if cfg!(walogs_mutant = "skip-dir-fsync") {
            return Ok(()); // A test-only mutant for the crash explorer.
        }
        File::open(&self.dir)?.sync_all()
    }

    fn close(&self) {
        if let Ok(mut lock) = self.lock.lock() {
            lock.take();
        }
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

    fn size(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_created_directory_has_its_parent_synced() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/c");
        let mut synced = Vec::new();
        create_dir_durably(&dir, &mut |p| {
            synced.push(p.to_path_buf());
            Ok(())
        })
        .unwrap();
        assert!(dir.is_dir());
        let want: Vec<PathBuf> = ["", "a", "a/b"]
            .iter()
            .map(|p| root.path().join(p))
            .collect();
        assert_eq!(synced, want);
        synced.clear();
        create_dir_durably(&dir, &mut |p| {
            synced.push(p.to_path_buf());
            Ok(())
        })
        .unwrap();
        assert!(synced.is_empty(), "nothing created, nothing synced");
    }
}
