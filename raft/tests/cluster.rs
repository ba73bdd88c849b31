//! A three-node cluster on walogs logs: a leader stopped and restarted from its directory,
//! and a node in a child process killed with SIGKILL mid-stream and restarted. Every
//! acknowledged write must end up on all three nodes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::BasicNode;
use tokio::net::TcpListener;
use walogs_openraft::cluster::Router;
use walogs_openraft::node::{BoxError, KvNode, start_node, stop_node, wait_for_leader, write};

/// The store the README recommends: the native engine shared between threads (group commit).
type Native = walogs::SharedWal;

fn members() -> BTreeMap<u64, BasicNode> {
    (1..=3).map(|id| (id, BasicNode::default())).collect()
}

fn kv(i: u32) -> (String, String) {
    (format!("key-{i:05}"), format!("value-{i}"))
}

/// Writes keys through whichever of `nodes` leads, from 16 concurrent clients, retrying
/// through elections; adds the acknowledged writes to `acked`.
async fn write_keys(
    nodes: &BTreeMap<u64, KvNode>,
    keys: std::ops::Range<u32>,
    acked: &mut BTreeMap<String, String>,
) -> Result<(), BoxError> {
    const CLIENTS: u32 = 16;
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let nodes = nodes.clone();
        let keys = keys.clone();
        clients.spawn(async move {
            let mut done = Vec::new();
            for i in keys.filter(|i| i % CLIENTS == c) {
                let (key, value) = kv(i);
                write_one(&nodes, &key, &value).await?;
                done.push((key, value));
            }
            Ok::<_, BoxError>(done)
        });
    }
    while let Some(done) = clients.join_next().await {
        acked.extend(done??);
    }
    Ok(())
}

