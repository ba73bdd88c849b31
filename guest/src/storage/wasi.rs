//! [`Storage`] through direct `wasi:filesystem` calls: the component's file layer.
//!
//! Each file operation is one host call (positional `read` and `write`, `sync-data`, `stat`,
//! `set-size`) instead of std's stream round trips, and files are opened with only the
//! descriptor flags they need: std's `File::create` asks for `mutate-directory`, which the
//! Node preview2 shim rejects.
//!
//! The log directory is always held through a descriptor from `open-at`, never the preopen
//! itself: the Node shim cannot `sync`, `stat` or `read-directory` a preopen descriptor, and
//! std inside the component opens the preopen's `.` the same way.

use std::io;
use std::path::{Path, PathBuf};

use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};

use super::{OpenMode, Storage, StorageFile};
use crate::WalError;

/// [`Storage`] on a directory under one of the component's preopens.
///
/// Takes no lock: WASI has none, so the host holds the directory's `LOCK` file.
#[derive(Debug)]
pub struct WasiStorage {
    dir: PathBuf,
    fd: Descriptor,
}

impl WasiStorage {
    /// Opens `dir` for a writer: creates the missing directories on the way (syncing each
    /// parent) and checks that `dir` is a directory.
    pub fn open_writer(dir: &Path) -> Result<Self, WalError> {
        Self::open(dir, true)
    }

    /// Opens an existing `dir` for a reader: nothing is created.
    pub fn open_reader(dir: &Path) -> Result<Self, WalError> {
        Self::open(dir, false)
    }

    /// Resolves `dir` against the preopen whose name is its longest component-wise prefix,
    /// then opens the rest one component at a time.
    fn open(dir: &Path, writer: bool) -> Result<Self, WalError> {
        let invalid = |reason: &str| WalError::InvalidPath {
            path: dir.display().to_string(),
            reason: reason.into(),
        };
        let text = dir
            .to_str()
            .ok_or_else(|| invalid("the path is not valid UTF-8"))?;
        if text.is_empty() {
            return Err(invalid("the path is empty"));
        }
        let parts = components(text);
        if parts.contains(&"..") {
            return Err(invalid(
                "the path contains a `..` component and could leave the preopened directory",
            ));
        }
        let (preopen, skip) = get_directories()
            .into_iter()
            .filter_map(|(fd, name)| {
                let prefix = components(&name);
                parts.starts_with(&prefix).then_some((fd, prefix.len()))
            })
            .max_by_key(|&(_, len)| len)
            .ok_or_else(|| invalid("no preopened directory contains the path"))?;
        let fail = |code| match code {
            ErrorCode::NotDirectory => WalError::NotADirectory { path: dir.into() },
            code => io_err("open directory", text)(code).into(),
        };
        let mut fd = open_dir_at(&preopen, ".", writer).map_err(fail)?;
        for &part in &parts[skip..] {
            fd = match open_dir_at(&fd, part, writer) {
                Err(ErrorCode::NoEntry) if writer => {
                    match fd.create_directory_at(part) {
                        Ok(()) | Err(ErrorCode::Exist) => {}
                        Err(code) => return Err(io_err("create directory", text)(code).into()),
                    }
                    sync_dir(&fd).map_err(io_err("sync directory", text))?;
                    open_dir_at(&fd, part, writer)
                }
                opened => opened,
            }
            .map_err(fail)?;
        }
        Ok(Self {
            dir: dir.into(),
            fd,
        })
    }

    /// The directory as text, for messages (it was checked to be UTF-8 on open).
    fn path_str(&self) -> &str {
        self.dir.to_str().unwrap_or_default()
    }
}

/// The path's components, without empty and `.` ones (so `/wal/./a/` is `["wal", "a"]`).
fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// Opens the directory `name` under `parent`. A writer asks for `mutate-directory`, which
/// the WASI spec requires for creates, deletes and renames through the descriptor, and
/// falls back to plain `read` where the host rejects the flag (the Node shim does; wasmtime
/// ignores it and applies the preopen's permissions either way).
fn open_dir_at(parent: &Descriptor, name: &str, writer: bool) -> Result<Descriptor, ErrorCode> {
    let open = |flags| parent.open_at(PathFlags::SYMLINK_FOLLOW, name, OpenFlags::DIRECTORY, flags);
    if writer {
        match open(DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY) {
            Err(ErrorCode::Unsupported) => {}
            opened => return opened,
        }
    }
    open(DescriptorFlags::READ)
}

/// Makes a directory's entries durable with `sync`, falling back to `sync-data` on hosts
/// that refuse a full sync of a directory (wasmtime and the Node shim both accept `sync`).
fn sync_dir(fd: &Descriptor) -> Result<(), ErrorCode> {
    match fd.sync() {
        Err(
            code @ (ErrorCode::Unsupported
            | ErrorCode::IsDirectory
            | ErrorCode::Invalid
            | ErrorCode::BadDescriptor),
        ) => fd.sync_data().map_err(|_| code),
        synced => synced,
    }
}

