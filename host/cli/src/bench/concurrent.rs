//! `concurrent`: many producers committing 100 B entries durably to one log. Subjects:
//! walogs' group commit natively (`SharedWal`) and through the component
//! (`SharedComponentWal`), what users do without it (`Mutex<Wal>`), okaywal with
//! concurrent writers, and the raw limit for the group size (one thread, one write of
//! `producers` frames and one fdatasync per round).
//!
//! Subjects run in interleaved time slices (the order rotates every round), so that every
//! subject sees the same disk; each row reports commits per second, fdatasyncs per
//! commit, and the p50 / p99 latency of one commit.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use walogs::storage::{OpenMode, StdStorage, Storage, StorageFile};
use walogs::{SharedWal, Wal, WalConfig};
use walogs_host::SharedComponentWal;

use super::Ctx;
use super::logs::{Log, Okay, RawFile};
use super::measure::{Role, Row, Unit, payload, set_relative};
use super::report::{Bound, Target};

/// Bytes per entry.
const ENTRY: usize = 100;
/// Producer counts measured.
pub const PRODUCERS: [usize; 5] = [1, 4, 16, 64, 256];

/// One subject: something many threads commit to at once.
trait Subject: Sync {
    /// Commits one entry durably.
    fn commit(&self, data: &[u8]) -> Result<()>;
    /// fdatasyncs made so far, when the subject can count them.
    fn syncs(&self) -> Option<u64>;
}

struct Shared(SharedWal, Arc<AtomicU64>);
struct Locked(Mutex<Wal>, Arc<AtomicU64>);
struct ViaComponent(SharedComponentWal);
struct OkayShared(okaywal::WriteAheadLog);

impl Subject for Shared {
    fn commit(&self, data: &[u8]) -> Result<()> {
        self.0.append(data)?;
        Ok(())
    }
    fn syncs(&self) -> Option<u64> {
        Some(self.1.load(Ordering::Relaxed))
    }
}

impl Subject for Locked {
    fn commit(&self, data: &[u8]) -> Result<()> {
        let mut wal = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        wal.append(data)?;
        Ok(())
    }
    fn syncs(&self) -> Option<u64> {
        Some(self.1.load(Ordering::Relaxed))
    }
}

impl Subject for ViaComponent {
    fn commit(&self, data: &[u8]) -> Result<()> {
        self.0.append(data)?;
        Ok(())
    }
    fn syncs(&self) -> Option<u64> {
        let stats = self.0.with_writer(|w| w.component().fs_stats());
        Some(stats.syncs + stats.sync_datas)
    }
}

impl Subject for OkayShared {
    fn commit(&self, data: &[u8]) -> Result<()> {
        let mut entry = self.0.begin_entry()?;
        entry.write_chunk(data)?;
        entry.commit()?;
        Ok(())
    }
    fn syncs(&self) -> Option<u64> {
        None
    }
}

/// What one subject accumulated over its slices.
#[derive(Default)]
struct Tally {
    commits: u64,
    busy: Duration,
    /// Commits per second of each slice.
    rates: Vec<f64>,
    syncs: Option<u64>,
    latencies: Vec<Duration>,
}

impl Tally {
    /// Adds one slice of `commits` in `elapsed`.
    fn record(&mut self, commits: u64, elapsed: Duration) {
        self.commits += commits;
        self.busy += elapsed;
        self.rates
            .push(commits as f64 / elapsed.as_secs_f64().max(1e-9));
    }

    /// The median slice's commits per second: robust to a slice the disk stalled.
    fn median_rate(&self) -> f64 {
        let mut rates = self.rates.clone();
        rates.sort_by(f64::total_cmp);
        rates.get(rates.len() / 2).copied().unwrap_or(0.0)
    }
}

