//! Filesystem interposition: observe, record, fail or stop the guest's filesystem calls.
//!
//! [`add_to_linker`] shadows the `wasi:filesystem/types` and `wasi:io/streams` functions that
//! change files or directories (the host's WASI, version [`WASI_VERSION`], not the 0.2.x the
//! guest was built against). Each wrapper consults the store's [`Faults`] — counting the call
//! in [`FsStats`], applying the [`FaultPlan`], and telling the plan's [`FsObserver`] (the
//! crash explorer's trace recorder implements it) — and then delegates to wasmtime-wasi's own
//! implementation. Because it keys off the WASI calls, it sees a guest that uses positional
//! `descriptor.write` and `sync-data` exactly like one that goes through std's streams.
//!
//! Writes are counted only for file output streams (those made by `write-via-stream` /
//! `append-via-stream`) and for positional `descriptor.write`; stdout and stderr pass through.

mod fs;
mod streams;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi::WasiView;

/// The WASI 0.2 version string of the interfaces wasmtime-wasi 48 provides.
pub const WASI_VERSION: &str = wasi_version!();

/// An id an [`FsObserver`] gives each file it sees (an inode: it survives renames and
/// unlinks).
pub type FileId = u32;

/// What a directory entry or a descriptor refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// A regular file.
    File(FileId),
    /// A directory, by its path under the preopen (`""` for the preopen itself).
    Dir(String),
}

/// Told of every change the guest makes to its directory, after it succeeded.
///
/// Directories are named by their path under the preopen (`""` is the preopen itself),
/// files by the [`FileId`] that [`FsObserver::opened`] returned for them.
pub trait FsObserver: Send + Sync + fmt::Debug {
    /// A descriptor for `path` (relative to directory `dir`) was opened, creating or
    /// truncating the file as the flags say; returns what it refers to.
    fn opened(&self, dir: &str, path: &str, is_dir: bool, create: bool, truncate: bool) -> Node;
    /// `data` reached `file` at `offset` (`None`: at its end, an appending stream).
    fn wrote(&self, file: FileId, offset: Option<u64>, data: &[u8]);
    /// A file's size was set.
    fn set_size(&self, file: FileId, size: u64);
    /// A sync of `node` succeeded (`ok`) or failed.
    fn synced(&self, node: Node, ok: bool);
    /// `path` under `dir` was unlinked (a file) or removed (a directory).
    fn removed(&self, dir: &str, path: &str, is_dir: bool);
    /// A directory `path` was created under `dir`.
    fn made_dir(&self, dir: &str, path: &str);
    /// `from` (under `from_dir`) was renamed to `to` (under `to_dir`).
    fn renamed(&self, from_dir: &str, from: &str, to_dir: &str, to: &str);
    /// A call the interposer could not resolve (a descriptor it never saw opened).
    fn problem(&self, what: String);
}

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

/// How an injected write fault breaks one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteFaultKind {
    /// Fail with EIO; nothing is written.
    Io,
    /// Fail with ENOSPC; nothing is written.
    NoSpace,
    /// Write only the first `keep` bytes (at least one) and report that count: a legal
    /// short write the guest must continue. Streams cannot report one and write it whole.
    Short {
        /// How many bytes are written.
        keep: usize,
    },
}

/// An injected write fault: which write, and how it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WriteFault {
    /// Which file write (1-based, counted since the store was made, see [`FsStats::writes`]).
    pub nth: u64,
    /// What happens to it.
    pub kind: WriteFaultKind,
}

/// What to break or observe, per store. The default breaks and observes nothing.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    /// Fail the `n`th sync (1-based: `sync` and `sync-data` calls together, counted since
    /// the store was made) with the WASI `io` error code (EIO) without syncing anything.
    pub fail_sync: Option<u64>,
    /// Fail or shorten one file write.
    pub fail_write: Option<WriteFault>,
    /// Stop the guest (a trap with [`InjectedCrash`]) in the middle of a write.
    pub crash: Option<CrashPoint>,
    /// Answer syncs without asking the operating system. The crash explorer models
    /// durability itself and needs no real fsync; this saves the disk's latency.
    pub elide_syncs: bool,
    /// Tell this observer of every change to the filesystem.
    pub observer: Option<Arc<dyn FsObserver>>,
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
    /// Writes failed or shortened by the [`FaultPlan`].
    pub failed_writes: u64,
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

