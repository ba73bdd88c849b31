//! The conformance harness: one set of test bodies, run against every backend.
//!
//! A backend opens a log in a directory and returns a [`Log`]: the native engine
//! ([`Native`]) or the component running in the wasmtime host ([`Component`]). Test bodies
//! are generic over [`Backend`], and `conformance!` instantiates each one per backend.

mod component;
pub mod disk;
mod native;
pub mod shared;

use std::path::Path;

pub use component::Component;
pub use native::Native;
pub use shared::{Follower, SharedBackend, SharedLog};
use walogs::{
    Damage, Lsn, LsnRange, RecoveryReport, RepairReport, SegmentInfo, TailState, VerifyReport,
    WalConfig, WalError,
};

/// Everything a test does with an open log, identical across backends.
pub trait Log {
    /// Appends one entry.
    fn append(&mut self, data: &[u8]) -> Result<Lsn, WalError>;
    /// Appends a batch.
    fn append_batch(&mut self, entries: &[Vec<u8>]) -> Result<LsnRange, WalError>;
    /// Syncs; returns the durable LSN.
    fn sync(&mut self) -> Result<Lsn, WalError>;
    /// The durable LSN.
    fn durable_lsn(&mut self) -> Lsn;
    /// Rotates.
    fn rotate(&mut self) -> Result<(), WalError>;
    /// Checkpoints; returns segments deleted.
    fn checkpoint(&mut self, lsn: Lsn) -> Result<usize, WalError>;
    /// Truncates after `lsn`.
    fn truncate_after(&mut self, lsn: Lsn) -> Result<(), WalError>;
    /// Every entry, or the first error iteration met.
    fn entries(&mut self) -> Result<Vec<(Lsn, Vec<u8>)>, WalError>;
    /// Every entry from `lsn` on, or the first error.
    fn entries_from(&mut self, lsn: Lsn) -> Result<Vec<(Lsn, Vec<u8>)>, WalError>;
    /// The tail state of the open.
    fn tail_state(&mut self) -> TailState;
    /// What the open cut off.
    fn recovery_report(&mut self) -> RecoveryReport;
    /// The next LSN.
    fn next_lsn(&mut self) -> Lsn;
    /// The first LSN held.
    fn first_lsn(&mut self) -> Option<Lsn>;
    /// The last LSN held.
    fn last_lsn(&mut self) -> Option<Lsn>;
    /// Number of segment files.
    fn segment_count(&mut self) -> usize;
    /// The segments.
    fn segments(&mut self) -> Vec<SegmentInfo>;
    /// Full check.
    fn verify(&mut self) -> Result<VerifyReport, WalError>;
    /// Makes every later sync (file or directory) fail with an I/O error.
    fn fail_syncs(&mut self);
    /// File and directory syncs this handle has made so far.
    fn syncs(&mut self) -> u64;
}

/// A way to run the engine.
pub trait Backend {
    /// The open-log handle.
    type Log: Log;
    /// Opens (or creates) the log in `dir`.
    fn open(dir: &Path, config: WalConfig) -> Result<Self::Log, WalError>;
    /// Repairs the log in `dir` (`Wal::repair_with`), or with `dry_run` only reports.
    fn repair(dir: &Path, dry_run: bool) -> Result<RepairReport, WalError>;
    /// The first damage of the log in `dir` (`Wal::find_damage`).
    fn find_damage(dir: &Path) -> Result<Option<Damage>, WalError>;
}

/// Opens with the default config.
pub fn open<B: Backend>(dir: &Path) -> B::Log {
    B::open(dir, WalConfig::default()).expect("open")
}

/// Opens with a segment size limit.
pub fn open_sized<B: Backend>(dir: &Path, max_segment_size: u64) -> B::Log {
    let config = WalConfig {
        max_segment_size: Some(max_segment_size),
        ..WalConfig::default()
    };
    B::open(dir, config).expect("open")
}

/// The payload tests write for `lsn`: recognisable and of varying length.
pub fn payload(lsn: u64) -> Vec<u8> {
    format!("entry-{lsn}-{}", "x".repeat((lsn % 23) as usize)).into_bytes()
}

/// Appends payloads until `last` and checks each LSN.
pub fn fill<L: Log>(log: &mut L, last: u64) {
    let first = log.next_lsn().0;
    for lsn in first..=last {
        assert_eq!(log.append(&payload(lsn)).expect("append"), Lsn(lsn));
    }
}

/// The entries `first..=last` with their payloads.
pub fn expected(first: u64, last: u64) -> Vec<(Lsn, Vec<u8>)> {
    (first..=last).map(|l| (Lsn(l), payload(l))).collect()
}

/// Instantiates each named generic test body once per backend:
/// `native::NAME` and `component::NAME`.
#[macro_export]
macro_rules! conformance {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod native {
            $( #[test] fn $name() { super::$module::$name::<walogs_conformance::Native>(); } )*
        }
        mod component {
            $( #[test] fn $name() { super::$module::$name::<walogs_conformance::Component>(); } )*
        }
    };
}

/// Instantiates each named concurrent test body for one backend, in module `$module`
/// (`native_shared::NAME`, `component_shared::NAME`).
#[macro_export]
macro_rules! shared_conformance {
    ($module:ident => $backend:ty; $($body:ident :: $name:ident),* $(,)?) => {
        mod $module {
            $( #[test] fn $name() { super::$body::$name::<$backend>(); } )*
        }
    };
}
