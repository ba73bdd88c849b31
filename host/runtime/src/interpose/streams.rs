//! The shadowed `wasi:io/streams` functions: writes to file output streams (std's file
//! writes inside a component go through them).

use std::io;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime_wasi::p2::bindings::sync::io::streams::{
    self, HostOutputStream, OutputStream, StreamError,
};

use super::{Interposed, WriteAction, WriteFaultKind};

const IO_STREAMS: &str = concat!("wasi:io/streams@", wasi_version!());

/// Linux's (and macOS's) EIO and ENOSPC, which wasmtime-wasi maps to WASI error codes.
const EIO: i32 = 5;
const ENOSPC: i32 = 28;

/// Converts wasmtime-wasi's stream result into what the WIT function returns.
fn stream_result<T, D: Interposed>(
    data: &mut D,
    r: wasmtime_wasi::p2::StreamResult<T>,
) -> wasmtime::Result<Result<T, StreamError>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(streams::Host::convert_stream_error(
            data.ctx().table,
            e,
        )?)),
    }
}

/// A stream write wrapper: file streams are counted, may fail or be torn, and are
/// recorded; `flush` makes the write wait for the disk (`write` alone hands the bytes to a
/// background task).
fn stream_write<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    stream: Resource<OutputStream>,
    mut bytes: Vec<u8>,
    flush: bool,
) -> wasmtime::Result<(Result<(), StreamError>,)> {
    let data = store.data_mut();
    let rep = stream.rep();
    let target = data.faults().file_streams.get(&rep).copied();
    let mut crash = None;
    if let Some(target) = target {
        match data.faults().on_write(bytes.len()) {
            // A stream cannot report a short count: the write goes out whole.
            WriteAction::Whole | WriteAction::Short(_) => {}
            WriteAction::Fail(kind) => {
                let errno = if kind == WriteFaultKind::NoSpace {
                    ENOSPC
                } else {
                    EIO
                };
                let e = wasmtime_wasi::p2::StreamError::LastOperationFailed(
                    io::Error::from_raw_os_error(errno).into(),
                );
                return Ok((stream_result::<(), T>(data, Err(e))?,));
            }
            WriteAction::Tear(c) => {
                bytes.truncate(c.written);
                crash = Some(c);
            }
        }
        let faults = data.faults();
        faults.record_write(target.file, target.offset, &bytes);
        if let (Some(next), Some(offset)) = (faults.file_streams.get_mut(&rep), target.offset) {
            next.offset = Some(offset + bytes.len() as u64);
        }
    }
    let table = data.ctx().table;
    let r = if flush {
        HostOutputStream::blocking_write_and_flush(table, stream, bytes)
    } else {
        HostOutputStream::write(table, stream, bytes)
    };
    match crash {
        Some(crash) => {
            // Let the torn prefix reach the file before the guest stops.
            if !flush {
                let _ = HostOutputStream::blocking_flush(table, Resource::new_borrow(rep));
            }
            Err(crash.into())
        }
        None => Ok((stream_result(data, r)?,)),
    }
}

/// Shadows the stream functions in `linker`.
pub(super) fn add<T: Interposed>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    let mut inst = linker.instance(IO_STREAMS)?;
    inst.func_wrap(
        "[method]output-stream.write",
        |store, (stream, bytes): (Resource<OutputStream>, Vec<u8>)| {
            stream_write(store, stream, bytes, false)
        },
    )?;
    inst.func_wrap(
        "[method]output-stream.blocking-write-and-flush",
        |store, (stream, bytes): (Resource<OutputStream>, Vec<u8>)| {
            stream_write(store, stream, bytes, true)
        },
    )?;
    // Forget a file stream when the guest drops it (its handle number gets reused).
    inst.resource(
        "output-stream",
        ResourceType::host::<OutputStream>(),
        |mut store: StoreContextMut<'_, T>, rep| {
            let data = store.data_mut();
            data.faults().file_streams.remove(&rep);
            HostOutputStream::drop(data.ctx().table, Resource::new_own(rep))
        },
    )?;
    Ok(())
}