/// Where a file output stream's next write lands.
#[derive(Debug, Clone, Copy)]
struct StreamTarget {
    /// The file (known only while recording).
    file: Option<FileId>,
    /// The offset of the next write; `None` for an appending stream.
    offset: Option<u64>,
}

/// Per-store interposition state: the plan, the counts, the open file streams and (while
/// recording) what each descriptor refers to.
#[derive(Debug, Default)]
pub struct Faults {
    plan: FaultPlan,
    stats: FsStats,
    file_streams: HashMap<u32, StreamTarget>,
    descriptors: HashMap<u32, Node>,
}

/// What to do with one write.
enum WriteAction {
    /// Write everything.
    Whole,
    /// Write only this many bytes and report them.
    Short(usize),
    /// Write nothing and fail.
    Fail(WriteFaultKind),
    /// Write the first bytes only, then stop the guest.
    Tear(InjectedCrash),
}

/// What to do with one sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SyncAction {
    /// Ask the operating system.
    Real,
    /// Report success without a system call.
    Elide,
    /// Fail with EIO.
    Fail,
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
        self.plan.clone()
    }

    /// Replaces the plan; the counts carry on.
    pub fn set_plan(&mut self, plan: FaultPlan) {
        self.plan = plan;
    }

    /// The counts so far.
    pub fn stats(&self) -> FsStats {
        self.stats
    }

    /// The observer, when the plan has one.
    fn observer(&self) -> Option<&Arc<dyn FsObserver>> {
        self.plan.observer.as_ref()
    }

    /// What descriptor `rep` refers to. One the interposer never saw opened is a preopen.
    fn node(&self, rep: u32) -> Node {
        self.descriptors
            .get(&rep)
            .cloned()
            .unwrap_or_else(|| Node::Dir(String::new()))
    }

    /// The directory descriptor `rep` refers to, for path resolution.
    fn dir_path(&self, rep: u32) -> String {
        match self.node(rep) {
            Node::Dir(path) => path,
            Node::File(id) => format!("<file {id}>"),
        }
    }

    /// Counts a sync and decides what happens to it.
    fn on_sync(&mut self, data_only: bool) -> SyncAction {
        if data_only {
            self.stats.sync_datas += 1;
        } else {
            self.stats.syncs += 1;
        }
        if self.plan.fail_sync == Some(self.stats.syncs + self.stats.sync_datas) {
            self.stats.failed_syncs += 1;
            SyncAction::Fail
        } else if self.plan.elide_syncs {
            SyncAction::Elide
        } else {
            SyncAction::Real
        }
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
        if let Some(keep) = keep {
            let written = keep.min(len);
            self.stats.bytes_written += written as u64;
            self.plan.crash = None;
            return WriteAction::Tear(InjectedCrash {
                write: self.stats.writes,
                written,
                len,
            });
        }
        match self.plan.fail_write {
            Some(fault) if fault.nth == self.stats.writes => {
                self.stats.failed_writes += 1;
                match fault.kind {
                    WriteFaultKind::Short { keep } if keep.max(1) < len => {
                        self.stats.bytes_written += keep.max(1) as u64;
                        WriteAction::Short(keep.max(1))
                    }
                    WriteFaultKind::Short { .. } => {
                        self.stats.bytes_written += len as u64;
                        WriteAction::Whole
                    }
                    kind => WriteAction::Fail(kind),
                }
            }
            _ => {
                self.stats.bytes_written += len as u64;
                WriteAction::Whole
            }
        }
    }

    /// Records `data` written through descriptor or stream target `file` at `offset`.
    fn record_write(&self, file: Option<FileId>, offset: Option<u64>, data: &[u8]) {
        if let Some(rec) = self.observer() {
            match file {
                Some(file) => rec.wrote(file, offset, data),
                None => rec.problem("a write to a file the trace does not know".into()),
            }
        }
    }

    /// The file descriptor `rep` refers to, when recording.
    fn file_of(&self, rep: u32) -> Option<FileId> {
        match self.node(rep) {
            Node::File(id) => Some(id),
            Node::Dir(_) => None,
        }
    }
}

/// A store whose guest calls can be interposed.
pub trait Interposed: WasiView + 'static {
    /// The store's interposition state.
    fn faults(&mut self) -> &mut Faults;
}

/// Shadows the interposed WASI functions in `linker`, which must already hold
/// wasmtime-wasi's (`wasmtime_wasi::p2::add_to_linker_sync`). Turns on shadowing.
pub fn add_to_linker<T: Interposed>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    fs::add(linker)?;
    streams::add(linker)
}
