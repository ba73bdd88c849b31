//! Many producers, one log: group commit, followers, and failures while threads wait.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use walogs::{Durability, Lsn, WalConfig, WalError};
use walogs_conformance::{Backend, Follower, Log, SharedBackend, SharedLog};

/// Long enough that only a hung thread misses it; never a measure of speed.
const HANG: Duration = Duration::from_secs(120);

/// A follower's wait when the test expects nothing to come.
const QUIET: Duration = Duration::from_millis(50);

/// A small deterministic generator (splitmix64), one per thread.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// A payload that names its producer and its place in that producer's sequence.
fn tagged(thread: usize, seq: usize) -> Vec<u8> {
    format!("t{thread}-s{seq}-{}", "p".repeat((thread + seq) % 17)).into_bytes()
}

fn sized(max_segment_size: u64) -> WalConfig {
    WalConfig {
        max_segment_size: Some(max_segment_size),
        ..WalConfig::default()
    }
}

/// Runs `work(i)` on `n` threads started together and returns their results; a thread
/// that does not return within [`HANG`] fails the test.
fn run_threads<R: Send + 'static>(
    n: usize,
    work: impl Fn(usize) -> R + Send + Sync + 'static,
) -> Vec<R> {
    let work = Arc::new(work);
    let start = Arc::new(Barrier::new(n));
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::new();
    for i in 0..n {
        let (work, start, tx) = (Arc::clone(&work), Arc::clone(&start), tx.clone());
        handles.push(thread::spawn(move || {
            start.wait();
            let result = work(i);
            drop(work); // what it holds (a log handle) is released before the result is sent
            let _ = tx.send((i, result));
        }));
    }
    drop((tx, work));
    let mut results: Vec<Option<R>> = (0..n).map(|_| None).collect();
    for _ in 0..n {
        let (i, result) = rx
            .recv_timeout(HANG)
            .expect("a thread hung (or panicked) instead of returning");
        results[i] = Some(result);
    }
    for handle in handles {
        handle.join().expect("a thread panicked");
    }
    results.into_iter().map(Option::unwrap).collect()
}

/// Appends a random mix of single entries and batches; returns every acknowledged
/// (LSN, payload). A batch must come back with contiguous LSNs.
fn produce<S: SharedLog>(wal: &S, thread: usize, ops: usize) -> Vec<(Lsn, Vec<u8>)> {
    let mut rng = Rng(thread as u64 + 1);
    let mut acked = Vec::new();
    let mut seq = 0;
    for _ in 0..ops {
        if rng.below(3) == 0 {
            let batch: Vec<Vec<u8>> = (0..1 + rng.below(5) as usize)
                .map(|k| tagged(thread, seq + k))
                .collect();
            seq += batch.len();
            let lsns = wal.append_batch(&batch).expect("append_batch");
            assert_eq!(lsns.len(), batch.len() as u64);
            acked.extend(lsns.iter().zip(batch));
        } else {
            let data = tagged(thread, seq);
            seq += 1;
            acked.push((wal.append(&data).expect("append"), data));
        }
    }
    acked
}

/// Merges every thread's acknowledgements, checking that no LSN was handed out twice.
fn merge(all: Vec<Vec<(Lsn, Vec<u8>)>>) -> BTreeMap<Lsn, Vec<u8>> {
    let mut merged = BTreeMap::new();
    for (lsn, data) in all.into_iter().flatten() {
        assert!(
            merged.insert(lsn, data).is_none(),
            "{lsn:?} acknowledged twice"
        );
    }
    merged
}

/// Reads every entry of the log after reopening it with the single-threaded handle.
fn reopened_entries<B: Backend>(dir: &std::path::Path) -> Vec<(Lsn, Vec<u8>)> {
    let mut log = B::open(dir, WalConfig::default()).expect("reopen");
    log.entries().expect("entries after reopen")
}

/// Sixteen producers: every acknowledged entry is in the log exactly once after a reopen,
/// at the LSN it was acknowledged with; LSNs are dense; no commit paid more than one sync.
pub fn concurrent_producers_get_dense_unique_lsns_that_survive_reopen<
    B: Backend + SharedBackend,
