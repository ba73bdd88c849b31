//! One [`KvConfig`] node on a walogs log: what the cluster example, its tests and the
//! benchmark start, stop and write through.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ClientWriteError, RaftError};
use openraft::{Config, Raft, SnapshotPolicy};

use crate::cluster::Router;
use crate::kv::{KvConfig, KvStateMachine, Request, Response};
use crate::{LogBackend, LogStore};

/// A boxed error, for the helpers below.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// A running node: its Raft handle and its (in-memory) state machine.
#[derive(Clone)]
pub struct KvNode {
    /// The node id.
    pub id: u64,
    /// The Raft handle.
    pub raft: Raft<KvConfig>,
    /// The applied key-value map.
    pub sm: KvStateMachine,
}

/// The Raft config the example uses: fast heartbeats and elections for an in-process
/// cluster, no snapshots (the state machine is rebuilt from the log on restart).
pub fn example_config() -> Arc<Config> {
    let config = Config {
        cluster_name: "walogs-example".into(),
        heartbeat_interval: 50,
        election_timeout_min: 300,
        election_timeout_max: 600,
        snapshot_policy: SnapshotPolicy::Never,
        ..Config::default()
    };
    Arc::new(config.validate().expect("valid raft config"))
}

/// Starts node `id` on the walogs log in `dir` (created when missing) and registers it in
/// `router`.
pub async fn start_node<B: LogBackend>(
    id: u64,
    dir: &Path,
    router: &Arc<Router>,
) -> Result<KvNode, BoxError> {
    let log = LogStore::<KvConfig, B>::open(dir)?;
    start_with_log(id, log, router).await
}

/// Starts node `id` on any log storage and registers it in `router`.
pub async fn start_with_log<LS>(id: u64, log: LS, router: &Arc<Router>) -> Result<KvNode, BoxError>
where
    LS: openraft::storage::RaftLogStorage<KvConfig>,
{
    let sm = KvStateMachine::default();
    let raft = Raft::new(id, example_config(), router.network(), log, sm.clone()).await?;
    router.add_local(id, raft.clone(), sm.clone());
    Ok(KvNode { id, raft, sm })
}

/// Stops a node: shuts its Raft down (dropping its log store) and removes it from `router`.
pub async fn stop_node(node: KvNode, router: &Router) -> Result<(), BoxError> {
    router.remove(node.id);
    node.raft.shutdown().await?;
    Ok(())
}

/// The leader as `node` sees it, waiting up to `timeout` for one.
pub async fn wait_for_leader(node: &KvNode, timeout: Duration) -> Result<u64, BoxError> {
    let metrics = node
        .raft
        .wait(Some(timeout))
        .metrics(|m| m.current_leader.is_some(), "a leader")
        .await?;
    Ok(metrics.current_leader.expect("waited for a leader"))
}

/// Writes `key = value` through `leader`. `Ok` means the write is committed (acknowledged).
pub async fn write(leader: &KvNode, key: String, value: String) -> Result<Response, BoxError> {
    let result = leader.raft.client_write(Request::Set { key, value }).await;
    match result {
        Ok(r) => Ok(r.data),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => Err(format!(
            "node {} is not the leader (leader: {:?})",
            leader.id, f.leader_id
        )
        .into()),
        Err(e) => Err(e.into()),
    }
}
