//! Bindings generated from `wit/walogs.wit` and conversions to and from the engine's types.

use std::io;
use std::path::PathBuf;

use walogs::{Durability, Lsn, SegmentInfo, TailState, VerifyReport, WalConfig, WalError};

#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "walogs",
    });
}

pub(crate) use generated::exports::walogs::wal::log::GuestWal;
pub(crate) use generated::walogs::wal::types as wit;
pub(crate) use generated::{Walogs, WalogsPre};

/// The engine's configuration as the WIT record.
pub(crate) fn config_to_wit(config: &WalConfig) -> wit::Config {
    let WalConfig {
        max_segment_size,
        durability,
        read_only,
        verify_on_open,
    } = *config;
    wit::Config {
        max_segment_size,
        durability: match durability {
            Durability::Always => wit::Durability::Always,
            Durability::Explicit => wit::Durability::Explicit,
            Durability::None => wit::Durability::None,
        },
        read_only,
        verify_on_open,
    }
}

/// Where the guest sees the host directory: maps guest paths in error texts back.
#[derive(Debug, Clone)]
pub(crate) struct Mount {
    /// The guest path of the preopen.
    pub(crate) guest: &'static str,
    /// The host directory preopened there.
    pub(crate) host: PathBuf,
    /// The guest path passed to `open`.
    pub(crate) opened: String,
}

impl Mount {
    /// The host path for a guest path (unchanged when it is outside the mount).
    fn to_host(&self, guest: &str) -> PathBuf {
        match guest.strip_prefix(self.guest) {
            Some("") => self.host.clone(),
            Some(rest) if rest.starts_with('/') => self.host.join(rest.trim_start_matches('/')),
            _ => PathBuf::from(guest),
        }
    }

    /// The engine's error for a WIT error.
    pub(crate) fn error(&self, e: wit::Error) -> WalError {
        match e {
            wit::Error::Io(text) => WalError::Io(io::Error::other(text)),
            wit::Error::EntryTooLarge(e) => WalError::EntryTooLarge {
                size: e.size as usize,
                max: e.max as usize,
            },
            wit::Error::Corrupt(reason) => WalError::Corrupt { reason },
            wit::Error::Locked(dir) => WalError::Locked {
                dir: self.to_host(&dir),
            },
            wit::Error::Poisoned(cause) => WalError::Poisoned { cause },
            wit::Error::LsnOutOfRange(e) => WalError::LsnOutOfRange {
                lsn: Lsn(e.lsn),
                first: Lsn(e.first),
                next: Lsn(e.next),
            },
            wit::Error::InvalidPath(reason) => WalError::InvalidPath {
                path: self.opened.clone(),
                reason,
            },
            wit::Error::NotADirectory(path) => WalError::NotADirectory {
                path: self.to_host(&path),
            },
            wit::Error::ReadOnly => WalError::ReadOnly,
        }
    }
}

/// The engine's tail state for the WIT one.
pub(crate) fn tail_from_wit(t: wit::TailState) -> TailState {
    match t {
        wit::TailState::Clean => TailState::Clean,
        wit::TailState::TruncatedAt(offset) => TailState::TruncatedAt(offset),
    }
}

/// The engine's segment description for the WIT one.
pub(crate) fn segment_from_wit(s: wit::SegmentInfo) -> SegmentInfo {
    SegmentInfo {
        seq: s.seq,
        first_lsn: s.first_lsn.map(Lsn),
        size: s.size,
    }
}

/// The engine's verification report for the WIT one.
pub(crate) fn report_from_wit(r: wit::VerifyReport) -> VerifyReport {
    VerifyReport {
        segments: r.segments,
        entries: r.entries,
        bytes: r.bytes,
        first_lsn: r.first_lsn.map(Lsn),
        last_lsn: r.last_lsn.map(Lsn),
    }
}
