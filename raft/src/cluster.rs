//! A network for clusters of [`KvConfig`] nodes: in-process calls between nodes of one
//! process, and one JSON line per RPC over TCP to nodes in other processes. It is what the
//! cluster example, its tests and the benchmark run on; a real deployment brings its own.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{AnyError, BasicNode, Raft};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::kv::{KvConfig, KvStateMachine};

/// Where a node is reached.
#[derive(Clone)]
enum Target {
    /// In this process: its Raft handle and state machine.
    Local(Raft<KvConfig>, KvStateMachine),
    /// In another process, at this address (served by [`Router::serve`]).
    Remote(SocketAddr),
}

/// The nodes a process knows, by id. Share it with `Arc`; [`Router::network`] gives each
/// local node its `RaftNetworkFactory`.
#[derive(Default)]
pub struct Router {
    targets: Mutex<HashMap<u64, Target>>,
}

/// One RPC, as sent between processes.
#[derive(Debug, Serialize, Deserialize)]
enum Rpc {
    Append(u64, AppendEntriesRequest<KvConfig>),
    Vote(u64, VoteRequest<u64>),
    Snapshot(u64, InstallSnapshotRequest<KvConfig>),
    /// The node's applied key-value map (for tests that compare replicas).
    Dump(u64),
}

/// The answer to an [`Rpc`].
#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    Append(Result<AppendEntriesResponse<u64>, RaftError<u64>>),
    Vote(Result<VoteResponse<u64>, RaftError<u64>>),
    Snapshot(Result<InstallSnapshotResponse<u64>, RaftError<u64, InstallSnapshotError>>),
    Dump(std::collections::BTreeMap<String, String>),
}

fn unreachable(what: impl std::fmt::Display) -> Unreachable {
    Unreachable::from(AnyError::error(what))
}

impl Router {
    /// An empty router.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn targets(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Target>> {
        self.targets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a node running in this process.
    pub fn add_local(&self, id: u64, raft: Raft<KvConfig>, sm: KvStateMachine) {
        self.targets().insert(id, Target::Local(raft, sm));
    }

    /// Registers a node running in another process, reached at `addr`.
    pub fn add_remote(&self, id: u64, addr: SocketAddr) {
        self.targets().insert(id, Target::Remote(addr));
    }

    /// Forgets a node: RPCs to it fail as unreachable until it is added again.
    pub fn remove(&self, id: u64) {
        self.targets().remove(&id);
    }

    /// The network factory for a local node.
    pub fn network(self: &Arc<Self>) -> Network {
        Network {
            router: Arc::clone(self),
        }
    }

    /// The applied key-value map of node `id`, local or remote.
    pub async fn dump(
        &self,
        id: u64,
    ) -> Result<std::collections::BTreeMap<String, String>, Unreachable> {
        match self.call(id, Rpc::Dump(id)).await? {
            Reply::Dump(map) => Ok(map),
            other => Err(unreachable(format!("unexpected reply {other:?}"))),
        }
    }

    async fn call(&self, id: u64, rpc: Rpc) -> Result<Reply, Unreachable> {
        let target = self.targets().get(&id).cloned();
        match target {
            None => Err(unreachable(format!("node {id} is down"))),
            Some(Target::Local(raft, sm)) => Ok(answer(&raft, &sm, rpc).await),
            Some(Target::Remote(addr)) => {
                tokio::time::timeout(Duration::from_secs(2), send(addr, &rpc))
                    .await
                    .map_err(|_| unreachable(format!("node {id} at {addr} timed out")))?
                    .map_err(|e| Unreachable::new(&e))
            }
        }
    }

