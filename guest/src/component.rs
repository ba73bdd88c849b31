//! The WIT export layer: implements `walogs:wal/log` on top of [`crate::Wal`], and
//! `walogs:wal/maintenance` in [`maintenance`].
//!
//! Compiled only for wasm targets. Every engine error is mapped to the WIT `error` variant.
//! Paths are checked by the storage layer ([`crate::storage::WasiStorage`]) before the disk
//! is touched, so a guest path can never climb out of the preopened directory it names.

use std::cell::RefCell;
use std::io;
use std::path::Path;

use crate::{Durability, Lsn, Wal, WalConfig, WalError, WalIter};

#[cfg(not(walogs_log_only))]
wit_bindgen::generate!({
    path: "../wit",
    world: "walogs",
});

// A component as built before the `maintenance` interface existed, exporting `log` only:
// the tests that prove a host still loads such a component build it with
// `--cfg walogs_log_only`.
#[cfg(walogs_log_only)]
wit_bindgen::generate!({
    path: "../wit",
    inline: "package walogs:log-only; world log-only { export walogs:wal/log@0.2.0; }",
    world: "walogs:log-only/log-only",
    generate_all,
});

#[cfg(not(walogs_log_only))]
mod maintenance;

use exports::walogs::wal::log::{Cursor, Guest, GuestCursor, GuestWal, Wal as WalHandle};
use walogs::wal::types as wit;

/// The component's export root.
struct Component;

impl Guest for Component {
    type Wal = GuestWalImpl;
    type Cursor = GuestCursorImpl;

    fn default_config() -> wit::Config {
        let WalConfig {
            max_segment_size,
            durability,
            read_only,
            verify_on_open,
            ..
        } = WalConfig::default();
        wit::Config {
            max_segment_size: max_segment_size.unwrap_or(0),
            durability: match durability {
                Durability::Always => wit::Durability::Always,
                Durability::Explicit => wit::Durability::Explicit,
                Durability::None => wit::Durability::None,
            },
            read_only,
            verify_on_open,
        }
    }
}

export!(Component);

/// The `wal` resource: one open log.
struct GuestWalImpl {
    wal: RefCell<Wal>,
}

/// One item of the engine's iterator.
type Item = Result<(Lsn, Vec<u8>), WalError>;

/// The `cursor` resource: an engine iterator plus one item read ahead but not yet returned.
struct GuestCursorImpl {
    iter: RefCell<WalIter>,
    pending: RefCell<Option<Item>>,
}

/// Maps an engine error to the WIT error variant.
///
/// `io` carries the error's kind and the OS error's own text; `invalid-path` carries only
/// the reason (the caller knows the path it passed).
fn to_wit(err: WalError) -> wit::Error {
    match err {
        WalError::Io(e) => wit::Error::Io(wit::IoError {
            code: io_code(e.kind()),
            message: e.to_string(),
        }),
        WalError::EntryTooLarge { size, max } => wit::Error::EntryTooLarge(wit::EntryTooLarge {
            size: size as u64,
            max: max as u64,
        }),
        WalError::Corrupt { reason } => wit::Error::Corrupt(reason),
        WalError::Locked { dir } => wit::Error::Locked(dir.display().to_string()),
        WalError::Poisoned { cause } => wit::Error::Poisoned(cause),
        WalError::LsnOutOfRange { lsn, first, next } => {
            wit::Error::LsnOutOfRange(wit::LsnOutOfRange {
                lsn: lsn.0,
                first: first.0,
                next: next.0,
            })
        }
        WalError::InvalidPath { reason, .. } => wit::Error::InvalidPath(reason),
        WalError::NotADirectory { path } => wit::Error::NotADirectory(path.display().to_string()),
        WalError::ReadOnly => wit::Error::ReadOnly,
    }
}

/// The WIT code for an I/O error kind (the host maps it back).
fn io_code(kind: io::ErrorKind) -> wit::IoCode {
    use io::ErrorKind as K;
    use wit::IoCode as C;
    match kind {
        K::NotFound => C::NotFound,
        K::PermissionDenied => C::PermissionDenied,
        K::AlreadyExists => C::AlreadyExists,
        K::StorageFull => C::StorageFull,
        K::QuotaExceeded => C::QuotaExceeded,
        K::ReadOnlyFilesystem => C::ReadOnlyFilesystem,
        K::NotADirectory => C::NotADirectory,
        K::IsADirectory => C::IsADirectory,
        K::DirectoryNotEmpty => C::DirectoryNotEmpty,
        K::FileTooLarge => C::FileTooLarge,
        K::InvalidFilename => C::InvalidFilename,
        K::InvalidInput => C::InvalidInput,
        K::InvalidData => C::InvalidData,
        K::ResourceBusy => C::ResourceBusy,
        K::Unsupported => C::Unsupported,
        K::Interrupted => C::Interrupted,
        K::WouldBlock => C::WouldBlock,
        K::OutOfMemory => C::OutOfMemory,
        _ => C::Other,
    }
}

/// Maps the WIT config record to the engine's configuration (`max-segment-size` 0: never rotate).
fn to_config(config: wit::Config) -> WalConfig {
    WalConfig {
        max_segment_size: Some(config.max_segment_size).filter(|&size| size != 0),
        durability: match config.durability {
            wit::Durability::Always => Durability::Always,
            wit::Durability::Explicit => Durability::Explicit,
            wit::Durability::None => Durability::None,
        },
        read_only: config.read_only,
        verify_on_open: config.verify_on_open,
        ..WalConfig::default()
    }
}

