//! Client writes per second on a three-node in-process cluster with walogs logs — on each
//! backend: the native engine behind a mutex, `SharedWal`, `SharedComponentWal` (the engine
//! in the component) — against the same cluster on an in-memory log store (no I/O: the
//! upper bound), in one run; the fdatasyncs each client write costs (all three nodes: log
//! syncs and metadata syncs) and how many log appends it takes (how much openraft batches).
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
use walogs::{Lsn, SharedWal, Wal, WalConfig};
use walogs_host::SharedComponentWal;
use walogs_openraft::cluster::Router;
use walogs_openraft::kv::{KvConfig, Request};
use walogs_openraft::node::{BoxError, KvNode, start_with_log, wait_for_leader};
use walogs_openraft::{BackendError, LogBackend, LogStore, SharedComponentBackend};

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
    let mut outcomes = Vec::new();
    for kind in [Kind::Memory, Kind::Native, Kind::Shared, Kind::Component] {
        outcomes.push((kind, run(kind, writes, clients).await?));
    }
    let memory = outcomes[0].1.per_sec;
    let raw = raw_fdatasyncs_per_sec(500)?;
    println!(
        "| log store | client writes/s | vs in-memory | fdatasyncs per client write | log appends per client write |"
    );
    println!("|---|---|---|---|---|");
    for (kind, r) in &outcomes {
        println!(
            "| {} | {:.0} | {:.2}x | {:.2} | {:.2} |",
            kind.name(),
            r.per_sec,
            r.per_sec / memory,
            r.syncs as f64 / writes as f64,
            r.appends as f64 / writes as f64,
        );
    }
    println!("raw fdatasync on this disk (40 B write + fdatasync, one file, same run): {raw:.0}/s");
    println!(
        "most appends in flight on one log at once: {}",
        MAX_IN_FLIGHT.load(Ordering::Relaxed)
    );
    Ok(())
}

/// `n` appends of 40 B to one file, each followed by fdatasync: what one disk round costs.
fn raw_fdatasyncs_per_sec(n: usize) -> Result<f64, BoxError> {
    use std::io::Write;
    let exe = std::env::current_exe()?;
    let dir = tempfile::tempdir_in(exe.parent().expect("the binary is in a directory"))?;
    let mut file = std::fs::File::create(dir.path().join("raw"))?;
    let started = Instant::now();
    for _ in 0..n {
        file.write_all(&[7u8; 40])?;
        file.sync_data()?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

#[derive(Clone, Copy)]
enum Kind {
    Memory,
    Native,
    Shared,
    Component,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Memory => "in-memory (no I/O)",
            Kind::Native => "walogs: Mutex<Wal> (native)",
            Kind::Shared => "walogs: SharedWal (native)",
            Kind::Component => "walogs: SharedComponentWal (component)",
        }
    }
}

struct Outcome {
    per_sec: f64,
    syncs: u64,
    appends: u64,
}

/// The component logs of a run, to read the guest's sync counts from.
type Probes = Arc<Mutex<Vec<SharedComponentWal>>>;

/// Syncs so far: the native logs' (counted in their file layer), the metadata files', and
/// the guest's (counted by the host's interposer; read outside the async runtime, since it
/// enters the component).
async fn total_syncs(probes: &Probes) -> Result<u64, BoxError> {
    let probes = Arc::clone(probes);
    let guest = tokio::task::spawn_blocking(move || {
        let wals = probes.lock().unwrap();
        wals.iter()
            .map(|w| {
                w.with_writer(|w| {
                    let s = w.component().fs_stats();
                    s.syncs + s.sync_datas
                })
            })
            .sum::<u64>()
    })
    .await?;
    Ok(LOG_SYNCS.load(Ordering::Relaxed) + walogs_openraft::meta::syncs() + guest)
}

