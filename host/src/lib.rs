//! A native wasmtime host for the walogs WASI Preview 2 component.
//!
//! [`Runtime`] compiles (or loads from a per-user cache) the component; [`Runtime::open`]
//! gives a [`ComponentWal`], the engine's API served by a sandboxed guest that sees only the
//! log directory. [`interpose`] lets tests fail syncs and tear writes underneath the guest;
//! [`crash`] explores every crash state of a workload.
//!
//! ```no_run
//! use walogs_host::ComponentWal;
//!
//! let mut wal = ComponentWal::open("/tmp/my-wal")?;
//! let lsn = wal.append(b"hello")?;
//! for entry in wal.iter()? {
//!     let (lsn, data) = entry?;
//!     println!("{}: {}", lsn.0, String::from_utf8_lossy(&data));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod bindings;
mod cache;
pub mod crash;
mod error;
pub mod interpose;
mod iter;
mod open;
mod runtime;
mod state;
mod wal;

pub use cache::{LoadInfo, default_cache_dir};
pub use error::HostError;
pub use interpose::{CrashPoint, FaultPlan, FsStats, InjectedCrash, WriteFault, WriteFaultKind};
pub use iter::{BATCH_BYTES, BATCH_ENTRIES, ComponentIter};
pub use open::{GUEST_ROOT, LOCK_FILE, OpenOptions};
pub use runtime::{DEFAULT_MAX_MEMORY, EMBEDDED_COMPONENT, Runtime, RuntimeOptions};
pub use wal::ComponentWal;
