//! The shadowed `wasi:filesystem/types` functions: syncs, positional writes, opens, sizes,
//! unlinks, renames and directory changes.

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceType, WasmList};
use wasmtime_wasi::filesystem::WasiFilesystemView;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, Descriptor, DescriptorFlags, DescriptorType, ErrorCode, HostDescriptor, OpenFlags,
    PathFlags,
};
use wasmtime_wasi::p2::bindings::sync::io::streams::OutputStream;

use crate::direct::{self, FS_TYPES};

use super::{Interposed, StreamTarget, SyncAction, WriteAction, WriteFaultKind};

/// The result of a filesystem call without a value.
type Unit = wasmtime::Result<(Result<(), ErrorCode>,)>;

/// Converts wasmtime-wasi's filesystem result into what the WIT function returns.
fn fs_result<T, D: Interposed>(
    data: &mut D,
    r: wasmtime_wasi::p2::FsResult<T>,
) -> wasmtime::Result<Result<T, ErrorCode>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(fs::Host::convert_error_code(
            &mut data.filesystem(),
            e,
        )?)),
    }
}

/// A sync wrapper: count, maybe fail with EIO or answer without a system call, else
/// delegate; record the outcome.
fn sync_call<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    fd: Resource<Descriptor>,
    data_only: bool,
) -> Unit {
    let data = store.data_mut();
    let node = data.faults().node(fd.rep());
    let r = match data.faults().on_sync(data_only) {
        SyncAction::Fail => Err(ErrorCode::Io),
        SyncAction::Elide => Ok(()),
        SyncAction::Real if data_only => direct::sync_data(data, fd)?,
        SyncAction::Real => {
            let r = HostDescriptor::sync(&mut data.filesystem(), fd);
            fs_result(data, r)?
        }
    };
    if let Some(rec) = data.faults().observer() {
        rec.synced(node, r.is_ok());
    }
    Ok((r,))
}

/// `descriptor.write`: count, maybe fail, shorten or tear, record what reached the file.
fn write_call<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    (fd, buf, offset): (Resource<Descriptor>, WasmList<u8>, u64),
) -> wasmtime::Result<(Result<u64, ErrorCode>,)> {
    let data = store.data_mut();
    let file = data.faults().file_of(fd.rep());
    let mut crash = None;
    let keep = match data.faults().on_write(buf.len()) {
        WriteAction::Whole => buf.len(),
        WriteAction::Short(keep) => keep.min(buf.len()),
        WriteAction::Fail(WriteFaultKind::NoSpace) => {
            return Ok((Err(ErrorCode::InsufficientSpace),));
        }
        WriteAction::Fail(_) => return Ok((Err(ErrorCode::Io),)),
        WriteAction::Tear(c) => {
            let keep = c.written.min(buf.len());
            crash = Some(c);
            keep
        }
    };
    let target = if keep == 0 {
        None
    } else {
        Some(direct::writable(data, &fd)?)
    };
    let recording = data.faults().observer().is_some();
    // Written from the guest's memory, as without the interposer; copied only to record.
    let bytes = &buf.as_le_slice(&store)[..keep];
    let r = match target {
        None => Ok(0),
        Some(target) => target.and_then(|f| direct::write_at(&f, bytes, offset)),
    };
    // What reached the file, when recording (a failed write recorded nothing).
    let reached = match r {
        Ok(n) if recording => {
            let n = usize::try_from(n).map_or(keep, |n| n.min(keep));
            Some(bytes[..n].to_vec())
        }
        _ => None,
    };
    if let Some(reached) = reached {
        store
            .data_mut()
            .faults()
            .record_write(file, Some(offset), &reached);
    }
    if let Some(crash) = crash {
        // The torn prefix went out; its own failure does not matter, the guest stops.
        return Err(crash.into());
    }
    Ok((r,))
}

/// `descriptor.open-at`: delegate, then (while recording) remember what the new descriptor
/// refers to and record a creation or truncation.
fn open_at_call<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    (fd, path_flags, path, oflags, flags): (
        Resource<Descriptor>,
        PathFlags,
        String,
        OpenFlags,
        DescriptorFlags,
    ),
) -> wasmtime::Result<(Result<Resource<Descriptor>, ErrorCode>,)> {
    let data = store.data_mut();
    let dir = data.faults().dir_path(fd.rep());
    let r = HostDescriptor::open_at(
        &mut data.filesystem(),
        fd,
        path_flags,
        path.clone(),
        oflags,
        flags,
    );
    let r = fs_result(data, r)?;
    if let (Ok(new), Some(rec)) = (&r, data.faults().observer().cloned()) {
        let rep = new.rep();
        let ty = HostDescriptor::get_type(&mut data.filesystem(), Resource::new_borrow(rep));
        let is_dir = matches!(ty, Ok(DescriptorType::Directory));
        let create = oflags.contains(OpenFlags::CREATE);
        let truncate = oflags.contains(OpenFlags::TRUNCATE);
        let node = rec.opened(&dir, &path, is_dir, create, truncate);
        data.faults().descriptors.insert(rep, node);
    }
    Ok((r,))
}

