//! The two WASI calls of a durable append, `descriptor.write` and `descriptor.sync-data`,
//! served without wasmtime-wasi's async-to-sync shim.
//!
//! wasmtime-wasi's synchronous bindings run every filesystem call as a future on its own
//! Tokio runtime (`block_on`, after a `yield_now`), even when the store allows blocking on
//! the calling thread, as this host's always does. For a write into a file and its
//! fdatasync that is pure overhead: these functions look the descriptor up in the store's
//! resource table, apply the same checks as wasmtime-wasi (a file, not a directory; the
//! preopen's write permission) and make the system call directly, writing straight from
//! the guest's memory. Every other call, and `sync-data` on a directory, goes to
//! wasmtime-wasi unchanged.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, WasmList};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::filesystem::{Descriptor as FsDescriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, Descriptor, ErrorCode, HostDescriptor,
};

/// The version of `wasi:filesystem` the host serves (what the linker's names carry).
pub(crate) const FS_TYPES: &str = concat!("wasi:filesystem/types@", wasi_version!());

/// The WIT error code of a failed system call, as wasmtime-wasi maps it.
fn error_code(e: std::io::Error) -> ErrorCode {
    wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode::from(e).into()
}

/// The file behind `fd` when the guest may write it (wasmtime-wasi's checks and codes).
pub(crate) fn writable<T: WasiView>(
    data: &mut T,
    fd: &Resource<Descriptor>,
) -> wasmtime::Result<Result<Arc<File>, ErrorCode>> {
    Ok(match data.ctx().table.get(fd)? {
        FsDescriptor::File(file) if file.perms.write_not_permitted() => {
            Err(ErrorCode::NotPermitted)
        }
        FsDescriptor::File(file) => Ok(Arc::clone(&file.file)),
        FsDescriptor::Dir(_) => Err(ErrorCode::BadDescriptor),
    })
}

/// One positional write: the bytes written, or the error's WIT code.
pub(crate) fn write_at(file: &File, buf: &[u8], offset: u64) -> Result<u64, ErrorCode> {
    file.write_at(buf, offset)
        .map(|n| n as u64)
        .map_err(error_code)
}

/// `descriptor.sync-data`: fdatasync of a file; a directory's goes to wasmtime-wasi.
pub(crate) fn sync_data<T: WasiView>(
    data: &mut T,
    fd: Resource<Descriptor>,
) -> wasmtime::Result<Result<(), ErrorCode>> {
    if let FsDescriptor::File(file) = data.ctx().table.get(&fd)? {
        return Ok(file.file.sync_data().map_err(error_code));
    }
    match HostDescriptor::sync_data(&mut data.filesystem(), fd) {
        Ok(()) => Ok(Ok(())),
        Err(e) => Ok(Err(fs::Host::convert_error_code(
            &mut data.filesystem(),
            e,
        )?)),
    }
}

/// Shadows wasmtime-wasi's `descriptor.write` and `descriptor.sync-data` in `linker`,
/// which must already hold them (`wasmtime_wasi::p2::add_to_linker_sync`).
pub(crate) fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut inst = linker.instance(FS_TYPES)?;
    inst.func_wrap(
        "[method]descriptor.write",
        // The bytes are written from the guest's memory, not copied out of it first.
        |mut s: StoreContextMut<'_, T>,
         (fd, buf, offset): (Resource<Descriptor>, WasmList<u8>, u64)| {
            let file = match writable(s.data_mut(), &fd)? {
                Ok(file) => file,
                Err(code) => return Ok((Err(code),)),
            };
            Ok((write_at(&file, buf.as_le_slice(&s), offset),))
        },
    )?;
    inst.func_wrap(
        "[method]descriptor.sync-data",
        |mut s: StoreContextMut<'_, T>, (fd,): (Resource<Descriptor>,)| {
            Ok((sync_data(s.data_mut(), fd)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs::{File, OpenOptions};

    use wasmtime::component::Resource;
    use wasmtime_wasi::filesystem::{Descriptor, Dir, File as FsFile};
    use wasmtime_wasi::{FsPerms, OpenMode, WasiCtxBuilder, WasiView};

    use super::{ErrorCode, sync_data, writable, write_at};
    use crate::state::HostState;

    /// What the linked `descriptor.write` does, with the bytes from the host.
    fn write(
        s: &mut HostState,
        fd: Resource<Descriptor>,
        buf: &[u8],
        offset: u64,
    ) -> wasmtime::Result<Result<u64, ErrorCode>> {
        Ok(writable(s, &fd)?.and_then(|f| write_at(&f, buf, offset)))
    }

    fn state() -> HostState {
        HostState::new(WasiCtxBuilder::new().build(), 1 << 20)
    }

    /// A file holding `bytes` in `dir`, opened for reading and writing.
    fn file_holding(dir: &std::path::Path, bytes: &[u8]) -> (std::path::PathBuf, File) {
        let path = dir.join("seg");
        std::fs::write(&path, bytes).unwrap();
        let file = OpenOptions::new().read(true).write(true).open(&path);
        (path, file.unwrap())
    }

    fn push_file(state: &mut HostState, file: File, perms: FsPerms) -> Resource<Descriptor> {
        let file = FsFile::new(file, perms, OpenMode::READ | OpenMode::WRITE, true);
        state.ctx().table.push(Descriptor::File(file)).unwrap()
    }

    #[test]
    fn a_write_lands_at_its_offset_and_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let (path, file) = file_holding(dir.path(), b"0123456789");
        let mut s = state();
        let fd = push_file(&mut s, file, FsPerms::ReadWrite);
        let same = Resource::new_borrow(fd.rep());
        assert_eq!(write(&mut s, fd, b"ab", 4).unwrap(), Ok(2));
        assert_eq!(sync_data(&mut s, same).unwrap(), Ok(()));
        assert_eq!(std::fs::read(&path).unwrap(), b"0123ab6789");
    }

    #[test]
    fn a_full_device_answers_insufficient_space() {
        let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
        let mut s = state();
        let fd = push_file(&mut s, full, FsPerms::ReadWrite);
        let r = write(&mut s, fd, &[7; 116], 0).unwrap();
        assert_eq!(r, Err(ErrorCode::InsufficientSpace));
    }

    #[test]
    fn a_read_only_preopen_refuses_the_write_and_leaves_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (path, file) = file_holding(dir.path(), b"kept");
        let mut s = state();
        let fd = push_file(&mut s, file, FsPerms::ReadOnly);
        let r = write(&mut s, fd, b"lost", 0).unwrap();
        assert_eq!(r, Err(ErrorCode::NotPermitted));
        assert_eq!(std::fs::read(&path).unwrap(), b"kept");
    }

    #[test]
    fn a_directory_cannot_be_written_but_can_be_synced() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = state();
        let handle = File::open(dir.path()).unwrap();
        let d = Dir::new(
            handle,
            FsPerms::ReadWrite,
            OpenMode::READ | OpenMode::WRITE,
            true,
        );
        let fd = s.ctx().table.push(Descriptor::Dir(d)).unwrap();
        let same = Resource::new_borrow(fd.rep());
        let r = write(&mut s, fd, b"x", 0).unwrap();
        assert_eq!(r, Err(ErrorCode::BadDescriptor));
        assert_eq!(sync_data(&mut s, same).unwrap(), Ok(()));
    }
}