/// Runs `producers` threads committing to `subject` for `slice`; adds to `tally`.
fn slice(
    subject: &dyn Subject,
    producers: usize,
    slice: Duration,
    tally: &mut Tally,
) -> Result<()> {
    let stop = AtomicBool::new(false);
    let start = Barrier::new(producers + 1);
    let before = subject.syncs();
    let (elapsed, results) = std::thread::scope(|s| {
        let threads: Vec<_> = (0..producers)
            .map(|t| {
                let (stop, start) = (&stop, &start);
                s.spawn(move || -> Result<Vec<Duration>> {
                    let data = payload(ENTRY, t as u64);
                    let mut latencies = Vec::new();
                    start.wait();
                    while !stop.load(Ordering::Relaxed) {
                        let began = Instant::now();
                        subject.commit(&data)?;
                        latencies.push(began.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        start.wait();
        let began = Instant::now();
        std::thread::sleep(slice);
        stop.store(true, Ordering::Relaxed);
        let results: Vec<_> = threads.into_iter().map(|t| t.join()).collect();
        (began.elapsed(), results)
    });
    let mut commits = 0;
    for result in results {
        let latencies = result.map_err(|_| anyhow::anyhow!("a producer panicked"))??;
        commits += latencies.len() as u64;
        tally.latencies.extend(latencies);
    }
    tally.record(commits, elapsed);
    if let (Some(before), Some(after)) = (before, subject.syncs()) {
        *tally.syncs.get_or_insert(0) += after - before;
    }
    Ok(())
}

/// The raw limit for groups of `producers` frames: one thread writes them with one write
/// and one fdatasync per round, for `slice`.
fn raw_slice(
    raw: &mut RawFile,
    producers: usize,
    slice: Duration,
    tally: &mut Tally,
) -> Result<()> {
    let group: Vec<Vec<u8>> = (0..producers).map(|t| payload(ENTRY, t as u64)).collect();
    let began = Instant::now();
    let mut commits = 0;
    while began.elapsed() < slice {
        let round = Instant::now();
        raw.append_batch(&group)?;
        let latency = round.elapsed();
        commits += producers as u64;
        tally
            .latencies
            .extend(std::iter::repeat_n(latency, producers));
        *tally.syncs.get_or_insert(0) += 1;
    }
    tally.record(commits, began.elapsed());
    Ok(())
}

/// Std storage that counts data and directory syncs.
#[derive(Debug)]
struct Counting {
    inner: StdStorage,
    syncs: Arc<AtomicU64>,
}

#[derive(Debug)]
struct CountingFile {
    inner: Box<dyn StorageFile>,
    syncs: Arc<AtomicU64>,
}

impl Storage for Counting {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn list(&self) -> io::Result<Vec<String>> {
        self.inner.list()
    }
    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(CountingFile {
            inner: self.inner.open(name, mode)?,
            syncs: Arc::clone(&self.syncs),
        }))
    }
    fn remove(&self, name: &str) -> io::Result<()> {
        self.inner.remove(name)
    }
    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.inner.rename(from, to)
    }
    fn sync_dir(&self) -> io::Result<()> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.inner.sync_dir()
    }
}

impl StorageFile for CountingFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.inner.read_at(buf, offset)
    }
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.inner.write_all_at(buf, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.inner.sync_data()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }
    fn size(&self) -> io::Result<u64> {
        self.inner.size()
    }
}

/// The engine on counting storage in `dir`, and its sync counter.
fn counted(dir: &Path) -> Result<(Wal, Arc<AtomicU64>)> {
    let syncs = Arc::new(AtomicU64::new(0));
    let storage = Counting {
        inner: StdStorage::open_writer(dir)?,
        syncs: Arc::clone(&syncs),
    };
    let wal = Wal::open_with_storage(Arc::new(storage), WalConfig::default())
        .with_context(|| format!("open {dir:?}"))?;
    Ok((wal, syncs))
}

/// The `p`-quantile of `sorted`, in milliseconds.
fn quantile_ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// The workload's name for `producers`.
fn workload(producers: usize) -> String {
    format!("concurrent 100 B, {producers:>3} producers")
}

/// Subject names, in the order of the table.
const SHARED: &str = "SharedWal (native)";
const COMPONENT: &str = "SharedComponentWal";
const MUTEX: &str = "Mutex<Wal>";
const OKAY: &str = "okaywal 0.3.1";
const RAW: &str = "raw limit (1 write + 1 fdatasync per group)";

