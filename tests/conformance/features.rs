//! Group commit, durability modes, reading from an LSN, suffix truncation.

use walogs::{Durability, Lsn, LsnRange, WalConfig, WalError};
use walogs_conformance::{Backend, Log, disk, expected, fill, open, open_sized, payload};

fn payloads(first: u64, last: u64) -> Vec<Vec<u8>> {
    (first..=last).map(payload).collect()
}

pub fn batch_append_is_dense_and_spans_segments<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open_sized::<B>(dir.path(), 300);
    fill(&mut log, 2);
    assert_eq!(
        log.append_batch(&[]).unwrap(),
        LsnRange {
            start: Lsn(3),
            end: Lsn(3)
        }
    );
    let range = log.append_batch(&payloads(3, 40)).unwrap();
    assert_eq!(
        range,
        LsnRange {
            start: Lsn(3),
            end: Lsn(41)
        }
    );
    assert_eq!(range.len(), 38);
    assert!(
        log.segment_count() > 3,
        "the batch rotated at the size limit"
    );
    for seg in log.segments() {
        assert!(seg.size <= 300, "{seg:?}");
    }
    assert_eq!(log.append(b"single").unwrap(), Lsn(41));
    drop(log);
    let mut log = open::<B>(dir.path());
    let mut want = expected(1, 40);
    want.push((Lsn(41), b"single".to_vec()));
    assert_eq!(log.entries().unwrap(), want);
    assert_eq!(log.verify().unwrap().entries, 41);
}

/// `Always` syncs before every `Ok`; `Explicit` and `None` leave appends unsynced.
pub fn each_mode_syncs_exactly_when_it_promises<B: Backend>() {
    for durability in [Durability::Always, Durability::Explicit, Durability::None] {
        let dir = tempfile::tempdir().unwrap();
        let config = WalConfig {
            durability,
            ..WalConfig::default()
        };
        let mut log = B::open(dir.path(), config).unwrap();
        for lsn in 1..=3 {
            let before = log.syncs();
            log.append(&payload(lsn)).unwrap();
            let synced = log.syncs() - before;
            match durability {
                Durability::Always => assert!(synced >= 1, "append {lsn} returned before a sync"),
                _ => assert_eq!(synced, 0, "{durability:?} append {lsn} synced"),
            }
        }
        let before = log.syncs();
        log.append_batch(&payloads(4, 50)).unwrap();
        let expected = if durability == Durability::Always {
            1
        } else {
            0
        };
        assert_eq!(
            log.syncs() - before,
            expected,
            "{durability:?}: one sync per batch"
        );
        let before = log.syncs();
        assert_eq!(log.sync().unwrap(), Lsn(50));
        assert!(log.syncs() > before, "{durability:?}: sync() syncs");
    }
}

pub fn explicit_durability_syncs_on_request<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig {
        durability: Durability::Explicit,
        ..WalConfig::default()
    };
    let mut log = B::open(dir.path(), config.clone()).unwrap();
    fill(&mut log, 5);
    assert_eq!(log.durable_lsn(), Lsn(0), "nothing synced yet");
    assert_eq!(
        log.entries().unwrap(),
        expected(1, 5),
        "written entries are readable"
    );
    assert_eq!(log.sync().unwrap(), Lsn(5));
    assert_eq!(log.durable_lsn(), Lsn(5));
    log.append_batch(&payloads(6, 8)).unwrap();
    assert_eq!(log.durable_lsn(), Lsn(5));
    log.fail_syncs();
    assert!(matches!(log.sync(), Err(WalError::Io(_))));
    assert!(
        matches!(log.append(b"x"), Err(WalError::Poisoned { .. })),
        "a failed sync poisons"
    );
    drop(log);
    let mut log = B::open(dir.path(), config).unwrap();
    assert_eq!(
        log.durable_lsn(),
        log.last_lsn().unwrap(),
        "open makes what it found durable"
    );
    assert!(log.next_lsn() >= Lsn(6));
}

pub fn no_durability_still_keeps_the_log_dense<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig {
        durability: Durability::None,
        max_segment_size: Some(200),
        ..WalConfig::default()
    };
    let mut log = B::open(dir.path(), config.clone()).unwrap();
    fill(&mut log, 20);
    assert!(log.durable_lsn() < Lsn(20), "appends are not synced");
    assert!(
        log.durable_lsn() > Lsn(0),
        "rotation seals segments durably"
    );
    drop(log);
    let mut log = B::open(dir.path(), config).unwrap();
    assert_eq!(log.entries().unwrap(), expected(1, 20));
}

pub fn iter_from_seeks_through_the_segment_index<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open_sized::<B>(dir.path(), 200);
    fill(&mut log, 30);
    assert!(log.segment_count() > 3);
    for from in [1, 2, 7, 15, 29, 30] {
        assert_eq!(
            log.entries_from(Lsn(from)).unwrap(),
            expected(from, 30),
            "from {from}"
        );
    }
    assert_eq!(
        log.entries_from(Lsn(31)).unwrap(),
        vec![],
        "from next_lsn: empty"
    );
    for bad in [0, 32, 1000] {
        match log.entries_from(Lsn(bad)) {
            Err(WalError::LsnOutOfRange { lsn, first, next }) => {
                assert_eq!((lsn, first, next), (Lsn(bad), Lsn(1), Lsn(31)))
            }
            other => panic!("from {bad}: expected LsnOutOfRange, got {other:?}"),
        }
    }
    let firsts: Vec<_> = log.segments().iter().map(|s| s.first_lsn).collect();
    let third = firsts[2].unwrap();
    log.checkpoint(Lsn(third.0 - 1)).unwrap();
    assert_eq!(log.first_lsn(), Some(third));
    assert!(matches!(
        log.entries_from(Lsn(1)),
        Err(WalError::LsnOutOfRange { .. })
    ));
    assert_eq!(log.entries_from(third).unwrap(), expected(third.0, 30));
    assert_eq!(log.last_lsn(), Some(Lsn(30)));
}

pub fn truncate_after_removes_the_suffix<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open_sized::<B>(dir.path(), 200);
    fill(&mut log, 30);
    log.truncate_after(Lsn(28)).unwrap();
    assert_eq!(log.next_lsn(), Lsn(29), "within the active segment");
    log.truncate_after(Lsn(5)).unwrap();
    assert_eq!((log.next_lsn(), log.last_lsn()), (Lsn(6), Some(Lsn(5))));
    assert_eq!(log.entries().unwrap(), expected(1, 5));
    let segments = log.segment_count();
    assert_eq!(
        disk::segment_seqs(dir.path()).len(),
        segments,
        "later segments are deleted"
    );
    assert_eq!(log.append(b"new six").unwrap(), Lsn(6));
    log.truncate_after(Lsn(6)).unwrap(); // the last LSN: nothing to do
    for bad in [0, 7, 100] {
        assert!(
            matches!(
                log.truncate_after(Lsn(bad)),
                Err(WalError::LsnOutOfRange { .. })
            ),
            "{bad}"
        );
    }
    drop(log);
    let mut log = open::<B>(dir.path());
    let mut want = expected(1, 5);
    want.push((Lsn(6), b"new six".to_vec()));
    assert_eq!(log.entries().unwrap(), want);
    assert!(!dir.path().join("TRUNCATE").exists());
    assert_eq!(log.append(b"seven").unwrap(), Lsn(7));
}
