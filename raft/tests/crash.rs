//! A crash at every step of the sequences that continue a log at another index when the
//! store holds no entry — a purge past the last entry, a truncation of every entry, a purge
//! then a truncation of every visible entry — each followed by the appends that continue it.
//!
//! Each run stops the store at its `n`th step (a metadata or log write, sync, rename or
//! delete; a write is torn in half), as a killed process would leave it; the store is then
//! reopened and must show the state before or after the operation that was interrupted
//! (or, for an append, before it plus a prefix of its entries), never a purged entry, and
//! must continue from there to the same final state as a run without a crash. `n` goes
//! from 0 until a run completes.
//!
//! Natively one budget counts every step of the metadata file and of the log (the file
//! layer under both is a fault-injecting one). Through the component, the metadata file's
//! steps are swept the same way, and the guest's are swept with the host's fault injection:
//! a stop at its `n`th file write (nothing or a few bytes of it written) and a failure of
//! its `n`th sync.

mod common;

use std::io;
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use common::Component;
use openraft::storage::{RaftLogStorage, RaftLogStorageExt};
use openraft::testing::{blank_ent, log_id};
use openraft::{LogId, LogState, RaftLogReader, StorageError};
use walogs::storage::{OpenMode, StdStorage, Storage, StorageFile};
use walogs::{SharedWal, Wal, WalConfig};
use walogs_host::interpose::{CrashPoint, FaultPlan};
use walogs_openraft::kv::KvConfig;
use walogs_openraft::{LogBackend, LogStore};

type Store<B> = LogStore<KvConfig, B>;

// ---- a file layer that stops after a budget of steps ----------------------------------------

/// How many more mutating steps may reach the disk; every step after the last one fails.
#[derive(Debug)]
struct Budget(AtomicI64);

impl Budget {
    fn unlimited() -> Arc<Budget> {
        Arc::new(Budget(AtomicI64::new(i64::MAX)))
    }
    fn arm(&self, steps: i64) {
        self.0.store(steps, Ordering::SeqCst);
    }
    fn disarm(&self) {
        self.0.store(i64::MAX, Ordering::SeqCst);
    }
    /// Takes one step; `Err` once the budget is spent (and forever after).
    fn step(&self) -> io::Result<()> {
        if self.0.fetch_sub(1, Ordering::SeqCst) <= 0 {
            Err(io::Error::other("injected stop"))
        } else {
            Ok(())
        }
    }
}

#[derive(Debug)]
struct StoppingStorage {
    inner: StdStorage,
    budget: Arc<Budget>,
}

#[derive(Debug)]
struct StoppingFile {
    inner: Box<dyn StorageFile>,
    budget: Arc<Budget>,
}

impl Storage for StoppingStorage {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn list(&self) -> io::Result<Vec<String>> {
        self.inner.list()
    }
    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        if mode == OpenMode::CreateNew {
            self.budget.step()?;
        }
        Ok(Box::new(StoppingFile {
            inner: self.inner.open(name, mode)?,
            budget: Arc::clone(&self.budget),
        }))
    }
    fn remove(&self, name: &str) -> io::Result<()> {
        self.budget.step()?;
        self.inner.remove(name)
    }
    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.budget.step()?;
        self.inner.rename(from, to)
    }
    fn sync_dir(&self) -> io::Result<()> {
        self.budget.step()?;
        self.inner.sync_dir()
    }
    fn close(&self) {
        self.inner.close()
    }
}

impl StorageFile for StoppingFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.inner.read_at(buf, offset)
    }
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        if let Err(e) = self.budget.step() {
            // The stop lands in the middle of this write: its first half reaches the file.
            let _ = self.inner.write_all_at(&buf[..buf.len() / 2], offset);
            return Err(e);
        }
        self.inner.write_all_at(buf, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.budget.step()?;
        self.inner.sync_data()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.budget.step()?;
        self.inner.set_len(len)
    }
    fn size(&self) -> io::Result<u64> {
        self.inner.size()
    }
}

