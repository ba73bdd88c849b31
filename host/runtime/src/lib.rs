//! A native wasmtime runtime for the walogs WASI Preview 2 component.
//!
//! [`Runtime`] compiles (or loads from a per-user cache) the component; [`Runtime::open`]
//! gives a [`ComponentWal`], the engine's API served by a sandboxed guest that sees only the
//! log directory.
//!
//! Features:
//! - `embedded` (default): the component built from this workspace's `guest/` is embedded
//!   ([`Runtime::new`], [`ComponentWal::open`]); building it needs the `wasm32-wasip2`
//!   target. Without it, load your own component with [`Runtime::from_file`] or
//!   [`Runtime::from_bytes`].
//! - `interpose`: the WASI interposer ([`interpose`]) that counts, fails, tears or observes
//!   the guest's filesystem calls, for fault-injection tests and the crash explorer. It is
//!   linked only when this feature is on.
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

/// The WASI 0.2 version of the interfaces wasmtime-wasi 48 provides, as a literal for
/// `concat!` (the host's own and the interposed functions are registered under these names).
macro_rules! wasi_version {
    () => {
        "0.2.12"
    };
}

mod bindings;
mod cache;
mod direct;
mod error;
#[cfg(feature = "interpose")]
pub mod interpose;
mod iter;
mod open;
mod repair;
mod runtime;
mod shared;
mod state;
mod wal;

pub use bindings::{WIT_INTERFACE, WIT_MAINTENANCE};
pub use cache::{LoadInfo, default_cache_dir};
pub use error::HostError;
pub use iter::{BATCH_BYTES, BATCH_ENTRIES, ComponentIter};
pub use open::{GUEST_ROOT, OpenOptions};
#[cfg(feature = "embedded")]
pub use runtime::EMBEDDED_COMPONENT;
pub use runtime::{DEFAULT_MAX_MEMORY, Runtime, RuntimeOptions};
pub use shared::{ComponentWriter, SharedComponentWal};
pub use wal::ComponentWal;
pub use walogs::storage::LOCK_FILENAME as LOCK_FILE;