/// `descriptor.set-size`: delegate and record.
fn set_size_call<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    (fd, size): (Resource<Descriptor>, u64),
) -> Unit {
    let data = store.data_mut();
    let file = data.faults().file_of(fd.rep());
    let r = HostDescriptor::set_size(&mut data.filesystem(), fd, size);
    let r = fs_result(data, r)?;
    if let (Ok(()), Some(rec)) = (&r, data.faults().observer()) {
        match file {
            Some(file) => rec.set_size(file, size),
            None => rec.problem("set-size on a descriptor the trace does not know".into()),
        }
    }
    Ok((r,))
}

/// `unlink-file-at` and `remove-directory-at`: delegate and record.
fn remove_call<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    (fd, path): (Resource<Descriptor>, String),
    is_dir: bool,
) -> Unit {
    let data = store.data_mut();
    let dir = data.faults().dir_path(fd.rep());
    let r = if is_dir {
        HostDescriptor::remove_directory_at(&mut data.filesystem(), fd, path.clone())
    } else {
        HostDescriptor::unlink_file_at(&mut data.filesystem(), fd, path.clone())
    };
    let r = fs_result(data, r)?;
    if let (Ok(()), Some(rec)) = (&r, data.faults().observer()) {
        rec.removed(&dir, &path, is_dir);
    }
    Ok((r,))
}

/// `rename-at`: delegate and record.
fn rename_call<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    (fd, from, new_fd, to): (Resource<Descriptor>, String, Resource<Descriptor>, String),
) -> Unit {
    let data = store.data_mut();
    let (from_dir, to_dir) = (
        data.faults().dir_path(fd.rep()),
        data.faults().dir_path(new_fd.rep()),
    );
    let r = HostDescriptor::rename_at(&mut data.filesystem(), fd, from.clone(), new_fd, to.clone());
    let r = fs_result(data, r)?;
    if let (Ok(()), Some(rec)) = (&r, data.faults().observer()) {
        rec.renamed(&from_dir, &from, &to_dir, &to);
    }
    Ok((r,))
}

/// `create-directory-at`: delegate and record.
fn mkdir_call<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    (fd, path): (Resource<Descriptor>, String),
) -> Unit {
    let data = store.data_mut();
    let dir = data.faults().dir_path(fd.rep());
    let r = HostDescriptor::create_directory_at(&mut data.filesystem(), fd, path.clone());
    let r = fs_result(data, r)?;
    if let (Ok(()), Some(rec)) = (&r, data.faults().observer()) {
        rec.made_dir(&dir, &path);
    }
    Ok((r,))
}

/// `write-via-stream` / `append-via-stream`: delegate and remember the file stream.
fn stream_call<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    fd: Resource<Descriptor>,
    offset: Option<u64>,
) -> wasmtime::Result<(Result<Resource<OutputStream>, ErrorCode>,)> {
    let data = store.data_mut();
    let file = data.faults().file_of(fd.rep());
    let r = match offset {
        Some(offset) => HostDescriptor::write_via_stream(&mut data.filesystem(), fd, offset),
        None => HostDescriptor::append_via_stream(&mut data.filesystem(), fd),
    };
    let r = fs_result(data, r)?;
    if let Ok(stream) = &r {
        let target = StreamTarget { file, offset };
        data.faults().file_streams.insert(stream.rep(), target);
    }
    Ok((r,))
}

/// Shadows the filesystem functions in `linker`.
pub(super) fn add<T: Interposed>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    let mut inst = linker.instance(FS_TYPES)?;
    inst.func_wrap("[method]descriptor.sync", |s, (fd,)| {
        sync_call(s, fd, false)
    })?;
    inst.func_wrap("[method]descriptor.sync-data", |s, (fd,)| {
        sync_call(s, fd, true)
    })?;
    inst.func_wrap("[method]descriptor.write", write_call)?;
    inst.func_wrap("[method]descriptor.open-at", open_at_call)?;
    inst.func_wrap("[method]descriptor.set-size", set_size_call)?;
    inst.func_wrap("[method]descriptor.unlink-file-at", |s, a| {
        remove_call(s, a, false)
    })?;
    inst.func_wrap("[method]descriptor.remove-directory-at", |s, a| {
        remove_call(s, a, true)
    })?;
    inst.func_wrap("[method]descriptor.rename-at", rename_call)?;
    inst.func_wrap("[method]descriptor.create-directory-at", mkdir_call)?;
    inst.func_wrap(
        "[method]descriptor.write-via-stream",
        |s, (fd, offset): (Resource<Descriptor>, u64)| stream_call(s, fd, Some(offset)),
    )?;
    inst.func_wrap(
        "[method]descriptor.append-via-stream",
        |s, (fd,): (Resource<Descriptor>,)| stream_call(s, fd, None),
    )?;
    // Forget a descriptor when the guest drops it (its handle number gets reused).
    inst.resource(
        "descriptor",
        ResourceType::host::<Descriptor>(),
        |mut store: StoreContextMut<'_, T>, rep| {
            let data = store.data_mut();
            data.faults().descriptors.remove(&rep);
            HostDescriptor::drop(&mut data.filesystem(), Resource::new_own(rep))
        },
    )?;
    Ok(())
}