fn stopping(dir: &Path, budget: &Arc<Budget>, writer: bool) -> StoppingStorage {
    let inner = if writer {
        StdStorage::open_writer(dir)
    } else {
        StdStorage::open_reader(dir)
    };
    StoppingStorage {
        inner: inner.expect("storage"),
        budget: Arc::clone(budget),
    }
}

// ---- the sequences --------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Append(u64, RangeInclusive<u64>),
    Purge(u64),
    Truncate(u64),
}

fn id(term: u64, index: u64) -> LogId<u64> {
    log_id(term, 0, index)
}

/// Index 10 is the last entry of the setup; 0..=4 sit in a sealed segment.
fn sequences() -> Vec<(&'static str, Vec<Op>)> {
    vec![
        (
            "purge past the last entry (deleting the sealed segment), then continue",
            vec![
                Op::Purge(20),
                Op::Append(2, 21..=22),
                Op::Append(2, 23..=23),
            ],
        ),
        (
            "truncate every entry, then continue at index 0",
            vec![Op::Truncate(0), Op::Append(2, 0..=1)],
        ),
        (
            "purge, truncate every visible entry (cut after the purged one), then continue",
            vec![Op::Purge(2), Op::Truncate(3), Op::Append(2, 3..=4)],
        ),
        (
            "purge past the last entry, truncate nothing left, continue twice",
            vec![
                Op::Purge(12),
                Op::Truncate(13),
                Op::Append(3, 13..=13),
                Op::Append(3, 14..=15),
            ],
        ),
    ]
}

async fn apply<B: LogBackend>(store: &mut Store<B>, op: &Op) -> Result<(), StorageError<u64>> {
    match op {
        Op::Append(term, indices) => {
            let entries = indices.clone().map(|i| blank_ent::<KvConfig>(*term, 0, i));
            store.blocking_append(entries).await
        }
        Op::Purge(index) => store.purge(id(1, *index)).await,
        Op::Truncate(index) => store.truncate(id(1, *index)).await,
    }
}

/// What a user of the store can observe.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observed {
    state: LogState<KvConfig>,
    entries: Vec<LogId<u64>>,
}

async fn observe<B: LogBackend>(store: &mut Store<B>) -> Result<Observed, StorageError<u64>> {
    let state = store.get_log_state().await?;
    let entries = store.try_get_log_entries(0..).await?;
    Ok(Observed {
        state,
        entries: entries.iter().map(|e| e.log_id).collect(),
    })
}

/// The states a crash during `op` may leave, given the state before and after it.
fn allowed(before: &Observed, after: &Observed, op: &Op) -> Vec<Observed> {
    let mut states = vec![before.clone(), after.clone()];
    if let Op::Append(..) = op {
        let added = &after.entries[before.entries.len()..];
        for k in 1..added.len() {
            let mut entries = before.entries.clone();
            entries.extend_from_slice(&added[..k]);
            let state = LogState {
                last_log_id: entries.last().copied(),
                ..after.state.clone()
            };
            states.push(Observed { state, entries });
        }
    }
    states
}

/// How a backend is opened with a stop armed, and how the test reaches its writer.
trait Harness {
    type B: LogBackend;
    /// Opens the store in `dir` with its metadata (and, natively, its log) on a file layer
    /// that obeys `budget`.
    fn open(dir: &Path, budget: &Arc<Budget>) -> Store<Self::B>;
    fn rotate(backend: &Self::B);
}

struct NativeHarness;

impl Harness for NativeHarness {
    type B = SharedWal;
    fn open(dir: &Path, budget: &Arc<Budget>) -> Store<SharedWal> {
        std::fs::create_dir_all(dir).unwrap();
        let meta = stopping(dir, budget, false);
        let budget = Arc::clone(budget);
        Store::open_with(dir, &meta, move |log_dir| {
            let storage = Arc::new(stopping(log_dir, &budget, true));
            Ok(SharedWal::from(Wal::open_with_storage(
                storage,
                WalConfig::default(),
            )?))
        })
        .expect("open")
    }
    fn rotate(backend: &SharedWal) {
        backend.rotate().unwrap();
    }
}

