//! Compatibility with the published walogs 0.1.0, in both directions.

use std::fs;

use walogs::Lsn;
use walogs_conformance::{Backend, Log, disk, expected, fill, open, payload};

fn old_config() -> walogs01::WalConfig {
    walogs01::WalConfig {
        max_segment_size: Some(300),
    }
}

fn old_entries(dir: &std::path::Path) -> Vec<(Lsn, Vec<u8>)> {
    let old = walogs01::Wal::open_with_config(dir, old_config()).expect("0.1.0 opens it");
    old.iter()
        .map(|r| r.map(|(l, d)| (Lsn(l.0), d)))
        .collect::<Result<_, _>>()
        .expect("0.1.0 reads it")
}

pub fn a_log_written_by_0_1_0_opens_and_continues<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = walogs01::Wal::open_with_config(dir.path(), old_config()).unwrap();
    for lsn in 1..=20 {
        assert_eq!(old.append(&payload(lsn)).unwrap().0, lsn);
    }
    drop(old);
    assert!(disk::segment_seqs(dir.path()).len() > 1);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 20));
    fill(&mut log, 25);
    assert_eq!(log.verify().unwrap().entries, 25);
}

pub fn a_log_written_here_opens_in_0_1_0<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 5);
    log.rotate().unwrap();
    log.append_batch(&(6..=12).map(payload).collect::<Vec<_>>())
        .unwrap();
    drop(log);
    assert_eq!(old_entries(dir.path()), expected(1, 12));
    let mut old = walogs01::Wal::open_with_config(dir.path(), old_config()).unwrap();
    assert_eq!(old.tail_state(), walogs01::TailState::Clean);
    assert_eq!(old.append(&payload(13)).unwrap().0, 13);
    drop(old);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 13));
}

pub fn a_v1_single_file_log_is_migrated<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let v1: Vec<u8> = (1..=3).flat_map(|l| disk::frame(l, &payload(l))).collect();
    fs::write(dir.path().join("wal.log"), v1).unwrap();
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 3));
    assert_eq!(log.append(&payload(4)).unwrap(), Lsn(4));
    assert!(!dir.path().join("wal.log").exists());
    assert_eq!(disk::segment_seqs(dir.path()), vec![1]);
}