async fn write_one(nodes: &BTreeMap<u64, KvNode>, key: &str, value: &str) -> Result<(), BoxError> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let any = nodes.values().next().expect("a node");
        let leader = wait_for_leader(any, Duration::from_secs(10)).await?;
        if let Some(node) = nodes.get(&leader)
            && write(node, key.to_owned(), value.to_owned()).await.is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("no local leader accepted {key}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_all(
    router: &Router,
    ids: impl IntoIterator<Item = u64>,
    acked: &BTreeMap<String, String>,
) -> Result<(), BoxError> {
    for id in ids {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let map = router.dump(id).await.unwrap_or_default();
            let missing = acked
                .iter()
                .filter(|(k, v)| map.get(*k) != Some(*v))
                .count();
            if missing == 0 {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("node {id} misses {missing} acknowledged writes").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_leader_restarts_from_its_directory_and_every_acknowledged_write_is_on_all_three()
-> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let node_dir = |id: u64| dir.path().join(format!("node-{id}"));
    let router = Router::new();
    let mut nodes = BTreeMap::new();
    for id in 1..=3 {
        nodes.insert(id, start_node::<Native>(id, &node_dir(id), &router).await?);
    }
    nodes[&1].raft.initialize(members()).await?;
    let mut acked = BTreeMap::new();
    write_keys(&nodes, 0..1000, &mut acked).await?;

    let leader = wait_for_leader(&nodes[&1], Duration::from_secs(10)).await?;
    stop_node(nodes.remove(&leader).expect("leader is local"), &router).await?;
    write_keys(&nodes, 1000..1300, &mut acked).await?;
    let new_leader =
        wait_for_leader(nodes.values().next().unwrap(), Duration::from_secs(10)).await?;
    assert_ne!(new_leader, leader, "a new leader took over");

    nodes.insert(
        leader,
        start_node::<Native>(leader, &node_dir(leader), &router).await?,
    );
    write_keys(&nodes, 1300..1400, &mut acked).await?;
    assert_eq!(acked.len(), 1400);
    wait_for_all(&router, 1..=3, &acked).await?;
    for node in nodes.into_values() {
        node.raft.shutdown().await?;
    }
    Ok(())
}

/// The child process: node 3 on the walogs log in `WALOGS_RAFT_CHILD_DIR`, serving RPCs on a
/// port it writes to `WALOGS_RAFT_CHILD_PORT_FILE`, reaching nodes 1 and 2 at the addresses in
/// `WALOGS_RAFT_CHILD_PEERS`. Without those variables (a plain `--ignored` run) it does nothing.
#[test]
#[ignore = "run by sigkilled_follower_restarts_from_its_directory as its child process"]
fn child_node_process() {
    let Ok(dir) = std::env::var("WALOGS_RAFT_CHILD_DIR") else {
        return;
    };
    let port_file = PathBuf::from(std::env::var("WALOGS_RAFT_CHILD_PORT_FILE").unwrap());
    let peers = std::env::var("WALOGS_RAFT_CHILD_PEERS").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let router = Router::new();
        for (id, peer) in peers.split(',').enumerate() {
            router.add_remote(id as u64 + 1, peer.parse().unwrap());
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        start_node::<Native>(3, Path::new(&dir), &router)
            .await
            .unwrap();
        let tmp = port_file.with_extension("tmp");
        std::fs::write(&tmp, addr.to_string()).unwrap();
        std::fs::rename(&tmp, &port_file).unwrap();
        Arc::clone(&router).serve(listener).await.unwrap();
    });
}

struct ChildNode {
    child: Child,
    addr: SocketAddr,
}

fn spawn_child(dir: &Path, peers: &str, port_file: &Path) -> Result<ChildNode, BoxError> {
    let _ = std::fs::remove_file(port_file);
    let child = Command::new(std::env::current_exe()?)
        .args(["--exact", "child_node_process", "--ignored", "--quiet"])
        .env("WALOGS_RAFT_CHILD_DIR", dir)
        .env("WALOGS_RAFT_CHILD_PORT_FILE", port_file)
        .env("WALOGS_RAFT_CHILD_PEERS", peers)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !port_file.exists() {
        if Instant::now() > deadline {
            return Err("the child node did not start".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let addr = std::fs::read_to_string(port_file)?.parse()?;
    Ok(ChildNode { child, addr })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkilled_follower_restarts_from_its_directory_and_catches_up() -> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let router = Router::new();
    let mut peers = Vec::new();
    let mut nodes = BTreeMap::new();
    for id in 1..=2 {
        nodes.insert(
            id,
            start_node::<Native>(id, &dir.path().join(format!("node-{id}")), &router).await?,
        );
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        peers.push(listener.local_addr()?.to_string());
        tokio::spawn(Arc::clone(&router).serve(listener));
    }
    let peers = peers.join(",");
    let child_dir = dir.path().join("node-3");
    let port_file = dir.path().join("node-3.port");
    let mut child = spawn_child(&child_dir, &peers, &port_file)?;
    router.add_remote(3, child.addr);
    nodes[&1].raft.initialize(members()).await?;

    let mut acked = BTreeMap::new();
    write_keys(&nodes, 0..300, &mut acked).await?;
    // Mid-stream: a writer keeps going while the child is killed.
    let writer = {
        let nodes = nodes.clone();
        tokio::spawn(async move {
            let mut acked = BTreeMap::new();
            write_keys(&nodes, 300..1000, &mut acked)
                .await
                .map(|()| acked)
        })
    };
    // Kill once the child has applied some of the stream's writes (it is still receiving).
    let deadline = Instant::now() + Duration::from_secs(20);
    while router.dump(3).await.map_or(0, |m| m.len()) < 350 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mid_stream = !writer.is_finished();
    child.child.kill()?; // SIGKILL
    child.child.wait()?;
    router.remove(3);
    acked.extend(writer.await??);
    println!("child killed with SIGKILL (writer still running: {mid_stream})");

    let mut child = spawn_child(&child_dir, &peers, &port_file)?;
    router.add_remote(3, child.addr);
    write_keys(&nodes, 1000..1100, &mut acked).await?;
    assert_eq!(acked.len(), 1100);
    let converged = wait_for_all(&router, 1..=3, &acked).await;
    child.child.kill()?;
    child.child.wait()?;
    converged?;
    for node in nodes.into_values() {
        node.raft.shutdown().await?;
    }
    Ok(())
}