async fn open_node(
    kind: Kind,
    id: u64,
    dir: &Path,
    router: &Arc<Router>,
    probes: &Probes,
) -> Result<KvNode, BoxError> {
    std::fs::create_dir_all(dir)?;
    let meta = StdStorage::open_reader(dir)?;
    let counting = |log_dir: &Path| -> Result<Wal, BackendError> {
        let storage = Arc::new(CountingStorage(StdStorage::open_writer(log_dir)?));
        Ok(Wal::open_with_storage(storage, WalConfig::default())?)
    };
    Ok(match kind {
        Kind::Memory => start_with_log(id, MemLog::default(), router).await?,
        Kind::Native => {
            let open = |d: &Path| Ok(Counted::new(Mutex::new(counting(d)?)));
            start_with_log(
                id,
                LogStore::<KvConfig, _>::open_with(dir, &meta, open)?,
                router,
            )
            .await?
        }
        Kind::Shared => {
            let open = |d: &Path| Ok(Counted::new(SharedWal::from(counting(d)?)));
            start_with_log(
                id,
                LogStore::<KvConfig, _>::open_with(dir, &meta, open)?,
                router,
            )
            .await?
        }
        Kind::Component => {
            let open = |d: &Path| {
                let backend = SharedComponentBackend::open(d)?;
                probes.lock().unwrap().push(backend.wal().clone());
                Ok(Counted::new(backend))
            };
            start_with_log(
                id,
                LogStore::<KvConfig, _>::open_with(dir, &meta, open)?,
                router,
            )
            .await?
        }
    })
}

async fn run(kind: Kind, writes: usize, clients: usize) -> Result<Outcome, BoxError> {
    let exe = std::env::current_exe()?;
    let dir = tempfile::tempdir_in(exe.parent().expect("the binary is in a directory"))?;
    let router = Router::new();
    let probes = Probes::default();
    let mut nodes = BTreeMap::new();
    for id in 1..=3 {
        let node_dir = dir.path().join(format!("node-{id}"));
        nodes.insert(id, open_node(kind, id, &node_dir, &router, &probes).await?);
    }
    let members: BTreeMap<u64, BasicNode> = (1..=3).map(|id| (id, BasicNode::default())).collect();
    nodes[&1].raft.initialize(members).await?;
    let leader = nodes[&wait_for_leader(&nodes[&1], Duration::from_secs(10)).await?].clone();
    stream(&leader, 0, 200, clients).await?; // warm-up
    let (syncs, appends) = (total_syncs(&probes).await?, APPENDS.load(Ordering::Relaxed));
    let started = Instant::now();
    stream(&leader, 1_000_000, writes, clients).await?;
    let elapsed = started.elapsed();
    let syncs = total_syncs(&probes).await? - syncs;
    let appends = APPENDS.load(Ordering::Relaxed) - appends;
    for node in nodes.into_values() {
        node.raft.shutdown().await?;
    }
    // The probes hold the component logs: drop them outside the async runtime too.
    tokio::task::spawn_blocking(move || drop(probes)).await?;
    Ok(Outcome {
        per_sec: writes as f64 / elapsed.as_secs_f64(),
        syncs,
        appends,
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

// ---- counting: log appends, and fdatasyncs of the native logs ------------------------------

static LOG_SYNCS: AtomicU64 = AtomicU64::new(0);
static APPENDS: AtomicU64 = AtomicU64::new(0);

/// Appends in flight on one log at the same moment, the most seen in a run.
static MAX_IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

/// A backend that counts its appends, and how many are in flight at once.
struct Counted<B>(B, AtomicU64);

impl<B> Counted<B> {
    fn new(backend: B) -> Self {
        Counted(backend, AtomicU64::new(0))
    }
}

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
    fn close(&self) {
        self.0.close()
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

impl<B: LogBackend> LogBackend for Counted<B> {
    fn open(dir: &Path) -> Result<Self, BackendError> {
        Ok(Counted::new(B::open(dir)?))
    }
    fn append(&self, entries: Vec<Vec<u8>>) -> Result<Lsn, BackendError> {
        APPENDS.fetch_add(1, Ordering::Relaxed);
        let now = self.1.fetch_add(1, Ordering::SeqCst) + 1;
        MAX_IN_FLIGHT.fetch_max(now, Ordering::Relaxed);
        let result = self.0.append(entries);
        self.1.fetch_sub(1, Ordering::SeqCst);
        result
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