/// Converts an `Option<Lsn>` to the WIT `option<lsn>`.
fn opt(lsn: Option<Lsn>) -> Option<u64> {
    lsn.map(|l| l.0)
}

impl GuestWalImpl {
    /// Runs `f` on the engine handle and maps its error.
    fn with<R>(&self, f: impl FnOnce(&mut Wal) -> Result<R, WalError>) -> Result<R, wit::Error> {
        f(&mut self.wal.borrow_mut()).map_err(to_wit)
    }

    /// Wraps an engine iterator in a cursor resource.
    fn cursor(iter: WalIter) -> Cursor {
        Cursor::new(GuestCursorImpl {
            iter: RefCell::new(iter),
            pending: RefCell::new(None),
        })
    }
}

impl GuestWal for GuestWalImpl {
    fn open(path: String, config: wit::Config) -> Result<WalHandle, wit::Error> {
        let wal = Wal::open_with_config(Path::new(&path), to_config(config)).map_err(to_wit)?;
        Ok(WalHandle::new(GuestWalImpl {
            wal: RefCell::new(wal),
        }))
    }

    fn append(&self, data: Vec<u8>) -> Result<u64, wit::Error> {
        self.with(|w| w.append(&data)).map(|l| l.0)
    }

    fn append_batch(&self, entries: Vec<Vec<u8>>) -> Result<wit::LsnRange, wit::Error> {
        let range = self.with(|w| w.append_batch(&entries))?;
        Ok(wit::LsnRange {
            start: range.start.0,
            end: range.end.0,
        })
    }

    fn sync(&self) -> Result<u64, wit::Error> {
        self.with(|w| w.sync()).map(|l| l.0)
    }

    fn durable_lsn(&self) -> u64 {
        self.wal.borrow().durable_lsn().0
    }

    fn iter(&self) -> Result<Cursor, wit::Error> {
        Ok(Self::cursor(self.wal.borrow().iter()))
    }

    fn iter_from(&self, lsn: u64) -> Result<Cursor, wit::Error> {
        self.with(|w| w.iter_from(Lsn(lsn))).map(Self::cursor)
    }

    fn checkpoint(&self, applied_up_to: u64) -> Result<u32, wit::Error> {
        let deleted = self.with(|w| w.checkpoint(Lsn(applied_up_to)))?;
        Ok(u32::try_from(deleted).unwrap_or(u32::MAX))
    }

    fn truncate_after(&self, lsn: u64) -> Result<(), wit::Error> {
        self.with(|w| w.truncate_after(Lsn(lsn)))
    }

    fn rotate(&self) -> Result<(), wit::Error> {
        self.with(|w| w.rotate())
    }

    fn tail_state(&self) -> wit::TailState {
        match self.wal.borrow().tail_state() {
            crate::TailState::Clean => wit::TailState::Clean,
            crate::TailState::TruncatedAt(off) => wit::TailState::TruncatedAt(off),
        }
    }

    fn next_lsn(&self) -> u64 {
        self.wal.borrow().next_lsn().0
    }

    fn first_lsn(&self) -> Option<u64> {
        opt(self.wal.borrow().first_lsn())
    }

    fn last_lsn(&self) -> Option<u64> {
        opt(self.wal.borrow().last_lsn())
    }

    fn segment_count(&self) -> u32 {
        u32::try_from(self.wal.borrow().segment_count()).unwrap_or(u32::MAX)
    }

    fn segments(&self) -> Vec<wit::SegmentInfo> {
        self.wal
            .borrow()
            .segments()
            .into_iter()
            .map(|s| wit::SegmentInfo {
                seq: s.seq,
                first_lsn: opt(s.first_lsn),
                size: s.size,
            })
            .collect()
    }

    fn verify(&self) -> Result<wit::VerifyReport, wit::Error> {
        let r = self.with(|w| w.verify())?;
        Ok(wit::VerifyReport {
            segments: r.segments,
            entries: r.entries,
            bytes: r.bytes,
            first_lsn: opt(r.first_lsn),
            last_lsn: opt(r.last_lsn),
        })
    }
}

impl GuestCursor for GuestCursorImpl {
    fn next_batch(&self, max_entries: u32, max_bytes: u64) -> Result<Vec<wit::Entry>, wit::Error> {
        let mut iter = self.iter.borrow_mut();
        let mut pending = self.pending.borrow_mut();
        let mut out = Vec::new();
        let mut bytes = 0u64;
        while out.len() < max_entries.max(1) as usize {
            let Some(item) = pending.take().or_else(|| iter.next()) else {
                break;
            };
            match item {
                Ok((lsn, data)) => {
                    let len = data.len() as u64;
                    if !out.is_empty() && bytes.saturating_add(len) > max_bytes {
                        *pending = Some(Ok((lsn, data)));
                        break;
                    }
                    bytes += len;
                    out.push(wit::Entry { lsn: lsn.0, data });
                }
                // Hand out what was read first; the error comes with the next call.
                Err(e) if !out.is_empty() => {
                    *pending = Some(Err(e));
                    break;
                }
                Err(e) => return Err(to_wit(e)),
            }
        }
        Ok(out)
    }
}