>() {
    let dir = tempfile::tempdir().unwrap();
    let wal = B::open_shared(dir.path(), sized(4096)).unwrap();
    let syncs_before = wal.syncs();
    let producer = wal.clone();
    let acked = merge(run_threads(16, move |t| produce(&producer, t, 12)));
    let commits = acked.len() as u64;
    let last = Lsn(commits);
    assert_eq!(acked.keys().next_back(), Some(&last));
    assert_eq!(
        wal.durable_lsn(),
        last,
        "every acknowledged entry is durable"
    );
    assert!(
        wal.syncs() - syncs_before <= commits * 2,
        "a group commit costs one sync (plus rotations), never more per entry"
    );
    let read: BTreeMap<_, _> = wal.entries_from(Lsn(1)).unwrap().into_iter().collect();
    assert_eq!(read, acked, "what a reader sees while the log is open");
    drop(wal);
    let after: BTreeMap<_, _> = reopened_entries::<B>(dir.path()).into_iter().collect();
    assert_eq!(after, acked);
}

/// Random mixes of appends, batches, followers, rotations and checkpoints, over three
/// reopen cycles: LSNs stay dense across cycles, every acknowledged entry not
/// checkpointed away is present exactly once, and each follower sees a gap-free run of
/// durable entries — or a typed out-of-range error once a checkpoint overtakes it.
pub fn random_mixes_with_followers_checkpoints_and_reopens<B: Backend + SharedBackend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked = BTreeMap::new();
    let mut checkpointed = Lsn(0);
    for cycle in 0..3usize {
        let wal = B::open_shared(dir.path(), sized(2048)).unwrap();
        let start = wal.durable_lsn();
        let shared = wal.clone();
        let results = run_threads(8, move |t| {
            let mut rng = Rng((cycle * 100 + t) as u64);
            match t {
                // A follower from the start of this cycle.
                0 | 1 => {
                    let mut follower = shared.follow(Lsn(start.0 + 1)).expect("follow");
                    let mut seen = Vec::new();
                    while seen.len() < 40 {
                        match follower.next_timeout(HANG) {
                            Ok(Some((lsn, data))) => {
                                assert!(shared.durable_lsn() >= lsn, "{lsn:?} was not durable");
                                seen.push((lsn, data));
                            }
                            Ok(None) => panic!("a follower waited {HANG:?} for a durable entry"),
                            Err(WalError::LsnOutOfRange { .. }) => break,
                            Err(e) => panic!("follower: {e}"),
                        }
                    }
                    (Vec::new(), seen, Lsn(0))
                }
                // Rotates and checkpoints now and then.
                2 => {
                    let mut highest = Lsn(0);
                    for _ in 0..10 {
                        if rng.below(2) == 0 {
                            shared.rotate().expect("rotate");
                        } else {
                            let upto = Lsn(shared.durable_lsn().0.saturating_sub(10));
                            shared.checkpoint(upto).expect("checkpoint");
                            highest = highest.max(upto);
                        }
                        thread::yield_now();
                    }
                    (Vec::new(), Vec::new(), highest)
                }
                _ => (produce(&shared, cycle * 10 + t, 10), Vec::new(), Lsn(0)),
            }
        });
        let mut followers = Vec::new();
        let mut produced = Vec::new();
        for (acks, seen, highest) in results {
            produced.push(acks);
            followers.push(seen);
            checkpointed = checkpointed.max(highest);
        }
        let cycle_acked = merge(produced);
        for seen in followers {
            for (k, (lsn, data)) in seen.iter().enumerate() {
                assert_eq!(
                    lsn.0,
                    start.0 + 1 + k as u64,
                    "a follower skipped or repeated"
                );
                assert_eq!(
                    cycle_acked.get(lsn),
                    Some(data),
                    "a follower saw a foreign entry"
                );
            }
        }
        let first_new = cycle_acked.keys().next().copied();
        assert_eq!(
            first_new,
            Some(Lsn(start.0 + 1)),
            "LSNs continue across reopen"
        );
        acked.extend(cycle_acked);
        let upto = Lsn(wal.durable_lsn().0 / 2);
        wal.checkpoint(upto).unwrap();
        checkpointed = checkpointed.max(upto);
        drop(wal);
        let after = reopened_entries::<B>(dir.path());
        let first = after.first().expect("entries").0;
        assert!(
            first <= Lsn(checkpointed.0 + 1),
            "a checkpoint deleted unapplied entries"
        );
        let want: Vec<_> = acked.range(first..).map(|(l, d)| (*l, d.clone())).collect();
        assert_eq!(
            after, want,
            "cycle {cycle}: reopened log differs from what was acknowledged"
        );
    }
}

