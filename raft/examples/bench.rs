//! Client writes per second on a three-node in-process cluster with walogs logs, against the
//! same cluster on an in-memory log store (no I/O: the upper bound), in one run; and the
//! fdatasyncs each client write costs (all three nodes: log syncs and metadata syncs).
//!
//! ```sh
//! cargo run --release -p walogs-openraft --example bench [-- --writes 4000 --clients 32]
//! ```
//!
//! The logs go to a temp dir next to the binary (in the cargo target directory, on the same
//! disk as the build, never a tmpfs `/tmp`).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{
    BasicNode, Entry, LogId, LogState, OptionalSend, RaftLogReader, StorageError, Vote,
};
use walogs::storage::{OpenMode, StdStorage, Storage, StorageFile};
use walogs::{Lsn, Wal, WalConfig};
use walogs_openraft::cluster::Router;
use walogs_openraft::kv::{KvConfig, Request};
use walogs_openraft::node::{BoxError, KvNode, start_with_log, wait_for_leader};
use walogs_openraft::{BackendError, LogBackend, LogStore};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let (writes, clients) = (flag("--writes", 4000), flag("--clients", 32));
    println!(
        "3-node in-process cluster, {writes} client writes of ~40 B from {clients} concurrent clients"
    );
    let memory = run(Kind::Memory, writes, clients).await?;
    let walogs = run(Kind::Walogs, writes, clients).await?;
    println!("| log store | client writes/s | vs in-memory | fdatasyncs per client write |");
    println!("|---|---|---|---|");
    for (name, r) in [
        ("in-memory (no I/O)", &memory),
        ("walogs (native)", &walogs),
    ] {
        println!(
            "| {name} | {:.0} | {:.2}x | {:.2} |",
            r.per_sec,
            r.per_sec / memory.per_sec,
            r.syncs as f64 / writes as f64
        );
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Memory,
    Walogs,
}

struct Outcome {
    per_sec: f64,
    syncs: u64,
}

fn total_syncs() -> u64 {
    LOG_SYNCS.load(Ordering::Relaxed) + walogs_openraft::meta::syncs()
}

async fn run(kind: Kind, writes: usize, clients: usize) -> Result<Outcome, BoxError> {
    let exe = std::env::current_exe()?;
    let dir = tempfile::tempdir_in(exe.parent().expect("the binary is in a directory"))?;
    let router = Router::new();
    let mut nodes = BTreeMap::new();
    for id in 1..=3 {
        let node_dir = dir.path().join(format!("node-{id}"));
        let node = match kind {
            Kind::Memory => start_with_log(id, MemLog::default(), &router).await?,
            Kind::Walogs => {
                start_with_log(
                    id,
                    LogStore::<KvConfig, CountingWal>::open(&node_dir)?,
                    &router,
                )
                .await?
            }
        };
        nodes.insert(id, node);
    }
    let members: BTreeMap<u64, BasicNode> = (1..=3).map(|id| (id, BasicNode::default())).collect();
    nodes[&1].raft.initialize(members).await?;
    let leader = nodes[&wait_for_leader(&nodes[&1], Duration::from_secs(10)).await?].clone();
    stream(&leader, 0, 200, clients).await?; // warm-up
    let syncs = total_syncs();
    let started = Instant::now();
    stream(&leader, 1_000_000, writes, clients).await?;
    let elapsed = started.elapsed();
    let syncs = total_syncs() - syncs;
    for node in nodes.into_values() {
        node.raft.shutdown().await?;
    }
    Ok(Outcome {
        per_sec: writes as f64 / elapsed.as_secs_f64(),
        syncs,
    })
}