/// Every producer count, every subject.
pub fn concurrent(ctx: &Ctx<'_>) -> Result<Vec<Row>> {
    let slice_len = Duration::from_millis(ctx.sizes.concurrent_slice_ms);
    let rounds = ctx.sizes.concurrent_rounds as usize;
    let mut rows = Vec::new();
    for producers in PRODUCERS {
        let dir = ctx.fresh(&format!("concurrent-{producers}"))?;
        let (wal, shared_syncs) = counted(&dir.join("shared"))?;
        let shared = Shared(SharedWal::from(wal), shared_syncs);
        let (wal, mutex_syncs) = counted(&dir.join("mutex"))?;
        let locked = Locked(Mutex::new(wal), mutex_syncs);
        let component = ViaComponent(
            ctx.rt
                .open_shared(dir.join("component"), WalConfig::default())
                .context("open the component log")?,
        );
        let okay = OkayShared(Okay::open(&dir.join("okaywal"))?.0);
        let mut raw = RawFile::create(&dir.join("raw"), true)?;
        let subjects: [(&str, Role, Option<&dyn Subject>); 5] = [
            (RAW, Role::Baseline, None),
            (SHARED, Role::Walogs, Some(&shared)),
            (COMPONENT, Role::Walogs, Some(&component)),
            (MUTEX, Role::Peer, Some(&locked)),
            (OKAY, Role::Peer, Some(&okay)),
        ];
        let mut tallies: Vec<Tally> = subjects.iter().map(|_| Tally::default()).collect();
        for round in 0..rounds {
            for k in 0..subjects.len() {
                let i = (k + round) % subjects.len();
                match subjects[i].2 {
                    Some(subject) => slice(subject, producers, slice_len, &mut tallies[i])?,
                    None => raw_slice(&mut raw, producers, slice_len, &mut tallies[i])?,
                }
            }
        }
        let mut block: Vec<Row> = subjects
            .iter()
            .zip(tallies)
            .map(|((name, role, _), mut tally)| {
                tally.latencies.sort_unstable();
                let seconds = tally.busy.as_secs_f64().max(1e-9);
                let syncs = tally.syncs.map_or("— fdatasync/commit".to_owned(), |s| {
                    format!(
                        "{:.3} fdatasync/commit",
                        s as f64 / tally.commits.max(1) as f64
                    )
                });
                Row {
                    workload: workload(producers),
                    subject: (*name).to_owned(),
                    role: *role,
                    ops: tally.commits,
                    rounds: rounds as u64,
                    bytes: 0,
                    seconds,
                    value: tally.median_rate(),
                    unit: Unit::CommitsPerSec,
                    relative: None,
                    note: Some(format!(
                        "{syncs}, p50 {:.2} ms, p99 {:.2} ms",
                        quantile_ms(&tally.latencies, 0.5),
                        quantile_ms(&tally.latencies, 0.99)
                    )),
                }
            })
            .collect();
        set_relative(&mut block);
        rows.extend(block);
    }
    Ok(rows)
}

/// Commits per second of `subject` at `producers`.
fn rate(rows: &[Row], producers: usize, subject: &str) -> Option<f64> {
    let name = workload(producers);
    rows.iter()
        .find(|r| r.workload == name && r.subject == subject)
        .map(|r| r.value)
}

/// `a / b`, when both were measured.
fn over(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?)
}

/// The targets for concurrent commits, judged against this run's rows.
pub fn targets(rows: &[Row]) -> Vec<Target> {
    if rate(rows, 1, SHARED).is_none() {
        return Vec::new();
    }
    let mut out = vec![
        Target::new(
            "SharedWal 16 producers / 1 producer".into(),
            over(rate(rows, 16, SHARED), rate(rows, 1, SHARED)),
            Bound::AtLeast,
            10.0,
            "×",
        ),
        Target::new(
            "SharedWal 64 producers / 1 producer".into(),
            over(rate(rows, 64, SHARED), rate(rows, 1, SHARED)),
            Bound::AtLeast,
            25.0,
            "×",
        ),
    ];
    for producers in PRODUCERS.into_iter().filter(|&p| p >= 16) {
        out.push(Target::new(
            format!("SharedWal / okaywal, {producers} producers"),
            over(rate(rows, producers, SHARED), rate(rows, producers, OKAY)),
            Bound::AtLeast,
            1.5,
            "×",
        ));
        out.push(Target::new(
            format!("SharedWal / raw limit, {producers} producers"),
            over(rate(rows, producers, SHARED), rate(rows, producers, RAW)),
            Bound::AtLeast,
            0.7,
            "×",
        ));
    }
    out.push(Target::new(
        "SharedComponentWal / SharedWal, 64 producers".into(),
        over(rate(rows, 64, COMPONENT), rate(rows, 64, SHARED)),
        Bound::AtLeast,
        0.8,
        "×",
    ));
    out.push(Target::new(
        "SharedWal / Mutex<Wal> (plain Wal), 1 producer".into(),
        over(rate(rows, 1, SHARED), rate(rows, 1, MUTEX)),
        Bound::AtLeast,
        0.95,
        "×",
    ));
    out
}
