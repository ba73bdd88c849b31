//! A three-node Raft cluster in one process: openraft with an in-process network, a small
//! key-value state machine, and each node's log in its own walogs directory.
//!
//! ```sh
//! cargo run --release -p walogs-openraft --example cluster [DIR] [--component]
//! ```
//!
//! It writes 1,000 keys through the leader, stops the leader, keeps writing through the new
//! one, restarts the old node from its directory, and checks that every acknowledged write
//! is on all three nodes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use openraft::BasicNode;
use walogs_openraft::LogBackend;
use walogs_openraft::cluster::Router;
use walogs_openraft::node::{BoxError, KvNode, start_node, stop_node, wait_for_leader, write};

type Native = walogs::SharedWal;
type Component = walogs_openraft::SharedComponentBackend;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let component = args.iter().any(|a| a == "--component");
    let tmp = tempfile::tempdir()?;
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or_else(|| tmp.path().to_path_buf(), PathBuf::from);
    if component {
        run::<Component>(&dir).await
    } else {
        run::<Native>(&dir).await
    }
}

async fn run<B: LogBackend>(dir: &Path) -> Result<(), BoxError> {
    let router = Router::new();
    let node_dir = |id: u64| dir.join(format!("node-{id}"));
    let mut nodes = BTreeMap::new();
    for id in 1..=3 {
        nodes.insert(id, start_node::<B>(id, &node_dir(id), &router).await?);
    }
    let members: BTreeMap<u64, BasicNode> = (1..=3).map(|id| (id, BasicNode::default())).collect();
    nodes[&1].raft.initialize(members).await?;
    let leader = wait_for_leader(&nodes[&1], Duration::from_secs(10)).await?;
    println!("three nodes in {}; leader: node {leader}", dir.display());

    let mut acked = BTreeMap::new();
    let started = Instant::now();
    write_keys(&nodes[&leader], 0..1000, &mut acked).await?;
    println!(
        "1000 writes through node {leader} in {:?}",
        started.elapsed()
    );

    let old = nodes.remove(&leader).expect("leader is a node");
    stop_node(old, &router).await?;
    let other = *nodes.keys().next().expect("two nodes left");
    let new_leader = wait_for_new_leader(&nodes[&other], leader).await?;
    println!("stopped node {leader}; new leader: node {new_leader}");
    write_keys(&nodes[&new_leader], 1000..1500, &mut acked).await?;
    println!("500 more writes through node {new_leader}");

    nodes.insert(
        leader,
        start_node::<B>(leader, &node_dir(leader), &router).await?,
    );
    println!(
        "restarted node {leader} from {}",
        node_dir(leader).display()
    );
    for node in nodes.values() {
        wait_for_keys(node, &acked).await?;
    }
    println!(
        "all {} acknowledged writes are on all three nodes",
        acked.len()
    );
    for node in nodes.into_values() {
        node.raft.shutdown().await?;
    }
    Ok(())
}

async fn write_keys(
    leader: &KvNode,
    keys: std::ops::Range<u32>,
    acked: &mut BTreeMap<String, String>,
) -> Result<(), BoxError> {
    for i in keys {
        let (key, value) = (format!("key-{i:05}"), format!("value-{i}"));
        write(leader, key.clone(), value.clone()).await?;
        acked.insert(key, value);
    }
    Ok(())
}

async fn wait_for_new_leader(node: &KvNode, old: u64) -> Result<u64, BoxError> {
    let metrics = node
        .raft
        .wait(Some(Duration::from_secs(10)))
        .metrics(
            |m| m.current_leader.is_some_and(|l| l != old),
            "a new leader",
        )
        .await?;
    Ok(metrics.current_leader.expect("waited for a leader"))
}

async fn wait_for_keys(node: &KvNode, acked: &BTreeMap<String, String>) -> Result<(), BoxError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let map = node.sm.snapshot_map();
        if acked.iter().all(|(k, v)| map.get(k) == Some(v)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let missing = acked.keys().filter(|k| !map.contains_key(*k)).count();
            return Err(format!("node {} misses {missing} acknowledged writes", node.id).into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
