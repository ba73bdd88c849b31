//! walogs as [openraft](https://docs.rs/openraft/0.9)'s log storage.
//!
//! [`LogStore`] implements openraft 0.9's `RaftLogStorage` and `RaftLogReader` over a walogs
//! log, generic over the [`LogBackend`]: [`NativeLogStore`] runs the engine natively,
//! [`SharedLogStore`] on `walogs::SharedWal` (group commit), [`SharedComponentLogStore`] on
//! `walogs_host::SharedComponentWal` (the engine inside the WebAssembly component, group
//! commit on the host). All three pass `openraft::testing::Suite`.
//!
//! ```no_run
//! use walogs_openraft::{SharedLogStore, kv::{KvConfig, KvStateMachine}};
//! # async fn start(network: impl openraft::RaftNetworkFactory<KvConfig>) -> Result<(), Box<dyn std::error::Error>> {
//! let log = SharedLogStore::<KvConfig>::open("node-1")?;
//! let config = std::sync::Arc::new(openraft::Config::default().validate()?);
//! let raft = openraft::Raft::new(1, config, network, log, KvStateMachine::default()).await?;
//! # drop(raft); Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod backend;
pub mod cluster;
pub mod index;
pub mod kv;
pub mod meta;
pub mod node;
mod store;

#[cfg(feature = "component")]
pub use backend::SharedComponentBackend;
pub use backend::{BackendError, LogBackend};
pub use store::{LOG_DIR, LogReader, LogStore};

/// A store on the native engine shared between threads (group commit, lock-free reads).
pub type SharedLogStore<C> = LogStore<C, walogs::SharedWal>;

/// A store on the native engine.
pub type NativeLogStore<C> = LogStore<C, std::sync::Mutex<walogs::Wal>>;

/// A store on the engine inside the component, shared between threads (group commit on the
/// host; feature `component`, on by default).
#[cfg(feature = "component")]
pub type SharedComponentLogStore<C> = LogStore<C, backend::SharedComponentBackend>;