/// Turns a `wasi:filesystem` error of operation `op` on `what` into an [`io::Error`] whose
/// kind matches the code and whose text names the operation, the target and the code.
fn io_err<'a>(op: &'a str, what: &'a str) -> impl FnOnce(ErrorCode) -> io::Error + 'a {
    move |code| io::Error::new(kind(code), format!("{op} {what}: {}", code.name()))
}

/// The [`io::ErrorKind`] closest to a `wasi:filesystem` error code.
fn kind(code: ErrorCode) -> io::ErrorKind {
    use io::ErrorKind as K;
    match code {
        ErrorCode::NoEntry => K::NotFound,
        ErrorCode::Exist => K::AlreadyExists,
        ErrorCode::Access | ErrorCode::NotPermitted => K::PermissionDenied,
        ErrorCode::ReadOnly => K::ReadOnlyFilesystem,
        ErrorCode::WouldBlock => K::WouldBlock,
        ErrorCode::Interrupted => K::Interrupted,
        ErrorCode::Invalid => K::InvalidInput,
        ErrorCode::IllegalByteSequence => K::InvalidData,
        ErrorCode::NameTooLong => K::InvalidFilename,
        ErrorCode::IsDirectory => K::IsADirectory,
        ErrorCode::NotDirectory => K::NotADirectory,
        ErrorCode::NotEmpty => K::DirectoryNotEmpty,
        ErrorCode::Busy => K::ResourceBusy,
        ErrorCode::TextFileBusy => K::ExecutableFileBusy,
        ErrorCode::Deadlock => K::Deadlock,
        ErrorCode::Quota => K::QuotaExceeded,
        ErrorCode::InsufficientSpace => K::StorageFull,
        ErrorCode::InsufficientMemory => K::OutOfMemory,
        ErrorCode::FileTooLarge => K::FileTooLarge,
        ErrorCode::TooManyLinks => K::TooManyLinks,
        ErrorCode::CrossDevice => K::CrossesDevices,
        ErrorCode::InvalidSeek => K::NotSeekable,
        ErrorCode::Unsupported => K::Unsupported,
        _ => K::Other,
    }
}

impl Storage for WasiStorage {
    fn path(&self) -> &Path {
        &self.dir
    }

    fn list(&self) -> io::Result<Vec<String>> {
        let fail = || io_err("list", self.path_str());
        let entries = self.fd.read_directory().map_err(fail())?;
        let mut names = Vec::new();
        // Every name, whatever its type (see `StdStorage::list`).
        while let Some(entry) = entries.read_directory_entry().map_err(fail())? {
            names.push(entry.name);
        }
        Ok(names)
    }

    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        let read_write = DescriptorFlags::READ | DescriptorFlags::WRITE;
        let (open_flags, flags) = match mode {
            OpenMode::Read => (OpenFlags::empty(), DescriptorFlags::READ),
            OpenMode::ReadWrite => (OpenFlags::empty(), read_write),
            OpenMode::CreateNew => (OpenFlags::CREATE | OpenFlags::EXCLUSIVE, read_write),
        };
        let fd = self
            .fd
            .open_at(PathFlags::SYMLINK_FOLLOW, name, open_flags, flags)
            .map_err(io_err("open", name))?;
        Ok(Box::new(WasiFile {
            fd,
            name: name.into(),
        }))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        self.fd.unlink_file_at(name).map_err(io_err("remove", name))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.fd
            .rename_at(from, &self.fd, to)
            .map_err(io_err("rename", from))
    }

    fn sync_dir(&self) -> io::Result<()> {
        if cfg!(walogs_mutant = "skip-dir-fsync") {
            return Ok(()); // A test-only mutant for the crash explorer.
        }
        sync_dir(&self.fd).map_err(io_err("sync directory", self.path_str()))
    }
}

/// A [`StorageFile`] on a `wasi:filesystem` descriptor.
#[derive(Debug)]
struct WasiFile {
    fd: Descriptor,
    /// The file's name, for messages.
    name: String,
}

impl StorageFile for WasiFile {
    /// One positional `read`; callers loop through `read_full_at` until the buffer is full
    /// or a read returns nothing, so looping here too would only add a host call at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let (data, _end) = self
            .fd
            .read(buf.len() as u64, offset)
            .map_err(io_err("read", &self.name))?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }

    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let n = self
                .fd
                .write(&buf[done..], offset + done as u64)
                .map_err(io_err("write", &self.name))?;
            if n == 0 {
                let msg = format!("write {}: the host wrote 0 bytes", self.name);
                return Err(io::Error::new(io::ErrorKind::WriteZero, msg));
            }
            done += n as usize;
        }
        Ok(())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.fd.sync_data().map_err(io_err("sync", &self.name))
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.fd
            .set_size(len)
            .map_err(io_err("set size of", &self.name))
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.fd.stat().map_err(io_err("stat", &self.name))?.size)
    }
}