/// `writes` writes through `leader` from `clients` concurrent clients, each waiting for its
/// write to commit before sending the next.
async fn stream(
    leader: &KvNode,
    base: usize,
    writes: usize,
    clients: usize,
) -> Result<(), BoxError> {
    let mut tasks = Vec::new();
    for c in 0..clients {
        let raft = leader.raft.clone();
        tasks.push(tokio::spawn(async move {
            for i in (c..writes).step_by(clients) {
                let key = format!("key-{:08}", base + i);
                raft.client_write(Request::Set {
                    key,
                    value: format!("value-{i}"),
                })
                .await?;
            }
            Ok::<(), BoxError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

// ---- fdatasync counting for the walogs logs -------------------------------------------------

static LOG_SYNCS: AtomicU64 = AtomicU64::new(0);

/// The native backend on a file layer that counts file and directory syncs.
struct CountingWal(Mutex<Wal>);

#[derive(Debug)]
struct CountingStorage(StdStorage);

#[derive(Debug)]
struct CountingFile(Box<dyn StorageFile>);

impl Storage for CountingStorage {
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn list(&self) -> io::Result<Vec<String>> {
        self.0.list()
    }
    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(CountingFile(self.0.open(name, mode)?)))
    }
    fn remove(&self, name: &str) -> io::Result<()> {
        self.0.remove(name)
    }
    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.0.rename(from, to)
    }
    fn sync_dir(&self) -> io::Result<()> {
        LOG_SYNCS.fetch_add(1, Ordering::Relaxed);
        self.0.sync_dir()
    }
}

impl StorageFile for CountingFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.0.read_at(buf, offset)
    }
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.0.write_all_at(buf, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        LOG_SYNCS.fetch_add(1, Ordering::Relaxed);
        self.0.sync_data()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
    fn size(&self) -> io::Result<u64> {
        self.0.size()
    }
}

impl LogBackend for CountingWal {
    fn open(dir: &Path) -> Result<Self, BackendError> {
        let storage = Arc::new(CountingStorage(StdStorage::open_writer(dir)?));
        Ok(CountingWal(Mutex::new(Wal::open_with_storage(
            storage,
            WalConfig::default(),
        )?)))
    }
    fn append(&self, entries: Vec<Vec<u8>>) -> Result<Lsn, BackendError> {
        self.0.append(entries)
    }
    fn read(&self, from: Lsn, until: Lsn) -> Result<Vec<Vec<u8>>, BackendError> {
        self.0.read(from, until)
    }
    fn first_lsn(&self) -> Result<Option<Lsn>, BackendError> {
        self.0.first_lsn()
    }
    fn next_lsn(&self) -> Result<Lsn, BackendError> {
        self.0.next_lsn()
    }
    fn truncate_after(&self, lsn: Lsn) -> Result<(), BackendError> {
        self.0.truncate_after(lsn)
    }
    fn checkpoint(&self, lsn: Lsn) -> Result<usize, BackendError> {
        self.0.checkpoint(lsn)
    }
}

// ---- the in-memory log store (the upper bound) ---------------------------------------------

#[derive(Default)]
struct MemState {
    vote: Option<Vote<u64>>,
    committed: Option<LogId<u64>>,
    last_purged: Option<LogId<u64>>,
    log: BTreeMap<u64, Entry<KvConfig>>,
}

/// A log store in a `BTreeMap`: what openraft's own memstore does, with no I/O at all.
#[derive(Clone, Default)]
struct MemLog(Arc<Mutex<MemState>>);

type Error = StorageError<u64>;

impl MemLog {
    fn state(&self) -> std::sync::MutexGuard<'_, MemState> {
        self.0.lock().unwrap()
    }
}

impl RaftLogReader<KvConfig> for MemLog {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<KvConfig>>, Error> {
        Ok(self
            .state()
            .log
            .range(range)
            .map(|(_, e)| e.clone())
            .collect())
    }
}

impl RaftLogStorage<KvConfig> for MemLog {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<KvConfig>, Error> {
        let s = self.state();
        let last = s.log.values().next_back().map(|e| e.log_id);
        Ok(LogState {
            last_purged_log_id: s.last_purged,
            last_log_id: last.or(s.last_purged),
        })
    }
    async fn get_log_reader(&mut self) -> Self {
        self.clone()
    }
    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), Error> {
        self.state().vote = Some(*vote);
        Ok(())
    }
    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, Error> {
        Ok(self.state().vote)
    }
    async fn save_committed(&mut self, committed: Option<LogId<u64>>) -> Result<(), Error> {
        self.state().committed = committed;
        Ok(())
    }
    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, Error> {
        Ok(self.state().committed)
    }
    async fn append<I>(&mut self, entries: I, callback: LogFlushed<KvConfig>) -> Result<(), Error>
    where
        I: IntoIterator<Item = Entry<KvConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut s = self.state();
        for e in entries {
            s.log.insert(e.log_id.index, e);
        }
        callback.log_io_completed(Ok(()));
        Ok(())
    }
    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), Error> {
        self.state().log.split_off(&log_id.index);
        Ok(())
    }
    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), Error> {
        let mut s = self.state();
        s.last_purged = Some(log_id);
        s.log = s.log.split_off(&(log_id.index + 1));
        Ok(())
    }
}
