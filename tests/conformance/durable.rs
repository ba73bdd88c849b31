//! The durable point: a crash that persists an interrupted write out of order (a later
//! part reaches the disk, an earlier part does not) is cut, not refused; damage the
//! durable point does not explain is still `Corrupt`; a durable point that no longer
//! matches the files (walogs 0.1.0 wrote since, or it belongs to another log) never causes
//! a cut or an error by itself.

use std::fs;
use std::path::Path;

use walogs::{Durability, Lsn, TailState, WalConfig, WalError};
use walogs_conformance::{Backend, Log, disk, expected, fill, open, payload};

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, WalError>, what: &str) {
    match result {
        Err(WalError::Corrupt { .. }) => {}
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    }
}

/// The files of `dir` as a crash would leave them right now (the writer still open),
/// minus the lock file.
pub(crate) fn files_now(dir: &Path) -> Vec<(String, Vec<u8>)> {
    disk::snapshot(dir)
        .into_iter()
        .filter(|(name, _)| name != "LOCK")
        .collect()
}

/// Writes `files` into `dir`.
pub(crate) fn restore(dir: &Path, files: &[(String, Vec<u8>)]) {
    for (name, bytes) in files {
        fs::write(dir.join(name), bytes).unwrap();
    }
}

/// `before`, with `after` written over it only in the byte range `kept`: what the disk
/// holds when only that part of an unsynced write reached it (lost parts of a grown file
/// read as zeros).
fn persisted(before: &[u8], after: &[u8], kept: std::ops::Range<usize>) -> Vec<u8> {
    let mut out = before.to_vec();
    out.resize(kept.end.max(before.len()), 0);
    out[kept.clone()].copy_from_slice(&after[kept]);
    out
}

fn entry(byte: u8, len: usize) -> Vec<u8> {
    vec![byte; len]
}

/// The first shape a power-loss harness found: LSN 1 acknowledged; a batch of four 1,000-byte entries is
/// interrupted in its fdatasync and only bytes 2106..4096 of the file reach the disk.
/// 0.2.0 refused to open it (`Corrupt`: a valid LSN 4 at 2148 follows the damage).
pub fn an_out_of_order_batch_after_an_acknowledged_entry_is_cut<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    assert_eq!(log.append(&entry(b'a', 100)).unwrap(), Lsn(1));
    let at_crash = files_now(dir.path());
    let batch: Vec<Vec<u8>> = (0..4).map(|i| entry(b'b' + i, 1000)).collect();
    log.append_batch(&batch).unwrap();
    let written = fs::read(disk::segment(dir.path(), 1)).unwrap();
    drop(log);
    // The batch's frames, then the pre-fill of the active segment (if any).
    assert!(written.len() >= 116 + 4 * 1016);
    let pre_fill = &written[116 + 4 * 1016..];
    assert!(crate::prealloc::is_prefill(pre_fill, 116 + 4 * 1016));

    let crashed = tempfile::tempdir().unwrap();
    restore(crashed.path(), &at_crash);
    let seg = disk::segment(crashed.path(), 1);
    fs::write(&seg, persisted(&written[..116], &written, 2106..4096)).unwrap();
    let mut log = open::<B>(crashed.path());
    assert_eq!(log.tail_state(), TailState::TruncatedAt(116));
    assert_eq!(log.entries().unwrap(), vec![(Lsn(1), entry(b'a', 100))]);
    assert_eq!(disk::len(&seg), 116, "the interrupted batch is cut");
    assert_eq!(log.append(b"next").unwrap(), Lsn(2));
}

/// The second shape found: under `Explicit`, LSN 1 synced, two 1,000-byte appends not;
/// the crash keeps the second and loses the first.
pub fn out_of_order_unsynced_appends_are_cut<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig {
        durability: Durability::Explicit,
        ..WalConfig::default()
    };
    let mut log = B::open(dir.path(), config.clone()).unwrap();
    assert_eq!(log.append(&entry(b'a', 100)).unwrap(), Lsn(1));
    assert_eq!(log.sync().unwrap(), Lsn(1));
    let at_crash = files_now(dir.path());
    log.append(&entry(b'b', 1000)).unwrap();
    log.append(&entry(b'c', 1000)).unwrap();
    let written = fs::read(disk::segment(dir.path(), 1)).unwrap();
    drop(log);

    let crashed = tempfile::tempdir().unwrap();
    restore(crashed.path(), &at_crash);
    let seg = disk::segment(crashed.path(), 1);
    let second = 116 + 1016..written.len();
    fs::write(&seg, persisted(&written[..116], &written, second)).unwrap();
    let mut log = B::open(crashed.path(), config).unwrap();
    assert_eq!(log.tail_state(), TailState::TruncatedAt(116));
    assert_eq!(log.entries().unwrap(), vec![(Lsn(1), entry(b'a', 100))]);
    assert_eq!(log.append(b"next").unwrap(), Lsn(2));
}

