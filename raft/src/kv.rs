//! A small in-memory key-value state machine and its openraft type config: what the suite,
//! the cluster example and the benchmark run on. It keeps nothing on disk; a restarted node
//! rebuilds it by re-applying its log up to the saved committed id.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    AnyError, BasicNode, Entry, EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder,
    SnapshotMeta, StorageError, StorageIOError, StoredMembership,
};
use serde::{Deserialize, Serialize};

openraft::declare_raft_types!(
    /// The type config of the key-value example: `u64` node ids, [`Request`] / [`Response`].
    pub KvConfig:
        D = Request,
        R = Response,
);

/// A client write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Sets `key` to `value`.
    Set {
        /// The key.
        key: String,
        /// Its new value.
        value: String,
    },
}

/// What applying an entry returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The key's previous value, for a [`Request::Set`].
    pub previous: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Data {
    last_applied: Option<LogId<u64>>,
    membership: StoredMembership<u64, BasicNode>,
    kv: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Inner {
    data: Data,
    snapshot: Option<(SnapshotMeta<u64, BasicNode>, Vec<u8>)>,
    snapshots_built: u64,
}

/// The key-value state machine. Clones share the map (read it with [`KvStateMachine::get`]).
#[derive(Debug, Clone, Default)]
pub struct KvStateMachine {
    inner: Arc<Mutex<Inner>>,
}

type Error = StorageError<u64>;

impl KvStateMachine {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value of `key`, as applied so far.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lock().data.kv.get(key).cloned()
    }

    /// A copy of the whole map.
    pub fn snapshot_map(&self) -> BTreeMap<String, String> {
        self.lock().data.kv.clone()
    }

    /// The id of the last applied entry.
    pub fn last_applied(&self) -> Option<LogId<u64>> {
        self.lock().data.last_applied
    }
}

impl RaftSnapshotBuilder<KvConfig> for KvStateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<KvConfig>, Error> {
        let mut inner = self.lock();
        let bytes = serde_json::to_vec(&inner.data)
            .map_err(|e| StorageIOError::read_state_machine(AnyError::new(&e)))?;
        inner.snapshots_built += 1;
        let meta = SnapshotMeta {
            last_log_id: inner.data.last_applied,
            last_membership: inner.data.membership.clone(),
            snapshot_id: format!("snapshot-{}", inner.snapshots_built),
        };
        inner.snapshot = Some((meta.clone(), bytes.clone()));
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        })
    }
}

impl RaftStateMachine<KvConfig> for KvStateMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<u64>>, StoredMembership<u64, BasicNode>), Error> {
        let inner = self.lock();
        Ok((inner.data.last_applied, inner.data.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, Error>
    where
        I: IntoIterator<Item = Entry<KvConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut inner = self.lock();
        let mut replies = Vec::new();
        for entry in entries {
            inner.data.last_applied = Some(entry.log_id);
            let reply = match entry.payload {
                EntryPayload::Blank => Response::default(),
                EntryPayload::Normal(Request::Set { key, value }) => Response {
                    previous: inner.data.kv.insert(key, value),
                },
                EntryPayload::Membership(m) => {
                    inner.data.membership = StoredMembership::new(Some(entry.log_id), m);
                    Response::default()
                }
            };
            replies.push(reply);
        }
        Ok(replies)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, Error> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), Error> {
        let bytes = snapshot.into_inner();
        let data: Data = serde_json::from_slice(&bytes).map_err(|e| {
            StorageIOError::read_snapshot(Some(meta.signature()), AnyError::new(&e))
        })?;
        let mut inner = self.lock();
        inner.data = Data {
            last_applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
            kv: data.kv,
        };
        inner.snapshot = Some((meta.clone(), bytes));
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<KvConfig>>, Error> {
        Ok(self.lock().snapshot.clone().map(|(meta, bytes)| Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        }))
    }
}
