//! Shared by the test files: the store builder (each case in its own temp dir), backend list.

#![allow(dead_code)]

use std::marker::PhantomData;
use std::sync::Mutex;

use openraft::StorageError;
use openraft::testing::StoreBuilder;
use tempfile::TempDir;
use walogs_openraft::kv::{KvConfig, KvStateMachine};
use walogs_openraft::{LogBackend, LogStore};

/// The native engine.
pub type Native = Mutex<walogs::Wal>;
/// The native engine shared between threads (group commit).
pub type Shared = walogs::SharedWal;
/// The engine inside the component, shared between threads (group commit on the host).
pub type Component = walogs_openraft::SharedComponentBackend;

/// Builds a fresh store in a new temp dir (the guard) for every case.
pub struct Builder<B>(PhantomData<fn() -> B>);

impl<B> Default for Builder<B> {
    fn default() -> Self {
        Builder(PhantomData)
    }
}

impl<B: LogBackend> StoreBuilder<KvConfig, LogStore<KvConfig, B>, KvStateMachine, TempDir>
    for Builder<B>
{
    async fn build(
        &self,
    ) -> Result<(TempDir, LogStore<KvConfig, B>, KvStateMachine), StorageError<u64>> {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LogStore::open(dir.path().join("node"))?;
        Ok((dir, store, KvStateMachine::default()))
    }
}