/// Past the durable point a crash may leave anything; before it, damage is damage. A
/// clean close records the whole segment as durable: a hole in the middle of it, with
/// valid frames after, is `Corrupt` and the files are untouched.
pub fn damage_before_the_durable_point_is_corruption<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 20);
    drop(log);
    let seg = disk::last_segment(dir.path());
    let mut bytes = fs::read(&seg).unwrap();
    let first = disk::frame(1, &payload(1)).len();
    bytes[first..first + 40].fill(0); // what a lost page looks like
    fs::write(&seg, &bytes).unwrap();
    let before = disk::snapshot(dir.path());
    assert_corrupt(
        B::open(dir.path(), WalConfig::default()).map(|_| ()),
        "hole",
    );
    assert_eq!(disk::snapshot(dir.path()), before, "files untouched");
}

/// A log the new engine closed, then continued by walogs 0.1.0 (which ignores the
/// sidecar): the stale durable point changes nothing. Entries 0.1.0 acknowledged are
/// kept, and damage among them is still `Corrupt`, never cut.
pub fn a_durable_point_older_than_0_1_0_appends_never_cuts_them<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 5);
    drop(log);
    let mut old = walogs01::Wal::open(dir.path()).unwrap();
    for lsn in 6..=12 {
        assert_eq!(old.append(&payload(lsn)).unwrap().0, lsn);
    }
    drop(old);
    let intact = disk::snapshot(dir.path());

    let mut log = open::<B>(dir.path());
    assert_eq!(log.tail_state(), TailState::Clean);
    assert_eq!(log.entries().unwrap(), expected(1, 12));
    fill(&mut log, 14);
    drop(log);

    // Damage in 0.1.0's entries 8..: a valid frame follows, so it must be reported.
    let damaged = tempfile::tempdir().unwrap();
    restore(damaged.path(), &intact);
    let seg = disk::segment(damaged.path(), 1);
    let entry_8: usize = (1..8).map(|l| disk::frame(l, &payload(l)).len()).sum();
    let mut bytes = fs::read(&seg).unwrap();
    bytes[entry_8..entry_8 + 30].fill(0);
    fs::write(&seg, &bytes).unwrap();
    let before = disk::snapshot(damaged.path());
    assert_corrupt(
        B::open(damaged.path(), WalConfig::default()).map(|_| ()),
        "damage in 0.1.0's entries",
    );
    assert_eq!(disk::snapshot(damaged.path()), before, "files untouched");
}

/// A durable point copied from another log, or a sidecar that is garbage, matches none
/// of this log's frames: recovery uses the rules that need none (damage followed by a
/// valid frame is `Corrupt`; a torn tail is cut).
pub fn a_foreign_or_garbage_durable_point_is_ignored<B: Backend>() {
    let other = tempfile::tempdir().unwrap();
    let mut log = open::<B>(other.path());
    log.append(b"x").unwrap();
    drop(log);
    let foreign = fs::read(other.path().join("DURABLE")).unwrap();

    for sidecar in [foreign, vec![0xA5; 128], Vec::new()] {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open::<B>(dir.path());
        fill(&mut log, 6);
        drop(log);
        fs::write(dir.path().join("DURABLE"), &sidecar).unwrap();
        let seg = disk::last_segment(dir.path());
        let clean = disk::len(&seg);
        disk::append_bytes(&seg, &[0u8; 50]);
        let mut log = open::<B>(dir.path());
        assert_eq!(log.tail_state(), TailState::TruncatedAt(clean));
        assert_eq!(log.entries().unwrap(), expected(1, 6));
        drop(log);

        let mut bytes = fs::read(&seg).unwrap();
        let second = disk::frame(1, &payload(1)).len();
        bytes[second + 3] ^= 0xFF;
        fs::write(&seg, &bytes).unwrap();
        fs::write(dir.path().join("DURABLE"), &sidecar).unwrap();
        assert_corrupt(
            B::open(dir.path(), WalConfig::default()).map(|_| ()),
            "damage before valid frames",
        );
    }
}

/// A torn update of the sidecar leaves the other slot, one update older; a point that
/// is older than the files is still safe to rely on.
pub fn a_torn_durable_point_update_falls_back_to_the_other_slot<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 3);
    log.rotate().unwrap();
    fill(&mut log, 5);
    drop(log);
    let path = dir.path().join("DURABLE");
    let mut sidecar = fs::read(&path).unwrap();
    assert_eq!(sidecar.len(), 128, "two 64-byte slots");
    // Tear whichever slot is newer: the other one still names segment 2.
    for slot in [0usize, 64] {
        let mut torn = sidecar.clone();
        torn[slot + 30] ^= 0x10;
        fs::write(&path, &torn).unwrap();
        let mut log = open::<B>(dir.path());
        assert_eq!(
            log.entries().unwrap(),
            expected(1, log.last_lsn().unwrap().0)
        );
        drop(log);
        sidecar = fs::read(&path).unwrap();
    }
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 5));
}

/// 0.1.0 opens and continues a log whose directory holds the sidecar.
pub fn walogs_0_1_0_ignores_the_durable_point<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 3);
    drop(log);
    assert!(dir.path().join("DURABLE").exists());
    let mut old = walogs01::Wal::open(dir.path()).unwrap();
    assert_eq!(old.tail_state(), walogs01::TailState::Clean);
    assert_eq!(old.append(&payload(4)).unwrap().0, 4);
    drop(old);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 4));
}