struct ComponentHarness;

impl Harness for ComponentHarness {
    type B = Component;
    fn open(dir: &Path, budget: &Arc<Budget>) -> Store<Component> {
        std::fs::create_dir_all(dir).unwrap();
        Store::open_with(dir, &stopping(dir, budget, false), Component::open).expect("open")
    }
    fn rotate(backend: &Component) {
        backend.wal().rotate().unwrap();
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// A fresh store holding 0..=10 (term 1), with 0..=4 in a sealed segment.
fn setup<H: Harness>(dir: &Path, budget: &Arc<Budget>) -> Store<H::B> {
    let rt = rt();
    let mut store = H::open(dir, budget);
    rt.block_on(apply(&mut store, &Op::Append(1, 0..=4)))
        .unwrap();
    H::rotate(store.backend());
    rt.block_on(apply(&mut store, &Op::Append(1, 5..=10)))
        .unwrap();
    store
}

/// The states of a run without a crash: before each op, and after the last.
fn expected_states<H: Harness>(ops: &[Op]) -> Vec<Observed> {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let mut store = setup::<H>(&dir.path().join("node"), &Budget::unlimited());
    let mut states = vec![rt.block_on(observe(&mut store)).unwrap()];
    for op in ops {
        rt.block_on(apply(&mut store, op)).unwrap();
        states.push(rt.block_on(observe(&mut store)).unwrap());
    }
    states
}

/// Runs `ops` on `store` until one fails; returns the failed op's position (`ops.len()`
/// when none failed).
fn run_until_failure<B: LogBackend>(store: &mut Store<B>, ops: &[Op]) -> usize {
    let rt = rt();
    ops.iter()
        .position(|op| rt.block_on(apply(store, op)).is_err())
        .unwrap_or(ops.len())
}

/// Reopens the store in `dir` after a crash during `ops[failed]` and checks it: a state the
/// crash may leave, and the rest of the sequence reaching the crash-free final state, which
/// survives another reopen.
fn check_recovery<H: Harness>(
    dir: &Path,
    ops: &[Op],
    states: &[Observed],
    failed: usize,
    what: &str,
) {
    let rt = rt();
    let mut store = H::open(dir, &Budget::unlimited());
    let seen = rt
        .block_on(observe(&mut store))
        .unwrap_or_else(|e| panic!("{what}: reading the reopened store failed: {e}"));
    let last = states.last().unwrap();
    let rest: Vec<Op> = if failed == ops.len() {
        assert_eq!(&seen, last, "{what}: a run without a stop lost something");
        Vec::new()
    } else {
        let options = allowed(&states[failed], &states[failed + 1], &ops[failed]);
        assert!(
            options.contains(&seen),
            "{what}: stopped during {:?}, reopened as {seen:?}, expected one of {options:?}",
            ops[failed]
        );
        // Continue where the reopened store stands: the unfinished part of the
        // interrupted op, then the ops after it.
        let mut rest = Vec::new();
        if seen != states[failed + 1] {
            rest.push(match &ops[failed] {
                Op::Append(term, r) => {
                    let done = (seen.entries.len() - states[failed].entries.len()) as u64;
                    Op::Append(*term, r.start() + done..=*r.end())
                }
                op => op.clone(),
            });
        }
        rest.extend_from_slice(&ops[failed + 1..]);
        rest
    };
    for op in &rest {
        rt.block_on(apply(&mut store, op))
            .unwrap_or_else(|e| panic!("{what}: continuing with {op:?} failed: {e}"));
    }
    assert_eq!(
        &rt.block_on(observe(&mut store)).unwrap(),
        last,
        "{what}: continued"
    );
    drop(store);
    let mut store = H::open(dir, &Budget::unlimited());
    assert_eq!(
        &rt.block_on(observe(&mut store)).unwrap(),
        last,
        "{what}: after continuing and reopening"
    );
}

/// Sweeps a stop over every step counted by the budget (the metadata file's, and natively
/// the log's too). Returns how many runs stopped, per op position.
fn sweep_budget<H: Harness>(name: &str, ops: &[Op]) -> Vec<usize> {
    let states = expected_states::<H>(ops);
    let mut stopped_in = vec![0; ops.len()];
    for n in 0.. {
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("node");
        let budget = Budget::unlimited();
        let mut store = setup::<H>(&node, &budget);
        budget.arm(n);
        let failed = run_until_failure(&mut store, ops);
        drop(store);
        budget.disarm();
        check_recovery::<H>(
            &node,
            ops,
            &states,
            failed,
            &format!("{name}, stop at step {n}"),
        );
        if failed == ops.len() {
            break;
        }
        stopped_in[failed] += 1;
    }
    stopped_in
}

/// Every op that changes the store was interrupted at least once.
fn every_op_was_interrupted<H: Harness>(name: &str, ops: &[Op], stopped_in: &[usize]) {
    let states = expected_states::<H>(ops);
    for (i, (op, count)) in ops.iter().zip(stopped_in).enumerate() {
        let changes = states[i] != states[i + 1];
        assert!(
            !changes || *count > 0,
            "{name}: no stop landed in {op:?} ({stopped_in:?})"
        );
    }
}

#[test]
fn a_stop_at_every_metadata_and_log_step_recovers_natively() {
    for (name, ops) in sequences() {
        let stopped_in = sweep_budget::<NativeHarness>(name, &ops);
        every_op_was_interrupted::<NativeHarness>(name, &ops, &stopped_in);
    }
}

#[test]
fn a_stop_at_every_metadata_step_recovers_through_the_component() {
    for (name, ops) in sequences() {
        let stopped_in = sweep_budget::<ComponentHarness>(name, &ops);
        // Only the metadata steps are counted here: ops without one are not interrupted.
        assert!(
            stopped_in.iter().sum::<usize>() > 0,
            "{name}: {stopped_in:?}"
        );
    }
}

/// Arms `plan(n, writes, syncs)` on the guest (its counters as they stand) and runs `ops`.
fn sweep_guest(name: &str, ops: &[Op], plan: impl Fn(u64, u64, u64) -> FaultPlan) -> usize {
    let states = expected_states::<ComponentHarness>(ops);
    let mut stops = 0;
    for n in 1.. {
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("node");
        let mut store = setup::<ComponentHarness>(&node, &Budget::unlimited());
        store.backend().wal().with_writer(|w| {
            let stats = w.component().fs_stats();
            w.component()
                .set_fault_plan(plan(n, stats.writes, stats.syncs + stats.sync_datas));
        });
        let failed = run_until_failure(&mut store, ops);
        drop(store);
        check_recovery::<ComponentHarness>(&node, ops, &states, failed, &format!("{name}, {n}"));
        if failed == ops.len() {
            break;
        }
        stops += 1;
    }
    stops
}

#[test]
fn a_stop_at_every_guest_write_recovers_through_the_component() {
    for keep in [0, 5] {
        for (name, ops) in sequences() {
            let stops = sweep_guest(name, &ops, |n, writes, _| FaultPlan {
                crash: Some(CrashPoint::AtWrite {
                    nth: writes + n,
                    keep,
                }),
                ..FaultPlan::default()
            });
            assert!(stops > 0, "{name}: no guest write was interrupted");
        }
    }
}

#[test]
fn a_failed_guest_sync_at_every_point_recovers_through_the_component() {
    for (name, ops) in sequences() {
        let stops = sweep_guest(name, &ops, |n, _, syncs| FaultPlan {
            fail_sync: Some(syncs + n),
            ..FaultPlan::default()
        });
        assert!(stops > 0, "{name}: no guest sync failed");
    }
}