/// Sixty-four producers and an injected sync failure: every producer returns (none hangs),
/// the failing group's members get the I/O error, everyone after gets `Poisoned`, and
/// after a reopen every acknowledged entry is there.
pub fn sync_failure_fails_every_waiting_producer_and_loses_nothing_acknowledged<
    B: Backend + SharedBackend,
>() {
    let dir = tempfile::tempdir().unwrap();
    let wal = B::open_shared(dir.path(), WalConfig::default()).unwrap();
    let producer = wal.clone();
    let results = run_threads(65, move |t| {
        if t == 64 {
            // The saboteur: let some groups commit, then break the disk.
            while producer.durable_lsn() < Lsn(100) {
                thread::yield_now();
            }
            producer.fail_syncs();
            return (Vec::new(), None);
        }
        let mut acked = Vec::new();
        for seq in 0..1000 {
            let data = tagged(t, seq);
            match producer.append(&data) {
                Ok(lsn) => acked.push((lsn, data)),
                Err(e) => return (acked, Some(e)),
            }
        }
        panic!("thread {t}: 1000 appends succeeded although syncs fail");
    });
    let mut io_errors = 0;
    let mut producers = Vec::new();
    for (acks, error) in results {
        match error {
            Some(WalError::Io(_)) => io_errors += 1,
            Some(WalError::Poisoned { .. }) | None => {}
            Some(other) => panic!("unexpected error {other}"),
        }
        producers.push(acks);
    }
    assert!(
        io_errors >= 1,
        "the group that hit the failure saw it as an I/O error"
    );
    assert!(matches!(
        wal.append(b"after"),
        Err(WalError::Poisoned { .. })
    ));
    let acked = merge(producers);
    drop(wal);
    let after: BTreeMap<_, _> = reopened_entries::<B>(dir.path()).into_iter().collect();
    for (lsn, data) in &acked {
        assert_eq!(after.get(lsn), Some(data), "acknowledged {lsn:?} lost");
    }
    let lsns: Vec<u64> = after.keys().map(|l| l.0).collect();
    assert_eq!(lsns, (1..=lsns.len() as u64).collect::<Vec<_>>(), "dense");
}

/// A follower blocks until entries are durable, then reads them in order across
/// rotations; under `Durability::Explicit` it sees nothing until `sync`.
pub fn followers_see_only_durable_entries_across_rotations<B: SharedBackend>() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig {
        durability: Durability::Explicit,
        ..sized(4096)
    };
    let wal = B::open_shared(dir.path(), config).unwrap();
    let mut follower = wal.follow(Lsn(1)).unwrap();
    let batch: Vec<Vec<u8>> = (0..30).map(|s| tagged(0, s)).collect();
    wal.append_batch(&batch[..10]).unwrap();
    assert!(
        follower.next_timeout(QUIET).unwrap().is_none(),
        "a follower saw an entry before it was synced"
    );
    assert!(wal.entries_from(Lsn(1)).unwrap().len() < 10);
    assert_eq!(wal.sync().unwrap(), Lsn(10));
    let waiting = thread::spawn(move || {
        let mut seen = Vec::new();
        while seen.len() < 30 {
            seen.push(follower.next_timeout(HANG).unwrap().expect("an entry"));
        }
        seen
    });
    wal.append_batch(&batch[10..20]).unwrap();
    wal.rotate().unwrap(); // seals (syncs) the segment: 11..=20 are durable
    wal.append_batch(&batch[20..]).unwrap();
    wal.rotate().unwrap();
    assert_eq!(wal.sync().unwrap(), Lsn(30));
    let seen = waiting.join().unwrap();
    let want: Vec<_> = batch
        .into_iter()
        .enumerate()
        .map(|(i, d)| (Lsn(i as u64 + 1), d))
        .collect();
    assert_eq!(seen, want);
    assert_eq!(wal.entries_from(Lsn(1)).unwrap(), want);
}

