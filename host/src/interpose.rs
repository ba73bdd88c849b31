//! Filesystem interposition: observe, fail or stop the guest's file writes and syncs.
//!
//! [`add_to_linker`] shadows selected `wasi:filesystem` and `wasi:io/streams` functions of
//! the host's WASI (version [`WASI_VERSION`], not the 0.2.x the guest was built against).
//! Each wrapper consults the store's [`Faults`] — counting the call in [`FsStats`] and
//! applying the [`FaultPlan`] — and then delegates to wasmtime-wasi's own implementation.
//!
//! Writes are counted only for file output streams (those made by `write-via-stream` /
//! `append-via-stream`) and for positional `descriptor.write`; stdout and stderr pass through.

use std::collections::HashSet;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::filesystem::WasiFilesystemView;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, Descriptor, ErrorCode, HostDescriptor,
};
use wasmtime_wasi::p2::bindings::sync::io::streams::{
    self, HostOutputStream, OutputStream, StreamError,
};

/// The WASI 0.2 version string of the interfaces wasmtime-wasi 48 provides.
pub const WASI_VERSION: &str = "0.2.12";
const FS_TYPES: &str = "wasi:filesystem/types@0.2.12";
const IO_STREAMS: &str = "wasi:io/streams@0.2.12";

/// Where to stop the guest in the middle of a file write (a torn write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// At the `nth` file write of the store (1-based, see [`FsStats::writes`]), after writing
    /// only its first `keep` bytes.
    AtWrite {
        /// Which write (1-based, counted since the store was made).
        nth: u64,
        /// How many of its bytes reach the file.
        keep: usize,
    },
    /// At the write that would take [`FsStats::bytes_written`] past this many bytes: only
    /// the bytes up to the limit are written.
    AfterBytes(u64),
}

/// What to break, per store. The default breaks nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// Fail the `n`th sync (1-based: `sync` and `sync-data` calls together, counted since
    /// the store was made) with the WASI `io` error code (EIO) without syncing anything.
    pub fail_sync: Option<u64>,
    /// Stop the guest (a trap with [`InjectedCrash`]) in the middle of a write.
    pub crash: Option<CrashPoint>,
}

/// Counts of the interposed calls made by one store's guest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsStats {
    /// `descriptor.sync` calls (std's `sync_all` and `sync_data` both end up here).
    pub syncs: u64,
    /// `descriptor.sync-data` calls.
    pub sync_datas: u64,
    /// Syncs failed by the [`FaultPlan`].
    pub failed_syncs: u64,
    /// File writes: positional writes and writes to file output streams.
    pub writes: u64,
    /// Bytes those writes handed to the file system.
    pub bytes_written: u64,
}

/// The trap with which the interposer stops the guest at a [`CrashPoint`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("injected crash at file write #{write}: {written} of {len} bytes written")]
pub struct InjectedCrash {
    /// Which file write (1-based) was torn.
    pub write: u64,
    /// How many of its bytes were written.
    pub written: usize,
    /// How many bytes the guest asked to write.
    pub len: usize,
}

/// Per-store interposition state: the plan, the counts and the open file streams.
#[derive(Debug, Default)]
pub struct Faults {
    plan: FaultPlan,
    stats: FsStats,
    file_streams: HashSet<u32>,
}

/// What to do with one write.
enum WriteAction {
    /// Write everything.
    Whole,
    /// Write the first bytes only, then stop the guest.
    Tear(InjectedCrash),
}

impl Faults {
    /// State with `plan` and zero counts.
    pub fn new(plan: FaultPlan) -> Self {
        Self {
            plan,
            ..Self::default()
        }
    }

    /// The current plan.
    pub fn plan(&self) -> FaultPlan {
        self.plan
    }

    /// Replaces the plan; the counts carry on.
    pub fn set_plan(&mut self, plan: FaultPlan) {
        self.plan = plan;
    }

    /// The counts so far.
    pub fn stats(&self) -> FsStats {
        self.stats
    }

    /// Counts a sync; returns whether the plan makes it fail.
    fn on_sync(&mut self, data_only: bool) -> bool {
        if data_only {
            self.stats.sync_datas += 1;
        } else {
            self.stats.syncs += 1;
        }
        let fail = self.plan.fail_sync == Some(self.stats.syncs + self.stats.sync_datas);
        self.stats.failed_syncs += u64::from(fail);
        fail
    }