    /// Answers RPCs from other processes for the local nodes, one JSON line each way per
    /// connection, until the listener fails.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> io::Result<()> {
        loop {
            let (stream, _) = listener.accept().await?;
            let router = Arc::clone(&self);
            tokio::spawn(async move {
                let _ = router.serve_one(stream).await;
            });
        }
    }

    async fn serve_one(&self, stream: TcpStream) -> io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut line = String::new();
        BufReader::new(read).read_line(&mut line).await?;
        let rpc: Rpc = serde_json::from_str(&line).map_err(io::Error::other)?;
        let id = match &rpc {
            Rpc::Append(id, _) | Rpc::Vote(id, _) | Rpc::Snapshot(id, _) | Rpc::Dump(id) => *id,
        };
        let target = self.targets().get(&id).cloned();
        let Some(Target::Local(raft, sm)) = target else {
            return Err(io::Error::other(format!("node {id} is not served here")));
        };
        let mut out =
            serde_json::to_vec(&answer(&raft, &sm, rpc).await).map_err(io::Error::other)?;
        out.push(b'\n');
        write.write_all(&out).await
    }
}

async fn answer(raft: &Raft<KvConfig>, sm: &KvStateMachine, rpc: Rpc) -> Reply {
    match rpc {
        Rpc::Append(_, req) => Reply::Append(raft.append_entries(req).await),
        Rpc::Vote(_, req) => Reply::Vote(raft.vote(req).await),
        Rpc::Snapshot(_, req) => Reply::Snapshot(raft.install_snapshot(req).await),
        Rpc::Dump(_) => Reply::Dump(sm.snapshot_map()),
    }
}

async fn send(addr: SocketAddr, rpc: &Rpc) -> io::Result<Reply> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut out = serde_json::to_vec(rpc).map_err(io::Error::other)?;
    out.push(b'\n');
    write.write_all(&out).await?;
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    serde_json::from_str(&line).map_err(io::Error::other)
}

/// A local node's `RaftNetworkFactory`.
pub struct Network {
    router: Arc<Router>,
}

/// A connection to one target node.
pub struct Connection {
    router: Arc<Router>,
    target: u64,
}

impl RaftNetworkFactory<KvConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: u64, _node: &BasicNode) -> Connection {
        Connection {
            router: Arc::clone(&self.router),
            target,
        }
    }
}

type RpcResult<T, E = openraft::error::Infallible> =
    Result<T, RPCError<u64, BasicNode, RaftError<u64, E>>>;

impl Connection {
    fn remote<E>(&self, e: RaftError<u64, E>) -> RPCError<u64, BasicNode, RaftError<u64, E>>
    where
        E: std::error::Error,
    {
        RPCError::RemoteError(RemoteError::new(self.target, e))
    }
}

fn mismatch<E: std::error::Error>(reply: Reply) -> RPCError<u64, BasicNode, RaftError<u64, E>> {
    let e = io::Error::other(format!("unexpected reply {reply:?}"));
    RPCError::Network(NetworkError::new(&e))
}

impl RaftNetwork<KvConfig> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<KvConfig>,
        _option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<u64>> {
        match self
            .router
            .call(self.target, Rpc::Append(self.target, rpc))
            .await
        {
            Ok(Reply::Append(r)) => r.map_err(|e| self.remote(e)),
            Ok(other) => Err(mismatch(other)),
            Err(e) => Err(RPCError::Unreachable(e)),
        }
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<KvConfig>,
        _option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<u64>, InstallSnapshotError> {
        match self
            .router
            .call(self.target, Rpc::Snapshot(self.target, rpc))
            .await
        {
            Ok(Reply::Snapshot(r)) => r.map_err(|e| self.remote(e)),
            Ok(other) => Err(mismatch(other)),
            Err(e) => Err(RPCError::Unreachable(e)),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        _option: RPCOption,
    ) -> RpcResult<VoteResponse<u64>> {
        match self
            .router
            .call(self.target, Rpc::Vote(self.target, rpc))
            .await
        {
            Ok(Reply::Vote(r)) => r.map_err(|e| self.remote(e)),
            Ok(other) => Err(mismatch(other)),
            Err(e) => Err(RPCError::Unreachable(e)),
        }
    }
}