/// A checkpoint that deletes entries a follower has not read makes it fail with
/// `LsnOutOfRange`; so does a `truncate_after` below what it already read. Never a skip.
pub fn a_follower_overtaken_by_checkpoint_or_truncation_gets_out_of_range<B: SharedBackend>() {
    let dir = tempfile::tempdir().unwrap();
    let wal = B::open_shared(dir.path(), sized(4096)).unwrap();
    let batch: Vec<Vec<u8>> = (0..10).map(|s| tagged(1, s)).collect();
    wal.append_batch(&batch).unwrap();
    wal.rotate().unwrap();
    wal.append(b"eleven").unwrap();
    let mut behind = wal.follow(Lsn(1)).unwrap();
    let mut reader = wal.follow(Lsn(1)).unwrap();
    for _ in 0..11 {
        reader.next_timeout(HANG).unwrap().expect("an entry");
    }
    assert_eq!(wal.checkpoint(Lsn(10)).unwrap(), 1);
    assert!(matches!(
        behind.next_timeout(QUIET),
        Err(WalError::LsnOutOfRange {
            lsn: Lsn(1),
            first: Lsn(11),
            ..
        })
    ));
    assert!(matches!(
        wal.follow(Lsn(5)),
        Err(WalError::LsnOutOfRange { .. })
    ));
    // The reader is past the checkpoint: it keeps following.
    wal.append(b"twelve").unwrap();
    assert_eq!(
        reader.next_timeout(HANG).unwrap(),
        Some((Lsn(12), b"twelve".to_vec()))
    );
    let mut at_eleven = wal.follow(Lsn(11)).unwrap();
    wal.truncate_after(Lsn(11)).unwrap();
    assert!(matches!(
        reader.next_timeout(QUIET),
        Err(WalError::LsnOutOfRange { lsn: Lsn(13), .. })
    ));
    assert_eq!(wal.append(b"new twelve").unwrap(), Lsn(12));
    assert_eq!(
        at_eleven.next_timeout(HANG).unwrap(),
        Some((Lsn(11), b"eleven".to_vec()))
    );
    assert_eq!(
        at_eleven.next_timeout(HANG).unwrap(),
        Some((Lsn(12), b"new twelve".to_vec()))
    );
}

/// A checkpoint that deletes a segment an iterator has not reached makes the iterator
/// yield one `LsnOutOfRange` for the LSN it would have yielded next, and end: never a
/// skip to later entries, never a bare I/O error. What it had open it still reads.
pub fn an_iterator_overtaken_by_checkpoint_gets_out_of_range<B: SharedBackend>() {
    let dir = tempfile::tempdir().unwrap();
    let wal = B::open_shared(dir.path(), sized(4096)).unwrap();
    for segment in 0..2 {
        let batch: Vec<Vec<u8>> = (0..10).map(|s| tagged(segment, s)).collect();
        wal.append_batch(&batch).unwrap();
        wal.rotate().unwrap();
    }
    wal.append(b"twenty-one").unwrap();
    let mut unstarted = wal.iter_from(Lsn(1)).unwrap();
    let mut reading = wal.iter_from(Lsn(1)).unwrap();
    for want in 1..=3 {
        let (lsn, data) = reading.next().expect("an entry").unwrap();
        assert_eq!((lsn, data), (Lsn(want), tagged(0, want as usize - 1)));
    }
    assert_eq!(wal.checkpoint(Lsn(20)).unwrap(), 2);
    for want in 4..=10 {
        let (lsn, data) = reading.next().expect("an entry").unwrap();
        assert_eq!((lsn, data), (Lsn(want), tagged(0, want as usize - 1)));
    }
    for (iter, lsn) in [(&mut reading, 11), (&mut unstarted, 1)] {
        match iter.next() {
            Some(Err(WalError::LsnOutOfRange {
                lsn: got,
                first: Lsn(21),
                next: Lsn(22),
            })) => assert_eq!(got, Lsn(lsn)),
            other => panic!("wanted LsnOutOfRange for {lsn}, got {other:?}"),
        }
        assert!(iter.next().is_none(), "the iterator ends after the error");
    }
    assert_eq!(
        wal.entries_from(Lsn(21)).unwrap(),
        [(Lsn(21), b"twenty-one".to_vec())]
    );
}