    /// Counts a write of `len` bytes and decides how much of it happens.
    fn on_write(&mut self, len: usize) -> WriteAction {
        self.stats.writes += 1;
        let before = self.stats.bytes_written;
        let keep = match self.plan.crash {
            Some(CrashPoint::AtWrite { nth, keep }) if nth == self.stats.writes => Some(keep),
            Some(CrashPoint::AfterBytes(limit)) if before + len as u64 > limit => {
                Some(usize::try_from(limit.saturating_sub(before)).unwrap_or(usize::MAX))
            }
            _ => None,
        };
        match keep {
            None => {
                self.stats.bytes_written += len as u64;
                WriteAction::Whole
            }
            Some(keep) => {
                let written = keep.min(len);
                self.stats.bytes_written += written as u64;
                self.plan.crash = None;
                WriteAction::Tear(InjectedCrash {
                    write: self.stats.writes,
                    written,
                    len,
                })
            }
        }
    }
}

/// A store whose guest calls can be interposed.
pub trait Interposed: WasiView + 'static {
    /// The store's interposition state.
    fn faults(&mut self) -> &mut Faults;
}

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

/// Shadows the interposed WASI functions in `linker`, which must already hold
/// wasmtime-wasi's (`wasmtime_wasi::p2::add_to_linker_sync`). Turns on shadowing.
pub fn add_to_linker<T: Interposed>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    add_fs(linker)?;
    add_streams(linker)
}

/// A sync wrapper: count, maybe fail with EIO, else delegate.
fn sync_call<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    fd: Resource<Descriptor>,
    data_only: bool,
) -> wasmtime::Result<(Result<(), ErrorCode>,)> {
    let data = store.data_mut();
    if data.faults().on_sync(data_only) {
        return Ok((Err(ErrorCode::Io),));
    }
    let r = if data_only {
        HostDescriptor::sync_data(&mut data.filesystem(), fd)
    } else {
        HostDescriptor::sync(&mut data.filesystem(), fd)
    };
    Ok((fs_result(data, r)?,))
}

fn add_fs<T: Interposed>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    let mut inst = linker.instance(FS_TYPES)?;
    inst.func_wrap("[method]descriptor.sync", |store, (fd,)| {
        sync_call(store, fd, false)
    })?;
    inst.func_wrap("[method]descriptor.sync-data", |store, (fd,)| {
        sync_call(store, fd, true)
    })?;
    inst.func_wrap(
        "[method]descriptor.write",
        |mut store: StoreContextMut<'_, T>,
         (fd, mut buf, offset): (Resource<Descriptor>, Vec<u8>, u64)| {
            let data = store.data_mut();
            let crash = match data.faults().on_write(buf.len()) {
                WriteAction::Whole => None,
                WriteAction::Tear(crash) => {
                    buf.truncate(crash.written);
                    Some(crash)
                }
            };
            if let Some(crash) = crash {
                if !buf.is_empty() {
                    // The torn prefix; its own failure does not matter, the guest stops.
                    let _ = HostDescriptor::write(&mut data.filesystem(), fd, buf, offset);
                }
                return Err(crash.into());
            }
            let r = HostDescriptor::write(&mut data.filesystem(), fd, buf, offset);
            Ok((fs_result(data, r)?,))
        },
    )?;
    inst.func_wrap(
        "[method]descriptor.write-via-stream",
        |mut store: StoreContextMut<'_, T>, (fd, offset): (Resource<Descriptor>, u64)| {
            let data = store.data_mut();
            let r = HostDescriptor::write_via_stream(&mut data.filesystem(), fd, offset);
            let r = fs_result(data, r)?;
            if let Ok(stream) = &r {
                data.faults().file_streams.insert(stream.rep());
            }
            Ok((r,))
        },
    )?;
    inst.func_wrap(
        "[method]descriptor.append-via-stream",
        |mut store: StoreContextMut<'_, T>, (fd,): (Resource<Descriptor>,)| {
            let data = store.data_mut();
            let r = HostDescriptor::append_via_stream(&mut data.filesystem(), fd);
            let r = fs_result(data, r)?;
            if let Ok(stream) = &r {
                data.faults().file_streams.insert(stream.rep());
            }
            Ok((r,))
        },
    )?;
    Ok(())
}

/// A stream write wrapper: file streams are counted and may be torn; `flush` makes the
/// write wait for the disk (`write` alone hands the bytes to a background task).
fn stream_write<T: Interposed>(
    mut store: StoreContextMut<'_, T>,
    stream: Resource<OutputStream>,
    mut bytes: Vec<u8>,
    flush: bool,
) -> wasmtime::Result<(Result<(), StreamError>,)> {
    let data = store.data_mut();
    let rep = stream.rep();
    let mut crash = None;
    if data.faults().file_streams.contains(&rep)
        && let WriteAction::Tear(c) = data.faults().on_write(bytes.len())
    {
        bytes.truncate(c.written);
        crash = Some(c);
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

fn add_streams<T: Interposed>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
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
