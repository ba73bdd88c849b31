//! A crash-safe write-ahead log (WAL).
//!
//! `walogs` stores a durable, append-only sequence of byte entries. Under the default
//! [`Durability::Always`], every successful [`Wal::append`] has been fdatasync'd before it
//! returns `Ok`. LSNs are dense (1, 2, 3, …) across all segments and never reused. On
//! [`Wal::open`] a torn tail — the remains of a write a crash interrupted — is cut off;
//! any other damage is reported as [`WalError::Corrupt`] and left untouched.
//!
//! The same crate builds natively and, for `wasm32-wasip2`, into a WebAssembly component
//! exporting the `walogs:wal` WIT interface (see `wit/walogs.wit`).
//!
//! ```
//! use walogs::{Lsn, TailState, Wal};
//!
//! let dir = tempfile::tempdir()?;
//! let mut wal = Wal::open(dir.path())?;
//! assert_eq!(wal.append(b"first entry")?, Lsn(1));
//! assert_eq!(wal.append(b"second entry")?, Lsn(2));
//! let entries: Vec<(Lsn, Vec<u8>)> = wal.iter().collect::<Result<_, _>>()?;
//! assert_eq!(entries[1], (Lsn(2), b"second entry".to_vec()));
//! drop(wal);
//!
//! let wal = Wal::open(dir.path())?; // recovery is automatic
//! assert_eq!(wal.tail_state(), TailState::Clean);
//! assert_eq!(wal.next_lsn(), Lsn(3));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
#[cfg(any(target_family = "wasm", test))]
mod crc;
mod durable;
mod error;
pub mod format;
mod frame;
mod iter;
mod prealloc;
mod reader;
mod recovery;
mod repair;
mod scan;
mod segment;
mod shared;
pub mod storage;
mod truncate;
mod types;
mod wal;

#[cfg(all(target_family = "wasm", not(test)))]
mod component;

pub use config::{Durability, WalConfig};
pub use error::WalError;
pub use frame::MAX_ENTRY_SIZE;
pub use iter::WalIter;
pub use repair::{Damage, RepairOptions, RepairReport};
pub use shared::{
    DEFAULT_MAX_GROUP_BYTES, DEFAULT_MAX_GROUP_WAIT, Follow, LogShape, LogWriter, SharedLog,
    SharedSetup, SharedWal,
};
pub use types::{Lsn, LsnRange, RecoveryReport, SegmentInfo, TailState, VerifyReport};
pub use wal::Wal;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
